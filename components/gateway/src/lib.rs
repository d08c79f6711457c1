//! The gateway component: uploads, jobs, downloads and the worker API.
//!
//! # Routes
//! | route | handler |
//! |---|---|
//! | `GET /healthz` (no token) | [`healthz`] |
//! | `POST /upload` | [`upload`] |
//! | `GET /jobs`, `GET`/`DELETE /jobs/{id}` | [`jobs`] |
//! | `GET /jobs/{id}/audio`, `GET /download?fid=` | [`download`] |
//! | `/internal/...` (service tokens) | [`internal`] |
//!
//! Every route but `/healthz` authenticates first ([`auth`]), so a
//! protected route answers 401 before any 400, 404, 405 or 409. `HEAD` is
//! answered wherever `GET` is, as `GET` without the body.
//!
//! # Layout
//! - Handlers: [`upload`], [`jobs`], [`download`], [`internal`].
//! - Edges: [`request`] (the request head, the body as a limited stream),
//!   [`respond`] (full or streamed replies), [`auth`], [`config`],
//!   [`failure`] (server faults to 503/500, logged).
//! - Stores: [`media_store`] (key-value `media`, chunked blobs),
//!   [`jobs_db`] (SQLite `default`, versioned migrations) and [`sweep`]
//!   (blobs a killed process left behind).
//! - Plain logic, tested natively: [`route`], [`job`] (job ids: `clipwave-ids`),
//!   [`cursor`], [`sniff`], [`ingest`], [`body`], [`range`],
//!   [`disposition`].
//!
//! # Stores and variables
//! Key-value `default` (session records, read-only here) and `media`,
//! SQLite `default`. Variables: `auth_mode`, `max_upload_bytes`,
//! `max_attempts`, `job_lease_secs`, `upload_stale_secs`, `jwt_public_keys`,
//! `jwt_issuer`, `jwt_audience`, `clock_leeway_secs`.

pub mod auth;
pub mod body;
pub mod config;
pub mod cursor;
pub mod disposition;
pub mod download;
pub mod failure;
pub mod healthz;
pub mod ingest;
pub mod internal;
pub mod job;
pub mod jobs;
pub mod jobs_db;
pub mod media_store;
pub mod range;
pub mod request;
pub mod respond;
pub mod route;
pub mod sniff;
pub mod sweep;
pub mod upload;

use clipwave_http::ApiError;
use http::Method;

use crate::{request::Incoming, respond::Reply, route::Route};

/// Spin's entry point: one call per request, on a fresh instance.
#[cfg(target_arch = "wasm32")]
#[spin_sdk::http_component]
async fn handle(request: spin_sdk::http::IncomingRequest, out: spin_sdk::http::ResponseOutparam) {
    let mut request = Incoming::new(request);
    let reply = dispatch(&mut request)
        .await
        .unwrap_or_else(|error| error.into_response(&request.request_id).into());
    // HEAD is routed as GET (errors included); only the body is dropped.
    let reply = if request.method == Method::HEAD {
        reply.head_only()
    } else {
        reply
    };
    respond::send(out, reply, &request.request_id).await;
}

/// The route table: authenticate, then match route and method. Every
/// `GET` route takes `HEAD` too (RFC 9110 §9.1), answered as `GET`;
/// [`handle`] drops the body.
#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
async fn dispatch(request: &mut Incoming) -> Result<Reply, ApiError> {
    let path = request.path.clone();
    let route = Route::parse(&path);
    let method = request.method.clone();
    if route == Route::Healthz {
        return match method {
            Method::GET | Method::HEAD => Ok(healthz::report(&request.request_id).into()),
            _ => Err(ApiError::method_not_allowed("GET, HEAD")),
        };
    }
    let caller = auth::authenticate(&request.headers).await?;
    if route.is_internal() {
        caller.service()?;
    } else if route != Route::Unknown {
        let user = caller.user()?;
        let id = &request.request_id;
        return match (route, method) {
            (Route::Upload, Method::POST) => upload::upload(request, &user).await,
            (Route::Upload, _) => Err(ApiError::method_not_allowed("POST")),
            (Route::Jobs, Method::GET | Method::HEAD) => jobs::list(&request.query, &user, id),
            (Route::Jobs, _) => Err(ApiError::method_not_allowed("GET, HEAD")),
            (Route::Job(job), Method::GET | Method::HEAD) => jobs::get(job, &user, id),
            (Route::Job(job), Method::DELETE) => jobs::delete(job, &user, id),
            (Route::Job(_), _) => Err(ApiError::method_not_allowed("GET, HEAD, DELETE")),
            (Route::JobAudio(job), Method::GET | Method::HEAD) => {
                download::audio(request, job, &user)
            }
            (Route::Download, Method::GET | Method::HEAD) => download::download(request, &user),
            (Route::JobAudio(_) | Route::Download, _) => {
                Err(ApiError::method_not_allowed("GET, HEAD"))
            }
            _ => Err(ApiError::not_found()),
        };
    }
    match (route, method) {
        (Route::Claim, Method::POST) => internal::claim::claim(request).await,
        (Route::Input(job), Method::GET | Method::HEAD) => internal::input::input(request, job),
        (Route::Heartbeat(job), Method::POST) => internal::heartbeat::heartbeat(request, job).await,
        (Route::Output(job), Method::PUT) => internal::output::output(request, job).await,
        (Route::Complete(job), Method::POST) => internal::complete::complete(request, job).await,
        (Route::Fail(job), Method::POST) => internal::fail::fail(request, job).await,
        (Route::Queue, Method::GET | Method::HEAD) => internal::queue::queue(&request.request_id),
        (Route::Sweep, Method::POST) => internal::sweep::sweep(request),
        (Route::Input(_) | Route::Queue, _) => Err(ApiError::method_not_allowed("GET, HEAD")),
        (Route::Output(_), _) => Err(ApiError::method_not_allowed("PUT")),
        (Route::Unknown, _) => Err(ApiError::not_found()),
        _ => Err(ApiError::method_not_allowed("POST")),
    }
}
