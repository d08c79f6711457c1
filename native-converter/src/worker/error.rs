//! The worker's error type. What matters to the loop is only whether trying
//! again later can help, so every variant answers [`WorkerError::is_transient`].

use crate::ConvertError;

/// Why a worker step failed.
#[derive(Debug, thiserror::Error)]
pub enum WorkerError {
    /// The gateway could not be reached or the connection broke.
    #[error("talking to the gateway failed: {0}")]
    Http(#[from] reqwest::Error),
    /// The gateway answered with an unexpected status.
    #[error("the gateway answered {status} to {what}: {body}")]
    Status {
        /// What was being done.
        what: &'static str,
        /// The HTTP status.
        status: u16,
        /// The start of the response body (the JSON error).
        body: String,
    },
    /// The gateway refused the worker's credentials.
    #[error("the gateway refused the worker's credentials ({0})")]
    Unauthorized(String),
    /// The gateway sent something the worker cannot read.
    #[error("the gateway sent an unreadable answer to {what}: {detail}")]
    Protocol {
        /// What was being done.
        what: &'static str,
        /// What was wrong.
        detail: String,
    },
    /// The job's lease is gone (expired and re-claimed, or canceled): 409.
    #[error("the lease on job {0} was lost")]
    LeaseLost(String),
    /// The downloaded input does not match the announced size or SHA-256.
    #[error("the input arrived damaged: {0}")]
    InputMismatch(String),
    /// A local file operation failed.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The conversion failed.
    #[error(transparent)]
    Convert(#[from] ConvertError),
    /// The conversion process failed: its own error (as text), or it
    /// crashed, stalled or was killed (see `isolate`).
    #[error("{reason}")]
    Converter {
        /// What went wrong, for the job's `error` field.
        reason: String,
        /// Whether trying again cannot help.
        permanent: bool,
    },
}

impl WorkerError {
    /// Wraps an I/O error with what was being done.
    pub fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        Self::Io {
            context: context.into(),
            source,
        }
    }

    /// Whether the same step may succeed later (network trouble, 5xx, 429,
    /// a damaged transfer, a full disk) as opposed to never (bad input,
    /// refused credentials, a gateway that speaks another protocol).
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Http(_) | Self::InputMismatch(_) | Self::Io { .. } | Self::LeaseLost(_) => true,
            Self::Status { status, .. } => *status >= 500 || *status == 429 || *status == 408,
            Self::Unauthorized(_) | Self::Protocol { .. } => false,
            Self::Convert(e) => !e.is_permanent(),
            Self::Converter { permanent, .. } => !permanent,
        }
    }
}
