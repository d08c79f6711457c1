//! The invariants hostile-input harnesses assert on this crate (feature
//! `invariants`).
//!
//! The property tests in `crates/token/tests/never_panics.rs` (`make test`)
//! and the cargo-fuzz target `fuzz/fuzz_targets/token.rs` (`make fuzz`) feed
//! the same entry points with inputs made in different ways; this module is
//! the one place that says which checks run on such an input and what must
//! hold for whatever they accept, so the two harnesses cannot drift apart
//! (docs/fuzzing.md). Each function panics when an invariant breaks: that is
//! how proptest and libFuzzer both see a failure.
//!
//! Only tests and the fuzz crate enable the feature; the components'
//! builds do not compile this module.

use crate::{
    check_claims, compact::parse_unverified, is_sane_id, token_hash, Claims, KeySet, SessionRecord,
    SessionStore, SigningKey, StoreError, TokenType, Verifier,
};

/// Runs every check on `token` at Unix time `now`, against `verifier` and a
/// [`ListingStore`] that lists `token`, so nothing stops short of the last
/// check, and asserts for each check that accepts it:
///
/// - what [`parse_unverified`] reads: the signing input is a prefix of the
///   token, the signature is 64 bytes and the `kid` is a sane id;
/// - [`Verifier::check_access`], [`Verifier::check_bearer`] and
///   [`Verifier::verify_signed`] (for each [`TokenType`]): the accepted
///   claims pass [`check_claims`] for the type accepted and equal what
///   [`parse_unverified`] reads;
/// - a refresh token never passes as Bearer.
pub fn assert_token_invariants(verifier: &Verifier, token: &str, now: u64) {
    if let Ok(parsed) = parse_unverified(token) {
        assert!(token.starts_with(parsed.signing_input));
        assert_eq!(parsed.signature.len(), 64);
        assert!(is_sane_id(&parsed.kid));
    }
    let store = ListingStore::new(token, now, verifier.policy().leeway_secs);
    if let Ok(claims) = verifier.check_access(token, &store, now) {
        assert_accepted_claims_hold(verifier, &claims, token, TokenType::Access, now);
    }
    if let Ok(claims) = verifier.check_bearer(token, &store, now) {
        assert_ne!(
            claims.typ,
            TokenType::Refresh,
            "a refresh token passed as Bearer"
        );
        assert_accepted_claims_hold(verifier, &claims, token, claims.typ, now);
    }
    for typ in [TokenType::Access, TokenType::Refresh, TokenType::Service] {
        if let Ok(claims) = verifier.verify_signed(token, typ, now) {
            assert_accepted_claims_hold(verifier, &claims, token, typ, now);
        }
    }
}

/// What a token accepted as `typ` must satisfy, whichever check accepted it.
fn assert_accepted_claims_hold(
    verifier: &Verifier,
    claims: &Claims,
    token: &str,
    typ: TokenType,
    now: u64,
) {
    assert_eq!(check_claims(claims, verifier.policy(), typ, now), Ok(()));
    let parsed = parse_unverified(token).expect("an accepted token parses");
    assert_eq!(&parsed.claims, claims);
}

/// Parses `text` as a JWKS and as a private JWK and asserts: a JWKS we accept
/// writes back as JSON that parses to the same set and never holds a private
/// `d`; a private key we accept has a sane `kid`.
pub fn assert_key_document_invariants(text: &str) {
    if let Ok(keys) = KeySet::from_jwks(text) {
        let written = keys.to_jwks_json();
        let again = KeySet::from_jwks(&written).expect("our own JWKS parses");
        assert_eq!(again.to_jwks_json(), written);
        assert!(!written.contains("\"d\""), "our JWKS holds a private key");
    }
    if let Ok(key) = SigningKey::from_jwk(text) {
        assert!(is_sane_id(key.kid()));
    }
}

/// A session store in which every session is live, belongs to `user-1` and
/// lists exactly one token: the one under test.
pub struct ListingStore {
    record: SessionRecord,
}

impl ListingStore {
    /// Sessions listing `token` (unexpired at `now`, a week to live), as
    /// auth would have recorded it with `leeway_secs`.
    pub fn new(token: &str, now: u64, leeway_secs: u64) -> Self {
        let mut record = SessionRecord::new("user-1", now.saturating_add(604_800));
        record.add_access(token_hash(token), now.saturating_add(900), now, leeway_secs);
        Self { record }
    }
}

impl SessionStore for ListingStore {
    fn load(&self, _sid: &str) -> Result<Option<SessionRecord>, StoreError> {
        Ok(Some(self.record.clone()))
    }
}
