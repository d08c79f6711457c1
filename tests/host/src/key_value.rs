//! `fermyon:spin/key-value@2.0.0`, stored like Spin's local (`type = "spin"`)
//! store: one SQLite file per label with Spin's `spin_key_value` table.
//!
//! A component may open only the labels listed in its `key_value_stores`;
//! anything else is `access-denied`, exactly as Spin answers.

use std::{
    collections::HashMap,
    path::Path,
    sync::{Arc, Mutex},
};

use anyhow::{Context, Result};
use rusqlite::{params, OptionalExtension};
use wasmtime::component::Resource;

use crate::{
    bindings::fermyon::spin::key_value::{self, Error},
    state::InstanceState,
};

/// Every configured store of the application, by label.
#[derive(Default)]
pub struct KeyValueStores {
    stores: HashMap<String, Arc<KeyValueFile>>,
}

/// One label's store: a SQLite file behind a lock (rusqlite connections are
/// not shareable between threads).
pub struct KeyValueFile {
    label: String,
    connection: Mutex<rusqlite::Connection>,
}

/// The resource a guest holds after `store.open`.
pub struct OpenStore(Arc<KeyValueFile>);

/// What one instance may open.
#[derive(Clone)]
pub struct KeyValueAccess {
    granted: Arc<[String]>,
    stores: Arc<KeyValueStores>,
}

impl KeyValueStores {
    /// Opens (creating if needed) a store file for each label.
    pub fn open<'a>(
        labels: impl IntoIterator<Item = (&'a String, &'a std::path::PathBuf)>,
    ) -> Result<Self> {
        let mut stores = HashMap::new();
        for (label, path) in labels {
            let file = KeyValueFile::open(label, path)
                .with_context(|| format!("key-value store {label:?} at {}", path.display()))?;
            stores.insert(label.clone(), Arc::new(file));
        }
        Ok(Self { stores })
    }

    /// Whether `label` is configured.
    pub fn contains(&self, label: &str) -> bool {
        self.stores.contains_key(label)
    }
}

impl KeyValueFile {
    fn open(label: &str, path: &Path) -> Result<Self> {
        let connection = crate::sqlite::open_store_file(path)?;
        connection.execute_batch(
            "CREATE TABLE IF NOT EXISTS spin_key_value (
                store TEXT NOT NULL,
                key   TEXT NOT NULL,
                value BLOB NOT NULL,
                PRIMARY KEY (store, key)
            );",
        )?;
        Ok(Self {
            label: label.to_string(),
            connection: Mutex::new(connection),
        })
    }

    fn with<T>(
        &self,
        f: impl FnOnce(&rusqlite::Connection, &str) -> rusqlite::Result<T>,
    ) -> Result<T, Error> {
        let connection = self
            .connection
            .lock()
            .map_err(|_| Error::Other("store lock poisoned".into()))?;
        f(&connection, &self.label).map_err(|e| Error::Other(e.to_string()))
    }
}

impl KeyValueAccess {
    /// Access for a component granted `granted` labels.
    pub fn new(granted: Vec<String>, stores: Arc<KeyValueStores>) -> Self {
        Self {
            granted: granted.into(),
            stores,
        }
    }
}

impl key_value::Host for InstanceState {}

impl key_value::HostStore for InstanceState {
    async fn open(
        &mut self,
        label: String,
    ) -> wasmtime::Result<Result<Resource<OpenStore>, Error>> {
        if !self.key_value.granted.contains(&label) {
            return Ok(Err(Error::AccessDenied));
        }
        let Some(file) = self.key_value.stores.stores.get(&label) else {
            return Ok(Err(Error::NoSuchStore));
        };
        let handle = self.table.push(OpenStore(file.clone()))?;
        Ok(Ok(handle))
    }

    async fn get(
        &mut self,
        store: Resource<OpenStore>,
        key: String,
    ) -> wasmtime::Result<Result<Option<Vec<u8>>, Error>> {
        let file = &self.table.get(&store)?.0;
        Ok(file.with(|c, label| {
            c.prepare_cached("SELECT value FROM spin_key_value WHERE store = ?1 AND key = ?2")?
                .query_row(params![label, key], |row| row.get::<_, Vec<u8>>(0))
                .optional()
        }))
    }

    async fn set(
        &mut self,
        store: Resource<OpenStore>,
        key: String,
        value: Vec<u8>,
    ) -> wasmtime::Result<Result<(), Error>> {
        let file = &self.table.get(&store)?.0;
        Ok(file.with(|c, label| {
            c.prepare_cached(
                "INSERT INTO spin_key_value (store, key, value) VALUES (?1, ?2, ?3)
                 ON CONFLICT (store, key) DO UPDATE SET value = excluded.value",
            )?
            .execute(params![label, key, value])
            .map(drop)
        }))
    }

    async fn delete(
        &mut self,
        store: Resource<OpenStore>,
        key: String,
    ) -> wasmtime::Result<Result<(), Error>> {
        let file = &self.table.get(&store)?.0;
        Ok(file.with(|c, label| {
            c.prepare_cached("DELETE FROM spin_key_value WHERE store = ?1 AND key = ?2")?
                .execute(params![label, key])
                .map(drop)
        }))
    }

    async fn exists(
        &mut self,
        store: Resource<OpenStore>,
        key: String,
    ) -> wasmtime::Result<Result<bool, Error>> {
        let file = &self.table.get(&store)?.0;
        Ok(file.with(|c, label| {
            c.prepare_cached("SELECT 1 FROM spin_key_value WHERE store = ?1 AND key = ?2")?
                .exists(params![label, key])
        }))
    }

    async fn get_keys(
        &mut self,
        store: Resource<OpenStore>,
    ) -> wasmtime::Result<Result<Vec<String>, Error>> {
        let file = &self.table.get(&store)?.0;
        Ok(file.with(|c, label| {
            c.prepare_cached("SELECT key FROM spin_key_value WHERE store = ?1")?
                .query_map(params![label], |row| row.get::<_, String>(0))?
                .collect()
        }))
    }

    async fn drop(&mut self, store: Resource<OpenStore>) -> wasmtime::Result<()> {
        self.table.delete(store)?;
        Ok(())
    }
}
