//! Clipwave's tokens: claims, Ed25519 keys, signing and verification.
//!
//! The auth component issues tokens and the gateway checks them; both use
//! this crate so that they cannot disagree (DESIGN §4). It has no Spin
//! dependency: the components plug their key-value store in through
//! [`SessionStore`], and native tests use a map.
//!
//! The hot path, [`Verifier::check_access`], does no public-key cryptography:
//! it parses the token, checks its claims and reads the session record once.
//! Signatures are verified where they matter ([`Verifier::verify_signed`]):
//! refresh tokens in auth, service tokens, and by anyone outside the app
//! holding the JWKS.
//!
//! # Layout
//! - [`claims`]: [`Claims`], [`TokenType`], [`Role`].
//! - [`keys`]: the private JWK and the JWKS formats, [`generate_key_pair`].
//! - [`compact`]: splitting a JWS and the strict header whitelist.
//! - [`sign`]: signing, [`SigningKey::sign`].
//! - [`verify`]: [`Verifier`] and [`Policy`], the checks.
//! - [`session`]: the `session:<sid>` record and the [`SessionStore`] trait.
//! - [`authorization`]: Bearer and Basic `Authorization` parsers.
//! - [`error`]: [`Rejection`], [`CheckError`] and their HTTP mapping.
//! - `invariants` (feature `invariants`, tests and fuzzing only): what the
//!   property tests and the fuzz target assert on any input.

pub mod authorization;
pub mod claims;
pub mod compact;
pub mod error;
#[cfg(feature = "invariants")]
pub mod invariants;
pub mod keys;
pub mod session;
pub mod sign;
pub mod verify;

pub use authorization::{basic_credentials, bearer_token, BasicCredentials};
pub use claims::{is_sane_id, Claims, Role, TokenType};
pub use error::{CheckError, Rejection, StoreError};
pub use keys::{generate_key_pair, public_jwks, GeneratedKeys, KeyError, KeySet, SigningKey};
pub use session::{session_key, token_hash, AccessEntry, SessionRecord, SessionStore};
pub use sign::SignError;
pub use verify::{check_claims, Policy, Verifier};
