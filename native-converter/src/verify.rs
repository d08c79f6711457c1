//! The check every output passes before it is handed out: every frame must
//! decode, and the duration must be within half a second of the input audio
//! track's.
//!
//! The check runs while the output is written, not after: [`CheckedWriter`]
//! hands the bytes going to the file to a symphonia MP3 decoder (in batches
//! of a few seconds), so the finished file is never read back and, with
//! several threads, decoding the output overlaps with encoding (it runs in
//! the joiner thread). On top of what
//! the decoder itself rejects, the check follows the bit reservoir (a frame's
//! main data must lie in bytes that exist and no earlier frame uses; symphonia
//! only logs an underflow) and compares the finished LAME tag with the stream:
//! its frame and byte counts must match, and the duration is the decoded
//! samples minus the tag's encoder delay and padding, as gapless players (and
//! symphonia's gapless mode) compute it.
//!
//! [`inspect_mp3`] decodes a finished file the independent way (symphonia's
//! own MP3 reader in gapless mode); the tests compare the two.

use std::fs::File;
use std::io::{self, BufWriter, Seek, SeekFrom, Write};
use std::path::Path;

use symphonia::core::codecs::{CodecParameters, Decoder, CODEC_TYPE_MP3};
use symphonia::core::formats::{FormatOptions, Packet};
use symphonia::core::io::MediaSourceStream;

use crate::decode::guard;
use crate::mp3_frames::{self, FrameInfo};
use crate::ConvertError;

/// Largest accepted difference between input and output duration.
pub const MAX_DURATION_DIFF_SECS: f64 = 0.5;

/// Bytes gathered before they are decoded (≈ 5 s at 192 kbit/s). Decoding a
/// frame at a time between LAME calls measured ≈ 3 % more CPU than a separate
/// pass (the two working sets evict each other from the caches); in batches
/// the check costs what the separate pass did, without reading the file back.
const BATCH_BYTES: usize = 128 * 1024;

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

/// Decodes an MP3 stream frame by frame as its bytes arrive.
///
/// Feed it the stream from its first byte with [`StreamCheck::push`] (the
/// first frame is the LAME tag's placeholder, which is not decoded), then
/// the finished tag with [`StreamCheck::finish`]. Problems are recorded
/// and reported by `finish`, so writing never fails because of the check.
pub struct StreamCheck {
    decoder: Box<dyn Decoder>,
    /// Bytes received but not yet a whole frame (`buf[start..]`).
    buf: Vec<u8>,
    start: usize,
    /// Length of the first frame, the tag's placeholder (`None` before it).
    placeholder_len: Option<usize>,
    audio_frames: u64,
    audio_bytes: u64,
    decoded: u64,
    /// Reservoir bookkeeping: end of the last main data and of the last data
    /// area, in positions of the audio frames' data areas laid end to end.
    main_end: u64,
    area_end: u64,
    /// Rate and channels the stream must have (what was encoded).
    sample_rate: u32,
    channels: usize,
    failure: Option<String>,
}

impl StreamCheck {
    /// A check for a stream encoded at `sample_rate` with `channels`.
    ///
    /// # Errors
    /// [`ConvertError::OutputCheck`] if no MP3 decoder can be made.
    pub fn new(sample_rate: u32, channels: usize) -> Result<Self, ConvertError> {
        let mut params = CodecParameters::new();
        params
            .for_codec(CODEC_TYPE_MP3)
            .with_sample_rate(sample_rate);
        let decoder = symphonia::default::get_codecs()
            .make(&params, &Default::default())
            .map_err(|e| check_err(format!("no MP3 decoder: {e}")))?;
        Ok(Self {
            decoder,
            buf: Vec::with_capacity(BATCH_BYTES + 16 * 1024),
            start: 0,
            placeholder_len: None,
            audio_frames: 0,
            audio_bytes: 0,
            decoded: 0,
            main_end: 0,
            area_end: 0,
            sample_rate,
            channels,
            failure: None,
        })
    }

    /// Takes the next bytes of the stream; they are decoded in batches of
    /// 128 KiB (the rest by [`StreamCheck::finish`]).
    pub fn push(&mut self, bytes: &[u8]) {
        if self.failure.is_some() {
            return;
        }
        self.buf.extend_from_slice(bytes);
        if self.buf.len() - self.start >= BATCH_BYTES {
            self.decode_available();
        }
    }

    /// Decodes every whole frame received so far.
    fn decode_available(&mut self) {
        while let Some(len) = self.next_frame_len() {
            let frame = self.start..self.start + len;
            self.start += len;
            if let Err(detail) = self.frame(frame) {
                self.failure = Some(detail);
                return;
            }
        }
        // Keep only the carried-over bytes (less than a frame).
        self.buf.drain(..self.start);
        self.start = 0;
    }

    /// Length of the whole frame at `start`, `None` when more bytes are needed
    /// (or the stream is broken: then `failure` is set).
    fn next_frame_len(&mut self) -> Option<usize> {
        let rest = &self.buf[self.start..];
        let head: [u8; 4] = rest.get(..4)?.try_into().ok()?;
        let Some(len) = mp3_frames::frame_len(head) else {
            let at = self.audio_bytes + self.placeholder_len.unwrap_or(0) as u64;
            self.failure = Some(format!("no MP3 frame header at byte {at}"));
            return None;
        };
        (rest.len() >= len).then_some(len)
    }

    fn frame(&mut self, range: std::ops::Range<usize>) -> Result<(), String> {
        let info = mp3_frames::parse_frame(&self.buf[range.clone()])
            .ok_or("a frame's side info is cut off")?;
        if self.placeholder_len.is_none() {
            // LAME's placeholder for the tag, rewritten at the end.
            self.placeholder_len = Some(info.len);
            return Ok(());
        }
        self.follow_reservoir(&info)?;
        let spf = if info.mpeg1 { 1152 } else { 576 };
        let packet = Packet::new_from_slice(0, self.decoded, spf, &self.buf[range]);
        let decoder = &mut self.decoder;
        let decoded = guard("decoding the output", || {
            decoder
                .decode(&packet)
                .map(|buf| (buf.frames(), *buf.spec()))
        })
        .map_err(|e| e.to_string())?
        .map_err(|e| format!("frame {} does not decode: {e}", self.audio_frames))?;
        let (frames, spec) = decoded;
        if spec.rate != self.sample_rate || spec.channels.count() != self.channels {
            return Err(format!(
                "frame {} is {} Hz, {} channels instead of {} Hz, {} channels",
                self.audio_frames,
                spec.rate,
                spec.channels.count(),
                self.sample_rate,
                self.channels
            ));
        }
        self.decoded += frames as u64;
        self.audio_frames += 1;
        self.audio_bytes += info.len as u64;
        Ok(())
    }

    /// A frame's main data must start in bytes already sent that no earlier
    /// frame's main data uses, and end within its own frame.
    fn follow_reservoir(&mut self, f: &FrameInfo) -> Result<(), String> {
        let start = self.area_end.checked_sub(f.main_data_begin as u64);
        let end = start.map(|s| s + f.main_bytes() as u64);
        let area_end = self.area_end + f.data_len() as u64;
        match (start, end) {
            (Some(s), Some(e)) if s >= self.main_end && e <= area_end => {
                self.main_end = e;
                self.area_end = area_end;
                Ok(())
            }
            _ => Err(format!(
                "frame {}'s main data does not fit the bit reservoir",
                self.audio_frames
            )),
        }
    }

    /// Ends the check with the finished LAME tag frame (which replaces the
    /// placeholder) and reports what a gapless decoder will play.
    ///
    /// # Errors
    /// [`ConvertError::OutputCheck`] for any problem found.
    pub fn finish(mut self, tag: &[u8]) -> Result<OutputInfo, ConvertError> {
        self.decode_available();
        if let Some(detail) = self.failure {
            return Err(check_err(detail));
        }
        if self.start != self.buf.len() {
            return Err(check_err("the stream ends inside a frame"));
        }
        if self.audio_frames == 0 {
            return Err(check_err("no audio frames"));
        }
        if Some(tag.len()) != self.placeholder_len {
            return Err(check_err("the LAME tag does not fit its placeholder"));
        }
        let lame = LameTag::parse(tag).ok_or_else(|| check_err("no LAME tag"))?;
        let stream_bytes = self.audio_bytes + tag.len() as u64;
        if lame.frames != self.audio_frames || lame.bytes != stream_bytes {
            return Err(check_err(format!(
                "the LAME tag announces {} frames, {} bytes; the stream has {} frames, {stream_bytes} bytes",
                lame.frames, lame.bytes, self.audio_frames
            )));
        }
        let frames = self
            .decoded
            .checked_sub(lame.delay + lame.padding)
            .ok_or_else(|| check_err("the LAME tag trims more than the stream holds"))?;
        Ok(OutputInfo {
            frames,
            sample_rate: self.sample_rate,
            channels: self.channels,
        })
    }
}

/// The fields of an Info/Xing + LAME tag the check needs.
struct LameTag {
    frames: u64,
    bytes: u64,
    delay: u64,
    padding: u64,
}

impl LameTag {
    fn parse(tag: &[u8]) -> Option<Self> {
        let t = (0..tag.len().min(64).saturating_sub(4))
            .find(|&i| &tag[i..i + 4] == b"Info" || &tag[i..i + 4] == b"Xing")?;
        let field = tag.get(t..t + 144)?;
        // Frames and bytes present (flags 1 and 2), and a LAME extension.
        if field[7] & 3 != 3 || &field[120..124] != b"LAME" {
            return None;
        }
        let be32 = |at: usize| u64::from(u32::from_be_bytes([0, 1, 2, 3].map(|i| field[at + i])));
        let (a, b, c) = (field[141], field[142], field[143]);
        Some(Self {
            frames: be32(8),
            bytes: be32(12),
            delay: (u64::from(a) << 4) | u64::from(b >> 4),
            padding: (u64::from(b & 0x0F) << 8) | u64::from(c),
        })
    }
}

/// The output file, with every byte written also fed to a [`StreamCheck`].
/// The MP3 goes in with `write` (tag placeholder first, as encoders put it);
/// [`CheckedWriter::finish`] writes the finished tag over the placeholder.
pub(crate) struct CheckedWriter {
    out: BufWriter<File>,
    check: StreamCheck,
}

impl CheckedWriter {
    /// Creates `path` for a stream at `sample_rate` with `channels`.
    ///
    /// # Errors
    /// [`ConvertError::Io`], or [`ConvertError::OutputCheck`] if no MP3
    /// decoder can be made.
    pub(crate) fn create(
        path: &Path,
        sample_rate: u32,
        channels: usize,
    ) -> Result<Self, ConvertError> {
        let check = StreamCheck::new(sample_rate, channels)?;
        let file = File::create(path)
            .map_err(|e| ConvertError::io(format!("creating {}", path.display()), e))?;
        Ok(Self {
            out: BufWriter::with_capacity(64 * 1024, file),
            check,
        })
    }

    /// Checks the stream with its finished LAME tag, writes the tag over the
    /// placeholder, flushes and syncs the file.
    ///
    /// # Errors
    /// [`ConvertError::OutputCheck`] when the check fails, [`ConvertError::Io`].
    pub(crate) fn finish(self, tag: Option<&[u8]>) -> Result<OutputInfo, ConvertError> {
        let tag = tag.ok_or_else(|| check_err("the encoder gave no LAME tag"))?;
        let info = self.check.finish(tag)?;
        let io_err = |e| ConvertError::io("writing the output", e);
        let mut out = self.out;
        out.seek(SeekFrom::Start(0)).map_err(io_err)?;
        out.write_all(tag).map_err(io_err)?;
        let file = out.into_inner().map_err(|e| io_err(e.into_error()))?;
        file.sync_all().map_err(io_err)?;
        Ok(info)
    }
}

impl Write for CheckedWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.out.write(buf)?;
        self.check.push(&buf[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

/// Decodes the whole MP3 at `path` with symphonia's own reader (gapless mode,
/// so the LAME tag's delay and padding are applied) and reports its length.
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

/// Checks an MP3 held in memory (tag frame first, as in a file) the way
/// [`CheckedWriter`] checks the output as it is written.
///
/// # Errors
/// [`ConvertError::OutputCheck`] when it does not decode, does not match its
/// LAME tag or its duration is off by more than [`MAX_DURATION_DIFF_SECS`].
pub fn check_mp3_bytes(
    mp3: &[u8],
    sample_rate: u32,
    channels: usize,
    input_secs: f64,
) -> Result<OutputInfo, ConvertError> {
    let tag_len = mp3
        .get(..4)
        .and_then(|h| mp3_frames::frame_len([h[0], h[1], h[2], h[3]]))
        .filter(|len| *len <= mp3.len())
        .ok_or_else(|| check_err("no MP3 frame at the start"))?;
    let mut check = StreamCheck::new(sample_rate, channels)?;
    // The first frame goes in as the placeholder; it is also the tag.
    check.push(mp3);
    let info = check.finish(&mp3[..tag_len])?;
    check_duration(&info, input_secs)?;
    Ok(info)
}

/// Checks the output's duration against the input track's.
///
/// # Errors
/// [`ConvertError::OutputCheck`] when they differ by more than
/// [`MAX_DURATION_DIFF_SECS`].
pub fn check_duration(info: &OutputInfo, input_secs: f64) -> Result<(), ConvertError> {
    if (info.duration_secs() - input_secs).abs() > MAX_DURATION_DIFF_SECS {
        return Err(check_err(format!(
            "it lasts {:.3} s but the input's audio lasts {input_secs:.3} s",
            info.duration_secs()
        )));
    }
    Ok(())
}
