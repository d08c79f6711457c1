//! MP3 encoding with LAME (through `mp3lame-encoder`, which builds LAME 3.100
//! from source, so no system library is needed; see `docs/converter.md`).
//!
//! LAME's defaults are kept (quality 3, joint stereo), as ffmpeg keeps them,
//! so our output matches ffmpeg's quality. The encoder always writes a
//! LAME/Info tag: LAME reserves an empty first frame in the stream and hands
//! out the finished tag (with the encoder delay and padding) at the end; the
//! pipeline writes it over that first frame. Decoders that honour the tag
//! (ffmpeg, symphonia, most players) then drop LAME's delay and padding and
//! get exactly the input's samples.

use std::num::NonZeroU32;

use mp3lame_encoder::{Bitrate, Builder, DualPcm, Encoder, FlushGap, MonoPcm, Quality, VbrMode};

use crate::ConvertError;

/// Sample rates MP3 can carry (MPEG-1, MPEG-2 and MPEG-2.5).
pub const MP3_SAMPLE_RATES: [u32; 9] = [
    8_000, 11_025, 12_000, 16_000, 22_050, 24_000, 32_000, 44_100, 48_000,
];

/// Constant or variable bit rate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum RateControl {
    /// Constant bit rate in kbit/s (one of MP3's bit rates).
    Cbr(u16),
    /// LAME VBR quality, 0 (best) to 9 (smallest).
    Vbr(u8),
}

/// How to encode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct EncodeSettings {
    /// Bit-rate mode.
    pub rate: RateControl,
}

impl Default for EncodeSettings {
    /// 192 kbit/s CBR, the service's default.
    fn default() -> Self {
        Self {
            rate: RateControl::Cbr(192),
        }
    }
}

fn bitrate(kbps: u16) -> Option<Bitrate> {
    Some(match kbps {
        8 => Bitrate::Kbps8,
        16 => Bitrate::Kbps16,
        24 => Bitrate::Kbps24,
        32 => Bitrate::Kbps32,
        40 => Bitrate::Kbps40,
        48 => Bitrate::Kbps48,
        64 => Bitrate::Kbps64,
        80 => Bitrate::Kbps80,
        96 => Bitrate::Kbps96,
        112 => Bitrate::Kbps112,
        128 => Bitrate::Kbps128,
        160 => Bitrate::Kbps160,
        192 => Bitrate::Kbps192,
        224 => Bitrate::Kbps224,
        256 => Bitrate::Kbps256,
        320 => Bitrate::Kbps320,
        _ => return None,
    })
}

fn quality(q: u8) -> Option<Quality> {
    Some(match q {
        0 => Quality::Best,
        1 => Quality::SecondBest,
        2 => Quality::NearBest,
        3 => Quality::VeryNice,
        4 => Quality::Nice,
        5 => Quality::Good,
        6 => Quality::Decent,
        7 => Quality::Ok,
        8 => Quality::SecondWorst,
        9 => Quality::Worst,
        _ => return None,
    })
}

impl EncodeSettings {
    /// Constant bit rate.
    ///
    /// # Errors
    /// [`ConvertError::InvalidOption`] when `kbps` is not an MP3 bit rate.
    pub fn cbr(kbps: u16) -> Result<Self, ConvertError> {
        bitrate(kbps).ok_or_else(|| {
            ConvertError::InvalidOption(format!(
                "{kbps} kbit/s is not an MP3 bit rate (8, 16, 24, 32, 40, 48, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320)"
            ))
        })?;
        Ok(Self {
            rate: RateControl::Cbr(kbps),
        })
    }

    /// Variable bit rate at LAME quality `q` (0 best .. 9).
    ///
    /// # Errors
    /// [`ConvertError::InvalidOption`] when `q` is above 9.
    pub fn vbr(q: u8) -> Result<Self, ConvertError> {
        quality(q).ok_or_else(|| {
            ConvertError::InvalidOption(format!("VBR quality {q} is not in 0..=9"))
        })?;
        Ok(Self {
            rate: RateControl::Vbr(q),
        })
    }
}

/// The rate to encode at: the input's when MP3 supports it, else the
/// nearest MP3 rate at or above it (capped at 48 kHz), keeping 44.1 kHz
/// multiples in their family (88.2 kHz → 44.1 kHz, 96 kHz → 48 kHz).
pub fn mp3_sample_rate(input: u32) -> u32 {
    if MP3_SAMPLE_RATES.contains(&input) {
        return input;
    }
    if input > 48_000 {
        return if input.is_multiple_of(11_025) {
            44_100
        } else {
            48_000
        };
    }
    MP3_SAMPLE_RATES
        .iter()
        .copied()
        .find(|r| *r >= input)
        .unwrap_or(48_000)
}

/// A LAME encoder for one stream, writing into an internal buffer.
pub struct Mp3Encoder {
    lame: Encoder,
    channels: usize,
    buf: Vec<u8>,
}

fn lame_error(what: &str, e: impl std::fmt::Display) -> ConvertError {
    ConvertError::Encoder(format!("{what}: {e}"))
}

impl Mp3Encoder {
    /// Builds an encoder for `channels` (1 or 2) at `sample_rate` (an MP3 rate).
    ///
    /// # Errors
    /// [`ConvertError::Encoder`] when LAME rejects the parameters.
    pub fn new(
        sample_rate: u32,
        channels: usize,
        settings: &EncodeSettings,
    ) -> Result<Self, ConvertError> {
        let mut b = Builder::new()
            .ok_or_else(|| ConvertError::Encoder("LAME could not allocate".into()))?;
        let channel_count = u8::try_from(channels)
            .ok()
            .filter(|c| (1..=2).contains(c))
            .ok_or_else(|| {
                ConvertError::Encoder(format!("{channels} channels given to the MP3 encoder"))
            })?;
        b.set_num_channels(channel_count)
            .map_err(|e| lame_error("channels", e))?;
        b.set_sample_rate(sample_rate)
            .map_err(|e| lame_error("sample rate", e))?;
        b.set_output_sample_rate(NonZeroU32::new(sample_rate))
            .map_err(|e| lame_error("output sample rate", e))?;
        match settings.rate {
            RateControl::Cbr(kbps) => {
                let rate = bitrate(kbps)
                    .ok_or_else(|| ConvertError::InvalidOption(format!("bit rate {kbps}")))?;
                b.set_vbr_mode(VbrMode::Off)
                    .map_err(|e| lame_error("CBR", e))?;
                b.set_brate(rate).map_err(|e| lame_error("bit rate", e))?;
            }
            RateControl::Vbr(q) => {
                let q = quality(q)
                    .ok_or_else(|| ConvertError::InvalidOption(format!("VBR quality {q}")))?;
                b.set_vbr_mode(VbrMode::Mtrh)
                    .map_err(|e| lame_error("VBR", e))?;
                b.set_vbr_quality(q)
                    .map_err(|e| lame_error("VBR quality", e))?;
            }
        }
        b.set_to_write_vbr_tag(true)
            .map_err(|e| lame_error("LAME tag", e))?;
        let lame = b.build().map_err(|e| lame_error("starting LAME", e))?;
        Ok(Self {
            lame,
            channels,
            buf: Vec::new(),
        })
    }

    /// Encodes one block (one slice per channel, equal lengths) and returns
    /// the MP3 bytes LAME produced for it (often none: LAME works a frame
    /// behind).
    ///
    /// # Errors
    /// [`ConvertError::Encoder`] if LAME fails.
    pub fn encode(&mut self, planes: &[Vec<f32>]) -> Result<&[u8], ConvertError> {
        self.buf.clear();
        let frames = planes.first().map_or(0, Vec::len);
        if frames == 0 {
            return Ok(&self.buf);
        }
        self.buf
            .reserve(mp3lame_encoder::max_required_buffer_size(frames));
        let result = match (self.channels, planes) {
            (1, [mono, ..]) => self
                .lame
                .encode_to_vec(MonoPcm(mono.as_slice()), &mut self.buf),
            (2, [left, right, ..]) => self.lame.encode_to_vec(
                DualPcm {
                    left: left.as_slice(),
                    right: right.as_slice(),
                },
                &mut self.buf,
            ),
            _ => {
                return Err(ConvertError::Encoder(
                    "block has the wrong number of channels".into(),
                ))
            }
        };
        result.map_err(|e| lame_error("encoding", e))?;
        Ok(&self.buf)
    }

    /// Flushes LAME (pads the last frame) and returns the final bytes.
    ///
    /// # Errors
    /// [`ConvertError::Encoder`] if LAME fails.
    pub fn flush(&mut self) -> Result<&[u8], ConvertError> {
        self.buf.clear();
        self.buf.reserve(7200);
        self.lame
            .flush_to_vec::<FlushGap>(&mut self.buf)
            .map_err(|e| lame_error("flushing", e))?;
        Ok(&self.buf)
    }

    /// The finished LAME/Info tag frame (call after [`Mp3Encoder::flush`]);
    /// it replaces the empty first frame LAME put in the stream.
    pub fn lame_tag(&self) -> Option<Vec<u8>> {
        let size = self.lame.lame_tag_size();
        if size == 0 {
            return None;
        }
        let mut tag = Vec::with_capacity(size);
        self.lame.lame_tag_encode_to_vec(&mut tag).map(|_| tag)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mp3_rates_are_kept_and_others_go_to_the_nearest_family_rate() {
        assert_eq!(mp3_sample_rate(44_100), 44_100);
        assert_eq!(mp3_sample_rate(11_025), 11_025);
        assert_eq!(mp3_sample_rate(96_000), 48_000);
        assert_eq!(mp3_sample_rate(88_200), 44_100);
        assert_eq!(mp3_sample_rate(37_800), 44_100);
        assert_eq!(mp3_sample_rate(6_000), 8_000);
    }

    #[test]
    fn bit_rates_outside_mp3s_table_are_rejected() {
        assert!(EncodeSettings::cbr(192).is_ok());
        assert!(EncodeSettings::cbr(200).is_err());
        assert!(EncodeSettings::vbr(10).is_err());
    }
}
