//! The conversion as callers see it: decode → (resample) → encode → write,
//! streaming, on one thread ([`crate::pipeline`]) or, for inputs long enough
//! to be worth it, with parallel segment encoders ([`crate::parallel`]).
//! The output check ([`crate::verify`]) decodes every frame as it is written
//! and ends with the LAME tag and duration comparison.
//!
//! The output is written to `<out>.part` and renamed only once it has passed
//! the check, so a failed or interrupted conversion never leaves a file that
//! looks finished.

use std::fs;
use std::num::NonZeroUsize;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Instant;

use serde::{Deserialize, Serialize};

use crate::decode::AudioInfo;
use crate::encode::EncodeSettings;
use crate::parallel::{encode_packets, encode_pcm, ParallelError, Plan};
use crate::pipeline::{encode_serial, AudioSource};
use crate::verify::{check_duration, OutputInfo};
use crate::ConvertError;

/// Options of one conversion.
#[derive(Debug, Clone, Default)]
pub struct ConvertOptions {
    /// Bit-rate settings.
    pub encode: EncodeSettings,
    /// Encoder threads; `None` means one per available core. Inputs shorter
    /// than two segments (about 12 s) are always encoded on one thread.
    pub threads: Option<NonZeroUsize>,
    /// Set it to stop a running conversion: it then returns
    /// [`ConvertError::Canceled`] (the worker uses this when its lease is lost).
    pub cancel: Option<Arc<AtomicBool>>,
}

/// Where a conversion is, for progress bars and heartbeats.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Progress {
    /// Seconds of input audio decoded so far.
    pub done_secs: f64,
    /// The input's audio duration, when the container announces it.
    pub total_secs: Option<f64>,
}

/// What a finished conversion reports (the CLI's `--json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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
        encode_to(input, &part, options, progress).and_then(|(input_secs, decoder_info, info)| {
            check_duration(&info, input_secs)?;
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

/// Writes the MP3 to `path` (checking it as it goes); returns the input's
/// audio duration and info, and what the check found in the output.
fn encode_to(
    input: &Path,
    path: &Path,
    options: &ConvertOptions,
    progress: &mut dyn FnMut(Progress),
) -> Result<(f64, AudioInfo, OutputInfo), ConvertError> {
    let source = AudioSource::open(input, options)?;
    let threads = options.threads.map_or_else(
        || std::thread::available_parallelism().map_or(1, NonZeroUsize::get),
        NonZeroUsize::get,
    );
    let long_enough = source
        .total_secs()
        .is_none_or(|secs| secs >= Plan::min_parallel_secs(source.out_rate));
    let parallel = if threads < 2 || !long_enough {
        Err(source)
    } else if let Some((reader, track)) = source.packets(input)? {
        drop(source);
        Ok(
            encode_packets(reader, track, path, options, threads, progress).map(|done| {
                let secs = done.input_frames as f64 / f64::from(done.info.sample_rate.max(1));
                (secs, done.info, done.output)
            }),
        )
    } else {
        Ok(encode_pcm(source, path, options, threads, progress)
            .map(|(source, output)| (source.decoded_secs(), source.info, output)))
    };
    let source = match parallel {
        Ok(Ok(done)) => return Ok(finished(done, progress)),
        Ok(Err(ParallelError::Convert(e))) => return Err(e),
        Ok(Err(ParallelError::Seam(detail))) => {
            tracing::warn!(%detail, "parallel encoding failed; encoding on one thread");
            AudioSource::open(input, options)?
        }
        Err(source) => source,
    };
    let (source, output) = encode_serial(source, path, options, progress)?;
    Ok(finished(
        (source.decoded_secs(), source.info, output),
        progress,
    ))
}

/// Reports the end of a conversion and passes its result on.
fn finished(
    done: (f64, AudioInfo, OutputInfo),
    progress: &mut dyn FnMut(Progress),
) -> (f64, AudioInfo, OutputInfo) {
    progress(Progress {
        done_secs: done.0,
        total_secs: Some(done.0),
    });
    done
}
