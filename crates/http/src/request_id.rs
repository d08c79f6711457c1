//! Request ids: echoed when the client sent a sane one, generated otherwise.

use std::fmt;

use http::HeaderMap;

use crate::REQUEST_ID_HEADER;

/// The id that ties a response, its error body and the logs together.
///
/// A client's own id is kept only when it matches `[A-Za-z0-9._-]{1,64}`
/// (DESIGN §4a), so it can never smuggle header or log syntax.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestId(String);

impl RequestId {
    /// Takes the client's `X-Request-Id` when it is sane, else makes a new one.
    pub fn from_headers(headers: &HeaderMap) -> Self {
        headers
            .get(REQUEST_ID_HEADER)
            .and_then(|value| value.to_str().ok())
            .and_then(Self::parse)
            .unwrap_or_else(Self::generate)
    }

    /// Accepts `[A-Za-z0-9._-]{1,64}`.
    pub fn parse(candidate: &str) -> Option<Self> {
        let sane = (1..=64).contains(&candidate.len())
            && candidate
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
        sane.then(|| Self(candidate.to_owned()))
    }

    /// A fresh random id (UUID v4, simple form).
    pub fn generate() -> Self {
        Self(uuid::Uuid::new_v4().simple().to_string())
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sane_client_id_is_echoed() {
        let mut headers = HeaderMap::new();
        headers.insert(REQUEST_ID_HEADER, "abc.DEF_123-x".parse().unwrap());
        assert_eq!(RequestId::from_headers(&headers).as_str(), "abc.DEF_123-x");
    }

    #[test]
    fn an_insane_client_id_is_replaced() {
        for bad in ["", "has space", "semi;colon", &"x".repeat(65), "ünï"] {
            assert!(RequestId::parse(bad).is_none(), "{bad:?} accepted");
        }
        let mut headers = HeaderMap::new();
        headers.insert(REQUEST_ID_HEADER, "a b".parse().unwrap());
        let id = RequestId::from_headers(&headers);
        assert_eq!(id.as_str().len(), 32);
        assert_ne!(id.as_str(), "a b");
    }

    #[test]
    fn generated_ids_differ() {
        assert_ne!(RequestId::generate(), RequestId::generate());
    }
}
