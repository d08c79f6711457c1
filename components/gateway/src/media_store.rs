//! Key-value `media`: uploads and mp3s as chunks plus a manifest (DESIGN §5).
//!
//! Spin guarantees values up to 1 MiB on every backend, so a file is cut
//! into chunks of at most [`CHUNK_SIZE`] under `blob:<id>:<n>`, and
//! `blob:<id>:manifest` records its size, SHA-256, content type, original
//! name and chunk count — GridFS, on key-value. The manifest is written
//! last: a blob without one is unfinished and is never served.
//!
//! [`BlobWriter`] streams a file in with one chunk of memory and deletes
//! what it wrote unless it was committed, so an upload that fails half-way
//! (client gone, too large, store error) leaves no orphan chunks. A process
//! that dies mid-upload cannot clean up, so the writer also keeps a
//! `blob:<id>:pending` marker holding the time it last wrote: the marker
//! exists before the first chunk and is removed ([`settle`]) only once a job
//! row points at the blob. [`crate::sweep`] deletes blobs that no job
//! references and whose marker is missing or stale. The logic is written
//! against the small [`Kv`] trait so native tests can run it on a map.

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The largest chunk stored: 512 KiB, half of Spin's portable value limit.
pub const CHUNK_SIZE: usize = 512 * 1024;

/// The operations the media store needs from a key-value store.
pub trait Kv {
    /// The value under `key`, if any.
    fn get(&self, key: &str) -> Result<Option<Vec<u8>>>;
    /// Stores `value` under `key`.
    fn set(&self, key: &str, value: &[u8]) -> Result<()>;
    /// Removes `key` (no error when absent).
    fn delete(&self, key: &str) -> Result<()>;
    /// Every key in the store.
    fn keys(&self) -> Result<Vec<String>>;
}

/// The Spin key-value store labelled `media`.
pub struct MediaStore(spin_sdk::key_value::Store);

impl MediaStore {
    /// Opens the `media` store.
    ///
    /// # Errors
    /// When the store is not configured or unreachable.
    pub fn open() -> Result<Self> {
        let store = spin_sdk::key_value::Store::open("media")
            .context("Failed to open the key-value store `media`")?;
        Ok(Self(store))
    }
}

impl Kv for MediaStore {
    fn get(&self, key: &str) -> Result<Option<Vec<u8>>> {
        self.0
            .get(key)
            .with_context(|| format!("Failed to read {key}"))
    }

    fn set(&self, key: &str, value: &[u8]) -> Result<()> {
        self.0
            .set(key, value)
            .with_context(|| format!("Failed to write {key}"))
    }

    fn delete(&self, key: &str) -> Result<()> {
        self.0
            .delete(key)
            .with_context(|| format!("Failed to delete {key}"))
    }

    fn keys(&self) -> Result<Vec<String>> {
        self.0
            .get_keys()
            .context("Failed to list the keys of store `media`")
    }
}

/// What is known about a stored file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// Size in bytes.
    pub size: u64,
    /// Lower-case hex SHA-256 of the content.
    pub sha256: String,
    /// The media type stored with it.
    pub content_type: String,
    /// The client's name for the file (cleaned only when it is used).
    pub filename: String,
    /// The size of every chunk but the last.
    pub chunk_size: u64,
    /// How many chunks there are.
    pub chunks: u64,
}

fn chunk_key(blob: &str, index: u64) -> String {
    format!("blob:{blob}:{index}")
}

fn manifest_key(blob: &str) -> String {
    format!("blob:{blob}:manifest")
}

/// The in-progress marker's key.
pub fn pending_key(blob: &str) -> String {
    format!("blob:{blob}:pending")
}

/// The marker is refreshed every this many chunks (16 MiB), so a slow but
/// live upload never looks abandoned.
const MARKER_EVERY_CHUNKS: u64 = 32;

/// Unix time in seconds.
pub fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs())
}

/// Notes that `blob` is being written now.
fn touch_marker<K: Kv + ?Sized>(kv: &K, blob: &str) -> Result<()> {
    kv.set(&pending_key(blob), unix_now().to_string().as_bytes())
}

/// The time the writer of `blob` last touched its marker, if there is one.
///
/// # Errors
/// When the store fails; an unreadable marker counts as written at time 0.
pub fn marker_time<K: Kv + ?Sized>(kv: &K, blob: &str) -> Result<Option<u64>> {
    Ok(kv.get(&pending_key(blob))?.map(|bytes| {
        std::str::from_utf8(&bytes)
            .ok()
            .and_then(|text| text.trim().parse().ok())
            .unwrap_or(0)
    }))
}

/// Declares `blob` owned by a job row: its in-progress marker goes.
///
/// Call after the row that references the blob is written. A failure is
/// only logged: a referenced blob is never swept, and the sweep removes a
/// leftover marker.
pub fn settle<K: Kv + ?Sized>(kv: &K, blob: &str) {
    if let Err(error) = kv.delete(&pending_key(blob)) {
        eprintln!("media: could not remove the marker of blob {blob}: {error:#}");
    }
}

/// Lower-case hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Why a write did not go through.
#[derive(Debug)]
pub enum WriteError {
    /// The file grew beyond the writer's limit.
    TooLarge,
    /// The store failed.
    Store(anyhow::Error),
}

/// Streams one file into chunks; deletes them again unless committed.
pub struct BlobWriter<'a, K: Kv + ?Sized> {
    kv: &'a K,
    blob: String,
    limit: u64,
    buffer: Vec<u8>,
    chunks: u64,
    size: u64,
    hasher: Sha256,
    committed: bool,
}

impl<'a, K: Kv + ?Sized> BlobWriter<'a, K> {
    /// A writer for blob `blob` that refuses more than `limit` bytes.
    pub fn new(kv: &'a K, blob: impl Into<String>, limit: u64) -> Self {
        Self {
            kv,
            blob: blob.into(),
            limit,
            buffer: Vec::with_capacity(CHUNK_SIZE),
            chunks: 0,
            size: 0,
            hasher: Sha256::new(),
            committed: false,
        }
    }

    /// Bytes accepted so far.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Appends `data`, storing each chunk as soon as it is full.
    ///
    /// # Errors
    /// [`WriteError::TooLarge`] past the limit (nothing of `data` is kept),
    /// [`WriteError::Store`] when a chunk cannot be stored.
    pub fn write(&mut self, mut data: &[u8]) -> Result<(), WriteError> {
        let new_size = self.size.saturating_add(data.len() as u64);
        if new_size > self.limit {
            return Err(WriteError::TooLarge);
        }
        self.size = new_size;
        self.hasher.update(data);
        while !data.is_empty() {
            let room = CHUNK_SIZE - self.buffer.len();
            let (now, rest) = data.split_at(room.min(data.len()));
            self.buffer.extend_from_slice(now);
            data = rest;
            if self.buffer.len() == CHUNK_SIZE {
                self.flush().map_err(WriteError::Store)?;
            }
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<()> {
        // The marker goes first: a chunk never exists without one.
        if self.chunks.is_multiple_of(MARKER_EVERY_CHUNKS) {
            touch_marker(self.kv, &self.blob)?;
        }
        self.kv
            .set(&chunk_key(&self.blob, self.chunks), &self.buffer)?;
        self.chunks += 1;
        self.buffer.clear();
        Ok(())
    }

    /// Stores the last chunk and the manifest; from then on the blob stays
    /// (call [`settle`] once a job row points at it).
    ///
    /// # Errors
    /// When the store fails (the chunks are then deleted).
    pub fn commit(mut self, content_type: &str, filename: &str) -> Result<Manifest> {
        if !self.buffer.is_empty() {
            self.flush()?;
        }
        if self.chunks == 0 {
            touch_marker(self.kv, &self.blob)?;
        }
        let manifest = Manifest {
            size: self.size,
            sha256: hex(&std::mem::take(&mut self.hasher).finalize()),
            content_type: content_type.to_owned(),
            filename: filename.to_owned(),
            chunk_size: CHUNK_SIZE as u64,
            chunks: self.chunks,
        };
        let bytes = serde_json::to_vec(&manifest).context("Failed to encode a manifest")?;
        self.kv.set(&manifest_key(&self.blob), &bytes)?;
        self.committed = true;
        Ok(manifest)
    }
}

impl<K: Kv + ?Sized> Drop for BlobWriter<'_, K> {
    fn drop(&mut self) {
        if self.committed {
            return;
        }
        for index in 0..self.chunks {
            if let Err(error) = self.kv.delete(&chunk_key(&self.blob, index)) {
                eprintln!("media: could not clean up an unfinished blob: {error:#}");
            }
        }
        settle(self.kv, &self.blob);
    }
}

/// The manifest of a committed blob, or `None` when there is none.
///
/// # Errors
/// When the store fails or the manifest is unreadable.
pub fn manifest<K: Kv + ?Sized>(kv: &K, blob: &str) -> Result<Option<Manifest>> {
    match kv.get(&manifest_key(blob))? {
        None => Ok(None),
        Some(bytes) => Ok(Some(
            serde_json::from_slice(&bytes).context("Failed to decode a manifest")?,
        )),
    }
}

/// One chunk's contribution to a byte range: `chunk[start..end]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Slice {
    /// The chunk's index.
    pub index: u64,
    /// First byte within the chunk.
    pub start: usize,
    /// One past the last byte within the chunk.
    pub end: usize,
}

/// The chunk slices that make up bytes `first..=last` of a blob.
pub fn slices(manifest: &Manifest, first: u64, last: u64) -> impl Iterator<Item = Slice> {
    let chunk = manifest.chunk_size.max(1);
    let (first_index, last_index) = (first / chunk, last / chunk);
    (first_index..=last_index).map(move |index| {
        let base = index * chunk;
        Slice {
            index,
            start: usize::try_from(first.saturating_sub(base)).unwrap_or(0),
            end: usize::try_from(last.min(base + chunk - 1) - base + 1).unwrap_or(0),
        }
    })
}

/// Reads chunk `index` of `blob` and cuts out `slice`.
///
/// # Errors
/// When the store fails or the chunk is missing or short (a broken blob).
pub fn read_slice<K: Kv + ?Sized>(kv: &K, blob: &str, slice: Slice) -> Result<Vec<u8>> {
    let Some(mut bytes) = kv.get(&chunk_key(blob, slice.index))? else {
        bail!("chunk {} of blob {blob} is missing", slice.index);
    };
    if bytes.len() < slice.end || slice.start > slice.end {
        bail!("chunk {} of blob {blob} is short", slice.index);
    }
    bytes.truncate(slice.end);
    bytes.drain(..slice.start);
    Ok(bytes)
}

/// Deletes a blob: its chunks (as many as the manifest lists, or until one
/// is missing when there is no manifest), then the manifest and marker.
///
/// # Errors
/// When the store fails; the caller may retry, deleting is idempotent.
pub fn delete<K: Kv + ?Sized>(kv: &K, blob: &str) -> Result<()> {
    match manifest(kv, blob) {
        Ok(Some(found)) => {
            for index in 0..found.chunks {
                kv.delete(&chunk_key(blob, index))?;
            }
        }
        _ => {
            let mut index = 0;
            while kv.get(&chunk_key(blob, index))?.is_some() {
                kv.delete(&chunk_key(blob, index))?;
                index += 1;
            }
        }
    }
    kv.delete(&manifest_key(blob))?;
    kv.delete(&pending_key(blob))
}

#[cfg(test)]
#[path = "media_store_tests.rs"]
pub(crate) mod tests;
