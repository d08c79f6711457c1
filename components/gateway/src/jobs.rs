//! `GET /jobs`, `GET /jobs/{id}`, `DELETE /jobs/{id}`: a user's jobs.
//!
//! A job that is not the caller's answers exactly like one that does not
//! exist (404, same body), so ids cannot be probed. That holds for admins
//! too: DESIGN §3 makes these routes "the caller's jobs", and admin powers
//! stop at user management (`/users` in the auth component).

use clipwave_http::{empty_response, json_response, ApiError, RequestId};
use clipwave_ids::JobId;
use http::StatusCode;
use serde_json::json;

use crate::{
    auth::User,
    config,
    cursor::{Cursor, PageRequest},
    failure,
    job::Job,
    jobs_db::{now_ms, JobsDb},
    media_store::{self, MediaStore},
    respond::Reply,
};

/// Opens the database and fails jobs whose worker vanished for good, so
/// the queue and claims see the truth. (User reads do not write: they show
/// such jobs as failed through [`Job::as_of`].)
pub fn open_reaped() -> Result<JobsDb, ApiError> {
    let jobs = JobsDb::open().map_err(failure::store)?;
    let max_attempts = config::max_attempts().map_err(failure::misconfigured)?;
    jobs.reap_lost(max_attempts).map_err(failure::store)?;
    Ok(jobs)
}

/// The database for a user's request, and how to see its jobs now.
pub fn open_for_reading() -> Result<(JobsDb, AsOf), ApiError> {
    let jobs = JobsDb::open_for_reads().map_err(failure::store)?;
    let max_attempts = config::max_attempts().map_err(failure::misconfigured)?;
    Ok((jobs, AsOf(now_ms() / 1000, max_attempts)))
}

/// The moment and the `max_attempts` that [`Job::as_of`] needs.
#[derive(Debug, Clone, Copy)]
pub struct AsOf(i64, i64);

impl AsOf {
    /// `job` as it stands now.
    pub fn apply(self, job: Job) -> Job {
        job.as_of(self.0, self.1)
    }
}

/// The job `raw_id` if `user` may see it; 404 otherwise (malformed ids too).
///
/// # Errors
/// 404 for a malformed, unknown or foreign id; 503 when the database fails.
pub fn visible_job(jobs: &JobsDb, raw_id: &str, user: &User) -> Result<Job, ApiError> {
    let id = JobId::parse(raw_id).ok_or_else(ApiError::not_found)?;
    match jobs.get(&id).map_err(failure::store)? {
        Some(job) if job.visible_to(&user.id) => Ok(job),
        _ => Err(ApiError::not_found()),
    }
}

/// `GET /jobs?limit=&cursor=`: newest first, `{"jobs", "next_cursor"}`.
///
/// # Errors
/// 400 for a bad `limit` or `cursor`; 503 when the database fails.
pub fn list(query: &str, user: &User, request_id: &RequestId) -> Result<Reply, ApiError> {
    let page = PageRequest::from_query(query).map_err(ApiError::bad_request)?;
    let (jobs, as_of) = open_for_reading()?;
    let mut found: Vec<Job> = jobs
        .list(&user.id, page.after.as_ref(), page.limit + 1)
        .map_err(failure::store)?
        .into_iter()
        .map(|job| as_of.apply(job))
        .collect();
    let more = found.len() > page.limit as usize;
    found.truncate(page.limit as usize);
    let next_cursor = more.then(|| found.last()).flatten().map(|last| {
        Cursor {
            created_ms: last.created_ms,
            id: last.id.clone(),
        }
        .encode()
    });
    let views: Vec<_> = found.iter().map(Job::view).collect();
    let body = json!({ "jobs": views, "next_cursor": next_cursor });
    Ok(json_response(StatusCode::OK, &body, request_id).into())
}

/// `GET /jobs/{id}`.
///
/// # Errors
/// 404 unless the job is the caller's; 503 when the database fails.
pub fn get(raw_id: &str, user: &User, request_id: &RequestId) -> Result<Reply, ApiError> {
    let (jobs, as_of) = open_for_reading()?;
    let job = as_of.apply(visible_job(&jobs, raw_id, user)?);
    Ok(json_response(StatusCode::OK, &job.view(), request_id).into())
}

/// `DELETE /jobs/{id}`: cancels a queued or processing job, deletes a
/// finished one; both free the job's files. 204.
///
/// # Errors
/// 404 unless the job is the caller's; 503 when a store fails.
pub fn delete(raw_id: &str, user: &User, request_id: &RequestId) -> Result<Reply, ApiError> {
    let jobs = open_reaped()?;
    let job = visible_job(&jobs, raw_id, user)?;
    let media = MediaStore::open().map_err(failure::store)?;
    let canceled = !job.status.is_finished() && jobs.cancel(&job.id).map_err(failure::store)?;
    if !canceled {
        // Finished (or it finished just now): the row goes as well.
        jobs.delete(&job.id).map_err(failure::store)?;
    }
    // Re-read so that an output stored while we were canceling is freed too.
    let output = match jobs.get(&job.id).map_err(failure::store)? {
        Some(current) => current.output_blob,
        None => job.output_blob.clone(),
    };
    for blob in std::iter::once(job.input_blob.clone()).chain(output) {
        media_store::delete(&media, &blob).map_err(failure::store)?;
    }
    Ok(empty_response(StatusCode::NO_CONTENT, request_id).into())
}
