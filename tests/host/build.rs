//! Links the WIT of the `spin-sdk` crate the components are built with into
//! `wit/deps/spin/`, where `bindgen!` reads it.
//!
//! The host must speak exactly the interfaces the guests import. Reading
//! them from the very crate version in `Cargo.lock` (found with `cargo
//! metadata`) instead of keeping a copy means a spin-sdk bump cannot leave
//! the host behind silently.

use std::{
    env, fs,
    path::{Path, PathBuf},
    process::Command,
};

/// The interface files the host implements, from spin-sdk's `fermyon:spin@2.0.0`.
const INTERFACES: [&str; 3] = ["key-value.wit", "sqlite.wit", "variables.wit"];

fn main() {
    let manifest_dir = PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let sdk_wit = spin_sdk_wit_dir(&manifest_dir)
        .join("deps")
        .join("spin@2.0.0");
    let deps = manifest_dir.join("wit").join("deps").join("spin");
    fs::create_dir_all(&deps).expect("create wit/deps/spin");
    for name in INTERFACES {
        let source = sdk_wit.join(name);
        let target = deps.join(name);
        let _ = fs::remove_file(&target);
        link(&source, &target);
        println!("cargo:rerun-if-changed={}", source.display());
    }
    // The package header lives in spin-sdk's world.wit, which also pulls in
    // WASI worlds we do not need; a one-line file declares the package instead.
    fs::write(deps.join("package.wit"), "package fermyon:spin@2.0.0;\n")
        .expect("write wit/deps/spin/package.wit");
    println!("cargo:rerun-if-changed=wit/host.wit");
    println!("cargo:rerun-if-changed=../../Cargo.lock");
}

/// The `wit/` folder of the spin-sdk package resolved in this workspace.
fn spin_sdk_wit_dir(manifest_dir: &Path) -> PathBuf {
    let cargo = env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let workspace_manifest = manifest_dir.join("..").join("..").join("Cargo.toml");
    let metadata = |extra: &[&str]| {
        Command::new(&cargo)
            .args(["metadata", "--format-version", "1", "--locked"])
            .args(extra)
            .arg("--manifest-path")
            .arg(&workspace_manifest)
            .output()
            .expect("run cargo metadata")
    };
    // Offline first: the sources are normally present already. Only a fresh
    // cache that never built a component needs the registry.
    let mut output = metadata(&["--offline"]);
    if !output.status.success() {
        output = metadata(&[]);
    }
    assert!(
        output.status.success(),
        "cargo metadata failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let metadata: serde_json::Value =
        serde_json::from_slice(&output.stdout).expect("parse cargo metadata");
    let packages = metadata["packages"].as_array().expect("packages array");
    let sdk = packages
        .iter()
        .find(|p| p["name"] == "spin-sdk")
        .expect("spin-sdk is a dependency of the components in this workspace");
    let manifest_path = sdk["manifest_path"].as_str().expect("manifest_path");
    Path::new(manifest_path)
        .parent()
        .expect("spin-sdk manifest has a parent folder")
        .join("wit")
}

#[cfg(unix)]
fn link(source: &Path, target: &Path) {
    std::os::unix::fs::symlink(source, target).expect("symlink spin-sdk WIT");
}

#[cfg(not(unix))]
fn link(source: &Path, target: &Path) {
    fs::copy(source, target).expect("copy spin-sdk WIT");
}
