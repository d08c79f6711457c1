//! The upload media sniff (`components/gateway/src/sniff.rs`) and the
//! sniffing writer of raw uploads (`ingest::raw`), for any chunking.
//!
//! Input: 3 bytes of chunk sizes, the declared `Content-Type` line, the body.
#![no_main]

use clipwave_fuzz::{
    chunked,
    ingest::raw,
    media_store::{manifest, read_slice, slices, BlobWriter},
    sniff::{sniff, SNIFF_LEN},
    split_line, MemoryKv,
};
use futures::executor::block_on;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let found = sniff(data);
    // The writer only ever shows sniff the first SNIFF_LEN bytes.
    assert_eq!(found, sniff(&data[..data.len().min(SNIFF_LEN)]));
    if data.len() < 3 {
        return;
    }
    let (sizes, rest) = data.split_at(3);
    let (declared, body) = split_line(rest);
    let declared = String::from_utf8_lossy(declared);
    let head = sniff(&body[..body.len().min(SNIFF_LEN)]);

    let kv = MemoryKv::default();
    let stored = block_on(raw(
        chunked(body, sizes),
        BlobWriter::new(&kv, "in", u64::MAX),
        &declared,
        "clip.mp4",
    ));
    match (stored, head) {
        (Ok(stored), Some(container)) => {
            assert_eq!(manifest(&kv, "in").ok().flatten().as_ref(), Some(&stored));
            let expected_type = if declared.starts_with("video/") || declared.starts_with("audio/")
            {
                declared.as_ref()
            } else {
                container.media_type()
            };
            assert_eq!(stored.content_type, expected_type);
            let mut bytes = Vec::new();
            if stored.size > 0 {
                for slice in slices(&stored, 0, stored.size - 1) {
                    bytes.extend(read_slice(&kv, "in", slice).expect("a stored chunk"));
                }
            }
            assert_eq!(bytes, body);
        }
        (Err(_), None) => assert!(kv.0.borrow().is_empty(), "a refused upload left data"),
        (stored, head) => panic!("sniff said {head:?} but the upload gave {stored:?}"),
    }
});
