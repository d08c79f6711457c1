//! `HEAD` on every gateway `GET` route (RFC 9110 §9.1, §9.3.2): the status
//! and headers `GET` answers with, no body; a download's `HEAD` does not
//! read the mp3 from storage. Other wrong methods keep 405 + `Allow`.

use reqwest::{blocking::Response, Method};
use serde_json::json;

use crate::{
    auth_support::bearer,
    gateway_support::{claim, post_json, put_output, upload_small, user, worker_token},
    helpers::{spawn_app, TestApp},
};

/// Headers a `HEAD` must repeat from its `GET`.
const SAME_HEADERS: [&str; 9] = [
    "content-type",
    "content-length",
    "content-range",
    "etag",
    "accept-ranges",
    "content-disposition",
    "cache-control",
    "allow",
    "www-authenticate",
];

/// One comparison: path, token, extra request headers, expected status.
type Case<'a> = (String, Option<&'a str>, Vec<(&'a str, &'a str)>, u16);

/// A fake mp3 over several 512 KiB chunks.
fn mp3() -> Vec<u8> {
    let mut data = b"ID3\x04\0\0\0\0\0\0".to_vec();
    data.extend((0..1_200_000u32).map(|i| (i % 251) as u8));
    data
}

/// Uploads a file for `token` and has the test worker finish it with `mp3`.
fn done_job(app: &TestApp, token: &str, mp3: &[u8]) -> String {
    let worker = worker_token(app);
    let id = upload_small(app, token, "Clip.mp4");
    let claimed = claim(app, &worker).expect("claimable");
    assert_eq!(claimed["job_id"], id.as_str());
    assert_eq!(put_output(app, &worker, &id, 1, mp3).status(), 204);
    let complete = post_json(
        app,
        &format!("/internal/jobs/{id}/complete"),
        &worker,
        json!({"attempt": 1, "duration_secs": 3.0}),
    );
    assert_eq!(complete.status(), 200);
    id
}

/// `method path` with `token` (if any), the same `X-Request-Id` every time
/// (error bodies echo it, so `GET` and `HEAD` sizes match) and `extra`.
fn send(
    app: &TestApp,
    method: Method,
    path: &str,
    token: Option<&str>,
    extra: &[(&str, &str)],
) -> Response {
    let mut request = app
        .request(method, path)
        .header("x-request-id", "head-vs-get");
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    for (name, value) in extra {
        request = request.header(*name, *value);
    }
    request.send().expect("request")
}

/// Asserts `HEAD path` answers as `GET path` does, without a body; returns
/// the status.
fn assert_head_like_get(
    app: &TestApp,
    path: &str,
    token: Option<&str>,
    extra: &[(&str, &str)],
) -> u16 {
    let what = format!("HEAD {path} {extra:?}");
    let get = send(app, Method::GET, path, token, extra);
    let head = send(app, Method::HEAD, path, token, extra);
    assert_eq!(head.status(), get.status(), "{what}");
    assert_eq!(head.headers()["x-request-id"], "head-vs-get", "{what}");
    for name in SAME_HEADERS {
        assert_eq!(
            head.headers().get(name),
            get.headers().get(name),
            "{what}: {name}"
        );
    }
    let status = head.status().as_u16();
    let declared = get.headers().get("content-length").map(|value| {
        value
            .to_str()
            .expect("ASCII")
            .parse::<usize>()
            .expect("a number")
    });
    let body = get.bytes().expect("GET body");
    if let Some(length) = declared {
        assert_eq!(body.len(), length, "{what}: GET's Content-Length");
    }
    assert!(head.bytes().expect("HEAD body").is_empty(), "{what}");
    status
}

#[test]
fn head_answers_like_get_without_a_body_on_every_get_route() {
    let app = spawn_app();
    let ann = user(&app, "ann");
    let bob = user(&app, "bob");
    let mp3 = mp3();
    let done = done_job(&app, &ann.access, &mp3);
    let queued = upload_small(&app, &ann.access, "later.mp4");
    let bobs = upload_small(&app, &bob.access, "bob.mp4");
    let missing = "0123456789abcdef0123456789abcdef";
    let etag = send(
        &app,
        Method::GET,
        &format!("/jobs/{done}/audio"),
        Some(&ann.access),
        &[],
    )
    .headers()["etag"]
        .to_str()
        .expect("etag")
        .to_owned();
    let size = mp3.len();
    let token = Some(ann.access.as_str());
    let cases: Vec<Case> = vec![
        ("/jobs".into(), token, vec![], 200),
        ("/jobs?limit=1".into(), token, vec![], 200),
        ("/jobs?limit=0".into(), token, vec![], 400),
        (format!("/jobs/{done}"), token, vec![], 200),
        (format!("/jobs/{queued}"), token, vec![], 200),
        (format!("/jobs/{bobs}"), token, vec![], 404),
        (format!("/jobs/{missing}"), token, vec![], 404),
        ("/jobs".into(), None, vec![], 401),
        (format!("/jobs/{done}"), Some("not.a.token"), vec![], 401),
        (format!("/jobs/{done}/audio"), token, vec![], 200),
        (format!("/download?fid={done}"), token, vec![], 200),
        ("/download".into(), token, vec![], 400),
        (format!("/jobs/{queued}/audio"), token, vec![], 409),
        (format!("/download?fid={bobs}"), token, vec![], 404),
        (
            format!("/jobs/{done}/audio"),
            token,
            vec![("range", "bytes=100-599999")],
            206,
        ),
        (
            format!("/download?fid={done}"),
            token,
            vec![("range", "bytes=-10")],
            206,
        ),
        (
            format!("/jobs/{done}/audio"),
            token,
            vec![("range", "bytes=99999999-")],
            416,
        ),
        (
            format!("/jobs/{done}/audio"),
            token,
            vec![("if-none-match", etag.as_str())],
            304,
        ),
        ("/healthz".into(), None, vec![], 200),
    ];
    for (path, token, extra, expected) in &cases {
        let status = assert_head_like_get(&app, path, *token, extra);
        assert_eq!(status, *expected, "HEAD {path} {extra:?}");
    }
    // The download's head in detail.
    let head = send(
        &app,
        Method::HEAD,
        &format!("/jobs/{done}/audio"),
        token,
        &[],
    );
    assert_eq!(head.headers()["content-length"], size.to_string().as_str());
    assert_eq!(head.headers()["content-type"], "audio/mpeg");
    assert_eq!(head.headers()["accept-ranges"], "bytes");
    assert_eq!(head.headers()["etag"], etag.as_str());
    assert_eq!(
        head.headers()["content-disposition"],
        "attachment; filename=\"Clip.mp3\""
    );
    let partial = send(
        &app,
        Method::HEAD,
        &format!("/jobs/{done}/audio"),
        token,
        &[("range", "bytes=100-599999")],
    );
    assert_eq!(
        partial.headers()["content-range"],
        format!("bytes 100-599999/{size}").as_str()
    );
    assert_eq!(partial.headers()["content-length"], "599900");
    // The worker's GET routes take HEAD too.
    let worker = worker_token(&app);
    for path in [
        "/internal/queue".to_owned(),
        format!("/internal/jobs/{queued}/input"),
    ] {
        assert_eq!(
            assert_head_like_get(&app, &path, Some(&worker), &[]),
            200,
            "{path}"
        );
    }
}

#[test]
fn other_wrong_methods_are_405_with_allow_listing_head_where_get_is() {
    let app = spawn_app();
    let ann = user(&app, "ann");
    let worker = worker_token(&app);
    let id = upload_small(&app, &ann.access, "a.mp4");
    let cases = [
        (Method::HEAD, "/upload".to_owned(), &ann.access, "POST"),
        (Method::GET, "/upload".to_owned(), &ann.access, "POST"),
        (Method::PUT, "/jobs".to_owned(), &ann.access, "GET, HEAD"),
        (Method::POST, "/jobs".to_owned(), &ann.access, "GET, HEAD"),
        (
            Method::PATCH,
            format!("/jobs/{id}"),
            &ann.access,
            "GET, HEAD, DELETE",
        ),
        (
            Method::POST,
            format!("/jobs/{id}/audio"),
            &ann.access,
            "GET, HEAD",
        ),
        (
            Method::DELETE,
            format!("/download?fid={id}"),
            &ann.access,
            "GET, HEAD",
        ),
        (
            Method::POST,
            "/internal/queue".to_owned(),
            &worker,
            "GET, HEAD",
        ),
        (
            Method::PUT,
            format!("/internal/jobs/{id}/input"),
            &worker,
            "GET, HEAD",
        ),
        (
            Method::HEAD,
            "/internal/jobs/claim".to_owned(),
            &worker,
            "POST",
        ),
    ];
    for (method, path, token, allow) in cases {
        let response = bearer(&app, method.clone(), &path, token);
        assert_eq!(response.status(), 405, "{method} {path}");
        assert_eq!(response.headers()["allow"], allow, "{method} {path}");
    }
}

#[test]
fn a_downloads_head_does_not_read_the_mp3_from_storage() {
    let app = spawn_app();
    let ann = user(&app, "ann");
    let mp3 = mp3();
    let id = done_job(&app, &ann.access, &mp3);
    // Take the mp3's chunks away, keeping its manifest: a HEAD that read
    // them could not answer, a GET cannot send the bytes.
    let path = app.dir.join(".spin/kv-media.db");
    let connection = rusqlite::Connection::open(&path)
        .unwrap_or_else(|e| panic!("cannot open {}: {e}", path.display()));
    connection
        .busy_timeout(std::time::Duration::from_secs(5))
        .expect("busy timeout");
    let removed = connection
        .execute(
            "DELETE FROM spin_key_value WHERE key LIKE 'blob:out-%' \
             AND key NOT LIKE '%:manifest' AND key NOT LIKE '%:pending'",
            [],
        )
        .expect("delete chunks");
    assert!(removed >= 3, "the mp3 spans several chunks ({removed})");
    drop(connection);

    for path in [format!("/jobs/{id}/audio"), format!("/download?fid={id}")] {
        let head = send(&app, Method::HEAD, &path, Some(&ann.access), &[]);
        assert_eq!(head.status(), 200, "HEAD {path}");
        assert_eq!(
            head.headers()["content-length"],
            mp3.len().to_string().as_str()
        );
        assert!(head.headers().contains_key("etag"));
    }
    let get = send(
        &app,
        Method::GET,
        &format!("/jobs/{id}/audio"),
        Some(&ann.access),
        &[],
    );
    let body = get.bytes();
    assert!(
        body.map_or(true, |bytes| bytes.len() < mp3.len()),
        "GET still found the chunks"
    );
}
