//! The worker loop: `concurrency` threads, each calling
//! [`process_next_job`] until told to stop.
//!
//! An empty queue is polled with a growing delay (1 s doubling to 30 s, reset
//! by any job) or, with `drain`, ends the thread: the Kubernetes Job mode,
//! where the process exits 0 once there is nothing left. Gateway errors back
//! off the same way; in drain mode, a gateway that stays unreachable for
//! [`DRAIN_GIVE_UP`] attempts in a row ends the run with an error, so a
//! Job does not hang forever.

use std::sync::atomic::Ordering;
use std::time::Duration;

use super::job::{process_next_job, JobOutcome, WorkerContext};
use super::WorkerError;

/// Consecutive gateway errors after which a draining worker gives up.
pub const DRAIN_GIVE_UP: u32 = 5;
const MAX_IDLE_DELAY: Duration = Duration::from_secs(30);

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
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..options.concurrency.max(1))
            .map(|_| scope.spawn(|| run_one(ctx, options.drain)))
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

fn run_one(ctx: &WorkerContext, drain: bool) -> Result<u64, WorkerError> {
    let mut jobs = 0u64;
    let mut delay = Duration::from_secs(1);
    let mut errors_in_a_row = 0u32;
    while !ctx.shutdown.load(Ordering::Relaxed) {
        match process_next_job(ctx) {
            Ok(JobOutcome::NoJob) if drain => break,
            Ok(JobOutcome::NoJob) => {
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

/// Sleeps in short steps so that SIGTERM is noticed at once.
fn sleep_unless_shutdown(ctx: &WorkerContext, total: Duration) {
    let step = Duration::from_millis(100);
    let mut slept = Duration::ZERO;
    while slept < total && !ctx.shutdown.load(Ordering::Relaxed) {
        std::thread::sleep(step);
        slept += step;
    }
}
