//! The issue's attack matrix through real HTTP: each answer is 401 (or 403
//! for a valid token of the wrong kind, DESIGN §4a), never a 5xx.

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};
use clipwave_token::{generate_key_pair, TokenType};
use reqwest::Method;
use serde_json::json;

use crate::auth_support::*;
use crate::helpers::{json, spawn_app, WORKER_CLIENT_ID, WORKER_CLIENT_SECRET};

fn b64(bytes: impl AsRef<[u8]>) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

#[test]
fn missing_or_garbled_authorization_headers_are_401() {
    let app = spawn_app();

    let missing = app.get("/validate");
    assert_eq!(missing.status(), 401);
    assert_eq!(
        missing.headers()["www-authenticate"],
        "Bearer realm=\"clipwave\""
    );
    for header in [
        "Bearer",
        "Bearer    ",
        "Bearer a b c",
        "Bearer ☃",
        "Bearer x.y.z",
        "Bearer .....",
    ] {
        let response = app
            .request(Method::GET, "/validate")
            .header("authorization", header)
            .send()
            .unwrap();
        assert_eq!(response.status(), 401, "{header}");
    }
    let basic = app
        .request(Method::GET, "/validate")
        .header("authorization", "Basic Zm9vOmJhcg==")
        .send()
        .unwrap();
    assert_eq!(basic.status(), 401);
    // RFC 6750 §3.1: no bearer token presented, so no error code.
    assert_eq!(
        basic.headers()["www-authenticate"],
        "Bearer realm=\"clipwave\""
    );
}

#[test]
fn protected_auth_routes_authenticate_before_answering_405() {
    let app = spawn_app();
    let user = new_user(&app, "mo@example.com", "password-mo");
    for (method, path) in [(Method::POST, "/validate"), (Method::GET, "/logout")] {
        let forged = bearer(&app, method.clone(), path, "x.y.z");
        assert_eq!(forged.status(), 401, "{method} {path} with a forged token");
        assert_eq!(json(forged)["error"], "invalid_token");
        let valid = bearer(&app, method.clone(), path, &user.access);
        assert_eq!(valid.status(), 405, "{method} {path} with a valid token");
        assert!(valid.headers().contains_key("allow"));
    }
}

#[test]
fn a_login_body_of_the_wrong_shape_is_401_not_400() {
    let app = spawn_app();
    new_user(&app, "nia@example.com", "password-nia");
    let bodies: [(&str, &[u8]); 5] = [
        ("application/json", b"{}"),
        ("application/json", b"{\"email\":\"nia@example.com\"}"),
        (
            "application/json",
            b"[\"nia@example.com\",\"password-nia\"]",
        ),
        ("application/json", b"{\"email\":1,\"password\":[]}"),
        (
            "application/x-www-form-urlencoded",
            b"email=nia%40example.com&password=password-nia",
        ),
    ];
    for (content_type, body) in bodies {
        let response = app
            .request(Method::POST, "/login")
            .header("content-type", content_type)
            .body(body.to_vec())
            .send()
            .unwrap();
        let shown = String::from_utf8_lossy(body);
        assert_eq!(response.status(), 401, "{shown}");
        assert_eq!(
            response.headers()["www-authenticate"],
            "Bearer realm=\"clipwave\"",
            "{shown}"
        );
        assert_eq!(json(response)["error"], "invalid_credentials", "{shown}");
    }
    let oversized = app
        .request(Method::POST, "/login")
        .header("content-type", "application/json")
        .body(
            vec![b' '; 70_000]
                .into_iter()
                .chain(*b"{}")
                .collect::<Vec<u8>>(),
        )
        .send()
        .unwrap();
    assert_eq!(oversized.status(), 413);
}

#[test]
fn forged_headers_and_payloads_are_rejected() {
    let (app, keys) = spawn_app_with_keys(&[]);
    let user = new_user(&app, "ivy@example.com", "password-ivy");
    let real = claims_of(&user.access);
    let payload = b64(serde_json::to_vec(&real).unwrap());
    let signature = user.access.rsplit('.').next().unwrap().to_owned();
    let jwks: serde_json::Value = serde_json::from_str(&keys.jwks).unwrap();
    let x = jwks["keys"][0]["x"].as_str().unwrap();
    let hs256 = {
        use jwt_simple::prelude::{Claims as JwtClaims, Duration, HS256Key, MACLike};
        HS256Key::from_bytes(x.as_bytes())
            .with_key_id("e2e-key")
            .authenticate(JwtClaims::create(Duration::from_secs(900)).with_issuer("clipwave"))
            .unwrap()
    };
    let mut admin_claims = real.clone();
    admin_claims.role = clipwave_token::Role::Admin;

    let cases = [
        (
            "alg none",
            format!("{}.{payload}.", b64(r#"{"alg":"none","typ":"JWT"}"#)),
        ),
        ("HS256 with the public key", hs256),
        ("unknown kid", sign(&generate_key_pair("other-key"), &real)),
        (
            "kid with a path",
            format!(
                "{}.{payload}.{signature}",
                b64(r#"{"alg":"EdDSA","kid":"../../etc/passwd"}"#)
            ),
        ),
        (
            "kid with SQL",
            format!(
                "{}.{payload}.{signature}",
                b64(r#"{"alg":"EdDSA","kid":"x' OR '1'='1"}"#)
            ),
        ),
        (
            "embedded jwk",
            format!(
                "{}.{payload}.{signature}",
                b64(format!(
                    r#"{{"alg":"EdDSA","kid":"e2e-key","jwk":{}}}"#,
                    keys.jwks
                ))
            ),
        ),
        (
            "tampered payload",
            format!(
                "{}.{}.{signature}",
                user.access.split('.').next().unwrap(),
                b64(serde_json::to_vec(&admin_claims).unwrap())
            ),
        ),
        ("re-signed but never issued", sign(&keys, &admin_claims)),
    ];
    for (what, token) in cases {
        assert_invalid_token(validate(&app, &token), what);
    }
    assert_eq!(
        validate(&app, &user.access).status(),
        200,
        "the real token still works"
    );
}

#[test]
fn expired_future_and_foreign_claims_are_rejected() {
    let (app, keys) = spawn_app_with_keys(&[]);
    let user = new_user(&app, "jon@example.com", "password-jon");
    let real = claims_of(&user.access);

    let mut expired = real.clone();
    expired.exp = real.iat - 3600;
    let mut future = real.clone();
    future.nbf = real.iat + 3600;
    let mut issuer = real.clone();
    issuer.iss = "someone-else".into();
    let mut audience = real.clone();
    audience.aud = "another-api".into();
    for (what, claims) in [
        ("expired", expired),
        ("nbf in the future", future),
        ("wrong iss", issuer),
        ("wrong aud", audience),
    ] {
        assert_invalid_token(validate(&app, &sign(&keys, &claims)), what);
    }
}

#[test]
fn a_refresh_token_is_not_an_access_token() {
    let app = spawn_app();
    let user = new_user(&app, "kim@example.com", "password-kim");

    assert_invalid_token(validate(&app, &user.refresh), "refresh as Bearer");
    assert_invalid_token(
        bearer(&app, Method::GET, "/me", &user.refresh),
        "refresh at /me",
    );
}

#[test]
fn an_access_token_is_not_a_refresh_token() {
    let app = spawn_app();
    let user = new_user(&app, "lea@example.com", "password-lea");

    let response = refresh(&app, &user.access);

    assert_eq!(response.status(), 401);
}

#[test]
fn a_service_token_on_a_user_route_is_insufficient_scope() {
    let app = spawn_app();
    let service = app
        .request(Method::POST, "/token")
        .basic_auth(WORKER_CLIENT_ID, Some(WORKER_CLIENT_SECRET))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .unwrap();
    let token = json(service)["access_token"].as_str().unwrap().to_owned();
    assert_eq!(claims_of(&token).typ, TokenType::Service);

    let me = bearer(&app, Method::GET, "/me", &token);
    let users = bearer(&app, Method::GET, "/users", &token);

    assert_eq!(me.status(), 403);
    assert_eq!(json(me)["error"], "insufficient_scope");
    assert_eq!(users.status(), 403);
}

#[test]
fn a_token_signed_by_a_key_no_longer_in_the_jwks_is_rejected() {
    let old = generate_key_pair("old-key");
    let (app, _) = spawn_app_with_keys(&[]);
    let user = new_user(&app, "max@example.com", "password-max");
    let claims = claims_of(&user.access);

    assert_invalid_token(validate(&app, &sign(&old, &claims)), "retired key");
}

#[test]
fn garbage_bodies_never_produce_a_server_error() {
    let app = spawn_app();
    let bodies: [&[u8]; 6] = [
        b"",
        b"{",
        b"[]",
        b"\xff\xfe\x00",
        b"{\"email\":1,\"password\":[]}",
        &[b'a'; 70_000],
    ];
    for path in [
        "/login",
        "/register",
        "/refresh",
        "/verify",
        "/token",
        "/logout",
    ] {
        for body in bodies {
            let response = app
                .request(Method::POST, path)
                .body(body.to_vec())
                .send()
                .unwrap();
            assert!(
                response.status().as_u16() < 500,
                "{path} answered {}",
                response.status()
            );
        }
    }
    let odd = app
        .request(Method::POST, "/login")
        .header("authorization", "Basic ////")
        .json(&json!({}))
        .send()
        .unwrap();
    assert_eq!(odd.status(), 401);
}
