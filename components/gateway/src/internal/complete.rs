//! `POST /internal/jobs/{id}/complete`: the job is done.

use clipwave_http::{json_response, ApiError};
use http::StatusCode;
use serde::Deserialize;

use crate::{
    failure,
    internal::{attempt, job_id},
    jobs_db::JobsDb,
    request::Incoming,
    respond::Reply,
};

/// `{"attempt", "duration_secs"}`.
#[derive(Debug, Default, Deserialize)]
struct Complete {
    attempt: Option<i64>,
    #[serde(default)]
    duration_secs: Option<f64>,
}

/// Marks the job done: 200 with the job as users see it.
///
/// # Errors
/// 400 for a bad body, 404 for an unknown job, 409 when the attempt lost
/// the job or stored no output, 503.
pub async fn complete(request: &mut Incoming, raw_id: &str) -> Result<Reply, ApiError> {
    let id = job_id(raw_id)?;
    let body: Complete = request.json().await?;
    let attempt = attempt(body.attempt)?;
    let duration = body.duration_secs.filter(|d| d.is_finite() && *d >= 0.0);
    let jobs = JobsDb::open().map_err(failure::store)?;
    match jobs
        .complete(&id, attempt, duration)
        .map_err(failure::store)?
    {
        Some(job) => Ok(json_response(StatusCode::OK, &job.view(), &request.request_id).into()),
        None if jobs.get(&id).map_err(failure::store)?.is_none() => Err(ApiError::not_found()),
        None => Err(ApiError::conflict(
            "This attempt no longer holds the job, or it stored no output.",
        )),
    }
}
