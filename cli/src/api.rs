//! The HTTP client: Bearer tokens, one refresh on 401, API errors.
//!
//! On a 401 the client refreshes once with the refresh token and retries
//! the request once (the behaviour the original design describes); if that
//! fails too, the stored session is dropped and the user is told to log in.

use reqwest::blocking::{Client, RequestBuilder, Response};
use serde::Deserialize;
use serde_json::json;

use crate::{
    credentials::{self, Credentials},
    error::{CliError, CliResult},
};

/// What every Clipwave error body looks like.
#[derive(Debug, Deserialize)]
struct ErrorBody {
    error: String,
    message: String,
    request_id: String,
}

/// A token pair from `/login` or `/refresh`.
#[derive(Debug, Deserialize)]
pub struct TokenPair {
    pub access_token: String,
    pub refresh_token: String,
}

/// A client for one server.
pub struct Api {
    server: String,
    http: Client,
    credentials: Option<Credentials>,
}

impl Api {
    /// A client for `server` without a session (login, register).
    pub fn anonymous(server: &str) -> CliResult<Self> {
        let http = Client::builder()
            .timeout(None)
            .connect_timeout(std::time::Duration::from_secs(10))
            .build()
            .map_err(|e| CliError::Other(e.into()))?;
        Ok(Self {
            server: server.trim_end_matches('/').to_string(),
            http,
            credentials: None,
        })
    }

    /// A client for `server` using the stored session.
    pub fn signed_in(server: &str) -> CliResult<Self> {
        let mut api = Self::anonymous(server)?;
        let stored = credentials::load()?.filter(|c| c.server == api.server);
        match stored {
            Some(credentials) => {
                api.credentials = Some(credentials);
                Ok(api)
            }
            None => Err(CliError::NotSignedIn(format!(
                "You are not signed in to {}; run `clipwave login --email <you>` first.",
                api.server
            ))),
        }
    }

    /// The server's base URL.
    pub fn server(&self) -> &str {
        &self.server
    }

    /// `path` on this server.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.server)
    }

    /// The plain client, for unauthenticated calls.
    pub fn http(&self) -> &Client {
        &self.http
    }

    /// Sends an authenticated request built by `build` (called again for the
    /// retry, so a streamed body can be re-opened). Errors become [`CliError`].
    pub fn send(
        &mut self,
        build: impl Fn(&Client) -> CliResult<RequestBuilder>,
    ) -> CliResult<Response> {
        let response = self.send_once(&build)?;
        if response.status() != 401 {
            return check(response);
        }
        if self.refresh()? {
            let retried = self.send_once(&build)?;
            if retried.status() != 401 {
                return check(retried);
            }
        }
        credentials::remove()?;
        Err(CliError::NotSignedIn(
            "Your session has expired or was ended; log in again with `clipwave login`.".into(),
        ))
    }

    fn send_once(
        &self,
        build: &impl Fn(&Client) -> CliResult<RequestBuilder>,
    ) -> CliResult<Response> {
        let token = self
            .credentials
            .as_ref()
            .map(|c| c.access_token.as_str())
            .unwrap_or_default();
        build(&self.http)?
            .bearer_auth(token)
            .send()
            .map_err(|source| self.network(source))
    }

    /// Exchanges the refresh token for a new pair and stores it.
    fn refresh(&mut self) -> CliResult<bool> {
        let Some(credentials) = self.credentials.clone() else {
            return Ok(false);
        };
        let response = self
            .http
            .post(self.url("/refresh"))
            .json(&json!({ "refresh_token": credentials.refresh_token }))
            .send()
            .map_err(|source| self.network(source))?;
        if !response.status().is_success() {
            return Ok(false);
        }
        let pair: TokenPair = response.json().map_err(|e| CliError::Other(e.into()))?;
        let renewed = Credentials {
            access_token: pair.access_token,
            refresh_token: pair.refresh_token,
            ..credentials
        };
        credentials::save(&renewed)?;
        self.credentials = Some(renewed);
        Ok(true)
    }

    /// A network failure talking to this server.
    pub fn network(&self, source: reqwest::Error) -> CliError {
        CliError::Network {
            server: self.server.clone(),
            source,
        }
    }
}

/// Passes a successful response through; turns an error answer into [`CliError::Api`].
pub fn check(response: Response) -> CliResult<Response> {
    let status = response.status();
    if status.is_success() {
        return Ok(response);
    }
    let header_id = response
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("-")
        .to_string();
    let body: Option<ErrorBody> = response.json().ok();
    Err(match body {
        Some(body) => CliError::Api {
            status: status.as_u16(),
            code: body.error,
            message: body.message,
            request_id: body.request_id,
        },
        None => CliError::Api {
            status: status.as_u16(),
            code: "unknown".into(),
            message: format!("the server answered {status}"),
            request_id: header_id,
        },
    })
}
