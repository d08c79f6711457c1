//! The `clipwave-convert` command: JSON summary, exit status, error text.

use std::process::Command;

use anyhow::Result;

use crate::helpers::{ffmpeg_make, noise_source, workdir};

const BIN: &str = env!("CARGO_BIN_EXE_clipwave-convert");

#[test]
fn json_flag_prints_a_machine_readable_summary() -> Result<()> {
    let dir = workdir()?;
    let audio = noise_source(1.0, 44_100);
    let input = ffmpeg_make(dir.path(), "in.wav", &["-f", "lavfi", "-i", &audio])?;
    let output = dir.path().join("out.mp3");
    let out = Command::new(BIN)
        .arg(&input)
        .arg("-o")
        .arg(&output)
        .args(["--json", "--bitrate", "128"])
        .output()?;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout)?;
    for key in [
        "input_duration_secs",
        "output_bytes",
        "sample_rate",
        "channels",
        "elapsed_secs",
    ] {
        assert!(summary.get(key).is_some(), "summary lacks {key}: {summary}");
    }
    assert_eq!(
        summary["output_bytes"].as_u64(),
        Some(std::fs::metadata(&output)?.len())
    );
    Ok(())
}

#[test]
fn bad_input_exits_with_status_1_and_a_clear_message() -> Result<()> {
    let dir = workdir()?;
    let input = dir.path().join("notes.mp4");
    std::fs::write(&input, "not a video")?;
    let out = Command::new(BIN)
        .arg(&input)
        .arg("-o")
        .arg(dir.path().join("o.mp3"))
        .output()?;
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("not a supported media file"), "{stderr}");
    Ok(())
}

#[test]
fn a_bit_rate_mp3_does_not_have_is_a_usage_error() -> Result<()> {
    let dir = workdir()?;
    let out = Command::new(BIN)
        .arg(dir.path().join("x.wav"))
        .args(["-o", "y.mp3", "--bitrate", "200"])
        .output()?;
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not an MP3 bit rate"));
    Ok(())
}
