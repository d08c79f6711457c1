//! The auth routes' happy paths and response details (DESIGN §3, §4a).

use reqwest::Method;
use serde_json::{json, Value};

use crate::auth_support::*;
use crate::helpers::{
    json, spawn_app, spawn_app_with, ADMIN_EMAIL, WORKER_CLIENT_ID, WORKER_CLIENT_SECRET,
};

#[test]
fn the_tutorial_flow_logs_in_with_basic_auth_and_validates_the_bearer() {
    let app = spawn_app();

    let response = login_basic(&app, ADMIN_EMAIL, crate::helpers::ADMIN_PASSWORD);

    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let body = json(response);
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 900);
    let access = body["access_token"].as_str().unwrap();
    let claims = json(validate(&app, access));
    assert_eq!(claims["sub"], body["user_id"]);
    assert_eq!(claims["email"], ADMIN_EMAIL);
    assert_eq!(claims["role"], "admin");
    assert_eq!(claims["typ"], "access");
    for field in ["iss", "aud", "iat", "nbf", "exp", "jti", "sid"] {
        assert!(claims.get(field).is_some(), "{field} in {claims}");
    }
}

#[test]
fn a_registered_user_logs_in_with_json_and_sees_itself_at_me() {
    let app = spawn_app();

    let created = register(&app, "  Ann@Example.com ", "correct horse battery");
    assert_eq!(created.status(), 201);
    let user_id = json(created)["user_id"].as_str().unwrap().to_owned();
    let tokens = tokens(login_json(&app, "ann@example.com", "correct horse battery"));
    let me = json(bearer(&app, Method::GET, "/me", &tokens.access));

    assert_eq!(tokens.user_id, user_id);
    assert_eq!(me["user_id"], user_id);
    assert_eq!(me["email"], "ann@example.com");
    assert_eq!(me["role"], "user");
    assert!(me.get("password_hash").is_none());
}

#[test]
fn head_answers_like_get_without_a_body() {
    let app = spawn_app();
    let admin = admin(&app);
    for path in ["/me", "/validate", "/users", "/.well-known/jwks.json"] {
        let get = bearer(&app, Method::GET, path, &admin.access);
        let head = bearer(&app, Method::HEAD, path, &admin.access);
        assert_eq!(
            (get.status().as_u16(), head.status().as_u16()),
            (200, 200),
            "{path}"
        );
        for name in ["content-type", "content-length", "cache-control"] {
            assert_eq!(
                get.headers().get(name),
                head.headers().get(name),
                "{path} {name}"
            );
        }
        assert!(head.bytes().unwrap().is_empty(), "{path}: HEAD sent a body");
    }
    let no_token = app.request(Method::HEAD, "/me").send().unwrap();
    assert_eq!(no_token.status(), 401);
}

#[test]
fn registering_the_same_email_in_another_case_is_a_conflict() {
    let app = spawn_app();
    assert_eq!(
        register(&app, "bob@example.com", "password-1").status(),
        201
    );

    let again = register(&app, "BOB@example.COM", "password-2");

    assert_eq!(again.status(), 409);
    assert_eq!(json(again)["error"], "conflict");
}

#[test]
fn registration_refuses_bad_input_and_is_closed_unless_opened() {
    let app = spawn_app();
    for (email, password) in [("not-an-email", "long enough"), ("c@example.com", "short")] {
        let response = register(&app, email, password);
        assert_eq!(response.status(), 400, "{email}");
        assert_eq!(json(response)["error"], "bad_request");
    }
    let closed = spawn_app_with(&[("open_registration", "false")]);

    let response = register(&closed, "dan@example.com", "long enough");

    assert_eq!(response.status(), 403);
}

#[test]
fn refresh_rotates_the_pair_and_the_new_access_token_works() {
    let app = spawn_app();
    let first = new_user(&app, "eve@example.com", "password-eve");

    let response = refresh(&app, &first.refresh);

    assert_eq!(response.headers()["cache-control"], "no-store");
    let second = tokens(response);
    assert_ne!(second.access, first.access);
    assert_ne!(second.refresh, first.refresh);
    assert_eq!(validate(&app, &second.access).status(), 200);
    assert_eq!(
        validate(&app, &first.access).status(),
        200,
        "same session, still listed"
    );
}

#[test]
fn a_duplicate_refresh_within_the_grace_window_gets_the_identical_pair() {
    let app = spawn_app();
    let first = new_user(&app, "fay@example.com", "password-fay");

    let a = tokens(refresh(&app, &first.refresh));
    let b = tokens(refresh(&app, &first.refresh));

    assert_eq!(a.access, b.access);
    assert_eq!(a.refresh, b.refresh);
    assert_eq!(
        validate(&app, &a.access).status(),
        200,
        "session not revoked"
    );
}

#[test]
fn verify_answers_the_user_id_of_an_access_token() {
    let app = spawn_app();
    let user = new_user(&app, "gus@example.com", "password-gus");

    let ok = app
        .request(Method::POST, "/verify")
        .json(&json!({"access": user.access}))
        .send()
        .unwrap();
    let bad = app
        .request(Method::POST, "/verify")
        .json(&json!({"access": "x.y.z"}))
        .send()
        .unwrap();

    assert_eq!(json(ok)["user_id"], user.user_id);
    assert_invalid_token(bad, "garbage in /verify");
}

#[test]
fn the_jwks_lists_public_keys_only() {
    let app = spawn_app();

    let response = app.get("/.well-known/jwks.json");

    assert_eq!(response.status(), 200);
    let jwks: Value = json(response);
    let key = &jwks["keys"][0];
    assert_eq!(key["kty"], "OKP");
    assert_eq!(key["crv"], "Ed25519");
    assert_eq!(key["alg"], "EdDSA");
    assert!(key["kid"].is_string() && key["x"].is_string());
    assert!(key.get("d").is_none());
}

#[test]
fn client_credentials_give_a_service_token_and_bad_clients_get_invalid_client() {
    let app = spawn_app();
    let post = |id: &str, secret: &str, form: &str| {
        app.request(Method::POST, "/token")
            .basic_auth(id, Some(secret))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form.to_owned())
            .send()
            .unwrap()
    };

    let ok = post(
        WORKER_CLIENT_ID,
        WORKER_CLIENT_SECRET,
        "grant_type=client_credentials",
    );
    let wrong = post(
        WORKER_CLIENT_ID,
        "wrong-secret",
        "grant_type=client_credentials",
    );
    let grant = post(
        WORKER_CLIENT_ID,
        WORKER_CLIENT_SECRET,
        "grant_type=password",
    );
    let no_grant = post(WORKER_CLIENT_ID, WORKER_CLIENT_SECRET, "scope=x");

    assert_eq!(ok.headers()["cache-control"], "no-store");
    let body = json(ok);
    assert!(body.get("refresh_token").is_none());
    let claims = json(validate(&app, body["access_token"].as_str().unwrap()));
    assert_eq!(claims["typ"], "service");
    assert!(claims.get("sid").is_none());
    assert_eq!(wrong.status(), 401);
    // DESIGN §4a: every 401 starts with the Bearer challenge; RFC 6749 §5.2
    // adds the Basic one for the scheme this route takes.
    let challenge = wrong.headers()["www-authenticate"].to_str().unwrap();
    assert!(
        challenge.starts_with("Bearer realm=\"clipwave\"") && !challenge.contains("error="),
        "{challenge}"
    );
    assert!(
        challenge.contains("Basic realm=\"clipwave\""),
        "{challenge}"
    );
    assert_eq!(json(wrong)["error"], "invalid_client");
    assert_eq!(grant.status(), 400);
    assert_eq!(json(grant)["error"], "unsupported_grant_type");
    assert_eq!(no_grant.status(), 400);
    assert_eq!(json(no_grant)["error"], "invalid_request");
}

#[test]
fn unknown_email_and_wrong_password_get_the_same_body() {
    let app = spawn_app();
    new_user(&app, "hal@example.com", "password-hal");

    let unknown = login_basic(&app, "nobody@example.com", "password-hal");
    let wrong = login_basic(&app, "hal@example.com", "wrong-password");

    assert_eq!(unknown.status(), 401);
    assert_eq!(wrong.status(), 401);
    assert_eq!(
        unknown.headers()["www-authenticate"],
        "Bearer realm=\"clipwave\""
    );
    let (mut a, mut b) = (json(unknown), json(wrong));
    a["request_id"] = Value::Null;
    b["request_id"] = Value::Null;
    assert_eq!(a, b);
    assert_eq!(a["error"], "invalid_credentials");
}
