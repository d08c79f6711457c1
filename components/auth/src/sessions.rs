//! Session records in key-value `default` (`session:<sid>`), the store the
//! one-read check of `clipwave-token` reads.

use clipwave_http::ApiError;
use clipwave_token::{session_key, SessionRecord, SessionStore, StoreError};
use spin_sdk::key_value::Store;

/// Key-value `default`, seen as a [`SessionStore`].
pub struct KvSessions(Store);

fn unavailable(context: &'static str) -> impl FnOnce(spin_sdk::key_value::Error) -> ApiError {
    move |error| {
        eprintln!("auth: key-value: {context}: {error}");
        ApiError::unavailable()
    }
}

impl KvSessions {
    /// Opens key-value `default`.
    ///
    /// # Errors
    /// 503 when the store cannot be opened.
    pub fn open() -> Result<Self, ApiError> {
        Store::open_default().map(Self).map_err(unavailable("open"))
    }

    /// The underlying store (shared with throttling).
    pub fn store(&self) -> &Store {
        &self.0
    }

    /// The record of `sid`, mapping failures to 503.
    pub fn get(&self, sid: &str) -> Result<Option<SessionRecord>, ApiError> {
        self.load(sid).map_err(|error| {
            eprintln!("auth: {error}");
            ApiError::unavailable()
        })
    }

    /// Writes the record of `sid`.
    pub fn save(&self, sid: &str, record: &SessionRecord) -> Result<(), ApiError> {
        self.0
            .set(&session_key(sid), &record.to_bytes())
            .map_err(unavailable("save session"))
    }

    /// Marks `sid` revoked (creating a revoked record if none exists, so that
    /// no token of it can pass anywhere).
    pub fn revoke(&self, sid: &str, user_id: &str, expires_at: u64) -> Result<(), ApiError> {
        let mut record = self
            .get(sid)?
            .unwrap_or_else(|| SessionRecord::new(user_id, expires_at));
        record.revoke();
        self.save(sid, &record)
    }

    /// Deletes the record of a session that has ended.
    pub fn delete(&self, sid: &str) -> Result<(), ApiError> {
        self.0
            .delete(&session_key(sid))
            .map_err(unavailable("delete session"))
    }
}

impl SessionStore for KvSessions {
    fn load(&self, sid: &str) -> Result<Option<SessionRecord>, StoreError> {
        match self.0.get(&session_key(sid)) {
            Ok(Some(bytes)) => SessionRecord::from_bytes(&bytes).map(Some),
            Ok(None) => Ok(None),
            Err(error) => Err(StoreError::new(error)),
        }
    }
}
