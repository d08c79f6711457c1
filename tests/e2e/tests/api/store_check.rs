//! An independent check of an app's stores, read straight from the files
//! under `.spin/`: every blob in key-value `media` belongs to a job row, and
//! every blob a job row names is whole (manifest plus every chunk it lists).
//!
//! It shares no code with the gateway's sweep on purpose: the fault tests
//! use it to judge whether the sweep (and every clean-up path before it)
//! left the stores consistent.

use std::collections::{BTreeMap, BTreeSet};

use rusqlite::{Connection, OpenFlags};
use serde_json::Value;

use crate::helpers::TestApp;

/// What the check found.
#[derive(Debug, Default)]
pub struct StoreReport {
    /// Blobs with keys in `media` that no job row names.
    pub orphans: Vec<String>,
    /// Blobs a job row names whose manifest or a chunk is missing.
    pub broken: Vec<String>,
    /// Blobs that are whole and owned.
    pub owned: usize,
    /// In-progress markers still present (on any blob).
    pub markers: usize,
}

fn open(app: &TestApp, file: &str) -> Connection {
    let path = app.dir.join(".spin").join(file);
    let connection = Connection::open_with_flags(&path, OpenFlags::SQLITE_OPEN_READ_ONLY)
        .unwrap_or_else(|e| panic!("open {}: {e}", path.display()));
    connection
        .busy_timeout(std::time::Duration::from_secs(5))
        .expect("busy timeout");
    connection
}

/// Every `media` key, grouped by blob name.
fn media_blobs(app: &TestApp) -> BTreeMap<String, BTreeMap<String, Vec<u8>>> {
    let connection = open(app, "kv-media.db");
    let mut statement = connection
        .prepare("SELECT key, value FROM spin_key_value WHERE store = 'media'")
        .expect("query media");
    let rows = statement
        .query_map([], |row| Ok((row.get::<_, String>(0)?, row.get(1)?)))
        .expect("read media");
    let mut blobs: BTreeMap<String, BTreeMap<String, Vec<u8>>> = BTreeMap::new();
    for row in rows {
        let (key, value) = row.expect("row");
        let rest = key
            .strip_prefix("blob:")
            .expect("media keys are blob:<id>:<part>");
        let (blob, part) = rest.rsplit_once(':').expect("blob key has a part");
        blobs
            .entry(blob.to_owned())
            .or_default()
            .insert(part.to_owned(), value);
    }
    blobs
}

/// The blobs job rows name.
fn job_blobs(app: &TestApp) -> BTreeSet<String> {
    let connection = open(app, "sqlite-default.db");
    let mut statement = connection
        .prepare("SELECT input_blob, output_blob FROM gateway_jobs")
        .expect("query jobs");
    let rows = statement
        .query_map([], |row| {
            Ok((row.get::<_, String>(0)?, row.get::<_, Option<String>>(1)?))
        })
        .expect("read jobs");
    let mut names = BTreeSet::new();
    for row in rows {
        let (input, output) = row.expect("row");
        names.insert(input);
        names.extend(output);
    }
    names
}

/// Walks both stores.
pub fn check_stores(app: &TestApp) -> StoreReport {
    let blobs = media_blobs(app);
    let owned = job_blobs(app);
    let mut report = StoreReport::default();
    for (name, parts) in &blobs {
        report.markers += usize::from(parts.contains_key("pending"));
        if !owned.contains(name) {
            report.orphans.push(name.clone());
        }
    }
    for name in &owned {
        let whole = blobs.get(name).is_some_and(|parts| {
            let Some(manifest) = parts.get("manifest") else {
                return false;
            };
            let manifest: Value = serde_json::from_slice(manifest).expect("manifest JSON");
            let chunks = manifest["chunks"].as_u64().expect("chunk count");
            let stored: u64 = (0..chunks)
                .map(|index| parts.get(&index.to_string()).map_or(0, |c| c.len() as u64))
                .sum();
            (0..chunks).all(|index| parts.contains_key(&index.to_string()))
                && Some(stored) == manifest["size"].as_u64()
        });
        if whole {
            report.owned += 1;
        } else {
            report.broken.push(name.clone());
        }
    }
    report
}

/// The number of `media` keys (to see an upload arrive).
pub fn media_key_count(app: &TestApp) -> usize {
    media_blobs(app).values().map(BTreeMap::len).sum()
}
