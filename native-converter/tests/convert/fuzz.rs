//! The decode front end takes arbitrary bytes without panicking: it either
//! decodes something or returns a typed error.

use std::io::Cursor;

use clipwave_convert::decode::{AudioDecoder, PcmBlock};
use proptest::prelude::*;

/// Starts of real containers, so the fuzzer gets past the probe sometimes.
const MAGIC: [&[u8]; 7] = [
    b"",
    b"RIFF\x24\x08\x00\x00WAVEfmt \x10\x00\x00\x00\x01\x00\x02\x00\x44\xac\x00\x00\x10\xb1\x02\x00\x04\x00\x10\x00data",
    b"fLaC",
    b"OggS\x00\x02",
    b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2",
    b"ID3\x04\x00\x00\x00\x00\x00\x00\xff\xfb\x90\x64",
    b"\x1a\x45\xdf\xa3",
];

fn drain(bytes: Vec<u8>, ext: &str) {
    let Ok(mut decoder) = AudioDecoder::from_source(Box::new(Cursor::new(bytes)), Some(ext)) else {
        return;
    };
    let mut block = PcmBlock::default();
    for _ in 0..10_000 {
        match decoder.next_block(&mut block) {
            Ok(true) => {}
            Ok(false) | Err(_) => return,
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_bytes_never_panic_the_decoder(
        magic in 0..MAGIC.len(),
        tail in proptest::collection::vec(any::<u8>(), 0..4096),
        ext in prop::sample::select(vec!["mp4", "wav", "mp3", "ogg", "mkv", "flac", "bin"]),
    ) {
        let mut bytes = MAGIC[magic].to_vec();
        bytes.extend_from_slice(&tail);
        drain(bytes, ext);
    }
}
