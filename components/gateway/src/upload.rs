//! `POST /upload`: a video (multipart or raw) streamed into key-value
//! `media`, then a queued job.
//!
//! Order matters for "nothing left behind": the body is stored under the
//! new job's input blob while it arrives, the job row is inserted only
//! after the blob is committed, and every failure before that deletes what
//! was written (see [`crate::media_store::BlobWriter`]).

use clipwave_http::{json_response, ApiError, RequestId};
use clipwave_ids::JobId;
use http::{header, StatusCode};
use serde_json::json;

use crate::{
    auth::User,
    config, failure,
    ingest::{self, IngestError},
    jobs_db::{JobsDb, NewJob},
    media_store::{self, BlobWriter, MediaStore},
    request::Incoming,
    respond::{header_value, Reply},
};

/// Room for multipart framing and small fields beyond the file itself.
const FORM_OVERHEAD: u64 = 64 * 1024;

enum Kind {
    Multipart(String),
    Raw(String),
}

fn kind(request: &Incoming) -> Result<Kind, ApiError> {
    let content_type = request.header("content-type").unwrap_or_default();
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    if essence == "multipart/form-data" {
        let boundary = multer::parse_boundary(content_type)
            .map_err(|_| ApiError::bad_request("The multipart Content-Type has no boundary."))?;
        return Ok(Kind::Multipart(boundary));
    }
    if essence.starts_with("video/") || essence.starts_with("audio/") {
        return Ok(Kind::Raw(essence));
    }
    Err(unsupported())
}

fn unsupported() -> ApiError {
    ApiError::new(
        clipwave_http::ErrorCode::UnsupportedMediaType,
        "Send multipart/form-data with one `file` part, or a raw video/* or audio/* body \
         in a supported container (MP4/MOV/M4A, MKV/WebM, OGG, WAV, FLAC, MP3).",
    )
}

fn ingest_error(error: IngestError) -> ApiError {
    match error {
        IngestError::TooLarge => ApiError::payload_too_large(),
        IngestError::Unsupported => unsupported(),
        IngestError::BadRequest(message) => ApiError::bad_request(message),
        IngestError::ClientGone(reason) => {
            eprintln!("upload: interrupted by the client: {reason}");
            ApiError::bad_request("The upload was interrupted.")
        }
        IngestError::Store(error) => failure::store(error),
    }
}

/// The raw body's filename: `?filename=`, else `Content-Disposition`'s.
fn raw_filename(request: &Incoming) -> String {
    request
        .query_param("filename")
        .or_else(|| {
            let disposition = request.header("content-disposition")?;
            let start = disposition.find("filename=")? + "filename=".len();
            let value = disposition[start..].split(';').next()?.trim();
            Some(value.trim_matches('"').to_owned())
        })
        .unwrap_or_default()
}

/// Handles `POST /upload` for `user`.
///
/// # Errors
/// 400, 413, 415 as DESIGN §3 says; 503 when a store fails.
pub async fn upload(request: &mut Incoming, user: &User) -> Result<Reply, ApiError> {
    let max = config::max_upload_bytes().map_err(failure::misconfigured)?;
    let kind = kind(request)?;
    let body_limit = match kind {
        Kind::Multipart(_) => max.saturating_add(FORM_OVERHEAD),
        Kind::Raw(_) => max,
    };
    if request
        .content_length()
        .is_some_and(|length| length > body_limit)
    {
        return Err(ApiError::payload_too_large());
    }
    let query_callback =
        ingest::parse_callback_url(&request.query_param("callback_url").unwrap_or_default())
            .map_err(ingest_error)?;
    let media = MediaStore::open().map_err(failure::store)?;
    let jobs = JobsDb::open().map_err(failure::store)?;

    let job_id = JobId::generate();
    let blob = format!("in-{job_id}");
    let writer = BlobWriter::new(&media, blob.clone(), max);
    let body = request.body(body_limit)?;
    let (manifest, callback_url) = match kind {
        Kind::Multipart(boundary) => {
            let form = ingest::multipart(body, &boundary, writer).await;
            let form = form.map_err(ingest_error)?;
            (form.manifest, form.callback_url.or(query_callback))
        }
        Kind::Raw(content_type) => {
            let filename = raw_filename(request);
            let stored = ingest::raw(body, writer, &content_type, &filename).await;
            (stored.map_err(ingest_error)?, query_callback)
        }
    };

    let inserted = jobs.insert(&NewJob {
        id: &job_id,
        owner_id: &user.id,
        owner_email: &user.email,
        filename: &manifest.filename,
        content_type: &manifest.content_type,
        input_blob: &blob,
        input_size: manifest.size,
        input_sha256: &manifest.sha256,
        callback_url: callback_url.as_deref(),
    });
    if let Err(error) = inserted {
        if let Err(cleanup) = media_store::delete(&media, &blob) {
            eprintln!("upload: could not delete blob {blob} after a failed insert: {cleanup:#}");
        }
        return Err(failure::store(error));
    }
    media_store::settle(&media, &blob);
    Ok(accepted(&job_id, &request.request_id).into())
}

fn accepted(job_id: &JobId, request_id: &RequestId) -> http::Response<Vec<u8>> {
    let body = json!({ "job_id": job_id.as_str(), "status": "queued" });
    let mut response = json_response(StatusCode::ACCEPTED, &body, request_id);
    response
        .headers_mut()
        .insert(header::LOCATION, header_value(&format!("/jobs/{job_id}")));
    response
}
