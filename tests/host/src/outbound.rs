//! Outbound HTTP: Spin's `allowed_outbound_hosts`, and service chaining.
//!
//! A request to `http://<component>.spin.internal/...` never leaves the
//! process: it is routed straight to that component (private routes
//! included), as Spin does, provided the caller lists the host. Any other
//! destination must match one of the caller's patterns or is refused with
//! `HttpRequestDenied`, which is what a guest sees under `spin up`.

use std::{future::Future, net::SocketAddr, sync::Arc};

use anyhow::{bail, Context, Result};
use http_body_util::BodyExt;
use wasmtime_wasi_http::{Error as HttpError, RequestOptions, WasiBody, WasiHttpHooks};

use crate::app::AppInner;

/// The suffix of service-chaining hosts.
const CHAINING_SUFFIX: &str = ".spin.internal";

/// The client address Spin reports for chained requests.
pub const CHAINED_CLIENT_ADDR: SocketAddr =
    SocketAddr::new(std::net::IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED), 0);

/// A component's `allowed_outbound_hosts`, parsed.
#[derive(Debug, Clone, Default)]
pub struct AllowedHosts {
    patterns: Vec<HostPattern>,
}

#[derive(Debug, Clone, PartialEq)]
struct HostPattern {
    /// `None` is `*`.
    scheme: Option<String>,
    host: HostMatch,
    /// `None` is `*`; when absent in the pattern, the scheme's default port.
    port: Option<u16>,
}

#[derive(Debug, Clone, PartialEq)]
enum HostMatch {
    Any,
    Exact(String),
    /// `*.example.com`: any subdomain (not the bare domain).
    Subdomain(String),
}

impl AllowedHosts {
    /// Parses Spin's `scheme://host[:port]` patterns (`*` allowed in each part).
    ///
    /// # Errors
    /// A pattern without a scheme, with a path, or with a bad port.
    pub fn parse(patterns: &[String]) -> Result<Self> {
        let patterns = patterns
            .iter()
            .map(|p| {
                HostPattern::parse(p).with_context(|| format!("allowed_outbound_hosts entry {p:?}"))
            })
            .collect::<Result<_>>()?;
        Ok(Self { patterns })
    }

    /// Whether a request to `scheme://host:port` is allowed.
    pub fn allows(&self, scheme: &str, host: &str, port: u16) -> bool {
        self.patterns.iter().any(|p| p.matches(scheme, host, port))
    }
}

impl HostPattern {
    fn parse(pattern: &str) -> Result<Self> {
        let Some((scheme, rest)) = pattern.split_once("://") else {
            bail!("a scheme is required (e.g. https://example.com)");
        };
        let rest = rest.strip_suffix('/').unwrap_or(rest);
        if rest.contains('/') {
            bail!("paths are not allowed");
        }
        let (host, port) = match rest.rsplit_once(':') {
            Some((host, "*")) => (host, None),
            Some((host, port)) => (host, Some(port.parse::<u16>().context("invalid port")?)),
            None => (rest, default_port(scheme)),
        };
        let host = match host {
            "*" => HostMatch::Any,
            h if h.starts_with("*.") => HostMatch::Subdomain(h[1..].to_ascii_lowercase()),
            "" => bail!("a host is required"),
            h => HostMatch::Exact(h.to_ascii_lowercase()),
        };
        let scheme = (scheme != "*").then(|| scheme.to_ascii_lowercase());
        Ok(Self { scheme, host, port })
    }

    fn matches(&self, scheme: &str, host: &str, port: u16) -> bool {
        let host = host.to_ascii_lowercase();
        self.scheme.as_deref().is_none_or(|s| s == scheme)
            && match &self.host {
                HostMatch::Any => true,
                HostMatch::Exact(h) => *h == host,
                HostMatch::Subdomain(suffix) => host.ends_with(suffix.as_str()),
            }
            && self.port.is_none_or(|p| p == port)
    }
}

fn default_port(scheme: &str) -> Option<u16> {
    match scheme {
        "http" => Some(80),
        "https" => Some(443),
        _ => None,
    }
}

/// The component id a `*.spin.internal` host names, if it is one.
pub fn chaining_target(host: &str) -> Option<&str> {
    host.strip_suffix(CHAINING_SUFFIX)
        .filter(|id| !id.is_empty())
}

/// The wasi-http hooks of one instance: where its outbound requests go.
pub struct OutboundHooks {
    allowed: Arc<AllowedHosts>,
    app: Arc<AppInner>,
}

impl OutboundHooks {
    /// Hooks enforcing `allowed` for an instance of `app`.
    pub fn new(allowed: Arc<AllowedHosts>, app: Arc<AppInner>) -> Self {
        Self { allowed, app }
    }
}

type IoFuture = Box<dyn Future<Output = Result<(), HttpError>> + Send>;
type SendFuture =
    Box<dyn Future<Output = Result<(http::Response<WasiBody>, IoFuture), HttpError>> + Send>;

impl WasiHttpHooks for OutboundHooks {
    fn send_request(
        &mut self,
        request: http::Request<WasiBody>,
        options: Option<RequestOptions>,
        _response_errors: IoFuture,
    ) -> SendFuture {
        let uri = request.uri().clone();
        let scheme = uri.scheme_str().unwrap_or("https").to_ascii_lowercase();
        let host = uri.host().unwrap_or_default().to_ascii_lowercase();
        let port = uri
            .port_u16()
            .or_else(|| default_port(&scheme))
            .unwrap_or(0);
        if !self.allowed.allows(&scheme, &host, port) {
            tracing::warn!(%scheme, %host, port, "outbound request denied: not in allowed_outbound_hosts");
            return Box::new(async { Err(HttpError::HttpRequestDenied) });
        }
        if let Some(component_id) = chaining_target(&host) {
            let app = self.app.clone();
            let component_id = component_id.to_string();
            return Box::new(async move {
                if !app.has_component(&component_id) {
                    return Err(HttpError::DestinationNotFound);
                }
                let response = app.handle_chained(&component_id, request).await;
                Ok((response, Box::new(async { Ok(()) }) as IoFuture))
            });
        }
        Box::new(async move {
            let (response, io) = wasmtime_wasi_http::default_send_request(request, options).await?;
            Ok((
                response.map(BodyExt::boxed_unsync),
                Box::new(io) as IoFuture,
            ))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn allowed(patterns: &[&str]) -> AllowedHosts {
        AllowedHosts::parse(&patterns.iter().map(|p| p.to_string()).collect::<Vec<_>>()).unwrap()
    }

    #[test]
    fn an_exact_host_uses_the_schemes_default_port() {
        let a = allowed(&["http://auth.spin.internal"]);
        assert!(a.allows("http", "auth.spin.internal", 80));
        assert!(!a.allows("http", "auth.spin.internal", 8080));
        assert!(!a.allows("https", "auth.spin.internal", 443));
        assert!(!a.allows("http", "gateway.spin.internal", 80));
    }

    #[test]
    fn wildcards_match_what_they_say() {
        let a = allowed(&["https://*.example.com", "http://localhost:*", "*://*:*"]);
        assert!(a.allows("ftp", "anything", 21));
        let b = allowed(&["https://*.example.com"]);
        assert!(b.allows("https", "api.example.com", 443));
        assert!(!b.allows("https", "example.com", 443));
        let c = allowed(&["http://localhost:*"]);
        assert!(c.allows("http", "localhost", 3000));
        assert!(!c.allows("http", "127.0.0.1", 3000));
    }

    #[test]
    fn malformed_patterns_are_rejected() {
        for bad in [
            "example.com",
            "http://",
            "http://x/path",
            "http://x:notaport",
        ] {
            assert!(AllowedHosts::parse(&[bad.to_string()]).is_err(), "{bad}");
        }
    }

    #[test]
    fn chaining_hosts_name_a_component() {
        assert_eq!(chaining_target("auth.spin.internal"), Some("auth"));
        assert_eq!(chaining_target(".spin.internal"), None);
        assert_eq!(chaining_target("example.com"), None);
    }
}
