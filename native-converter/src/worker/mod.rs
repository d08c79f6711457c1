//! `clipwave-worker`: the native side of the job queue.
//!
//! It talks to the gateway's internal API (`docs/internal-api.md`) with a
//! service token, claims jobs under a lease, converts them with
//! [`crate::convert_file`] (in a child process) and reports back; a job whose lease expires (the
//! worker died) is simply claimed again by another worker, and every call
//! names its attempt, so a late worker can never overwrite a newer one.
//!
//! # Layout
//! - [`api`]: the typed HTTP client and the token cache.
//! - [`job`]: [`process_next_job`], one job end to end, with heartbeats.
//! - [`isolate`]: each conversion in a child process with limits, so a
//!   hostile file that crashes or hangs the decoder costs one job, not the
//!   worker.
//! - [`run`]: the loop around it (concurrency, drain, backoff, shutdown).
//! - [`notify`]: e-mail and signed webhooks when a job ends, off the job path.
//! - `job_id` and `error`: the [`JobId`] newtype and [`WorkerError`].

pub mod api;
mod error;
pub mod isolate;
pub mod job;
pub mod notify;
pub mod run;

pub use api::{ApiClient, ClaimedJob};
pub use clipwave_ids::JobId;
pub use error::WorkerError;
pub use isolate::ConverterProcess;
pub use job::{process_next_job, JobOutcome, WorkerContext};
pub use run::{run, LoopOptions};
