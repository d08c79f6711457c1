//! Fixtures shared by the token crate's integration tests.
#![allow(dead_code)]

use std::{cell::RefCell, collections::HashMap};

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};
use clipwave_token::{
    generate_key_pair, token_hash, Claims, KeySet, Policy, Role, SessionRecord, SessionStore,
    SigningKey, StoreError, TokenType, Verifier,
};

pub const NOW: u64 = 1_750_000_000;
pub const LEEWAY: u64 = 15;

pub fn policy() -> Policy {
    Policy {
        issuer: "clipwave".into(),
        audience: "clipwave-api".into(),
        leeway_secs: LEEWAY,
    }
}

/// A signing key `k1` and a verifier trusting only it.
pub fn keys() -> (SigningKey, Verifier) {
    let generated = generate_key_pair("k1");
    let signing = SigningKey::from_jwk(&generated.private_jwk).unwrap();
    let set = KeySet::from_jwks(&generated.jwks).unwrap();
    (signing, Verifier::new(set, policy()))
}

pub fn claims(typ: TokenType) -> Claims {
    Claims {
        iss: "clipwave".into(),
        aud: "clipwave-api".into(),
        sub: "user-1".into(),
        email: "ann@example.com".into(),
        role: Role::User,
        typ,
        iat: NOW,
        nbf: NOW,
        exp: NOW + 900,
        jti: "jti-1".into(),
        sid: (typ != TokenType::Service).then(|| "sid-1".to_owned()),
    }
}

/// Key-value stand-in: a map of records, counting reads.
#[derive(Default)]
pub struct MapStore {
    pub records: RefCell<HashMap<String, SessionRecord>>,
    pub reads: RefCell<usize>,
}

impl MapStore {
    /// A store whose session `sid-1` of `user-1` lists each of `tokens`.
    pub fn listing(tokens: &[&str]) -> Self {
        let store = Self::default();
        let mut record = SessionRecord::new("user-1", NOW + 604_800);
        for token in tokens {
            record.add_access(token_hash(token), NOW + 900, NOW, LEEWAY);
        }
        store.records.borrow_mut().insert("sid-1".into(), record);
        store
    }
}

impl SessionStore for MapStore {
    fn load(&self, sid: &str) -> Result<Option<SessionRecord>, StoreError> {
        *self.reads.borrow_mut() += 1;
        Ok(self.records.borrow().get(sid).cloned())
    }
}

/// A store that is down.
pub struct DownStore;

impl SessionStore for DownStore {
    fn load(&self, _sid: &str) -> Result<Option<SessionRecord>, StoreError> {
        Err(StoreError::new("connection refused"))
    }
}

pub fn b64(bytes: impl AsRef<[u8]>) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// `header.payload.signature` from raw JSON texts and signature bytes.
pub fn assemble(header: &str, claims: &Claims, signature: &[u8]) -> String {
    format!(
        "{}.{}.{}",
        b64(header),
        b64(serde_json::to_vec(claims).unwrap()),
        b64(signature)
    )
}
