//! `runtime-config.toml`: where each key-value store and SQLite database lives.
//!
//! Only Spin's local `type = "spin"` stores exist on this machine; Redis or
//! libsql entries (the cluster's runtime config) are refused with a clear
//! message instead of being quietly replaced by files.

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
};

use anyhow::{bail, Context, Result};
use serde::Deserialize;

/// The default file names Spin uses under the state folder (`.spin/`).
const DEFAULT_KEY_VALUE_FILE: &str = "sqlite_key_value.db";
const DEFAULT_SQLITE_FILE: &str = "sqlite_db.db";

/// Resolved store locations, by label.
#[derive(Debug, Clone)]
pub struct RuntimeConfig {
    /// Key-value stores: label → SQLite file.
    pub key_value_stores: BTreeMap<String, PathBuf>,
    /// SQLite databases: label → file.
    pub sqlite_databases: BTreeMap<String, PathBuf>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRuntimeConfig {
    #[serde(default)]
    key_value_store: BTreeMap<String, RawStore>,
    #[serde(default)]
    sqlite_database: BTreeMap<String, RawStore>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStore {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    path: Option<PathBuf>,
}

impl RuntimeConfig {
    /// Reads `path` (if given) and adds Spin's defaults for the `default`
    /// labels under `state_dir`.
    ///
    /// Relative store paths are resolved against the runtime config file's
    /// folder, as Spin does.
    pub fn load(path: Option<&Path>, state_dir: &Path) -> Result<Self> {
        let (raw, base) = match path {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .with_context(|| format!("cannot read runtime config {}", path.display()))?;
                let raw: RawRuntimeConfig = toml::from_str(&text)
                    .with_context(|| format!("invalid runtime config {}", path.display()))?;
                let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
                (raw, base)
            }
            None => (RawRuntimeConfig::default(), PathBuf::new()),
        };
        let mut key_value_stores = resolve("key_value_store", raw.key_value_store, &base)?;
        key_value_stores
            .entry("default".into())
            .or_insert_with(|| state_dir.join(DEFAULT_KEY_VALUE_FILE));
        let mut sqlite_databases = resolve("sqlite_database", raw.sqlite_database, &base)?;
        sqlite_databases
            .entry("default".into())
            .or_insert_with(|| state_dir.join(DEFAULT_SQLITE_FILE));
        Ok(Self {
            key_value_stores,
            sqlite_databases,
        })
    }
}

fn resolve(
    table: &str,
    stores: BTreeMap<String, RawStore>,
    base: &Path,
) -> Result<BTreeMap<String, PathBuf>> {
    stores
        .into_iter()
        .map(|(label, store)| {
            if store.kind != "spin" {
                bail!(
                    "[{table}.{label}] has type {:?}; clipwave-host runs only local \"spin\" stores",
                    store.kind
                );
            }
            let Some(path) = store.path else {
                bail!("[{table}.{label}] needs a path");
            };
            Ok((label, base.join(path)))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_relative_to_the_file_and_defaults_are_added() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("rc.toml");
        std::fs::write(
            &file,
            "[key_value_store.media]\ntype = \"spin\"\npath = \".spin/media.db\"\n",
        )
        .unwrap();
        let config = RuntimeConfig::load(Some(&file), Path::new("/state")).unwrap();
        assert_eq!(
            config.key_value_stores["media"],
            dir.path().join(".spin/media.db")
        );
        assert_eq!(
            config.key_value_stores["default"],
            Path::new("/state").join(DEFAULT_KEY_VALUE_FILE)
        );
        assert_eq!(
            config.sqlite_databases["default"],
            Path::new("/state").join(DEFAULT_SQLITE_FILE)
        );
    }

    #[test]
    fn remote_store_types_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("rc.toml");
        std::fs::write(
            &file,
            "[key_value_store.default]\ntype = \"redis\"\nurl = \"redis://x\"\n",
        )
        .unwrap();
        assert!(RuntimeConfig::load(Some(&file), dir.path()).is_err());
    }
}
