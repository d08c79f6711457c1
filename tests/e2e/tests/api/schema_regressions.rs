//! Regressions found by the schemathesis suite (`tests/schema/run.sh`):
//! each test pins one request the API answered against docs/openapi.yaml.

use reqwest::Method;
use serde_json::{json, Value};

use crate::{
    auth_support::{admin, login_json, register},
    gateway_support::{
        claim, fake_mp4, form_with, post_json, put_output, upload_small, user, worker_token,
        BOUNDARY,
    },
    helpers::spawn_app,
};

fn error_code(response: reqwest::blocking::Response) -> String {
    let body: Value = response.json().expect("JSON error body");
    body["error"].as_str().unwrap_or_default().to_owned()
}

#[test]
fn a_json_array_is_not_a_register_body_even_when_its_items_fit_the_fields() {
    // Arrange
    let app = spawn_app();

    // Act: serde reads a struct from `[email, password]` unless told not to.
    let response = app
        .request(Method::POST, "/register")
        .json(&json!([
            "array@example.com",
            "correct horse battery staple"
        ]))
        .send()
        .expect("request failed");

    // Assert
    assert_eq!(response.status(), 400);
    assert_eq!(error_code(response), "bad_request");
    let login = login_json(&app, "array@example.com", "correct horse battery staple");
    assert_eq!(login.status(), 401, "no account was created");
}

#[test]
fn a_json_array_is_not_a_user_change_for_admins_either() {
    // Arrange
    let app = spawn_app();
    let admin = admin(&app);
    let created = register(&app, "target@example.com", "correct horse battery staple");
    let user_id = created.json::<Value>().expect("JSON")["user_id"]
        .as_str()
        .expect("user_id")
        .to_owned();

    // Act
    let response = app
        .request(Method::PATCH, &format!("/users/{user_id}"))
        .bearer_auth(&admin.access)
        .json(&json!([null, null]))
        .send()
        .expect("request failed");

    // Assert
    assert_eq!(response.status(), 400);
    assert_eq!(error_code(response), "bad_request");
}

#[test]
fn the_worker_api_takes_json_objects_only() {
    // Arrange
    let app = spawn_app();
    let worker = worker_token(&app);
    let owner = user(&app, "owner");
    upload_small(&app, &owner.access, "clip.mp4");
    let claimed = claim(&app, &worker).expect("a job to claim");
    let job = claimed["job_id"].as_str().expect("job_id");

    // Act
    let claim_array = post_json(&app, "/internal/jobs/claim", &worker, json!([null]));
    let heartbeat_array = post_json(
        &app,
        &format!("/internal/jobs/{job}/heartbeat"),
        &worker,
        json!([1, 50]),
    );

    // Assert
    assert_eq!(claim_array.status(), 400, "claim with an array body");
    assert_eq!(
        heartbeat_array.status(),
        400,
        "heartbeat with an array body"
    );
}

#[test]
fn a_whole_number_written_with_a_fraction_is_an_integer_attempt() {
    // Arrange: JSON Schema counts 1.0 as an integer, so the spec allows it.
    let app = spawn_app();
    let worker = worker_token(&app);
    let owner = user(&app, "owner");
    upload_small(&app, &owner.access, "clip.mp4");
    let claimed = claim(&app, &worker).expect("a job to claim");
    let job = claimed["job_id"].as_str().expect("job_id");
    let attempt = claimed["attempt"].as_f64().expect("attempt");

    // Act
    let heartbeat = post_json(
        &app,
        &format!("/internal/jobs/{job}/heartbeat"),
        &worker,
        json!({ "attempt": attempt, "progress": 50.0 }),
    );
    let fail = post_json(
        &app,
        &format!("/internal/jobs/{job}/fail"),
        &worker,
        json!({ "attempt": attempt, "reason": "test", "retryable": false }),
    );

    // Assert
    assert_eq!(heartbeat.status(), 200, "heartbeat with attempt {attempt}");
    assert_eq!(fail.status(), 200, "fail with attempt {attempt}");
}

#[test]
fn an_overlong_callback_url_is_refused_even_when_it_is_only_spaces() {
    // Arrange: the form field counts what was sent; the query now does too.
    let app = spawn_app();
    let owner = user(&app, "owner");
    let spaces = "%20".repeat(2049);

    // Act
    let response = app
        .request(Method::POST, &format!("/upload?callback_url={spaces}"))
        .bearer_auth(&owner.access)
        .header(
            "content-type",
            format!("multipart/form-data; boundary={BOUNDARY}"),
        )
        .body(form_with("clip.mp4", &fake_mp4(4096)))
        .send()
        .expect("request failed");

    // Assert
    assert_eq!(response.status(), 400);
    assert_eq!(error_code(response), "bad_request");
}

#[test]
fn a_json_array_is_not_a_logout_body_and_the_session_survives_it() {
    // Arrange
    let app = spawn_app();
    let owner = user(&app, "owner");

    // Act
    let response = post_json(&app, "/logout", &owner.access, json!([]));

    // Assert
    assert_eq!(response.status(), 400);
    let validate = app
        .request(Method::GET, "/validate")
        .bearer_auth(&owner.access)
        .send()
        .expect("request failed");
    assert_eq!(validate.status(), 200, "the session is still valid");
}

#[test]
fn an_empty_output_is_refused_and_the_job_cannot_complete_on_it() {
    // Arrange
    let app = spawn_app();
    let worker = worker_token(&app);
    let owner = user(&app, "owner");
    upload_small(&app, &owner.access, "clip.mp4");
    let claimed = claim(&app, &worker).expect("a job to claim");
    let job = claimed["job_id"].as_str().expect("job_id");
    let attempt = claimed["attempt"].as_i64().expect("attempt");

    // Act
    let output = put_output(&app, &worker, job, attempt, b"");
    let complete = post_json(
        &app,
        &format!("/internal/jobs/{job}/complete"),
        &worker,
        json!({ "attempt": attempt }),
    );

    // Assert
    assert_eq!(output.status(), 400);
    assert_eq!(error_code(output), "bad_request");
    assert_eq!(complete.status(), 409, "no output was stored");
}
