//! [`CliError`] and the exit codes scripts can rely on.
//!
//! | code | meaning |
//! |---|---|
//! | 0 | success |
//! | 1 | anything else (local I/O, unexpected answers) |
//! | 2 | usage error (bad arguments; printed by clap) |
//! | 3 | not signed in, or the session ended: run `clipwave login` |
//! | 4 | not found (no such job, or not yours) |
//! | 5 | conflict: e.g. the job is not finished yet, the account exists |
//! | 6 | the server refused the request (4xx other than the above) |
//! | 7 | the server failed or could not be reached (5xx, network) |
//! | 8 | the conversion failed or was canceled (`upload --wait`) |

use thiserror::Error;

/// Everything that can go wrong, with what the user should know.
#[derive(Debug, Error)]
pub enum CliError {
    /// No stored tokens, or they no longer work.
    #[error("{0}")]
    NotSignedIn(String),
    /// The server answered with an error body.
    #[error("{message} (HTTP {status}, error {code}, request {request_id})")]
    Api {
        /// HTTP status.
        status: u16,
        /// The stable error code.
        code: String,
        /// The server's message.
        message: String,
        /// The request id, for support.
        request_id: String,
    },
    /// The server could not be reached.
    #[error("cannot reach {server}: {source}")]
    Network {
        /// The server URL.
        server: String,
        /// What failed.
        #[source]
        source: reqwest::Error,
    },
    /// The conversion ended without an mp3.
    #[error("{0}")]
    JobFailed(String),
    /// Anything else.
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

impl CliError {
    /// The process exit code for this error.
    pub fn exit_code(&self) -> u8 {
        match self {
            Self::NotSignedIn(_) => 3,
            Self::Api { status, .. } => match status {
                401 => 3,
                404 => 4,
                409 => 5,
                500.. => 7,
                _ => 6,
            },
            Self::Network { .. } => 7,
            Self::JobFailed(_) => 8,
            Self::Other(_) => 1,
        }
    }
}

impl From<std::io::Error> for CliError {
    fn from(error: std::io::Error) -> Self {
        Self::Other(error.into())
    }
}

/// The CLI's result type.
pub type CliResult<T> = Result<T, CliError>;
