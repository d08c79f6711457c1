//! `POST /internal/sweep[?dry_run=true]`: deletes blobs that no job owns
//! and no live upload is writing (see [`crate::sweep`]); the worker calls it
//! now and then, operators may call it with `dry_run` as a store check.

use clipwave_http::{json_response, ApiError};
use http::StatusCode;

use crate::{
    config, failure,
    jobs_db::JobsDb,
    media_store::{unix_now, MediaStore},
    request::Incoming,
    respond::Reply,
};

/// Sweeps key-value `media`; 200 with the report.
///
/// # Errors
/// 400 for a `dry_run` that is not true/false, 503 when a store fails.
pub fn sweep(request: &Incoming) -> Result<Reply, ApiError> {
    let dry_run = match request.query_param("dry_run").as_deref() {
        None | Some("false" | "0") => false,
        Some("true" | "1") => true,
        Some(_) => return Err(ApiError::bad_request("`dry_run` must be true or false.")),
    };
    let stale_after = config::upload_stale_secs().map_err(failure::misconfigured)?;
    let media = MediaStore::open().map_err(failure::store)?;
    let jobs = JobsDb::open().map_err(failure::store)?;
    let report = crate::sweep::sweep(
        &media,
        || jobs.referenced_blobs(),
        unix_now(),
        stale_after,
        dry_run,
    )
    .map_err(failure::store)?;
    if !report.orphaned_blobs.is_empty() && !dry_run {
        eprintln!(
            "sweep: deleted {} orphaned blob(s), {} key(s)",
            report.orphaned_blobs.len(),
            report.orphaned_keys
        );
    }
    Ok(json_response(StatusCode::OK, &report, &request.request_id).into())
}
