//! Property tests: whatever a client sends, the parsers answer, never panic.

mod support;

use clipwave_token::{basic_credentials, bearer_token, compact::parse_unverified, TokenType};
use proptest::prelude::*;
use support::*;

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
}
