//! CONTRACT TEST DOUBLE of the gateway's internal worker API.
//!
//! This is not the gateway: it is a small in-test HTTP server that implements
//! `docs/internal-api.md` (service tokens from `POST /token`, the job state
//! machine with attempts and leases, 409 for any call from an attempt that
//! no longer holds the lease) so that the worker can be tested before and
//! independently of the real gateway. End-to-end tests against the real
//! gateway live with the end-to-end suites.

use std::collections::HashMap;
use std::io::{Cursor, Read};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use tiny_http::{Header, Method, Request, Response, Server};

pub const CLIENT_ID: &str = "clipwave-worker";
pub const CLIENT_SECRET: &str = "s3cret-for-tests";

/// A job as the double stores it.
#[derive(Debug, Clone)]
pub struct Job {
    pub status: String,
    pub attempts: u32,
    pub lease_until: Option<Instant>,
    pub progress: u8,
    pub error: Option<String>,
    pub input: Vec<u8>,
    pub sha256: String,
    pub filename: String,
    pub owner_email: Option<String>,
    pub callback_url: Option<String>,
    /// Output per attempt (a PUT replaces its attempt's output).
    pub outputs: HashMap<u32, Vec<u8>>,
    pub heartbeats: u32,
    pub duration_secs: Option<f64>,
    created: u64,
}

/// Knobs of the double.
#[derive(Debug, Clone)]
pub struct Config {
    pub lease_secs: u64,
    pub token_ttl_secs: u64,
    pub max_attempts: u32,
    /// Sends inputs at this many bytes per second (0 = at once).
    pub input_bytes_per_sec: usize,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            lease_secs: 120,
            token_ttl_secs: 3600,
            max_attempts: 3,
            input_bytes_per_sec: 0,
        }
    }
}

#[derive(Default)]
pub struct State {
    pub jobs: HashMap<String, Job>,
    pub tokens: HashMap<String, Instant>,
    pub token_requests: u32,
    pub unauthorized: u32,
    next_id: u64,
}

pub struct GatewayDouble {
    pub url: String,
    state: Arc<Mutex<State>>,
    server: Arc<Server>,
    thread: Option<JoinHandle<()>>,
}

fn unix(at: Instant) -> u64 {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    now + at.saturating_duration_since(Instant::now()).as_secs()
}

impl GatewayDouble {
    pub fn start(config: Config) -> Self {
        let server = Arc::new(Server::http("127.0.0.1:0").expect("bind 127.0.0.1:0"));
        let addr = server.server_addr().to_ip().expect("an IP listener");
        let state = Arc::new(Mutex::new(State::default()));
        let (srv, st, cfg) = (Arc::clone(&server), Arc::clone(&state), config);
        let thread = std::thread::spawn(move || {
            while let Ok(request) = srv.recv() {
                let (st, cfg) = (Arc::clone(&st), cfg.clone());
                std::thread::spawn(move || handle(request, &st, &cfg));
            }
        });
        Self {
            url: format!("http://{addr}"),
            state,
            server,
            thread: Some(thread),
        }
    }

    pub fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Queues a job as an upload would.
    pub fn add_job(
        &self,
        input: Vec<u8>,
        filename: &str,
        owner_email: Option<&str>,
        callback_url: Option<&str>,
    ) -> String {
        let mut st = self.state();
        st.next_id += 1;
        // Ids as the real gateway makes them: 32 lower-case hex digits.
        let id = format!("{:032x}", st.next_id);
        let sha256 = Sha256::digest(&input)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let created = st.next_id;
        st.jobs.insert(
            id.clone(),
            Job {
                status: "queued".into(),
                attempts: 0,
                lease_until: None,
                progress: 0,
                error: None,
                input,
                sha256,
                filename: filename.into(),
                owner_email: owner_email.map(str::to_string),
                callback_url: callback_url.map(str::to_string),
                outputs: HashMap::new(),
                heartbeats: 0,
                duration_secs: None,
                created,
            },
        );
        id
    }

    pub fn job(&self, id: &str) -> Job {
        self.state()
            .jobs
            .get(id)
            .cloned()
            .expect("a job the test added")
    }

    /// What `DELETE /jobs/{id}` does to a processing job.
    pub fn cancel(&self, id: &str) {
        if let Some(job) = self.state().jobs.get_mut(id) {
            job.status = "canceled".into();
            job.lease_until = None;
        }
    }

    /// Revokes every service token (as a key rotation would).
    pub fn revoke_tokens(&self) {
        self.state().tokens.clear();
    }
}

impl Drop for GatewayDouble {
    fn drop(&mut self) {
        self.server.unblock();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn header(name: &str, value: &str) -> Header {
    Header::from_bytes(name.as_bytes(), value.as_bytes()).expect("a valid header")
}

fn json_response(status: u16, body: Value) -> Response<Cursor<Vec<u8>>> {
    Response::from_data(body.to_string().into_bytes())
        .with_status_code(status)
        .with_header(header("Content-Type", "application/json"))
}

fn error(status: u16, code: &str) -> Response<Cursor<Vec<u8>>> {
    json_response(
        status,
        json!({"error": code, "message": code, "request_id": "test"}),
    )
}

fn header_value<'a>(request: &'a Request, name: &str) -> Option<&'a str> {
    request
        .headers()
        .iter()
        .find(|h| h.field.as_str().as_str().eq_ignore_ascii_case(name))
        .map(|h| h.value.as_str())
}

/// Input bytes sent at a limited rate.
struct Throttled {
    data: Cursor<Vec<u8>>,
    per_tick: usize,
}

impl Read for Throttled {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        std::thread::sleep(Duration::from_millis(100));
        let n = buf.len().min(self.per_tick.max(1));
        self.data.read(&mut buf[..n])
    }
}

fn handle(mut request: Request, state: &Mutex<State>, cfg: &Config) {
    let mut body = Vec::new();
    let _ = request.as_reader().read_to_end(&mut body);
    let method = request.method().clone();
    let url = request.url().to_string();
    let (path, query) = url.split_once('?').unwrap_or((url.as_str(), ""));
    let path = path.to_string();
    let auth = header_value(&request, "authorization").map(str::to_string);
    let mut st = state.lock().unwrap_or_else(|p| p.into_inner());
    if path == "/token" && method == Method::Post {
        st.token_requests += 1;
        let basic = format!("{CLIENT_ID}:{CLIENT_SECRET}");
        let expected = format!("Basic {}", base64_encode(basic.as_bytes()));
        let form_ok = String::from_utf8_lossy(&body).contains("grant_type=client_credentials");
        let response = if auth.as_deref() == Some(expected.as_str()) && form_ok {
            let token = format!("tok-{}", st.token_requests);
            let until = Instant::now() + Duration::from_secs(cfg.token_ttl_secs);
            st.tokens.insert(token.clone(), until);
            json_response(
                200,
                json!({"access_token": token, "token_type": "Bearer", "expires_in": cfg.token_ttl_secs}),
            )
        } else {
            error(401, "invalid_credentials")
        };
        drop(st);
        let _ = request.respond(response);
        return;
    }
    let token = auth.as_deref().and_then(|a| a.strip_prefix("Bearer "));
    let valid = token
        .and_then(|t| st.tokens.get(t))
        .is_some_and(|until| Instant::now() < *until);
    if !valid {
        st.unauthorized += 1;
        drop(st);
        let _ = request.respond(error(401, "invalid_token"));
        return;
    }
    expire_leases(&mut st, cfg);
    let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let raw = body;
    let body: Value = serde_json::from_slice(&raw).unwrap_or(Value::Null);
    let attempt = body["attempt"]
        .as_u64()
        .or_else(|| query.strip_prefix("attempt=").and_then(|a| a.parse().ok()));
    let response = match (&method, parts.as_slice()) {
        (Method::Post, ["internal", "jobs", "claim"]) => claim(&mut st, cfg),
        (Method::Get, ["internal", "queue"]) => {
            let count = |s: &str| st.jobs.values().filter(|j| j.status == s).count();
            json_response(
                200,
                json!({"queued": count("queued"), "processing": count("processing")}),
            )
        }
        (Method::Get, ["internal", "jobs", id, "input"]) => {
            let Some(job) = st.jobs.get(*id) else {
                drop(st);
                let _ = request.respond(error(404, "not_found"));
                return;
            };
            let data = job.input.clone();
            drop(st);
            let len = data.len();
            let reader: Box<dyn Read + Send> = if cfg.input_bytes_per_sec == 0 {
                Box::new(Cursor::new(data))
            } else {
                Box::new(Throttled {
                    data: Cursor::new(data),
                    per_tick: cfg.input_bytes_per_sec / 10,
                })
            };
            let headers = vec![header("Content-Type", "video/mp4")];
            let _ = request.respond(Response::new(200.into(), headers, reader, Some(len), None));
            return;
        }
        (method, ["internal", "jobs", id, action]) => {
            job_call(&mut st, cfg, (method, id, action), attempt, &body, &raw)
        }
        _ => error(404, "not_found"),
    };
    drop(st);
    let _ = request.respond(response);
}

fn expire_leases(st: &mut State, cfg: &Config) {
    for job in st.jobs.values_mut() {
        let expired = job.lease_until.is_some_and(|t| Instant::now() >= t);
        if job.status == "processing" && expired && job.attempts >= cfg.max_attempts {
            job.status = "failed".into();
            job.error = Some(format!("worker lost the job {} times", job.attempts));
            job.lease_until = None;
        }
    }
}

fn claim(st: &mut State, cfg: &Config) -> Response<Cursor<Vec<u8>>> {
    let now = Instant::now();
    let pick = st
        .jobs
        .iter()
        .filter(|(_, j)| {
            j.status == "queued"
                || (j.status == "processing" && j.lease_until.is_some_and(|t| now >= t))
        })
        .min_by_key(|(_, j)| j.created)
        .map(|(id, _)| id.clone());
    let Some(id) = pick else {
        return Response::from_data(Vec::new()).with_status_code(204);
    };
    let Some(job) = st.jobs.get_mut(&id) else {
        return error(500, "internal");
    };
    job.attempts += 1;
    job.status = "processing".into();
    let until = now + Duration::from_secs(cfg.lease_secs);
    job.lease_until = Some(until);
    json_response(
        200,
        json!({
            "job_id": id, "attempt": job.attempts, "lease_expires_at": unix(until),
            "lease_secs": cfg.lease_secs, "input_size": job.input.len(),
            "input_sha256": job.sha256, "content_type": "video/mp4",
            "filename": job.filename, "owner_email": job.owner_email,
            "callback_url": job.callback_url,
        }),
    )
}

fn job_call(
    st: &mut State,
    cfg: &Config,
    (method, id, action): (&Method, &str, &str),
    attempt: Option<u64>,
    body: &Value,
    raw: &[u8],
) -> Response<Cursor<Vec<u8>>> {
    let Some(job) = st.jobs.get_mut(id) else {
        return error(404, "not_found");
    };
    let holds_lease = job.status == "processing"
        && attempt == Some(u64::from(job.attempts))
        && job.lease_until.is_some_and(|t| Instant::now() < t);
    if !holds_lease {
        return error(409, "conflict");
    }
    match (method, action) {
        (Method::Post, "heartbeat") => {
            job.heartbeats += 1;
            job.progress = body["progress"].as_u64().unwrap_or(0).min(100) as u8;
            let until = Instant::now() + Duration::from_secs(cfg.lease_secs);
            job.lease_until = Some(until);
            json_response(200, json!({"lease_expires_at": unix(until)}))
        }
        (Method::Put, "output") => {
            job.outputs.insert(job.attempts, raw.to_vec());
            Response::from_data(Vec::new()).with_status_code(204)
        }
        (Method::Post, "complete") => {
            if !job.outputs.contains_key(&job.attempts) {
                return error(409, "conflict");
            }
            job.status = "done".into();
            job.progress = 100;
            job.lease_until = None;
            job.duration_secs = body["duration_secs"].as_f64();
            json_response(
                200,
                json!({"job_id": id, "status": "done", "progress": 100}),
            )
        }
        (Method::Post, "fail") => {
            let retryable = body["retryable"].as_bool().unwrap_or(false);
            job.error = body["reason"].as_str().map(str::to_string);
            job.lease_until = None;
            job.status = if retryable && job.attempts < cfg.max_attempts {
                "queued"
            } else {
                "failed"
            }
            .into();
            json_response(200, json!({"status": job.status}))
        }
        _ => error(404, "not_found"),
    }
}

fn base64_encode(data: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(data)
}
