//! Versioned schema migrations for the gateway's tables in SQLite `default`.
//!
//! The auth component shares the database with its own tables, so every
//! table here is prefixed `gateway_` and the applied versions are recorded
//! in `gateway_schema_migrations`. Each request that writes checks the
//! version with one `SELECT` (reads skip it and migrate only when a
//! statement fails, see `JobsDb::open_for_reads`); new versions are applied
//! in order. Statements are idempotent
//! (`IF NOT EXISTS`) because two fresh instances may migrate at once, and
//! each is a single statement: Spin's `execute` runs one statement per call.

use anyhow::{Context, Result};
use spin_sdk::sqlite::{Connection, Value};

/// Every version, oldest first: (version, statements).
const MIGRATIONS: &[(i64, &[&str])] = &[(
    1,
    &[
        "CREATE TABLE IF NOT EXISTS gateway_jobs (
            id TEXT PRIMARY KEY,
            owner_id TEXT NOT NULL,
            owner_email TEXT,
            status TEXT NOT NULL,
            progress INTEGER NOT NULL DEFAULT 0,
            error TEXT,
            filename TEXT NOT NULL,
            content_type TEXT NOT NULL,
            input_blob TEXT NOT NULL,
            input_size INTEGER NOT NULL,
            input_sha256 TEXT NOT NULL,
            output_blob TEXT,
            output_size INTEGER,
            output_sha256 TEXT,
            output_attempt INTEGER,
            duration_secs REAL,
            attempts INTEGER NOT NULL DEFAULT 0,
            lease_owner TEXT,
            lease_expires_at INTEGER,
            callback_url TEXT,
            created_ms INTEGER NOT NULL,
            updated_ms INTEGER NOT NULL,
            started_ms INTEGER,
            finished_ms INTEGER
        )",
        "CREATE INDEX IF NOT EXISTS gateway_jobs_owner_created
            ON gateway_jobs (owner_id, created_ms DESC, id DESC)",
        "CREATE INDEX IF NOT EXISTS gateway_jobs_status_created
            ON gateway_jobs (status, created_ms, id)",
    ],
)];

fn current(connection: &Connection) -> Option<i64> {
    let result = connection
        .execute(
            "SELECT MAX(version) AS v FROM gateway_schema_migrations",
            &[],
        )
        .ok()?;
    let version = result.rows().next().and_then(|row| row.get::<i64>("v"));
    Some(version.unwrap_or(0))
}

/// Brings the schema up to [`latest`].
///
/// # Errors
/// When a statement fails (the database is unreachable or broken).
pub fn migrate(connection: &Connection, now_ms: i64) -> Result<()> {
    let applied = match current(connection) {
        Some(version) => version,
        None => {
            connection
                .execute(
                    "CREATE TABLE IF NOT EXISTS gateway_schema_migrations (
                        version INTEGER PRIMARY KEY,
                        applied_ms INTEGER NOT NULL
                    )",
                    &[],
                )
                .context("Failed to create gateway_schema_migrations")?;
            0
        }
    };
    for (version, statements) in MIGRATIONS.iter().filter(|(v, _)| *v > applied) {
        for statement in *statements {
            connection
                .execute(statement, &[])
                .with_context(|| format!("Failed to apply gateway migration {version}"))?;
        }
        connection
            .execute(
                "INSERT OR IGNORE INTO gateway_schema_migrations (version, applied_ms) VALUES (?, ?)",
                &[Value::Integer(*version), Value::Integer(now_ms)],
            )
            .with_context(|| format!("Failed to record gateway migration {version}"))?;
    }
    Ok(())
}
