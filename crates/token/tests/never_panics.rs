//! Property tests: whatever a client sends, the parsers answer, never panic.
//!
//! These are the short, always-on runs of the cargo-fuzz targets in
//! `fuzz/fuzz_targets/{token,authorization}.rs` (docs/fuzzing.md): the same
//! entry points and the same invariants, a few thousand cases each. The
//! token and key-document invariants live in `clipwave_token::invariants`,
//! which both harnesses call.

mod support;

use std::sync::OnceLock;

use clipwave_token::{
    basic_credentials, bearer_token,
    compact::parse_unverified,
    generate_key_pair,
    invariants::{assert_key_document_invariants, assert_token_invariants},
    public_jwks, GeneratedKeys, KeySet, TokenType, Verifier,
};
use jwt_simple::prelude::{Ed25519KeyPair, EdDSAKeyPairLike};
use proptest::prelude::*;
use support::*;

/// A fixed key pair `k1` that signs whatever bytes a case makes, so cases
/// reach the checks behind a valid signature (jwt-simple's own parser).
fn raw_signer() -> &'static (Ed25519KeyPair, Verifier) {
    static SIGNER: OnceLock<(Ed25519KeyPair, Verifier)> = OnceLock::new();
    SIGNER.get_or_init(|| {
        let pair = Ed25519KeyPair::generate();
        let jwks = public_jwks(&[("k1", &pair.public_key().to_bytes())]);
        let verifier = Verifier::new(KeySet::from_jwks(&jwks).unwrap(), policy());
        (pair, verifier)
    })
}

/// A real key pair's documents, so the key parsers also accept some cases.
fn generated_keys() -> &'static GeneratedKeys {
    static KEYS: OnceLock<GeneratedKeys> = OnceLock::new();
    KEYS.get_or_init(|| generate_key_pair("k1"))
}

/// `header.payload.signature` over raw header and payload bytes, validly
/// signed by [`raw_signer`].
fn sign_raw(header: &[u8], payload: &[u8]) -> String {
    let input = format!("{}.{}", b64(header), b64(payload));
    let signature = raw_signer().0.key_pair().as_ref().sk.sign(&input, None);
    format!("{input}.{}", b64(&signature[..]))
}

/// JSON in the shape of a claims set, every field drawn from values that
/// are valid, edge-case or of the wrong type.
fn claims_json() -> impl Strategy<Value = String> {
    let text = prop_oneof![
        Just(serde_json::json!("clipwave")),
        Just(serde_json::json!("clipwave-api")),
        Just(serde_json::json!("user-1")),
        Just(serde_json::json!("sid-1")),
        Just(serde_json::json!("access")),
        Just(serde_json::json!("service")),
        Just(serde_json::json!("user")),
        Just(serde_json::json!(null)),
        Just(serde_json::json!(["clipwave-api"])),
        ".{0,70}".prop_map(serde_json::Value::from),
    ];
    let time = prop_oneof![
        Just(serde_json::json!(NOW)),
        Just(serde_json::json!(NOW + 900)),
        Just(serde_json::json!(u64::MAX)),
        Just(serde_json::json!(-1)),
        Just(serde_json::json!(1e300)),
        Just(serde_json::json!(NOW as f64 + 0.5)),
        any::<u64>().prop_map(serde_json::Value::from),
    ];
    let names = ["iss", "aud", "sub", "email", "role", "typ", "jti", "sid"];
    (
        proptest::collection::vec(text, names.len()),
        proptest::collection::vec(time, 3),
        proptest::collection::vec(any::<bool>(), names.len() + 3),
    )
        .prop_map(move |(texts, times, keep)| {
            let mut claims = serde_json::Map::new();
            let fields = names
                .iter()
                .zip(texts)
                .chain(["iat", "nbf", "exp"].iter().zip(times));
            for ((name, value), keep) in fields.zip(keep) {
                if keep {
                    claims.insert((*name).to_owned(), value);
                }
            }
            serde_json::Value::Object(claims).to_string()
        })
}

/// The JSON of a well-formed claims set of each type, `nbf` and `exp` moved
/// around `NOW` by up to twice the leeway: mostly claims the checks accept,
/// so the invariants on accepted tokens are exercised, and near misses.
fn near_valid_claims_json() -> impl Strategy<Value = String> {
    let shift = -2 * LEEWAY as i64..=2 * LEEWAY as i64;
    (
        prop_oneof![
            Just(TokenType::Access),
            Just(TokenType::Refresh),
            Just(TokenType::Service),
        ],
        shift.clone(),
        shift,
    )
        .prop_map(|(typ, nbf_shift, exp_shift)| {
            let mut claims = claims(typ);
            claims.nbf = NOW.saturating_add_signed(nbf_shift);
            claims.exp = NOW.saturating_add_signed(exp_shift);
            serde_json::to_string(&claims).unwrap()
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn arbitrary_strings_never_panic_the_token_checks(token in ".{0,600}") {
        let (_, verifier) = keys();
        let _ = parse_unverified(&token);
        let _ = verifier.check_access(&token, &MapStore::default(), NOW);
        let _ = verifier.check_bearer(&token, &DownStore, NOW);
        let _ = verifier.verify_signed(&token, TokenType::Refresh, NOW);
    }

    #[test]
    fn arbitrary_base64_parts_never_panic_the_token_checks(
        header in proptest::collection::vec(any::<u8>(), 0..200),
        payload in proptest::collection::vec(any::<u8>(), 0..400),
        signature in proptest::collection::vec(any::<u8>(), 0..80),
    ) {
        let (_, verifier) = keys();
        let token = format!("{}.{}.{}", b64(&header), b64(&payload), b64(&signature));
        let _ = verifier.check_access(&token, &MapStore::default(), NOW);
        let _ = verifier.verify_signed(&token, TokenType::Access, NOW);
    }

    #[test]
    fn json_shaped_tokens_never_panic_the_token_checks(
        alg in prop_oneof![Just("EdDSA".to_owned()), Just("none".to_owned()), Just("HS256".to_owned()), ".{0,8}"],
        kid in ".{0,70}",
        exp in any::<u64>(),
        nbf in any::<u64>(),
        sid in proptest::option::of(".{0,70}"),
    ) {
        let (_, verifier) = keys();
        let header = serde_json::json!({"alg": alg, "kid": kid}).to_string();
        let mut claims = claims(TokenType::Access);
        claims.exp = exp;
        claims.nbf = nbf;
        claims.sid = sid;
        let token = assemble(&header, &claims, &[7; 64]);
        let _ = verifier.check_access(&token, &MapStore::default(), NOW);
        let _ = verifier.verify_signed(&token, TokenType::Access, NOW);
    }

    #[test]
    fn arbitrary_bytes_never_panic_the_authorization_parsers(
        bytes in proptest::collection::vec(any::<u8>(), 0..600),
    ) {
        let _ = bearer_token(&bytes);
        let _ = basic_credentials(&bytes);
        let mut basic = b"Basic ".to_vec();
        basic.extend_from_slice(&bytes);
        let _ = basic_credentials(&basic);
    }

    #[test]
    fn arbitrary_basic_payloads_never_panic_the_basic_parser(text in ".{0,300}") {
        use base64::{engine::general_purpose::STANDARD, Engine as _};
        let header = format!("Basic {}", STANDARD.encode(text.as_bytes()));
        let parsed = basic_credentials(header.as_bytes());
        prop_assert_eq!(parsed.is_some(), text.contains(':'));
    }

    #[test]
    fn validly_signed_arbitrary_headers_and_claims_never_panic_the_checks(
        header in prop_oneof![
            Just(r#"{"alg":"EdDSA","kid":"k1"}"#.to_owned()),
            Just(r#"{"alg":"EdDSA","kid":"k1","typ":"JWT"}"#.to_owned()),
            Just(r#"{"alg":"EdDSA","kid":"k1","kid":"k2"}"#.to_owned()),
            Just(r#"{"alg":"EdDSA","alg":"none","kid":"k1"}"#.to_owned()),
            ".{0,60}",
        ],
        payload in prop_oneof![claims_json(), near_valid_claims_json(), ".{0,200}"],
    ) {
        let token = sign_raw(header.as_bytes(), payload.as_bytes());
        assert_token_invariants(&raw_signer().1, &token, NOW);
    }

    #[test]
    fn validly_signed_arbitrary_bytes_never_panic_the_checks(
        header in proptest::collection::vec(any::<u8>(), 0..120),
        payload in proptest::collection::vec(any::<u8>(), 0..300),
    ) {
        assert_token_invariants(&raw_signer().1, &sign_raw(&header, &payload), NOW);
    }

    #[test]
    fn arbitrary_key_documents_are_errors_not_panics(
        doc in prop_oneof![
            ".{0,300}",
            Just(generated_keys().jwks.clone()),
            Just(generated_keys().private_jwk.clone()),
            (
                prop_oneof![Just("OKP".to_owned()), ".{0,4}"],
                prop_oneof![Just("Ed25519".to_owned()), Just("X25519".to_owned()), ".{0,8}"],
                prop_oneof!["[A-Za-z0-9._-]{1,64}", ".{0,70}"],
                prop_oneof![
                    proptest::collection::vec(any::<u8>(), 32).prop_map(b64),
                    proptest::collection::vec(any::<u8>(), 0..40).prop_map(b64),
                    ".{0,50}",
                ],
                proptest::option::of(proptest::collection::vec(any::<u8>(), 32).prop_map(b64)),
                proptest::option::of(".{0,8}"),
                0..3usize,
            )
                .prop_map(|(kty, crv, kid, x, d, alg, copies)| {
                    let mut jwk = serde_json::json!({"kty": kty, "crv": crv, "kid": kid, "x": x});
                    if let Some(d) = d {
                        jwk["d"] = d.into();
                    }
                    if let Some(alg) = alg {
                        jwk["alg"] = alg.into();
                    }
                    let single = jwk.to_string();
                    let keys = vec![jwk; copies];
                    if copies == 0 { single } else { serde_json::json!({ "keys": keys }).to_string() }
                }),
        ],
    ) {
        assert_key_document_invariants(&doc);
    }

    #[test]
    fn basic_credentials_read_back_what_was_encoded(user in "[^:]{0,100}", password in ".{0,200}") {
        use base64::{engine::general_purpose::STANDARD, Engine as _};
        let header = format!("basic {}", STANDARD.encode(format!("{user}:{password}")));
        let parsed = basic_credentials(header.as_bytes()).unwrap();
        prop_assert_eq!((parsed.user, parsed.password), (user, password));
    }

    #[test]
    fn bearer_tokens_read_back_what_was_sent(token in "[A-Za-z0-9._~+/=-]{1,300}", scheme in "(?i)bearer") {
        let header = format!("{scheme} {token}");
        prop_assert_eq!(bearer_token(header.as_bytes()), Some(token.as_str()));
    }
}
