//! Revocation by session (DESIGN §4): logout, logout-all, password change,
//! user deletion and refresh reuse, each for access and refresh tokens.

use reqwest::Method;
use serde_json::json;

use crate::auth_support::*;
use crate::helpers::spawn_app;

fn logout(app: &crate::helpers::TestApp, access: &str, all: bool) -> reqwest::blocking::Response {
    let request = app.request(Method::POST, "/logout").bearer_auth(access);
    let request = if all {
        request.json(&json!({"all": true}))
    } else {
        request
    };
    request.send().unwrap()
}

#[test]
fn logout_revokes_this_session_only() {
    let app = spawn_app();
    let phone = new_user(&app, "ned@example.com", "password-ned");
    let laptop = tokens(login_basic(&app, "ned@example.com", "password-ned"));

    let response = logout(&app, &phone.access, false);

    assert_eq!(response.status(), 204);
    assert_invalid_token(validate(&app, &phone.access), "access after logout");
    assert_eq!(
        refresh(&app, &phone.refresh).status(),
        401,
        "refresh after logout"
    );
    assert_eq!(
        validate(&app, &laptop.access).status(),
        200,
        "other session unaffected"
    );
}

#[test]
fn logout_all_revokes_every_session_and_later_logins_work() {
    let app = spawn_app();
    let phone = new_user(&app, "oli@example.com", "password-oli");
    let laptop = tokens(login_basic(&app, "oli@example.com", "password-oli"));

    assert_eq!(logout(&app, &phone.access, true).status(), 204);

    assert_invalid_token(validate(&app, &phone.access), "this session");
    assert_invalid_token(validate(&app, &laptop.access), "other session");
    assert_eq!(refresh(&app, &laptop.refresh).status(), 401);
    let later = tokens(login_basic(&app, "oli@example.com", "password-oli"));
    assert_eq!(
        validate(&app, &later.access).status(),
        200,
        "issued after the revocation"
    );
}

#[test]
fn a_password_change_revokes_every_session() {
    let app = spawn_app();
    let user = new_user(&app, "pam@example.com", "password-pam");

    let changed = app
        .request(Method::PATCH, "/me")
        .bearer_auth(&user.access)
        .json(&json!({"current_password": "password-pam", "new_password": "new-password-pam"}))
        .send()
        .unwrap();

    assert_eq!(changed.status(), 204);
    assert_invalid_token(validate(&app, &user.access), "access after password change");
    assert_eq!(refresh(&app, &user.refresh).status(), 401);
    assert_eq!(
        login_basic(&app, "pam@example.com", "password-pam").status(),
        401
    );
    assert_eq!(
        login_basic(&app, "pam@example.com", "new-password-pam").status(),
        200
    );
}

#[test]
fn deleting_a_user_invalidates_its_tokens_at_once() {
    let app = spawn_app();
    let admin = admin(&app);
    let user = new_user(&app, "quinn@example.com", "password-quinn");

    let deleted = bearer(
        &app,
        Method::DELETE,
        &format!("/users/{}", user.user_id),
        &admin.access,
    );

    assert_eq!(deleted.status(), 204);
    assert_invalid_token(validate(&app, &user.access), "access after deletion");
    assert_eq!(refresh(&app, &user.refresh).status(), 401);
    assert_eq!(
        login_basic(&app, "quinn@example.com", "password-quinn").status(),
        401
    );
}

#[test]
fn a_reused_refresh_token_after_the_grace_window_revokes_the_family() {
    let app = spawn_app();
    let first = new_user(&app, "rae@example.com", "password-rae");
    let second = tokens(refresh(&app, &first.refresh));

    std::thread::sleep(std::time::Duration::from_secs(11));
    let reuse = refresh(&app, &first.refresh);

    assert_eq!(reuse.status(), 401);
    assert_invalid_token(validate(&app, &second.access), "family revoked");
    assert_eq!(
        refresh(&app, &second.refresh).status(),
        401,
        "its newest refresh token too"
    );
    assert_invalid_token(validate(&app, &first.access), "and the oldest access token");
}
