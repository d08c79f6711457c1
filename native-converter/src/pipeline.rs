//! The parts of the conversion both encoding strategies share: the audio
//! source (decode, then resample when MP3 cannot carry the input's rate),
//! the output file, and the one-thread encoder.
//!
//! Keeping the source in one place means the serial and the parallel paths
//! see exactly the same samples, so their outputs differ only where their
//! encoders differ (at the seams).

use std::io::Write;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use crate::convert::{ConvertOptions, Progress};
use crate::decode::{AudioDecoder, AudioInfo, PacketTrack, PcmBlock, TrackReader};
use crate::encode::{mp3_sample_rate, Mp3Encoder};
use crate::resample::StreamResampler;
use crate::verify::{CheckedWriter, OutputInfo};
use crate::ConvertError;

/// Decoded (and, when needed, resampled) audio at an MP3 sample rate.
pub(crate) struct AudioSource {
    decoder: AudioDecoder,
    resampler: Option<StreamResampler>,
    block: PcmBlock,
    finished: bool,
    cancel: Option<Arc<AtomicBool>>,
    /// What the decoder found out about the input track.
    pub info: AudioInfo,
    /// Sample rate of what [`AudioSource::next`] hands out.
    pub out_rate: u32,
}

impl AudioSource {
    /// Opens `input`.
    ///
    /// # Errors
    /// Bad input gives its [`ConvertError`] variant.
    pub(crate) fn open(input: &Path, options: &ConvertOptions) -> Result<Self, ConvertError> {
        let decoder = AudioDecoder::open(input)?;
        let info = decoder.info().clone();
        let out_rate = mp3_sample_rate(info.sample_rate);
        let resampler = if out_rate == info.sample_rate {
            None
        } else {
            Some(StreamResampler::new(
                info.sample_rate,
                out_rate,
                info.channels,
            )?)
        };
        Ok(Self {
            decoder,
            resampler,
            block: PcmBlock::default(),
            finished: false,
            cancel: options.cancel.clone(),
            info,
            out_rate,
        })
    }

    /// Replaces `out` (one `Vec` per channel) with the next samples; may be
    /// empty while the resampler fills up. `Ok(false)` once all is out.
    ///
    /// # Errors
    /// Decode and resample errors; [`ConvertError::Canceled`] once the
    /// cancel flag is set.
    pub(crate) fn next(&mut self, out: &mut Vec<Vec<f32>>) -> Result<bool, ConvertError> {
        if self
            .cancel
            .as_ref()
            .is_some_and(|c| c.load(Ordering::Relaxed))
        {
            return Err(ConvertError::Canceled);
        }
        out.resize_with(self.info.channels, Vec::new);
        out.iter_mut().for_each(Vec::clear);
        if self.finished {
            return Ok(false);
        }
        if self.decoder.next_block(&mut self.block)? {
            match &mut self.resampler {
                Some(rs) => rs.push(&self.block.planes, out)?,
                None => std::mem::swap(out, &mut self.block.planes),
            }
            return Ok(true);
        }
        self.finished = true;
        if let Some(rs) = &mut self.resampler {
            rs.finish(out)?;
        }
        Ok(true)
    }

    /// Seconds of input decoded so far.
    pub(crate) fn decoded_secs(&self) -> f64 {
        self.decoder.frames_emitted() as f64 / f64::from(self.info.sample_rate.max(1))
    }

    /// The same input opened again for dealing its packets to several
    /// decoders, when that gives the same audio ([`AudioDecoder::open_packets`];
    /// never when the audio must be resampled).
    ///
    /// # Errors
    /// As [`AudioSource::open`].
    pub(crate) fn packets(
        &self,
        input: &Path,
    ) -> Result<Option<(TrackReader, PacketTrack)>, ConvertError> {
        if self.resampler.is_some() {
            return Ok(None);
        }
        AudioDecoder::open_packets(input, &self.decoder)
    }

    /// The input's announced duration, if the container says.
    pub(crate) fn total_secs(&self) -> Option<f64> {
        let rate = f64::from(self.info.sample_rate.max(1));
        self.info.expected_frames.map(|n| n as f64 / rate)
    }
}

/// Encodes on the calling thread, one block at a time; the output check
/// decodes each frame as it is written (same thread: `--threads 1` uses one).
///
/// # Errors
/// Any [`ConvertError`].
pub(crate) fn encode_serial(
    mut source: AudioSource,
    path: &Path,
    options: &ConvertOptions,
    progress: &mut dyn FnMut(Progress),
) -> Result<(AudioSource, OutputInfo), ConvertError> {
    let (rate, channels) = (source.out_rate, source.info.channels);
    let mut encoder = Mp3Encoder::new(rate, channels, &options.encode)?;
    let mut writer = CheckedWriter::create(path, rate, channels)?;
    let write_err = |e| ConvertError::io("writing the output", e);
    let total_secs = source.total_secs();
    let mut planes = Vec::new();
    let mut last_report = 0.0;
    while source.next(&mut planes)? {
        writer
            .write_all(encoder.encode(&planes)?)
            .map_err(write_err)?;
        let done_secs = source.decoded_secs();
        if done_secs - last_report >= 1.0 {
            last_report = done_secs;
            progress(Progress {
                done_secs,
                total_secs,
            });
        }
    }
    writer.write_all(encoder.flush()?).map_err(write_err)?;
    let info = writer.finish(encoder.lame_tag().as_deref())?;
    Ok((source, info))
}
