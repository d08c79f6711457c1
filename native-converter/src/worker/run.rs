//! The worker loop: `concurrency` threads, each calling
//! [`process_next_job`] until told to stop.
//!
//! An empty queue is polled with a growing delay (1 s doubling to 30 s, reset
//! by any job) or, with `drain`, ends the thread: the Kubernetes Job mode,
//! where the process exits 0 once there is nothing left. Gateway errors back
//! off the same way; in drain mode, a gateway that stays unreachable for
//! [`DRAIN_GIVE_UP`] attempts in a row ends the run with an error, so a
//! Job does not hang forever.
//!
//! An idle worker also asks the gateway to sweep orphaned blobs (what a
//! gateway killed mid-upload leaves), at most every [`SWEEP_EVERY`]: the
//! worker is the one long-running process Clipwave has, and in drain mode
//! every Job run ends with a sweep.

use std::sync::{atomic::Ordering, Mutex};
use std::time::{Duration, Instant};

use super::job::{process_next_job, JobOutcome, WorkerContext};
use super::WorkerError;

/// Consecutive gateway errors after which a draining worker gives up.
pub const DRAIN_GIVE_UP: u32 = 5;
const MAX_IDLE_DELAY: Duration = Duration::from_secs(30);
/// The shortest time between two sweeps by one worker process.
pub const SWEEP_EVERY: Duration = Duration::from_secs(600);

/// How the loop should behave.
#[derive(Debug, Clone, Copy)]
pub struct LoopOptions {
    /// Threads processing jobs at once.
    pub concurrency: usize,
    /// Exit when the queue is empty.
    pub drain: bool,
}

/// Runs the loop until the queue is empty (`drain`) or shutdown; returns
/// the number of jobs that ended (done, failed or abandoned).
///
/// # Errors
/// A draining worker that cannot reach the gateway, or whose credentials
/// are refused, returns the last error.
pub fn run(ctx: &WorkerContext, options: LoopOptions) -> Result<u64, WorkerError> {
    let last_sweep = Mutex::new(None);
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..options.concurrency.max(1))
            .map(|_| scope.spawn(|| run_one(ctx, options.drain, &last_sweep)))
            .collect();
        let mut total = 0;
        let mut first_error = None;
        for handle in handles {
            match handle.join() {
                Ok(Ok(n)) => total += n,
                Ok(Err(e)) => {
                    first_error.get_or_insert(e);
                }
                Err(_) => {
                    first_error.get_or_insert(WorkerError::Protocol {
                        what: "the worker loop",
                        detail: "a worker thread panicked".into(),
                    });
                }
            }
        }
        first_error.map_or(Ok(total), Err)
    })
}

fn run_one(
    ctx: &WorkerContext,
    drain: bool,
    last_sweep: &Mutex<Option<Instant>>,
) -> Result<u64, WorkerError> {
    let mut jobs = 0u64;
    let mut delay = Duration::from_secs(1);
    let mut errors_in_a_row = 0u32;
    while !ctx.shutdown.load(Ordering::Relaxed) {
        match process_next_job(ctx) {
            Ok(JobOutcome::NoJob) if drain => {
                sweep_if_due(ctx, last_sweep);
                break;
            }
            Ok(JobOutcome::NoJob) => {
                sweep_if_due(ctx, last_sweep);
                sleep_unless_shutdown(ctx, delay);
                delay = (delay * 2).min(MAX_IDLE_DELAY);
            }
            Ok(_) => {
                jobs += 1;
                errors_in_a_row = 0;
                delay = Duration::from_secs(1);
            }
            Err(e) => {
                errors_in_a_row += 1;
                let give_up = !e.is_transient() || (drain && errors_in_a_row >= DRAIN_GIVE_UP);
                if give_up && drain {
                    return Err(e);
                }
                tracing::warn!(error = %e, "gateway error; backing off");
                sleep_unless_shutdown(ctx, delay);
                delay = (delay * 2).min(MAX_IDLE_DELAY);
            }
        }
    }
    Ok(jobs)
}

/// Sweeps unless this process (any thread) did within [`SWEEP_EVERY`].
/// Best effort: a failed sweep is logged and tried again next time.
fn sweep_if_due(ctx: &WorkerContext, last_sweep: &Mutex<Option<Instant>>) {
    {
        let Ok(mut last) = last_sweep.lock() else {
            return;
        };
        if last.is_some_and(|at| at.elapsed() < SWEEP_EVERY) {
            return;
        }
        *last = Some(Instant::now());
    }
    match ctx.api.sweep() {
        Ok(0) => tracing::debug!("sweep: nothing orphaned"),
        Ok(n) => tracing::info!(blobs = n, "sweep: deleted orphaned blobs"),
        Err(e) => {
            tracing::warn!(error = %e, "sweep failed; will retry");
            if let Ok(mut last) = last_sweep.lock() {
                *last = None;
            }
        }
    }
}

/// Sleeps in short steps so that SIGTERM is noticed at once.
fn sleep_unless_shutdown(ctx: &WorkerContext, total: Duration) {
    let step = Duration::from_millis(100);
    let mut slept = Duration::ZERO;
    while slept < total && !ctx.shutdown.load(Ordering::Relaxed) {
        std::thread::sleep(step);
        slept += step;
    }
}
