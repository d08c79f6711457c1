//! `spawn_app()`: a fresh Clipwave per test, and a typed client for it.
//!
//! Each test gets its own temp folder holding a copy of `spin.toml` (with
//! component sources pointed at this build's target folder), a runtime
//! config whose stores live in that folder, fresh signing keys and dev
//! credentials, and its own `clipwave-host` process on `127.0.0.1:0`.
//! Nothing is shared between tests, so they run in parallel.

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::Duration,
};

use anyhow::{Context, Result};
use clipwave_host::testing::RunningHost;
use reqwest::blocking::{Client, RequestBuilder, Response};

/// The dev admin every test app starts with.
pub const ADMIN_EMAIL: &str = "admin@clipwave.test";
/// Its password.
pub const ADMIN_PASSWORD: &str = "admin-password-for-tests";
/// The worker's service client id.
pub const WORKER_CLIENT_ID: &str = "clipwave-worker";
/// Its secret.
pub const WORKER_CLIENT_SECRET: &str = "worker-secret-for-tests";

/// A running app and what tests need to talk to it.
pub struct TestApp {
    /// `http://127.0.0.1:<port>`.
    pub address: String,
    /// An HTTP client without redirects or default headers.
    pub client: Client,
    /// The app's folder (manifest, stores).
    pub dir: PathBuf,
    /// The host process.
    pub host: RunningHost,
    /// `SPIN_VARIABLE_*` values the host was started with.
    variables: BTreeMap<String, String>,
    _temp: tempfile::TempDir,
}

/// Starts a fresh app with the default variables.
pub fn spawn_app() -> TestApp {
    spawn_app_with(&[])
}

/// Starts a fresh app with some variables overridden (`("auth_mode", "remote")`).
pub fn spawn_app_with(variables: &[(&str, &str)]) -> TestApp {
    try_spawn(variables).expect("failed to start the app")
}

fn try_spawn(overrides: &[(&str, &str)]) -> Result<TestApp> {
    let temp = tempfile::tempdir()?;
    let dir = temp.path().to_path_buf();
    write_app_files(&dir, &target_dir()?)?;

    let keys = clipwave_token::generate_key_pair("test-key-1");
    let mut variables: BTreeMap<String, String> = BTreeMap::from(
        [
            ("jwt_signing_key", keys.private_jwk.clone()),
            ("jwt_public_keys", keys.jwks.clone()),
            ("admin_email", ADMIN_EMAIL.to_string()),
            ("admin_password", ADMIN_PASSWORD.to_string()),
            ("worker_client_id", WORKER_CLIENT_ID.to_string()),
            (
                "worker_client_secret_hash",
                hash_secret(WORKER_CLIENT_SECRET)?,
            ),
            ("open_registration", "true".to_string()),
        ]
        .map(|(name, value)| (name.to_owned(), value)),
    );
    for (name, value) in overrides {
        variables.insert((*name).to_owned(), (*value).to_owned());
    }

    let host = RunningHost::start(host_command(&dir, &variables, "127.0.0.1:0")?)?;
    let client = Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(120))
        .build()?;
    Ok(TestApp {
        address: host.address.clone(),
        client,
        dir,
        host,
        variables,
        _temp: temp,
    })
}

/// The `clipwave-host` invocation for the app in `dir`.
fn host_command(dir: &Path, variables: &BTreeMap<String, String>, listen: &str) -> Result<Command> {
    let target = target_dir()?;
    let mut command = Command::new(target.join("release").join("clipwave-host"));
    command
        .arg("--listen")
        .arg(listen)
        .arg("--from")
        .arg(dir.join("spin.toml"))
        .arg("--runtime-config-file")
        .arg(dir.join("runtime-config.toml"))
        .arg("--cache-dir")
        .arg(target.join("clipwave-host-cache"))
        .env("RUST_LOG", "warn");
    for (name, value) in variables {
        command.env(
            format!("SPIN_VARIABLE_{}", name.to_ascii_uppercase()),
            value,
        );
    }
    Ok(command)
}

impl TestApp {
    /// A request to `path` on this app.
    pub fn request(&self, method: reqwest::Method, path: &str) -> RequestBuilder {
        self.client
            .request(method, format!("{}{}", self.address, path))
    }

    /// `GET path`.
    pub fn get(&self, path: &str) -> Response {
        self.request(reqwest::Method::GET, path)
            .send()
            .expect("request failed")
    }

    /// Kills the host with SIGKILL (no clean-up of any kind) and starts a
    /// new one on the same address and stores, with `changes` applied to
    /// its variables. Workers pointed at the address carry on.
    pub fn crash_and_restart_host(&mut self, changes: &[(&str, &str)]) {
        self.host.signal_and_wait("KILL").expect("kill -9 the host");
        self.restart_host(changes);
    }

    /// Starts a new host on the same address and stores once the old one
    /// has exited (see [`TestApp::crash_and_restart_host`]).
    pub fn restart_host(&mut self, changes: &[(&str, &str)]) {
        for (name, value) in changes {
            self.variables
                .insert((*name).to_owned(), (*value).to_owned());
        }
        let listen = self.address.trim_start_matches("http://").to_owned();
        // The port was just freed; retry briefly in case it is still busy.
        let mut attempts = 0;
        self.host = loop {
            let command = host_command(&self.dir, &self.variables, &listen).expect("host command");
            match RunningHost::start(command) {
                Ok(host) => break host,
                Err(error) if attempts < 20 => {
                    attempts += 1;
                    eprintln!("restart: {error:#}; retrying");
                    std::thread::sleep(Duration::from_millis(250));
                }
                Err(error) => panic!("the host did not restart: {error:#}"),
            }
        };
        assert_eq!(
            self.host.address, self.address,
            "restarted on another address"
        );
    }

    /// Starts another host for the same app folder (same stores) on a new
    /// port, with `changes` applied to a copy of the variables: a second
    /// replica, as in a rolling update.
    pub fn start_replica(&self, changes: &[(&str, &str)]) -> RunningHost {
        let mut variables = self.variables.clone();
        for (name, value) in changes {
            variables.insert((*name).to_owned(), (*value).to_owned());
        }
        let command = host_command(&self.dir, &variables, "127.0.0.1:0").expect("host command");
        RunningHost::start(command).expect("start a replica")
    }

    /// A variable the host was started with.
    pub fn variable(&self, name: &str) -> &str {
        self.variables.get(name).map_or("", String::as_str)
    }

    /// The host's resident memory in KiB (`VmRSS`), read from `/proc`.
    pub fn host_rss_kib(&self) -> u64 {
        self.host.proc_status_kib("VmRSS:")
    }
}

/// The Cargo target folder this test binary was built into.
fn target_dir() -> Result<PathBuf> {
    // …/target/release/deps/api-<hash>
    let exe = std::env::current_exe()?;
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .context("unexpected test binary location")?;
    let target = profile_dir.parent().context("unexpected target layout")?;
    Ok(target.to_path_buf())
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Copies `spin.toml` with sources under `target`, and a runtime config
/// whose stores live in `dir`.
fn write_app_files(dir: &Path, target: &Path) -> Result<()> {
    let manifest = std::fs::read_to_string(workspace_root().join("spin.toml"))?;
    let target_text = target.to_str().context("target path is not UTF-8")?;
    let manifest = manifest.replace("source = \"target/", &format!("source = \"{target_text}/"));
    std::fs::write(dir.join("spin.toml"), manifest)?;
    let runtime_config = std::fs::read_to_string(workspace_root().join("runtime-config.toml"))?;
    std::fs::write(dir.join("runtime-config.toml"), runtime_config)?;
    Ok(())
}

fn hash_secret(secret: &str) -> Result<String> {
    use argon2::{password_hash::SaltString, Argon2, PasswordHasher};
    let salt = SaltString::encode_b64(b"clipwave-e2e-salt").map_err(|e| anyhow::anyhow!("{e}"))?;
    let hash = Argon2::default()
        .hash_password(secret.as_bytes(), &salt)
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(hash.to_string())
}

/// A `clipwave-worker` converting this app's jobs; killed when dropped.
pub struct Worker {
    child: Child,
    _dir: tempfile::TempDir,
}

impl TestApp {
    /// Starts one real worker against this app with the test service client.
    pub fn start_worker(&self) -> Worker {
        let dir = tempfile::tempdir().expect("worker dir");
        let secret = dir.path().join("client-secret");
        std::fs::write(&secret, WORKER_CLIENT_SECRET).expect("write secret");
        let child = Command::new(target_binary("clipwave-worker"))
            .arg("--api")
            .arg(&self.address)
            .args(["--client-id", WORKER_CLIENT_ID])
            .arg("--client-secret-file")
            .arg(&secret)
            .arg("--work-dir")
            .arg(dir.path())
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(if std::env::var_os("TEST_LOG").is_some() {
                Stdio::inherit()
            } else {
                Stdio::null()
            })
            .spawn()
            .expect("start clipwave-worker (run `make build` first)");
        Worker { child, _dir: dir }
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A binary of this build (`clipwave`, `clipwave-worker`, …).
pub fn target_binary(name: &str) -> PathBuf {
    target_dir()
        .map(|target| target.join("release").join(name))
        .expect("target dir")
}

/// Makes a small H.264 + AAC mp4 of `seconds` with ffmpeg (test media is
/// generated, never committed).
pub fn make_test_video(path: &Path, seconds: u32) {
    let status = Command::new("ffmpeg")
        .args([
            "-v",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            "testsrc=size=160x120:rate=10",
        ])
        .args(["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100"])
        .args([
            "-t",
            &seconds.to_string(),
            "-c:v",
            "libx264",
            "-c:a",
            "aac",
            "-shortest",
        ])
        .arg(path)
        .status()
        .expect("ffmpeg is needed to make test media (scripts/setup.sh installs it)");
    assert!(status.success(), "ffmpeg failed");
}

/// The JSON body of a response.
pub fn json(response: Response) -> serde_json::Value {
    response.json().expect("response body is not JSON")
}
