//! Clipwave's HTTP conventions, shared by every component and by native code.
//!
//! Every Clipwave response carries an `X-Request-Id`, and every failure has the
//! same JSON shape (`{"error", "message", "request_id"}`, DESIGN §3). Keeping
//! that in one crate, built on the plain `http` types rather than on Spin's,
//! means the components, the CLI and the tests agree on it by construction.
//!
//! # Layout
//! - [`request_id`]: the id echoed or generated for each request.
//! - [`error`]: [`ApiError`], the one error type that becomes a response.
//! - [`response`]: JSON success responses that carry the request id.

pub mod error;
pub mod request_id;
pub mod response;

pub use error::{ApiError, ErrorCode};
pub use request_id::RequestId;
pub use response::{empty_response, json_response};

/// The header that carries the request id in both directions.
pub const REQUEST_ID_HEADER: &str = "x-request-id";
