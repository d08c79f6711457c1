//! Login throttling (DESIGN §4): per account, then per address.

use crate::auth_support::*;
use crate::helpers::{json, spawn_app, spawn_app_with};

#[test]
fn the_sixth_wrong_password_is_429_and_another_account_is_unaffected() {
    let app = spawn_app();
    new_user(&app, "sam@example.com", "password-sam");
    new_user(&app, "tia@example.com", "password-tia");
    for attempt in 1..=5 {
        let response = login_basic(&app, "sam@example.com", "wrong-password");
        assert_eq!(response.status(), 401, "attempt {attempt}");
    }

    let sixth = login_basic(&app, "sam@example.com", "wrong-password");
    let right_password = login_basic(&app, "sam@example.com", "password-sam");
    let other_account = login_basic(&app, "tia@example.com", "password-tia");

    assert_eq!(sixth.status(), 429);
    let retry_after: u64 = sixth.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=300).contains(&retry_after));
    assert_eq!(json(sixth)["error"], "too_many_requests");
    assert_eq!(right_password.status(), 429, "locked until the window ends");
    assert_eq!(other_account.status(), 200);
}

#[test]
fn unknown_emails_count_against_the_address_only() {
    let app = spawn_app_with(&[("login_max_failures_per_address", "3")]);
    new_user(&app, "uma@example.com", "password-uma");
    for n in 0..3 {
        assert_eq!(
            login_basic(&app, &format!("ghost{n}@example.com"), "whatever-pw").status(),
            401
        );
    }

    let blocked = login_basic(&app, "uma@example.com", "password-uma");

    assert_eq!(blocked.status(), 429);
    assert!(blocked.headers().contains_key("retry-after"));
}

#[test]
fn a_forged_spin_client_addr_header_does_not_escape_the_address_limit() {
    let app = spawn_app_with(&[("login_max_failures_per_address", "3")]);
    new_user(&app, "vic@example.com", "password-vic");
    // Spin appends its own `spin-client-addr` after the client's; the
    // component must count the connection's address, not the forged one.
    for n in 0..3 {
        let forged = app
            .request(reqwest::Method::POST, "/login")
            .header("spin-client-addr", format!("10.0.0.{n}:1234"))
            .basic_auth(format!("ghost{n}@example.com"), Some("whatever-pw"))
            .send()
            .unwrap();
        assert_eq!(forged.status(), 401);
    }

    let blocked = app
        .request(reqwest::Method::POST, "/login")
        .header("spin-client-addr", "10.9.9.9:1")
        .basic_auth("vic@example.com", Some("password-vic"))
        .send()
        .unwrap();

    assert_eq!(blocked.status(), 429);
}
