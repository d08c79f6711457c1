//! `PUT /internal/jobs/{id}/output?attempt=N`: the mp3, streamed in.
//!
//! Each PUT writes a fresh blob and then points the job at it with one
//! conditional update, so a retried PUT replaces the earlier mp3 whole
//! (never mixes chunks of two uploads) and a PUT from an attempt that lost
//! the job changes nothing and leaves nothing behind.

use clipwave_http::{empty_response, ApiError};
use http::StatusCode;

use crate::{
    body::BodyError,
    config, failure,
    internal::{attempt, job_id, lease_lost},
    jobs_db::JobsDb,
    media_store::{self, BlobWriter, MediaStore, WriteError},
    request::Incoming,
    respond::Reply,
};

/// Stores the output of `attempt`: 204, or 409 when it lost the job.
///
/// # Errors
/// 400 without a valid `attempt`, 404 for an unknown job, 409 lease lost,
/// 413 past `max_upload_bytes`, 503 when a store fails.
pub async fn output(request: &mut Incoming, raw_id: &str) -> Result<Reply, ApiError> {
    let id = job_id(raw_id)?;
    let attempt = attempt(request.query_param("attempt").and_then(|a| a.parse().ok()))?;
    let max = config::max_upload_bytes().map_err(failure::misconfigured)?;
    if request.content_length().is_some_and(|length| length > max) {
        return Err(ApiError::payload_too_large());
    }
    let jobs = JobsDb::open().map_err(failure::store)?;
    let Some(job) = jobs.get(&id).map_err(failure::store)? else {
        return Err(ApiError::not_found());
    };
    if !jobs.holds_lease(&id, attempt).map_err(failure::store)? {
        return Err(lease_lost());
    }
    let media = MediaStore::open().map_err(failure::store)?;
    let blob = format!("out-{id}-{}", uuid::Uuid::new_v4().simple());
    let mut writer = BlobWriter::new(&media, blob.clone(), max);
    let mut body = std::pin::pin!(request.body(max)?);
    while let Some(chunk) = futures::StreamExt::next(&mut body).await {
        let chunk = chunk.map_err(|error| match error {
            BodyError::TooLarge => ApiError::payload_too_large(),
            BodyError::Read(_) => ApiError::bad_request("The upload was interrupted."),
        })?;
        writer.write(&chunk).map_err(|error| match error {
            WriteError::TooLarge => ApiError::payload_too_large(),
            WriteError::Store(error) => failure::store(error),
        })?;
    }
    // An mp3 has bytes; an empty body is a broken worker, not an output (the
    // unfinished writer cleans up after itself).
    if writer.size() == 0 {
        return Err(ApiError::bad_request("The output is empty."));
    }
    let manifest = writer
        .commit("audio/mpeg", &job.filename)
        .map_err(failure::store)?;
    let recorded = jobs.set_output(&id, attempt, &blob, manifest.size, &manifest.sha256);
    let previous = job.output_blob.filter(|old| *old != blob);
    match recorded {
        Ok(true) => {
            media_store::settle(&media, &blob);
            if let Some(old) = previous {
                if let Err(error) = media_store::delete(&media, &old) {
                    eprintln!("output: could not delete replaced blob {old}: {error:#}");
                }
            }
            Ok(empty_response(StatusCode::NO_CONTENT, &request.request_id).into())
        }
        outcome => {
            if let Err(error) = media_store::delete(&media, &blob) {
                eprintln!("output: could not delete unused blob {blob}: {error:#}");
            }
            match outcome {
                Err(error) => Err(failure::store(error)),
                _ => Err(lease_lost()),
            }
        }
    }
}
