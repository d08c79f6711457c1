//! The converter's decoder front end (`native-converter/src/decode.rs`):
//! open, probe and decode arbitrary bytes to the end. The answer is audio
//! or a typed `ConvertError` that blames the input (never an I/O error on a
//! healthy local file, which the worker would retry), never a panic or hang.
//!
//! symphonia panics on some malformed files; `decode::guard` turns those
//! into `ConvertError::Corrupt`. libFuzzer's panic hook aborts even on a
//! caught panic, so by default this target installs a quiet hook: only a
//! panic that escapes the guard is a crash. `CLIPWAVE_FUZZ_STRICT=1` keeps
//! libFuzzer's hook, to collect the panics the guard absorbs.
//!
//! Input: 1 byte choosing the file extension (a probe hint), then the file.
#![no_main]

use std::{path::PathBuf, sync::Once};

use clipwave_convert::{
    decode::{AudioDecoder, PcmBlock},
    ConvertError,
};
use libfuzzer_sys::fuzz_target;

const EXTENSIONS: [&str; 11] = [
    "mp4", "m4a", "mov", "mkv", "webm", "ogg", "wav", "flac", "mp3", "aac", "bin",
];

fn scratch_dir() -> &'static PathBuf {
    static DIR: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    DIR.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("clipwave-fuzz-decode-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("a scratch directory");
        dir
    })
}

fn blames_the_input(error: &ConvertError) {
    assert!(!error.to_string().is_empty());
    assert!(
        error.is_permanent(),
        "a bad input reported as a retryable error: {error:?}"
    );
}

fuzz_target!(|data: &[u8]| {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        if std::env::var_os("CLIPWAVE_FUZZ_STRICT").is_none() {
            std::panic::set_hook(Box::new(|_| {}));
        }
    });
    let Some((&pick, file)) = data.split_first() else {
        return;
    };
    let extension = EXTENSIONS[usize::from(pick) % EXTENSIONS.len()];
    let path = scratch_dir().join(format!("input.{extension}"));
    std::fs::write(&path, file).expect("the scratch file is written");
    let mut decoder = match AudioDecoder::open(&path) {
        Ok(decoder) => decoder,
        Err(error) => return blames_the_input(&error),
    };
    let info = decoder.info().clone();
    assert!(info.sample_rate > 0 && (1..=2).contains(&info.channels));
    let mut block = PcmBlock::default();
    loop {
        match decoder.next_block(&mut block) {
            Ok(true) => {
                assert_eq!(block.planes.len(), decoder.info().channels);
                assert!(block.planes.iter().all(|p| p.len() == block.frames()));
            }
            Ok(false) => break,
            Err(error) => return blames_the_input(&error),
        }
    }
});
