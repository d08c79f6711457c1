//! Who may call what: tokens on every gateway route, in both auth modes.

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};
use clipwave_token::{generate_key_pair, GeneratedKeys, SigningKey, TokenType};
use reqwest::{blocking::Response, Method};
use serde_json::{json, Value};

use crate::{
    auth_support::{admin, bearer, claims_of, sign, spawn_app_with_keys},
    gateway_support::{upload_small, user, worker_token},
    helpers::{spawn_app, TestApp},
};

/// What a response looked like: status, `WWW-Authenticate`, `error` code.
type Shape = (u16, Option<String>, Option<String>);

/// What a response looked like, for comparing the two modes.
fn shape(response: Response) -> Shape {
    let status = response.status().as_u16();
    let challenge = response
        .headers()
        .get("www-authenticate")
        .map(|v| v.to_str().unwrap_or_default().to_owned());
    let body: Value = response.json().unwrap_or(Value::Null);
    (status, challenge, body["error"].as_str().map(str::to_owned))
}

/// `Authorization` values that carry no bearer token (RFC 6750 §3.1: the
/// 401 names no error, exactly as without the header).
const NO_BEARER_TOKEN: &[(&str, &str)] = &[
    ("basic", "Basic YW5uOnB3"),
    ("basic, lower case", "basic YW5uOnB3"),
    (
        "digest",
        "Digest username=\"ann\", realm=\"clipwave\", nonce=\"n\"",
    ),
    ("negotiate", "Negotiate YIIB"),
    ("scheme only", "Basic"),
    ("unknown scheme", "Clipwave 0123"),
    ("empty", ""),
];

/// 401 without credentials: bare challenge, the missing-header code.
fn no_credentials() -> Shape {
    (
        401,
        Some("Bearer realm=\"clipwave\"".into()),
        Some("unauthorized".into()),
    )
}

fn attack_matrix(app: &TestApp, keys: &GeneratedKeys) -> Vec<(String, Shape)> {
    let ann = user(app, "ann");
    let worker = worker_token(app);
    let mut claims = claims_of(&ann.access);
    let listed = ann.access.clone();
    let mut cases: Vec<(String, Option<String>)> = vec![
        ("no header".into(), None),
        ("empty bearer".into(), Some("Bearer ".into())),
        ("garbage".into(), Some("Bearer not.a.token".into())),
        ("valid".into(), Some(format!("Bearer {listed}"))),
        (
            "valid, scheme in lower case".into(),
            Some(format!("bearer {listed}")),
        ),
        (
            "refresh as bearer".into(),
            Some(format!("Bearer {}", ann.refresh)),
        ),
        ("service token".into(), Some(format!("Bearer {worker}"))),
    ];
    // Same claims, re-signed with the real key: never issued, so not listed.
    claims.jti = "forged".into();
    cases.push((
        "unlisted but well signed".into(),
        Some(format!("Bearer {}", sign(keys, &claims))),
    ));
    let other = generate_key_pair("e2e-key");
    let foreign = SigningKey::from_jwk(&other.private_jwk)
        .expect("key")
        .sign(&claims)
        .expect("sign");
    cases.push((
        "signed by another key".into(),
        Some(format!("Bearer {foreign}")),
    ));
    let mut expired = claims_of(&listed);
    expired.exp = 1;
    cases.push((
        "expired".into(),
        Some(format!("Bearer {}", sign(keys, &expired))),
    ));
    let mut wrong_type = claims_of(&listed);
    wrong_type.typ = TokenType::Refresh;
    cases.push((
        "access claims typed refresh".into(),
        Some(format!("Bearer {}", sign(keys, &wrong_type))),
    ));
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","kid":"e2e-key"}"#);
    let payload = listed.split('.').nth(1).expect("payload");
    cases.push((
        "alg none".into(),
        Some(format!("Bearer {header}.{payload}.")),
    ));
    let mut tampered = listed.clone();
    tampered.pop();
    cases.push((
        "tampered signature".into(),
        Some(format!("Bearer {tampered}x")),
    ));
    let mut other_session = claims_of(&listed);
    other_session.sub = "someone-else".into();
    other_session.sid = Some("no-such-session".into());
    let forged_user = sign(keys, &other_session);
    cases.push((
        "forged session".into(),
        Some(format!("Bearer {forged_user}")),
    ));
    // No bearer token at all: other schemes, even around a valid token.
    for (name, header) in NO_BEARER_TOKEN {
        cases.push((format!("no bearer: {name}"), Some((*header).to_owned())));
    }
    cases.push((
        "no bearer: Basic around a valid token".into(),
        Some(format!("Basic {listed}")),
    ));
    cases.push((
        "no bearer: token scheme with a valid token".into(),
        Some(format!("Token {listed}")),
    ));
    let mut results = Vec::new();
    for (name, header) in cases {
        let mut request = app
            .request(Method::GET, "/jobs")
            .header("x-user-id", &ann.user_id);
        if let Some(header) = header {
            request = request.header("authorization", header);
        }
        results.push((name, shape(request.send().expect("request"))));
    }
    // Logged out: the same once-valid token is rejected at once.
    let logout = bearer(app, Method::POST, "/logout", &listed);
    assert_eq!(logout.status(), 204);
    results.push((
        "after logout".into(),
        shape(bearer(app, Method::GET, "/jobs", &listed)),
    ));
    results
}

#[test]
fn the_auth_attack_matrix_gets_identical_answers_in_local_and_remote_mode() {
    let (local_app, local_keys) = spawn_app_with_keys(&[("auth_mode", "local")]);
    let (remote_app, remote_keys) = spawn_app_with_keys(&[("auth_mode", "remote")]);
    for (mode, app) in [("local", &local_app), ("remote", &remote_app)] {
        let token = user(app, "timer").access;
        let started = std::time::Instant::now();
        for _ in 0..50 {
            assert_eq!(bearer(app, Method::GET, "/jobs", &token).status(), 200);
        }
        let micros = started.elapsed().as_micros() / 50;
        eprintln!("GET /jobs in {mode} mode: {micros} µs per request");
    }
    let local = attack_matrix(&local_app, &local_keys);
    let remote = attack_matrix(&remote_app, &remote_keys);
    let invalid = Some("Bearer realm=\"clipwave\", error=\"invalid_token\"".to_owned());
    for ((name, local), (_, remote)) in local.iter().zip(&remote) {
        assert_eq!(local, remote, "{name}: local and remote differ");
        let expected = match name.as_str() {
            "valid" | "valid, scheme in lower case" => (200, None, None),
            "no header" => no_credentials(),
            other if other.starts_with("no bearer: ") => no_credentials(),
            "service token" => (
                403,
                Some("Bearer realm=\"clipwave\", error=\"insufficient_scope\"".into()),
                Some("insufficient_scope".into()),
            ),
            _ => (401, invalid.clone(), Some("invalid_token".into())),
        };
        assert_eq!(*local, expected, "{name}");
    }
}

#[test]
fn other_schemes_than_bearer_get_the_bare_challenge_on_every_gateway_route_like_validate() {
    let app = spawn_app();
    let ann = user(&app, "ann");
    let routes = [
        (Method::POST, "/upload"),
        (Method::GET, "/jobs"),
        (Method::HEAD, "/jobs"),
        (Method::GET, "/jobs/not-an-id"),
        (Method::DELETE, "/jobs/not-an-id"),
        (Method::GET, "/jobs/not-an-id/audio"),
        (Method::GET, "/download?fid=x"),
        (Method::PATCH, "/jobs"),
        (Method::POST, "/internal/jobs/claim"),
        (Method::GET, "/internal/queue"),
    ];
    let basic_token = format!("Basic {}", ann.access);
    let headers = NO_BEARER_TOKEN
        .iter()
        .map(|(_, header)| *header)
        .chain([basic_token.as_str()]);
    for header in headers {
        // The auth component's own answer is the reference.
        let validate = app
            .request(Method::GET, "/validate")
            .header("authorization", header)
            .send()
            .expect("request");
        assert_eq!(
            shape(validate),
            no_credentials(),
            "/validate with {header:?}"
        );
        for (method, path) in &routes {
            let response = app
                .request(method.clone(), path)
                .header("authorization", header)
                .send()
                .expect("request");
            let what = format!("{method} {path} with {header:?}");
            assert_eq!(response.status(), 401, "{what}");
            assert_eq!(
                response.headers()["www-authenticate"],
                "Bearer realm=\"clipwave\"",
                "{what}"
            );
            if *method != Method::HEAD {
                assert_eq!(shape(response), no_credentials(), "{what}");
            }
        }
    }
}

#[test]
fn authentication_comes_before_validation_on_every_protected_route() {
    let app = spawn_app();
    let routes = [
        (Method::POST, "/upload"),
        (Method::GET, "/jobs?limit=0"),
        (Method::GET, "/jobs/not-an-id"),
        (Method::DELETE, "/jobs/not-an-id"),
        (Method::GET, "/jobs/not-an-id/audio"),
        (Method::GET, "/download"),
        (Method::PATCH, "/jobs"),
        (Method::POST, "/internal/jobs/claim"),
        (Method::GET, "/internal/jobs/x/input"),
        (Method::POST, "/internal/jobs/x/heartbeat"),
        (Method::PUT, "/internal/jobs/x/output"),
        (Method::POST, "/internal/jobs/x/complete"),
        (Method::POST, "/internal/jobs/x/fail"),
        (Method::GET, "/internal/queue"),
    ];
    for (method, path) in routes {
        let missing = app.request(method.clone(), path).send().expect("request");
        assert_eq!(missing.status(), 401, "{method} {path} without a token");
        assert_eq!(
            missing.headers()["www-authenticate"],
            "Bearer realm=\"clipwave\""
        );
        let wrong = bearer(&app, method.clone(), path, "wrong");
        assert_eq!(wrong.status(), 401, "{method} {path} with a wrong token");
    }
}

#[test]
fn a_user_token_on_the_internal_api_is_403_and_a_service_token_on_user_routes_too() {
    let app = spawn_app();
    let ann = user(&app, "ann");
    let worker = worker_token(&app);
    for (method, path) in [
        (Method::POST, "/internal/jobs/claim"),
        (Method::GET, "/internal/queue"),
        (
            Method::GET,
            "/internal/jobs/00000000000000000000000000000000/input",
        ),
    ] {
        let response = bearer(&app, method.clone(), path, &ann.access);
        assert_eq!(response.status(), 403, "{method} {path}");
        assert_eq!(
            response.json::<Value>().expect("JSON")["error"],
            "insufficient_scope"
        );
    }
    assert_eq!(bearer(&app, Method::GET, "/jobs", &worker).status(), 403);
    assert_eq!(
        bearer(&app, Method::GET, "/internal/queue", &worker).status(),
        200
    );
}

#[test]
fn an_admin_has_only_their_own_jobs_and_another_users_job_is_a_404_for_them_too() {
    let app = spawn_app();
    let ann = user(&app, "ann");
    let root = admin(&app);
    let anns = upload_small(&app, &ann.access, "ann.mp4");
    let roots = upload_small(&app, &root.access, "root.mp4");
    let missing = "0123456789abcdef0123456789abcdef";
    let listed: Value = bearer(&app, Method::GET, "/jobs?limit=100", &root.access)
        .json()
        .expect("JSON");
    let ids: Vec<&str> = listed["jobs"]
        .as_array()
        .expect("jobs")
        .iter()
        .map(|job| job["job_id"].as_str().expect("job_id"))
        .collect();
    assert_eq!(
        ids,
        vec![roots.as_str()],
        "an admin lists only their own jobs"
    );
    for (method, template) in [
        (Method::GET, "/jobs/{id}"),
        (Method::HEAD, "/jobs/{id}"),
        (Method::GET, "/jobs/{id}/audio"),
        (Method::GET, "/download?fid={id}"),
        (Method::DELETE, "/jobs/{id}"),
    ] {
        let foreign = bearer(
            &app,
            method.clone(),
            &template.replace("{id}", &anns),
            &root.access,
        );
        let unknown = bearer(
            &app,
            method.clone(),
            &template.replace("{id}", missing),
            &root.access,
        );
        assert_eq!(foreign.status(), 404, "admin: {method} {template}");
        assert_eq!(
            unknown.status(),
            404,
            "admin: {method} {template}, missing job"
        );
        if method == Method::HEAD {
            continue;
        }
        let (mut a, mut b): (Value, Value) =
            (foreign.json().expect("JSON"), unknown.json().expect("JSON"));
        a["request_id"] = json!(null);
        b["request_id"] = json!(null);
        assert_eq!(a, b, "admin: {method} {template}: bodies differ");
    }
    // The admin's DELETE did nothing: ann still has her job.
    assert_eq!(
        bearer(&app, Method::GET, &format!("/jobs/{anns}"), &ann.access).status(),
        200
    );
    // And the admin's own job is theirs as for anyone.
    assert_eq!(
        bearer(&app, Method::GET, &format!("/jobs/{roots}"), &root.access).status(),
        200
    );
}

#[test]
fn another_users_job_is_404_on_every_route_exactly_like_a_missing_one() {
    let app = spawn_app();
    let ann = user(&app, "ann");
    let bob = user(&app, "bob");
    let job = upload_small(&app, &ann.access, "ann.mp4");
    let missing = "0123456789abcdef0123456789abcdef";
    let paths = |id: &str| {
        vec![
            (Method::GET, format!("/jobs/{id}")),
            (Method::GET, format!("/jobs/{id}/audio")),
            (Method::GET, format!("/download?fid={id}")),
            (Method::DELETE, format!("/jobs/{id}")),
        ]
    };
    for ((method, foreign), (_, unknown)) in paths(&job).into_iter().zip(paths(missing)) {
        let a = bearer(&app, method.clone(), &foreign, &bob.access);
        let b = bearer(&app, method.clone(), &unknown, &bob.access);
        assert_eq!(
            (a.status(), b.status()),
            (404.try_into().unwrap(), 404.try_into().unwrap()),
            "{method} {foreign}"
        );
        let (mut a, mut b): (Value, Value) = (a.json().expect("JSON"), b.json().expect("JSON"));
        a["request_id"] = json!(null);
        b["request_id"] = json!(null);
        assert_eq!(a, b, "{method} {foreign}: bodies differ");
    }
    let list: Value = bearer(&app, Method::GET, "/jobs", &bob.access)
        .json()
        .expect("JSON");
    assert_eq!(list["jobs"], json!([]));
    // Still there for its owner, and malformed ids are plain 404s.
    assert_eq!(
        bearer(&app, Method::GET, &format!("/jobs/{job}"), &ann.access).status(),
        200
    );
    assert_eq!(
        bearer(&app, Method::GET, "/jobs/../../etc", &ann.access).status(),
        404
    );
    assert_eq!(
        bearer(&app, Method::GET, "/jobs/ABC", &ann.access).status(),
        404
    );
}
