//! Native tests of the chunked media store over an in-memory map.

use std::{cell::RefCell, collections::BTreeMap};

use super::*;

/// A map that pretends to be key-value `media`.
#[derive(Default)]
pub(crate) struct MemoryKv(pub(crate) RefCell<BTreeMap<String, Vec<u8>>>);

impl Kv for MemoryKv {
    fn get(&self, key: &str) -> Result<Option<Vec<u8>>> {
        Ok(self.0.borrow().get(key).cloned())
    }
    fn set(&self, key: &str, value: &[u8]) -> Result<()> {
        assert!(value.len() <= CHUNK_SIZE || key.ends_with("manifest"));
        self.0.borrow_mut().insert(key.to_owned(), value.to_vec());
        Ok(())
    }
    fn delete(&self, key: &str) -> Result<()> {
        self.0.borrow_mut().remove(key);
        Ok(())
    }
    fn keys(&self) -> Result<Vec<String>> {
        Ok(self.0.borrow().keys().cloned().collect())
    }
}

fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 31 % 251) as u8).collect()
}

fn read_all(kv: &MemoryKv, blob: &str, first: u64, last: u64) -> Vec<u8> {
    let found = manifest(kv, blob).unwrap().unwrap();
    slices(&found, first, last)
        .flat_map(|slice| read_slice(kv, blob, slice).unwrap())
        .collect()
}

#[test]
fn a_blob_written_in_odd_pieces_reads_back_whole_and_by_range() {
    let kv = MemoryKv::default();
    let data = pattern(CHUNK_SIZE * 2 + 1234);
    let mut writer = BlobWriter::new(&kv, "b1", u64::MAX);
    for piece in data.chunks(16_381) {
        writer.write(piece).unwrap();
    }
    let found = writer.commit("video/mp4", "a.mp4").unwrap();
    assert_eq!(found.size, data.len() as u64);
    assert_eq!(found.chunks, 3);
    assert_eq!(found.sha256, hex(&Sha256::digest(&data)));
    assert_eq!(read_all(&kv, "b1", 0, data.len() as u64 - 1), data);
    let (first, last) = (CHUNK_SIZE as u64 - 10, CHUNK_SIZE as u64 * 2 + 5);
    assert_eq!(
        read_all(&kv, "b1", first, last),
        data[first as usize..=last as usize]
    );
    assert_eq!(read_all(&kv, "b1", 7, 7), vec![data[7]]);
}

#[test]
fn an_uncommitted_writer_leaves_nothing_behind() {
    let kv = MemoryKv::default();
    {
        let mut writer = BlobWriter::new(&kv, "b2", u64::MAX);
        writer.write(&pattern(CHUNK_SIZE * 3)).unwrap();
        assert_eq!(kv.0.borrow().len(), 4, "three chunks and the marker");
    }
    assert!(kv.0.borrow().is_empty());
}

#[test]
fn writing_past_the_limit_fails_and_cleans_up() {
    let kv = MemoryKv::default();
    {
        let mut writer = BlobWriter::new(&kv, "b3", CHUNK_SIZE as u64 + 10);
        writer.write(&pattern(CHUNK_SIZE)).unwrap();
        assert!(matches!(
            writer.write(&pattern(11)),
            Err(WriteError::TooLarge)
        ));
    }
    assert!(kv.0.borrow().is_empty());
}

#[test]
fn deleting_a_blob_removes_chunks_and_manifest() {
    let kv = MemoryKv::default();
    let mut writer = BlobWriter::new(&kv, "b4", u64::MAX);
    writer.write(&pattern(CHUNK_SIZE + 1)).unwrap();
    writer.commit("audio/mpeg", "x.mp3").unwrap();
    kv.set("blob:other:0", b"keep").unwrap();
    delete(&kv, "b4").unwrap();
    assert_eq!(kv.0.borrow().keys().collect::<Vec<_>>(), ["blob:other:0"]);
}

#[test]
fn an_empty_blob_has_no_chunks() {
    let kv = MemoryKv::default();
    let found = BlobWriter::new(&kv, "b5", 10)
        .commit("audio/mpeg", "e")
        .unwrap();
    assert_eq!((found.size, found.chunks), (0, 0));
}
