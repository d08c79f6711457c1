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
    /// A strong validator derived from the content, so an edited file gets a
    /// new ETag even when the crate version stays the same (with
    /// `Cache-Control: no-cache` a browser revalidates every load, and a
    /// version-only ETag would keep answering 304 with the old file).
    etag: [u8; ETAG_LEN],
}

impl Asset {
    const fn new(content_type: &'static str, body: &'static [u8]) -> Self {
        Self {
            content_type,
            body,
            etag: etag_of(body),
        }
    }

    fn etag(&self) -> &str {
        // Only ASCII quote and hex digits are ever written into it.
        std::str::from_utf8(&self.etag).unwrap_or("\"\"")
    }
}

const INDEX: Asset = Asset::new(
    "text/html; charset=utf-8",
    include_bytes!("../static/index.html"),
);
const SCRIPT: Asset = Asset::new(
    "text/javascript; charset=utf-8",
    include_bytes!("../static/app.js"),
);
const STYLE: Asset = Asset::new(
    "text/css; charset=utf-8",
    include_bytes!("../static/style.css"),
);

/// `"` + 16 hex digits of the content's FNV-1a hash + 8 hex digits of its length + `"`.
const ETAG_LEN: usize = 26;

/// The ETag of `body`, computed at compile time.
const fn etag_of(body: &[u8]) -> [u8; ETAG_LEN] {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let mut i = 0;
    while i < body.len() {
        hash ^= body[i] as u64;
        hash = hash.wrapping_mul(0x0100_0000_01b3);
        i += 1;
    }
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut tag = [b'"'; ETAG_LEN];
    let mut digit = 0;
    while digit < 16 {
        tag[1 + digit] = HEX[((hash >> (60 - 4 * digit)) & 0xf) as usize];
        digit += 1;
    }
    let len = body.len() as u32;
    let mut digit = 0;
    while digit < 8 {
        tag[17 + digit] = HEX[((len >> (28 - 4 * digit)) & 0xf) as usize];
        digit += 1;
    }
    tag
}

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
        .is_some_and(|tags| tags.split(',').any(|t| t.trim() == asset.etag()));
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
    if let Ok(etag) = HeaderValue::from_str(asset.etag()) {
        headers.insert(header::ETAG, etag);
    }
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
            .header("if-none-match", SCRIPT.etag())
            .body(Vec::new())
            .unwrap();
        let response = serve(&SCRIPT, &request, &RequestId::generate());
        assert_eq!(response.status(), StatusCode::NOT_MODIFIED);
        assert!(response.body().is_empty());
    }

    #[test]
    fn etags_follow_the_content() {
        assert_eq!(etag_of(b"a"), etag_of(b"a"));
        assert_ne!(etag_of(b"a"), etag_of(b"b"));
        let tag = INDEX.etag();
        assert!(
            tag.len() == ETAG_LEN && tag.starts_with('"') && tag.ends_with('"'),
            "{tag}"
        );
        assert!(
            tag[1..ETAG_LEN - 1].bytes().all(|b| b.is_ascii_hexdigit()),
            "{tag}"
        );
        assert_ne!(INDEX.etag(), SCRIPT.etag());
        let stale = Request::get("/app.js")
            .header(
                "if-none-match",
                concat!("\"app-", env!("CARGO_PKG_VERSION"), "\""),
            )
            .body(Vec::new())
            .unwrap();
        assert_eq!(
            serve(&SCRIPT, &stale, &RequestId::generate()).status(),
            StatusCode::OK
        );
    }

    #[test]
    fn unknown_paths_are_not_assets() {
        assert!(find("/secret").is_none());
        assert!(find("/app.js/../etc").is_none());
    }
}
