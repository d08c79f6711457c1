//! Compiling components, with an on-disk cache of Cranelift's output.
//!
//! Compiling the app's components takes seconds on a small machine; the
//! end-to-end tests start the host many times. The cache is keyed by the
//! SHA-256 of the `.wasm` and the engine's compatibility hash, so a changed
//! component or a different wasmtime build never loads a stale artifact.

use std::{
    hash::{DefaultHasher, Hash, Hasher},
    path::Path,
};

use anyhow::{Context, Result};
use sha2::{Digest, Sha256};
use wasmtime::{component::Component, Engine};

/// Compiles `wasm`, or loads the artifact cached for it in `cache_dir`.
pub fn compile_component(
    engine: &Engine,
    wasm: &[u8],
    cache_dir: Option<&Path>,
) -> Result<Component> {
    let Some(cache_dir) = cache_dir else {
        return Ok(Component::new(engine, wasm)?);
    };
    let mut engine_hash = DefaultHasher::new();
    engine
        .precompile_compatibility_hash()
        .hash(&mut engine_hash);
    let key = format!(
        "{:x}-{:016x}.cwasm",
        Sha256::digest(wasm),
        engine_hash.finish()
    );
    let path = cache_dir.join(key);
    if path.exists() {
        // SAFETY: the file was written by `precompile_component` below, for a
        // compatible engine (the key says so), into a cache folder that only
        // this host writes.
        match unsafe { Component::deserialize_file(engine, &path) } {
            Ok(component) => return Ok(component),
            Err(error) => tracing::warn!(
                "ignoring unreadable cached component {}: {error:#}",
                path.display()
            ),
        }
    }
    let artifact = engine
        .precompile_component(wasm)
        .map_err(anyhow::Error::from)
        .context("compiling component")?;
    std::fs::create_dir_all(cache_dir)?;
    // Write then rename, so a concurrent host never reads half a file.
    let temporary = path.with_extension(format!("tmp{}", std::process::id()));
    std::fs::write(&temporary, &artifact)?;
    std::fs::rename(&temporary, &path)?;
    // SAFETY: as above; we just wrote this artifact with this engine.
    Ok(unsafe { Component::deserialize(engine, &artifact) }?)
}
