//! Clipwave's ids, parsed once at the edge.
//!
//! The gateway hands job ids out and the worker puts them into URL paths
//! and file names; both use this one type, so an id that one side would
//! refuse can never be accepted by the other.

use std::fmt;

use serde::Deserialize;

/// A job's id: 32 lower-case hex digits (a UUID v4 in its simple form).
///
/// Anything else is not an id of ours: the gateway answers 404 for it
/// exactly as for an unknown id (DESIGN §4a), and a malformed id never
/// reaches SQL, a key-value key, a URL or a file name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Deserialize)]
#[serde(try_from = "String")]
pub struct JobId(String);

impl JobId {
    /// A fresh random id (UUID v4: 122 random bits).
    pub fn generate() -> Self {
        Self(uuid::Uuid::new_v4().simple().to_string())
    }

    /// Accepts exactly 32 lower-case hex digits; `None` for anything else.
    pub fn parse(text: &str) -> Option<Self> {
        let valid =
            text.len() == 32 && text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
        valid.then(|| Self(text.to_owned()))
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for JobId {
    type Error = String;

    fn try_from(text: String) -> Result<Self, String> {
        Self::parse(&text).ok_or_else(|| format!("{text:?} is not a job id"))
    }
}

impl fmt::Display for JobId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_ids_parse_back_and_differ() {
        let a = JobId::generate();
        let b = JobId::generate();
        assert_ne!(a, b);
        assert_eq!(JobId::parse(a.as_str()), Some(a));
    }

    #[test]
    fn anything_but_32_lowercase_hex_digits_is_rejected() {
        for bad in [
            "",
            "abc",
            "6F1C0000000000000000000000000000",
            "6f1c000000000000000000000000000g",
            "6f1c0000-0000-0000-0000-000000000000",
            "6f1c00000000000000000000000000000",
            "../../etc/passwd",
            "a/b",
            "6f1c000000000000000000000000000'",
        ] {
            assert_eq!(JobId::parse(bad), None, "{bad:?}");
            assert!(JobId::try_from(bad.to_string()).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn ids_deserialize_only_when_valid() {
        let ok: Result<JobId, _> = serde_json_like("6f1c0a2b99aa4c1e8f00123456789abc");
        assert!(ok.is_ok());
        assert!(serde_json_like("job0001").is_err());
    }

    /// Deserialises a string through serde's value deserializer.
    fn serde_json_like(text: &str) -> Result<JobId, serde::de::value::Error> {
        use serde::de::{value::StrDeserializer, IntoDeserializer};
        let deserializer: StrDeserializer<'_, serde::de::value::Error> = text.into_deserializer();
        JobId::deserialize(deserializer)
    }
}
