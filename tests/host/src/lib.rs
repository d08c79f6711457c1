//! clipwave-host: a Spin 3.6 compatible host for Clipwave's components.
//!
//! The Spin CLI cannot be installed on our build machines, so this crate
//! runs the very same `spin.toml`, `runtime-config.toml` and `.wasm` files
//! with Spin's semantics, built from wasmtime the way Spin itself is: a
//! pre-instantiated component per route target, a fresh instance per
//! request, WASI and wasi-http from wasmtime, and Spin's key-value, SQLite
//! and variables interfaces generated from the spin-sdk crate's own WIT.
//!
//! # Layout
//! - [`manifest`], [`runtime_config`], [`variables`]: what `spin up` reads,
//!   checked as strictly as Spin checks it.
//! - [`routes`]: Spin's route matching and `spin-*` request headers.
//! - [`app`]: loading the app and running a request on a fresh instance.
//! - [`state`]: the per-instance store data; [`key_value`], [`sqlite`] and
//!   [`state`]'s variables implementation are Spin's interfaces.
//! - [`outbound`]: `allowed_outbound_hosts` and service chaining.
//! - [`server`]: the HTTP server, with graceful shutdown; [`linger`]: the
//!   lingering close that lets early answers (413) reach the client.
//! - [`compile`]: compiling components, cached on disk.
//! - [`testing`]: running the host binary from test suites.

pub mod app;
mod bindings;
pub mod compile;
pub mod key_value;
pub mod linger;
mod logs;
pub mod manifest;
pub mod outbound;
pub mod routes;
pub mod runtime_config;
pub mod server;
pub mod sqlite;
pub mod state;
pub mod testing;
pub mod variables;

pub use app::{App, AppConfig};

use anyhow::Result;
use wasmtime::{Config, Enabled, Engine, InstanceAllocationStrategy, PoolingAllocationConfig};

/// The engine Clipwave's components run on: async, component model, with
/// the pooling allocator so a fresh instance per request costs microseconds.
pub fn engine() -> Result<Engine> {
    let mut config = Config::new();
    config.wasm_component_model(true);
    let mut pooling = PoolingAllocationConfig::default();
    pooling.total_component_instances(1_000);
    pooling.total_core_instances(4_000);
    pooling.total_memories(4_000);
    pooling.total_tables(4_000);
    // Components of this app need far less; Spin's default cap is the same.
    pooling.max_memory_size(256 << 20);
    // Reset the first MiB of a freed memory slot (the guest's stack and
    // first data) by memset instead of madvise, so the next instance in it
    // does not page-fault it back in: host CPU per `GET /jobs/{id}` fell
    // from 319 to 294 µs at c=16 and from 430 to 318 µs at c=64 (perf,
    // docs/benchmarks.md). Costs at most 1 MiB resident per slot in use.
    pooling.linear_memory_keep_resident(1 << 20);
    pooling.table_keep_resident(64 << 10);
    // With Linux's PAGEMAP_SCAN (6.7+) the reset finds the pages an
    // instance actually dirtied, anywhere in its memory, and restores up
    // to that MiB of them in place, instead of memsetting the whole first
    // MiB and madvising the rest (page faults and TLB shootdowns on the
    // next use): host CPU per `GET /jobs/{id}` at c=16 fell from ~270 to
    // ~175 µs (docs/benchmarks.md). The memory reads the same after either
    // reset; older kernels keep the memset path.
    pooling.pagemap_scan(Enabled::Auto);
    config.allocation_strategy(InstanceAllocationStrategy::Pooling(pooling));
    Ok(Engine::new(&config)?)
}
