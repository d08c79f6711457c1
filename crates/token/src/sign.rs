//! Signing: a [`Claims`] value becomes a compact EdDSA JWS with our `kid`.

use jwt_simple::prelude::{Audiences, Duration, EdDSAKeyPairLike, JWTClaims};
use serde::Serialize;

use crate::{Claims, Role, SigningKey, TokenType};

/// Signing failed; with well-formed claims this does not happen.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("token signing failed")]
pub struct SignError;

/// The claims jwt-simple does not model itself.
#[derive(Serialize)]
struct Extra<'a> {
    email: &'a str,
    role: Role,
    typ: TokenType,
    #[serde(skip_serializing_if = "Option::is_none")]
    sid: Option<&'a str>,
}

impl SigningKey {
    /// Signs `claims` as-is (times are the caller's) with header
    /// `{"alg":"EdDSA","typ":"JWT","kid":<this key's kid>}`.
    ///
    /// # Errors
    /// [`SignError`] if serialisation fails.
    pub fn sign(&self, claims: &Claims) -> Result<String, SignError> {
        let jwt = JWTClaims {
            issued_at: Some(Duration::from_secs(claims.iat)),
            expires_at: Some(Duration::from_secs(claims.exp)),
            invalid_before: Some(Duration::from_secs(claims.nbf)),
            issuer: Some(claims.iss.clone()),
            subject: Some(claims.sub.clone()),
            audiences: Some(Audiences::AsString(claims.aud.clone())),
            jwt_id: Some(claims.jti.clone()),
            nonce: None,
            custom: Extra {
                email: &claims.email,
                role: claims.role,
                typ: claims.typ,
                sid: claims.sid.as_deref(),
            },
        };
        self.pair().sign(jwt).map_err(|_| SignError)
    }
}
