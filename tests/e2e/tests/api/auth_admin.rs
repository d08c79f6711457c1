//! Admin user management (`/users`) and its authorisation (DESIGN §4a).

use reqwest::Method;
use serde_json::json;

use crate::auth_support::*;
use crate::helpers::{json, spawn_app, spawn_app_with};

#[test]
fn an_admin_creates_lists_promotes_and_deletes_users() {
    let app = spawn_app_with(&[("open_registration", "false")]);
    let admin = admin(&app);

    let created = app
        .request(Method::POST, "/users")
        .bearer_auth(&admin.access)
        .json(&json!({"email": "Vic@Example.com", "password": "password-vic"}))
        .send()
        .unwrap();
    assert_eq!(created.status(), 201);
    let id = json(created)["user_id"].as_str().unwrap().to_owned();
    let list = json(bearer(&app, Method::GET, "/users", &admin.access));
    let promoted = app
        .request(Method::PATCH, &format!("/users/{id}"))
        .bearer_auth(&admin.access)
        .json(&json!({"role": "admin"}))
        .send()
        .unwrap();
    let vic = tokens(login_basic(&app, "vic@example.com", "password-vic"));
    let deleted = bearer(&app, Method::DELETE, &format!("/users/{id}"), &admin.access);
    let gone = bearer(&app, Method::GET, &format!("/users/{id}"), &admin.access);

    assert!(list["users"]
        .as_array()
        .unwrap()
        .iter()
        .any(|u| u["email"] == "vic@example.com"));
    assert_eq!(json(promoted)["role"], "admin");
    assert_eq!(claims_of(&vic.access).role, clipwave_token::Role::Admin);
    assert_eq!(deleted.status(), 204);
    assert_eq!(gone.status(), 404);
}

#[test]
fn users_routes_need_an_admin_and_authenticate_before_anything_else() {
    let app = spawn_app();
    let user = new_user(&app, "wes@example.com", "password-wes");

    let anonymous = app.get("/users/not-a-real-id");
    let anonymous_post = app
        .request(Method::POST, "/users")
        .body("{")
        .send()
        .unwrap();
    let not_admin = bearer(&app, Method::GET, "/users", &user.access);

    assert_eq!(anonymous.status(), 401);
    assert_eq!(
        anonymous.headers()["www-authenticate"],
        "Bearer realm=\"clipwave\""
    );
    assert_eq!(anonymous_post.status(), 401);
    assert_eq!(not_admin.status(), 403);
    assert_eq!(json(not_admin)["error"], "insufficient_scope");
}

#[test]
fn an_admin_cannot_delete_or_demote_themself() {
    let app = spawn_app();
    let admin = admin(&app);
    let path = format!("/users/{}", admin.user_id);

    let delete = bearer(&app, Method::DELETE, &path, &admin.access);
    let demote = app
        .request(Method::PATCH, &path)
        .bearer_auth(&admin.access)
        .json(&json!({"role": "user"}))
        .send()
        .unwrap();

    assert_eq!(delete.status(), 409);
    assert_eq!(demote.status(), 409);
}
