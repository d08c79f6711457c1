//! `GET /internal/queue`: `{"queued", "processing"}` for KEDA's
//! metrics-api scaler.

use clipwave_http::{json_response, ApiError, RequestId};
use http::StatusCode;
use serde_json::json;

use crate::{failure, jobs::open_reaped, respond::Reply};

/// The queue's depth.
///
/// # Errors
/// 503 when the database fails.
pub fn queue(request_id: &RequestId) -> Result<Reply, ApiError> {
    let jobs = open_reaped()?;
    let (queued, processing) = jobs.queue_counts().map_err(failure::store)?;
    let body = json!({ "queued": queued, "processing": processing });
    Ok(json_response(StatusCode::OK, &body, request_id).into())
}
