//! The session record in key-value `default` under `session:<sid>`.
//!
//! One record per login (the refresh-token family). It holds what the hot
//! path needs and nothing more: the owner, a revoked flag, and the SHA-256 of
//! each unexpired access token issued in the session. Reading it once answers
//! "is this access token still good?" without public-key cryptography.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::StoreError;

/// The key of a session's record in key-value `default`.
pub fn session_key(sid: &str) -> String {
    format!("session:{sid}")
}

/// Lower-case hex SHA-256 of the whole compact token, as listed in records.
pub fn token_hash(token: &str) -> String {
    let digest = Sha256::digest(token.as_bytes());
    let mut hex = String::with_capacity(64);
    for byte in digest {
        hex.push(char::from(b"0123456789abcdef"[usize::from(byte >> 4)]));
        hex.push(char::from(b"0123456789abcdef"[usize::from(byte & 0x0f)]));
    }
    hex
}

/// One issued access token of a session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessEntry {
    /// [`token_hash`] of the token.
    pub hash: String,
    /// The token's `exp`; the entry is pruned once that (plus leeway) passed.
    pub exp: u64,
}

/// What key-value holds for a session (JSON).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionRecord {
    /// The user the session belongs to (the tokens' `sub`).
    pub user_id: String,
    /// Set by logout, logout-all, password change, user deletion or refresh
    /// reuse; never cleared.
    pub revoked: bool,
    /// Unix time after which no token of the session can be valid (the last
    /// refresh token's `exp` plus leeway): the record may be deleted then.
    pub expires_at: u64,
    /// The session's unexpired access tokens.
    pub access: Vec<AccessEntry>,
}

impl SessionRecord {
    /// A live session of `user_id` with no access token yet.
    pub fn new(user_id: impl Into<String>, expires_at: u64) -> Self {
        Self {
            user_id: user_id.into(),
            revoked: false,
            expires_at,
            access: Vec::new(),
        }
    }

    /// Lists an issued access token, dropping entries expired at `now`
    /// (beyond `leeway_secs`, so nothing still acceptable is dropped).
    pub fn add_access(&mut self, hash: String, exp: u64, now: u64, leeway_secs: u64) {
        self.access
            .retain(|entry| entry.exp.saturating_add(leeway_secs) > now);
        self.access.push(AccessEntry { hash, exp });
    }

    /// True when `hash` is one of the session's access tokens.
    pub fn lists(&self, hash: &str) -> bool {
        self.access.iter().any(|entry| entry.hash == hash)
    }

    /// Marks the session revoked and forgets its access tokens.
    pub fn revoke(&mut self) {
        self.revoked = true;
        self.access.clear();
    }

    /// The record as stored.
    pub fn to_bytes(&self) -> Vec<u8> {
        serde_json::to_vec(self).unwrap_or_default()
    }

    /// Reads a stored record.
    ///
    /// # Errors
    /// A [`StoreError`] when the bytes are not a record: only our own code
    /// writes these keys, so that is a broken store, and checks fail closed.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, StoreError> {
        serde_json::from_slice(bytes)
            .map_err(|e| StoreError::new(format!("bad session record: {e}")))
    }
}

/// Where session records are read from: key-value in the components, a map
/// in tests. The check makes exactly one call per token.
pub trait SessionStore {
    /// The record of session `sid` (already checked to be a sane id), or
    /// `None` when there is none.
    ///
    /// # Errors
    /// [`StoreError`] when the store cannot be read; the check then fails
    /// closed (503).
    fn load(&self, sid: &str) -> Result<Option<SessionRecord>, StoreError>;
}

impl<S: SessionStore + ?Sized> SessionStore for &S {
    fn load(&self, sid: &str) -> Result<Option<SessionRecord>, StoreError> {
        (**self).load(sid)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_hash_is_lowercase_hex_sha256() {
        assert_eq!(
            token_hash("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn adding_an_access_token_prunes_only_expired_entries() {
        let mut record = SessionRecord::new("u1", 1000);
        record.add_access("old".into(), 100, 100, 15);
        record.add_access("new".into(), 500, 120, 15);
        assert!(!record.lists("old"));
        assert!(record.lists("new"));
        record.add_access("newer".into(), 600, 510, 15);
        assert!(record.lists("new"), "still within leeway");
    }

    #[test]
    fn revoking_forgets_every_access_token() {
        let mut record = SessionRecord::new("u1", 1000);
        record.add_access("a".into(), 500, 0, 15);
        record.revoke();
        assert!(record.revoked && !record.lists("a"));
        let back = SessionRecord::from_bytes(&record.to_bytes()).unwrap();
        assert_eq!(back, record);
    }
}
