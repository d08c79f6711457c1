//! Variables: defaults, `SPIN_VARIABLE_*` overrides, templates, scoping,
//! required variables, and the guest environment.

use crate::helpers::{expect_start_failure, Fixture, Host};

#[test]
fn a_template_expands_the_default_value() {
    let host = Fixture::new().start();

    assert_eq!(
        host.get("/granted?op=var&name=message").1["ok"],
        "hello, world"
    );
    assert_eq!(host.get("/granted?op=var&name=token").1["ok"], "t0ken");
}

#[test]
fn the_environment_overrides_an_application_variable() {
    let fixture = Fixture::new();
    let mut command = fixture.command();
    command
        .env("SPIN_VARIABLE_GREETING", "bonjour")
        .args(["--listen", "127.0.0.1:0"]);
    let host = Host::new(
        &fixture,
        clipwave_host::testing::RunningHost::start(command).unwrap(),
    );

    assert_eq!(
        host.get("/granted?op=var&name=message").1["ok"],
        "bonjour, world"
    );
}

#[test]
fn a_component_sees_only_its_own_variables() {
    let host = Fixture::new().start();

    assert_eq!(host.get("/loner?op=var&name=message").1["err"], "undefined");
    assert_eq!(
        host.get("/loner?op=var&name=greeting").1["err"],
        "undefined"
    );
}

#[test]
fn an_invalid_variable_name_is_reported_as_such() {
    let host = Fixture::new().start();

    assert_eq!(
        host.get("/granted?op=var&name=Not-Valid").1["err"],
        "invalid-name"
    );
}

#[test]
fn a_required_variable_without_a_value_stops_start_up_and_is_named() {
    let fixture = Fixture::new();
    let mut command = fixture.command();
    command.env_remove("SPIN_VARIABLE_API_TOKEN");

    let output = expect_start_failure(command).unwrap();

    assert!(output.contains("api_token"), "{output}");
}

#[test]
fn manifest_environment_variables_reach_the_guest() {
    let host = Fixture::new().start();

    assert_eq!(
        host.get("/granted?op=env&name=MY_SETTING").1["ok"],
        "from-the-manifest"
    );
}
