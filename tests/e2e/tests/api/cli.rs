//! The `clipwave` binary against the real app: sessions, refresh on 401,
//! revocation, and the messages and exit codes scripts rely on.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::Value;

use crate::{
    auth_support::{login_json, register, tokens},
    helpers::{spawn_app, spawn_app_with, TestApp},
};

const PASSWORD: &str = "correct horse battery";

/// `clipwave` with its own config folder, pointed at `app`.
fn clipwave(app: &TestApp, config: &Path) -> Command {
    let mut command = Command::new(cli_binary());
    command
        .env("CLIPWAVE_SERVER", &app.address)
        .env("CLIPWAVE_CONFIG_DIR", config)
        .timeout(std::time::Duration::from_secs(120));
    command
}

fn cli_binary() -> PathBuf {
    let exe = std::env::current_exe().expect("test binary path");
    exe.ancestors()
        .nth(2)
        .expect("profile folder")
        .join("clipwave")
}

fn signed_in(app: &TestApp, email: &str) -> tempfile::TempDir {
    let config = tempfile::tempdir().unwrap();
    assert_eq!(register(app, email, PASSWORD).status(), 201);
    clipwave(app, config.path())
        .args(["login", "--email", email, "--password-stdin"])
        .write_stdin(format!("{PASSWORD}\n"))
        .assert()
        .success();
    config
}

fn stored_tokens(config: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(config.join("credentials.json")).unwrap()).unwrap()
}

#[test]
fn login_keeps_tokens_in_a_private_file_and_never_prints_them() {
    let app = spawn_app();
    let config = tempfile::tempdir().unwrap();
    register(&app, "cli@example.com", PASSWORD);

    let output = clipwave(&app, config.path())
        .args(["login", "--email", "cli@example.com", "--password-stdin"])
        .write_stdin(format!("{PASSWORD}\n"))
        .output()
        .unwrap();

    assert!(output.status.success(), "{output:?}");
    let stored = stored_tokens(config.path());
    let access = stored["access_token"].as_str().unwrap();
    let printed = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(!printed.contains(access));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(config.path().join("credentials.json"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}

#[test]
fn whoami_and_jobs_work_once_signed_in_and_logout_ends_the_session() {
    let app = spawn_app();
    let config = signed_in(&app, "flow@example.com");

    let whoami = clipwave(&app, config.path())
        .args(["--json", "whoami"])
        .output()
        .unwrap();
    let jobs = clipwave(&app, config.path())
        .args(["jobs"])
        .output()
        .unwrap();
    clipwave(&app, config.path())
        .arg("logout")
        .assert()
        .success();
    let after = clipwave(&app, config.path())
        .arg("whoami")
        .output()
        .unwrap();

    assert!(whoami.status.success(), "{whoami:?}");
    let me: Value = serde_json::from_slice(&whoami.stdout).unwrap();
    assert_eq!(me["email"], "flow@example.com");
    assert!(String::from_utf8_lossy(&jobs.stdout).contains("No conversions yet."));
    assert_eq!(after.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&after.stderr).contains("clipwave login"));
}

#[test]
fn an_expired_access_token_is_refreshed_transparently() {
    let app = spawn_app_with(&[("access_ttl_secs", "1"), ("clock_leeway_secs", "0")]);
    let config = signed_in(&app, "refresh@example.com");
    let before = stored_tokens(config.path());
    std::thread::sleep(std::time::Duration::from_millis(2_500));

    let output = clipwave(&app, config.path())
        .args(["--json", "whoami"])
        .output()
        .unwrap();

    assert!(output.status.success(), "{output:?}");
    let after = stored_tokens(config.path());
    assert_ne!(before["access_token"], after["access_token"]);
    assert_ne!(before["refresh_token"], after["refresh_token"]);
}

#[test]
fn a_revoked_session_asks_the_user_to_log_in_again() {
    let app = spawn_app();
    let config = signed_in(&app, "revoked@example.com");
    let elsewhere = tokens(login_json(&app, "revoked@example.com", PASSWORD));
    let logout_all = app
        .request(reqwest::Method::POST, "/logout")
        .bearer_auth(&elsewhere.access)
        .json(&serde_json::json!({ "all": true }))
        .send()
        .unwrap();
    assert_eq!(logout_all.status(), 204);

    let output = clipwave(&app, config.path()).arg("jobs").output().unwrap();

    assert_eq!(output.status.code(), Some(3), "{output:?}");
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("log in"),
        "{output:?}"
    );
    assert!(!config.path().join("credentials.json").exists());
}

#[test]
fn api_errors_show_the_message_and_request_id_with_a_stable_exit_code() {
    let app = spawn_app();
    let config = signed_in(&app, "errors@example.com");

    let output = clipwave(&app, config.path())
        .args(["status", "0123456789abcdef0123456789abcdef"])
        .output()
        .unwrap();

    assert_eq!(output.status.code(), Some(4), "{output:?}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("not_found") && stderr.contains("request"),
        "{stderr}"
    );
}

#[test]
fn a_wrong_password_fails_with_exit_code_3() {
    let app = spawn_app();
    let config = tempfile::tempdir().unwrap();
    register(&app, "wrong@example.com", PASSWORD);

    let output = clipwave(&app, config.path())
        .args(["login", "--email", "wrong@example.com", "--password-stdin"])
        .write_stdin("not the password\n")
        .output()
        .unwrap();

    assert_eq!(output.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&output.stderr).contains("invalid_credentials"));
}
