//! [`InstanceState`]: everything one component instance can reach, created
//! fresh for every request as Spin does.

use std::{collections::BTreeMap, sync::Arc};

use wasmtime::component::ResourceTable;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpView};

use crate::{
    bindings::fermyon::spin::variables::{self, Error as VariableError},
    key_value::KeyValueAccess,
    logs::{ComponentLog, Sink},
    outbound::OutboundHooks,
    sqlite::SqliteAccess,
    variables::is_valid_name,
};

/// The data of one `Store`: WASI, wasi-http, and Spin's interfaces.
pub struct InstanceState {
    pub(crate) table: ResourceTable,
    wasi: WasiCtx,
    http: WasiHttpCtx,
    hooks: OutboundHooks,
    pub(crate) key_value: KeyValueAccess,
    pub(crate) sqlite: SqliteAccess,
    variables: Arc<BTreeMap<String, String>>,
}

/// What a component is allowed, fixed at start-up and shared by its instances.
#[derive(Clone)]
pub struct ComponentGrants {
    /// The component id (log prefix, chaining target name).
    pub component_id: Arc<str>,
    /// Key-value labels it may open.
    pub key_value: KeyValueAccess,
    /// SQLite labels it may open.
    pub sqlite: SqliteAccess,
    /// Its resolved variables.
    pub variables: Arc<BTreeMap<String, String>>,
    /// Guest environment variables.
    pub environment: Arc<[(String, String)]>,
}

impl InstanceState {
    /// A fresh state for one instance of a component.
    pub fn new(grants: &ComponentGrants, hooks: OutboundHooks) -> Self {
        let mut wasi = WasiCtx::builder();
        wasi.stdout(ComponentLog::new(grants.component_id.clone(), Sink::Stdout))
            .stderr(ComponentLog::new(grants.component_id.clone(), Sink::Stderr));
        for (key, value) in grants.environment.iter() {
            wasi.env(key, value);
        }
        Self {
            table: ResourceTable::new(),
            wasi: wasi.build(),
            http: WasiHttpCtx::new(),
            hooks,
            key_value: grants.key_value.clone(),
            sqlite: grants.sqlite.clone(),
            variables: grants.variables.clone(),
        }
    }
}

impl WasiView for InstanceState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl WasiHttpView for InstanceState {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView {
            ctx: &mut self.http,
            table: &mut self.table,
            hooks: &mut self.hooks,
        }
    }
}

impl variables::Host for InstanceState {
    async fn get(&mut self, name: String) -> wasmtime::Result<Result<String, VariableError>> {
        if !is_valid_name(&name) {
            return Ok(Err(VariableError::InvalidName(name)));
        }
        Ok(self
            .variables
            .get(&name)
            .cloned()
            .ok_or(VariableError::Undefined(name)))
    }
}
