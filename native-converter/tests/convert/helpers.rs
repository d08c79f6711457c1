//! Shared test helpers: media made at test time with ffmpeg, decoding with
//! ffmpeg (the reference player), and alignment by cross-correlation.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};
use clipwave_convert::{convert_file, ConvertError, ConvertOptions, Summary};

/// Fails (never skips) when ffmpeg is missing: CI installs it.
pub fn require_ffmpeg() {
    let ok = Command::new("ffmpeg")
        .arg("-version")
        .output()
        .map(|o| o.status.success());
    assert!(
        matches!(ok, Ok(true)),
        "ffmpeg is required by these tests to make inputs and decode outputs; install it (apt-get install -y ffmpeg)"
    );
}

/// A fresh temporary directory.
pub fn workdir() -> Result<tempfile::TempDir> {
    Ok(tempfile::tempdir()?)
}

/// Runs ffmpeg with `args` (after `-y -v error`), writing `out` in `dir`.
pub fn ffmpeg_make(dir: &Path, out: &str, args: &[&str]) -> Result<PathBuf> {
    require_ffmpeg();
    let path = dir.join(out);
    let status = Command::new("ffmpeg")
        .args(["-y", "-v", "error", "-nostdin"])
        .args(args)
        .arg(&path)
        .status()
        .context("running ffmpeg")?;
    if !status.success() {
        bail!("ffmpeg failed to make {out}");
    }
    Ok(path)
}

/// Pink noise (good for cross-correlation: no period) at `rate` Hz.
pub fn noise_source(secs: f64, rate: u32) -> String {
    format!("anoisesrc=color=pink:amplitude=0.25:seed=7:duration={secs}:sample_rate={rate}")
}

/// Decodes the first audio stream of `path` with ffmpeg to mono f32 (left
/// channel), at its own rate, honouring edit lists and LAME tags.
pub fn ffmpeg_decode_left(path: &Path) -> Result<Vec<f32>> {
    ffmpeg_decode(path, &["-af", "pan=mono|c0=c0"])
}

/// Decodes the first audio stream of `path` with ffmpeg to f32, channels
/// interleaved, at its own rate and channel count.
pub fn ffmpeg_decode_interleaved(path: &Path) -> Result<Vec<f32>> {
    ffmpeg_decode(path, &[])
}

fn ffmpeg_decode(path: &Path, filter: &[&str]) -> Result<Vec<f32>> {
    require_ffmpeg();
    let out = Command::new("ffmpeg")
        .args(["-v", "error", "-nostdin", "-i"])
        .arg(path)
        .args(["-map", "0:a:0"])
        .args(filter)
        .args(["-f", "f32le", "-"])
        .output()
        .context("running ffmpeg to decode")?;
    if !out.status.success() {
        bail!(
            "ffmpeg could not decode {}: {}",
            path.display(),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(out
        .stdout
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect())
}

/// The lag (in samples) that best aligns `test` with `reference` within
/// `±max_lag`: `test[i + lag] ≈ reference[i]`. Uses a window from `start`.
pub fn best_lag(
    reference: &[f32],
    test: &[f32],
    start: usize,
    window: usize,
    max_lag: usize,
) -> Option<(i64, f64)> {
    let mut best: Option<(i64, f64)> = None;
    let max_lag = max_lag as i64;
    for lag in -max_lag..=max_lag {
        let (mut dot, mut e1, mut e2) = (0.0f64, 0.0f64, 0.0f64);
        for i in start..start + window {
            let j = i as i64 + lag;
            let (Some(a), Some(b)) = (
                reference.get(i),
                usize::try_from(j).ok().and_then(|j| test.get(j)),
            ) else {
                return None;
            };
            dot += f64::from(*a) * f64::from(*b);
            e1 += f64::from(*a) * f64::from(*a);
            e2 += f64::from(*b) * f64::from(*b);
        }
        let corr = dot / (e1.sqrt() * e2.sqrt()).max(1e-12);
        if best.is_none_or(|(_, c)| corr > c) {
            best = Some((lag, corr));
        }
    }
    best
}

/// Signal-to-error ratio of `test` against `reference` over `range`, in dB.
pub fn snr_db(reference: &[f32], test: &[f32], range: std::ops::Range<usize>) -> f64 {
    let (mut signal, mut error) = (0.0f64, 0.0f64);
    for i in range {
        let s = f64::from(reference[i]);
        signal += s * s;
        error += (f64::from(test[i]) - s).powi(2);
    }
    10.0 * (signal / error.max(1e-20)).log10()
}

/// Converts with default options, no progress output.
pub fn convert(input: &Path, output: &Path) -> Result<Summary, ConvertError> {
    convert_file(input, output, &ConvertOptions::default(), &mut |_| {})
}
