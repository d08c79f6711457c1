//! A typed client of the gateway's internal worker API (`docs/internal-api.md`)
//! plus the service token it needs.
//!
//! The token is fetched with the OAuth2 client-credentials grant
//! (`POST /token`, HTTP Basic) and renewed before it expires; a 401 on any
//! call drops it and retries the call once with a fresh one, so a token
//! revoked or rotated on the auth side costs one round trip, not a job.

use std::fs::File;
use std::io::Read;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use reqwest::blocking::{Client, RequestBuilder, Response};
use reqwest::StatusCode;
use serde::{Deserialize, Serialize};

use super::WorkerError;
use clipwave_ids::JobId;

/// Time allowed for small API calls (not for streaming input or output).
const CALL_TIMEOUT: Duration = Duration::from_secs(30);

/// A job as `POST /internal/jobs/claim` hands it out.
#[derive(Debug, Clone, Deserialize)]
pub struct ClaimedJob {
    /// The job's id.
    pub job_id: JobId,
    /// The attempt this claim started (every later call names it).
    pub attempt: u32,
    /// Seconds a heartbeat extends the lease by.
    pub lease_secs: u64,
    /// Size of the uploaded input, in bytes.
    pub input_size: u64,
    /// SHA-256 of the uploaded input, lower-case hex.
    pub input_sha256: String,
    /// The upload's `Content-Type`.
    #[serde(default)]
    pub content_type: Option<String>,
    /// The upload's original file name.
    #[serde(default)]
    pub filename: Option<String>,
    /// Where to e-mail the owner when the job ends.
    #[serde(default)]
    pub owner_email: Option<String>,
    /// Where to POST a webhook when the job ends.
    #[serde(default)]
    pub callback_url: Option<String>,
}

#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    expires_in: u64,
}

#[derive(Deserialize)]
struct FailResponse {
    status: String,
}

/// A gateway connection with its service-token cache.
pub struct ApiClient {
    http: Client,
    base: String,
    client_id: String,
    client_secret: String,
    token: Mutex<Option<(String, Instant)>>,
}

/// Reads a response body for an error message (bounded).
fn status_error(what: &'static str, response: Response) -> WorkerError {
    let status = response.status().as_u16();
    let mut body = String::new();
    let _ = response.take(2048).read_to_string(&mut body);
    WorkerError::Status { what, status, body }
}

impl ApiClient {
    /// A client for the gateway at `base` (e.g. `http://clipwave`).
    ///
    /// # Errors
    /// [`WorkerError::Http`] if the HTTP client cannot be built.
    pub fn new(base: &str, client_id: &str, client_secret: &str) -> Result<Self, WorkerError> {
        let http = Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .timeout(None)
            .user_agent(concat!("clipwave-worker/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Self {
            http,
            base: base.trim_end_matches('/').to_string(),
            client_id: client_id.to_string(),
            client_secret: client_secret.to_string(),
            token: Mutex::new(None),
        })
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// The cached service token, renewed when less than a tenth of its life
    /// (at least 30 s) is left.
    fn token(&self) -> Result<String, WorkerError> {
        let mut cached = self.token.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((token, renew_at)) = cached.as_ref() {
            if Instant::now() < *renew_at {
                return Ok(token.clone());
            }
        }
        let response = self
            .http
            .post(self.url("/token"))
            .basic_auth(&self.client_id, Some(&self.client_secret))
            .form(&[("grant_type", "client_credentials")])
            .timeout(CALL_TIMEOUT)
            .send()?;
        if response.status() == StatusCode::UNAUTHORIZED {
            return Err(WorkerError::Unauthorized("POST /token answered 401".into()));
        }
        if !response.status().is_success() {
            return Err(status_error("POST /token", response));
        }
        let token: TokenResponse = response.json().map_err(|e| WorkerError::Protocol {
            what: "POST /token",
            detail: e.to_string(),
        })?;
        let margin = (token.expires_in / 10).max(30).min(token.expires_in / 2);
        let renew_at = Instant::now() + Duration::from_secs(token.expires_in - margin);
        *cached = Some((token.access_token.clone(), renew_at));
        Ok(token.access_token)
    }

    fn forget_token(&self) {
        *self.token.lock().unwrap_or_else(|p| p.into_inner()) = None;
    }

    /// Sends a request built by `build` with the service token; on 401 it
    /// renews the token and tries once more.
    fn send(
        &self,
        what: &'static str,
        build: &dyn Fn(&Client) -> Result<RequestBuilder, WorkerError>,
    ) -> Result<Response, WorkerError> {
        for retry in [false, true] {
            let token = self.token()?;
            let response = build(&self.http)?.bearer_auth(token).send()?;
            if response.status() != StatusCode::UNAUTHORIZED {
                return Ok(response);
            }
            self.forget_token();
            if retry {
                return Err(WorkerError::Unauthorized(format!("{what} answered 401")));
            }
        }
        Err(WorkerError::Unauthorized(what.into()))
    }

    /// Sends a small JSON call and maps 409 to [`WorkerError::LeaseLost`].
    fn call<B: Serialize>(
        &self,
        what: &'static str,
        job: Option<&JobId>,
        path: &str,
        body: &B,
    ) -> Result<Response, WorkerError> {
        let url = self.url(path);
        let response = self.send(what, &|http| {
            Ok(http.post(&url).json(body).timeout(CALL_TIMEOUT))
        })?;
        match (response.status(), job) {
            (StatusCode::CONFLICT, Some(job)) => Err(WorkerError::LeaseLost(job.to_string())),
            (s, _) if s.is_success() => Ok(response),
            _ => Err(status_error(what, response)),
        }
    }

    /// Claims the oldest claimable job; `None` when the queue is empty.
    ///
    /// # Errors
    /// Any [`WorkerError`] talking to the gateway.
    pub fn claim(&self, worker_id: &str) -> Result<Option<ClaimedJob>, WorkerError> {
        let body = serde_json::json!({ "worker_id": worker_id });
        let response = self.call("claim", None, "/internal/jobs/claim", &body)?;
        if response.status() == StatusCode::NO_CONTENT {
            return Ok(None);
        }
        response
            .json()
            .map(Some)
            .map_err(|e| WorkerError::Protocol {
                what: "claim",
                detail: e.to_string(),
            })
    }

    /// Opens the job's input as a stream.
    ///
    /// # Errors
    /// [`WorkerError::LeaseLost`] on 404/409 (the job is gone), others.
    pub fn input(&self, job: &JobId) -> Result<Response, WorkerError> {
        let url = self.url(&format!("/internal/jobs/{job}/input"));
        let response = self.send("input", &|http| Ok(http.get(&url)))?;
        match response.status() {
            s if s.is_success() => Ok(response),
            StatusCode::CONFLICT | StatusCode::NOT_FOUND => {
                Err(WorkerError::LeaseLost(job.to_string()))
            }
            _ => Err(status_error("input", response)),
        }
    }

    /// Reports progress and extends the lease.
    ///
    /// # Errors
    /// [`WorkerError::LeaseLost`] on 409.
    pub fn heartbeat(&self, job: &JobId, attempt: u32, progress: u8) -> Result<(), WorkerError> {
        let body = serde_json::json!({ "attempt": attempt, "progress": progress });
        let path = format!("/internal/jobs/{job}/heartbeat");
        self.call("heartbeat", Some(job), &path, &body).map(drop)
    }

    /// Uploads the MP3 for this attempt (idempotent: a retry replaces it).
    ///
    /// # Errors
    /// [`WorkerError::LeaseLost`] on 409, others.
    pub fn put_output(
        &self,
        job: &JobId,
        attempt: u32,
        mp3: &std::path::Path,
    ) -> Result<(), WorkerError> {
        let url = self.url(&format!("/internal/jobs/{job}/output?attempt={attempt}"));
        let response = self.send("output", &|http| {
            let file = File::open(mp3).map_err(|e| WorkerError::io("opening the MP3", e))?;
            Ok(http
                .put(&url)
                .header(reqwest::header::CONTENT_TYPE, "audio/mpeg")
                .body(file))
        })?;
        match response.status() {
            s if s.is_success() => Ok(()),
            StatusCode::CONFLICT => Err(WorkerError::LeaseLost(job.to_string())),
            _ => Err(status_error("output", response)),
        }
    }

    /// Marks the job done.
    ///
    /// # Errors
    /// [`WorkerError::LeaseLost`] on 409 (lease lost or no output stored).
    pub fn complete(
        &self,
        job: &JobId,
        attempt: u32,
        duration_secs: f64,
    ) -> Result<(), WorkerError> {
        let body = serde_json::json!({ "attempt": attempt, "duration_secs": duration_secs });
        let path = format!("/internal/jobs/{job}/complete");
        self.call("complete", Some(job), &path, &body).map(drop)
    }

    /// Reports a failure; returns the job's new status (`queued` when the
    /// gateway will retry it, `failed` when not).
    ///
    /// # Errors
    /// [`WorkerError::LeaseLost`] on 409, others.
    pub fn fail(
        &self,
        job: &JobId,
        attempt: u32,
        reason: &str,
        retryable: bool,
    ) -> Result<String, WorkerError> {
        let body =
            serde_json::json!({ "attempt": attempt, "reason": reason, "retryable": retryable });
        let path = format!("/internal/jobs/{job}/fail");
        let response = self.call("fail", Some(job), &path, &body)?;
        let answer: FailResponse = response.json().map_err(|e| WorkerError::Protocol {
            what: "fail",
            detail: e.to_string(),
        })?;
        Ok(answer.status)
    }

    /// Asks the gateway to delete blobs a crashed process left behind
    /// (`POST /internal/sweep`); returns how many it deleted.
    ///
    /// # Errors
    /// Any [`WorkerError`] talking to the gateway.
    pub fn sweep(&self) -> Result<usize, WorkerError> {
        let response = self.call("sweep", None, "/internal/sweep", &serde_json::json!({}))?;
        let report: SweepResponse = response.json().map_err(|e| WorkerError::Protocol {
            what: "sweep",
            detail: e.to_string(),
        })?;
        Ok(report.orphaned_blobs.len())
    }
}

/// The part of the sweep report the worker logs.
#[derive(Deserialize)]
struct SweepResponse {
    orphaned_blobs: Vec<String>,
}
