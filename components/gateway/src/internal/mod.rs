//! The internal worker API (`docs/internal-api.md`): service tokens only.
//!
//! Every call that changes a job names its `attempt`; the database accepts
//! it only while that attempt still holds the job, so a worker whose lease
//! expired (and whose job was claimed again) or whose job was canceled gets
//! 409 and changes nothing.

pub mod claim;
pub mod complete;
pub mod fail;
pub mod heartbeat;
pub mod input;
pub mod output;
pub mod queue;
pub mod sweep;

use clipwave_http::ApiError;

use clipwave_ids::JobId;

/// A job id from the path; malformed ids are 404 like unknown ones.
///
/// # Errors
/// 404 for a malformed id.
pub fn job_id(raw: &str) -> Result<JobId, ApiError> {
    JobId::parse(raw).ok_or_else(ApiError::not_found)
}

/// An attempt number from a request: present and at least 1.
///
/// # Errors
/// 400 otherwise.
pub fn attempt(value: Option<i64>) -> Result<i64, ApiError> {
    value
        .filter(|attempt| *attempt >= 1)
        .ok_or_else(|| ApiError::bad_request("`attempt` must be a whole number from 1."))
}

/// 409 for a call whose attempt no longer holds the job.
pub fn lease_lost() -> ApiError {
    ApiError::conflict("This attempt no longer holds the job (lease lost or job canceled).")
}
