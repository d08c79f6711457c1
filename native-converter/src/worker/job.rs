//! One job from claim to completion: [`process_next_job`], the step that the
//! worker loop and the tests both call.
//!
//! While a job runs, a heartbeat thread reports progress and extends the
//! lease. A 409 means the lease is gone (it expired and another worker took
//! the job, or the job was canceled): the conversion is canceled and the job
//! abandoned without touching it again. On shutdown (SIGTERM) the conversion
//! is canceled too, and the job handed back with a retryable failure. A
//! worker killed outright needs nothing: its lease simply expires.

use std::fs::File;
use std::io::{self, Read, Write};
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::Arc;
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

use super::api::{ApiClient, ClaimedJob};
use super::isolate::{convert_in_child, ConverterProcess};
use super::notify::{JobEvent, JobEventData, NotifierHandle, Recipients};
use super::{JobId, WorkerError};
use crate::{ConvertError, ConvertOptions};

/// What one worker needs to process jobs.
pub struct WorkerContext {
    /// The gateway.
    pub api: ApiClient,
    /// Sent with each claim, for the gateway's records.
    pub worker_id: String,
    /// Where temporary inputs and outputs go (a fresh directory per job).
    pub work_dir: std::path::PathBuf,
    /// Conversion settings (bit rate, threads).
    pub convert: ConvertOptions,
    /// The process conversions run in, and its limits.
    pub converter: ConverterProcess,
    /// Set by SIGTERM: stop claiming, hand the current job back.
    pub shutdown: Arc<AtomicBool>,
    /// Where job-end notifications go, if anywhere.
    pub notifier: Option<NotifierHandle>,
}

/// How a call to [`process_next_job`] ended.
#[derive(Debug, Clone, PartialEq)]
pub enum JobOutcome {
    /// The queue was empty.
    NoJob,
    /// The job was converted, uploaded and completed.
    Done(JobId),
    /// The job was reported failed; `status` is what the gateway made of it
    /// (`queued` = it will be retried, `failed` = final).
    Failed {
        /// The job.
        job: JobId,
        /// Why.
        reason: String,
        /// Whether the worker asked for a retry.
        retryable: bool,
        /// The job's status after the report.
        status: String,
    },
    /// The lease was lost; the job was left alone.
    Abandoned(JobId),
}

/// Claims one job and processes it.
///
/// # Errors
/// Only errors outside a job (the claim itself, the token) are returned;
/// everything that happens to a claimed job ends in a [`JobOutcome`].
pub fn process_next_job(ctx: &WorkerContext) -> Result<JobOutcome, WorkerError> {
    let Some(job) = ctx.api.claim(&ctx.worker_id)? else {
        return Ok(JobOutcome::NoJob);
    };
    tracing::info!(job = %job.job_id, attempt = job.attempt, "claimed");
    let lost = Arc::new(AtomicBool::new(false));
    let cancel = Arc::new(AtomicBool::new(false));
    let progress = Arc::new(AtomicU8::new(0));
    let (stop_tx, stop_rx) = mpsc::channel::<()>();
    let result = std::thread::scope(|scope| {
        scope.spawn(|| heartbeat(ctx, &job, &progress, &lost, &cancel, stop_rx));
        let result = run_job(ctx, &job, &progress, &cancel);
        drop(stop_tx);
        result
    });
    let outcome = finish(ctx, &job, result, lost.load(Ordering::Relaxed));
    tracing::info!(job = %job.job_id, ?outcome, "job ended");
    Ok(outcome)
}

/// Heartbeats every third of the lease (between 1 s and 30 s) until told to
/// stop; marks the job lost on 409 or once the lease has surely expired.
fn heartbeat(
    ctx: &WorkerContext,
    job: &ClaimedJob,
    progress: &AtomicU8,
    lost: &AtomicBool,
    cancel: &AtomicBool,
    stop: mpsc::Receiver<()>,
) {
    let lease = Duration::from_secs(job.lease_secs.max(1));
    let every = (lease / 3).clamp(Duration::from_secs(1), Duration::from_secs(30));
    let mut next_beat = Instant::now() + every;
    let mut lease_end = Instant::now() + lease;
    loop {
        match stop.recv_timeout(Duration::from_millis(200)) {
            Err(RecvTimeoutError::Timeout) => {}
            _ => return,
        }
        if ctx.shutdown.load(Ordering::Relaxed) {
            cancel.store(true, Ordering::Relaxed);
        }
        if Instant::now() < next_beat {
            continue;
        }
        next_beat = Instant::now() + every;
        let percent = progress.load(Ordering::Relaxed);
        match ctx.api.heartbeat(&job.job_id, job.attempt, percent) {
            Ok(()) => lease_end = Instant::now() + lease,
            Err(WorkerError::LeaseLost(_)) => {
                tracing::warn!(job = %job.job_id, "lease lost (409): abandoning the job");
                lost.store(true, Ordering::Relaxed);
                cancel.store(true, Ordering::Relaxed);
                return;
            }
            Err(e) if Instant::now() >= lease_end => {
                tracing::warn!(job = %job.job_id, error = %e, "lease expired without a heartbeat");
                lost.store(true, Ordering::Relaxed);
                cancel.store(true, Ordering::Relaxed);
                return;
            }
            Err(e) => tracing::info!(job = %job.job_id, error = %e, "heartbeat failed; retrying"),
        }
    }
}

/// Download, convert, upload, complete. Returns the output's duration.
fn run_job(
    ctx: &WorkerContext,
    job: &ClaimedJob,
    progress: &AtomicU8,
    cancel: &Arc<AtomicBool>,
) -> Result<f64, WorkerError> {
    let dir = tempfile::Builder::new()
        .prefix(&format!("job-{}-", job.job_id))
        .tempdir_in(&ctx.work_dir)
        .map_err(|e| WorkerError::io("creating the job's work directory", e))?;
    let input = dir.path().join(format!("input.{}", extension(job)));
    download(ctx, job, &input, cancel)?;
    let output = dir.path().join("output.mp3");
    let options = ConvertOptions {
        cancel: Some(Arc::clone(cancel)),
        ..ctx.convert.clone()
    };
    let summary = convert_in_child(&ctx.converter, &input, &output, &options, &mut |p| {
        if let Some(total) = p.total_secs.filter(|t| *t > 0.0) {
            // 0–95 for converting; the upload is the rest.
            let percent = (p.done_secs / total * 95.0).clamp(0.0, 95.0) as u8;
            progress.store(percent, Ordering::Relaxed);
        }
    })?;
    upload_with_retries(ctx, job, &output)?;
    progress.store(100, Ordering::Relaxed);
    ctx.api
        .complete(&job.job_id, job.attempt, summary.output_duration_secs)?;
    Ok(summary.output_duration_secs)
}

/// A safe extension for the input file (a hint for the demuxer only).
fn extension(job: &ClaimedJob) -> String {
    let from_name = job
        .filename
        .as_deref()
        .and_then(|n| Path::new(n).extension())
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    from_name
        .filter(|e| (1..=5).contains(&e.len()) && e.bytes().all(|b| b.is_ascii_alphanumeric()))
        .unwrap_or_else(|| "bin".into())
}

/// Streams the input to `path`, hashing as it goes, and checks size and hash.
fn download(
    ctx: &WorkerContext,
    job: &ClaimedJob,
    path: &Path,
    cancel: &AtomicBool,
) -> Result<(), WorkerError> {
    let mut body = ctx.api.input(&job.job_id)?;
    let mut file = File::create(path).map_err(|e| WorkerError::io("creating the input file", e))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 256 * 1024];
    let mut size = 0u64;
    loop {
        if cancel.load(Ordering::Relaxed) {
            return Err(ConvertError::Canceled.into());
        }
        let n = match body.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(WorkerError::io("downloading the input", e)),
        };
        size += n as u64;
        if size > job.input_size {
            return Err(WorkerError::InputMismatch(format!(
                "more than the announced {} bytes",
                job.input_size
            )));
        }
        hasher.update(&buf[..n]);
        file.write_all(&buf[..n])
            .map_err(|e| WorkerError::io("writing the input file", e))?;
    }
    file.sync_all()
        .map_err(|e| WorkerError::io("writing the input file", e))?;
    let digest: String = hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    if size != job.input_size {
        return Err(WorkerError::InputMismatch(format!(
            "{size} bytes instead of {}",
            job.input_size
        )));
    }
    if !digest.eq_ignore_ascii_case(&job.input_sha256) {
        return Err(WorkerError::InputMismatch("SHA-256 differs".into()));
    }
    Ok(())
}

/// PUT is idempotent per attempt, so transient failures are simply retried.
fn upload_with_retries(
    ctx: &WorkerContext,
    job: &ClaimedJob,
    mp3: &Path,
) -> Result<(), WorkerError> {
    let mut delay = Duration::from_millis(500);
    for attempt in 1.. {
        match ctx.api.put_output(&job.job_id, job.attempt, mp3) {
            Err(e)
                if e.is_transient() && !matches!(e, WorkerError::LeaseLost(_)) && attempt < 4 =>
            {
                tracing::info!(job = %job.job_id, error = %e, "upload failed; retrying");
                std::thread::sleep(delay);
                delay *= 2;
            }
            other => return other,
        }
    }
    Ok(())
}

/// Turns the job's result into reports to the gateway and the owner.
fn finish(
    ctx: &WorkerContext,
    job: &ClaimedJob,
    result: Result<f64, WorkerError>,
    lost: bool,
) -> JobOutcome {
    let id = job.job_id.clone();
    let error = match result {
        Ok(duration) => {
            notify(ctx, job, "done", Some(duration), None);
            return JobOutcome::Done(id);
        }
        Err(WorkerError::LeaseLost(_)) => return JobOutcome::Abandoned(id),
        Err(_) if lost => return JobOutcome::Abandoned(id),
        Err(e) => e,
    };
    let shutting_down = matches!(error, WorkerError::Convert(ConvertError::Canceled));
    let (reason, retryable) = if shutting_down {
        ("the worker shut down".to_string(), true)
    } else {
        (error.to_string(), error.is_transient())
    };
    tracing::warn!(job = %id, %reason, retryable, "job failed");
    match ctx.api.fail(&id, job.attempt, &reason, retryable) {
        Ok(status) => {
            if status == "failed" {
                notify(ctx, job, "failed", None, Some(reason.clone()));
            }
            JobOutcome::Failed {
                job: id,
                reason,
                retryable,
                status,
            }
        }
        Err(e) => {
            // The lease will expire and the job be retried or failed then.
            tracing::warn!(job = %id, error = %e, "could not report the failure");
            JobOutcome::Abandoned(id)
        }
    }
}

fn notify(
    ctx: &WorkerContext,
    job: &ClaimedJob,
    status: &'static str,
    duration_secs: Option<f64>,
    error: Option<String>,
) {
    let Some(notifier) = &ctx.notifier else {
        return;
    };
    let event = JobEvent {
        kind: if status == "done" {
            "job.done"
        } else {
            "job.failed"
        },
        timestamp: std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs()),
        data: JobEventData {
            job_id: job.job_id.to_string(),
            status,
            filename: job.filename.clone(),
            duration_secs,
            error,
        },
    };
    let to = Recipients {
        email: job.owner_email.clone(),
        callback_url: job.callback_url.clone(),
    };
    notifier.notify(&to, event);
}
