//! Tests of `clipwave-worker` against an in-test CONTRACT TEST DOUBLE of the
//! gateway's internal API (`gateway_double.rs`), a local SMTP sink and a
//! local webhook endpoint. Nothing here talks to the real gateway; the
//! end-to-end suites do that.

#[path = "../common/mod.rs"]
mod common;
mod gateway_double;
mod helpers;
mod jobs;
mod notifications;
mod process;
mod sinks;
