//! Native tests of upload ingestion: multipart and raw bodies, split at
//! every awkward place, over an in-memory media store.

use futures::{executor::block_on, stream};
use sha2::{Digest, Sha256};

use super::*;
use crate::media_store::{hex, manifest, tests::MemoryKv, CHUNK_SIZE};

const BOUNDARY: &str = "XyZzY-boundary";

fn mp4(len: usize) -> Vec<u8> {
    let mut data = b"\0\0\0\x20ftypisom\0\0\x02\0".to_vec();
    data.extend((0..len.saturating_sub(data.len())).map(|i| (i % 253) as u8));
    data.truncate(len.max(16));
    data
}

fn part(name: &str, filename: Option<&str>, content_type: Option<&str>, body: &[u8]) -> Vec<u8> {
    let mut out = format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"");
    if let Some(filename) = filename {
        out.push_str(&format!("; filename=\"{filename}\""));
    }
    out.push_str("\r\n");
    if let Some(content_type) = content_type {
        out.push_str(&format!("Content-Type: {content_type}\r\n"));
    }
    out.push_str("\r\n");
    let mut bytes = out.into_bytes();
    bytes.extend_from_slice(body);
    bytes.extend_from_slice(b"\r\n");
    bytes
}

fn form(parts: &[Vec<u8>]) -> Vec<u8> {
    let mut body = parts.concat();
    body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    body
}

/// The body as a stream of `piece`-byte chunks.
fn chunked(body: &[u8], piece: usize) -> impl Stream<Item = Result<Bytes, BodyError>> + Send {
    let pieces: Vec<_> = body
        .chunks(piece)
        .map(|c| Ok(Bytes::copy_from_slice(c)))
        .collect();
    stream::iter(pieces)
}

fn upload_form(
    kv: &MemoryKv,
    body: &[u8],
    piece: usize,
    limit: u64,
) -> Result<FormUpload, IngestError> {
    block_on(multipart(
        chunked(body, piece),
        BOUNDARY,
        BlobWriter::new(kv, "in", limit),
    ))
}

#[test]
fn a_form_with_one_file_stores_exactly_its_bytes_whatever_the_chunking() {
    let data = mp4(CHUNK_SIZE + 777);
    let body = form(&[
        part("note", None, None, b"hello"),
        part("file", Some("dir/holiday.mp4"), Some("video/mp4"), &data),
        part("callback_url", None, None, b"https://example.com/hook"),
    ]);
    for piece in [1, 7, 1000, 16 * 1024, body.len()] {
        let kv = MemoryKv::default();
        let upload = upload_form(&kv, &body, piece, u64::MAX).unwrap();
        assert_eq!(upload.manifest.size, data.len() as u64);
        assert_eq!(upload.manifest.sha256, hex(&Sha256::digest(&data)));
        assert_eq!(upload.manifest.filename, "holiday.mp4");
        assert_eq!(upload.manifest.content_type, "video/mp4");
        assert_eq!(
            upload.callback_url.as_deref(),
            Some("https://example.com/hook")
        );
        assert!(manifest(&kv, "in").unwrap().is_some());
    }
}

#[test]
fn a_file_part_with_a_generic_type_gets_the_containers_type() {
    let kv = MemoryKv::default();
    let body = form(&[part(
        "upload",
        Some("a.bin"),
        Some("application/octet-stream"),
        &mp4(100),
    )]);
    let upload = upload_form(&kv, &body, 64, u64::MAX).unwrap();
    assert_eq!(upload.manifest.content_type, "video/mp4");
}

#[test]
fn zero_or_several_files_are_a_bad_request_and_leave_nothing() {
    let kv = MemoryKv::default();
    let none = form(&[part("note", None, None, b"x")]);
    assert!(matches!(
        upload_form(&kv, &none, 100, u64::MAX),
        Err(IngestError::BadRequest(_))
    ));
    let data = mp4(CHUNK_SIZE * 2);
    let two = form(&[
        part("file", Some("a.mp4"), None, &data),
        part("file", Some("b.mp4"), None, &data),
    ]);
    assert!(matches!(
        upload_form(&kv, &two, 4096, u64::MAX),
        Err(IngestError::BadRequest(_))
    ));
    assert!(kv.0.borrow().is_empty());
}

#[test]
fn a_file_that_is_not_media_is_unsupported() {
    let kv = MemoryKv::default();
    let body = form(&[part(
        "file",
        Some("a.pdf"),
        None,
        b"%PDF-1.7 and a lot more text",
    )]);
    assert!(matches!(
        upload_form(&kv, &body, 5, u64::MAX),
        Err(IngestError::Unsupported)
    ));
    let tiny = form(&[part("file", Some("a.mp4"), None, b"\0\0")]);
    assert!(matches!(
        upload_form(&kv, &tiny, 5, u64::MAX),
        Err(IngestError::Unsupported)
    ));
    assert!(kv.0.borrow().is_empty());
}

#[test]
fn a_second_file_after_one_that_is_not_media_is_still_a_bad_request() {
    let pdf = b"%PDF-1.7 and a lot more text".repeat(100);
    let two = form(&[
        part("file", Some("a.pdf"), None, &pdf),
        part("note", None, None, b"between"),
        part("file", Some("b.mp4"), None, &mp4(CHUNK_SIZE + 9)),
    ]);
    let one = form(&[
        part("file", Some("a.pdf"), None, &pdf),
        part("note", None, None, b"after"),
    ]);
    for piece in [1, 5, 4096, two.len()] {
        let kv = MemoryKv::default();
        let outcome = upload_form(&kv, &two, piece, u64::MAX);
        assert!(
            matches!(outcome, Err(IngestError::BadRequest(_))),
            "{piece}: {outcome:?}"
        );
        let outcome = upload_form(&kv, &one, piece, u64::MAX);
        assert!(
            matches!(outcome, Err(IngestError::Unsupported)),
            "{piece}: {outcome:?}"
        );
        assert!(kv.0.borrow().is_empty());
    }
}

#[test]
fn a_file_over_the_limit_is_too_large_and_leaves_nothing() {
    let kv = MemoryKv::default();
    let body = form(&[part("file", Some("a.mp4"), None, &mp4(CHUNK_SIZE * 2))]);
    let limit = CHUNK_SIZE as u64 + 5;
    assert!(matches!(
        upload_form(&kv, &body, 4096, limit),
        Err(IngestError::TooLarge)
    ));
    assert!(kv.0.borrow().is_empty());
}

#[test]
fn a_form_cut_off_mid_file_fails_and_leaves_nothing() {
    let kv = MemoryKv::default();
    let body = form(&[part("file", Some("a.mp4"), None, &mp4(CHUNK_SIZE * 3))]);
    let cut = &body[..CHUNK_SIZE * 2];
    let outcome = upload_form(&kv, cut, 4096, u64::MAX);
    assert!(
        matches!(outcome, Err(IngestError::BadRequest(_))),
        "{outcome:?}"
    );
    let mut pieces: Vec<_> = cut
        .chunks(4096)
        .map(|c| Ok(Bytes::copy_from_slice(c)))
        .collect();
    pieces.push(Err(BodyError::Read("connection reset".into())));
    let outcome = block_on(multipart(
        stream::iter(pieces),
        BOUNDARY,
        BlobWriter::new(&kv, "in", u64::MAX),
    ));
    assert!(
        matches!(outcome, Err(IngestError::ClientGone(_))),
        "{outcome:?}"
    );
    assert!(kv.0.borrow().is_empty());
}

#[test]
fn garbage_instead_of_a_form_is_a_bad_request() {
    let kv = MemoryKv::default();
    let outcome = upload_form(&kv, b"this is not multipart at all", 3, u64::MAX);
    assert!(
        matches!(outcome, Err(IngestError::BadRequest(_))),
        "{outcome:?}"
    );
}

#[test]
fn a_bad_callback_url_is_a_bad_request() {
    let kv = MemoryKv::default();
    let body = form(&[
        part("file", Some("a.mp4"), None, &mp4(100)),
        part("callback_url", None, None, b"javascript:alert(1)"),
    ]);
    assert!(matches!(
        upload_form(&kv, &body, 100, u64::MAX),
        Err(IngestError::BadRequest(_))
    ));
    assert!(kv.0.borrow().is_empty());
    assert!(parse_callback_url("http://").is_err());
    assert!(parse_callback_url("https://h/p q").is_err());
    assert_eq!(parse_callback_url(" ").unwrap(), None);
}

#[test]
fn a_raw_body_is_stored_with_its_declared_type() {
    let kv = MemoryKv::default();
    let data = mp4(CHUNK_SIZE * 2 + 3);
    let writer = BlobWriter::new(&kv, "in", u64::MAX);
    let stored = block_on(raw(
        chunked(&data, 9999),
        writer,
        "video/quicktime",
        "../x.mov",
    ))
    .unwrap();
    assert_eq!(stored.sha256, hex(&Sha256::digest(&data)));
    assert_eq!(stored.content_type, "video/quicktime");
    assert_eq!(stored.filename, "x.mov");
}

#[test]
fn a_raw_body_that_is_not_media_stops_at_the_first_bytes() {
    let kv = MemoryKv::default();
    let writer = BlobWriter::new(&kv, "in", u64::MAX);
    let outcome = block_on(raw(chunked(&[b'<'; 100_000], 4), writer, "video/mp4", "x"));
    assert!(matches!(outcome, Err(IngestError::Unsupported)));
    assert!(kv.0.borrow().is_empty());
}

#[test]
fn filenames_lose_directories_and_control_characters() {
    assert_eq!(clean_filename("C:\\videos\\a\u{7}b.mp4"), "ab.mp4");
    assert_eq!(clean_filename("../.."), "upload");
    assert_eq!(clean_filename(""), "upload");
    assert_eq!(clean_filename(&"x".repeat(400)).len(), 255);
}

#[path = "ingest_fuzz_tests.rs"]
mod fuzz;
