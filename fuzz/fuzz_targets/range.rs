//! `Range` / `If-Range` selection (`components/gateway/src/range.rs`) and the
//! chunk slices a download then reads (`media_store::slices`).
//!
//! Input: 8 bytes of file size (little-endian), then the `Range` line and
//! the `If-Range` line.
#![no_main]

use clipwave_fuzz::{
    media_store::{slices, Manifest, CHUNK_SIZE},
    range::{select, Selection},
    split_line,
};
use libfuzzer_sys::fuzz_target;

const ETAG: &str = "\"e3b0c44298fc1c149afbf4c8996fb924\"";

/// Walks `slices(first..=last)` (at most `max` of them), checking each lies
/// in its chunk and follows the last; returns the next byte not covered.
fn walk(manifest: &Manifest, first: u64, last: u64, max: usize) -> u64 {
    let chunk = CHUNK_SIZE as u64;
    let mut next = first;
    for slice in slices(manifest, first, last).take(max) {
        assert!(slice.index < manifest.chunks);
        assert!(slice.start < slice.end && slice.end <= CHUNK_SIZE);
        assert_eq!(slice.index * chunk + slice.start as u64, next);
        next = slice.index * chunk + slice.end as u64;
    }
    next
}

/// The download's chunk slices cover exactly `first..=last`. Long ranges
/// are checked at both ends (the iterator has no cheap `nth`).
fn check_slices(size: u64, first: u64, last: u64) {
    let chunk = CHUNK_SIZE as u64;
    let manifest = Manifest {
        size,
        sha256: String::new(),
        content_type: "audio/mpeg".into(),
        filename: "a.mp3".into(),
        chunk_size: chunk,
        chunks: size.div_ceil(chunk),
    };
    let count = last / chunk - first / chunk + 1;
    if count <= 128 {
        assert_eq!(walk(&manifest, first, last, 128), last + 1);
    } else {
        let head_end = walk(&manifest, first, last, 64);
        assert_eq!(head_end, (first / chunk + 64) * chunk);
        let tail_start = (last / chunk - 63) * chunk;
        assert_eq!(walk(&manifest, tail_start, last, 64), last + 1);
    }
}

fuzz_target!(|data: &[u8]| {
    if data.len() < 8 {
        return;
    }
    let (size, rest) = data.split_at(8);
    let size = u64::from_le_bytes(size.try_into().unwrap_or_default());
    // Small sizes matter most; keep the full range reachable.
    let size = if size & 1 == 0 {
        size >> 1
    } else {
        (size >> 1) % 4096
    };
    let (range, if_range) = split_line(rest);
    let range = String::from_utf8_lossy(range);
    let if_range = (!if_range.is_empty()).then(|| String::from_utf8_lossy(if_range));
    match select(Some(&range), if_range.as_deref(), size, ETAG) {
        Selection::Partial(r) => {
            assert!(r.first() <= r.last() && r.last() < size);
            assert_eq!(r.byte_count(), r.last() - r.first() + 1);
            assert_eq!(
                r.content_range(size),
                format!("bytes {}-{}/{size}", r.first(), r.last())
            );
            check_slices(size, r.first(), r.last());
        }
        Selection::Whole => {
            if size > 0 {
                check_slices(size, 0, size - 1);
            }
        }
        Selection::Unsatisfiable => assert!(if_range.as_deref().is_none_or(|v| v.trim() == ETAG)),
    }
    assert_eq!(
        select(None, if_range.as_deref(), size, ETAG),
        Selection::Whole
    );
});
