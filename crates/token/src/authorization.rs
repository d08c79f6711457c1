//! Parsing the `Authorization` header (RFC 9110 §11.6.2): Bearer and Basic.
//!
//! Both parsers take raw header bytes, as a client sent them, and answer
//! `None` for anything they do not understand; they never panic (a property
//! test feeds them arbitrary bytes).

use base64::{engine::general_purpose::STANDARD, Engine as _};

/// Longest Basic credentials we decode (e-mail + password limits + slack).
const MAX_BASIC_LEN: usize = 4096;

/// The token of `Bearer <token>` (scheme case-insensitive, RFC 6750 §2.1).
///
/// Returns `None` for another scheme, an empty token, or bytes outside the
/// RFC's `b64token` alphabet.
pub fn bearer_token(header: &[u8]) -> Option<&str> {
    let text = std::str::from_utf8(header).ok()?;
    let (scheme, token) = text.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return None;
    }
    let token = token.trim_start_matches(' ');
    let valid = !token.is_empty()
        && token.bytes().all(|b| {
            b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'+' | b'/' | b'=')
        });
    valid.then_some(token)
}

/// The `user-id:password` pair of HTTP Basic (RFC 7617).
#[derive(Clone, PartialEq, Eq)]
pub struct BasicCredentials {
    /// Everything before the first `:` (an e-mail or a client id).
    pub user: String,
    /// Everything after it.
    pub password: String,
}

impl std::fmt::Debug for BasicCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BasicCredentials")
            .field("user", &self.user)
            .finish_non_exhaustive()
    }
}

/// The credentials of `Basic <base64(user:password)>`.
///
/// Returns `None` for another scheme, bad base64, non-UTF-8 text or a
/// missing `:`.
pub fn basic_credentials(header: &[u8]) -> Option<BasicCredentials> {
    if header.len() > MAX_BASIC_LEN {
        return None;
    }
    let text = std::str::from_utf8(header).ok()?;
    let (scheme, encoded) = text.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = STANDARD.decode(encoded.trim()).ok()?;
    let decoded = String::from_utf8(decoded).ok()?;
    let (user, password) = decoded.split_once(':')?;
    Some(BasicCredentials {
        user: user.to_owned(),
        password: password.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_tokens_are_taken_whatever_the_scheme_case() {
        assert_eq!(bearer_token(b"Bearer abc.def-_"), Some("abc.def-_"));
        assert_eq!(bearer_token(b"bearer  abc"), Some("abc"));
        for bad in [
            &b"Basic abc"[..],
            b"Bearer",
            b"Bearer ",
            b"Bearer a b",
            b"\xff\xfe",
        ] {
            assert_eq!(bearer_token(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn basic_credentials_split_at_the_first_colon() {
        // "ann@example.com:pa:ss"
        let header = format!("Basic {}", STANDARD.encode("ann@example.com:pa:ss"));
        let credentials = basic_credentials(header.as_bytes()).unwrap();
        assert_eq!(credentials.user, "ann@example.com");
        assert_eq!(credentials.password, "pa:ss");
        assert!(!format!("{credentials:?}").contains("pa:ss"));
        assert_eq!(basic_credentials(b"Basic !!!"), None);
        assert_eq!(
            basic_credentials(format!("Basic {}", STANDARD.encode("nocolon")).as_bytes()),
            None
        );
    }
}
