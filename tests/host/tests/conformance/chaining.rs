//! Outbound HTTP: `allowed_outbound_hosts` and `*.spin.internal` chaining.

use crate::helpers::Fixture;

#[test]
fn a_listed_component_is_reachable_by_service_chaining_even_when_private() {
    let host = Fixture::new().start();

    let (status, body) =
        host.get("/chainer?op=outbound&url=http://hidden.spin.internal/any/path%3Fop%3Dwhoami");

    assert_eq!(status, 200, "{body}");
    assert_eq!(body["ok"]["status"], 200);
    let inner: serde_json::Value =
        serde_json::from_str(body["ok"]["body"].as_str().unwrap()).unwrap();
    assert_eq!(inner["ok"]["name"], "hidden");
    // Spin reports chained requests as coming from 0.0.0.0:0, matched by a synthetic `/...`.
    assert_eq!(inner["ok"]["headers"]["spin-client-addr"][0], "0.0.0.0:0");
    assert_eq!(inner["ok"]["headers"]["spin-path-info"][0], "/any/path");
    assert_eq!(inner["ok"]["headers"]["spin-matched-route"][0], "/...");
}

#[test]
fn an_unlisted_component_cannot_be_chained_to() {
    let host = Fixture::new().start();

    let (status, body) =
        host.get("/chainer?op=outbound&url=http://loner.spin.internal/%3Fop%3Dwhoami");

    assert_eq!(status, 500);
    assert!(body["err"].as_str().unwrap().contains("Denied"), "{body}");
}

#[test]
fn outbound_requests_to_unlisted_hosts_are_denied() {
    let host = Fixture::new().start();
    let upstream = Fixture::new().start();

    let url = format!("{}/%3Fop%3Dwhoami", upstream.process.address);
    let (status, body) = host.get(&format!("/loner?op=outbound&url={url}"));

    assert_eq!(status, 500);
    assert!(body["err"].as_str().unwrap().contains("Denied"), "{body}");
}
