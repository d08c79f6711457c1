//! `process_next_job`, one step at a time, against the contract double.

use std::time::Duration;

use anyhow::Result;
use clipwave_convert::worker::{process_next_job, run, JobOutcome, LoopOptions};

use crate::gateway_double::{Config, GatewayDouble};
use crate::helpers::{context, looks_like_mp3, wav_bytes};

#[test]
fn a_queued_job_is_converted_uploaded_and_completed() -> Result<()> {
    let gateway = GatewayDouble::start(Config::default());
    let id = gateway.add_job(wav_bytes(2.0), "tone.wav", None, None);
    let dir = tempfile::tempdir()?;
    let ctx = context(&gateway, dir.path(), None);

    let outcome = process_next_job(&ctx)?;

    assert!(
        matches!(&outcome, JobOutcome::Done(j) if j.as_str() == id),
        "{outcome:?}"
    );
    let job = gateway.job(&id);
    assert_eq!(
        (job.status.as_str(), job.attempts, job.progress),
        ("done", 1, 100)
    );
    assert!(looks_like_mp3(&job.outputs[&1]));
    let duration = job.duration_secs.unwrap_or_default();
    assert!((duration - 2.0).abs() < 0.01, "{duration}");
    assert_eq!(
        std::fs::read_dir(dir.path())?.count(),
        0,
        "work files left behind"
    );
    Ok(())
}

#[test]
fn an_empty_queue_gives_no_job_and_a_draining_loop_exits() -> Result<()> {
    let gateway = GatewayDouble::start(Config::default());
    let dir = tempfile::tempdir()?;
    let ctx = context(&gateway, dir.path(), None);
    assert_eq!(process_next_job(&ctx)?, JobOutcome::NoJob);
    gateway.add_job(wav_bytes(1.0), "a.wav", None, None);
    gateway.add_job(wav_bytes(1.0), "b.wav", None, None);
    let jobs = run(
        &ctx,
        LoopOptions {
            concurrency: 2,
            drain: true,
        },
    )?;
    assert_eq!(jobs, 2);
    Ok(())
}

#[test]
fn input_that_can_never_convert_fails_without_a_retry() -> Result<()> {
    let gateway = GatewayDouble::start(Config::default());
    let id = gateway.add_job(
        b"just some notes, not a video".to_vec(),
        "notes.mp4",
        None,
        None,
    );
    let dir = tempfile::tempdir()?;
    let outcome = process_next_job(&context(&gateway, dir.path(), None))?;
    let JobOutcome::Failed {
        retryable, status, ..
    } = outcome
    else {
        panic!("expected a failure, got {outcome:?}");
    };
    assert!(!retryable);
    assert_eq!(status, "failed");
    let job = gateway.job(&id);
    assert_eq!(job.status, "failed");
    assert!(job
        .error
        .unwrap_or_default()
        .contains("not a supported media file"));
    Ok(())
}

#[test]
fn a_damaged_download_is_failed_as_retryable_and_requeued() -> Result<()> {
    let gateway = GatewayDouble::start(Config::default());
    let id = gateway.add_job(wav_bytes(1.0), "a.wav", None, None);
    if let Some(job) = gateway.state().jobs.get_mut(&id) {
        job.sha256 = "00".repeat(32);
    }
    let dir = tempfile::tempdir()?;
    let outcome = process_next_job(&context(&gateway, dir.path(), None))?;
    assert!(
        matches!(&outcome, JobOutcome::Failed { retryable: true, status, .. } if status == "queued"),
        "{outcome:?}"
    );
    assert_eq!(gateway.job(&id).status, "queued");
    Ok(())
}

#[test]
fn a_job_canceled_while_it_runs_is_abandoned_and_never_completed() -> Result<()> {
    // Slow input and a short lease: heartbeats come every second while the
    // download still runs, and the first one after the cancel gets 409.
    let config = Config {
        lease_secs: 3,
        input_bytes_per_sec: 40_000,
        ..Config::default()
    };
    let gateway = GatewayDouble::start(config);
    let id = gateway.add_job(wav_bytes(1.0), "a.wav", None, None);
    let dir = tempfile::tempdir()?;
    let ctx = context(&gateway, dir.path(), None);
    let outcome = std::thread::scope(|s| {
        let worker = s.spawn(|| process_next_job(&ctx));
        std::thread::sleep(Duration::from_millis(500));
        gateway.cancel(&id);
        worker.join()
    });
    let outcome = outcome.map_err(|_| anyhow::anyhow!("worker panicked"))??;
    assert!(
        matches!(&outcome, JobOutcome::Abandoned(j) if j.as_str() == id),
        "{outcome:?}"
    );
    let job = gateway.job(&id);
    assert_eq!(job.status, "canceled");
    assert!(job.outputs.is_empty());
    Ok(())
}

#[test]
fn heartbeats_carry_progress_and_keep_a_short_lease_alive() -> Result<()> {
    // The download alone takes longer than the lease (4 s for 3 s).
    let config = Config {
        lease_secs: 3,
        input_bytes_per_sec: 90_000,
        ..Config::default()
    };
    let gateway = GatewayDouble::start(config);
    let id = gateway.add_job(wav_bytes(2.0), "a.wav", None, None);
    let dir = tempfile::tempdir()?;
    let outcome = process_next_job(&context(&gateway, dir.path(), None))?;
    assert!(matches!(outcome, JobOutcome::Done(_)), "{outcome:?}");
    let job = gateway.job(&id);
    assert!(job.heartbeats >= 2, "{} heartbeats", job.heartbeats);
    assert_eq!(job.attempts, 1);
    Ok(())
}

#[test]
fn a_revoked_token_is_replaced_and_the_call_retried() -> Result<()> {
    let gateway = GatewayDouble::start(Config::default());
    let dir = tempfile::tempdir()?;
    let ctx = context(&gateway, dir.path(), None);
    assert_eq!(process_next_job(&ctx)?, JobOutcome::NoJob);
    gateway.revoke_tokens();
    gateway.add_job(wav_bytes(1.0), "a.wav", None, None);
    assert!(matches!(process_next_job(&ctx)?, JobOutcome::Done(_)));
    let st = gateway.state();
    assert_eq!((st.token_requests, st.unauthorized), (2, 1));
    Ok(())
}

#[test]
fn a_token_is_renewed_before_it_expires() -> Result<()> {
    // A 4 s token is renewed once less than half of it is left.
    let gateway = GatewayDouble::start(Config {
        token_ttl_secs: 4,
        ..Config::default()
    });
    let dir = tempfile::tempdir()?;
    let ctx = context(&gateway, dir.path(), None);
    assert_eq!(process_next_job(&ctx)?, JobOutcome::NoJob);
    std::thread::sleep(Duration::from_millis(2_200));
    assert_eq!(process_next_job(&ctx)?, JobOutcome::NoJob);
    let st = gateway.state();
    assert_eq!((st.token_requests, st.unauthorized), (2, 0));
    Ok(())
}

/// The file is refused as corrupt (the decoder checks Matroska sizes
/// first); the child process reports that as a permanent failure with the
/// decoder's reason, and the same worker converts the next job. (A child
/// that dies of a signal is covered by `worker::isolate`'s unit tests.)
#[test]
fn the_fuzzers_matroska_file_fails_its_job_and_the_worker_goes_on() -> Result<()> {
    let gateway = GatewayDouble::start(Config::default());
    let hostile = crate::common::mkv_claiming_gigabytes();
    let bad = gateway.add_job(hostile, "crash.mkv", None, None);
    let good = gateway.add_job(wav_bytes(1.0), "after.wav", None, None);
    let dir = tempfile::tempdir()?;
    let ctx = context(&gateway, dir.path(), None);

    let outcome = process_next_job(&ctx)?;
    let JobOutcome::Failed {
        job,
        reason,
        retryable,
        status,
    } = outcome
    else {
        panic!("expected a failure, got {outcome:?}");
    };
    assert_eq!(job.as_str(), bad);
    assert!(!retryable, "{reason}");
    assert_eq!(status, "failed");
    assert!(reason.contains("Matroska element"), "{reason}");
    assert_eq!(gateway.job(&bad).error.as_deref(), Some(reason.as_str()));

    let outcome = process_next_job(&ctx)?;
    assert!(
        matches!(&outcome, JobOutcome::Done(j) if j.as_str() == good),
        "{outcome:?}"
    );
    assert_eq!(
        std::fs::read_dir(dir.path())?.count(),
        0,
        "work files left behind"
    );
    Ok(())
}
