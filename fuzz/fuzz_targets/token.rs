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
    check_claims, compact::parse_unverified, is_sane_id, public_jwks, token_hash, Claims, KeySet,
    Policy, SessionRecord, SessionStore, SigningKey, StoreError, TokenType, Verifier,
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

/// A session store in which every session belongs to `user-1` and lists
/// exactly the token under test: the checks then run to their end.
struct Listing(String);

impl SessionStore for Listing {
    fn load(&self, _sid: &str) -> Result<Option<SessionRecord>, StoreError> {
        let mut record = SessionRecord::new("user-1", NOW + 604_800);
        record.add_access(self.0.clone(), NOW + 900, NOW, 15);
        Ok(Some(record))
    }
}

fn accepted_claims_hold(claims: &Claims, token: &str, typ: TokenType) {
    let policy = fixture().verifier.policy();
    assert_eq!(check_claims(claims, policy, typ, NOW), Ok(()));
    let parsed = parse_unverified(token).expect("an accepted token parses");
    assert_eq!(&parsed.claims, claims);
}

fn check_token(token: &str) {
    let verifier = &fixture().verifier;
    if let Ok(parsed) = parse_unverified(token) {
        assert!(token.starts_with(parsed.signing_input));
        assert_eq!(parsed.signature.len(), 64);
        assert!(is_sane_id(&parsed.kid));
    }
    let store = Listing(token_hash(token));
    if let Ok(claims) = verifier.check_access(token, &store, NOW) {
        accepted_claims_hold(&claims, token, TokenType::Access);
    }
    if let Ok(claims) = verifier.check_bearer(token, &store, NOW) {
        assert_ne!(claims.typ, TokenType::Refresh);
        accepted_claims_hold(&claims, token, claims.typ);
    }
    for typ in [TokenType::Access, TokenType::Refresh, TokenType::Service] {
        if let Ok(claims) = verifier.verify_signed(token, typ, NOW) {
            accepted_claims_hold(&claims, token, typ);
        }
    }
}

fn check_key_documents(text: &str) {
    if let Ok(keys) = KeySet::from_jwks(text) {
        let again = KeySet::from_jwks(&keys.to_jwks_json()).expect("our own JWKS parses");
        assert_eq!(again.to_jwks_json(), keys.to_jwks_json());
        assert!(!keys.to_jwks_json().contains("\"d\""));
    }
    if let Ok(key) = SigningKey::from_jwk(text) {
        assert!(is_sane_id(key.kid()));
    }
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
        2 => check_key_documents(&String::from_utf8_lossy(rest)),
        _ => {
            let (header, rest) = split_line(rest);
            let (payload, signature) = split_line(rest);
            let token = [header, payload, signature].map(|part| URL_SAFE_NO_PAD.encode(part));
            check_token(&token.join("."));
        }
    }
});
