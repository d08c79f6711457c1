//! The web component: Clipwave's page, and the JSON 404 for unknown paths.
//!
//! It owns the catch-all route `/...`, so any path no other component
//! claims lands here: the page and its two assets are served from files
//! compiled into the component (nothing is fetched at run time), every other
//! path is a JSON `not_found` like the rest of the API.
//!
//! # Routes
//! | route | handler |
//! |---|---|
//! | `GET /`, `/index.html`, `/app.js`, `/style.css` | [`assets`] |
//! | anything else | 404 |

mod assets;

use clipwave_http::{ApiError, RequestId};
use http::{Method, Request, Response};
use spin_sdk::http_component;

/// Spin's entry point: one call per request, on a fresh instance.
#[http_component]
fn handle(request: Request<Vec<u8>>) -> Response<Vec<u8>> {
    let request_id = RequestId::from_headers(request.headers());
    let outcome = match assets::find(request.uri().path()) {
        Some(asset) if matches!(*request.method(), Method::GET | Method::HEAD) => {
            Ok(assets::serve(asset, &request, &request_id))
        }
        Some(_) => Err(ApiError::method_not_allowed("GET, HEAD")),
        None => Err(ApiError::not_found()),
    };
    outcome.unwrap_or_else(|error| error.into_response(&request_id))
}
