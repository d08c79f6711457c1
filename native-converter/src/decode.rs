//! The decode front end: container probing, track choice, sample-accurate
//! trimming and downmixing.
//!
//! It hands out blocks of planar `f32` (one or two channels) a packet at a
//! time, so the pipeline never holds more than one packet's worth of audio.
//! Packets of other tracks (video) are dropped unread by the decoder. The
//! priming samples an encoder put before the audio (MP3 LAME tags via
//! symphonia's gapless mode, MP4 edit lists via [`crate::mp4_edits`]) are cut,
//! so the output lines up with the source the way ffmpeg presents it.
//!
//! symphonia can panic on some malformed inputs; every call into it is made
//! through [`guard`], which turns a panic into [`ConvertError::Corrupt`], so a
//! hostile upload fails its job instead of crashing the worker.

use std::fs::File;
use std::io::{BufRead, BufReader, ErrorKind, Read};
use std::ops::Range;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;

use symphonia::core::audio::{AudioBuffer, AudioBufferRef, Signal, SignalSpec};
use symphonia::core::codecs::{self, CodecParameters, Decoder, DecoderOptions, CODEC_TYPE_NULL};
use symphonia::core::errors::Error as SymError;
use symphonia::core::formats::{FormatOptions, FormatReader, Packet};
use symphonia::core::io::{MediaSource, MediaSourceStream};
use symphonia::core::meta::MetadataOptions;
use symphonia::core::probe::Hint;

use crate::mix::Downmix;
use crate::mkv_sizes;
use crate::mp4_edits::{self, EditTrim};
use crate::ConvertError;

/// Consecutive undecodable packets after which the input counts as corrupt.
const MAX_CONSECUTIVE_BAD_PACKETS: u32 = 16;
/// Longest silence (frames) put in place of one undecodable packet.
const MAX_CONCEALED_FRAMES: u64 = 1 << 16;

/// What the decoder found out about the audio track.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AudioInfo {
    /// Sample rate of the decoded audio, in Hz.
    pub sample_rate: u32,
    /// Channels in the source track.
    pub source_channels: usize,
    /// Channels handed out (1 or 2).
    pub channels: usize,
    /// Short name of the codec.
    pub codec: String,
    /// Frames the track should yield after trimming, when the container says.
    pub expected_frames: Option<u64>,
}

/// A block of decoded audio: one `Vec` per output channel, equal lengths.
#[derive(Debug, Default, Clone)]
pub struct PcmBlock {
    /// Planar samples, nominally in `[-1, 1]`.
    pub planes: Vec<Vec<f32>>,
}

impl PcmBlock {
    /// Frames in the block.
    pub fn frames(&self) -> usize {
        self.planes.first().map_or(0, Vec::len)
    }

    fn reset(&mut self, channels: usize) {
        self.planes.resize_with(channels, Vec::new);
        self.planes.iter_mut().for_each(Vec::clear);
    }
}

/// Streaming decoder of an input's default audio track.
pub struct AudioDecoder {
    reader: TrackReader,
    packets: PacketDecoder,
    params: CodecParameters,
    info: AudioInfo,
    to_skip: u64,
    remaining: Option<u64>,
    emitted: u64,
    pending: Option<PcmBlock>,
    /// Whether packet timestamps count samples exactly (see
    /// [`AudioDecoder::open_packets`]).
    exact_timestamps: bool,
}

/// The audio track's packets, in order, with symphonia's errors mapped to
/// [`ConvertError`]s.
pub(crate) struct TrackReader {
    format: Box<dyn FormatReader>,
    track_id: u32,
}

/// A codec decoder with what turns its output into the track's PCM: the
/// downmix, a scratch buffer for non-`f32` codecs and concealment of
/// damaged packets.
pub(crate) struct PacketDecoder {
    decoder: Box<dyn Decoder>,
    mix: Downmix,
    scratch: Option<AudioBuffer<f32>>,
    consecutive_bad: u32,
}

/// What every decoder of a track's packets needs, when they are decoded in
/// parallel (the packets come from a [`TrackReader`]).
pub(crate) struct PacketTrack {
    pub params: CodecParameters,
    pub info: AudioInfo,
    /// The downmix every decoder of the track uses.
    pub mix: Downmix,
    /// Samples to drop from the track's start (MP4 edit list).
    pub skip: u64,
    /// Samples to keep after that, if the container says.
    pub length: Option<u64>,
}

/// Runs a call into symphonia, turning a panic into a typed error.
pub(crate) fn guard<T>(what: &str, f: impl FnOnce() -> T) -> Result<T, ConvertError> {
    catch_unwind(AssertUnwindSafe(f)).map_err(|_| ConvertError::Corrupt {
        detail: format!("the decoder gave up while {what}"),
    })
}

fn codec_name(codec: codecs::CodecType) -> String {
    if let Some(desc) = symphonia::default::get_codecs().get_codec(codec) {
        return desc.short_name.to_string();
    }
    let known = [
        (codecs::CODEC_TYPE_OPUS, "opus"),
        (codecs::CODEC_TYPE_ALAC, "alac"),
        (codecs::CODEC_TYPE_AC4, "ac4"),
        (codecs::CODEC_TYPE_EAC3, "eac3"),
        (codecs::CODEC_TYPE_DCA, "dts"),
        (codecs::CODEC_TYPE_SPEEX, "speex"),
        (codecs::CODEC_TYPE_WAVPACK, "wavpack"),
        (codecs::CODEC_TYPE_MP1, "mp1"),
        (codecs::CODEC_TYPE_MP2, "mp2"),
    ];
    known
        .iter()
        .find(|(c, _)| *c == codec)
        .map_or_else(|| format!("with id {codec}"), |(_, n)| (*n).to_string())
}

fn is_audio(params: &CodecParameters) -> bool {
    params.sample_rate.is_some() || params.channels.is_some()
}

/// Whether an I/O error met while reading the input is the input's fault:
/// a seek that the container's own offsets sent out of range (the OS says
/// `EINVAL`, e.g. a Matroska element size past `i64::MAX`) or bytes the
/// reader refused. Real I/O failures (`EIO`, a vanished file) stay
/// [`ConvertError::Io`], which the worker retries; a bad file must not be.
fn input_caused(e: &std::io::Error) -> bool {
    matches!(e.kind(), ErrorKind::InvalidInput | ErrorKind::InvalidData)
}

fn probe_error(err: SymError) -> ConvertError {
    match err {
        SymError::Unsupported(_) => ConvertError::UnsupportedFormat,
        SymError::IoError(e) if e.kind() == ErrorKind::UnexpectedEof => {
            ConvertError::TruncatedContainer
        }
        SymError::IoError(e) if input_caused(&e) => ConvertError::Corrupt {
            detail: format!("the container points outside the file ({e})"),
        },
        SymError::IoError(e) => ConvertError::io("reading the input", e),
        other => ConvertError::Corrupt {
            detail: format!("the container headers are damaged ({other})"),
        },
    }
}

/// Whether the first bytes look like an ISO-BMFF (MP4/MOV/M4A) file.
fn looks_like_mp4(path: &Path) -> bool {
    let mut head = [0u8; 8];
    let ok = File::open(path)
        .and_then(|mut f| f.read_exact(&mut head))
        .is_ok();
    ok && matches!(
        &head[4..8],
        b"ftyp" | b"moov" | b"mdat" | b"wide" | b"free" | b"skip"
    )
}

/// symphonia's probe looks this far for a container's marker.
const PROBE_WINDOW: u64 = (1 << 20) + 16;

/// The EBML header's ID, the start of every Matroska/WebM file.
const EBML_MAGIC: [u8; 4] = [0x1A, 0x45, 0xDF, 0xA3];

/// Refuses inputs that would abort or hang symphonia 0.5 (found by fuzzing):
/// an MP4 whose sample tables claim more entries than the file holds (see
/// [`mp4_edits::has_oversized_table`]), a Matroska element or laced frame
/// larger than the file ([`mkv_sizes::has_oversized_element`]) and
/// [`check_mkv_flac`]'s Matroska loop. Anything else is left to symphonia.
fn check_known_traps(path: &Path) -> Result<(), ConvertError> {
    let mut file = File::open(path).map_err(|e| ConvertError::io("reopening the input", e))?;
    let mut head = Vec::new();
    (&mut file)
        .take(PROBE_WINDOW)
        .read_to_end(&mut head)
        .map_err(|e| ConvertError::io("reading the input", e))?;
    check_mkv_flac(path, &head)?;
    if let Some(ebml) = head.windows(4).position(|w| w == EBML_MAGIC) {
        let mut reader = BufReader::with_capacity(1 << 16, &mut file);
        if let Ok(true) = mkv_sizes::has_oversized_element(&mut reader, ebml as u64) {
            return Err(ConvertError::Corrupt {
                detail: "a Matroska element claims more bytes than the file holds".into(),
            });
        }
    }
    let Some(start) = mp4_edits::probe_start(&head) else {
        return Ok(());
    };
    match mp4_edits::has_oversized_table(&mut file, start) {
        Ok(true) => Err(ConvertError::Corrupt {
            detail: "an MP4 sample table claims more entries than the file holds".into(),
        }),
        Ok(false) | Err(_) => Ok(()),
    }
}

/// Refuses a Matroska file that would make symphonia 0.5 spin forever
/// (found by fuzzing): its FLAC `CodecPrivate` reader skips a first
/// metadata block that is not STREAMINFO without reading the next header,
/// so an empty one (`fLaC`, type ≠ 0, length 0) loops for ever. Only files
/// with an EBML header in the probe window are scanned.
fn check_mkv_flac(path: &Path, head: &[u8]) -> Result<(), ConvertError> {
    if !head.windows(4).any(|w| w == EBML_MAGIC) {
        return Ok(());
    }
    let file = File::open(path).map_err(|e| ConvertError::io("reopening the input", e))?;
    let mut reader = BufReader::with_capacity(1 << 16, file);
    let mut window: Vec<u8> = Vec::new();
    loop {
        let buf = reader
            .fill_buf()
            .map_err(|e| ConvertError::io("reading the input", e))?;
        if buf.is_empty() {
            return Ok(());
        }
        let read = buf.len();
        window.extend_from_slice(buf);
        reader.consume(read);
        let endless = window
            .windows(8)
            .any(|w| w[..4] == *b"fLaC" && w[4] & 0x7f != 0 && w[5..8] == [0, 0, 0]);
        if endless {
            return Err(ConvertError::Corrupt {
                detail: "the FLAC header in the Matroska track is damaged".into(),
            });
        }
        window.drain(..window.len().saturating_sub(7));
    }
}

impl AudioDecoder {
    /// Opens a media file and prepares its default audio track.
    ///
    /// # Errors
    /// Every kind of bad input gives its own [`ConvertError`] variant.
    pub fn open(path: &Path) -> Result<Self, ConvertError> {
        let mut this = Self::open_unprimed(path)?;
        this.prime()?;
        Ok(this)
    }

    /// [`AudioDecoder::open`] without decoding anything yet.
    fn open_unprimed(path: &Path) -> Result<Self, ConvertError> {
        let file = File::open(path)
            .map_err(|e| ConvertError::io(format!("opening {}", path.display()), e))?;
        let len = file
            .metadata()
            .map_err(|e| ConvertError::io(format!("reading {}", path.display()), e))?
            .len();
        if len == 0 {
            return Err(ConvertError::Empty);
        }
        check_known_traps(path)?;
        let extension = path.extension().and_then(|e| e.to_str());
        let mut this = Self::from_source(Box::new(file), extension)?;
        if looks_like_mp4(path) {
            let mut file =
                File::open(path).map_err(|e| ConvertError::io("reopening the input", e))?;
            // An unreadable edit list only costs alignment, not the conversion.
            if let Ok(Some(trim)) = mp4_edits::audio_trim(
                &mut file,
                this.reader.track_id as usize,
                this.info.sample_rate,
            ) {
                this.apply_edit(trim);
            }
            let sample_rate = this.params.sample_rate.unwrap_or(0);
            this.exact_timestamps = this.params.codec == codecs::CODEC_TYPE_AAC
                && sample_rate > 0
                && this.params.time_base
                    == Some(symphonia::core::units::TimeBase::new(1, sample_rate));
        }
        Ok(this)
    }

    /// Opens media from any source (used by [`AudioDecoder::open`] and by the
    /// fuzz tests). `extension` is a hint only. No MP4 edit list is applied
    /// and nothing is decoded yet: call [`AudioDecoder::next_block`].
    ///
    /// # Errors
    /// See [`AudioDecoder::open`].
    pub fn from_source(
        source: Box<dyn MediaSource>,
        extension: Option<&str>,
    ) -> Result<Self, ConvertError> {
        let stream = MediaSourceStream::new(source, Default::default());
        let mut hint = Hint::new();
        if let Some(ext) = extension {
            hint.with_extension(ext);
        }
        let format_opts = FormatOptions {
            enable_gapless: true,
            ..Default::default()
        };
        let probed = guard("reading the container", || {
            symphonia::default::get_probe().format(
                &hint,
                stream,
                &format_opts,
                &MetadataOptions::default(),
            )
        })?
        .map_err(probe_error)?;
        let format = probed.format;
        let track = format
            .tracks()
            .iter()
            .find(|t| is_audio(&t.codec_params))
            .ok_or(ConvertError::NoAudioTrack)?;
        let params = track.codec_params.clone();
        let track_id = track.id;
        if params.codec == CODEC_TYPE_NULL
            || symphonia::default::get_codecs()
                .get_codec(params.codec)
                .is_none()
        {
            return Err(ConvertError::UnsupportedCodec {
                codec: codec_name(params.codec),
            });
        }
        let source_channels = params.channels.map_or(0, |c| c.count());
        let mix = Downmix::for_layout(params.channels.unwrap_or_default(), source_channels);
        let packets = PacketDecoder::new(&params, mix)?;
        let info = AudioInfo {
            sample_rate: params.sample_rate.unwrap_or(0),
            source_channels,
            channels: packets.mix.out_channels(),
            codec: codec_name(params.codec),
            // Fragmented MP4 announces 0 frames in its empty `moov`.
            expected_frames: params.n_frames.filter(|&n| n > 0),
        };
        Ok(Self {
            reader: TrackReader { format, track_id },
            packets,
            params,
            info,
            to_skip: 0,
            remaining: None,
            emitted: 0,
            pending: None,
            exact_timestamps: false,
        })
    }

    /// Opens `path` for decoding in parallel ([`crate::parallel`]): packets
    /// can be dealt to several decoders only when each packet's timestamp is
    /// its first sample's exact position and a decoder needs only a few
    /// packets before a position to produce the same samples there as one
    /// that decoded from the start. That holds for AAC in MP4 (timestamps
    /// from the sample table, 1024 samples per packet, one frame of MDCT
    /// overlap); `None` for anything else, which is decoded on one thread.
    ///
    /// `primed` is the same input opened by [`AudioDecoder::open`]: its
    /// first block fixed the channel layout, which every decoder must share.
    ///
    /// # Errors
    /// As [`AudioDecoder::open`].
    pub(crate) fn open_packets(
        path: &Path,
        primed: &AudioDecoder,
    ) -> Result<Option<(TrackReader, PacketTrack)>, ConvertError> {
        if !primed.exact_timestamps {
            return Ok(None);
        }
        // The same file, so the same track, codec and timestamps as `primed`.
        let this = Self::open_unprimed(path)?;
        // Positions are computed in i64; a trim beyond any real file's
        // length (a hostile edit list) stays on one thread.
        let sane = |n: u64| n < 1 << 40;
        if !sane(this.to_skip) || !this.remaining.is_none_or(sane) {
            return Ok(None);
        }
        let track = PacketTrack {
            params: this.params,
            info: primed.info.clone(),
            mix: primed.packets.mix.clone(),
            skip: this.to_skip,
            length: this.remaining,
        };
        Ok(Some((this.reader, track)))
    }

    fn apply_edit(&mut self, trim: EditTrim) {
        self.to_skip = trim.skip;
        self.remaining = trim.length;
        if trim.length.is_some() {
            self.info.expected_frames = trim.length;
        } else if let Some(n) = self.info.expected_frames {
            self.info.expected_frames = Some(n.saturating_sub(trim.skip));
        }
    }

    /// Decodes the first block so that the real sample rate and channel
    /// layout are known before the encoder is built.
    fn prime(&mut self) -> Result<(), ConvertError> {
        let mut first = PcmBlock::default();
        if !self.next_block(&mut first)? {
            return Err(ConvertError::NoAudio);
        }
        self.pending = Some(first);
        Ok(())
    }

    /// The audio track's properties.
    pub fn info(&self) -> &AudioInfo {
        &self.info
    }

    /// Frames handed out so far.
    pub fn frames_emitted(&self) -> u64 {
        self.emitted
    }

    /// Fills `out` with the next block of audio. Returns `Ok(false)` at the end
    /// of the track (then `out` is empty).
    ///
    /// # Errors
    /// [`ConvertError::Truncated`] when the file ends early,
    /// [`ConvertError::Corrupt`] when packets cannot be decoded.
    pub fn next_block(&mut self, out: &mut PcmBlock) -> Result<bool, ConvertError> {
        if let Some(pending) = self.pending.take() {
            *out = pending;
            return Ok(true);
        }
        out.reset(self.info.channels);
        loop {
            if self.remaining == Some(0) {
                return Ok(false);
            }
            let Some(packet) = self.reader.next_packet()? else {
                check_complete(&self.info, self.emitted)?;
                return Ok(false);
            };
            let (to_skip, remaining) = (&mut self.to_skip, &mut self.remaining);
            let first = self.emitted == 0;
            self.packets
                .decode(&packet, &mut self.info, first, out, |frames| {
                    trim(to_skip, remaining, frames)
                })?;
            if out.frames() > 0 {
                self.emitted += out.frames() as u64;
                return Ok(true);
            }
        }
    }
}

/// Fails when a track that announced its length ended well before it.
pub(crate) fn check_complete(info: &AudioInfo, emitted: u64) -> Result<(), ConvertError> {
    let rate = f64::from(info.sample_rate.max(1));
    if let Some(expected) = info.expected_frames {
        // Allow a little slack for containers whose announced length is
        // an estimate; a cut-off file misses far more than this.
        let slack = u64::from(info.sample_rate) / 4;
        if emitted + slack < expected {
            return Err(ConvertError::Truncated {
                decoded_secs: emitted as f64 / rate,
                expected_secs: expected as f64 / rate,
            });
        }
    }
    Ok(())
}

/// The part of a packet's `frames` samples kept after cutting priming
/// (`to_skip`) and the tail past `remaining`; both are counted down.
fn trim(to_skip: &mut u64, remaining: &mut Option<u64>, frames: usize) -> Range<usize> {
    let skip = (*to_skip).min(frames as u64) as usize;
    *to_skip -= skip as u64;
    let mut end = frames;
    if let Some(left) = remaining {
        end = end.min(skip + (*left).min(usize::MAX as u64) as usize);
        *left -= (end - skip) as u64;
    }
    skip..end.max(skip)
}

impl TrackReader {
    /// The track's next packet; `None` at the end of the stream.
    ///
    /// # Errors
    /// [`ConvertError::Corrupt`] for a damaged container,
    /// [`ConvertError::Io`] when reading fails.
    pub(crate) fn next_packet(&mut self) -> Result<Option<Packet>, ConvertError> {
        loop {
            let packet = match guard("reading a packet", || self.format.next_packet())? {
                Ok(packet) => packet,
                Err(SymError::IoError(e)) if e.kind() == ErrorKind::UnexpectedEof => {
                    return Ok(None)
                }
                Err(SymError::ResetRequired) => return Ok(None),
                Err(SymError::IoError(e)) if input_caused(&e) => {
                    return Err(ConvertError::Corrupt {
                        detail: format!("the container points outside the file ({e})"),
                    })
                }
                Err(SymError::IoError(e)) => return Err(ConvertError::io("reading the input", e)),
                Err(e) => {
                    return Err(ConvertError::Corrupt {
                        detail: format!("the container is damaged ({e})"),
                    })
                }
            };
            if packet.track_id() == self.track_id {
                return Ok(Some(packet));
            }
        }
    }
}

impl PacketDecoder {
    /// A decoder for the track `params` describes, mixing with `mix`.
    ///
    /// # Errors
    /// [`ConvertError::UnsupportedCodec`] when symphonia has no decoder.
    pub(crate) fn new(params: &CodecParameters, mix: Downmix) -> Result<Self, ConvertError> {
        let decoder = guard("starting the audio decoder", || {
            symphonia::default::get_codecs().make(params, &DecoderOptions::default())
        })?
        .map_err(|e| ConvertError::UnsupportedCodec {
            codec: format!("{} ({e})", codec_name(params.codec)),
        })?;
        Ok(Self {
            decoder,
            mix,
            scratch: None,
            consecutive_bad: 0,
        })
    }

    /// Decodes `packet` and mixes the samples `keep(frames)` selects into
    /// `out` (left untouched when none are kept); returns how many samples
    /// the packet held. A damaged packet becomes silence of its duration,
    /// up to [`MAX_CONSECUTIVE_BAD_PACKETS`] in a row. `first` lets the first
    /// packet correct the channel count the container announced in `info`.
    ///
    /// # Errors
    /// [`ConvertError::Corrupt`] and [`ConvertError::UnsupportedLayout`].
    pub(crate) fn decode(
        &mut self,
        packet: &Packet,
        info: &mut AudioInfo,
        first: bool,
        out: &mut PcmBlock,
        keep: impl FnOnce(usize) -> Range<usize>,
    ) -> Result<usize, ConvertError> {
        let decoder = &mut self.decoder;
        let decoded = match guard("decoding audio", || decoder.decode(packet))? {
            Ok(decoded) => decoded,
            Err(SymError::DecodeError(_)) | Err(SymError::IoError(_)) => {
                self.consecutive_bad += 1;
                if self.consecutive_bad > MAX_CONSECUTIVE_BAD_PACKETS {
                    return Err(ConvertError::Corrupt {
                        detail: format!(
                            "{} audio packets in a row could not be decoded",
                            self.consecutive_bad
                        ),
                    });
                }
                // Keep the timeline: a damaged packet becomes silence.
                let frames = packet.dur().min(MAX_CONCEALED_FRAMES) as usize;
                let silence = vec![0.0f32; frames];
                let planes: Vec<&[f32]> = (0..info.channels).map(|_| &silence[..]).collect();
                let mix = Downmix::for_layout(Default::default(), planes.len());
                mix_kept(&mix, &planes, keep(frames), out);
                return Ok(frames);
            }
            Err(e) => {
                return Err(ConvertError::Corrupt {
                    detail: format!("the audio stream cannot be decoded ({e})"),
                })
            }
        };
        self.consecutive_bad = 0;
        let spec = *decoded.spec();
        check_spec(info, &mut self.mix, first, &spec)?;
        let frames = decoded.frames();
        let planes: Vec<&[f32]> = match &decoded {
            // Most decoders (AAC, Vorbis, MP3) already give f32: read their
            // buffer in place instead of copying it.
            AudioBufferRef::F32(buf) => (0..spec.channels.count()).map(|c| buf.chan(c)).collect(),
            _ => {
                let scratch = match &mut self.scratch {
                    Some(buf) if buf.capacity() >= frames && *buf.spec() == spec => buf,
                    slot => slot.insert(AudioBuffer::new(
                        decoded.capacity().max(frames) as u64,
                        spec,
                    )),
                };
                decoded.convert(scratch);
                (0..spec.channels.count())
                    .map(|c| scratch.chan(c))
                    .collect()
            }
        };
        mix_kept(&self.mix, &planes, keep(frames), out);
        Ok(frames)
    }
}

/// Checks a decoded buffer's layout against the track's; the first buffer
/// may correct what the container said.
fn check_spec(
    info: &mut AudioInfo,
    mix: &mut Downmix,
    first: bool,
    spec: &SignalSpec,
) -> Result<(), ConvertError> {
    let count = spec.channels.count();
    if spec.rate == 0 || count == 0 {
        return Err(ConvertError::UnsupportedLayout {
            detail: format!("{} Hz, {count} channels", spec.rate),
        });
    }
    if first && info.source_channels != count {
        // The container did not say (or was wrong): trust the decoder.
        *mix = Downmix::for_layout(spec.channels, count);
        info.source_channels = count;
        info.channels = mix.out_channels();
    }
    if info.sample_rate == 0 {
        info.sample_rate = spec.rate;
    }
    if spec.rate != info.sample_rate || count != info.source_channels {
        return Err(ConvertError::UnsupportedLayout {
            detail: format!(
                "the stream changes from {} Hz, {} channels to {} Hz, {count} channels",
                info.sample_rate, info.source_channels, spec.rate
            ),
        });
    }
    Ok(())
}

/// Mixes `planes[..][kept]` into `out`, if anything is kept.
fn mix_kept(mix: &Downmix, planes: &[&[f32]], kept: Range<usize>, out: &mut PcmBlock) {
    if !kept.is_empty() {
        out.reset_keep(mix.out_channels());
        mix.mix_into(planes, kept, &mut out.planes);
    }
}

impl PcmBlock {
    fn reset_keep(&mut self, channels: usize) {
        if self.planes.len() != channels {
            self.planes.resize_with(channels, Vec::new);
        }
    }
}
