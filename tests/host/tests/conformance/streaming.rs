//! Request and response bodies stream through the host.

use std::io::Read;

use crate::helpers::Fixture;

#[test]
fn a_large_request_body_is_echoed_back_intact() {
    let host = Fixture::new().start();
    let body: Vec<u8> = (0..8 * 1024 * 1024).map(|i| (i * 31 % 251) as u8).collect();

    let response = host
        .client()
        .post(format!("{}/granted?op=echo", host.process.address))
        .body(body.clone())
        .send()
        .unwrap();

    assert_eq!(response.status(), 200);
    assert!(response.bytes().unwrap() == body);
}

#[test]
fn a_streamed_response_arrives_whole() {
    let host = Fixture::new().start();

    let mut response = host
        .client()
        .get(format!(
            "{}/granted?op=stream&chunks=64&size=65536",
            host.process.address
        ))
        .send()
        .unwrap();
    let mut received = Vec::new();
    response.read_to_end(&mut received).unwrap();

    assert_eq!(received.len(), 64 * 65536);
    assert!(received.iter().all(|&b| b == b'x'));
}
