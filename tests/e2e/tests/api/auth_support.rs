//! Typed calls to the auth routes, shared by the `auth_*` tests.

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};
use clipwave_token::{generate_key_pair, Claims, GeneratedKeys, SigningKey};
use reqwest::{blocking::Response, Method};
use serde_json::{json, Value};

use crate::helpers::{spawn_app_with, TestApp, ADMIN_EMAIL, ADMIN_PASSWORD};

/// A token pair as `/login` and `/refresh` return it.
pub struct Tokens {
    pub access: String,
    pub refresh: String,
    pub user_id: String,
}

/// An app whose signing keys the test knows, so it can forge with them.
pub fn spawn_app_with_keys(extra: &[(&str, &str)]) -> (TestApp, GeneratedKeys) {
    let keys = generate_key_pair("e2e-key");
    let mut variables = vec![
        ("jwt_signing_key", keys.private_jwk.as_str()),
        ("jwt_public_keys", keys.jwks.as_str()),
    ];
    variables.extend_from_slice(extra);
    (spawn_app_with(&variables), keys)
}

/// `POST /login` with HTTP Basic, as `curl -u email:password` does.
pub fn login_basic(app: &TestApp, email: &str, password: &str) -> Response {
    app.request(Method::POST, "/login")
        .basic_auth(email, Some(password))
        .send()
        .expect("request failed")
}

/// `POST /login` with a JSON body.
pub fn login_json(app: &TestApp, email: &str, password: &str) -> Response {
    app.request(Method::POST, "/login")
        .json(&json!({ "email": email, "password": password }))
        .send()
        .expect("request failed")
}

/// Parses a token response.
pub fn tokens(response: Response) -> Tokens {
    assert_eq!(response.status(), 200, "expected tokens");
    let body: Value = response.json().expect("JSON");
    Tokens {
        access: body["access_token"].as_str().expect("access_token").into(),
        refresh: body["refresh_token"].as_str().unwrap_or_default().into(),
        user_id: body["user_id"].as_str().expect("user_id").into(),
    }
}

/// `POST /register`.
pub fn register(app: &TestApp, email: &str, password: &str) -> Response {
    app.request(Method::POST, "/register")
        .json(&json!({ "email": email, "password": password }))
        .send()
        .expect("request failed")
}

/// Registers and logs in a fresh user.
pub fn new_user(app: &TestApp, email: &str, password: &str) -> Tokens {
    assert_eq!(register(app, email, password).status(), 201);
    tokens(login_basic(app, email, password))
}

/// The admin's tokens.
pub fn admin(app: &TestApp) -> Tokens {
    tokens(login_basic(app, ADMIN_EMAIL, ADMIN_PASSWORD))
}

/// A request with a Bearer token.
pub fn bearer(app: &TestApp, method: Method, path: &str, token: &str) -> Response {
    app.request(method, path)
        .bearer_auth(token)
        .send()
        .expect("request failed")
}

/// `GET /validate` with a Bearer token.
pub fn validate(app: &TestApp, token: &str) -> Response {
    bearer(app, Method::GET, "/validate", token)
}

/// `POST /refresh`.
pub fn refresh(app: &TestApp, refresh_token: &str) -> Response {
    app.request(Method::POST, "/refresh")
        .json(&json!({ "refresh_token": refresh_token }))
        .send()
        .expect("request failed")
}

/// The claims of a token, decoded without checks (for building forgeries).
pub fn claims_of(token: &str) -> Claims {
    serde_json::from_slice(&token_part(token, 1)).expect("claims")
}

/// The `kid` in a token's header.
pub fn kid_of(token: &str) -> String {
    let header: serde_json::Value = serde_json::from_slice(&token_part(token, 0)).expect("JSON");
    header["kid"].as_str().expect("kid").to_owned()
}

/// Part `index` of a compact JWS (0 header, 1 payload), base64url-decoded.
fn token_part(token: &str, index: usize) -> Vec<u8> {
    let part = token.split('.').nth(index).expect("three parts");
    URL_SAFE_NO_PAD.decode(part).expect("base64")
}

/// Signs `claims` with `keys`' private key.
pub fn sign(keys: &GeneratedKeys, claims: &Claims) -> String {
    SigningKey::from_jwk(&keys.private_jwk)
        .expect("key")
        .sign(claims)
        .expect("sign")
}

/// Asserts a 401 `invalid_token` with RFC 6750's challenge.
pub fn assert_invalid_token(response: Response, what: &str) {
    assert_eq!(response.status(), 401, "{what}");
    assert_eq!(
        response.headers()["www-authenticate"],
        "Bearer realm=\"clipwave\", error=\"invalid_token\"",
        "{what}"
    );
    let body: Value = response.json().expect("JSON");
    assert_eq!(body["error"], "invalid_token", "{what}");
}
