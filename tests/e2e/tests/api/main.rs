//! End-to-end tests: the real components, served by `clipwave-host` on a
//! free port with fresh stores, driven over real HTTP.
//!
//! Needs the release build of the components and the host (`make test`
//! builds them first). Set `TEST_LOG=1` to see the host's log.

mod helpers;

mod auth_admin;
mod auth_attacks;
mod auth_flows;
mod auth_revocation;
mod auth_support;
mod auth_throttling;
mod cli;
mod conversion;
mod faults;
mod gateway_auth;
mod gateway_head;
mod gateway_lifecycle;
mod gateway_support;
mod gateway_upload;
mod health;
mod key_rotation;
mod limits;
mod schema_regressions;
mod store_check;
mod web;
