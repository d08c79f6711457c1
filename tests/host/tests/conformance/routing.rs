//! Spin's route precedence and the `spin-*` request headers.

use crate::helpers::Fixture;

#[test]
fn exact_routes_beat_parameters_which_beat_wildcards() {
    let host = Fixture::new().start();

    assert_eq!(host.who_answers("/users/me"), "exact");
    assert_eq!(host.who_answers("/users/42"), "param");
    assert_eq!(host.who_answers("/users/42/jobs"), "wild");
    assert_eq!(host.who_answers("/users"), "wild");
    assert_eq!(host.who_answers("/anything/else"), "catchall");
}

#[test]
fn a_private_component_has_no_public_route() {
    let host = Fixture::new().start();

    assert_eq!(host.who_answers("/hidden"), "catchall");
}

#[test]
fn spin_headers_describe_how_the_request_matched() {
    let host = Fixture::new().start();
    let path = "/users/42/jobs/7";

    let seen = |name: &str| host.header_seen(path, name);

    let address = host
        .process
        .address
        .trim_start_matches("http://")
        .to_string();
    assert_eq!(
        seen("spin-full-url").unwrap(),
        format!("http://{address}{path}?op=whoami")
    );
    assert_eq!(seen("spin-path-info").unwrap(), "/42/jobs/7");
    assert_eq!(seen("spin-matched-route").unwrap(), "/users/...");
    assert_eq!(seen("spin-raw-component-route").unwrap(), "/users/...");
    assert_eq!(seen("spin-component-route").unwrap(), "/users");
    assert_eq!(seen("spin-base-path").unwrap(), "/");
    let client_addr = seen("spin-client-addr").unwrap();
    assert!(client_addr.starts_with("127.0.0.1:"), "{client_addr}");
}

#[test]
fn named_parameters_are_passed_as_path_match_headers() {
    let host = Fixture::new().start();

    assert_eq!(
        host.header_seen("/users/42", "spin-path-match-id")
            .as_deref(),
        Some("42")
    );
    assert_eq!(
        host.header_seen("/users/42", "spin-path-info").as_deref(),
        Some("")
    );
}

#[test]
fn client_headers_reach_the_component_before_spins_own() {
    let host = Fixture::new().start();

    let response = host
        .client()
        .get(format!("{}/anything?op=whoami", host.process.address))
        .header("spin-client-addr", "6.6.6.6:666")
        .header("x-custom", "kept")
        .send()
        .unwrap();
    let body: serde_json::Value = response.json().unwrap();

    let headers = &body["ok"]["headers"];
    assert_eq!(headers["x-custom"][0], "kept");
    // Spin appends its own value after the client's; components must read the last.
    let values = headers["spin-client-addr"].as_array().unwrap();
    assert_eq!(values.first().unwrap(), "6.6.6.6:666");
    assert!(values
        .last()
        .unwrap()
        .as_str()
        .unwrap()
        .starts_with("127.0.0.1:"));
}

#[test]
fn spins_well_known_health_route_answers_ok() {
    let host = Fixture::new().start();

    let response = host
        .client()
        .get(format!("{}/.well-known/spin/health", host.process.address))
        .send()
        .unwrap();

    assert_eq!(response.status(), 200);
    assert_eq!(response.text().unwrap(), "OK");
}
