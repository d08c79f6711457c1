//! The check every output passes before it is handed out: it must decode from
//! start to end, and its duration must be within half a second of the input
//! audio track's.
//!
//! The check decodes with symphonia in gapless mode, which reads the LAME tag
//! we wrote, so the duration it sees is the one players see.

use std::fs::File;
use std::path::Path;

use symphonia::core::formats::FormatOptions;
use symphonia::core::io::MediaSourceStream;

use crate::decode::guard;
use crate::ConvertError;

/// Largest accepted difference between input and output duration.
pub const MAX_DURATION_DIFF_SECS: f64 = 0.5;

/// What the check found in the output.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OutputInfo {
    /// Frames after the LAME tag's delay and padding are removed.
    pub frames: u64,
    /// Sample rate of the MP3.
    pub sample_rate: u32,
    /// Channels of the MP3.
    pub channels: usize,
}

impl OutputInfo {
    /// Duration in seconds.
    pub fn duration_secs(&self) -> f64 {
        self.frames as f64 / f64::from(self.sample_rate.max(1))
    }
}

fn check_err(detail: impl Into<String>) -> ConvertError {
    ConvertError::OutputCheck(detail.into())
}

/// Decodes the whole MP3 at `path` and reports its length.
///
/// # Errors
/// [`ConvertError::OutputCheck`] when it does not decode cleanly.
pub fn inspect_mp3(path: &Path) -> Result<OutputInfo, ConvertError> {
    let file = File::open(path).map_err(|e| ConvertError::io("opening the output", e))?;
    let stream = MediaSourceStream::new(Box::new(file), Default::default());
    let mut hint = symphonia::core::probe::Hint::new();
    hint.with_extension("mp3");
    let opts = FormatOptions {
        enable_gapless: true,
        ..Default::default()
    };
    let probed = guard("probing the output", || {
        symphonia::default::get_probe().format(&hint, stream, &opts, &Default::default())
    })?
    .map_err(|e| check_err(format!("not readable as MP3: {e}")))?;
    let mut format = probed.format;
    let track = format
        .default_track()
        .ok_or_else(|| check_err("no MP3 stream"))?;
    let params = track.codec_params.clone();
    let mut decoder = symphonia::default::get_codecs()
        .make(&params, &Default::default())
        .map_err(|e| check_err(format!("no MP3 decoder: {e}")))?;
    let mut info = OutputInfo {
        frames: 0,
        sample_rate: params.sample_rate.unwrap_or(0),
        channels: params.channels.map_or(0, |c| c.count()),
    };
    loop {
        let packet = match guard("reading the output", || format.next_packet())? {
            Ok(p) => p,
            Err(symphonia::core::errors::Error::IoError(e))
                if e.kind() == std::io::ErrorKind::UnexpectedEof =>
            {
                break
            }
            Err(e) => return Err(check_err(format!("damaged MP3 stream: {e}"))),
        };
        let decoded = guard("decoding the output", || decoder.decode(&packet))?
            .map_err(|e| check_err(format!("undecodable MP3 frame: {e}")))?;
        info.frames += decoded.frames() as u64;
    }
    Ok(info)
}

/// Checks the output against the input track's duration.
///
/// # Errors
/// [`ConvertError::OutputCheck`] when the output does not decode or its
/// duration is off by more than [`MAX_DURATION_DIFF_SECS`].
pub fn check_output(path: &Path, input_secs: f64) -> Result<OutputInfo, ConvertError> {
    let info = inspect_mp3(path)?;
    let diff = (info.duration_secs() - input_secs).abs();
    if diff > MAX_DURATION_DIFF_SECS {
        return Err(check_err(format!(
            "it lasts {:.3} s but the input's audio lasts {input_secs:.3} s",
            info.duration_secs()
        )));
    }
    Ok(info)
}
