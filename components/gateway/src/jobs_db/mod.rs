//! SQLite `default`: the `gateway_jobs` table and every query on it.
//!
//! Each state change is one statement (an `UPDATE … WHERE <expected state>
//! … RETURNING`), so it is atomic on every backend Spin offers without a
//! transaction spanning host calls: two workers claiming at once can never
//! get the same job, and a call for a stale attempt changes nothing.

mod migrations;

use clipwave_ids::JobId;
use std::{
    cell::Cell,
    time::{SystemTime, UNIX_EPOCH},
};

use anyhow::{anyhow, Context, Result};
use spin_sdk::sqlite::{Connection, QueryResult, Row, Value};

use crate::{
    cursor::Cursor,
    job::{Job, Status},
};

const COLUMNS: &str = "id, owner_id, owner_email, status, progress, error, filename, \
    content_type, input_blob, input_size, input_sha256, output_blob, output_size, \
    output_attempt, duration_secs, attempts, lease_expires_at, callback_url, created_ms, \
    updated_ms, started_ms, finished_ms";

/// Unix time in milliseconds.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

fn text(value: &str) -> Value {
    Value::Text(value.to_owned())
}

fn optional_text(value: Option<&str>) -> Value {
    value.map_or(Value::Null, text)
}

fn int(value: u64) -> Value {
    Value::Integer(i64::try_from(value).unwrap_or(i64::MAX))
}

/// What an upload creates.
pub struct NewJob<'a> {
    /// The new id.
    pub id: &'a JobId,
    /// Owner's user id and e-mail.
    pub owner_id: &'a str,
    /// Owner's e-mail.
    pub owner_email: &'a str,
    /// Cleaned original name.
    pub filename: &'a str,
    /// Media type.
    pub content_type: &'a str,
    /// Input blob id.
    pub input_blob: &'a str,
    /// Input size.
    pub input_size: u64,
    /// Input SHA-256.
    pub input_sha256: &'a str,
    /// Webhook address.
    pub callback_url: Option<&'a str>,
}

/// The gateway's view of SQLite `default`.
pub struct JobsDb {
    connection: Connection,
    /// Whether the schema was brought up to date through this connection.
    migrated: Cell<bool>,
}

impl JobsDb {
    /// Opens the database and brings the schema up to date: for requests
    /// that write.
    ///
    /// # Errors
    /// When the database is unreachable or a migration fails.
    pub fn open() -> Result<Self> {
        let connection = Self::connect()?;
        migrations::migrate(&connection, now_ms())?;
        Ok(Self {
            connection,
            migrated: Cell::new(true),
        })
    }

    /// Opens the database for requests that only read, without checking the
    /// schema version first: that check is a query of its own on the
    /// hottest routes. A statement that fails (a fresh database, or a schema
    /// older than this code) runs the migrations and is tried once more.
    ///
    /// # Errors
    /// When the database is unreachable.
    pub fn open_for_reads() -> Result<Self> {
        Ok(Self {
            connection: Self::connect()?,
            migrated: Cell::new(false),
        })
    }

    fn connect() -> Result<Connection> {
        Connection::open("default").context("Failed to open SQLite database `default`")
    }

    fn run(&self, statement: &str, parameters: &[Value]) -> Result<QueryResult> {
        match self.connection.execute(statement, parameters) {
            Ok(result) => Ok(result),
            Err(_) if !self.migrated.replace(true) => {
                migrations::migrate(&self.connection, now_ms())?;
                self.connection
                    .execute(statement, parameters)
                    .map_err(|error| anyhow!("SQLite: {error}"))
            }
            Err(error) => Err(anyhow!("SQLite: {error}")),
        }
    }

    fn jobs(&self, statement: &str, parameters: &[Value]) -> Result<Vec<Job>> {
        let result = self.run(statement, parameters)?;
        result.rows().map(|row| job_from_row(&row)).collect()
    }

    fn one(&self, statement: &str, parameters: &[Value]) -> Result<Option<Job>> {
        Ok(self.jobs(statement, parameters)?.into_iter().next())
    }

    /// Inserts a queued job.
    ///
    /// # Errors
    /// When the statement fails.
    pub fn insert(&self, job: &NewJob<'_>) -> Result<()> {
        let now = now_ms();
        self.run(
            // A user's jobs get strictly increasing creation times (one
            // millisecond past their newest if the clock has not moved on),
            // so "newest first" is their upload order even for uploads in
            // the same millisecond; the owner index makes the lookup cheap.
            "INSERT INTO gateway_jobs (id, owner_id, owner_email, status, filename, content_type, \
             input_blob, input_size, input_sha256, callback_url, created_ms, updated_ms) \
             VALUES (?1, ?2, ?3, 'queued', ?4, ?5, ?6, ?7, ?8, ?9, \
             MAX(?10, COALESCE((SELECT MAX(created_ms) + 1 FROM gateway_jobs \
             WHERE owner_id = ?2), 0)), ?11)",
            &[
                text(job.id.as_str()),
                text(job.owner_id),
                optional_text(Some(job.owner_email).filter(|e| !e.is_empty())),
                text(job.filename),
                text(job.content_type),
                text(job.input_blob),
                int(job.input_size),
                text(job.input_sha256),
                optional_text(job.callback_url),
                Value::Integer(now),
                Value::Integer(now),
            ],
        )
        .context("Failed to insert a job")?;
        Ok(())
    }

    /// The job with this id.
    ///
    /// # Errors
    /// When the query fails.
    pub fn get(&self, id: &JobId) -> Result<Option<Job>> {
        self.one(
            &format!("SELECT {COLUMNS} FROM gateway_jobs WHERE id = ?"),
            &[text(id.as_str())],
        )
    }

    /// Up to `limit` of `owner`'s jobs, newest first, after `after`.
    ///
    /// # Errors
    /// When the query fails.
    pub fn list(&self, owner: &str, after: Option<&Cursor>, limit: u32) -> Result<Vec<Job>> {
        self.jobs(
            &format!(
                "SELECT {COLUMNS} FROM gateway_jobs \
                 WHERE owner_id = ?1 \
                 AND (?2 IS NULL OR created_ms < ?2 OR (created_ms = ?2 AND id < ?3)) \
                 ORDER BY created_ms DESC, id DESC LIMIT ?4"
            ),
            &[
                text(owner),
                after.map_or(Value::Null, |c| Value::Integer(c.created_ms)),
                optional_text(after.map(|c| c.id.as_str())),
                Value::Integer(i64::from(limit)),
            ],
        )
    }

    /// Fails jobs whose lease expired after their last allowed attempt.
    ///
    /// # Errors
    /// When the statement fails.
    pub fn reap_lost(&self, max_attempts: i64) -> Result<()> {
        let now = now_ms();
        self.run(
            "UPDATE gateway_jobs SET status = 'failed', \
             error = 'worker lost the job ' || attempts || ' times', \
             lease_owner = NULL, lease_expires_at = NULL, updated_ms = ?1, \
             finished_ms = lease_expires_at * 1000 \
             WHERE status = 'processing' AND lease_expires_at <= ?2 AND attempts >= ?3",
            &[
                Value::Integer(now),
                Value::Integer(now / 1000),
                Value::Integer(max_attempts),
            ],
        )
        .context("Failed to fail lost jobs")?;
        Ok(())
    }

    /// Atomically claims the oldest queued job, or a processing one whose
    /// lease expired with attempts left.
    ///
    /// # Errors
    /// When the statement fails.
    pub fn claim(&self, worker: &str, lease_secs: i64, max_attempts: i64) -> Result<Option<Job>> {
        let now = now_ms();
        let claimable = "(status = 'queued' OR (status = 'processing' \
                         AND lease_expires_at <= ?3 AND attempts < ?5))";
        self.one(
            &format!(
                "UPDATE gateway_jobs SET status = 'processing', attempts = attempts + 1, \
                 progress = 0, lease_owner = ?1, lease_expires_at = ?3 + ?4, updated_ms = ?2, \
                 started_ms = COALESCE(started_ms, ?2) \
                 WHERE id = (SELECT id FROM gateway_jobs WHERE {claimable} \
                             ORDER BY created_ms, id LIMIT 1) \
                 AND {claimable} \
                 RETURNING {COLUMNS}"
            ),
            &[
                text(worker),
                Value::Integer(now),
                Value::Integer(now / 1000),
                Value::Integer(lease_secs),
                Value::Integer(max_attempts),
            ],
        )
    }

    /// Records progress and extends the lease of `attempt`; the new expiry,
    /// or `None` when that attempt no longer holds the job.
    ///
    /// # Errors
    /// When the statement fails.
    pub fn heartbeat(
        &self,
        id: &JobId,
        attempt: i64,
        progress: u8,
        lease_secs: i64,
    ) -> Result<Option<i64>> {
        let now = now_ms();
        let result = self.run(
            "UPDATE gateway_jobs SET progress = ?1, lease_expires_at = ?2, updated_ms = ?3 \
             WHERE id = ?4 AND status = 'processing' AND attempts = ?5 \
             RETURNING lease_expires_at",
            &[
                Value::Integer(i64::from(progress)),
                Value::Integer(now / 1000 + lease_secs),
                Value::Integer(now),
                text(id.as_str()),
                Value::Integer(attempt),
            ],
        )?;
        let expires = result
            .rows()
            .next()
            .and_then(|row| row.get::<i64>("lease_expires_at"));
        Ok(expires)
    }

    /// True while `attempt` holds the job.
    ///
    /// # Errors
    /// When the query fails.
    pub fn holds_lease(&self, id: &JobId, attempt: i64) -> Result<bool> {
        Ok(self
            .get(id)?
            .is_some_and(|job| job.status == Status::Processing && job.attempts == attempt))
    }

    /// Records the mp3 stored by `attempt`; false when it lost the job.
    ///
    /// # Errors
    /// When the statement fails.
    pub fn set_output(
        &self,
        id: &JobId,
        attempt: i64,
        blob: &str,
        size: u64,
        sha256: &str,
    ) -> Result<bool> {
        let result = self.run(
            "UPDATE gateway_jobs SET output_blob = ?1, output_size = ?2, output_sha256 = ?3, \
             output_attempt = ?4, updated_ms = ?5 \
             WHERE id = ?6 AND status = 'processing' AND attempts = ?4 RETURNING id",
            &[
                text(blob),
                int(size),
                text(sha256),
                Value::Integer(attempt),
                Value::Integer(now_ms()),
                text(id.as_str()),
            ],
        )?;
        Ok(!result.rows.is_empty())
    }

    /// Marks the job done if `attempt` holds it and stored an output.
    ///
    /// # Errors
    /// When the statement fails.
    pub fn complete(
        &self,
        id: &JobId,
        attempt: i64,
        duration_secs: Option<f64>,
    ) -> Result<Option<Job>> {
        let now = now_ms();
        self.one(
            &format!(
                "UPDATE gateway_jobs SET status = 'done', progress = 100, error = NULL, \
                 duration_secs = ?1, lease_owner = NULL, lease_expires_at = NULL, \
                 updated_ms = ?2, finished_ms = ?2 \
                 WHERE id = ?3 AND status = 'processing' AND attempts = ?4 AND output_attempt = ?4 \
                 RETURNING {COLUMNS}"
            ),
            &[
                duration_secs.map_or(Value::Null, Value::Real),
                Value::Integer(now),
                text(id.as_str()),
                Value::Integer(attempt),
            ],
        )
    }

    /// Ends `attempt` with `reason`: back to the queue while `retryable`
    /// and attempts remain, else `failed`. `None` when it lost the job.
    ///
    /// # Errors
    /// When the statement fails.
    pub fn fail(
        &self,
        id: &JobId,
        attempt: i64,
        reason: &str,
        retryable: bool,
        max_attempts: i64,
    ) -> Result<Option<Status>> {
        let now = now_ms();
        let result = self.run(
            "UPDATE gateway_jobs SET \
             status = CASE WHEN ?1 AND attempts < ?2 THEN 'queued' ELSE 'failed' END, \
             finished_ms = CASE WHEN ?1 AND attempts < ?2 THEN NULL ELSE ?3 END, \
             error = ?4, progress = 0, lease_owner = NULL, lease_expires_at = NULL, updated_ms = ?3 \
             WHERE id = ?5 AND status = 'processing' AND attempts = ?6 RETURNING status",
            &[
                Value::Integer(i64::from(retryable)),
                Value::Integer(max_attempts),
                Value::Integer(now),
                text(reason),
                text(id.as_str()),
                Value::Integer(attempt),
            ],
        )?;
        let status = result
            .rows()
            .next()
            .and_then(|row| row.get::<&str>("status").and_then(Status::parse));
        Ok(status)
    }

    /// Cancels a queued or processing job; false when it had finished.
    ///
    /// # Errors
    /// When the statement fails.
    pub fn cancel(&self, id: &JobId) -> Result<bool> {
        let now = now_ms();
        let result = self.run(
            "UPDATE gateway_jobs SET status = 'canceled', lease_owner = NULL, \
             lease_expires_at = NULL, updated_ms = ?1, finished_ms = ?1 \
             WHERE id = ?2 AND status IN ('queued', 'processing') RETURNING id",
            &[Value::Integer(now), text(id.as_str())],
        )?;
        Ok(!result.rows.is_empty())
    }

    /// Deletes the row.
    ///
    /// # Errors
    /// When the statement fails.
    pub fn delete(&self, id: &JobId) -> Result<()> {
        self.run(
            "DELETE FROM gateway_jobs WHERE id = ?",
            &[text(id.as_str())],
        )?;
        Ok(())
    }

    /// Every blob a job row points at (inputs and outputs): what the media
    /// sweep must keep.
    ///
    /// # Errors
    /// When the query fails.
    pub fn referenced_blobs(&self) -> Result<std::collections::HashSet<String>> {
        let result = self.run(
            "SELECT input_blob AS blob FROM gateway_jobs UNION \
             SELECT output_blob AS blob FROM gateway_jobs WHERE output_blob IS NOT NULL",
            &[],
        )?;
        Ok(result
            .rows()
            .filter_map(|row| row.get::<&str>("blob").map(str::to_owned))
            .collect())
    }

    /// `(queued, processing)` counts for KEDA.
    ///
    /// A processing job whose lease has expired is waiting for a worker
    /// again, so it counts as queued: otherwise a worker killed while the
    /// queue is otherwise empty would leave KEDA seeing no work, and the job
    /// would never be picked up. (Call after `reap_lost`, which fails the
    /// expired jobs that have no attempts left.)
    ///
    /// # Errors
    /// When the query fails.
    pub fn queue_counts(&self) -> Result<(i64, i64)> {
        let now_secs = now_ms() / 1000;
        let result = self.run(
            "SELECT COALESCE(SUM(status = 'queued' OR lease_expires_at <= ?1), 0) AS queued, \
             COALESCE(SUM(status = 'processing' AND lease_expires_at > ?1), 0) AS processing \
             FROM gateway_jobs WHERE status IN ('queued', 'processing')",
            &[Value::Integer(now_secs)],
        )?;
        let row = result.rows().next();
        let count = |name| row.as_ref().and_then(|r| r.get::<i64>(name)).unwrap_or(0);
        Ok((count("queued"), count("processing")))
    }
}

fn job_from_row(row: &Row<'_>) -> Result<Job> {
    let text = |name: &str| row.get::<&str>(name).map(str::to_owned);
    let need = |name: &str| text(name).with_context(|| format!("job column {name} is missing"));
    let id = need("id")?;
    Ok(Job {
        id: JobId::parse(&id).with_context(|| format!("stored job id {id:?} is malformed"))?,
        owner_id: need("owner_id")?,
        owner_email: text("owner_email"),
        status: Status::parse(&need("status")?).context("stored job status is unknown")?,
        progress: row.get::<u8>("progress").unwrap_or(0).min(100),
        error: text("error"),
        filename: need("filename")?,
        content_type: need("content_type")?,
        input_blob: need("input_blob")?,
        input_size: row.get::<u64>("input_size").unwrap_or(0),
        input_sha256: need("input_sha256")?,
        output_blob: text("output_blob"),
        output_size: row.get::<u64>("output_size"),
        output_attempt: row.get::<i64>("output_attempt"),
        duration_secs: row.get::<f64>("duration_secs"),
        attempts: row.get::<i64>("attempts").unwrap_or(0),
        lease_expires_at: row.get::<i64>("lease_expires_at"),
        callback_url: text("callback_url"),
        created_ms: row.get::<i64>("created_ms").unwrap_or(0),
        updated_ms: row.get::<i64>("updated_ms").unwrap_or(0),
        started_ms: row.get::<i64>("started_ms"),
        finished_ms: row.get::<i64>("finished_ms"),
    })
}
