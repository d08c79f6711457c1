//! Sessions (refresh-token families) and their refresh tokens in SQLite.
//!
//! SQLite is where a refresh token is claimed exactly once: the claim is a
//! conditional `UPDATE` stamped with a random marker, read back, so two
//! concurrent refreshes of one token cannot both win (no reliance on
//! `RETURNING` or change counts, which not every Spin SQLite backend
//! reports). The winner stores the pair it issued for the grace window.

use clipwave_http::ApiError;

use crate::db::{int, text, Db};

/// Seconds after use in which the same refresh token gets the same pair.
pub const GRACE_SECS: u64 = 10;

/// Result of trying to spend a refresh token.
#[derive(Debug)]
pub enum Claim {
    /// This request spent it and must issue the next pair.
    Won,
    /// Spent earlier at `used_at`; `pair` is what that refresh issued, if
    /// it was stored and the grace window has not been cleaned yet.
    Spent {
        /// When it was spent.
        used_at: u64,
        /// `(access, refresh)` issued then.
        pair: Option<(String, String)>,
    },
    /// Not a token we know (deleted family).
    Unknown,
}

/// Records a new session.
pub fn create_session(
    db: &Db,
    sid: &str,
    user_id: &str,
    now: u64,
    expires_at: u64,
) -> Result<(), ApiError> {
    db.run(
        "INSERT INTO auth_sessions (sid, user_id, created_at, expires_at) VALUES (?, ?, ?, ?)",
        &[text(sid), text(user_id), int(now), int(expires_at)],
    )
    .map(drop)
}

/// Moves a session's end (sliding refresh expiry).
pub fn extend_session(db: &Db, sid: &str, expires_at: u64) -> Result<(), ApiError> {
    db.run(
        "UPDATE auth_sessions SET expires_at = MAX(expires_at, ?) WHERE sid = ?",
        &[int(expires_at), text(sid)],
    )
    .map(drop)
}

/// Records an issued refresh token.
pub fn insert_refresh(db: &Db, jti: &str, sid: &str, expires_at: u64) -> Result<(), ApiError> {
    db.run(
        "INSERT INTO auth_refresh_tokens (jti, sid, expires_at) VALUES (?, ?, ?)",
        &[text(jti), text(sid), int(expires_at)],
    )
    .map(drop)
}

/// Tries to spend refresh token `jti` of session `sid` at `now`.
pub fn claim_refresh(db: &Db, jti: &str, sid: &str, now: u64) -> Result<Claim, ApiError> {
    let marker = uuid::Uuid::new_v4().simple().to_string();
    db.run(
        "UPDATE auth_refresh_tokens SET used_at = ?, claimed_by = ?
         WHERE jti = ? AND sid = ? AND used_at IS NULL",
        &[int(now), text(&marker), text(jti), text(sid)],
    )?;
    let result = db.run(
        "SELECT used_at, claimed_by, next_access, next_refresh FROM auth_refresh_tokens
         WHERE jti = ? AND sid = ?",
        &[text(jti), text(sid)],
    )?;
    let Some(row) = result.rows.first() else {
        return Ok(Claim::Unknown);
    };
    if row.get::<&str>(1) == Some(marker.as_str()) {
        return Ok(Claim::Won);
    }
    let pair = match (row.get::<&str>(2), row.get::<&str>(3)) {
        (Some(access), Some(refresh)) => Some((access.to_owned(), refresh.to_owned())),
        _ => None,
    };
    Ok(Claim::Spent {
        used_at: row.get::<u64>(0).unwrap_or(0),
        pair,
    })
}

/// Keeps the pair a refresh issued, for duplicates within the grace window.
pub fn store_next_pair(db: &Db, jti: &str, access: &str, refresh: &str) -> Result<(), ApiError> {
    db.run(
        "UPDATE auth_refresh_tokens SET next_access = ?, next_refresh = ? WHERE jti = ?",
        &[text(access), text(refresh), text(jti)],
    )
    .map(drop)
}

/// Forgets stored pairs once their grace window is over, and refresh
/// tokens that have expired (they can no longer be presented).
pub fn forget_stale(db: &Db, now: u64) -> Result<(), ApiError> {
    db.run(
        "UPDATE auth_refresh_tokens SET next_access = NULL, next_refresh = NULL
         WHERE next_access IS NOT NULL AND used_at < ?",
        &[int(now.saturating_sub(GRACE_SECS))],
    )?;
    db.run(
        "DELETE FROM auth_refresh_tokens WHERE expires_at < ?",
        &[int(now.saturating_sub(3600))],
    )
    .map(drop)
}

/// True when the session is marked revoked (or unknown) in SQLite.
pub fn session_revoked(db: &Db, sid: &str) -> Result<bool, ApiError> {
    let result = db.run(
        "SELECT revoked_at FROM auth_sessions WHERE sid = ?",
        &[text(sid)],
    )?;
    Ok(match result.rows.first() {
        Some(row) => row.get::<u64>(0).is_some(),
        None => true,
    })
}

/// Marks one session revoked; returns its `(user_id, expires_at)`.
pub fn revoke_session(db: &Db, sid: &str, now: u64) -> Result<Option<(String, u64)>, ApiError> {
    db.run(
        "UPDATE auth_sessions SET revoked_at = COALESCE(revoked_at, ?) WHERE sid = ?",
        &[int(now), text(sid)],
    )?;
    let result = db.run(
        "SELECT user_id, expires_at FROM auth_sessions WHERE sid = ?",
        &[text(sid)],
    )?;
    Ok(result
        .rows
        .first()
        .and_then(|row| Some((row.get::<&str>(0)?.to_owned(), row.get::<u64>(1)?))))
}

/// Marks every unexpired session of a user revoked; returns `(sid, expires_at)`
/// of each, so their key-value records can be revoked too.
pub fn revoke_user_sessions(
    db: &Db,
    user_id: &str,
    now: u64,
) -> Result<Vec<(String, u64)>, ApiError> {
    db.run(
        "UPDATE auth_sessions SET revoked_at = COALESCE(revoked_at, ?) WHERE user_id = ?",
        &[int(now), text(user_id)],
    )?;
    let result = db.run(
        "SELECT sid, expires_at FROM auth_sessions WHERE user_id = ? AND expires_at >= ?",
        &[text(user_id), int(now)],
    )?;
    Ok(result
        .rows
        .iter()
        .filter_map(|row| Some((row.get::<&str>(0)?.to_owned(), row.get::<u64>(1)?)))
        .collect())
}

/// Removes a user's sessions that ended before `now`, returning their ids so
/// their key-value records can go too.
pub fn remove_ended_sessions(db: &Db, user_id: &str, now: u64) -> Result<Vec<String>, ApiError> {
    let result = db.run(
        "SELECT sid FROM auth_sessions WHERE user_id = ? AND expires_at < ?",
        &[text(user_id), int(now)],
    )?;
    let sids: Vec<String> = result
        .rows
        .iter()
        .filter_map(|row| row.get::<&str>(0).map(str::to_owned))
        .collect();
    for sid in &sids {
        db.run(
            "DELETE FROM auth_refresh_tokens WHERE sid = ?",
            &[text(sid)],
        )?;
        db.run("DELETE FROM auth_sessions WHERE sid = ?", &[text(sid)])?;
    }
    Ok(sids)
}
