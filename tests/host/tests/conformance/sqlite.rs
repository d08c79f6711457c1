//! `fermyon:spin/sqlite@2.0.0`: granted labels only, typed values both ways,
//! errors as `io`, persistence.

use serde_json::json;

use crate::helpers::Fixture;

#[test]
fn a_component_opens_only_the_databases_it_was_granted() {
    let host = Fixture::new().start();

    assert_eq!(
        host.get("/granted?op=sqlite-open&label=default").1["ok"],
        "opened"
    );
    assert_eq!(
        host.get("/granted?op=sqlite-open&label=other").1["err"],
        "access-denied"
    );
    assert_eq!(
        host.get("/loner?op=sqlite-open&label=default").1["err"],
        "access-denied"
    );
}

#[test]
fn parameters_and_rows_keep_their_types() {
    let host = Fixture::new().start();
    let exec = |sql: &str, params: serde_json::Value| {
        host.post_json(
            "/granted?op=sqlite-exec&label=default",
            &json!({"sql": sql, "params": params}),
        )
    };

    exec(
        "CREATE TABLE t (i INTEGER, r REAL, s TEXT, b BLOB, n TEXT)",
        json!([]),
    );
    let (status, _) = exec(
        "INSERT INTO t VALUES (?, ?, ?, ?, ?)",
        json!([42, 1.5, "text", {"blob": "bytes"}, null]),
    );
    let (_, body) = exec("SELECT i, r, s, b, n FROM t WHERE i = ?", json!([42]));

    assert_eq!(status, 200);
    assert_eq!(body["ok"]["columns"], json!(["i", "r", "s", "b", "n"]));
    assert_eq!(
        body["ok"]["rows"][0],
        json!([{"integer": 42}, {"real": 1.5}, {"text": "text"}, {"blob": "bytes"}, "null"])
    );
}

#[test]
fn a_bad_statement_is_an_io_error_not_a_trap() {
    let host = Fixture::new().start();

    let (status, body) = host.post_json(
        "/granted?op=sqlite-exec&label=default",
        &json!({"sql": "SELEKT nonsense", "params": []}),
    );

    assert_eq!(status, 500);
    assert!(body["err"].as_str().unwrap().starts_with("io: "), "{body}");
}

#[test]
fn rows_survive_a_restart_of_the_host() {
    let fixture = Fixture::new();
    {
        let host = fixture.start();
        host.post_json(
            "/granted?op=sqlite-exec&label=default",
            &json!({"sql": "CREATE TABLE kept (v TEXT)", "params": []}),
        );
        host.post_json(
            "/granted?op=sqlite-exec&label=default",
            &json!({"sql": "INSERT INTO kept VALUES (?)", "params": ["still here"]}),
        );
    }

    let host = fixture.start();
    let (_, body) = host.post_json(
        "/granted?op=sqlite-exec&label=default",
        &json!({"sql": "SELECT v FROM kept", "params": []}),
    );

    assert_eq!(body["ok"]["rows"][0][0]["text"], "still here");
}
