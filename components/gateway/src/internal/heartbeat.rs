//! `POST /internal/jobs/{id}/heartbeat`: progress, and a longer lease.

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

/// `{"attempt", "progress"}`.
#[derive(Debug, Default, Deserialize)]
struct Heartbeat {
    attempt: Option<i64>,
    #[serde(default)]
    progress: Option<f64>,
}

/// Extends the lease by `job_lease_secs` from now: 200
/// `{"lease_expires_at"}`, or 409 when the attempt lost the job.
///
/// # Errors
/// 400 for a bad body, 404 for an unknown job, 409 lease lost, 503.
pub async fn heartbeat(request: &mut Incoming, raw_id: &str) -> Result<Reply, ApiError> {
    let id = job_id(raw_id)?;
    let body: Heartbeat = request.json().await?;
    let attempt = attempt(body.attempt)?;
    let progress = body.progress.unwrap_or(0.0).clamp(0.0, 100.0) as u8;
    let lease_secs = config::job_lease_secs().map_err(failure::misconfigured)?;
    let jobs = JobsDb::open().map_err(failure::store)?;
    match jobs
        .heartbeat(&id, attempt, progress, lease_secs)
        .map_err(failure::store)?
    {
        Some(expires) => {
            let body = json!({ "lease_expires_at": expires });
            Ok(json_response(StatusCode::OK, &body, &request.request_id).into())
        }
        None if jobs.get(&id).map_err(failure::store)?.is_none() => Err(ApiError::not_found()),
        None => Err(lease_lost()),
    }
}
