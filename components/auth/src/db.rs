//! The SQLite `default` connection and this component's schema migrations.
//!
//! The gateway shares the database with its own tables, so every table here
//! is prefixed `auth_` and the applied versions are kept in
//! `auth_schema_migrations`. Spin starts a fresh instance per request, so
//! `Db::open` checks the version each time (one small query) and applies
//! what is missing. Each statement is idempotent (`IF NOT EXISTS`), so two
//! first requests racing each other both succeed.

use clipwave_http::ApiError;
use spin_sdk::sqlite::{Connection, QueryResult, Value};

/// Versioned migrations; append, never edit.
const MIGRATIONS: &[(i64, &[&str])] = &[(
    1,
    &[
        "CREATE TABLE IF NOT EXISTS auth_users (
            id TEXT PRIMARY KEY,
            email TEXT NOT NULL UNIQUE,
            password_hash TEXT NOT NULL,
            role TEXT NOT NULL CHECK (role IN ('user', 'admin')),
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL
        )",
        "CREATE TABLE IF NOT EXISTS auth_sessions (
            sid TEXT PRIMARY KEY,
            user_id TEXT NOT NULL,
            created_at INTEGER NOT NULL,
            expires_at INTEGER NOT NULL,
            revoked_at INTEGER
        )",
        "CREATE INDEX IF NOT EXISTS auth_sessions_user ON auth_sessions (user_id)",
        "CREATE TABLE IF NOT EXISTS auth_refresh_tokens (
            jti TEXT PRIMARY KEY,
            sid TEXT NOT NULL,
            expires_at INTEGER NOT NULL,
            used_at INTEGER,
            claimed_by TEXT,
            next_access TEXT,
            next_refresh TEXT
        )",
        "CREATE INDEX IF NOT EXISTS auth_refresh_tokens_sid ON auth_refresh_tokens (sid)",
    ],
)];

/// An open connection with the schema up to date.
pub struct Db(Connection);

/// Logs a store failure under `context` and fails closed with 503.
pub fn unavailable(context: &'static str) -> impl FnOnce(spin_sdk::sqlite::Error) -> ApiError {
    move |error| {
        eprintln!("auth: sqlite: {context}: {error}");
        ApiError::unavailable()
    }
}

impl Db {
    /// Opens `default` and applies missing migrations.
    ///
    /// # Errors
    /// 503 when the database cannot be opened or migrated.
    pub fn open() -> Result<Self, ApiError> {
        let db = Self(Connection::open_default().map_err(unavailable("open"))?);
        db.migrate()?;
        Ok(db)
    }

    fn migrate(&self) -> Result<(), ApiError> {
        self.run(
            "CREATE TABLE IF NOT EXISTS auth_schema_migrations (
                version INTEGER PRIMARY KEY,
                applied_at INTEGER NOT NULL
            )",
            &[],
        )?;
        let current = self
            .run(
                "SELECT COALESCE(MAX(version), 0) FROM auth_schema_migrations",
                &[],
            )?
            .rows
            .first()
            .and_then(|row| row.get::<i64>(0))
            .unwrap_or(0);
        for (version, statements) in MIGRATIONS.iter().filter(|(v, _)| *v > current) {
            for statement in *statements {
                self.run(statement, &[])?;
            }
            self.run(
                "INSERT OR IGNORE INTO auth_schema_migrations (version, applied_at) VALUES (?, ?)",
                &[Value::Integer(*version), int(crate::request::now())],
            )?;
        }
        Ok(())
    }

    /// Runs one statement.
    ///
    /// # Errors
    /// 503 (logged) when SQLite fails.
    pub fn run(&self, sql: &str, params: &[Value]) -> Result<QueryResult, ApiError> {
        self.0.execute(sql, params).map_err(unavailable("query"))
    }
}

/// A text parameter.
pub fn text(value: &str) -> Value {
    Value::Text(value.to_owned())
}

/// An integer parameter (Unix seconds and counts fit i64 for ages).
pub fn int(value: u64) -> Value {
    Value::Integer(i64::try_from(value).unwrap_or(i64::MAX))
}
