//! Every supported container and codec converts, with video tracks skipped,
//! and the output decodes (with ffmpeg) to the input's duration.

use std::path::Path;

use anyhow::Result;
use clipwave_convert::{convert_file, ConvertOptions, EncodeSettings};

use crate::helpers::{
    convert, ffmpeg_decode_interleaved, ffmpeg_decode_left, ffmpeg_make, noise_source, workdir,
};

/// Makes `name` from 2 s of noise at `rate` with `channels`, plus `extra`
/// ffmpeg arguments (codec, video), converts it and checks the output.
fn converts(name: &str, rate: u32, extra: &[&str]) -> Result<clipwave_convert::Summary> {
    let dir = workdir()?;
    let audio = noise_source(2.0, rate);
    let mut args = vec!["-f", "lavfi", "-i", audio.as_str()];
    args.extend_from_slice(extra);
    let input = ffmpeg_make(dir.path(), name, &args)?;
    let output = dir.path().join("out.mp3");
    let summary = convert(&input, &output)?;
    assert_decodes_to(&output, summary.sample_rate, 2.0)?;
    assert!(
        (summary.input_duration_secs - 2.0).abs() < 0.05,
        "input read as {} s",
        summary.input_duration_secs
    );
    Ok(summary)
}

fn assert_decodes_to(output: &Path, rate: u32, secs: f64) -> Result<()> {
    let samples = ffmpeg_decode_left(output)?;
    let decoded_secs = samples.len() as f64 / f64::from(rate);
    assert!(
        (decoded_secs - secs).abs() < 0.05,
        "output decodes to {decoded_secs} s, expected {secs} s"
    );
    Ok(())
}

const VIDEO_SOURCE: [&str; 4] = [
    "-f",
    "lavfi",
    "-i",
    "testsrc=size=160x120:rate=25:duration=2",
];

/// A test picture encoded with `video_codec` beside the audio.
fn with_video_in<'a>(video_codec: &[&'a str], audio_args: &[&'a str]) -> Vec<&'a str> {
    let mut args: Vec<&str> = VIDEO_SOURCE.to_vec();
    args.extend_from_slice(video_codec);
    args.extend_from_slice(&["-shortest"]);
    args.extend_from_slice(audio_args);
    args
}

/// A test picture in H.264 beside the audio.
fn with_video<'a>(audio_args: &[&'a str]) -> Vec<&'a str> {
    with_video_in(&["-c:v", "libx264"], audio_args)
}

#[test]
fn an_mp4_with_h264_video_and_aac_audio_converts() -> Result<()> {
    let s = converts("in.mp4", 44_100, &with_video(&["-c:a", "aac", "-ac", "2"]))?;
    assert_eq!(
        (s.sample_rate, s.channels, s.input_codec.as_str()),
        (44_100, 2, "aac")
    );
    Ok(())
}

#[test]
fn a_mov_with_video_and_aac_audio_converts() -> Result<()> {
    converts("in.mov", 48_000, &with_video(&["-c:a", "aac", "-ac", "2"]))?;
    Ok(())
}

#[test]
fn an_m4a_with_aac_audio_converts() -> Result<()> {
    converts("in.m4a", 44_100, &["-c:a", "aac"])?;
    Ok(())
}

#[test]
fn an_mkv_with_video_and_vorbis_audio_converts() -> Result<()> {
    converts(
        "in.mkv",
        44_100,
        &with_video(&["-c:a", "libvorbis", "-ac", "2"]),
    )?;
    Ok(())
}

#[test]
fn a_webm_with_vp8_video_and_vorbis_audio_converts() -> Result<()> {
    // WebM is Matroska with its own doctype and only VP8/VP9/AV1 video.
    let args = with_video_in(
        &["-c:v", "libvpx", "-b:v", "200k"],
        &["-c:a", "libvorbis", "-ac", "2"],
    );
    let s = converts("in.webm", 48_000, &args)?;
    assert_eq!(
        (s.sample_rate, s.channels, s.input_codec.as_str()),
        (48_000, 2, "vorbis")
    );
    Ok(())
}

#[test]
fn an_ogg_vorbis_file_converts() -> Result<()> {
    converts("in.ogg", 44_100, &["-c:a", "libvorbis"])?;
    Ok(())
}

#[test]
fn a_wav_file_converts() -> Result<()> {
    converts("in.wav", 44_100, &["-c:a", "pcm_s16le"])?;
    Ok(())
}

#[test]
fn a_flac_file_converts() -> Result<()> {
    converts("in.flac", 44_100, &["-c:a", "flac"])?;
    Ok(())
}

#[test]
fn an_mp3_file_converts() -> Result<()> {
    converts("in.mp3", 44_100, &["-c:a", "libmp3lame"])?;
    Ok(())
}

#[test]
fn a_96_khz_input_is_resampled_to_48_khz() -> Result<()> {
    let s = converts("in.flac", 96_000, &["-c:a", "flac"])?;
    assert_eq!(s.sample_rate, 48_000);
    Ok(())
}

#[test]
fn a_22_khz_input_keeps_its_sample_rate() -> Result<()> {
    let s = converts("in.ogg", 22_050, &["-c:a", "libvorbis"])?;
    assert_eq!(s.sample_rate, 22_050);
    Ok(())
}

#[test]
fn a_5_1_input_is_downmixed_to_stereo() -> Result<()> {
    let s = converts(
        "in.flac",
        48_000,
        &[
            "-af",
            "pan=5.1|c0=c0|c1=c0|c2=c0|c3=c0|c4=c0|c5=c0",
            "-c:a",
            "flac",
        ],
    )?;
    assert_eq!(s.channels, 2);
    Ok(())
}

#[test]
fn a_mono_input_becomes_stereo_with_the_same_audio_on_both_sides() -> Result<()> {
    // DESIGN §6: the output is stereo (as the tutorial's moviepy writes it).
    let dir = workdir()?;
    let audio = noise_source(2.0, 44_100);
    let input = ffmpeg_make(
        dir.path(),
        "in.wav",
        &["-f", "lavfi", "-i", &audio, "-ac", "1"],
    )?;
    let output = dir.path().join("out.mp3");
    let summary = convert(&input, &output)?;
    assert_eq!(summary.channels, 2);
    let samples = ffmpeg_decode_interleaved(&output)?;
    let frames = samples.len() / 2;
    assert!(
        (frames as f64 / 44_100.0 - 2.0).abs() < 0.05,
        "{frames} frames"
    );
    let loudest = samples.iter().fold(0f32, |m, s| m.max(s.abs()));
    assert!(loudest > 0.05, "the output is silent");
    let widest = samples
        .chunks_exact(2)
        .fold(0f32, |m, lr| m.max((lr[0] - lr[1]).abs()));
    assert!(widest < 1e-4, "left and right differ by up to {widest}");
    Ok(())
}

#[test]
fn vbr_and_other_bit_rates_produce_valid_output() -> Result<()> {
    let dir = workdir()?;
    let audio = noise_source(2.0, 44_100);
    let input = ffmpeg_make(dir.path(), "in.wav", &["-f", "lavfi", "-i", &audio])?;
    for encode in [
        EncodeSettings::vbr(2)?,
        EncodeSettings::cbr(96)?,
        EncodeSettings::cbr(320)?,
    ] {
        let output = dir.path().join("out.mp3");
        let options = ConvertOptions {
            encode,
            ..Default::default()
        };
        let summary = convert_file(&input, &output, &options, &mut |_| {})?;
        assert_decodes_to(&output, summary.sample_rate, 2.0)?;
    }
    Ok(())
}
