//! The `clipwave-worker` binary as a process: drain mode, SIGTERM, kill -9.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use anyhow::Result;

use crate::gateway_double::{Config, GatewayDouble, CLIENT_ID, CLIENT_SECRET};
use crate::helpers::{looks_like_mp3, wav_bytes, WORKER_BIN};
use crate::sinks::wait;

fn spawn_worker(gateway: &GatewayDouble, dir: &std::path::Path, drain: bool) -> Result<Child> {
    spawn_worker_with(gateway, dir, drain, &[])
}

fn spawn_worker_with(
    gateway: &GatewayDouble,
    dir: &std::path::Path,
    drain: bool,
    extra_args: &[&str],
) -> Result<Child> {
    let secret = dir.join("client-secret");
    std::fs::write(&secret, format!("{CLIENT_SECRET}\n"))?;
    let mut cmd = Command::new(WORKER_BIN);
    cmd.args(["--api", &gateway.url, "--client-id", CLIENT_ID])
        .arg("--client-secret-file")
        .arg(&secret)
        .arg("--work-dir")
        .arg(dir)
        .args(extra_args)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    if drain {
        cmd.arg("--drain");
    }
    Ok(cmd.spawn()?)
}

fn wait_exit(child: &mut Child, secs: u64) -> Option<i32> {
    wait(secs, || {
        child
            .try_wait()
            .ok()
            .flatten()
            .map(|s| s.code().unwrap_or(-1))
    })
}

fn signal(child: &Child, name: &str) -> Result<()> {
    let status = Command::new("kill")
        .args([name, &child.id().to_string()])
        .status()?;
    anyhow::ensure!(status.success(), "kill {name} failed");
    Ok(())
}

#[test]
fn a_draining_worker_converts_the_queue_and_exits_0() -> Result<()> {
    let gateway = GatewayDouble::start(Config::default());
    let a = gateway.add_job(wav_bytes(1.0), "a.wav", None, None);
    let b = gateway.add_job(wav_bytes(1.0), "b.wav", None, None);
    let dir = tempfile::tempdir()?;
    let mut worker = spawn_worker(&gateway, dir.path(), true)?;
    assert_eq!(wait_exit(&mut worker, 60), Some(0));
    assert_eq!(gateway.job(&a).status, "done");
    assert_eq!(gateway.job(&b).status, "done");
    Ok(())
}

#[test]
fn sigterm_hands_the_running_job_back_for_a_retry() -> Result<()> {
    let config = Config {
        lease_secs: 30,
        input_bytes_per_sec: 20_000,
        ..Config::default()
    };
    let gateway = GatewayDouble::start(config);
    let id = gateway.add_job(wav_bytes(1.0), "a.wav", None, None);
    let dir = tempfile::tempdir()?;
    let mut worker = spawn_worker(&gateway, dir.path(), false)?;
    wait(20, || {
        (gateway.job(&id).status == "processing").then_some(())
    });
    signal(&worker, "-TERM")?;
    assert_eq!(wait_exit(&mut worker, 20), Some(0));
    let job = gateway.job(&id);
    assert_eq!((job.status.as_str(), job.attempts), ("queued", 1));
    assert_eq!(job.error.as_deref(), Some("the worker shut down"));
    Ok(())
}

#[test]
fn a_worker_killed_mid_job_loses_nothing_and_the_next_one_finishes_it() -> Result<()> {
    let config = Config {
        lease_secs: 2,
        input_bytes_per_sec: 20_000,
        ..Config::default()
    };
    let gateway = GatewayDouble::start(config);
    let id = gateway.add_job(wav_bytes(1.0), "a.wav", None, None);
    let dir = tempfile::tempdir()?;
    let mut first = spawn_worker(&gateway, dir.path(), false)?;
    wait(20, || {
        (gateway.job(&id).status == "processing").then_some(())
    });
    signal(&first, "-KILL")?;
    let _ = first.wait();
    // Faster input for the second worker; wait for the lease to run out.
    std::thread::sleep(Duration::from_millis(2_500));
    let job = gateway.job(&id);
    assert_eq!((job.status.as_str(), job.attempts), ("processing", 1));
    let gateway_fast = &gateway;
    let mut second = spawn_worker(gateway_fast, dir.path(), true)?;
    assert_eq!(wait_exit(&mut second, 120), Some(0));
    let job = gateway.job(&id);
    assert_eq!((job.status.as_str(), job.attempts), ("done", 2));
    assert_eq!(
        job.outputs.len(),
        1,
        "only the finishing attempt stored an output"
    );
    assert!(looks_like_mp3(&job.outputs[&2]));
    Ok(())
}

/// `(state, parent)` of process `pid`, from `/proc/<pid>/stat`
/// ("pid (comm) state ppid ...").
fn process_state(pid: u32) -> Option<(char, u32)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let mut fields = stat.rsplit_once(')')?.1.split_whitespace();
    let state = fields.next()?.chars().next()?;
    Some((state, fields.next()?.parse().ok()?))
}

/// Live (not zombie) processes whose parent is `pid`.
fn children_of(pid: u32) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|child| matches!(process_state(*child), Some((state, parent)) if parent == pid && state != 'Z'))
        .collect()
}

#[test]
fn a_conversion_does_not_outlive_a_worker_killed_with_kill_9() -> Result<()> {
    let gateway = GatewayDouble::start(Config {
        lease_secs: 30,
        ..Config::default()
    });
    // Ten minutes of audio on one thread: the conversion runs for seconds,
    // longer than the child is given below to notice its worker is gone.
    let id = gateway.add_job(wav_bytes(600.0), "long.wav", None, None);
    let dir = tempfile::tempdir()?;
    let mut worker = spawn_worker_with(&gateway, dir.path(), false, &["--threads", "1"])?;
    let Some(children) = wait(60, || {
        Some(children_of(worker.id())).filter(|c| !c.is_empty())
    }) else {
        let _ = worker.kill();
        anyhow::bail!("the worker never started a conversion process");
    };
    signal(&worker, "-KILL")?;
    let _ = worker.wait();
    let gone = wait(1, || {
        children
            .iter()
            .all(|pid| process_state(*pid).is_none_or(|(state, _)| state == 'Z'))
            .then_some(())
    });
    assert!(
        gone.is_some(),
        "conversion processes {children:?} outlived their worker"
    );
    let job = gateway.job(&id);
    assert_eq!(
        (job.status.as_str(), job.outputs.len()),
        ("processing", 0),
        "the job waits for its lease to expire"
    );
    Ok(())
}
