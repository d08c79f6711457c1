//! Revocation by session (DESIGN §4): SQLite marks the family, key-value
//! marks the record every check reads. Used by logout, password and role
//! changes, and user deletion.

use clipwave_http::ApiError;

use crate::{db::Db, families_db, sessions::KvSessions};

/// Revokes one session.
pub fn session(db: &Db, kv: &KvSessions, sid: &str, now: u64) -> Result<(), ApiError> {
    if let Some((user_id, expires_at)) = families_db::revoke_session(db, sid, now)? {
        kv.revoke(sid, &user_id, expires_at)?;
    }
    Ok(())
}

/// Revokes every session of `user_id`, at once, for access and refresh
/// tokens alike.
pub fn all_of_user(db: &Db, kv: &KvSessions, user_id: &str, now: u64) -> Result<(), ApiError> {
    for (sid, expires_at) in families_db::revoke_user_sessions(db, user_id, now)? {
        kv.revoke(&sid, user_id, expires_at)?;
    }
    Ok(())
}

/// Drops what remains of a user's ended sessions (their tokens have all
/// expired, so the records no longer matter).
pub fn clean_ended(db: &Db, kv: &KvSessions, user_id: &str, now: u64) -> Result<(), ApiError> {
    for sid in families_db::remove_ended_sessions(db, user_id, now)? {
        kv.delete(&sid)?;
    }
    Ok(())
}
