//! Faults (issue 9): the host and workers killed with SIGKILL at awkward
//! moments. What was finished must survive, what was half-done must be
//! retried or swept, and the stores must end consistent — judged by
//! [`crate::store_check`], which reads the store files directly.

use std::{
    io::Write,
    net::TcpStream,
    time::{Duration, Instant},
};

use reqwest::Method;
use serde_json::{json, Value};

use crate::{
    gateway_support::{
        claim, fake_mp4, job, post_json, put_output, sha256_hex, upload_small, user, worker_token,
    },
    helpers::{json, make_test_video, spawn_app_with, TestApp, Worker},
    store_check::{check_stores, media_key_count, StoreReport},
};

/// `POST /internal/sweep` with a worker's service token.
fn sweep(app: &TestApp) -> Value {
    let response = post_json(app, "/internal/sweep", &worker_token(app), json!({}));
    assert_eq!(response.status(), 200, "sweep");
    json(response)
}

/// Waits out `upload_stale_secs` (2 s in these tests), sweeps, and checks
/// the stores independently: nothing orphaned, nothing broken.
fn sweep_then_check(app: &TestApp) -> StoreReport {
    std::thread::sleep(Duration::from_millis(2_500));
    sweep(app);
    let stores = check_stores(app);
    assert!(
        stores.orphans.is_empty() && stores.broken.is_empty(),
        "{stores:?}"
    );
    stores
}

/// Polls `condition` every 50 ms for up to `limit`.
fn wait_for(what: &str, limit: Duration, mut condition: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !condition() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn wait_until_done(app: &TestApp, token: &str, id: &str, limit: Duration) -> Value {
    let deadline = Instant::now() + limit;
    loop {
        let seen = job(app, token, id);
        match seen["status"].as_str() {
            Some("done") => return seen,
            Some("queued" | "processing") => {}
            other => panic!("job {id} ended {other:?}: {seen}"),
        }
        assert!(Instant::now() < deadline, "job {id} not done: {seen}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// The job's mp3, checked with ffprobe: an MP3 stream of about `seconds`.
fn assert_valid_mp3(app: &TestApp, token: &str, id: &str, seconds: f64) {
    let response = app
        .request(Method::GET, &format!("/download?fid={id}"))
        .bearer_auth(token)
        .send()
        .expect("download");
    assert_eq!(response.status(), 200, "download {id}");
    let bytes = response.bytes().expect("body");
    let file = tempfile::NamedTempFile::new().expect("temp file");
    std::fs::write(file.path(), &bytes).expect("write mp3");
    let probe = std::process::Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-show_entries",
            "stream=codec_name:format=duration",
        ])
        .args(["-of", "default=noprint_wrappers=1"])
        .arg(file.path())
        .output()
        .expect("ffprobe");
    let text = String::from_utf8_lossy(&probe.stdout);
    assert!(text.contains("codec_name=mp3"), "{id}: not an mp3: {text}");
    let duration: f64 = text
        .lines()
        .find_map(|line| line.strip_prefix("duration="))
        .and_then(|d| d.parse().ok())
        .unwrap_or_else(|| panic!("{id}: no duration in {text}"));
    assert!(
        (duration - seconds).abs() < 0.5,
        "{id}: {duration} s, not {seconds} s"
    );
}

/// Starts an upload over a raw socket that declares `declared` bytes and
/// sends only `sent`: the connection stays open, as a slow client's would.
fn start_partial_upload(app: &TestApp, token: &str, declared: usize, sent: usize) -> TcpStream {
    let address = app.address.trim_start_matches("http://");
    let mut stream = TcpStream::connect(address).expect("connect");
    let head = format!(
        "POST /upload?filename=half.mp4 HTTP/1.1\r\nHost: {address}\r\n\
         Authorization: Bearer {token}\r\nContent-Type: video/mp4\r\n\
         Content-Length: {declared}\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).expect("send head");
    stream.write_all(&fake_mp4(sent)).expect("send body");
    stream
}

#[test]
fn a_host_killed_mid_upload_keeps_finished_work_and_the_sweep_leaves_no_orphan() {
    let mut app = spawn_app_with(&[("upload_stale_secs", "2")]);
    let owner = user(&app, "kai");
    let kept = [
        upload_small(&app, &owner.access, "one.mp4"),
        upload_small(&app, &owner.access, "two.mp4"),
    ];
    // A third job with a stored output, as a worker would leave it.
    let service = worker_token(&app);
    let claimed = claim(&app, &service).expect("a queued job");
    let with_output = claimed["job_id"].as_str().expect("job_id").to_owned();
    let attempt = claimed["attempt"].as_i64().expect("attempt");
    assert_eq!(
        put_output(&app, &service, &with_output, attempt, &fake_mp4(700_000)).status(),
        204
    );
    let before = check_stores(&app);
    assert!(
        before.orphans.is_empty() && before.broken.is_empty(),
        "{before:?}"
    );
    let keys_before = media_key_count(&app);

    // 6 MiB of a declared 64 MiB: about a dozen chunks and a marker.
    let half_upload = start_partial_upload(&app, &owner.access, 64 << 20, 6 << 20);
    wait_for("the upload's chunks", Duration::from_secs(30), || {
        media_key_count(&app) >= keys_before + 10
    });
    app.crash_and_restart_host(&[]);
    drop(half_upload);

    let after_crash = check_stores(&app);
    assert_eq!(
        after_crash.orphans.len(),
        1,
        "the cut upload: {after_crash:?}"
    );
    assert!(after_crash.broken.is_empty(), "{after_crash:?}");

    std::thread::sleep(Duration::from_millis(2_500)); // past upload_stale_secs
    let report = sweep(&app);
    assert_eq!(
        report["orphaned_blobs"].as_array().map(Vec::len),
        Some(1),
        "{report}"
    );
    let swept = check_stores(&app);
    assert!(swept.orphans.is_empty(), "{swept:?}");
    assert!(swept.broken.is_empty(), "{swept:?}");
    assert_eq!(swept.owned, 3, "two inputs and one output: {swept:?}");
    assert_eq!(swept.markers, 0, "{swept:?}");
    assert_eq!(media_key_count(&app), keys_before);

    // The finished uploads are intact and still listed.
    for id in kept.iter().chain([&with_output]) {
        assert_eq!(job(&app, &owner.access, id)["job_id"], id.as_str());
    }
    let input = app
        .request(Method::GET, &format!("/internal/jobs/{}/input", kept[1]))
        .bearer_auth(&service)
        .send()
        .expect("input");
    assert_eq!(input.status(), 200);
    assert_eq!(
        sha256_hex(&input.bytes().expect("body")),
        sha256_hex(&fake_mp4(4096))
    );
    // A second sweep finds nothing more.
    assert_eq!(sweep(&app)["orphaned_blobs"], json!([]));
}

#[test]
fn a_host_killed_during_a_conversion_comes_back_and_the_job_ends_done_once() {
    let mut app = spawn_app_with(&[("upload_stale_secs", "2"), ("job_lease_secs", "4")]);
    let owner = user(&app, "lea");
    let dir = tempfile::tempdir().expect("temp dir");
    let video = dir.path().join("clip.mp4");
    make_test_video(&video, 180);
    let response = app
        .request(Method::POST, "/upload?filename=clip.mp4")
        .bearer_auth(&owner.access)
        .header("content-type", "video/mp4")
        .body(std::fs::read(&video).expect("read video"))
        .send()
        .expect("upload");
    assert_eq!(response.status(), 202);
    let id = json(response)["job_id"]
        .as_str()
        .expect("job_id")
        .to_owned();

    let _worker = app.start_worker();
    wait_for(
        "the worker to claim the job",
        Duration::from_secs(60),
        || job(&app, &owner.access, &id)["status"] == "processing",
    );
    app.crash_and_restart_host(&[]);

    let job = wait_until_done(&app, &owner.access, &id, Duration::from_secs(120));
    assert_valid_mp3(&app, &owner.access, &id, 180.0);
    assert!(job["attempts"].as_i64().is_some_and(|a| a >= 1), "{job}");
    let stores = sweep_then_check(&app);
    assert_eq!(stores.owned, 2, "one input and exactly one mp3: {stores:?}");
}

/// A small deterministic generator, seeded from the clock and printed, so
/// a failing run can be replayed by setting `FAULT_SEED`.
struct Dice(u64);

impl Dice {
    fn new() -> Self {
        let seed = std::env::var("FAULT_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| {
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(1, |d| d.as_nanos() as u64)
            });
        eprintln!("fault dice: FAULT_SEED={seed}");
        Self(seed | 1)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

#[test]
fn workers_killed_at_random_during_a_batch_of_20_leave_every_job_done_once() {
    let app = spawn_app_with(&[
        ("job_lease_secs", "2"),
        ("max_attempts", "20"),
        ("upload_stale_secs", "2"),
    ]);
    let owner = user(&app, "max");
    let dir = tempfile::tempdir().expect("temp dir");
    let video = dir.path().join("clip.mp4");
    make_test_video(&video, 60);
    let bytes = std::fs::read(&video).expect("read video");
    let ids: Vec<String> = (0..20)
        .map(|n| {
            let response = app
                .request(Method::POST, &format!("/upload?filename=clip{n}.mp4"))
                .bearer_auth(&owner.access)
                .header("content-type", "video/mp4")
                .body(bytes.clone())
                .send()
                .expect("upload");
            assert_eq!(response.status(), 202);
            json(response)["job_id"]
                .as_str()
                .expect("job_id")
                .to_owned()
        })
        .collect();

    let mut dice = Dice::new();
    let mut workers: Vec<Worker> = (0..2).map(|_| app.start_worker()).collect();
    let deadline = Instant::now() + Duration::from_secs(300);
    let statuses = || -> Vec<String> {
        ids.iter()
            .map(|id| job(&app, &owner.access, id)["status"].to_string())
            .collect()
    };
    // Eight kills, each aimed at a moment when some job is being converted.
    for _ in 0..8 {
        loop {
            let now = statuses();
            assert!(
                now.iter().any(|s| s != "\"done\""),
                "the batch finished before the faults were injected"
            );
            if now.iter().any(|s| s == "\"processing\"") {
                break;
            }
            assert!(Instant::now() < deadline, "no job was picked up");
            std::thread::sleep(Duration::from_millis(50));
        }
        std::thread::sleep(Duration::from_millis(dice.below(400)));
        let victim = dice.below(workers.len() as u64) as usize;
        drop(workers.swap_remove(victim)); // SIGKILL
        workers.push(app.start_worker());
    }
    while statuses().iter().any(|s| s != "\"done\"") {
        assert!(Instant::now() < deadline, "the batch did not finish");
        std::thread::sleep(Duration::from_millis(300));
    }

    let mut retried = 0;
    for id in &ids {
        let seen = job(&app, &owner.access, id);
        assert_eq!(seen["status"], "done", "{seen}");
        retried += usize::from(seen["attempts"].as_i64().unwrap_or(0) > 1);
        assert_valid_mp3(&app, &owner.access, id, 60.0);
    }
    eprintln!("{retried} of 20 jobs needed more than one attempt");
    assert!(retried >= 1, "no kill hit a job in progress");
    drop(workers);
    let stores = sweep_then_check(&app);
    assert_eq!(
        stores.owned, 40,
        "20 inputs and exactly one mp3 each: {stores:?}"
    );
}
