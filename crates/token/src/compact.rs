//! Reading a compact JWS without trusting it: split, decode, check the header.
//!
//! Everything here runs before any store read or signature check, so it is
//! written to refuse early and cheaply: length limits first, then a header
//! whitelist (`alg` must be exactly `EdDSA`, `kid` must be an id, `typ` may
//! only be `JWT`, nothing else is allowed, so `jwk`, `jku`, `x5u`, `x5c` and
//! `crit` never get a chance to matter).

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};
use serde_json::{Map, Value};

use crate::{claims::is_sane_id, Claims, Rejection};

/// Longest token we will look at; ours are about 600 bytes.
pub const MAX_TOKEN_LEN: usize = 4096;

const ED25519_SIGNATURE_LEN: usize = 64;

/// A token whose header passed the whitelist and whose claims parsed.
/// Nothing in it is authenticated yet.
#[derive(Debug, Clone)]
pub struct UnverifiedToken<'a> {
    /// The whole compact token (what the session record's hash covers).
    pub token: &'a str,
    /// The header's `kid` (a sane id, not yet looked up).
    pub kid: String,
    /// The claims as the token states them.
    pub claims: Claims,
    /// `header.payload`, the bytes the signature covers.
    pub signing_input: &'a str,
    /// The decoded signature (64 bytes).
    pub signature: Vec<u8>,
}

/// Splits and decodes `token`, checking the header and the claims' shape.
///
/// # Errors
/// [`Rejection::Malformed`], [`Rejection::Algorithm`], [`Rejection::Header`]
/// or [`Rejection::UnknownKey`] (for a missing or insane `kid`).
pub fn parse_unverified(token: &str) -> Result<UnverifiedToken<'_>, Rejection> {
    if token.is_empty() || token.len() > MAX_TOKEN_LEN {
        return Err(Rejection::Malformed);
    }
    let mut parts = token.split('.');
    let (Some(header_b64), Some(payload_b64), Some(signature_b64), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(Rejection::Malformed);
    };
    let kid = check_header(&decode(header_b64)?)?;
    let claims: Claims =
        serde_json::from_slice(&decode(payload_b64)?).map_err(|_| Rejection::Malformed)?;
    let signature = decode(signature_b64)?;
    if signature.len() != ED25519_SIGNATURE_LEN {
        return Err(Rejection::Malformed);
    }
    let signing_input = &token[..header_b64.len() + 1 + payload_b64.len()];
    Ok(UnverifiedToken {
        token,
        kid,
        claims,
        signing_input,
        signature,
    })
}

fn decode(part: &str) -> Result<Vec<u8>, Rejection> {
    URL_SAFE_NO_PAD
        .decode(part)
        .map_err(|_| Rejection::Malformed)
}

/// Applies the header whitelist and returns the `kid`.
fn check_header(bytes: &[u8]) -> Result<String, Rejection> {
    let header: Map<String, Value> =
        serde_json::from_slice(bytes).map_err(|_| Rejection::Malformed)?;
    if header.get("alg").and_then(Value::as_str) != Some("EdDSA") {
        return Err(Rejection::Algorithm);
    }
    for (name, value) in &header {
        let allowed = match name.as_str() {
            "alg" | "kid" => true,
            "typ" => value
                .as_str()
                .is_some_and(|t| t.eq_ignore_ascii_case("JWT")),
            _ => false,
        };
        if !allowed {
            return Err(Rejection::Header);
        }
    }
    match header.get("kid").and_then(Value::as_str) {
        Some(kid) if is_sane_id(kid) => Ok(kid.to_owned()),
        _ => Err(Rejection::UnknownKey),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b64(json: &str) -> String {
        URL_SAFE_NO_PAD.encode(json)
    }

    fn header_only(header: &str) -> Result<String, Rejection> {
        check_header(header.as_bytes())
    }

    #[test]
    fn only_eddsa_with_a_sane_kid_passes_the_header_whitelist() {
        assert_eq!(
            header_only(r#"{"alg":"EdDSA","kid":"k1","typ":"JWT"}"#),
            Ok("k1".into())
        );
        for (header, why) in [
            (r#"{"alg":"none","kid":"k1"}"#, Rejection::Algorithm),
            (r#"{"alg":"HS256","kid":"k1"}"#, Rejection::Algorithm),
            (r#"{"alg":"Ed25519","kid":"k1"}"#, Rejection::Algorithm),
            (r#"{"kid":"k1"}"#, Rejection::Algorithm),
            (
                r#"{"alg":"EdDSA","kid":"k1","jku":"http://x"}"#,
                Rejection::Header,
            ),
            (r#"{"alg":"EdDSA","kid":"k1","jwk":{}}"#, Rejection::Header),
            (
                r#"{"alg":"EdDSA","kid":"k1","x5u":"http://x"}"#,
                Rejection::Header,
            ),
            (
                r#"{"alg":"EdDSA","kid":"k1","crit":["b64"]}"#,
                Rejection::Header,
            ),
            (
                r#"{"alg":"EdDSA","kid":"k1","typ":"at+jwt+x"}"#,
                Rejection::Header,
            ),
            (r#"{"alg":"EdDSA"}"#, Rejection::UnknownKey),
            (
                r#"{"alg":"EdDSA","kid":"../../etc/passwd"}"#,
                Rejection::UnknownKey,
            ),
            (
                r#"{"alg":"EdDSA","kid":"x' OR '1'='1"}"#,
                Rejection::UnknownKey,
            ),
            (r#"{"alg":"EdDSA","kid":7}"#, Rejection::UnknownKey),
        ] {
            assert_eq!(header_only(header), Err(why), "{header}");
        }
    }

    #[test]
    fn tokens_without_three_parts_or_with_padding_are_malformed() {
        let header = b64(r#"{"alg":"EdDSA","kid":"k1"}"#);
        for token in [
            String::new(),
            "a.b".into(),
            "a.b.c.d".into(),
            format!("{header}.e30=.AA"),
            "x".repeat(MAX_TOKEN_LEN + 1),
        ] {
            assert!(parse_unverified(&token).is_err(), "{token}");
        }
    }
}
