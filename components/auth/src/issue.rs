//! Issuing tokens: a new session's pair, a rotated pair, a service token,
//! and the response shape they share (DESIGN §4a).

use clipwave_http::{json_response, ApiError, RequestId};
use clipwave_token::{token_hash, Claims, Role, SessionRecord, SigningKey, TokenType};
use http::{header, HeaderValue, Response, StatusCode};
use serde::Serialize;

use crate::{config, db::Db, families_db, sessions::KvSessions, users_db::User};

/// What a token endpoint returns.
#[derive(Debug, Clone, Serialize)]
pub struct TokenResponse {
    /// The Bearer token.
    pub access_token: String,
    /// Absent for service tokens.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    /// Always `Bearer`.
    pub token_type: &'static str,
    /// Seconds the access token lives.
    pub expires_in: u64,
    /// The user id (the client id for service tokens).
    pub user_id: String,
}

impl TokenResponse {
    /// 200 with `Cache-Control: no-store` (RFC 6749 §5.1).
    pub fn into_response(self, request_id: &RequestId) -> Response<Vec<u8>> {
        let mut response = json_response(StatusCode::OK, &self, request_id);
        let headers = response.headers_mut();
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
        response
    }
}

/// Everything needed to sign, read from variables once per request.
pub struct Issuer {
    key: SigningKey,
    policy: clipwave_token::Policy,
    lifetimes: config::Lifetimes,
}

fn new_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

fn signing_failed(error: clipwave_token::SignError) -> ApiError {
    eprintln!("auth: {error}");
    ApiError::internal()
}

impl Issuer {
    /// Reads the signing key, policy and lifetimes.
    pub fn from_config() -> Result<Self, ApiError> {
        Ok(Self {
            key: config::signing_key()?,
            policy: config::policy()?,
            lifetimes: config::lifetimes()?,
        })
    }

    fn claims(
        &self,
        sub: &str,
        email: &str,
        role: Role,
        typ: TokenType,
        ttl: u64,
        now: u64,
    ) -> Claims {
        Claims {
            iss: self.policy.issuer.clone(),
            aud: self.policy.audience.clone(),
            sub: sub.to_owned(),
            email: email.to_owned(),
            role,
            typ,
            iat: now,
            nbf: now,
            exp: now + ttl,
            jti: new_id(),
            sid: None,
        }
    }

    /// Signs an access and a refresh token for `user` in session `sid`,
    /// records the refresh token in SQLite and the access token's hash in
    /// the session record.
    fn pair(
        &self,
        db: &Db,
        kv: &KvSessions,
        user: &User,
        sid: &str,
        mut record: SessionRecord,
        now: u64,
    ) -> Result<TokenResponse, ApiError> {
        let session = Some(sid.to_owned());
        let mut access = self.claims(
            &user.id,
            &user.email,
            user.role,
            TokenType::Access,
            self.lifetimes.access,
            now,
        );
        access.sid.clone_from(&session);
        let mut refresh = self.claims(
            &user.id,
            &user.email,
            user.role,
            TokenType::Refresh,
            self.lifetimes.refresh,
            now,
        );
        refresh.sid = session;
        let access_token = self.key.sign(&access).map_err(signing_failed)?;
        let refresh_token = self.key.sign(&refresh).map_err(signing_failed)?;

        families_db::insert_refresh(db, &refresh.jti, sid, refresh.exp)?;
        families_db::extend_session(db, sid, refresh.exp)?;
        record.expires_at = record.expires_at.max(refresh.exp + self.policy.leeway_secs);
        record.add_access(
            token_hash(&access_token),
            access.exp,
            now,
            self.policy.leeway_secs,
        );
        kv.save(sid, &record)?;
        // A logout racing this write must still win: re-read its verdict.
        if families_db::session_revoked(db, sid)? {
            kv.revoke(sid, &user.id, record.expires_at)?;
            return Err(ApiError::invalid_token());
        }
        Ok(TokenResponse {
            access_token,
            refresh_token: Some(refresh_token),
            token_type: "Bearer",
            expires_in: self.lifetimes.access,
            user_id: user.id.clone(),
        })
    }

    /// Starts a session for `user` (login).
    pub fn start_session(
        &self,
        db: &Db,
        kv: &KvSessions,
        user: &User,
        now: u64,
    ) -> Result<TokenResponse, ApiError> {
        let sid = new_id();
        let expires_at = now + self.lifetimes.refresh;
        families_db::create_session(db, &sid, &user.id, now, expires_at)?;
        let record = SessionRecord::new(user.id.clone(), expires_at + self.policy.leeway_secs);
        self.pair(db, kv, user, &sid, record, now)
    }

    /// Issues the next pair of a live session (refresh).
    pub fn rotate(
        &self,
        db: &Db,
        kv: &KvSessions,
        user: &User,
        sid: &str,
        record: SessionRecord,
        now: u64,
    ) -> Result<TokenResponse, ApiError> {
        self.pair(db, kv, user, sid, record, now)
    }

    /// A service token for `client_id` (no session, no refresh token).
    pub fn service(&self, client_id: &str, now: u64) -> Result<TokenResponse, ApiError> {
        let claims = self.claims(
            client_id,
            "",
            Role::User,
            TokenType::Service,
            self.lifetimes.service,
            now,
        );
        Ok(TokenResponse {
            access_token: self.key.sign(&claims).map_err(signing_failed)?,
            refresh_token: None,
            token_type: "Bearer",
            expires_in: self.lifetimes.service,
            user_id: client_id.to_owned(),
        })
    }
}
