//! Property tests of upload ingestion: the short, always-on runs of the
//! cargo-fuzz targets `fuzz/fuzz_targets/{multipart,sniff}.rs`
//! (docs/fuzzing.md). Whatever the body and however it is cut, an upload
//! either stores one file that reads back intact, or fails and leaves the
//! store as it was.

use proptest::prelude::*;

use super::*;
use crate::media_store::{read_slice, slices};

/// Every byte of blob `in`, through the same slices a download reads.
fn stored_bytes(kv: &MemoryKv, found: &Manifest) -> Vec<u8> {
    let mut bytes = Vec::new();
    if found.size > 0 {
        for slice in slices(found, 0, found.size - 1) {
            bytes.extend(read_slice(kv, "in", slice).unwrap());
        }
    }
    bytes
}

/// The body cut into pieces whose sizes cycle through `sizes`.
fn cut(body: &[u8], sizes: &[usize]) -> impl Stream<Item = Result<Bytes, BodyError>> + Send {
    let mut pieces = Vec::new();
    let mut rest = body;
    for size in sizes.iter().cycle() {
        if rest.is_empty() {
            break;
        }
        let (now, later) = rest.split_at((*size).clamp(1, rest.len()));
        pieces.push(Ok(Bytes::copy_from_slice(now)));
        rest = later;
    }
    stream::iter(pieces)
}

/// File contents: media magic (or not) and a tail, short or past a chunk.
fn file_bytes() -> impl Strategy<Value = Vec<u8>> {
    let magic = prop::sample::select(vec![
        &b"\0\0\0\x20ftypisom"[..],
        b"OggS\0\x02",
        b"RIFF\x24\0\0\0WAVEfmt ",
        b"fLaC",
        b"\xff\xfb\x90\x64",
        b"ID3",
        b"\x1a\x45\xdf\xa3",
        b"%PDF",
        b"",
    ]);
    let tail = prop_oneof![
        8 => proptest::collection::vec(any::<u8>(), 0..64),
        1 => (CHUNK_SIZE - 8..CHUNK_SIZE + 8).prop_map(|n| vec![0x55; n]),
    ];
    (magic, tail).prop_map(|(magic, tail)| [magic, &tail].concat())
}

/// One part with a name, maybe a filename and a type, and a body; `\r\n`
/// framing is sometimes dropped or the boundary misspelt.
fn part_bytes() -> impl Strategy<Value = Vec<u8>> {
    (
        prop::sample::select(vec!["file", "callback_url", "note", "", "fi\"le"]),
        proptest::option::of(prop_oneof![
            Just("clip.mp4".to_owned()),
            Just("../../etc/passwd".to_owned()),
            ".{0,20}"
        ]),
        proptest::option::of(prop::sample::select(vec![
            "video/mp4",
            "audio/x-wav",
            "application/octet-stream",
            "text/plain; charset=utf-8",
            "",
            "video",
        ])),
        prop_oneof![
            file_bytes(),
            Just(b"https://example.com/hook".to_vec()),
            ".{0,40}".prop_map(String::into_bytes),
        ],
        prop::sample::select(vec!["\r\n", "\n", ""]),
        prop::sample::select(vec![BOUNDARY, "XyZzY", "XyZzY-boundary--"]),
    )
        .prop_map(|(name, filename, content_type, body, eol, boundary)| {
            let mut head =
                format!("--{boundary}{eol}Content-Disposition: form-data; name=\"{name}\"");
            if let Some(filename) = filename {
                head.push_str(&format!("; filename=\"{filename}\""));
            }
            head.push_str(eol);
            if let Some(content_type) = content_type {
                head.push_str(&format!("Content-Type: {content_type}{eol}"));
            }
            head.push_str(eol);
            [head.as_bytes(), &body, b"\r\n"].concat()
        })
}

/// Whole bodies: well-formed forms, forms cut short, or plain bytes.
fn form_body() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        3 => (proptest::collection::vec(part_bytes(), 0..4), any::<bool>(), any::<prop::sample::Index>())
            .prop_map(|(parts, close, cut_at)| {
                let mut body = parts.concat();
                if close {
                    body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
                } else {
                    body.truncate(cut_at.index(body.len() + 1));
                }
                body
            }),
        1 => proptest::collection::vec(any::<u8>(), 0..512),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn any_multipart_body_stores_one_intact_file_or_leaves_nothing(
        body in form_body(),
        sizes in proptest::collection::vec(1..2000usize, 1..4),
        limit in prop_oneof![Just(u64::MAX), 0..200u64, Just(CHUNK_SIZE as u64)],
    ) {
        let kv = MemoryKv::default();
        let outcome = block_on(multipart(cut(&body, &sizes), BOUNDARY, BlobWriter::new(&kv, "in", limit)));
        match outcome {
            Ok(form) => {
                let found = form.manifest;
                prop_assert_eq!(manifest(&kv, "in").unwrap(), Some(found.clone()));
                prop_assert!(found.size <= limit);
                let bytes = stored_bytes(&kv, &found);
                prop_assert_eq!(bytes.len() as u64, found.size);
                prop_assert_eq!(hex(&Sha256::digest(&bytes)), found.sha256);
                prop_assert!(sniff(&bytes[..bytes.len().min(SNIFF_LEN)]).is_some());
                prop_assert_eq!(clean_filename(&found.filename), found.filename);
            }
            Err(_) => prop_assert!(kv.0.borrow().is_empty(), "a failed upload left data behind"),
        }
    }

    #[test]
    fn multipart_content_types_and_field_text_never_panic(text in ".{0,120}") {
        if let Ok(boundary) = multer::parse_boundary(&text) {
            let kv = MemoryKv::default();
            let _ = block_on(multipart(cut(b"--x\r\n\r\n", &[3]), &boundary, BlobWriter::new(&kv, "in", 10)));
        }
        let cleaned = clean_filename(&text);
        prop_assert!(!cleaned.is_empty() && cleaned.chars().count() <= 255);
        prop_assert!(!cleaned.contains(['/', '\\']) && !cleaned.chars().any(char::is_control));
        prop_assert_eq!(clean_filename(&cleaned), cleaned.clone());
        if let Ok(Some(url)) = parse_callback_url(&text) {
            prop_assert_eq!(parse_callback_url(&url).unwrap(), Some(url));
        }
    }

    #[test]
    fn a_raw_body_is_accepted_exactly_when_its_first_bytes_sniff_as_media(
        body in prop_oneof![file_bytes(), proptest::collection::vec(any::<u8>(), 0..40)],
        sizes in proptest::collection::vec(1..20usize, 1..4),
        declared in prop::sample::select(vec!["video/mp4", "audio/ogg", "application/octet-stream", ""]),
    ) {
        let kv = MemoryKv::default();
        let head = sniff(&body[..body.len().min(SNIFF_LEN)]);
        prop_assert_eq!(sniff(&body), head, "sniff looks past SNIFF_LEN");
        let outcome = block_on(raw(cut(&body, &sizes), BlobWriter::new(&kv, "in", u64::MAX), declared, "x"));
        match (outcome, head) {
            (Ok(stored), Some(container)) => {
                prop_assert_eq!(stored_bytes(&kv, &stored), body);
                let generic = !(declared.starts_with("video/") || declared.starts_with("audio/"));
                let expected = if generic { container.media_type() } else { declared };
                prop_assert_eq!(stored.content_type, expected);
            }
            (Err(IngestError::Unsupported), None) => prop_assert!(kv.0.borrow().is_empty()),
            (outcome, head) => prop_assert!(false, "sniff said {head:?}, the upload {outcome:?}"),
        }
    }
}
