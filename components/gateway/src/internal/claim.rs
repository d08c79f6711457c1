//! `POST /internal/jobs/claim`: atomically take the oldest claimable job.

use clipwave_http::{empty_response, json_response, ApiError, RequestId};
use http::StatusCode;
use serde::{Deserialize, Serialize};

use crate::{config, failure, jobs::open_reaped, request::Incoming, respond::Reply};

/// `{"worker_id"}`, optional.
#[derive(Debug, Default, Deserialize)]
struct ClaimRequest {
    #[serde(default)]
    worker_id: Option<String>,
}

/// The claimed job, as `docs/internal-api.md` lists it.
#[derive(Serialize)]
struct Claimed<'a> {
    job_id: &'a str,
    attempt: i64,
    lease_expires_at: Option<i64>,
    lease_secs: i64,
    input_size: u64,
    input_sha256: &'a str,
    content_type: &'a str,
    filename: &'a str,
    owner_email: Option<&'a str>,
    callback_url: Option<&'a str>,
}

/// Claims a job: 200 with it, or 204 when nothing is claimable.
///
/// # Errors
/// 400 for a bad body; 503 when the database fails.
pub async fn claim(request: &mut Incoming) -> Result<Reply, ApiError> {
    let body: ClaimRequest = request.json().await?;
    let worker: String = body
        .worker_id
        .unwrap_or_default()
        .chars()
        .filter(|c| c.is_ascii_graphic())
        .take(64)
        .collect();
    let lease_secs = config::job_lease_secs().map_err(failure::misconfigured)?;
    let max_attempts = config::max_attempts().map_err(failure::misconfigured)?;
    let jobs = open_reaped()?;
    let claimed = jobs
        .claim(&worker, lease_secs, max_attempts)
        .map_err(failure::store)?;
    Ok(match claimed {
        None => empty_response(StatusCode::NO_CONTENT, &request.request_id).into(),
        Some(job) => respond(&job, lease_secs, &request.request_id),
    })
}

fn respond(job: &crate::job::Job, lease_secs: i64, request_id: &RequestId) -> Reply {
    let body = Claimed {
        job_id: job.id.as_str(),
        attempt: job.attempts,
        lease_expires_at: job.lease_expires_at,
        lease_secs,
        input_size: job.input_size,
        input_sha256: &job.input_sha256,
        content_type: &job.content_type,
        filename: &job.filename,
        owner_email: job.owner_email.as_deref(),
        callback_url: job.callback_url.as_deref(),
    };
    json_response(StatusCode::OK, &body, request_id).into()
}
