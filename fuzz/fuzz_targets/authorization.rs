//! `Authorization` header parsing (`crates/token/src/authorization.rs`):
//! arbitrary bytes through both parsers, and `user\npassword` round trips.
#![no_main]

use base64::{engine::general_purpose::STANDARD, Engine as _};
use clipwave_fuzz::split_line;
use clipwave_token::{basic_credentials, bearer_token};
use libfuzzer_sys::fuzz_target;

fn is_b64token(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~' | b'+' | b'/' | b'=')
}

fuzz_target!(|data: &[u8]| {
    if let Some(token) = bearer_token(data) {
        assert!(!token.is_empty() && token.bytes().all(is_b64token));
        let text = std::str::from_utf8(data).expect("a token comes from UTF-8");
        assert!(text.trim().to_ascii_lowercase().starts_with("bearer "));
        assert!(text.trim_end().ends_with(token));
    }
    if let Some(credentials) = basic_credentials(data) {
        assert!(!credentials.user.contains(':'));
        assert!(data.len() <= 4096);
    }

    // Whatever the user and password, what we encode we read back.
    let (user, password) = split_line(data);
    let user = String::from_utf8_lossy(user).replace(':', "");
    let password = String::from_utf8_lossy(password).into_owned();
    let header = format!("bAsIc  {}", STANDARD.encode(format!("{user}:{password}")));
    let parsed = basic_credentials(header.as_bytes());
    if header.len() <= 4096 {
        let parsed = parsed.expect("well-formed Basic credentials parse");
        assert_eq!((parsed.user, parsed.password), (user, password));
    } else {
        assert!(parsed.is_none());
    }
    let token: String = data
        .iter()
        .filter(|b| is_b64token(**b))
        .map(|b| char::from(*b))
        .collect();
    if !token.is_empty() {
        assert_eq!(
            bearer_token(format!("Bearer {token}").as_bytes()),
            Some(&*token)
        );
    }
});
