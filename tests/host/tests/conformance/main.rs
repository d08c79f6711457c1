//! Conformance tests: clipwave-host must give a component what Spin 3.6
//! gives it. Each test serves a fixture app built from the test-only
//! component (`tests/host/test-component`) and asserts Spin's documented
//! behaviour over real HTTP.
//!
//! Needs the component built for wasm32-wasip2 in release (`make test` does
//! it). `TEST_LOG=1` shows the host's log.

mod helpers;

mod chaining;
mod key_value;
mod lifecycle;
mod routing;
mod sqlite;
mod streaming;
mod variables;
