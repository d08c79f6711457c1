//! Checking tokens: the one-read session check and signature verification.
//!
//! [`Verifier::check_access`] is the hot path of DESIGN §4 and is what the
//! gateway calls on every request. [`Verifier::verify_signed`] is for the
//! rarer cases that must not depend on the session store's hash list:
//! refresh tokens (verified by auth) and service tokens (which belong to no
//! session).

use std::collections::HashSet;

use jwt_simple::prelude::{Duration, EdDSAPublicKeyLike, NoCustomClaims, VerificationOptions};

use crate::{
    claims::is_sane_id,
    compact::{parse_unverified, UnverifiedToken},
    session::token_hash,
    CheckError, Claims, KeySet, Rejection, SessionStore, TokenType,
};

/// What every accepted token must state, from the token variables.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    /// `jwt_issuer`.
    pub issuer: String,
    /// `jwt_audience`.
    pub audience: String,
    /// `clock_leeway_secs`, applied to `exp` and `nbf`.
    pub leeway_secs: u64,
}

/// Checks tokens against a JWKS and a [`Policy`]. Cheap to build per request.
#[derive(Debug, Clone)]
pub struct Verifier {
    keys: KeySet,
    policy: Policy,
}

impl Verifier {
    /// A verifier for tokens signed by `keys` and stating `policy`.
    pub fn new(keys: KeySet, policy: Policy) -> Self {
        Self { keys, policy }
    }

    /// The JWKS this verifier trusts.
    pub fn keys(&self) -> &KeySet {
        &self.keys
    }

    /// The policy this verifier enforces.
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// The one-read check of an access token (DESIGN §4), at Unix time `now`.
    ///
    /// Steps, cheapest first: parse without a signature check (strict header,
    /// `kid` listed in the JWKS) → `iss`, `aud`, `typ=access`, `exp`/`nbf`
    /// with leeway, sane `sid` → one [`SessionStore::load`] of `sid` →
    /// accept only if the record belongs to `sub`, is not revoked and lists
    /// the token's SHA-256. A forgery therefore costs one read at most.
    ///
    /// # Errors
    /// [`CheckError::Rejected`] (401 `invalid_token`) for any failed check;
    /// [`CheckError::Unavailable`] (503) when the store cannot be read.
    pub fn check_access<S: SessionStore + ?Sized>(
        &self,
        token: &str,
        store: &S,
        now: u64,
    ) -> Result<Claims, CheckError> {
        self.check_access_parsed(parse_unverified(token)?, store, now)
    }

    /// [`Verifier::check_access`] for a token the caller has already parsed
    /// with [`parse_unverified`] (to pick a path by its `typ`), so the hot
    /// path decodes it once.
    ///
    /// # Errors
    /// As [`Verifier::check_access`].
    pub fn check_access_parsed<S: SessionStore + ?Sized>(
        &self,
        parsed: UnverifiedToken<'_>,
        store: &S,
        now: u64,
    ) -> Result<Claims, CheckError> {
        let parsed = self.check_parsed(parsed, TokenType::Access, now)?;
        self.check_session(parsed.token, parsed.claims, store)
    }

    /// Checks any Bearer token a route may see: access tokens by the
    /// one-read session check, service tokens by their signature (they have
    /// no session). Refresh tokens are never Bearer credentials and are
    /// rejected. The caller then decides on `typ`/`role` (403 for a valid
    /// token of the wrong kind, DESIGN §4a).
    ///
    /// # Errors
    /// As [`Verifier::check_access`].
    pub fn check_bearer<S: SessionStore + ?Sized>(
        &self,
        token: &str,
        store: &S,
        now: u64,
    ) -> Result<Claims, CheckError> {
        let parsed = parse_unverified(token)?;
        match parsed.claims.typ {
            TokenType::Access => self.check_access_parsed(parsed, store, now),
            TokenType::Service => Ok(self.verify_signed_parsed(parsed, TokenType::Service, now)?),
            TokenType::Refresh => Err(Rejection::Type.into()),
        }
    }

    /// Full offline verification: strict header, `kid` in the JWKS, the
    /// claims as in [`Verifier::check_access`] with `typ == expected`, and
    /// the Ed25519 signature. No store is read; revocation is the caller's.
    ///
    /// # Errors
    /// The [`Rejection`] of the first check that failed.
    pub fn verify_signed(
        &self,
        token: &str,
        expected: TokenType,
        now: u64,
    ) -> Result<Claims, Rejection> {
        self.verify_signed_parsed(parse_unverified(token)?, expected, now)
    }

    /// [`Verifier::verify_signed`] for a token already parsed with
    /// [`parse_unverified`].
    ///
    /// # Errors
    /// As [`Verifier::verify_signed`].
    pub fn verify_signed_parsed(
        &self,
        parsed: UnverifiedToken<'_>,
        expected: TokenType,
        now: u64,
    ) -> Result<Claims, Rejection> {
        let parsed = self.check_parsed(parsed, expected, now)?;
        self.check_signature(parsed, now)
    }

    fn check_parsed<'a>(
        &self,
        parsed: UnverifiedToken<'a>,
        expected: TokenType,
        now: u64,
    ) -> Result<UnverifiedToken<'a>, Rejection> {
        if !self.keys.contains(&parsed.kid) {
            return Err(Rejection::UnknownKey);
        }
        check_claims(&parsed.claims, &self.policy, expected, now)?;
        Ok(parsed)
    }

    fn check_session<S: SessionStore + ?Sized>(
        &self,
        token: &str,
        claims: Claims,
        store: &S,
    ) -> Result<Claims, CheckError> {
        let sid = claims.sid.as_deref().ok_or(Rejection::BadId)?;
        let record = store.load(sid)?.ok_or(Rejection::UnknownSession)?;
        if record.user_id != claims.sub {
            return Err(Rejection::UnknownSession.into());
        }
        if record.revoked {
            return Err(Rejection::Revoked.into());
        }
        if !record.lists(&token_hash(token)) {
            return Err(Rejection::NotListed.into());
        }
        Ok(claims)
    }

    fn check_signature(&self, parsed: UnverifiedToken<'_>, now: u64) -> Result<Claims, Rejection> {
        let key = self.keys.get(&parsed.kid).ok_or(Rejection::UnknownKey)?;
        let options = VerificationOptions {
            required_key_id: Some(parsed.kid.clone()),
            allowed_issuers: Some(HashSet::from([self.policy.issuer.clone()])),
            allowed_audiences: Some(HashSet::from([self.policy.audience.clone()])),
            time_tolerance: Some(Duration::from_secs(self.policy.leeway_secs)),
            artificial_time: Some(Duration::from_secs(now)),
            ..VerificationOptions::default()
        };
        key.verify_token::<NoCustomClaims>(parsed.token, Some(options))
            .map_err(|_| Rejection::Signature)?;
        Ok(parsed.claims)
    }
}

/// The claim checks shared by every path, at Unix time `now`.
///
/// # Errors
/// The [`Rejection`] naming the first claim that does not hold.
pub fn check_claims(
    claims: &Claims,
    policy: &Policy,
    expected: TokenType,
    now: u64,
) -> Result<(), Rejection> {
    if claims.iss != policy.issuer {
        return Err(Rejection::Issuer);
    }
    if claims.aud != policy.audience {
        return Err(Rejection::Audience);
    }
    if claims.typ != expected {
        return Err(Rejection::Type);
    }
    if now >= claims.exp.saturating_add(policy.leeway_secs) {
        return Err(Rejection::Expired);
    }
    if claims.nbf > now.saturating_add(policy.leeway_secs) {
        return Err(Rejection::NotYetValid);
    }
    let session_ok = match (expected, claims.sid.as_deref()) {
        (TokenType::Service, None) => true,
        (TokenType::Access | TokenType::Refresh, Some(sid)) => is_sane_id(sid),
        _ => false,
    };
    if !session_ok || !is_sane_id(&claims.jti) || !is_sane_id(&claims.sub) {
        return Err(Rejection::BadId);
    }
    Ok(())
}
