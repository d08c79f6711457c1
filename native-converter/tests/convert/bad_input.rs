//! Bad input gives a typed error with a clear message, never a panic, and
//! leaves no output file behind.

use std::fs;
use std::path::Path;

use anyhow::Result;
use clipwave_convert::ConvertError;

use crate::helpers::{convert, ffmpeg_make, noise_source, workdir};

fn fails(input: &Path) -> Result<ConvertError> {
    let output = input.with_file_name("out.mp3");
    let err = match convert(input, &output) {
        Ok(s) => anyhow::bail!("{} converted: {s:?}", input.display()),
        Err(e) => e,
    };
    assert!(!output.exists(), "an output was left behind");
    assert!(
        !input.with_file_name("out.mp3.part").exists(),
        "a part file was left behind"
    );
    assert!(!err.to_string().is_empty());
    Ok(err)
}

fn cut(path: &Path, keep: f64) -> Result<()> {
    let bytes = fs::read(path)?;
    fs::write(path, &bytes[..(bytes.len() as f64 * keep) as usize])?;
    Ok(())
}

#[test]
fn an_empty_file_is_reported_as_empty() -> Result<()> {
    let dir = workdir()?;
    let input = dir.path().join("empty.mp4");
    fs::write(&input, b"")?;
    assert!(matches!(fails(&input)?, ConvertError::Empty));
    Ok(())
}

#[test]
fn a_text_file_renamed_mp4_is_not_a_supported_format() -> Result<()> {
    let dir = workdir()?;
    let input = dir.path().join("notes.mp4");
    fs::write(&input, "Shopping list:\n- milk\n- eggs\n".repeat(100))?;
    let err = fails(&input)?;
    assert!(matches!(err, ConvertError::UnsupportedFormat), "{err:?}");
    assert!(err.to_string().contains("not a supported media file"));
    Ok(())
}

#[test]
fn a_video_without_audio_has_no_audio_track() -> Result<()> {
    let dir = workdir()?;
    let input = ffmpeg_make(
        dir.path(),
        "silent.mp4",
        &[
            "-f",
            "lavfi",
            "-i",
            "testsrc=size=160x120:rate=25:duration=1",
            "-c:v",
            "libx264",
        ],
    )?;
    assert!(matches!(fails(&input)?, ConvertError::NoAudioTrack));
    Ok(())
}

#[test]
fn opus_in_webm_is_an_unsupported_codec() -> Result<()> {
    let dir = workdir()?;
    let audio = noise_source(1.0, 48_000);
    let input = ffmpeg_make(
        dir.path(),
        "in.webm",
        &["-f", "lavfi", "-i", &audio, "-c:a", "libopus"],
    )?;
    let err = fails(&input)?;
    assert!(
        matches!(&err, ConvertError::UnsupportedCodec { codec } if codec == "opus"),
        "{err:?}"
    );
    Ok(())
}

#[test]
fn a_truncated_mp4_is_reported_as_truncated() -> Result<()> {
    let dir = workdir()?;
    let audio = noise_source(4.0, 44_100);
    let input = ffmpeg_make(
        dir.path(),
        "in.mp4",
        &[
            "-f",
            "lavfi",
            "-i",
            &audio,
            "-c:a",
            "aac",
            "-movflags",
            "+faststart",
        ],
    )?;
    cut(&input, 0.5)?;
    let err = fails(&input)?;
    assert!(
        matches!(
            err,
            ConvertError::Truncated { .. } | ConvertError::TruncatedContainer
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("truncated"));
    Ok(())
}

#[test]
fn an_mp4_cut_before_its_index_is_a_typed_error() -> Result<()> {
    let dir = workdir()?;
    let audio = noise_source(2.0, 44_100);
    // Without faststart the index (moov) is at the end and is lost.
    let input = ffmpeg_make(
        dir.path(),
        "in.mp4",
        &["-f", "lavfi", "-i", &audio, "-c:a", "aac"],
    )?;
    cut(&input, 0.6)?;
    let err = fails(&input)?;
    assert!(err.is_permanent(), "{err:?}");
    Ok(())
}

#[test]
fn a_truncated_wav_is_reported_as_truncated() -> Result<()> {
    let dir = workdir()?;
    let audio = noise_source(2.0, 44_100);
    let input = ffmpeg_make(dir.path(), "in.wav", &["-f", "lavfi", "-i", &audio])?;
    cut(&input, 0.3)?;
    assert!(matches!(fails(&input)?, ConvertError::Truncated { .. }));
    Ok(())
}

#[test]
fn corrupt_audio_packets_are_concealed_or_reported_never_a_panic() -> Result<()> {
    let dir = workdir()?;
    let audio = noise_source(3.0, 44_100);
    let input = ffmpeg_make(
        dir.path(),
        "in.mp3",
        &["-f", "lavfi", "-i", &audio, "-c:a", "libmp3lame"],
    )?;
    let mut bytes = fs::read(&input)?;
    let len = bytes.len();
    let mut x = 0x2545_f491_u32;
    for b in &mut bytes[len / 3..len / 2] {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        *b = x as u8;
    }
    fs::write(&input, &bytes)?;
    let output = dir.path().join("out.mp3");
    match convert(&input, &output) {
        Ok(summary) => assert!((summary.output_duration_secs - 3.0).abs() < 0.5),
        Err(err) => assert!(
            matches!(
                err,
                ConvertError::Corrupt { .. } | ConvertError::Truncated { .. }
            ),
            "{err:?}"
        ),
    }
    Ok(())
}

#[test]
fn a_missing_input_is_an_io_error_that_may_be_retried() -> Result<()> {
    let dir = workdir()?;
    let err = fails(&dir.path().join("nope.mp4"))?;
    assert!(
        matches!(err, ConvertError::Io { .. }) && !err.is_permanent(),
        "{err:?}"
    );
    Ok(())
}
