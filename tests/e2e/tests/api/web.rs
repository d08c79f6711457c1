//! The web page as a browser receives it.

use crate::helpers::spawn_app;

#[test]
fn the_page_is_served_with_its_security_headers() {
    let app = spawn_app();

    let response = app.get("/");

    assert_eq!(response.status(), 200);
    let headers = response.headers().clone();
    assert_eq!(headers["content-type"], "text/html; charset=utf-8");
    let csp = headers["content-security-policy"].to_str().unwrap();
    assert!(
        csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"),
        "{csp}"
    );
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert_eq!(headers["referrer-policy"], "no-referrer");
    assert!(response
        .text()
        .unwrap()
        .contains("<script src=\"/app.js\" defer></script>"));
}

#[test]
fn the_pages_script_and_style_are_served() {
    let app = spawn_app();

    let script = app.get("/app.js");
    let style = app.get("/style.css");

    assert_eq!(script.status(), 200);
    assert!(script.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/javascript"));
    assert_eq!(style.status(), 200);
    assert!(style.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/css"));
}

#[test]
fn the_page_refuses_writes() {
    let app = spawn_app();

    let response = app.request(reqwest::Method::POST, "/").send().unwrap();

    assert_eq!(response.status(), 405);
    assert_eq!(response.headers()["allow"], "GET, HEAD");
}
