//! Failed-login counters in key-value `default`, in fixed windows.
//!
//! Two buckets: one per account (wrong passwords) and one per client
//! address (wrong passwords and unknown e-mails). A full bucket answers 429
//! with `Retry-After` until its window ends, without touching any password
//! hash. Keys hold SHA-256 of the e-mail or address, so no personal data
//! and no client-chosen characters end up in key names.

use clipwave_http::ApiError;
use clipwave_token::token_hash;
use serde::{Deserialize, Serialize};
use spin_sdk::key_value::Store;

use crate::config::Throttling;

/// A counter's stored state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Window {
    /// Unix second the window began (a multiple of the window length).
    pub start: u64,
    /// Failures counted in it.
    pub failures: u64,
}

impl Window {
    /// The failures that still count at `now` (0 once the window moved on).
    pub fn current(stored: Option<Window>, now: u64, window_secs: u64) -> Window {
        let start = now - now % window_secs.max(1);
        match stored {
            Some(window) if window.start == start => window,
            _ => Window { start, failures: 0 },
        }
    }

    /// Seconds until this window ends (at least 1).
    pub fn retry_after(&self, now: u64, window_secs: u64) -> u64 {
        (self.start + window_secs).saturating_sub(now).max(1)
    }
}

/// Which bucket.
#[derive(Debug, Clone, Copy)]
pub enum Bucket<'a> {
    /// Keyed by normalised e-mail.
    Account(&'a str),
    /// Keyed by client IP.
    Address(&'a str),
}

impl Bucket<'_> {
    fn key(&self) -> String {
        match self {
            Self::Account(email) => format!("throttle:account:{}", token_hash(email)),
            Self::Address(ip) => format!("throttle:address:{}", token_hash(ip)),
        }
    }

    fn limit(&self, limits: &Throttling) -> u64 {
        match self {
            Self::Account(_) => limits.per_account,
            Self::Address(_) => limits.per_address,
        }
    }
}

fn unavailable(error: spin_sdk::key_value::Error) -> ApiError {
    eprintln!("auth: key-value: throttle: {error}");
    ApiError::unavailable()
}

fn load(
    store: &Store,
    bucket: Bucket<'_>,
    now: u64,
    limits: &Throttling,
) -> Result<Window, ApiError> {
    let stored = store
        .get(&bucket.key())
        .map_err(unavailable)?
        .and_then(|bytes| serde_json::from_slice(&bytes).ok());
    Ok(Window::current(stored, now, limits.window_secs))
}

/// 429 when `bucket` is full at `now`.
pub fn check(
    store: &Store,
    bucket: Bucket<'_>,
    now: u64,
    limits: &Throttling,
) -> Result<(), ApiError> {
    let window = load(store, bucket, now, limits)?;
    if window.failures >= bucket.limit(limits) {
        return Err(ApiError::too_many_requests(
            window.retry_after(now, limits.window_secs),
        ));
    }
    Ok(())
}

/// Counts one failure in `bucket`.
pub fn record_failure(
    store: &Store,
    bucket: Bucket<'_>,
    now: u64,
    limits: &Throttling,
) -> Result<(), ApiError> {
    let mut window = load(store, bucket, now, limits)?;
    window.failures += 1;
    let bytes = serde_json::to_vec(&window).unwrap_or_default();
    store.set(&bucket.key(), &bytes).map_err(unavailable)
}

/// Forgets an account's failures after a successful login.
pub fn reset(store: &Store, bucket: Bucket<'_>) -> Result<(), ApiError> {
    store.delete(&bucket.key()).map_err(unavailable)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_window_resets_when_the_next_one_begins() {
        let stored = Some(Window {
            start: 300,
            failures: 5,
        });
        assert_eq!(Window::current(stored, 599, 300).failures, 5);
        assert_eq!(
            Window::current(stored, 600, 300),
            Window {
                start: 600,
                failures: 0
            }
        );
    }

    #[test]
    fn retry_after_counts_down_to_the_window_end() {
        let window = Window {
            start: 300,
            failures: 5,
        };
        assert_eq!(window.retry_after(310, 300), 290);
        assert_eq!(window.retry_after(600, 300), 1);
    }
}
