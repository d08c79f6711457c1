//! The job id as the gateway hands it out, checked once when the claim is
//! parsed: it goes into URL paths and file names, so anything but a short
//! run of letters, digits, `-` and `_` is refused (parse, don't validate).

use std::fmt;

use serde::Deserialize;

/// A job id: 1–64 characters of `[A-Za-z0-9_-]`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Deserialize)]
#[serde(try_from = "String")]
pub struct JobId(String);

impl JobId {
    /// Parses an id.
    ///
    /// # Errors
    /// A message when `raw` is empty, too long or has other characters.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let ok = (1..=64).contains(&raw.len())
            && raw
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if ok {
            Ok(Self(raw.to_string()))
        } else {
            Err(format!("{raw:?} is not a job id"))
        }
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for JobId {
    type Error = String;
    fn try_from(raw: String) -> Result<Self, String> {
        Self::parse(&raw)
    }
}

impl fmt::Display for JobId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::JobId;

    #[test]
    fn ids_that_could_escape_a_path_are_refused() {
        assert!(JobId::parse("6f1c0a2b-99aa-4c1e-8f00-123456789abc").is_ok());
        for bad in ["", "../etc", "a/b", "a?b", "a b", &"x".repeat(65)] {
            assert!(JobId::parse(bad).is_err(), "{bad}");
        }
    }
}
