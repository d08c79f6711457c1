//! Parallel encoding: the joined MP3 has no gap, overlap or click at its
//! seams. The output of a 2-thread encode is decoded with ffmpeg (which
//! honours our LAME tag), aligned with the source PCM and with a 1-thread
//! encode, and the error around every seam is compared with the error
//! elsewhere. Both ways of dealing segments are covered: decoded PCM (a WAV
//! source) and compressed packets (AAC in MP4), whose seams lie elsewhere.

use std::num::NonZeroUsize;
use std::path::Path;

use anyhow::{Context, Result};
use clipwave_convert::parallel::{Plan, SEAM_CANDIDATES};
use clipwave_convert::{convert_file, ConvertOptions, EncodeSettings};

use crate::helpers::{best_lag, ffmpeg_decode_left, ffmpeg_make, snr_db, workdir};

const RATE: u32 = 44_100;
/// LAME's encoder delay plus the decoder's, in samples: where frame 0 of the
/// stream starts in the decoded (but untrimmed) timeline.
const CODEC_DELAY: i64 = 576 + 529;

/// Decaying tones on a noise floor: transients at positions unrelated to
/// the frame grid make LAME switch to short blocks near some seams.
pub fn percussive_source(secs: u32) -> String {
    format!(
        "aevalsrc=exprs='0.45*sin(2*PI*(330+110*mod(floor(t/0.37),4))*t)*exp(-9*mod(t,0.37))+0.08*(random(0)-0.5)|0.4*sin(2*PI*520*t)*exp(-6*mod(t+0.1,0.41))+0.08*(random(1)-0.5)':s={RATE}:d={secs}"
    )
}

fn encode(input: &Path, output: &Path, threads: usize, kbps: u16) -> Result<()> {
    let options = ConvertOptions {
        encode: EncodeSettings::cbr(kbps)?,
        threads: NonZeroUsize::new(threads),
        cancel: None,
    };
    convert_file(input, output, &options, &mut |_| {})?;
    Ok(())
}

/// ffmpeg reports nothing (no invalid frame, no reservoir underflow).
fn assert_decodes_cleanly(mp3: &Path) -> Result<()> {
    let out = std::process::Command::new("ffmpeg")
        .args(["-v", "error", "-nostdin", "-i"])
        .arg(mp3)
        .args(["-f", "null", "-"])
        .output()?;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success() && stderr.trim().is_empty(), "{stderr}");
    Ok(())
}

/// Largest sample error over `range`.
fn peak_error(reference: &[f32], test: &[f32], range: std::ops::Range<usize>) -> f32 {
    range
        .map(|i| (test[i] - reference[i]).abs())
        .fold(0.0, f32::max)
}

/// What the seam tests feed the converter.
#[derive(Clone, Copy)]
enum Source {
    /// PCM: the decoder deals PCM to the encoders.
    Wav,
    /// AAC in MP4 (noise substitution off, so that every decoder of it gives
    /// the same samples): packets are dealt.
    AacMp4,
}

const SOURCE_SECS: u32 = 27;

fn check_seams(kbps: u16, kind: Source) -> Result<()> {
    let dir = workdir()?;
    let lavfi = percussive_source(SOURCE_SECS);
    // The reference is the PCM source; for MP4 it is encoded to AAC from it
    // (ffmpeg's own decode of that MP4 keeps 212 samples of AAC padding
    // at the end; ours, and the source, do not).
    let wav = ffmpeg_make(dir.path(), "source.wav", &["-f", "lavfi", "-i", &lavfi])?;
    let (source, plan) = match kind {
        Source::Wav => (wav.clone(), Plan::for_rate(RATE)),
        Source::AacMp4 => (
            ffmpeg_make(
                dir.path(),
                "source.mp4",
                &[
                    "-i",
                    wav.to_str().context("temp path")?,
                    "-ac",
                    "2",
                    "-c:a",
                    "aac",
                    "-b:a",
                    "192k",
                    "-aac_pns",
                    "0",
                ],
            )?,
            Plan::for_packets(RATE, Some(u64::from(SOURCE_SECS * RATE)), 2),
        ),
    };
    let (parallel, serial) = (dir.path().join("par.mp3"), dir.path().join("ser.mp3"));
    encode(&source, &parallel, 2, kbps)?;
    encode(&source, &serial, 1, kbps)?;
    assert_ne!(
        std::fs::read(&parallel)?,
        std::fs::read(&serial)?,
        "the parallel path did not run (it falls back to one thread when no seam fits)"
    );
    assert_decodes_cleanly(&parallel)?;
    let reference = ffmpeg_decode_left(&wav)?;
    let par = ffmpeg_decode_left(&parallel)?;
    let ser = ffmpeg_decode_left(&serial)?;
    assert_eq!(
        par.len(),
        reference.len(),
        "joined stream has another length"
    );
    assert_eq!(ser.len(), reference.len());

    let window = 2 * plan.spf as usize;
    let overall = snr_db(&reference, &ser, 0..reference.len());
    let mut seams = 0;
    for k in 0.. {
        // The seam is one of the candidate frames; cover all of them.
        let first = (plan.handover(k) * plan.spf) as i64 - CODEC_DELAY;
        let last = ((plan.handover(k) + SEAM_CANDIDATES) * plan.spf) as i64 - CODEC_DELAY;
        let (from, to) = (first as usize - window, last as usize + window);
        if to + 4_096 >= reference.len() {
            break;
        }
        seams += 1;
        let (lag, corr) = best_lag(&reference, &par, from, to - from, 64).context("too short")?;
        assert_eq!(
            lag, 0,
            "seam {k} is shifted by {lag} samples (corr {corr:.4})"
        );
        let (lag, _) = best_lag(&ser, &par, from, to - from, 64).context("too short")?;
        assert_eq!(lag, 0, "seam {k} is not aligned with the one-thread encode");
        let at_seam = snr_db(&reference, &par, from..to);
        let serial_here = snr_db(&reference, &ser, from..to);
        // The signal's level varies, so compare with the one-thread encode
        // of the same samples rather than with a global figure.
        assert!(
            at_seam > serial_here - 1.0,
            "seam {k}: SNR {at_seam:.2} dB, one-thread encode {serial_here:.2} dB here"
        );
        eprintln!("{kbps}k seam {k}: SNR {at_seam:.2} dB (one thread {serial_here:.2} dB)");
        let peak = peak_error(&reference, &par, from..to);
        let serial_peak = peak_error(&reference, &ser, from..to);
        assert!(
            peak < 2.0 * serial_peak + 0.01,
            "seam {k}: peak error {peak:.4} against {serial_peak:.4} for one thread (a click)"
        );
    }
    assert!(seams >= 3, "only {seams} seams were checked");
    let whole = snr_db(&reference, &par, 0..reference.len());
    assert!(
        whole > overall - 0.1,
        "joined stream SNR {whole:.2} dB, one thread {overall:.2} dB"
    );
    Ok(())
}

#[test]
fn a_two_thread_encode_has_no_gap_overlap_or_click_at_its_seams() -> Result<()> {
    check_seams(192, Source::Wav)
}

#[test]
fn seams_hold_at_a_low_bit_rate_where_the_reservoir_spans_several_frames() -> Result<()> {
    check_seams(64, Source::Wav)
}

#[test]
fn seams_hold_when_compressed_packets_are_dealt() -> Result<()> {
    check_seams(192, Source::AacMp4)
}

#[test]
fn seams_hold_at_a_low_bit_rate_when_compressed_packets_are_dealt() -> Result<()> {
    check_seams(64, Source::AacMp4)
}

/// 40 s of [`percussive_source`] as stereo AAC in `in.mp4`, with `extra`
/// ffmpeg output options.
fn percussive_mp4(dir: &Path, extra: &[&str]) -> Result<std::path::PathBuf> {
    let source = percussive_source(40);
    let mut args = vec!["-f", "lavfi", "-i", &source, "-ac", "2", "-c:a", "aac"];
    args.extend_from_slice(extra);
    ffmpeg_make(dir, "in.mp4", &args)
}

#[test]
fn a_two_thread_encode_of_a_long_mp4_decodes_to_the_sources_length() -> Result<()> {
    let dir = workdir()?;
    let input = percussive_mp4(dir.path(), &["-b:a", "160k"])?;
    let output = dir.path().join("out.mp3");
    encode(&input, &output, 2, 192)?;
    let decoded = ffmpeg_decode_left(&output)?;
    assert_eq!(decoded.len(), 40 * RATE as usize);
    Ok(())
}

#[test]
fn a_fragmented_mp4_cut_from_a_longer_stream_is_encoded_in_parallel() -> Result<()> {
    // Fragmented MP4 announces no length and its timestamps start at 100 s.
    let dir = workdir()?;
    let fragmented = [
        "-movflags",
        "frag_keyframe+empty_moov+default_base_moof",
        "-output_ts_offset",
        "100",
    ];
    let input = percussive_mp4(dir.path(), &fragmented)?;
    let (parallel, serial) = (dir.path().join("par.mp3"), dir.path().join("ser.mp3"));
    encode(&input, &parallel, 2, 192)?;
    encode(&input, &serial, 1, 192)?;
    assert_ne!(
        std::fs::read(&parallel)?,
        std::fs::read(&serial)?,
        "the parallel path did not run"
    );
    assert_decodes_cleanly(&parallel)?;
    let (par, ser) = (ffmpeg_decode_left(&parallel)?, ffmpeg_decode_left(&serial)?);
    assert_eq!(par.len(), ser.len());
    let (lag, _) = best_lag(&ser, &par, ser.len() / 2, 8_192, 64).context("too short")?;
    assert_eq!(lag, 0, "the parallel encode is shifted");
    let snr = snr_db(&ser, &par, 0..ser.len());
    assert!(snr > 20.0, "parallel against serial: {snr:.1} dB");
    Ok(())
}
