//! `fermyon:spin/sqlite@2.0.0` over local SQLite files, as Spin's `spin`
//! database type does.
//!
//! Statements run inline on the thread serving the request, as key-value
//! calls do. They take microseconds (the app's queries are indexed), and
//! handing each one to tokio's blocking pool cost more than it ran: under
//! load the thread hand-offs were ~17 % of the host's CPU on `GET /jobs/{id}`
//! (futex wake-ups, measured with perf; see docs/benchmarks.md).

use std::{
    collections::HashMap,
    path::Path,
    sync::{Arc, Mutex},
};

use anyhow::{Context, Result};
use rusqlite::types::ValueRef;
use wasmtime::component::Resource;

use crate::{
    bindings::fermyon::spin::sqlite::{self, Error, QueryResult, RowResult, Value},
    state::InstanceState,
};

/// Every configured database of the application, by label.
#[derive(Default)]
pub struct SqliteDatabases {
    databases: HashMap<String, Arc<SqliteFile>>,
}

/// One label's database file behind a lock.
pub struct SqliteFile {
    connection: Mutex<rusqlite::Connection>,
}

/// The resource a guest holds after `connection.open`.
pub struct OpenDatabase(Arc<SqliteFile>);

/// What one instance may open.
#[derive(Clone)]
pub struct SqliteAccess {
    granted: Arc<[String]>,
    databases: Arc<SqliteDatabases>,
}

impl SqliteDatabases {
    /// Opens (creating if needed) a database file for each label.
    pub fn open<'a>(
        labels: impl IntoIterator<Item = (&'a String, &'a std::path::PathBuf)>,
    ) -> Result<Self> {
        let mut databases = HashMap::new();
        for (label, path) in labels {
            let file = SqliteFile::open(path)
                .with_context(|| format!("SQLite database {label:?} at {}", path.display()))?;
            databases.insert(label.clone(), Arc::new(file));
        }
        Ok(Self { databases })
    }

    /// Whether `label` is configured.
    pub fn contains(&self, label: &str) -> bool {
        self.databases.contains_key(label)
    }
}

/// Opens (creating it and its folder if needed) a store file, shared by
/// the key-value and SQLite stores.
///
/// Write-ahead logging with `synchronous = NORMAL`: a committed write
/// survives the process being killed (the fault tests kill the host with
/// SIGKILL), only an OS crash may lose the last commits — the trade local
/// development wants. In the default rollback-journal mode each chunk of an
/// upload cost several fsyncs and every read a journal check. The mode is
/// stored in the file, and any SQLite (Spin's too) reads such a file.
///
/// # Errors
/// When the file cannot be opened or configured.
pub fn open_store_file(path: &Path) -> Result<rusqlite::Connection> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let connection = rusqlite::Connection::open(path)?;
    connection.busy_timeout(std::time::Duration::from_secs(5))?;
    connection.pragma_update(None, "journal_mode", "wal")?;
    connection.pragma_update(None, "synchronous", "normal")?;
    Ok(connection)
}

impl SqliteFile {
    fn open(path: &Path) -> Result<Self> {
        let connection = open_store_file(path)?;
        Ok(Self {
            connection: Mutex::new(connection),
        })
    }

    fn execute(&self, statement: &str, parameters: Vec<Value>) -> Result<QueryResult, Error> {
        let connection = self
            .connection
            .lock()
            .map_err(|_| Error::Io("database lock poisoned".into()))?;
        run(&connection, statement, parameters).map_err(|e| Error::Io(e.to_string()))
    }
}

/// Runs one statement with typed parameters and collects typed rows.
fn run(
    connection: &rusqlite::Connection,
    statement: &str,
    parameters: Vec<Value>,
) -> rusqlite::Result<QueryResult> {
    let mut prepared = connection.prepare_cached(statement)?;
    let columns: Vec<String> = prepared
        .column_names()
        .into_iter()
        .map(String::from)
        .collect();
    let parameters: Vec<rusqlite::types::Value> = parameters.into_iter().map(to_sql).collect();
    let mut rows = prepared.query(rusqlite::params_from_iter(parameters))?;
    let mut results = Vec::new();
    while let Some(row) = rows.next()? {
        let values = (0..columns.len())
            .map(|i| row.get_ref(i).map(from_sql))
            .collect::<rusqlite::Result<Vec<_>>>()?;
        results.push(RowResult { values });
    }
    Ok(QueryResult {
        columns,
        rows: results,
    })
}

fn to_sql(value: Value) -> rusqlite::types::Value {
    use rusqlite::types::Value as Sql;
    match value {
        Value::Integer(i) => Sql::Integer(i),
        Value::Real(r) => Sql::Real(r),
        Value::Text(t) => Sql::Text(t),
        Value::Blob(b) => Sql::Blob(b),
        Value::Null => Sql::Null,
    }
}

fn from_sql(value: ValueRef<'_>) -> Value {
    match value {
        ValueRef::Null => Value::Null,
        ValueRef::Integer(i) => Value::Integer(i),
        ValueRef::Real(r) => Value::Real(r),
        ValueRef::Text(t) => Value::Text(String::from_utf8_lossy(t).into_owned()),
        ValueRef::Blob(b) => Value::Blob(b.to_vec()),
    }
}

impl SqliteAccess {
    /// Access for a component granted `granted` labels.
    pub fn new(granted: Vec<String>, databases: Arc<SqliteDatabases>) -> Self {
        Self {
            granted: granted.into(),
            databases,
        }
    }
}

impl sqlite::Host for InstanceState {}

impl sqlite::HostConnection for InstanceState {
    async fn open(
        &mut self,
        database: String,
    ) -> wasmtime::Result<Result<Resource<OpenDatabase>, Error>> {
        if !self.sqlite.granted.contains(&database) {
            return Ok(Err(Error::AccessDenied));
        }
        let Some(file) = self.sqlite.databases.databases.get(&database) else {
            return Ok(Err(Error::NoSuchDatabase));
        };
        let handle = self.table.push(OpenDatabase(file.clone()))?;
        Ok(Ok(handle))
    }

    async fn execute(
        &mut self,
        connection: Resource<OpenDatabase>,
        statement: String,
        parameters: Vec<Value>,
    ) -> wasmtime::Result<Result<QueryResult, Error>> {
        let file = &self.table.get(&connection)?.0;
        Ok(file.execute(&statement, parameters))
    }

    async fn drop(&mut self, connection: Resource<OpenDatabase>) -> wasmtime::Result<()> {
        self.table.delete(connection)?;
        Ok(())
    }
}
