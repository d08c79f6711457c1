//! Spin's HTTP routing: which component a path goes to, and the `spin-*`
//! headers that tell the component how it matched.
//!
//! Matching is delegated to `routefinder`, the crate Spin 3.6 itself uses,
//! with Spin's translation of its patterns (`/x/...` is routefinder's
//! `/x/*`), so precedence is Spin's by construction: exact segments beat
//! `:param` segments, which beat a trailing wildcard; among equals, the
//! more specific route wins. A later duplicate of a route replaces an
//! earlier one, as in Spin.

use std::net::SocketAddr;

use anyhow::{anyhow, Result};
use http::Uri;

use crate::manifest::{HttpTrigger, RouteConfig};

/// The path prefix Spin reserves for itself.
pub const WELL_KNOWN_PREFIX: &str = "/.well-known/spin/";

/// Public routes of the application.
pub struct Router {
    inner: routefinder::Router<RouteHandler>,
}

#[derive(Debug, Clone)]
struct RouteHandler {
    component_id: String,
    /// The route as Spin reports it in `spin-matched-route`.
    based_route: String,
    /// The route as written in `spin.toml`.
    raw_route: String,
}

/// The outcome of routing one path.
#[derive(Debug, Clone)]
pub struct RouteMatch {
    /// The component that handles the request.
    pub component_id: String,
    based_route: String,
    raw_route: String,
    /// The part of the path matched by a trailing wildcard (`spin-path-info`).
    path_info: String,
    /// `:name` captures, for `spin-path-match-<name>`.
    params: Vec<(String, String)>,
}

impl Router {
    /// Builds the router from the manifest's triggers (private ones are skipped).
    ///
    /// # Errors
    /// A route that routefinder cannot parse.
    pub fn build(triggers: &[HttpTrigger]) -> Result<Self> {
        // Later duplicates replace earlier ones but keep the first position,
        // as Spin's IndexMap does.
        let mut ordered: Vec<(String, RouteHandler)> = Vec::new();
        for trigger in triggers {
            let RouteConfig::Pattern(raw) = &trigger.route else {
                continue;
            };
            let handler = RouteHandler {
                component_id: trigger.component.clone(),
                based_route: sanitize_with_base(raw),
                raw_route: raw.clone(),
            };
            match ordered.iter_mut().find(|(r, _)| r == raw) {
                Some(slot) => {
                    tracing::warn!(
                        route = %raw,
                        replaced = %slot.1.component_id,
                        effective = %handler.component_id,
                        "duplicate route"
                    );
                    slot.1 = handler;
                }
                None => ordered.push((raw.clone(), handler)),
            }
        }
        let mut inner = routefinder::Router::new();
        for (_, handler) in ordered {
            let spec = match handler.based_route.strip_suffix("/...") {
                Some(prefix) => format!("{prefix}/*"),
                None => handler.based_route.clone(),
            };
            let component = handler.component_id.clone();
            inner.add(spec.as_str(), handler).map_err(|e| {
                anyhow!("cannot parse route {spec:?} of component {component:?}: {e}")
            })?;
        }
        Ok(Self { inner })
    }

    /// The best route for `path`, or `None` (Spin answers a bare 404 then).
    pub fn route(&self, path: &str) -> Option<RouteMatch> {
        let matched = self.inner.best_match(path)?;
        let handler = matched.handler();
        let captures = matched.captures();
        let path_info = captures
            .wildcard()
            .map(
                |wildcard| match (wildcard.is_empty(), path.ends_with('/')) {
                    (true, false) => String::new(),
                    (true, true) => "/".to_string(),
                    (false, false) => format!("/{wildcard}"),
                    (false, true) => format!("/{wildcard}/"),
                },
            )
            .unwrap_or_default();
        let params = captures
            .iter()
            .map(|(name, value)| (name.to_string(), value.to_string()))
            .collect();
        Some(RouteMatch {
            component_id: handler.component_id.clone(),
            based_route: handler.based_route.clone(),
            raw_route: handler.raw_route.clone(),
            path_info,
            params,
        })
    }
}

impl RouteMatch {
    /// The match Spin makes for a service-chaining request: the whole path is
    /// the wildcard part of a synthetic `/...` route of `component_id`.
    pub fn synthetic(component_id: &str, path: &str) -> Self {
        Self {
            component_id: component_id.to_string(),
            based_route: "/...".into(),
            raw_route: "/...".into(),
            path_info: path.to_string(),
            params: Vec::new(),
        }
    }

    /// The `spin-*` request headers for this match (Spin's names and values).
    pub fn spin_headers(
        &self,
        uri: &Uri,
        host: &str,
        client_addr: SocketAddr,
    ) -> Vec<(String, String)> {
        let path_and_query = uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
        let scheme = uri.scheme_str().unwrap_or("http");
        let component_route = self
            .raw_route
            .strip_suffix("/...")
            .unwrap_or(&self.raw_route)
            .to_string();
        let mut headers = vec![
            ("spin-path-info".to_string(), self.path_info.clone()),
            (
                "spin-full-url".to_string(),
                format!("{scheme}://{host}{path_and_query}"),
            ),
            ("spin-matched-route".to_string(), self.based_route.clone()),
            ("spin-base-path".to_string(), "/".to_string()),
            (
                "spin-raw-component-route".to_string(),
                self.raw_route.clone(),
            ),
            ("spin-component-route".to_string(), component_route),
            ("spin-client-addr".to_string(), client_addr.to_string()),
        ];
        for (name, value) in &self.params {
            headers.push((
                format!("spin-path-match-{}", name.to_ascii_lowercase()),
                value.clone(),
            ));
        }
        headers
    }
}

/// Spin's normalisation of a route under the (always `/`) base: absolute,
/// without a trailing slash.
fn sanitize_with_base(route: &str) -> String {
    let absolute = if route.starts_with('/') {
        route.to_string()
    } else {
        format!("/{route}")
    };
    match absolute.strip_suffix('/') {
        Some(stripped) => stripped.to_string(),
        None => absolute,
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn router(routes: &[(&str, &str)]) -> Router {
        let triggers: Vec<HttpTrigger> = routes
            .iter()
            .map(|(route, component)| HttpTrigger {
                id: None,
                route: RouteConfig::Pattern(route.to_string()),
                component: component.to_string(),
            })
            .collect();
        Router::build(&triggers).unwrap()
    }

    fn component(router: &Router, path: &str) -> Option<String> {
        router.route(path).map(|m| m.component_id)
    }

    #[test]
    fn exact_beats_parameter_beats_wildcard() {
        let r = router(&[
            ("/...", "catch-all"),
            ("/users/...", "users-wild"),
            ("/users/:id", "users-param"),
            ("/users/me", "users-me"),
        ]);
        assert_eq!(component(&r, "/users/me").as_deref(), Some("users-me"));
        assert_eq!(component(&r, "/users/42").as_deref(), Some("users-param"));
        assert_eq!(
            component(&r, "/users/42/jobs").as_deref(),
            Some("users-wild")
        );
        assert_eq!(component(&r, "/other").as_deref(), Some("catch-all"));
    }

    #[test]
    fn a_longer_wildcard_prefix_wins() {
        let r = router(&[("/api/...", "api"), ("/api/v2/...", "v2")]);
        assert_eq!(component(&r, "/api/v2/x").as_deref(), Some("v2"));
        assert_eq!(component(&r, "/api/v1/x").as_deref(), Some("api"));
    }

    #[test]
    fn no_route_means_no_match() {
        let r = router(&[("/exact", "e")]);
        assert!(r.route("/exact/more").is_none());
        assert!(r.route("/").is_none());
    }

    #[test]
    fn path_info_is_the_wildcard_part() {
        let r = router(&[("/static/...", "s"), ("/exact", "e")]);
        assert_eq!(r.route("/static/a/b.css").unwrap().path_info, "/a/b.css");
        assert_eq!(r.route("/static").unwrap().path_info, "");
        assert_eq!(r.route("/exact").unwrap().path_info, "");
    }

    #[test]
    fn the_later_duplicate_route_wins() {
        let r = router(&[("/dup", "first"), ("/dup", "second")]);
        assert_eq!(component(&r, "/dup").as_deref(), Some("second"));
    }

    #[test]
    fn spin_headers_describe_the_match() {
        let r = router(&[("/foo/...", "c")]);
        let m = r.route("/foo/bar").unwrap();
        let uri: Uri = "/foo/bar?x=1".parse().unwrap();
        let headers: HashMap<_, _> = m
            .spin_headers(&uri, "example.test", "127.0.0.1:8777".parse().unwrap())
            .into_iter()
            .collect();
        assert_eq!(headers["spin-full-url"], "http://example.test/foo/bar?x=1");
        assert_eq!(headers["spin-path-info"], "/bar");
        assert_eq!(headers["spin-matched-route"], "/foo/...");
        assert_eq!(headers["spin-raw-component-route"], "/foo/...");
        assert_eq!(headers["spin-component-route"], "/foo");
        assert_eq!(headers["spin-base-path"], "/");
        assert_eq!(headers["spin-client-addr"], "127.0.0.1:8777");
    }

    #[test]
    fn named_parameters_become_path_match_headers() {
        let r = router(&[("/users/:id", "u")]);
        let m = r.route("/users/42").unwrap();
        let uri: Uri = "/users/42".parse().unwrap();
        let headers = m.spin_headers(&uri, "h", "127.0.0.1:1".parse().unwrap());
        assert!(headers.contains(&("spin-path-match-id".into(), "42".into())));
    }
}
