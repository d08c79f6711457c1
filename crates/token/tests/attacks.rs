//! The issue's attack matrix, at the crate level: every forged, stale or
//! misused token is refused by the one-read check and by full verification.

mod support;

use clipwave_http::{ApiError, ErrorCode};
use clipwave_token::{
    compact, generate_key_pair, token_hash, CheckError, KeySet, Rejection, SigningKey, TokenType,
    Verifier,
};
use jwt_simple::prelude::{Claims as JwtClaims, Duration, HS256Key, MACLike};
use support::*;

fn rejected(result: Result<clipwave_token::Claims, CheckError>) -> Rejection {
    match result {
        Err(CheckError::Rejected(why)) => why,
        other => panic!("expected a rejection, got {other:?}"),
    }
}

#[test]
fn a_signed_and_listed_access_token_is_accepted_with_one_read() {
    let (signing, verifier) = keys();
    let token = signing.sign(&claims(TokenType::Access)).unwrap();
    let store = MapStore::listing(&[&token]);

    let accepted = verifier.check_access(&token, &store, NOW + 10).unwrap();

    assert_eq!(accepted, claims(TokenType::Access));
    assert_eq!(*store.reads.borrow(), 1);
    assert_eq!(
        verifier
            .verify_signed(&token, TokenType::Access, NOW)
            .unwrap(),
        claims(TokenType::Access)
    );
}

#[test]
fn alg_none_is_rejected_even_when_its_hash_is_listed() {
    let (_, verifier) = keys();
    let forged = assemble(
        r#"{"alg":"none","kid":"k1"}"#,
        &claims(TokenType::Access),
        b"",
    );
    let store = MapStore::listing(&[&forged]);
    let forged_with_sig = assemble(
        r#"{"alg":"none","kid":"k1"}"#,
        &claims(TokenType::Access),
        &[0; 64],
    );

    assert_eq!(
        rejected(verifier.check_access(&forged, &store, NOW)),
        Rejection::Algorithm
    );
    assert_eq!(
        rejected(verifier.check_access(&forged_with_sig, &store, NOW)),
        Rejection::Algorithm
    );
    assert_eq!(*store.reads.borrow(), 0, "refused before any store read");
}

#[test]
fn hs256_signed_with_the_public_key_bytes_is_rejected() {
    let generated = generate_key_pair("k1");
    let verifier = Verifier::new(KeySet::from_jwks(&generated.jwks).unwrap(), policy());
    let jwks: serde_json::Value = serde_json::from_str(&generated.jwks).unwrap();
    let public_x = jwks["keys"][0]["x"].as_str().unwrap().to_owned();
    let key = HS256Key::from_bytes(public_x.as_bytes()).with_key_id("k1");
    let forged = key
        .authenticate(JwtClaims::create(Duration::from_secs(900)).with_issuer("clipwave"))
        .unwrap();

    assert!(verifier
        .verify_signed(&forged, TokenType::Access, NOW)
        .is_err());
    assert!(verifier
        .check_access(&forged, &MapStore::listing(&[&forged]), NOW)
        .is_err());
}

#[test]
fn an_unknown_kid_is_rejected_before_the_store_is_read() {
    let (_, verifier) = keys();
    let other = SigningKey::from_jwk(&generate_key_pair("k2").private_jwk).unwrap();
    let token = other.sign(&claims(TokenType::Access)).unwrap();
    let store = MapStore::listing(&[&token]);

    assert_eq!(
        rejected(verifier.check_access(&token, &store, NOW)),
        Rejection::UnknownKey
    );
    assert_eq!(
        verifier.verify_signed(&token, TokenType::Access, NOW),
        Err(Rejection::UnknownKey)
    );
    assert_eq!(*store.reads.borrow(), 0);
}

#[test]
fn a_kid_with_path_or_sql_characters_is_rejected() {
    let (_, verifier) = keys();
    for kid in [
        "../../../dev/null",
        "k1' OR '1'='1",
        "k1;DROP TABLE auth_users",
        "k1\u{0}",
    ] {
        let header = serde_json::json!({"alg": "EdDSA", "kid": kid}).to_string();
        let forged = assemble(&header, &claims(TokenType::Access), &[0; 64]);
        assert_eq!(
            rejected(verifier.check_access(&forged, &MapStore::default(), NOW)),
            Rejection::UnknownKey,
            "{kid}"
        );
    }
}

#[test]
fn a_tampered_payload_fails_the_signature_and_is_not_listed() {
    let (signing, verifier) = keys();
    let token = signing.sign(&claims(TokenType::Access)).unwrap();
    let store = MapStore::listing(&[&token]);
    let mut admin = claims(TokenType::Access);
    admin.role = clipwave_token::Role::Admin;
    let parts: Vec<&str> = token.split('.').collect();
    let tampered = format!(
        "{}.{}.{}",
        parts[0],
        b64(serde_json::to_vec(&admin).unwrap()),
        parts[2]
    );

    assert_eq!(
        verifier.verify_signed(&tampered, TokenType::Access, NOW),
        Err(Rejection::Signature)
    );
    assert_eq!(
        rejected(verifier.check_access(&tampered, &store, NOW)),
        Rejection::NotListed
    );
}

#[test]
fn an_expired_token_is_rejected_once_the_leeway_has_passed() {
    let (signing, verifier) = keys();
    let token = signing.sign(&claims(TokenType::Access)).unwrap();
    let store = MapStore::listing(&[&token]);
    let exp = NOW + 900;

    assert!(verifier
        .check_access(&token, &store, exp + LEEWAY - 1)
        .is_ok());
    assert_eq!(
        rejected(verifier.check_access(&token, &store, exp + LEEWAY)),
        Rejection::Expired
    );
    assert_eq!(
        verifier.verify_signed(&token, TokenType::Access, exp + 3600),
        Err(Rejection::Expired)
    );
}

#[test]
fn a_not_before_in_the_future_beyond_the_leeway_is_rejected() {
    let (signing, verifier) = keys();
    let mut future = claims(TokenType::Access);
    future.nbf = NOW + 60;
    let token = signing.sign(&future).unwrap();
    let store = MapStore::listing(&[&token]);

    assert_eq!(
        rejected(verifier.check_access(&token, &store, NOW)),
        Rejection::NotYetValid
    );
    assert!(verifier
        .check_access(&token, &store, NOW + 60 - LEEWAY)
        .is_ok());
}

#[test]
fn a_wrong_issuer_or_audience_is_rejected() {
    let (signing, verifier) = keys();
    let mut wrong_iss = claims(TokenType::Access);
    wrong_iss.iss = "evil".into();
    let mut wrong_aud = claims(TokenType::Access);
    wrong_aud.aud = "other-api".into();
    let iss_token = signing.sign(&wrong_iss).unwrap();
    let aud_token = signing.sign(&wrong_aud).unwrap();
    let store = MapStore::listing(&[&iss_token, &aud_token]);

    assert_eq!(
        rejected(verifier.check_access(&iss_token, &store, NOW)),
        Rejection::Issuer
    );
    assert_eq!(
        rejected(verifier.check_access(&aud_token, &store, NOW)),
        Rejection::Audience
    );
    assert_eq!(
        verifier.verify_signed(&aud_token, TokenType::Access, NOW),
        Err(Rejection::Audience)
    );
}

#[test]
fn a_refresh_token_is_never_accepted_as_an_access_token() {
    let (signing, verifier) = keys();
    let refresh = signing.sign(&claims(TokenType::Refresh)).unwrap();
    let store = MapStore::listing(&[&refresh]);

    assert_eq!(
        rejected(verifier.check_access(&refresh, &store, NOW)),
        Rejection::Type
    );
    assert_eq!(
        rejected(verifier.check_bearer(&refresh, &store, NOW)),
        Rejection::Type
    );
    assert!(verifier
        .verify_signed(&refresh, TokenType::Refresh, NOW)
        .is_ok());
}

#[test]
fn a_service_token_is_not_a_user_access_token_but_is_a_valid_bearer() {
    let (signing, verifier) = keys();
    let service = signing.sign(&claims(TokenType::Service)).unwrap();
    let store = MapStore::default();

    assert_eq!(
        rejected(verifier.check_access(&service, &store, NOW)),
        Rejection::Type
    );
    let bearer = verifier.check_bearer(&service, &store, NOW).unwrap();
    assert_eq!(
        bearer.typ,
        TokenType::Service,
        "the caller answers 403 for it"
    );
    assert_eq!(
        *store.reads.borrow(),
        0,
        "service tokens need no session read"
    );
}

#[test]
fn a_token_signed_by_a_key_no_longer_in_the_jwks_is_rejected() {
    let old = generate_key_pair("old");
    let new = generate_key_pair("new");
    let old_signing = SigningKey::from_jwk(&old.private_jwk).unwrap();
    let token = old_signing.sign(&claims(TokenType::Access)).unwrap();
    let store = MapStore::listing(&[&token]);
    let during = Verifier::new(
        KeySet::from_jwks(&merged_jwks(&[&old.jwks, &new.jwks])).unwrap(),
        policy(),
    );
    let after = Verifier::new(KeySet::from_jwks(&new.jwks).unwrap(), policy());

    assert!(
        during.check_access(&token, &store, NOW).is_ok(),
        "rotation keeps old keys listed"
    );
    assert!(during.verify_signed(&token, TokenType::Access, NOW).is_ok());
    assert_eq!(
        rejected(after.check_access(&token, &store, NOW)),
        Rejection::UnknownKey
    );
    assert_eq!(
        after.verify_signed(&token, TokenType::Access, NOW),
        Err(Rejection::UnknownKey)
    );
}

#[test]
fn a_revoked_or_foreign_or_missing_session_rejects_the_token() {
    let (signing, verifier) = keys();
    let token = signing.sign(&claims(TokenType::Access)).unwrap();
    let store = MapStore::listing(&[&token]);
    store
        .records
        .borrow_mut()
        .get_mut("sid-1")
        .unwrap()
        .revoke();
    assert_eq!(
        rejected(verifier.check_access(&token, &store, NOW)),
        Rejection::Revoked
    );

    let foreign = MapStore::listing(&[&token]);
    foreign
        .records
        .borrow_mut()
        .get_mut("sid-1")
        .unwrap()
        .user_id = "user-2".into();
    assert_eq!(
        rejected(verifier.check_access(&token, &foreign, NOW)),
        Rejection::UnknownSession
    );

    let empty = MapStore::default();
    assert_eq!(
        rejected(verifier.check_access(&token, &empty, NOW)),
        Rejection::UnknownSession
    );
}

#[test]
fn an_unreachable_store_fails_closed_with_503() {
    let (signing, verifier) = keys();
    let token = signing.sign(&claims(TokenType::Access)).unwrap();

    let error = verifier.check_access(&token, &DownStore, NOW).unwrap_err();

    assert!(matches!(error, CheckError::Unavailable(_)));
    assert_eq!(ApiError::from(error).code(), ErrorCode::Unavailable);
    let invalid = ApiError::from(CheckError::Rejected(Rejection::NotListed));
    assert_eq!(invalid.code(), ErrorCode::InvalidToken);
}

#[test]
fn an_unlisted_but_validly_signed_token_costs_one_read_and_is_rejected() {
    let (signing, verifier) = keys();
    let token = signing.sign(&claims(TokenType::Access)).unwrap();
    let store = MapStore::listing(&[]);

    assert_eq!(
        rejected(verifier.check_access(&token, &store, NOW)),
        Rejection::NotListed
    );
    assert_eq!(*store.reads.borrow(), 1);
    assert_ne!(token_hash(&token), token_hash(&format!("{token}x")));
}

#[test]
fn a_token_parsed_once_by_the_caller_gets_the_same_checks() {
    let (signing, verifier) = keys();
    let listed = signing.sign(&claims(TokenType::Access)).unwrap();
    let unlisted = signing.sign(&claims(TokenType::Access)).unwrap();
    let service = signing.sign(&claims(TokenType::Service)).unwrap();
    let store = MapStore::listing(&[&listed]);
    let parsed = |token| compact::parse_unverified(token).unwrap();

    let accepted = verifier.check_access_parsed(parsed(&listed), &store, NOW);
    let not_listed = verifier.check_access_parsed(parsed(&unlisted), &store, NOW);
    let wrong_type = verifier.check_access_parsed(parsed(&service), &store, NOW);
    let signed = verifier.verify_signed_parsed(parsed(&service), TokenType::Service, NOW);

    assert_ne!(listed, unlisted);
    assert_eq!(accepted.unwrap(), claims(TokenType::Access));
    assert_eq!(rejected(not_listed), Rejection::NotListed);
    assert_eq!(rejected(wrong_type), Rejection::Type);
    assert_eq!(*store.reads.borrow(), 2, "one read per access check");
    assert_eq!(signed.unwrap(), claims(TokenType::Service));
}

fn merged_jwks(documents: &[&str]) -> String {
    let keys: Vec<serde_json::Value> = documents
        .iter()
        .flat_map(|doc| {
            let value: serde_json::Value = serde_json::from_str(doc).unwrap();
            value["keys"].as_array().unwrap().clone()
        })
        .collect();
    serde_json::json!({ "keys": keys }).to_string()
}
