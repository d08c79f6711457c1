//! Start-up errors, component logs, and shutdown.

use crate::helpers::{expect_start_failure, Fixture};

#[test]
fn a_missing_manifest_is_a_clear_error() {
    let fixture = Fixture::new();
    let mut command = fixture.command();
    command.args(["--from", "no-such-spin.toml"]);

    let output = expect_start_failure(command).unwrap();

    assert!(output.contains("no-such-spin.toml"), "{output}");
}

#[test]
fn a_missing_wasm_file_is_a_clear_error() {
    let fixture = Fixture::new();
    let manifest = fixture.dir.path().join("spin.toml");
    let text = std::fs::read_to_string(&manifest).unwrap();
    let broken = text.replacen(".wasm\"", "-missing.wasm\"", 1);
    std::fs::write(&manifest, broken).unwrap();

    let output = expect_start_failure(fixture.command()).unwrap();

    assert!(output.contains("-missing.wasm"), "{output}");
}

#[test]
fn an_invalid_manifest_is_a_clear_error() {
    let fixture = Fixture::new();
    std::fs::write(
        fixture.dir.path().join("spin.toml"),
        "spin_manifest_version = 2\n[application]\nname = 1\n",
    )
    .unwrap();

    let output = expect_start_failure(fixture.command()).unwrap();

    assert!(output.contains("invalid manifest"), "{output}");
}

#[test]
fn a_port_in_use_is_a_clear_error() {
    let fixture = Fixture::new();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let mut command = fixture.command();
    command.args(["--listen", &format!("127.0.0.1:{port}")]);

    let output = expect_start_failure(command).unwrap();

    assert!(
        output.contains(&format!("cannot listen on 127.0.0.1:{port}")),
        "{output}"
    );
}

#[test]
fn component_output_reaches_the_log_prefixed_with_the_component_id() {
    let host = Fixture::new().start();

    host.get("/granted?op=log&text=hello-from-the-guest");
    std::thread::sleep(std::time::Duration::from_millis(200));

    let log = host.process.log();
    assert!(
        log.matches("[granted] hello-from-the-guest").count() >= 2,
        "{log}"
    );
}

#[test]
fn sigterm_stops_the_host_cleanly() {
    let mut host = Fixture::new().start();

    let status = host.process.signal_and_wait("TERM").unwrap();

    assert!(status.success(), "{status:?}");
}

#[test]
fn sigint_stops_the_host_cleanly() {
    let mut host = Fixture::new().start();

    let status = host.process.signal_and_wait("INT").unwrap();

    assert!(status.success(), "{status:?}");
}
