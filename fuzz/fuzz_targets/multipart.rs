//! Multipart uploads exactly as the gateway ingests them
//! (`components/gateway/src/ingest.rs` over `body.rs` and `media_store.rs`).
//!
//! Input: 4 bytes of chunk sizes, 1 byte choosing the size limit, the
//! `Content-Type` line, then the body. The upload either stores one file
//! that reads back intact, or fails and leaves the store empty.
#![no_main]

use clipwave_fuzz::{
    chunked,
    ingest::{clean_filename, multipart, parse_callback_url},
    media_store::{manifest, read_slice, slices, BlobWriter},
    sniff::{sniff, SNIFF_LEN},
    split_line, MemoryKv,
};
use futures::executor::block_on;
use libfuzzer_sys::fuzz_target;
use sha2::{Digest, Sha256};

const FALLBACK_BOUNDARY: &str = "XyZzY-boundary";

fuzz_target!(|data: &[u8]| {
    if data.len() < 5 {
        return;
    }
    let (sizes, rest) = data.split_at(4);
    let limit = match rest[0] % 4 {
        0 => 0,
        1 => u64::from(rest[0]),
        2 => 4096,
        _ => u64::MAX,
    };
    let (content_type, body) = split_line(&rest[1..]);
    let content_type = String::from_utf8_lossy(content_type);
    let boundary =
        multer::parse_boundary(&*content_type).unwrap_or_else(|_| FALLBACK_BOUNDARY.to_owned());

    let cleaned = clean_filename(&content_type);
    assert!(!cleaned.is_empty() && cleaned.chars().count() <= 255);
    assert!(!cleaned.contains(['/', '\\']) && !cleaned.chars().any(char::is_control));
    assert_eq!(clean_filename(&cleaned), cleaned);
    if let Ok(Some(url)) = parse_callback_url(&content_type) {
        assert!(matches!(parse_callback_url(&url), Ok(Some(again)) if again == url));
    }

    let kv = MemoryKv::default();
    let stored = block_on(multipart(
        chunked(body, sizes),
        &boundary,
        BlobWriter::new(&kv, "in", limit),
    ));
    let Ok(form) = stored else {
        assert!(kv.0.borrow().is_empty(), "a failed upload left data behind");
        return;
    };
    let found = form.manifest;
    assert_eq!(manifest(&kv, "in").ok().flatten().as_ref(), Some(&found));
    assert!(found.size <= limit);
    assert_eq!(clean_filename(&found.filename), found.filename);
    let mut bytes = Vec::new();
    if found.size > 0 {
        for slice in slices(&found, 0, found.size - 1) {
            bytes.extend(read_slice(&kv, "in", slice).expect("a stored chunk"));
        }
    }
    assert_eq!(bytes.len() as u64, found.size);
    let digest: String = Sha256::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(digest, found.sha256);
    assert!(sniff(&bytes[..bytes.len().min(SNIFF_LEN)]).is_some());
    if let Some(url) = form.callback_url {
        // The scheme is case-insensitive (RFC 3986 §3.1): `httPs://` passes.
        assert!(url.to_ascii_lowercase().starts_with("http"));
        assert!(!url.contains(char::is_whitespace));
    }
});
