//! The foundation's promises: health, JSON 404s, request ids.

use crate::helpers::{json, spawn_app};

#[test]
fn healthz_reports_every_store_as_ok() {
    let app = spawn_app();

    let response = app.get("/healthz");

    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/json");
    let body = json(response);
    assert_eq!(body["status"], "ok");
    for store in ["kv default", "kv media", "sqlite default"] {
        assert_eq!(body["checks"][store], "ok", "{store} in {body}");
    }
}

#[test]
fn an_unknown_path_is_a_json_404_with_a_request_id() {
    let app = spawn_app();

    let response = app.get("/no/such/thing");

    assert_eq!(response.status(), 404);
    let header_id = response.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_string();
    let body = json(response);
    assert_eq!(body["error"], "not_found");
    assert_eq!(body["request_id"], header_id);
}

#[test]
fn a_sane_client_request_id_is_echoed_and_an_insane_one_replaced() {
    let app = spawn_app();

    let kept = app
        .request(reqwest::Method::GET, "/healthz")
        .header("x-request-id", "trace-42.a_b")
        .send()
        .unwrap();
    let replaced = app
        .request(reqwest::Method::GET, "/nowhere")
        .header("x-request-id", "bad id; with spaces")
        .send()
        .unwrap();

    assert_eq!(kept.headers()["x-request-id"], "trace-42.a_b");
    let new_id = replaced.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_string();
    assert_ne!(new_id, "bad id; with spaces");
    assert_eq!(json(replaced)["request_id"], new_id);
}

#[test]
fn spins_own_health_route_answers() {
    let app = spawn_app();

    let response = app.get("/.well-known/spin/health");

    assert_eq!(response.status(), 200);
    assert_eq!(response.text().unwrap(), "OK");
}
