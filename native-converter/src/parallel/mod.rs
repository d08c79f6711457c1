//! Parallel encoding: LAME is the bottleneck (decoding AAC costs a tenth of
//! encoding it), so one thread decodes and deals the audio out in time
//! segments to `threads` encoder threads, and a joiner thread stitches their
//! frames together ([`crate::join`]).
//!
//! Why short segments instead of cutting the file into `threads` halves: the
//! decoder produces audio in time order, so with halves the second encoder
//! could only start once the first half had been decoded and buffered
//! (memory growing with the input). With segments of a few seconds each
//! encoder holds at most one segment, so memory is bounded (≈ 2.3 MiB of PCM
//! per thread at 44.1 kHz stereo) whatever the input's length.
//!
//! Why a segment goes to whichever encoder is free, not round-robin: with a
//! queue per encoder, the decoder could sit blocked on a slow encoder's full
//! queue while the other encoder had finished and starved (measured: 6 % of
//! the wall time on two cores). Here the decoder offers each segment on one
//! rendezvous channel that every idle encoder listens on, and the segment's
//! own channel holds all of it, so handing out a segment waits only for a
//! free encoder, and the memory bound stays one segment per encoder.
//!
//! Each segment's encoder starts [`WARMUP_FRAMES`] before the segment on the
//! global MP3 frame grid and stops [`SEAM_CANDIDATES`] + [`LOOKAHEAD_FRAMES`]
//! after it, so the frames around each seam exist in both neighbours and
//! were encoded with real audio on both sides; the joiner picks the seam.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, Sender, SyncSender};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::convert::{ConvertOptions, Progress};
use crate::encode::{EncodeSettings, Mp3Encoder};
use crate::join::{EncodedSegment, JoinError, Joiner};
use crate::pipeline::AudioSource;
use crate::verify::{CheckedWriter, OutputInfo};
use crate::ConvertError;

/// Frames each segment's encoder runs before its segment.
pub const WARMUP_FRAMES: u64 = 4;
/// Frames at which the joiner may switch from one encoder to the next.
pub const SEAM_CANDIDATES: u64 = 4;
/// Frames of real audio past the last candidate, so that LAME's look-ahead
/// and the MDCT overlap of the frames kept are never fed padding.
pub const LOOKAHEAD_FRAMES: u64 = 3;
/// Length of a segment, in seconds.
const SEGMENT_SECS: f64 = 6.0;
/// Frames per message to an encoder thread.
const BLOCK_FRAMES: usize = 4096;

/// Where segments start and end on the global frame grid (public so that
/// tests can find the seams).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Plan {
    /// Samples per MP3 frame (1152 for MPEG-1 rates, 576 below 32 kHz).
    pub spf: u64,
    /// Frames per segment.
    pub segment_frames: u64,
}

impl Plan {
    /// The plan for an output sample rate.
    pub fn for_rate(out_rate: u32) -> Self {
        let spf = if out_rate >= 32_000 { 1152 } else { 576 };
        let segment_frames = (SEGMENT_SECS * f64::from(out_rate) / spf as f64).ceil() as u64;
        Self {
            spf,
            segment_frames: segment_frames.max(4 * (WARMUP_FRAMES + SEAM_CANDIDATES)),
        }
    }

    /// Seconds below which splitting is not worth it.
    pub(crate) fn min_parallel_secs(&self, out_rate: u32) -> f64 {
        2.0 * (self.segment_frames * self.spf) as f64 / f64::from(out_rate.max(1))
    }

    /// Global frame at which segment `k`'s encoder starts.
    fn first_frame(&self, k: u64) -> u64 {
        (k * self.segment_frames).saturating_sub(if k == 0 { 0 } else { WARMUP_FRAMES })
    }

    /// First sample segment `k`'s encoder does not need (if it is not last).
    fn end_sample(&self, k: u64) -> u64 {
        (self.handover(k) + SEAM_CANDIDATES + LOOKAHEAD_FRAMES) * self.spf
    }

    /// First seam candidate between segments `k` and `k + 1` (a global
    /// frame index; the seam is one of the [`SEAM_CANDIDATES`] frames from here).
    pub fn handover(&self, k: u64) -> u64 {
        (k + 1) * self.segment_frames
    }

    /// Messages a segment's channel must hold so the decoder never waits
    /// on it: every block of the segment, and its end.
    fn channel_len(&self) -> usize {
        let frames =
            (self.segment_frames + WARMUP_FRAMES + SEAM_CANDIDATES + LOOKAHEAD_FRAMES) * self.spf;
        (frames as usize).div_ceil(BLOCK_FRAMES) + 1
    }
}

/// One segment handed to an encoder: where it starts, and its audio.
struct Segment {
    index: u64,
    first_frame: u64,
    audio: Receiver<Block>,
}

/// What a segment's channel carries.
enum Block {
    Pcm(Vec<Vec<f32>>),
    End { last: bool },
}

/// A segment the decoder is cutting: its samples staged until the next
/// block is full, and its channel once an encoder has taken it.
struct OpenSegment {
    index: u64,
    staged: Vec<Vec<f32>>,
    audio: Option<SyncSender<Block>>,
}

/// Why the parallel path stopped.
pub(crate) enum ParallelError {
    /// No seam worked: encode serially instead.
    Seam(String),
    /// Anything else.
    Convert(ConvertError),
}

impl From<ConvertError> for ParallelError {
    fn from(e: ConvertError) -> Self {
        Self::Convert(e)
    }
}

/// Encodes `source` with `threads` encoders into `path`. The joiner thread
/// also runs the output check on the joined frames as it writes them, so
/// decoding the output overlaps with encoding instead of following it.
///
/// # Errors
/// [`ParallelError::Seam`] when the joiner could not join (the caller then
/// encodes serially); otherwise the first real error.
pub(crate) fn encode_parallel(
    mut source: AudioSource,
    path: &Path,
    options: &ConvertOptions,
    threads: usize,
    progress: &mut dyn FnMut(Progress),
) -> Result<(AudioSource, OutputInfo), ParallelError> {
    let plan = Plan::for_rate(source.out_rate);
    let writer = CheckedWriter::create(path, source.out_rate, source.info.channels)?;
    let joined_frames = AtomicU64::new(0);
    let (results_tx, results_rx) = mpsc::channel();
    let (rate, channels) = (source.out_rate, source.info.channels);
    let total_secs = source.total_secs();
    let settings = options.encode;
    let outcome = std::thread::scope(|scope| {
        let joiner = scope.spawn(|| join_all(writer, results_rx, &joined_frames));
        // A rendezvous: a segment is handed out only to an encoder that is
        // free. When the last encoder stops, the receiver goes with it and
        // the decoder's next hand-out fails instead of waiting for ever.
        let (offers, offered) = mpsc::sync_channel::<Segment>(0);
        let offered = Arc::new(Mutex::new(offered));
        for _ in 0..threads {
            let (offered, results) = (Arc::clone(&offered), results_tx.clone());
            scope.spawn(move || encode_segments(&offered, results, rate, channels, settings));
        }
        drop((offered, results_tx));
        let mut report = |done_frames: u64| {
            progress(Progress {
                done_secs: (done_frames * plan.spf) as f64 / f64::from(rate),
                total_secs,
            })
        };
        let dealt = deal(&mut source, &plan, &offers, &joined_frames, &mut report);
        drop(offers);
        while !joiner.is_finished() {
            std::thread::sleep(Duration::from_millis(50));
            report(joined_frames.load(Ordering::Relaxed));
        }
        let joined = joiner
            .join()
            .unwrap_or_else(|_| Err(JoinError::Format(0, "the joiner thread panicked").into()));
        (dealt, joined)
    });
    match outcome {
        (Err(e), _) if !matches!(e, ConvertError::Encoder(_)) => Err(e.into()),
        (_, Err(JoinFailure::Seam(detail))) => Err(ParallelError::Seam(detail)),
        (_, Err(JoinFailure::Convert(e))) => Err(e.into()),
        (Err(e), Ok(_)) => Err(e.into()),
        (Ok(()), Ok(info)) => Ok((source, info)),
    }
}

/// Decodes and deals the audio out, a segment at a time, to free encoders.
///
/// Segments overlap (warm-up and seam frames), so up to two are open at
/// once. Only the earlier one has been handed out; the later one stages its
/// first samples (less than the overlap plus a block) until the earlier one
/// has ended, and is handed out then.
fn deal(
    source: &mut AudioSource,
    plan: &Plan,
    offers: &SyncSender<Segment>,
    joined_frames: &AtomicU64,
    report: &mut dyn FnMut(u64),
) -> Result<(), ConvertError> {
    let send =
        |audio: &SyncSender<Block>, block: Block| audio.send(block).map_err(|_| encoder_gone());
    let mut open: Vec<OpenSegment> = Vec::with_capacity(2);
    let mut next_segment = 0u64;
    let mut pos = 0u64;
    let mut planes = Vec::new();
    let mut last_report = 0.0;
    while source.next(&mut planes)? {
        let n = planes.first().map_or(0, Vec::len) as u64;
        while plan.first_frame(next_segment) * plan.spf < pos + n {
            open.push(OpenSegment {
                index: next_segment,
                staged: vec![Vec::with_capacity(BLOCK_FRAMES); planes.len()],
                audio: None,
            });
            next_segment += 1;
        }
        if let Some(first) = open.first_mut() {
            hand_out(first, plan, offers)?;
        }
        for segment in &mut open {
            let end = plan.end_sample(segment.index);
            let from = (plan.first_frame(segment.index) * plan.spf).max(pos);
            let to = end.min(pos + n);
            if from < to {
                let range = (from - pos) as usize..(to - pos) as usize;
                for (dst, src) in segment.staged.iter_mut().zip(&planes) {
                    dst.extend_from_slice(&src[range.clone()]);
                }
            }
            let full = segment.staged.first().map_or(0, Vec::len) >= BLOCK_FRAMES;
            if let Some(audio) = &segment.audio {
                if full || to == end {
                    send(audio, Block::Pcm(std::mem::take(&mut segment.staged)))?;
                    segment
                        .staged
                        .resize_with(planes.len(), || Vec::with_capacity(BLOCK_FRAMES));
                }
            }
        }
        pos += n;
        while let Some(first) = open.first_mut() {
            if pos < plan.end_sample(first.index) {
                break;
            }
            send(hand_out(first, plan, offers)?, Block::End { last: false })?;
            open.remove(0);
        }
        if source.decoded_secs() - last_report >= 1.0 {
            last_report = source.decoded_secs();
            report(joined_frames.load(Ordering::Relaxed));
        }
    }
    // The first open segment ends the stream; one that only began is never
    // handed out.
    if let Some(mut first) = open.into_iter().next() {
        let staged = std::mem::take(&mut first.staged);
        let audio = hand_out(&mut first, plan, offers)?;
        send(audio, Block::Pcm(staged))?;
        send(audio, Block::End { last: true })?;
    }
    Ok(())
}

/// Hands `segment` to the next free encoder (waiting for one), unless it
/// already has one; returns the channel its audio goes into.
fn hand_out<'a>(
    segment: &'a mut OpenSegment,
    plan: &Plan,
    offers: &SyncSender<Segment>,
) -> Result<&'a SyncSender<Block>, ConvertError> {
    if segment.audio.is_none() {
        let (audio, receiver) = mpsc::sync_channel(plan.channel_len());
        offers
            .send(Segment {
                index: segment.index,
                first_frame: plan.first_frame(segment.index),
                audio: receiver,
            })
            .map_err(|_| encoder_gone())?;
        segment.audio = Some(audio);
    }
    segment.audio.as_ref().ok_or_else(encoder_gone)
}

/// The decoder's error when an encoder thread has stopped (the joiner
/// reports why).
fn encoder_gone() -> ConvertError {
    ConvertError::Encoder("an encoder thread stopped".into())
}

/// An encoder thread: takes the next segment offered, encodes it with a
/// LAME instance of its own, and hands the frames to the joiner; until the
/// decoder is done.
fn encode_segments(
    offered: &Mutex<Receiver<Segment>>,
    results: Sender<Result<EncodedSegment, ConvertError>>,
    rate: u32,
    channels: usize,
    settings: EncodeSettings,
) {
    let plan = Plan::for_rate(rate);
    loop {
        // Only one idle encoder waits on the channel at a time; the others
        // wait for the lock. A poisoned lock means another encoder panicked.
        let next = match offered.lock() {
            Ok(offered) => offered.recv(),
            Err(_) => return,
        };
        let Ok(segment) = next else { return };
        let result = encode_segment(segment, &plan, rate, channels, &settings);
        let failed = matches!(result, Some(Err(_)));
        if let Some(result) = result {
            if results.send(result).is_err() || failed {
                return;
            }
        }
    }
}

/// Encodes one segment; `None` when the decoder dropped it unfinished.
fn encode_segment(
    segment: Segment,
    plan: &Plan,
    rate: u32,
    channels: usize,
    settings: &EncodeSettings,
) -> Option<Result<EncodedSegment, ConvertError>> {
    let mut encoder = match Mp3Encoder::new(rate, channels, settings) {
        Ok(encoder) => encoder,
        Err(e) => return Some(Err(e)),
    };
    let mut bytes = Vec::new();
    while let Ok(block) = segment.audio.recv() {
        match block {
            Block::Pcm(planes) => match encoder.encode(&planes) {
                Ok(encoded) => bytes.extend_from_slice(encoded),
                Err(e) => return Some(Err(e)),
            },
            Block::End { last } => {
                return Some(finish(
                    segment.index,
                    segment.first_frame,
                    encoder,
                    bytes,
                    last,
                    plan,
                ))
            }
        }
    }
    None
}

fn finish(
    index: u64,
    first_frame: u64,
    mut encoder: Mp3Encoder,
    mut bytes: Vec<u8>,
    last: bool,
    plan: &Plan,
) -> Result<EncodedSegment, ConvertError> {
    bytes.extend_from_slice(encoder.flush()?);
    Ok(EncodedSegment {
        index: index as usize,
        first_frame,
        handover_from: (!last).then(|| plan.handover(index)),
        bytes,
        tag: if last { encoder.lame_tag() } else { None },
    })
}

/// How the joiner thread failed.
enum JoinFailure {
    Seam(String),
    Convert(ConvertError),
}

impl From<JoinError> for JoinFailure {
    fn from(e: JoinError) -> Self {
        match e {
            JoinError::Seam(..) => Self::Seam(e.to_string()),
            JoinError::Io(io) => Self::Convert(ConvertError::io("writing the output", io)),
            JoinError::Format(..) => Self::Convert(ConvertError::Encoder(e.to_string())),
        }
    }
}

/// The joiner thread: puts segments back in order, joins them and finishes
/// the output check.
fn join_all(
    writer: CheckedWriter,
    results: Receiver<Result<EncodedSegment, ConvertError>>,
    joined_frames: &AtomicU64,
) -> Result<OutputInfo, JoinFailure> {
    let mut joiner = Joiner::new(writer, SEAM_CANDIDATES);
    let mut waiting = BTreeMap::new();
    let mut next = 0usize;
    while let Ok(result) = results.recv() {
        let seg = result.map_err(JoinFailure::Convert)?;
        waiting.insert(seg.index, seg);
        while let Some(seg) = waiting.remove(&next) {
            let last = seg.handover_from.is_none();
            joined_frames.store(seg.first_frame, Ordering::Relaxed);
            joiner.push(seg)?;
            next += 1;
            if last {
                let (mut writer, tag) = joiner.finish()?;
                writer.flush().map_err(JoinError::Io)?;
                return writer.finish(Some(&tag)).map_err(JoinFailure::Convert);
            }
        }
    }
    Err(JoinFailure::Convert(ConvertError::Encoder(
        "the encoders stopped before the last segment".into(),
    )))
}
