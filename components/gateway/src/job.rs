//! A conversion job as stored, and as its owner sees it.
//!
//! The lifecycle is `queued → processing → done | failed | canceled`
//! (DESIGN §6); `processing` may fall back to `queued` when a worker fails
//! with a retryable error or loses its lease. Times are kept in Unix
//! milliseconds (list order needs them) and shown in Unix seconds, like the
//! internal API's `lease_expires_at`.

use serde::Serialize;

use clipwave_ids::JobId;

/// Where a job is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Waiting for a worker.
    Queued,
    /// A worker holds the lease.
    Processing,
    /// The mp3 is ready.
    Done,
    /// Given up; `error` says why.
    Failed,
    /// Canceled by its owner.
    Canceled,
}

impl Status {
    /// The stored and wire form.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Processing => "processing",
            Self::Done => "done",
            Self::Failed => "failed",
            Self::Canceled => "canceled",
        }
    }

    /// Parses the stored form.
    pub fn parse(text: &str) -> Option<Self> {
        [
            Self::Queued,
            Self::Processing,
            Self::Done,
            Self::Failed,
            Self::Canceled,
        ]
        .into_iter()
        .find(|status| status.as_str() == text)
    }

    /// True once nothing will happen to the job any more.
    pub fn is_finished(self) -> bool {
        matches!(self, Self::Done | Self::Failed | Self::Canceled)
    }
}

/// One row of `gateway_jobs`.
#[derive(Debug, Clone, PartialEq)]
pub struct Job {
    /// The id.
    pub id: JobId,
    /// The owner's user id.
    pub owner_id: String,
    /// The owner's e-mail at upload time (for notification).
    pub owner_email: Option<String>,
    /// Lifecycle state.
    pub status: Status,
    /// 0–100.
    pub progress: u8,
    /// Why it failed (the last worker's reason).
    pub error: Option<String>,
    /// The uploaded file's (cleaned) name.
    pub filename: String,
    /// The upload's media type.
    pub content_type: String,
    /// The input blob in key-value `media`.
    pub input_blob: String,
    /// The upload's size in bytes.
    pub input_size: u64,
    /// The upload's SHA-256 (hex).
    pub input_sha256: String,
    /// The committed mp3 blob, once a worker stored one.
    pub output_blob: Option<String>,
    /// The mp3's size in bytes.
    pub output_size: Option<u64>,
    /// The attempt that stored the mp3.
    pub output_attempt: Option<i64>,
    /// The audio's duration, reported by the worker.
    pub duration_secs: Option<f64>,
    /// Claims so far.
    pub attempts: i64,
    /// When the current lease ends (Unix seconds).
    pub lease_expires_at: Option<i64>,
    /// Webhook address given at upload.
    pub callback_url: Option<String>,
    /// Created (Unix ms).
    pub created_ms: i64,
    /// Last changed (Unix ms).
    pub updated_ms: i64,
    /// First claimed (Unix ms).
    pub started_ms: Option<i64>,
    /// Reached done, failed or canceled (Unix ms).
    pub finished_ms: Option<i64>,
}

impl Job {
    /// The job as it stands at `now_secs`: a processing job whose lease ran
    /// out after its last allowed attempt has failed, even before a claim or
    /// a queue poll records that (`JobsDb::reap_lost`). Reads apply this
    /// instead of writing, so `GET /jobs` costs no write lock.
    #[must_use]
    pub fn as_of(mut self, now_secs: i64, max_attempts: i64) -> Self {
        let lost = self.status == Status::Processing
            && self.attempts >= max_attempts
            && self.lease_expires_at.is_some_and(|end| end <= now_secs);
        if lost {
            let ended_ms = self.lease_expires_at.unwrap_or(now_secs) * 1000;
            self.status = Status::Failed;
            self.error = Some(lost_job_reason(self.attempts));
            self.lease_expires_at = None;
            self.updated_ms = self.updated_ms.max(ended_ms);
            self.finished_ms = Some(ended_ms);
        }
        self
    }
}

/// The error a job gets when its worker vanished on the last attempt (the
/// same text `reap_lost` stores).
pub fn lost_job_reason(attempts: i64) -> String {
    format!("worker lost the job {attempts} times")
}

/// What a failed job whose reason was lost says (every path that fails a
/// job records one; this only keeps `error` present when failed).
const UNKNOWN_FAILURE: &str = "the conversion failed";

/// The job as its owner sees it.
#[derive(Debug, Serialize)]
pub struct JobView<'a> {
    job_id: &'a str,
    owner_id: &'a str,
    status: Status,
    progress: u8,
    /// Only failed jobs have the key at all (DESIGN §4a: "`error` (when
    /// failed)"); other fields keep `null` for "not yet".
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<&'a str>,
    filename: &'a str,
    content_type: &'a str,
    input_size: u64,
    input_sha256: &'a str,
    output_size: Option<u64>,
    duration_secs: Option<f64>,
    attempts: i64,
    created_at: i64,
    updated_at: i64,
    started_at: Option<i64>,
    finished_at: Option<i64>,
    download_url: Option<String>,
}

impl Job {
    /// The user-facing view: no lease, blob or webhook internals.
    pub fn view(&self) -> JobView<'_> {
        JobView {
            job_id: self.id.as_str(),
            owner_id: &self.owner_id,
            status: self.status,
            progress: self.progress,
            error: (self.status == Status::Failed)
                .then(|| self.error.as_deref().unwrap_or(UNKNOWN_FAILURE)),
            filename: &self.filename,
            content_type: &self.content_type,
            input_size: self.input_size,
            input_sha256: &self.input_sha256,
            output_size: self.output_size.filter(|_| self.status == Status::Done),
            duration_secs: self.duration_secs,
            attempts: self.attempts,
            created_at: self.created_ms / 1000,
            updated_at: self.updated_ms / 1000,
            started_at: self.started_ms.map(|ms| ms / 1000),
            finished_at: self.finished_ms.map(|ms| ms / 1000),
            download_url: (self.status == Status::Done).then(|| format!("/jobs/{}/audio", self.id)),
        }
    }

    /// Whether `user_id` may see this job: its owner only, admins
    /// included (DESIGN §3: the caller's jobs; anyone else gets the 404 of
    /// a missing job).
    pub fn visible_to(&self, user_id: &str) -> bool {
        self.owner_id == user_id
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_round_trip_through_their_stored_form() {
        for status in [
            Status::Queued,
            Status::Processing,
            Status::Done,
            Status::Failed,
            Status::Canceled,
        ] {
            assert_eq!(Status::parse(status.as_str()), Some(status));
        }
        assert_eq!(Status::parse("QUEUED"), None);
        assert!(Status::Canceled.is_finished() && !Status::Processing.is_finished());
    }

    fn processing(attempts: i64, lease_end: i64) -> Job {
        Job {
            id: JobId::generate(),
            owner_id: "u".into(),
            owner_email: None,
            status: Status::Processing,
            progress: 40,
            error: None,
            filename: "a.mp4".into(),
            content_type: "video/mp4".into(),
            input_blob: "in-x".into(),
            input_size: 1,
            input_sha256: String::new(),
            output_blob: None,
            output_size: None,
            output_attempt: None,
            duration_secs: None,
            attempts,
            lease_expires_at: Some(lease_end),
            callback_url: None,
            created_ms: 1_000,
            updated_ms: 2_000,
            started_ms: Some(1_500),
            finished_ms: None,
        }
    }

    #[test]
    fn a_job_lost_on_its_last_attempt_reads_as_failed() {
        let lost = processing(3, 100).as_of(100, 3);
        assert_eq!(lost.status, Status::Failed);
        assert_eq!(lost.error.as_deref(), Some("worker lost the job 3 times"));
        assert_eq!(lost.finished_ms, Some(100_000));
        assert_eq!(lost.lease_expires_at, None);
    }

    #[test]
    fn only_a_failed_job_has_an_error_key() {
        let json = |job: &Job| serde_json::to_value(job.view()).unwrap();
        let mut job = processing(1, 100);
        job.error = Some("stale reason from a retried attempt".into());
        assert!(json(&job).get("error").is_none());
        assert!(json(&job)["output_size"].is_null());
        job.status = Status::Failed;
        assert_eq!(json(&job)["error"], "stale reason from a retried attempt");
        job.error = None;
        assert_eq!(json(&job)["error"], UNKNOWN_FAILURE);
    }

    #[test]
    fn only_the_owner_sees_a_job() {
        let job = processing(1, 100);
        assert!(job.visible_to("u"));
        assert!(!job.visible_to("someone-else") && !job.visible_to(""));
    }

    #[test]
    fn a_live_lease_or_attempts_left_keep_a_job_processing() {
        for (attempts, lease_end) in [(3, 101), (2, 100)] {
            let job = processing(attempts, lease_end);
            assert_eq!(job.clone().as_of(100, 3), job);
        }
    }
}
