//! The whole system: a real upload converted by a real worker, downloaded
//! by the API and by the CLI.

use std::time::{Duration, Instant};

use assert_cmd::Command;
use serde_json::Value;

use crate::{
    auth_support::{login_json, register, tokens},
    helpers::{make_test_video, spawn_app, target_binary, TestApp},
};

const PASSWORD: &str = "correct horse battery";

/// Polls the job until it leaves queued/processing.
fn wait_until_finished(app: &TestApp, access: &str, job_id: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let job: Value = app
            .request(reqwest::Method::GET, &format!("/jobs/{job_id}"))
            .bearer_auth(access)
            .send()
            .unwrap()
            .json()
            .unwrap();
        let status = job["status"].as_str().unwrap_or_default().to_string();
        if status != "queued" && status != "processing" {
            return job;
        }
        assert!(Instant::now() < deadline, "job still {status}: {job}");
        std::thread::sleep(Duration::from_millis(300));
    }
}

fn is_mp3(bytes: &[u8]) -> bool {
    bytes.starts_with(b"ID3") || (bytes.len() > 2 && bytes[0] == 0xFF && bytes[1] & 0xE0 == 0xE0)
}

#[test]
fn an_uploaded_video_is_converted_by_the_worker_and_downloadable() {
    let app = spawn_app();
    let _worker = app.start_worker();
    let media = tempfile::tempdir().unwrap();
    let video = media.path().join("holiday.mp4");
    make_test_video(&video, 3);
    register(&app, "convert@example.com", PASSWORD);
    let user = tokens(login_json(&app, "convert@example.com", PASSWORD));

    let accepted: Value = app
        .request(reqwest::Method::POST, "/upload?filename=holiday.mp4")
        .bearer_auth(&user.access)
        .header("content-type", "video/mp4")
        .body(std::fs::read(&video).unwrap())
        .send()
        .unwrap()
        .json()
        .unwrap();
    let job_id = accepted["job_id"].as_str().unwrap().to_string();
    let job = wait_until_finished(&app, &user.access, &job_id);
    let audio = app
        .request(reqwest::Method::GET, &format!("/download?fid={job_id}"))
        .bearer_auth(&user.access)
        .send()
        .unwrap();

    assert_eq!(job["status"], "done", "{job}");
    assert_eq!(job["progress"], 100);
    let duration = job["duration_secs"].as_f64().unwrap();
    assert!((duration - 3.0).abs() < 0.5, "{job}");
    assert_eq!(audio.status(), 200);
    assert_eq!(audio.headers()["content-type"], "audio/mpeg");
    assert_eq!(
        audio.headers()["content-disposition"],
        "attachment; filename=\"holiday.mp3\""
    );
    assert!(is_mp3(&audio.bytes().unwrap()));
}

#[test]
fn a_file_that_is_not_really_a_video_fails_with_a_reason_the_owner_can_read() {
    let app = spawn_app();
    let _worker = app.start_worker();
    register(&app, "broken@example.com", PASSWORD);
    let user = tokens(login_json(&app, "broken@example.com", PASSWORD));
    // Passes the upload's magic-byte check, then turns out to have no usable media.
    let mut fake = b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2".to_vec();
    fake.extend(std::iter::repeat_n(0u8, 4096));

    let accepted: Value = app
        .request(reqwest::Method::POST, "/upload?filename=fake.mp4")
        .bearer_auth(&user.access)
        .header("content-type", "video/mp4")
        .body(fake)
        .send()
        .unwrap()
        .json()
        .unwrap();
    let job = wait_until_finished(&app, &user.access, accepted["job_id"].as_str().unwrap());

    assert_eq!(job["status"], "failed", "{job}");
    assert!(
        !job["error"].as_str().unwrap_or_default().is_empty(),
        "{job}"
    );
}

#[test]
fn the_cli_uploads_waits_and_downloads_the_mp3() {
    let app = spawn_app();
    let _worker = app.start_worker();
    let work = tempfile::tempdir().unwrap();
    let video = work.path().join("talk.mp4");
    make_test_video(&video, 2);
    register(&app, "cli-flow@example.com", PASSWORD);
    let clipwave = |args: &[&str]| {
        let mut command = Command::new(target_binary("clipwave"));
        command
            .env("CLIPWAVE_SERVER", &app.address)
            .env("CLIPWAVE_CONFIG_DIR", work.path().join("config"))
            .current_dir(work.path())
            .timeout(Duration::from_secs(180))
            .args(args);
        command
    };
    clipwave(&[
        "login",
        "--email",
        "cli-flow@example.com",
        "--password-stdin",
    ])
    .write_stdin(format!("{PASSWORD}\n"))
    .assert()
    .success();

    let output = clipwave(&["--json", "upload", "talk.mp4", "--wait", "-o", "talk.mp3"])
        .output()
        .unwrap();

    assert!(output.status.success(), "{output:?}");
    let mp3 = std::fs::read(work.path().join("talk.mp3")).unwrap();
    assert!(is_mp3(&mp3));
    let summary: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(summary["job"]["status"], "done");
    let listed = clipwave(&["jobs"]).output().unwrap();
    assert!(String::from_utf8_lossy(&listed.stdout).contains("done"));
}
