//! The page's static files, compiled in, served with strict security headers.
//!
//! The Content-Security-Policy allows only this origin's own script, style
//! and API calls: the page has no inline script, so an injected `<script>`
//! or `onclick=` cannot run, and it cannot be framed.

use clipwave_http::{empty_response, RequestId};
use http::{header, HeaderValue, Method, Request, Response, StatusCode};

/// One compiled-in file.
pub struct Asset {
    content_type: &'static str,
    body: &'static [u8],
    /// A strong validator: the crate version plus the content's length and a hash.
    etag: &'static str,
}

const INDEX: Asset = Asset {
    content_type: "text/html; charset=utf-8",
    body: include_bytes!("../static/index.html"),
    etag: concat!("\"index-", env!("CARGO_PKG_VERSION"), "\""),
};
const SCRIPT: Asset = Asset {
    content_type: "text/javascript; charset=utf-8",
    body: include_bytes!("../static/app.js"),
    etag: concat!("\"app-", env!("CARGO_PKG_VERSION"), "\""),
};
const STYLE: Asset = Asset {
    content_type: "text/css; charset=utf-8",
    body: include_bytes!("../static/style.css"),
    etag: concat!("\"style-", env!("CARGO_PKG_VERSION"), "\""),
};

/// The policy every page response carries.
const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
     img-src 'self' data:; connect-src 'self'; form-action 'self'; base-uri 'none'; \
     frame-ancestors 'none'";

/// The asset served at `path`, if any.
pub fn find(path: &str) -> Option<&'static Asset> {
    match path {
        "/" | "/index.html" => Some(&INDEX),
        "/app.js" => Some(&SCRIPT),
        "/style.css" => Some(&STYLE),
        _ => None,
    }
}

/// 200 with the file (no body for HEAD), or 304 when the client's copy is current.
pub fn serve(
    asset: &Asset,
    request: &Request<Vec<u8>>,
    request_id: &RequestId,
) -> Response<Vec<u8>> {
    let fresh = request
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|tags| tags.split(',').any(|t| t.trim() == asset.etag));
    let status = if fresh {
        StatusCode::NOT_MODIFIED
    } else {
        StatusCode::OK
    };
    let mut response = empty_response(status, request_id);
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(asset.content_type),
    );
    headers.insert(header::ETAG, HeaderValue::from_static(asset.etag));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    if !fresh && *request.method() != Method::HEAD {
        *response.body_mut() = asset.body.to_vec();
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get(path: &str) -> Response<Vec<u8>> {
        let request = Request::get(path).body(Vec::new()).unwrap();
        serve(find(path).unwrap(), &request, &RequestId::generate())
    }

    #[test]
    fn the_page_is_served_with_strict_security_headers() {
        let response = get("/");
        assert_eq!(response.status(), StatusCode::OK);
        let headers = response.headers();
        assert!(headers["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("script-src 'self'"));
        assert_eq!(headers["x-content-type-options"], "nosniff");
        assert_eq!(headers["referrer-policy"], "no-referrer");
        assert!(String::from_utf8_lossy(response.body()).contains("<title>Clipwave"));
    }

    #[test]
    fn the_page_has_no_inline_script() {
        let html = String::from_utf8_lossy(INDEX.body);
        assert!(!html.contains("<script>"), "inline script found");
        let has_handler = html.match_indices(" on").any(|(at, _)| {
            let rest = &html[at + 3..];
            let name_len = rest.bytes().take_while(u8::is_ascii_lowercase).count();
            name_len > 0 && rest[name_len..].starts_with('=')
        });
        assert!(!has_handler, "inline event handler attribute found");
    }

    #[test]
    fn a_current_copy_gets_304() {
        let request = Request::get("/app.js")
            .header("if-none-match", SCRIPT.etag)
            .body(Vec::new())
            .unwrap();
        let response = serve(&SCRIPT, &request, &RequestId::generate());
        assert_eq!(response.status(), StatusCode::NOT_MODIFIED);
        assert!(response.body().is_empty());
    }

    #[test]
    fn unknown_paths_are_not_assets() {
        assert!(find("/secret").is_none());
        assert!(find("/app.js/../etc").is_none());
    }
}
