//! `GET /internal/jobs/{id}/input`: the uploaded bytes, streamed.

use clipwave_http::ApiError;
use http::{header, HeaderMap};

use crate::{
    download::stream_blob,
    failure,
    internal::job_id,
    jobs_db::JobsDb,
    request::Incoming,
    respond::{header_value, Reply},
};

/// Streams a job's input with its `Content-Type` (ranges work too, so a
/// worker may resume).
///
/// # Errors
/// 404 for an unknown job or one whose input is gone (canceled); 503 when
/// a store fails.
pub fn input(request: &Incoming, raw_id: &str) -> Result<Reply, ApiError> {
    let id = job_id(raw_id)?;
    let jobs = JobsDb::open().map_err(failure::store)?;
    let job = jobs
        .get(&id)
        .map_err(failure::store)?
        .ok_or_else(ApiError::not_found)?;
    if job.status.is_finished() && job.status != crate::job::Status::Done {
        return Err(ApiError::not_found());
    }
    let mut headers = HeaderMap::new();
    headers.insert(header::CONTENT_TYPE, header_value(&job.content_type));
    stream_blob(request, job.input_blob, headers)
}
