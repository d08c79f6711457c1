//! `POST /internal/jobs/{id}/fail`: a worker gives up on an attempt.

use clipwave_http::{json_response, ApiError};
use http::StatusCode;
use serde::Deserialize;
use serde_json::json;

use crate::{
    config, failure,
    internal::{attempt, job_id, lease_lost},
    jobs_db::JobsDb,
    request::Incoming,
    respond::Reply,
};

/// Longest reason kept.
const MAX_REASON_CHARS: usize = 1000;

/// `{"attempt", "reason", "retryable"}`; `retryable` defaults to true.
#[derive(Debug, Default, Deserialize)]
struct Fail {
    attempt: Option<i64>,
    #[serde(default)]
    reason: Option<String>,
    #[serde(default)]
    retryable: Option<bool>,
}

/// Requeues the job while attempts remain and the error is retryable,
/// else fails it with the reason: 200 `{"status"}`.
///
/// # Errors
/// 400 for a bad body, 404 for an unknown job, 409 lease lost, 503.
pub async fn fail(request: &mut Incoming, raw_id: &str) -> Result<Reply, ApiError> {
    let id = job_id(raw_id)?;
    let body: Fail = request.json().await?;
    let attempt = attempt(body.attempt)?;
    let reason: String = body
        .reason
        .unwrap_or_default()
        .chars()
        .filter(|c| !c.is_control())
        .take(MAX_REASON_CHARS)
        .collect();
    let reason = if reason.trim().is_empty() {
        "conversion failed".to_owned()
    } else {
        reason
    };
    let max_attempts = config::max_attempts().map_err(failure::misconfigured)?;
    let jobs = JobsDb::open().map_err(failure::store)?;
    let retryable = body.retryable.unwrap_or(true);
    match jobs
        .fail(&id, attempt, &reason, retryable, max_attempts)
        .map_err(failure::store)?
    {
        Some(status) => {
            let body = json!({ "status": status });
            Ok(json_response(StatusCode::OK, &body, &request.request_id).into())
        }
        None if jobs.get(&id).map_err(failure::store)?.is_none() => Err(ApiError::not_found()),
        None => Err(lease_lost()),
    }
}
