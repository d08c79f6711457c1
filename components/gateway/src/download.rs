//! `GET /download?fid=<id>` and `GET /jobs/{id}/audio`: the mp3, streamed.
//!
//! Both routes are the same handler. Headers follow DESIGN §4a:
//! `Content-Disposition` named after the upload, `Accept-Ranges`, an
//! `ETag` (the mp3's SHA-256, quoted), one `Range` → 206, unsatisfiable →
//! 416, anything else → 200 whole, `If-Range` honoured, and
//! `If-None-Match` → 304.

use clipwave_http::{empty_response, ApiError, ErrorCode};
use http::{header, HeaderMap, StatusCode};

use crate::{
    auth::User,
    disposition, failure,
    job::Status,
    jobs::{open_for_reading, visible_job},
    media_store::{self, MediaStore},
    range::{select, Selection},
    request::Incoming,
    respond::{header_value, BlobReply, Reply},
};

/// `GET /download?fid=`: the query's job id, then as [`audio`].
///
/// # Errors
/// 400 without `fid`; otherwise as [`audio`].
pub fn download(request: &Incoming, user: &User) -> Result<Reply, ApiError> {
    let fid = request
        .query_param("fid")
        .ok_or_else(|| ApiError::bad_request("Name the job with `?fid=<job_id>`."))?;
    audio(request, &fid, user)
}

/// `GET /jobs/{id}/audio`.
///
/// # Errors
/// 404 unless the job is the caller's; 409 `not_ready` until it is done;
/// 416 for an unsatisfiable range; 503 when a store fails.
pub fn audio(request: &Incoming, raw_id: &str, user: &User) -> Result<Reply, ApiError> {
    let (jobs, as_of) = open_for_reading()?;
    let job = as_of.apply(visible_job(&jobs, raw_id, user)?);
    let blob = match (job.status, job.output_blob) {
        (Status::Done, Some(blob)) => blob,
        _ => {
            return Err(ApiError::new(
                ErrorCode::NotReady,
                format!("The job is {}; its mp3 is not ready.", job.status.as_str()),
            ))
        }
    };
    let mut headers = HeaderMap::new();
    headers.insert(header::CONTENT_TYPE, header_value("audio/mpeg"));
    headers.insert(
        header::CONTENT_DISPOSITION,
        header_value(&disposition::attachment(&job.filename)),
    );
    stream_blob(request, blob, headers)
}

/// Streams blob `blob` honouring `Range`, `If-Range` and `If-None-Match`;
/// `headers` are added to every answer (type, disposition).
///
/// # Errors
/// 416 for an unsatisfiable range; 503 when the blob cannot be read.
pub fn stream_blob(
    request: &Incoming,
    blob: String,
    mut headers: HeaderMap,
) -> Result<Reply, ApiError> {
    let store = MediaStore::open().map_err(failure::store)?;
    let manifest = media_store::manifest(&store, &blob)
        .map_err(failure::store)?
        .ok_or_else(|| failure::unavailable("find a blob", format!("{blob} has no manifest")))?;
    let size = manifest.size;
    let etag = format!("\"{}\"", manifest.sha256);
    headers.insert(header::ETAG, header_value(&etag));
    headers.insert(header::ACCEPT_RANGES, header_value("bytes"));
    headers.insert(header::CACHE_CONTROL, header_value("private, no-cache"));

    let if_none_match = request.header("if-none-match").unwrap_or_default();
    if if_none_match.split(',').any(|tag| {
        let tag = tag.trim();
        tag == "*" || tag.trim_start_matches("W/") == etag
    }) {
        let mut response = empty_response(StatusCode::NOT_MODIFIED, &request.request_id);
        response.headers_mut().extend(headers);
        return Ok(response.into());
    }

    let selection = select(
        request.header("range"),
        request.header("if-range"),
        size,
        &etag,
    );
    let (status, range) = match selection {
        Selection::Unsatisfiable => {
            return Err(ApiError::new(
                ErrorCode::RangeNotSatisfiable,
                "The requested range is outside the file.",
            )
            .with_header(
                header::CONTENT_RANGE,
                header_value(&format!("bytes */{size}")),
            ))
        }
        Selection::Partial(range) => {
            headers.insert(
                header::CONTENT_RANGE,
                header_value(&range.content_range(size)),
            );
            (
                StatusCode::PARTIAL_CONTENT,
                Some((range.first(), range.last())),
            )
        }
        Selection::Whole => (StatusCode::OK, (size > 0).then(|| (0, size - 1))),
    };
    let length = range.map_or(0, |(first, last)| last - first + 1);
    headers.insert(header::CONTENT_LENGTH, header_value(&length.to_string()));
    Ok(Reply::Blob(BlobReply {
        status,
        headers,
        store,
        blob,
        manifest,
        range,
    }))
}
