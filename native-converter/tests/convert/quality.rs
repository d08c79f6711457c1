//! Quality at least ffmpeg's (issue 6): the same source encoded by us (one
//! and two threads) and by `ffmpeg -c:a libmp3lame -b:a 192k`, everything
//! decoded by ffmpeg, aligned with the source; our signal-to-error ratio may
//! be at most 0.3 dB below ffmpeg's.

use std::num::NonZeroUsize;
use std::path::Path;

use anyhow::{Context, Result};
use clipwave_convert::{convert_file, ConvertOptions, EncodeSettings};

use crate::helpers::{best_lag, ffmpeg_decode_left, ffmpeg_make, snr_db, workdir};
use crate::seams::percussive_source;

/// How far below ffmpeg's SNR ours may be.
const ALLOWED_LOSS_DB: f64 = 0.3;

/// SNR of `mp3`'s left channel against `reference`, after aligning them.
fn aligned_snr(reference: &[f32], mp3: &Path) -> Result<f64> {
    let decoded = ffmpeg_decode_left(mp3)?;
    let (lag, _) = best_lag(reference, &decoded, 44_100, 44_100, 2_048).context("too short")?;
    let start = 4_096usize;
    let end = reference.len().min(decoded.len()) - 4_096;
    let shifted: Vec<f32> = (0..reference.len())
        .map(|i| {
            usize::try_from(i as i64 + lag)
                .ok()
                .and_then(|j| decoded.get(j))
                .copied()
                .unwrap_or(0.0)
        })
        .collect();
    Ok(snr_db(reference, &shifted, start..end))
}

#[test]
fn our_192k_encodes_are_as_good_as_ffmpegs() -> Result<()> {
    let dir = workdir()?;
    let source = ffmpeg_make(
        dir.path(),
        "source.wav",
        &["-f", "lavfi", "-i", &percussive_source(30)],
    )?;
    let reference = ffmpeg_decode_left(&source)?;
    let theirs = ffmpeg_make(
        dir.path(),
        "ffmpeg.mp3",
        &[
            "-i",
            source.to_str().context("path")?,
            "-c:a",
            "libmp3lame",
            "-b:a",
            "192k",
        ],
    )?;
    let ffmpeg_snr = aligned_snr(&reference, &theirs)?;
    for threads in [1, 2] {
        let ours = dir.path().join(format!("ours-{threads}.mp3"));
        let options = ConvertOptions {
            encode: EncodeSettings::cbr(192)?,
            threads: NonZeroUsize::new(threads),
            cancel: None,
        };
        convert_file(&source, &ours, &options, &mut |_| {})?;
        let our_snr = aligned_snr(&reference, &ours)?;
        eprintln!("{threads} thread(s): SNR {our_snr:.2} dB, ffmpeg {ffmpeg_snr:.2} dB");
        assert!(
            our_snr >= ffmpeg_snr - ALLOWED_LOSS_DB,
            "{threads} thread(s): SNR {our_snr:.2} dB against ffmpeg's {ffmpeg_snr:.2} dB"
        );
    }
    Ok(())
}
