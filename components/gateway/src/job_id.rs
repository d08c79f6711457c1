//! [`JobId`]: random 128-bit job ids, parsed once at the edge.
//!
//! Ids are 32 lower-case hex digits (a UUID v4 in its simple form). Anything
//! else in a path is not an id of ours, so routes answer 404 for it exactly
//! as for an unknown id (DESIGN §4a) and a malformed id never reaches SQL or
//! a key-value key.

use std::fmt;

/// A job's id: 32 lower-case hex digits.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
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
            "6f1c000000000000000000000000000'",
        ] {
            assert_eq!(JobId::parse(bad), None, "{bad:?}");
        }
    }
}
