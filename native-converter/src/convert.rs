//! The streaming pipeline: decode → (resample) → encode → write, one packet
//! at a time, then the LAME tag over the reserved first frame, then the
//! output check.
//!
//! The output is written to `<out>.part` and renamed only once it has passed
//! the check, so a failed or interrupted conversion never leaves a file that
//! looks finished.

use std::fs::{self, File};
use std::io::{BufWriter, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use serde::Serialize;

use crate::decode::{AudioDecoder, PcmBlock};
use crate::encode::{mp3_sample_rate, EncodeSettings, Mp3Encoder};
use crate::resample::StreamResampler;
use crate::verify::check_output;
use crate::ConvertError;

/// Options of one conversion.
#[derive(Debug, Clone, Default)]
pub struct ConvertOptions {
    /// Bit-rate settings.
    pub encode: EncodeSettings,
}

/// Where a conversion is, for progress bars and heartbeats.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Progress {
    /// Seconds of input audio decoded so far.
    pub done_secs: f64,
    /// The input's audio duration, when the container announces it.
    pub total_secs: Option<f64>,
}

/// What a finished conversion reports (the CLI's `--json`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Summary {
    /// Duration of the input's audio track (after priming trim), seconds.
    pub input_duration_secs: f64,
    /// Duration of the output as a gapless decoder sees it, seconds.
    pub output_duration_secs: f64,
    /// Size of the MP3 file.
    pub output_bytes: u64,
    /// Codec of the input's audio track.
    pub input_codec: String,
    /// Sample rate of the input's audio track.
    pub input_sample_rate: u32,
    /// Sample rate of the MP3.
    pub sample_rate: u32,
    /// Channels of the MP3.
    pub channels: usize,
    /// Wall-clock time of the conversion including the check, seconds.
    pub elapsed_secs: f64,
}

fn part_path(output: &Path) -> PathBuf {
    let mut name = output
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_default();
    name.push(".part");
    output.with_file_name(name)
}

/// Converts `input` to an MP3 at `output`, calling `progress` as it goes.
///
/// # Errors
/// Any [`ConvertError`]; on error no file is left at `output`.
pub fn convert_file(
    input: &Path,
    output: &Path,
    options: &ConvertOptions,
    progress: &mut dyn FnMut(Progress),
) -> Result<Summary, ConvertError> {
    let started = Instant::now();
    let part = part_path(output);
    let result =
        encode_to(input, &part, options, progress).and_then(|(input_secs, decoder_info)| {
            let info = check_output(&part, input_secs)?;
            fs::rename(&part, output)
                .map_err(|e| ConvertError::io(format!("renaming to {}", output.display()), e))?;
            let output_bytes = fs::metadata(output)
                .map_err(|e| ConvertError::io("reading the output", e))?
                .len();
            Ok(Summary {
                input_duration_secs: input_secs,
                output_duration_secs: info.duration_secs(),
                output_bytes,
                input_codec: decoder_info.codec,
                input_sample_rate: decoder_info.sample_rate,
                sample_rate: info.sample_rate,
                channels: info.channels,
                elapsed_secs: started.elapsed().as_secs_f64(),
            })
        });
    if result.is_err() {
        // Best effort: the part file may not exist yet.
        let _ = fs::remove_file(&part);
    }
    result
}

/// Writes the MP3 to `path`; returns the input's audio duration and info.
fn encode_to(
    input: &Path,
    path: &Path,
    options: &ConvertOptions,
    progress: &mut dyn FnMut(Progress),
) -> Result<(f64, crate::decode::AudioInfo), ConvertError> {
    let mut decoder = AudioDecoder::open(input)?;
    let info = decoder.info().clone();
    let out_rate = mp3_sample_rate(info.sample_rate);
    let mut resampler = if out_rate == info.sample_rate {
        None
    } else {
        Some(StreamResampler::new(
            info.sample_rate,
            out_rate,
            info.channels,
        )?)
    };
    let mut encoder = Mp3Encoder::new(out_rate, info.channels, &options.encode)?;
    let file = File::create(path)
        .map_err(|e| ConvertError::io(format!("creating {}", path.display()), e))?;
    let mut writer = BufWriter::with_capacity(64 * 1024, file);
    let write_err = |e| ConvertError::io("writing the output", e);

    let rate = f64::from(info.sample_rate);
    let total_secs = info.expected_frames.map(|n| n as f64 / rate);
    let mut block = PcmBlock::default();
    let mut resampled = vec![Vec::new(); info.channels];
    let mut last_report = 0u64;
    while decoder.next_block(&mut block)? {
        let bytes = match &mut resampler {
            Some(rs) => {
                resampled.iter_mut().for_each(Vec::clear);
                rs.push(&block.planes, &mut resampled)?;
                encoder.encode(&resampled)?
            }
            None => encoder.encode(&block.planes)?,
        };
        writer.write_all(bytes).map_err(write_err)?;
        let done = decoder.frames_emitted();
        if done - last_report >= u64::from(info.sample_rate) {
            last_report = done;
            progress(Progress {
                done_secs: done as f64 / rate,
                total_secs,
            });
        }
    }
    if let Some(rs) = &mut resampler {
        resampled.iter_mut().for_each(Vec::clear);
        rs.finish(&mut resampled)?;
        let bytes = encoder.encode(&resampled)?;
        writer.write_all(bytes).map_err(write_err)?;
    }
    writer.write_all(encoder.flush()?).map_err(write_err)?;
    if let Some(tag) = encoder.lame_tag() {
        writer.seek(SeekFrom::Start(0)).map_err(write_err)?;
        writer.write_all(&tag).map_err(write_err)?;
    }
    let file = writer.into_inner().map_err(|e| write_err(e.into_error()))?;
    file.sync_all().map_err(write_err)?;
    let input_secs = decoder.frames_emitted() as f64 / rate;
    progress(Progress {
        done_secs: input_secs,
        total_secs: Some(input_secs),
    });
    Ok((input_secs, info))
}
