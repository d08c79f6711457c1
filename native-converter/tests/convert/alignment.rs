//! Sample accuracy: the MP3, decoded by ffmpeg (which honours the LAME tag),
//! starts where the original signal starts and has its length, to within
//! 1 ms, whatever priming the input's codec added (AAC encoder delay in an
//! MP4 edit list, Vorbis, a LAME-tagged MP3).
//!
//! The reference is the PCM the input was made from, not the input decoded
//! by ffmpeg: ffmpeg keeps the AAC encoder's end padding, so it is itself up
//! to one AAC frame too long.

use std::path::Path;

use anyhow::{Context, Result};

use crate::helpers::{best_lag, convert, ffmpeg_decode_left, ffmpeg_make, noise_source, workdir};

/// One millisecond at 44.1 kHz.
const ONE_MS: i64 = 44;

fn assert_aligned(source: &Path, input: &Path, output: &Path) -> Result<()> {
    let reference = ffmpeg_decode_left(source)?;
    let ours = ffmpeg_decode_left(output)?;
    // Matroska has no way to say where Vorbis audio ends, so there no
    // decoder (ffmpeg included) can cut the last packet's padding: the
    // length to meet there is ffmpeg's own decode of the input.
    let ffmpeg_len = ffmpeg_decode_left(input)?.len() as i64;
    let (lag, corr) =
        best_lag(&reference, &ours, 22_050, 8_192, 4_096).context("signals too short")?;
    assert!(
        corr > 0.9,
        "output does not resemble the input (correlation {corr:.3})"
    );
    assert!(
        lag.abs() <= ONE_MS,
        "output is offset by {lag} samples from the input"
    );
    let len_diff = reference.len() as i64 - ours.len() as i64;
    let ffmpeg_diff = ffmpeg_len - ours.len() as i64;
    assert!(
        len_diff.abs() <= ONE_MS || ffmpeg_diff == 0,
        "output length differs by {len_diff} samples from the source and {ffmpeg_diff} from ffmpeg's decode"
    );
    Ok(())
}

/// Makes `source.wav` (3 s of pink noise), encodes it to `name` with
/// `codec_args`, converts that, and checks the result against the WAV.
fn check_round_trip(name: &str, codec_args: &[&str]) -> Result<()> {
    let dir = workdir()?;
    let src = noise_source(3.0, 44_100);
    let source = ffmpeg_make(
        dir.path(),
        "source.wav",
        &["-f", "lavfi", "-i", &src, "-ac", "2"],
    )?;
    let source_arg = source.to_string_lossy().into_owned();
    let mut args = vec!["-i", source_arg.as_str()];
    args.extend_from_slice(codec_args);
    let input = ffmpeg_make(dir.path(), name, &args)?;
    let output = dir.path().join("out.mp3");
    convert(&input, &output)?;
    assert_aligned(&source, &input, &output)
}

#[test]
fn mp3_from_aac_in_mp4_starts_with_the_source_and_has_its_length() -> Result<()> {
    check_round_trip("in.mp4", &["-c:a", "aac", "-b:a", "160k"])
}

#[test]
fn mp3_from_aac_in_mov_starts_with_the_source_and_has_its_length() -> Result<()> {
    check_round_trip("in.mov", &["-c:a", "aac", "-b:a", "160k"])
}

#[test]
fn mp3_from_wav_starts_with_the_source_and_has_its_length() -> Result<()> {
    check_round_trip("in.wav", &["-c:a", "pcm_s16le"])
}

#[test]
fn mp3_from_flac_starts_with_the_source_and_has_its_length() -> Result<()> {
    check_round_trip("in.flac", &["-c:a", "flac"])
}

#[test]
fn mp3_from_a_lame_tagged_mp3_starts_with_the_source_and_has_its_length() -> Result<()> {
    check_round_trip("in.mp3", &["-c:a", "libmp3lame", "-b:a", "192k"])
}

#[test]
fn mp3_from_vorbis_in_ogg_starts_with_the_source_and_has_its_length() -> Result<()> {
    check_round_trip("in.ogg", &["-c:a", "libvorbis", "-q:a", "5"])
}

#[test]
fn mp3_from_vorbis_in_mkv_starts_with_the_source_and_has_its_length() -> Result<()> {
    check_round_trip("in.mkv", &["-c:a", "libvorbis", "-q:a", "5"])
}
