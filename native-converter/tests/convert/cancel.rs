//! Cancelling a running conversion (the worker does it when its lease is
//! lost): every encoding path stops with `Canceled` and leaves no file.

use std::num::NonZeroUsize;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use anyhow::Result;
use clipwave_convert::{convert_file, ConvertError, ConvertOptions};

use crate::helpers::{ffmpeg_make, noise_source, workdir};

fn cancel_midway(input_args: &[&str], name: &str, threads: usize) -> Result<()> {
    let dir = workdir()?;
    let input = ffmpeg_make(dir.path(), name, input_args)?;
    let output = dir.path().join("out.mp3");
    let cancel = Arc::new(AtomicBool::new(false));
    let options = ConvertOptions {
        threads: NonZeroUsize::new(threads),
        cancel: Some(Arc::clone(&cancel)),
        ..Default::default()
    };
    let mut reports = 0;
    let result = convert_file(&input, &output, &options, &mut |progress| {
        reports += 1;
        if progress.done_secs > 0.0 {
            cancel.store(true, Ordering::Relaxed);
        }
    });
    assert!(
        matches!(result, Err(ConvertError::Canceled)),
        "{threads} threads, {name}: {result:?}"
    );
    assert!(reports > 0, "no progress was reported before the end");
    let left: Vec<_> = std::fs::read_dir(dir.path())?
        .filter_map(|entry| entry.ok())
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with("out"))
        .collect();
    assert!(left.is_empty(), "left behind: {left:?}");
    Ok(())
}

const SECS: f64 = 60.0;

#[test]
fn a_canceled_conversion_stops_on_every_path_and_leaves_no_file() -> Result<()> {
    let source = noise_source(SECS, 44_100);
    let aac = [
        "-f", "lavfi", "-i", &source, "-ac", "2", "-c:a", "aac", "-b:a", "128k",
    ];
    let wav = ["-f", "lavfi", "-i", &source, "-ac", "2"];
    // Packets dealt (AAC in MP4), PCM dealt (WAV), and one thread.
    cancel_midway(&aac, "in.mp4", 2)?;
    cancel_midway(&wav, "in.wav", 2)?;
    cancel_midway(&aac, "in.mp4", 1)?;
    Ok(())
}
