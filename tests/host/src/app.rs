//! [`App`]: the loaded application — compiled components, routes, stores —
//! and the per-request path from an HTTP request to a component's response.

use std::{
    collections::HashMap,
    net::SocketAddr,
    path::{Path, PathBuf},
    sync::Arc,
};

use anyhow::{Context, Result};
use bytes::Bytes;
use http::{header::HOST, HeaderName, HeaderValue, Request, Response, StatusCode, Uri};
use http_body_util::{BodyExt, Full};
use wasmtime::{
    component::{Component, Linker},
    Engine,
};
use wasmtime_wasi_http::{
    p2::bindings::{http::types::Scheme, ProxyPre},
    WasiBody, WasiHttpView,
};

use crate::{
    compile::compile_component,
    key_value::{KeyValueAccess, KeyValueStores},
    manifest::Manifest,
    outbound::{chaining_target, AllowedHosts, OutboundHooks, CHAINED_CLIENT_ADDR},
    routes::{RouteMatch, Router, WELL_KNOWN_PREFIX},
    runtime_config::RuntimeConfig,
    sqlite::{SqliteAccess, SqliteDatabases},
    state::{ComponentGrants, InstanceState},
    variables::ResolvedVariables,
};

/// Where an application comes from.
#[derive(Debug, Clone)]
pub struct AppConfig {
    /// `spin.toml`.
    pub manifest: PathBuf,
    /// `runtime-config.toml`, if any.
    pub runtime_config: Option<PathBuf>,
    /// Spin's state folder (default stores); `.spin` beside the manifest.
    pub state_dir: Option<PathBuf>,
    /// Where compiled components are cached between runs.
    pub cache_dir: Option<PathBuf>,
}

/// A loaded application, cheap to clone and share between connections.
#[derive(Clone)]
pub struct App {
    inner: Arc<AppInner>,
}

/// The shared part of [`App`]; instances reach it for service chaining.
pub struct AppInner {
    name: String,
    router: Router,
    components: HashMap<String, LoadedComponent>,
}

struct LoadedComponent {
    pre: ProxyPre<InstanceState>,
    grants: ComponentGrants,
    allowed_hosts: Arc<AllowedHosts>,
}

impl App {
    /// Loads the manifest, stores, variables and components.
    ///
    /// # Errors
    /// Anything Spin would refuse at start-up: an invalid manifest, a missing
    /// `.wasm`, a required variable with no value, a store label that is not
    /// configured, a component that imports what this host does not provide.
    pub fn load(config: &AppConfig, engine: &Engine) -> Result<Self> {
        let manifest = Manifest::load(&config.manifest)?;
        let state_dir = config
            .state_dir
            .clone()
            .unwrap_or_else(|| manifest.base_dir.join(".spin"));
        let runtime = RuntimeConfig::load(config.runtime_config.as_deref(), &state_dir)?;
        let variables = ResolvedVariables::resolve(&manifest, |name| std::env::var(name).ok())?;
        let key_value = Arc::new(KeyValueStores::open(&runtime.key_value_stores)?);
        let sqlite = Arc::new(SqliteDatabases::open(&runtime.sqlite_databases)?);
        let linker = host_linker(engine)?;

        let mut components = HashMap::new();
        for (id, spec) in &manifest.components {
            for label in &spec.key_value_stores {
                anyhow::ensure!(
                    key_value.contains(label),
                    "component {id:?} uses key-value store {label:?}, which the runtime config does not define"
                );
            }
            for label in &spec.sqlite_databases {
                anyhow::ensure!(
                    sqlite.contains(label),
                    "component {id:?} uses SQLite database {label:?}, which the runtime config does not define"
                );
            }
            let source = manifest.base_dir.join(&spec.source);
            let component = load_component(engine, &source, config.cache_dir.as_deref())
                .with_context(|| format!("component {id:?}"))?;
            let instance_pre = linker
                .instantiate_pre(&component)
                .map_err(anyhow::Error::from)
                .with_context(|| {
                    format!("component {id:?} imports something this host does not provide")
                })?;
            let pre = ProxyPre::new(instance_pre)
                .map_err(anyhow::Error::from)
                .with_context(|| {
                    format!("component {id:?} does not export wasi:http/incoming-handler")
                })?;
            let grants = ComponentGrants {
                component_id: id.as_str().into(),
                key_value: KeyValueAccess::new(spec.key_value_stores.clone(), key_value.clone()),
                sqlite: SqliteAccess::new(spec.sqlite_databases.clone(), sqlite.clone()),
                variables: Arc::new(variables.for_component(id)),
                environment: spec
                    .environment
                    .clone()
                    .into_iter()
                    .collect::<Vec<_>>()
                    .into(),
            };
            let allowed_hosts = Arc::new(
                AllowedHosts::parse(&spec.allowed_outbound_hosts)
                    .with_context(|| format!("component {id:?}"))?,
            );
            components.insert(
                id.clone(),
                LoadedComponent {
                    pre,
                    grants,
                    allowed_hosts,
                },
            );
        }
        let router = Router::build(&manifest.http_triggers)?;
        Ok(Self {
            inner: Arc::new(AppInner {
                name: manifest.name,
                router,
                components,
            }),
        })
    }

    /// Answers one request from a client at `client_addr`.
    pub async fn handle(
        &self,
        request: Request<WasiBody>,
        client_addr: SocketAddr,
    ) -> Response<WasiBody> {
        self.inner.clone().handle(request, client_addr).await
    }
}

impl AppInner {
    /// Routes a request from outside, as Spin's HTTP trigger does.
    async fn handle(
        self: Arc<Self>,
        request: Request<WasiBody>,
        client_addr: SocketAddr,
    ) -> Response<WasiBody> {
        let path = request.uri().path().to_string();
        if let Some(well_known) = path.strip_prefix(WELL_KNOWN_PREFIX) {
            return match well_known {
                "health" => text_response(StatusCode::OK, "OK"),
                "info" => text_response(StatusCode::OK, &format!("{{\"name\":{:?}}}", self.name)),
                _ => text_response(StatusCode::NOT_FOUND, ""),
            };
        }
        match self.router.route(&path) {
            Some(route) => self.dispatch(request, route, client_addr).await,
            None => text_response(StatusCode::NOT_FOUND, ""),
        }
    }

    /// Whether `id` names a component of this application.
    pub fn has_component(&self, id: &str) -> bool {
        self.components.contains_key(id)
    }

    /// Runs a service-chaining request (`http://<id>.spin.internal/...`).
    pub async fn handle_chained(
        self: Arc<Self>,
        component_id: &str,
        request: Request<WasiBody>,
    ) -> Response<WasiBody> {
        let route = RouteMatch::synthetic(component_id, request.uri().path());
        self.dispatch(request, route, CHAINED_CLIENT_ADDR).await
    }

    /// Runs `route`'s component on a fresh instance.
    async fn dispatch(
        self: Arc<Self>,
        request: Request<WasiBody>,
        route: RouteMatch,
        client_addr: SocketAddr,
    ) -> Response<WasiBody> {
        let component_id = route.component_id.clone();
        match self
            .clone()
            .run_component(request, &route, client_addr)
            .await
        {
            Ok(response) => response,
            Err(error) => {
                tracing::error!(component = %component_id, "error processing request: {error:?}");
                text_response(StatusCode::INTERNAL_SERVER_ERROR, "")
            }
        }
    }

    async fn run_component(
        self: Arc<Self>,
        request: Request<WasiBody>,
        route: &RouteMatch,
        client_addr: SocketAddr,
    ) -> Result<Response<WasiBody>> {
        let component = self
            .components
            .get(&route.component_id)
            .with_context(|| format!("unknown component {:?}", route.component_id))?;
        let request = prepare_request(request, route, client_addr)?;
        let hooks = OutboundHooks::new(component.allowed_hosts.clone(), self.clone());
        let mut store = wasmtime::Store::new(
            component.pre.engine(),
            InstanceState::new(&component.grants, hooks),
        );
        let incoming = store
            .data_mut()
            .http()
            .new_incoming_request(Scheme::Http, request)?;
        let (sender, receiver) = tokio::sync::oneshot::channel();
        let outparam = store.data_mut().http().new_response_outparam(sender)?;
        let pre = component.pre.clone();
        // The guest keeps running after it has sent the head of its response
        // (it streams the body), so it runs in its own task.
        let task = tokio::task::spawn(async move {
            let proxy = pre.instantiate_async(&mut store).await?;
            proxy
                .wasi_http_incoming_handler()
                .call_handle(&mut store, incoming, outparam)
                .await
        });
        match receiver.await {
            Ok(Ok(response)) => Ok(response),
            Ok(Err(code)) => anyhow::bail!("guest answered with error code {code:?}"),
            Err(_) => {
                let outcome = task.await.context("guest task panicked")?;
                match outcome {
                    Ok(()) => anyhow::bail!("guest never set a response"),
                    Err(error) => Err(anyhow::Error::from(error)
                        .context("guest trapped before setting a response")),
                }
            }
        }
    }
}

/// Spin's request preparation: absolute URI, `spin-*` headers appended
/// after the client's own, `Host` dropped on chained requests.
fn prepare_request(
    request: Request<WasiBody>,
    route: &RouteMatch,
    client_addr: SocketAddr,
) -> Result<Request<WasiBody>> {
    let (mut parts, body) = request.into_parts();
    let chained_host = parts
        .headers
        .get(HOST)
        .and_then(|h| h.to_str().ok())
        .and_then(|h| chaining_target(h.split(':').next().unwrap_or(h)))
        .is_some();
    if chained_host {
        parts.headers.remove(HOST);
    }
    let host = parts
        .headers
        .get(HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost")
        .to_string();
    let path_and_query = parts
        .uri
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "/".into());
    parts.uri = Uri::builder()
        .scheme("http")
        .authority(host.as_str())
        .path_and_query(path_and_query)
        .build()
        .context("cannot build the request URI")?;
    for (name, value) in route.spin_headers(&parts.uri, &host, client_addr) {
        if let (Ok(name), Ok(value)) = (name.parse::<HeaderName>(), HeaderValue::from_str(&value)) {
            parts.headers.append(name, value);
        }
    }
    Ok(Request::from_parts(parts, body))
}

/// The linker every component is instantiated against.
fn host_linker(engine: &Engine) -> Result<Linker<InstanceState>> {
    let mut linker = Linker::new(engine);
    wasmtime_wasi::p2::add_to_linker_async(&mut linker)?;
    wasmtime_wasi_http::p2::add_only_http_to_linker_async(&mut linker)?;
    crate::bindings::SpinHost::add_to_linker::<_, wasmtime::component::HasSelf<_>>(
        &mut linker,
        |state| state,
    )?;
    Ok(linker)
}

fn load_component(engine: &Engine, source: &Path, cache_dir: Option<&Path>) -> Result<Component> {
    let bytes =
        std::fs::read(source).with_context(|| format!("cannot read {}", source.display()))?;
    compile_component(engine, &bytes, cache_dir)
}

/// A small response made by the host itself (404s, Spin's well-known routes).
pub(crate) fn text_response(status: StatusCode, text: &str) -> Response<WasiBody> {
    let body = Full::new(Bytes::from(text.to_string()))
        .map_err(|never| match never {})
        .boxed_unsync();
    let mut response = Response::new(body);
    *response.status_mut() = status;
    response
}
