//! The fixture app and a client for the test component's operations.

use std::{
    path::{Path, PathBuf},
    process::Command,
    sync::Arc,
};

use anyhow::Result;
use clipwave_host::testing::RunningHost;
use reqwest::blocking::Client;
use serde_json::Value;

/// The fixture manifest; `{source}` is replaced by the component's path.
const MANIFEST: &str = r#"
spin_manifest_version = 2

[application]
name = "conformance"

[variables]
greeting = { default = "hello" }
api_token = { required = true, secret = true }

[[trigger.http]]
route = "/users/me"
component = "exact"

[[trigger.http]]
route = "/users/:id"
component = "param"

[[trigger.http]]
route = "/users/..."
component = "wild"

[[trigger.http]]
route = "/..."
component = "catchall"

[[trigger.http]]
route = "/granted/..."
component = "granted"

[[trigger.http]]
route = "/chainer/..."
component = "chainer"

[[trigger.http]]
route = "/loner/..."
component = "loner"

[[trigger.http]]
route = { private = true }
component = "hidden"

[component.exact]
source = "{source}"
variables = { name = "exact" }

[component.param]
source = "{source}"
variables = { name = "param" }

[component.wild]
source = "{source}"
variables = { name = "wild" }

[component.catchall]
source = "{source}"
variables = { name = "catchall" }

[component.granted]
source = "{source}"
key_value_stores = ["default", "extra"]
sqlite_databases = ["default"]
environment = { MY_SETTING = "from-the-manifest" }

[component.granted.variables]
name = "granted"
message = "{{ greeting }}, world"
token = "{{ api_token }}"

[component.chainer]
source = "{source}"
allowed_outbound_hosts = ["http://hidden.spin.internal", "http://granted.spin.internal"]
variables = { name = "chainer" }

[component.loner]
source = "{source}"
variables = { name = "loner" }

[component.hidden]
source = "{source}"
variables = { name = "hidden" }
"#;

const RUNTIME_CONFIG: &str = r#"
[key_value_store.extra]
type = "spin"
path = "stores/extra.db"

[sqlite_database.default]
type = "spin"
path = "stores/sqlite.db"
"#;

/// A folder holding the fixture app; hosts started on it share its stores.
#[derive(Clone)]
pub struct Fixture {
    pub dir: Arc<tempfile::TempDir>,
}

impl Fixture {
    /// Writes the fixture app into a fresh folder.
    pub fn new() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let source = test_component().display().to_string();
        std::fs::write(
            dir.path().join("spin.toml"),
            MANIFEST.replace("{source}", &source),
        )
        .expect("write manifest");
        std::fs::write(dir.path().join("runtime-config.toml"), RUNTIME_CONFIG)
            .expect("write runtime config");
        Self { dir: Arc::new(dir) }
    }

    /// The host command for this fixture, with the required variable set.
    pub fn command(&self) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_clipwave-host"));
        command
            .current_dir(self.dir.path())
            .args(["--runtime-config-file", "runtime-config.toml"])
            .arg("--cache-dir")
            .arg(cache_dir())
            .env("SPIN_VARIABLE_API_TOKEN", "t0ken")
            .env_remove("SPIN_VARIABLE_GREETING")
            .env("RUST_LOG", "warn");
        command
    }

    /// Starts a host on the fixture, on a free port.
    pub fn start(&self) -> Host {
        let mut command = self.command();
        command.args(["--listen", "127.0.0.1:0"]);
        Host::new(self, RunningHost::start(command).expect("host starts"))
    }
}

/// A running fixture host with a client; it keeps the fixture folder alive.
pub struct Host {
    pub process: RunningHost,
    client: Client,
    _fixture: Fixture,
}

impl Host {
    /// Wraps a host started on `fixture`.
    pub fn new(fixture: &Fixture, process: RunningHost) -> Self {
        Self {
            process,
            client: Client::new(),
            _fixture: fixture.clone(),
        }
    }

    /// `GET path` → (status, JSON body).
    pub fn get(&self, path: &str) -> (u16, Value) {
        let response = self
            .client
            .get(format!("{}{}", self.process.address, path))
            .send()
            .expect("request");
        let status = response.status().as_u16();
        (status, response.json().unwrap_or(Value::Null))
    }

    /// `POST path` with a JSON body → (status, JSON body).
    pub fn post_json(&self, path: &str, body: &Value) -> (u16, Value) {
        let response = self
            .client
            .post(format!("{}{}", self.process.address, path))
            .json(body)
            .send()
            .expect("request");
        let status = response.status().as_u16();
        (status, response.json().unwrap_or(Value::Null))
    }

    /// The raw client, for streaming tests.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Which component answered `path` (via `op=whoami`).
    pub fn who_answers(&self, path: &str) -> String {
        let (status, body) = self.get(&format!("{path}?op=whoami"));
        assert_eq!(status, 200, "{path}: {body}");
        body["ok"]["name"].as_str().unwrap_or_default().to_string()
    }

    /// The value of request header `name` as the component at `path` saw it.
    pub fn header_seen(&self, path: &str, name: &str) -> Option<String> {
        let (_, body) = self.get(&format!("{path}?op=whoami"));
        body["ok"]["headers"][name][0].as_str().map(String::from)
    }
}

fn workspace_target() -> PathBuf {
    // …/<target>/release/deps/conformance-<hash> → <target>
    let exe = std::env::current_exe().expect("test binary path");
    exe.ancestors()
        .nth(3)
        .map(Path::to_path_buf)
        .expect("target dir")
}

fn test_component() -> PathBuf {
    let path = workspace_target().join("wasm32-wasip2/release/clipwave_host_test_component.wasm");
    assert!(
        path.exists(),
        "{} is missing: build it with `cargo build --target wasm32-wasip2 --release -p clipwave-host-test-component`",
        path.display()
    );
    path
}

fn cache_dir() -> PathBuf {
    workspace_target().join("clipwave-host-cache")
}

/// Starts the host with `command` (plus a free port) and returns its
/// failure output: it must fail.
pub fn expect_start_failure(mut command: Command) -> Result<String> {
    if !command.get_args().any(|a| a == "--listen") {
        command.args(["--listen", "127.0.0.1:0"]);
    }
    match RunningHost::start(command) {
        Ok(_) => anyhow::bail!("the host started but should not have"),
        Err(error) => Ok(format!("{error:#}")),
    }
}
