//! JWT parsing and verification (`crates/token`: compact, verify, keys).
//!
//! The first byte picks what the rest is:
//! - 0: a compact token as the client sent it, through every check;
//! - 1: `header\npayload` JSON, signed with the fixture key, so the fuzzer
//!   reaches what lies behind a valid signature (jwt-simple's own parser);
//! - 2: a JWKS / private JWK document for the key parsers;
//! - 3: `header\npayload\nsignature` raw bytes, base64url-encoded unsigned.
#![no_main]

use std::sync::OnceLock;

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};
use clipwave_fuzz::split_line;
use clipwave_token::{
    invariants::{assert_key_document_invariants, assert_token_invariants},
    public_jwks, KeySet, Policy, Verifier,
};
use libfuzzer_sys::fuzz_target;

const NOW: u64 = 1_750_000_000;

struct Fixture {
    pair: ed25519_compact::KeyPair,
    verifier: Verifier,
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let pair = ed25519_compact::KeyPair::from_seed(ed25519_compact::Seed::new([7; 32]));
        let keys = KeySet::from_jwks(&public_jwks(&[("k1", &pair.pk[..])])).expect("fixture JWKS");
        let policy = Policy {
            issuer: "clipwave".into(),
            audience: "clipwave-api".into(),
            leeway_secs: 15,
        };
        Fixture {
            pair,
            verifier: Verifier::new(keys, policy),
        }
    })
}

/// Every check on `token`, asserting the invariants `make test`'s property
/// tests assert too (`clipwave_token::invariants`).
fn check_token(token: &str) {
    assert_token_invariants(&fixture().verifier, token, NOW);
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    match mode % 4 {
        0 => {
            if let Ok(token) = std::str::from_utf8(rest) {
                check_token(token);
            }
        }
        1 => {
            let (header, payload) = split_line(rest);
            let input = format!(
                "{}.{}",
                URL_SAFE_NO_PAD.encode(header),
                URL_SAFE_NO_PAD.encode(payload)
            );
            let signature = fixture().pair.sk.sign(input.as_bytes(), None);
            check_token(&format!(
                "{input}.{}",
                URL_SAFE_NO_PAD.encode(&signature[..])
            ));
        }
        2 => assert_key_document_invariants(&String::from_utf8_lossy(rest)),
        _ => {
            let (header, rest) = split_line(rest);
            let (payload, signature) = split_line(rest);
            let token = [header, payload, signature].map(|part| URL_SAFE_NO_PAD.encode(part));
            check_token(&token.join("."));
        }
    }
});
