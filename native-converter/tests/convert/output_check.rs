//! The output check decodes every frame as it is written: a good stream
//! passes with the same duration symphonia's own reader finds, and broken,
//! truncated or mislabelled streams fail it.

use std::path::Path;

use anyhow::{Context, Result};
use clipwave_convert::verify::{check_mp3_bytes, inspect_mp3};
use clipwave_convert::ConvertError;

use crate::helpers::{convert, ffmpeg_make, noise_source, workdir};

const SECS: f64 = 3.0;

/// A 3 s stereo 44.1 kHz MP3 made by the converter.
fn good_mp3(dir: &Path) -> Result<Vec<u8>> {
    let audio = noise_source(SECS, 44_100);
    let input = ffmpeg_make(dir, "in.wav", &["-f", "lavfi", "-i", &audio, "-ac", "2"])?;
    let output = dir.join("out.mp3");
    convert(&input, &output)?;
    Ok(std::fs::read(&output)?)
}

/// Byte offsets of the frames (the tag frame first) of a 192 kbit/s 44.1 kHz
/// MPEG-1 stream, whose frames are 626 bytes plus the padding bit.
fn frame_offsets(mp3: &[u8]) -> Result<Vec<usize>> {
    let mut offsets = Vec::new();
    let mut at = 0;
    while at < mp3.len() {
        let head = mp3.get(at..at + 4).context("cut header")?;
        anyhow::ensure!(head[0] == 0xFF && head[2] >> 4 == 0xB, "not a 192k frame");
        offsets.push(at);
        at += 626 + usize::from((head[2] >> 1) & 1);
    }
    Ok(offsets)
}

fn fails_check(mp3: &[u8], input_secs: f64) -> String {
    match check_mp3_bytes(mp3, 44_100, 2, input_secs) {
        Ok(info) => panic!("the check passed: {info:?}"),
        Err(ConvertError::OutputCheck(detail)) => detail,
        Err(other) => panic!("not an output check error: {other:?}"),
    }
}

#[test]
fn a_good_output_passes_with_the_duration_symphonias_reader_finds() -> Result<()> {
    let dir = workdir()?;
    let mp3 = good_mp3(dir.path())?;
    let streamed = check_mp3_bytes(&mp3, 44_100, 2, SECS)?;
    let read_back = inspect_mp3(&dir.path().join("out.mp3"))?;
    assert_eq!(streamed, read_back);
    assert_eq!(streamed.frames, (SECS * 44_100.0) as u64);
    Ok(())
}

#[test]
fn an_output_missing_its_last_frames_fails_the_check() -> Result<()> {
    let dir = workdir()?;
    let mp3 = good_mp3(dir.path())?;
    let offsets = frame_offsets(&mp3)?;
    let cut = offsets[offsets.len() - 20];
    let detail = fails_check(&mp3[..cut], SECS);
    assert!(detail.contains("LAME tag announces"), "{detail}");
    // Cut inside a frame.
    let detail = fails_check(&mp3[..cut + 100], SECS);
    assert!(detail.contains("inside a frame"), "{detail}");
    Ok(())
}

#[test]
fn a_damaged_frame_header_fails_the_check() -> Result<()> {
    let dir = workdir()?;
    let mut mp3 = good_mp3(dir.path())?;
    let offsets = frame_offsets(&mp3)?;
    let at = offsets[offsets.len() / 2];
    mp3[at..at + 4].copy_from_slice(b"junk");
    let detail = fails_check(&mp3, SECS);
    assert!(detail.contains("no MP3 frame header"), "{detail}");
    Ok(())
}

#[test]
fn main_data_pointing_before_the_stream_fails_the_check() -> Result<()> {
    let dir = workdir()?;
    let mut mp3 = good_mp3(dir.path())?;
    let offsets = frame_offsets(&mp3)?;
    // First audio frame: main_data_begin (9 bits after the 4-byte header)
    // set to 300 bytes, which do not exist before it.
    let side = offsets[1] + 4;
    mp3[side] = (300 >> 1) as u8;
    mp3[side + 1] = (mp3[side + 1] & 0x7F) | (((300 & 1) as u8) << 7);
    let detail = fails_check(&mp3, SECS);
    assert!(detail.contains("bit reservoir"), "{detail}");
    Ok(())
}

#[test]
fn an_output_shorter_than_the_input_fails_the_duration_check() -> Result<()> {
    let dir = workdir()?;
    let mp3 = good_mp3(dir.path())?;
    let detail = fails_check(&mp3, SECS + 0.6);
    assert!(detail.contains("lasts"), "{detail}");
    Ok(())
}
