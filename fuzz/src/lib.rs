//! Shared pieces of Clipwave's fuzz targets (see `docs/fuzzing.md`).
//!
//! The gateway is a `cdylib` (a Spin component) with no Rust library to
//! link, so its plain, target-independent parsing modules are compiled here
//! straight from its sources: `crate::body`, `crate::media_store`,
//! `crate::sniff`, `crate::ingest` and `crate::range` resolve exactly as they
//! do inside the gateway. Only `media_store`'s `MediaStore` wrapper touches
//! `spin-sdk`, which builds natively; the fuzzers use [`MemoryKv`] instead.

#[path = "../../components/gateway/src/body.rs"]
pub mod body;
#[path = "../../components/gateway/src/ingest.rs"]
pub mod ingest;
#[path = "../../components/gateway/src/media_store.rs"]
pub mod media_store;
#[path = "../../components/gateway/src/range.rs"]
pub mod range;
#[path = "../../components/gateway/src/sniff.rs"]
pub mod sniff;

use std::{cell::RefCell, collections::BTreeMap};

use bytes::Bytes;
use futures::{stream, Stream};

use crate::{body::BodyError, media_store::Kv};

/// An in-memory key-value `media`, as the gateway's own native tests use.
#[derive(Default)]
pub struct MemoryKv(pub RefCell<BTreeMap<String, Vec<u8>>>);

impl Kv for MemoryKv {
    fn get(&self, key: &str) -> anyhow::Result<Option<Vec<u8>>> {
        Ok(self.0.borrow().get(key).cloned())
    }

    fn set(&self, key: &str, value: &[u8]) -> anyhow::Result<()> {
        assert!(
            value.len() <= media_store::CHUNK_SIZE || key.ends_with(":manifest"),
            "a chunk over the store's value limit"
        );
        self.0.borrow_mut().insert(key.to_owned(), value.to_vec());
        Ok(())
    }

    fn delete(&self, key: &str) -> anyhow::Result<()> {
        self.0.borrow_mut().remove(key);
        Ok(())
    }

    fn keys(&self) -> anyhow::Result<Vec<String>> {
        Ok(self.0.borrow().keys().cloned().collect())
    }
}

/// `body` as a stream of chunks whose sizes cycle through `sizes` (each at
/// least one byte), as a client's TCP segments might cut it.
pub fn chunked(body: &[u8], sizes: &[u8]) -> impl Stream<Item = Result<Bytes, BodyError>> + Send {
    let mut pieces = Vec::new();
    let mut rest = body;
    let mut turn = 0;
    while !rest.is_empty() {
        let size = sizes
            .get(turn % sizes.len().max(1))
            .map_or(rest.len(), |s| usize::from(*s).max(1));
        let (now, later) = rest.split_at(size.min(rest.len()));
        pieces.push(Ok(Bytes::copy_from_slice(now)));
        rest = later;
        turn += 1;
    }
    stream::iter(pieces)
}

/// Splits fuzz input at the first `\n`: `(line, rest)`; no newline → the
/// whole input is the line.
pub fn split_line(data: &[u8]) -> (&[u8], &[u8]) {
    match data.iter().position(|b| *b == b'\n') {
        Some(at) => (&data[..at], &data[at + 1..]),
        None => (data, &[]),
    }
}
