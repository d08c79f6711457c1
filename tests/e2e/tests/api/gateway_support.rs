//! Typed calls to the gateway, and a test-side worker, for the `gateway_*`
//! tests.

use std::io::Read;

use reqwest::{
    blocking::{Body, Response},
    Method,
};
use serde_json::{json, Value};

use crate::{
    auth_support::{new_user, Tokens},
    helpers::{TestApp, WORKER_CLIENT_ID, WORKER_CLIENT_SECRET},
};

/// The multipart boundary the tests use.
pub const BOUNDARY: &str = "clipwave-test-boundary-7MA4YWxkTrZu0gW";

/// `len` bytes of a fake MP4: a real `ftyp` box, then printable ASCII, so
/// the data is also valid UTF-8 and `clipwave_token::token_hash` (SHA-256
/// of text) can hash it.
pub fn fake_mp4(len: usize) -> Vec<u8> {
    let mut data = b"\0\0\0\x18ftypisom\0\0\x02\0isomiso2".to_vec();
    data.extend((0..len.saturating_sub(data.len())).map(|i| b'a' + (i % 26) as u8));
    data.truncate(len);
    data
}

/// Lower-case hex SHA-256 of data made by [`fake_mp4`].
pub fn sha256_hex(data: &[u8]) -> String {
    clipwave_token::token_hash(std::str::from_utf8(data).expect("ASCII test data"))
}

/// A reader producing [`fake_mp4`]'s bytes without holding them.
pub struct FakeMp4Reader {
    position: usize,
    len: usize,
    head: Vec<u8>,
}

impl FakeMp4Reader {
    /// `len` bytes.
    pub fn new(len: usize) -> Self {
        Self {
            position: 0,
            len,
            head: fake_mp4(64),
        }
    }
}

impl Read for FakeMp4Reader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = buf.len().min(self.len - self.position);
        for (offset, byte) in buf[..n].iter_mut().enumerate() {
            let i = self.position + offset;
            *byte = if i < 24 {
                self.head[i]
            } else {
                b'a' + ((i - 24) % 26) as u8
            };
        }
        self.position += n;
        Ok(n)
    }
}

/// The multipart framing around one file part named `file`.
pub fn form_parts(filename: &str, content_type: &str) -> (Vec<u8>, Vec<u8>) {
    let head = format!(
        "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{filename}\"\r\n\
         Content-Type: {content_type}\r\n\r\n"
    );
    let tail = format!("\r\n--{BOUNDARY}--\r\n");
    (head.into_bytes(), tail.into_bytes())
}

/// A multipart body holding `data` as its one file.
pub fn form_with(filename: &str, data: &[u8]) -> Vec<u8> {
    let (head, tail) = form_parts(filename, "video/mp4");
    [head, data.to_vec(), tail].concat()
}

/// `POST /upload` with a multipart body.
pub fn upload_form(app: &TestApp, token: &str, body: impl Into<Body>) -> Response {
    app.request(Method::POST, "/upload")
        .bearer_auth(token)
        .header(
            "content-type",
            format!("multipart/form-data; boundary={BOUNDARY}"),
        )
        .body(body)
        .send()
        .expect("request failed")
}

/// `POST /upload` with a raw body.
pub fn upload_raw(
    app: &TestApp,
    token: &str,
    content_type: &str,
    body: impl Into<Body>,
) -> Response {
    app.request(Method::POST, "/upload?filename=clip.mp4")
        .bearer_auth(token)
        .header("content-type", content_type)
        .body(body)
        .send()
        .expect("request failed")
}

/// Uploads a small fake MP4 and returns its job id.
pub fn upload_small(app: &TestApp, token: &str, filename: &str) -> String {
    let response = upload_form(app, token, form_with(filename, &fake_mp4(4096)));
    assert_eq!(response.status(), 202, "upload");
    let body: Value = response.json().expect("JSON");
    body["job_id"].as_str().expect("job_id").to_owned()
}

/// A fresh user.
pub fn user(app: &TestApp, name: &str) -> Tokens {
    new_user(
        app,
        &format!("{name}@example.com"),
        "correct horse battery staple",
    )
}

/// A service token for the worker (`POST /token`, client credentials).
pub fn worker_token(app: &TestApp) -> String {
    let response = app
        .request(Method::POST, "/token")
        .basic_auth(WORKER_CLIENT_ID, Some(WORKER_CLIENT_SECRET))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("grant_type=client_credentials")
        .send()
        .expect("request failed");
    assert_eq!(response.status(), 200, "worker token");
    let body: Value = response.json().expect("JSON");
    body["access_token"]
        .as_str()
        .expect("access_token")
        .to_owned()
}

/// A request with a Bearer token and a JSON body.
pub fn post_json(app: &TestApp, path: &str, token: &str, body: Value) -> Response {
    app.request(Method::POST, path)
        .bearer_auth(token)
        .json(&body)
        .send()
        .expect("request failed")
}

/// `POST /internal/jobs/claim`: the claimed job, or `None` on 204.
pub fn claim(app: &TestApp, worker: &str) -> Option<Value> {
    let response = post_json(
        app,
        "/internal/jobs/claim",
        worker,
        json!({ "worker_id": "test" }),
    );
    match response.status().as_u16() {
        204 => None,
        200 => Some(response.json().expect("JSON")),
        other => panic!("claim answered {other}"),
    }
}

/// `PUT /internal/jobs/{id}/output?attempt=`.
pub fn put_output(app: &TestApp, worker: &str, job: &str, attempt: i64, mp3: &[u8]) -> Response {
    app.request(
        Method::PUT,
        &format!("/internal/jobs/{job}/output?attempt={attempt}"),
    )
    .bearer_auth(worker)
    .header("content-type", "audio/mpeg")
    .body(mp3.to_vec())
    .send()
    .expect("request failed")
}

/// `POST /internal/jobs/{id}/fail`.
pub fn fail(app: &TestApp, worker: &str, job: &str, attempt: i64, reason: &str) -> Response {
    post_json(
        app,
        &format!("/internal/jobs/{job}/fail"),
        worker,
        json!({ "attempt": attempt, "reason": reason, "retryable": true }),
    )
}

/// A job as its owner sees it.
pub fn job(app: &TestApp, token: &str, job: &str) -> Value {
    let response = app
        .request(Method::GET, &format!("/jobs/{job}"))
        .bearer_auth(token)
        .send()
        .expect("request failed");
    assert_eq!(response.status(), 200, "GET /jobs/{job}");
    response.json().expect("JSON")
}
