//! Parallel encoding: LAME is the bottleneck, so the audio is cut into time
//! segments that encoder threads take in turn, and a joiner thread stitches
//! their frames together ([`crate::join`]) and runs the output check.
//!
//! Two ways to feed the encoders, chosen per input by [`crate::convert`]:
//! - [`packets`]: the calling thread only demuxes and deals *compressed*
//!   packets; each encoder decodes its own segment. A segment's packets are
//!   a few hundred kilobytes, so segments can be long (fewer seams, fewer
//!   LAME start-ups) without memory growing, and decoding is split too. It
//!   needs exact packet timestamps (AAC in MP4, the usual upload).
//! - [`pcm`]: the calling thread decodes everything and deals PCM. Works for
//!   every input, but a segment's PCM is buffered while the other encoder
//!   is busy, which keeps segments short.
//!
//! A segment goes to whichever encoder is free, not round-robin: with a
//! queue per encoder the dealer could sit blocked on a slow encoder's full
//! queue while the other had finished and starved (measured: 6 % of the wall
//! time on two cores). The dealer offers each segment on one rendezvous
//! channel that every idle encoder listens on, and the segment's own channel
//! holds all of it, so handing out a segment waits only for a free encoder.
//!
//! Each segment's encoder starts [`WARMUP_FRAMES`] before the segment on the
//! global MP3 frame grid and stops [`SEAM_CANDIDATES`] + [`LOOKAHEAD_FRAMES`]
//! after it, so the frames around each seam exist in both neighbours and
//! were encoded with real audio on both sides; the joiner picks the seam.

mod packets;
mod pcm;

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::io::Write;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender, SyncSender};
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub(crate) use packets::encode_packets;
pub(crate) use pcm::encode_pcm;

use crate::convert::Progress;
use crate::encode::Mp3Encoder;
use crate::join::{EncodedSegment, JoinError, Joiner};
use crate::verify::{CheckedWriter, OutputInfo};
use crate::ConvertError;

/// Frames each segment's encoder runs before its segment.
pub const WARMUP_FRAMES: u64 = 4;
/// Frames at which the joiner may switch from one encoder to the next.
pub const SEAM_CANDIDATES: u64 = 4;
/// Frames of real audio past the last candidate, so that LAME's look-ahead
/// and the MDCT overlap of the frames kept are never fed padding.
pub const LOOKAHEAD_FRAMES: u64 = 3;
/// Length of a segment when PCM is dealt, in seconds.
const PCM_SEGMENT_SECS: f64 = 6.0;
/// How often progress is reported while the joiner finishes after the dealer.
const PROGRESS_INTERVAL: Duration = Duration::from_millis(50);
/// Segments planned ahead at most (≈ 40 hours of 15-s segments).
const MAX_PLANNED_SEGMENTS: usize = 10_000;
/// Longest and shortest segment when packets are dealt, in seconds. Longer
/// segments mean fewer seams (each costs ≈ 12 frames of encoding, counted
/// with callgrind: warm-up, seam candidates, look-ahead), but the joiner and the encoders hold a
/// segment's MP3 and its packets: on a 60-minute file peak RSS measured
/// 14.3 MiB at 15 s, 14.9–15.5 MiB at 20 s and 17.6 MiB at 30 s.
/// The shortest bounds the time one encoder may idle at the end while the
/// other finishes the last segment.
const PACKET_SEGMENT_SECS: (f64, f64) = (15.0, 3.0);

/// Where segments start and end on the global frame grid (public so that
/// tests can find the seams).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// Samples per MP3 frame (1152 for MPEG-1 rates, 576 below 32 kHz).
    pub spf: u64,
    /// Frames per segment: the longest a planned one may be, and the length
    /// of those after the plan.
    segment_frames: u64,
    /// Seam positions planned from the input's length: segments shrink
    /// towards the end so that the encoders finish together.
    planned: Vec<u64>,
}

impl Plan {
    /// The plan when PCM is dealt: equal segments of a few seconds.
    pub fn for_rate(out_rate: u32) -> Self {
        let spf = Self::spf(out_rate);
        Self {
            spf,
            segment_frames: Self::frames(PCM_SEGMENT_SECS, out_rate, spf),
            planned: Vec::new(),
        }
    }

    /// The plan when packets are dealt to `threads` encoders: long segments,
    /// each at most 1 / `threads` of what is left, so the last ones are
    /// short and no encoder idles long at the end (guided self-scheduling).
    /// A simulation of two encoders, with a seam costing 0.39 s of audio,
    /// gave 97.2 % of the ideal time for 10 minutes, against 96.4 % with
    /// 1 / (2 × `threads`) and 95.7–97.5 % (by length) with fixed 15 s.
    /// `total_samples` is the input's length, when known.
    pub fn for_packets(out_rate: u32, total_samples: Option<u64>, threads: usize) -> Self {
        let spf = Self::spf(out_rate);
        let longest = Self::frames(PACKET_SEGMENT_SECS.0, out_rate, spf);
        let shortest = Self::frames(PACKET_SEGMENT_SECS.1, out_rate, spf);
        let mut planned = Vec::new();
        if let Some(total) = total_samples.map(|samples| samples.div_ceil(spf)) {
            let mut at = 0;
            // The length comes from the container: a lie must not make the
            // plan itself huge (beyond it, segments go on at the longest).
            while planned.len() < MAX_PLANNED_SEGMENTS {
                let left = total.saturating_sub(at);
                let len = (left / threads.max(1) as u64).clamp(shortest, longest);
                if left < len + shortest {
                    break;
                }
                at += len;
                planned.push(at);
            }
        }
        Self {
            spf,
            segment_frames: longest,
            planned,
        }
    }

    fn spf(out_rate: u32) -> u64 {
        if out_rate >= 32_000 {
            1152
        } else {
            576
        }
    }

    fn frames(secs: f64, out_rate: u32, spf: u64) -> u64 {
        let frames = (secs * f64::from(out_rate) / spf as f64).ceil() as u64;
        frames.max(4 * (WARMUP_FRAMES + SEAM_CANDIDATES))
    }

    /// Seconds below which splitting is not worth it.
    pub(crate) fn min_parallel_secs(out_rate: u32) -> f64 {
        let plan = Self::for_rate(out_rate);
        2.0 * (plan.segment_frames * plan.spf) as f64 / f64::from(out_rate.max(1))
    }

    /// Global frame at which segment `k`'s encoder starts.
    fn first_frame(&self, k: u64) -> u64 {
        match k.checked_sub(1) {
            None => 0,
            Some(previous) => self.handover(previous).saturating_sub(WARMUP_FRAMES),
        }
    }

    /// First sample segment `k`'s encoder does not need (if it is not last).
    fn end_sample(&self, k: u64) -> u64 {
        (self.handover(k) + SEAM_CANDIDATES + LOOKAHEAD_FRAMES) * self.spf
    }

    /// First seam candidate between segments `k` and `k + 1` (a global
    /// frame index; the seam is one of the [`SEAM_CANDIDATES`] frames from here).
    pub fn handover(&self, k: u64) -> u64 {
        match usize::try_from(k).ok().and_then(|i| self.planned.get(i)) {
            Some(&frames) => frames,
            None => {
                let after = k - self.planned.len() as u64;
                self.planned.last().copied().unwrap_or(0) + (after + 1) * self.segment_frames
            }
        }
    }

    /// Samples of a full-length segment with its overlaps (planned segments
    /// are never longer: their lengths are clamped to `segment_frames`).
    fn longest_samples(&self) -> u64 {
        (self.segment_frames + WARMUP_FRAMES + SEAM_CANDIDATES + LOOKAHEAD_FRAMES) * self.spf
    }
}

/// Why the parallel path stopped.
pub(crate) enum ParallelError {
    /// The segments could not be joined (no seam worked, or the input's
    /// timestamps turned out inexact): encode serially instead.
    Seam(String),
    /// Anything else.
    Convert(ConvertError),
}

impl From<ConvertError> for ParallelError {
    fn from(e: ConvertError) -> Self {
        Self::Convert(e)
    }
}

/// How a segment, or the joiner, failed.
pub(crate) enum JoinFailure {
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

impl From<ConvertError> for JoinFailure {
    fn from(e: ConvertError) -> Self {
        Self::Convert(e)
    }
}

/// What an encoder thread sends the joiner for each segment.
type SegmentResult = Result<EncodedSegment, JoinFailure>;

/// The output and the encoders a dealer feeds.
pub(crate) struct Encoders<'a> {
    pub path: &'a Path,
    pub rate: u32,
    pub channels: usize,
    pub threads: usize,
    pub total_secs: Option<f64>,
}

/// Runs `threads` encoder threads (each calling `encode_one` on the
/// segments it takes; `None` when the dealer gave up on a segment) and the
/// joiner, while `deal` hands out segments on the calling thread. The
/// joiner also runs the output check as it writes, so decoding the output
/// overlaps with encoding instead of following it.
///
/// # Errors
/// [`ParallelError::Seam`] when the joiner could not join or a segment was
/// inexact (the caller then encodes serially); otherwise the first real error.
pub(crate) fn run<S, D, E>(
    encoders: Encoders<'_>,
    progress: &mut dyn FnMut(Progress),
    encode_one: E,
    deal: D,
) -> Result<OutputInfo, ParallelError>
where
    S: Send,
    E: Fn(S) -> Option<SegmentResult> + Sync,
    D: FnOnce(&SyncSender<S>, &mut dyn FnMut()) -> Result<(), ParallelError>,
{
    let Encoders {
        path,
        rate,
        channels,
        threads,
        total_secs,
    } = encoders;
    let spf = Plan::spf(rate);
    let writer = CheckedWriter::create(path, rate, channels)?;
    let joined_frames = AtomicU64::new(0);
    let (results_tx, results_rx) = mpsc::channel();
    let encode_one = &encode_one;
    // Nothing is ever sent on `joined_tx`: the joiner drops it when it
    // returns (or panics), which wakes the calling thread at once. Polling
    // `is_finished` between progress reports added up to one report
    // interval (50 ms) to every conversion.
    let (joined_tx, joined_rx) = mpsc::channel::<Infallible>();
    let outcome = std::thread::scope(|scope| {
        let joiner = scope.spawn(|| {
            let _finished = joined_tx;
            join_all(writer, results_rx, &joined_frames)
        });
        // A rendezvous: a segment is handed out only to an encoder that is
        // free. When the last encoder stops, the receiver goes with it and
        // the dealer's next hand-out fails instead of waiting for ever.
        let (offers, offered) = mpsc::sync_channel::<S>(0);
        let offered = Arc::new(Mutex::new(offered));
        for _ in 0..threads {
            let (offered, results) = (Arc::clone(&offered), results_tx.clone());
            scope.spawn(move || encode_segments(&offered, &results, encode_one));
        }
        drop((offered, results_tx));
        let mut report = |done_frames: u64| {
            progress(Progress {
                done_secs: (done_frames * spf) as f64 / f64::from(rate),
                total_secs,
            })
        };
        let mut report_joined = || report(joined_frames.load(Ordering::Relaxed));
        let dealt = deal(&offers, &mut report_joined);
        drop(offers);
        while let Err(RecvTimeoutError::Timeout) = joined_rx.recv_timeout(PROGRESS_INTERVAL) {
            report(joined_frames.load(Ordering::Relaxed));
        }
        let joined = joiner
            .join()
            .unwrap_or_else(|_| Err(JoinError::Format(0, "the joiner thread panicked").into()));
        (dealt, joined)
    });
    match outcome {
        (Err(ParallelError::Convert(e)), _) if !is_encoder_gone(&e) => {
            Err(ParallelError::Convert(e))
        }
        (Err(ParallelError::Seam(detail)), _) | (_, Err(JoinFailure::Seam(detail))) => {
            Err(ParallelError::Seam(detail))
        }
        (_, Err(JoinFailure::Convert(e))) => Err(e.into()),
        (Err(e), Ok(_)) => Err(e),
        (Ok(()), Ok(info)) => Ok(info),
    }
}

/// The dealer's error when an encoder thread has stopped (the joiner
/// reports why).
fn encoder_gone() -> ConvertError {
    ConvertError::Encoder("an encoder thread stopped".into())
}

fn is_encoder_gone(e: &ConvertError) -> bool {
    matches!(e, ConvertError::Encoder(_))
}

/// Offers `segment` to the next free encoder (waiting for one).
fn offer<S>(offers: &SyncSender<S>, segment: S) -> Result<(), ConvertError> {
    offers.send(segment).map_err(|_| encoder_gone())
}

/// An encoder thread: takes the next segment offered and encodes it, until
/// the dealer is done or a segment fails.
fn encode_segments<S>(
    offered: &Mutex<Receiver<S>>,
    results: &Sender<SegmentResult>,
    encode_one: &(impl Fn(S) -> Option<SegmentResult> + Sync),
) {
    loop {
        // Only one idle encoder waits on the channel at a time; the others
        // wait for the lock. A poisoned lock means another encoder panicked.
        let next = match offered.lock() {
            Ok(offered) => offered.recv(),
            Err(_) => return,
        };
        let Ok(segment) = next else { return };
        let Some(result) = encode_one(segment) else {
            continue;
        };
        let failed = result.is_err();
        if results.send(result).is_err() || failed {
            return;
        }
    }
}

/// Where a segment sits in the stream.
#[derive(Debug, Clone, Copy)]
struct SegmentAt {
    /// Position among the segments (0, 1, 2, ...).
    index: u64,
    /// Global frame at which its encoder starts.
    first_frame: u64,
}

impl SegmentAt {
    fn new(index: u64, plan: &Plan) -> Self {
        Self {
            index,
            first_frame: plan.first_frame(index),
        }
    }
}

/// Flushes a segment's encoder and wraps its frames for the joiner.
fn finish(
    at: SegmentAt,
    mut encoder: Mp3Encoder,
    mut bytes: Vec<u8>,
    last: bool,
    plan: &Plan,
) -> SegmentResult {
    bytes.extend_from_slice(encoder.flush()?);
    Ok(EncodedSegment {
        index: at.index as usize,
        first_frame: at.first_frame,
        handover_from: (!last).then(|| plan.handover(at.index)),
        bytes,
        tag: if last { encoder.lame_tag() } else { None },
    })
}

/// The joiner thread: puts segments back in order, joins them and finishes
/// the output check.
fn join_all(
    writer: CheckedWriter,
    results: Receiver<SegmentResult>,
    joined_frames: &AtomicU64,
) -> Result<OutputInfo, JoinFailure> {
    let mut joiner = Joiner::new(writer, SEAM_CANDIDATES);
    let mut waiting = BTreeMap::new();
    let mut next = 0usize;
    while let Ok(result) = results.recv() {
        let seg = result?;
        waiting.insert(seg.index, seg);
        while let Some(seg) = waiting.remove(&next) {
            let last = seg.handover_from.is_none();
            joined_frames.store(seg.first_frame, Ordering::Relaxed);
            joiner.push(seg)?;
            next += 1;
            if last {
                let (mut writer, tag) = joiner.finish()?;
                writer.flush().map_err(JoinError::Io)?;
                return Ok(writer.finish(Some(&tag))?);
            }
        }
    }
    Err(JoinFailure::Convert(ConvertError::Encoder(
        "the encoders stopped before the last segment".into(),
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packet_segments_shrink_towards_the_end() {
        let rate = 44_100;
        let ten_minutes = 600 * u64::from(rate);
        let plan = Plan::for_packets(rate, Some(ten_minutes), 2);
        let lengths: Vec<u64> = (0..plan.planned.len() as u64)
            .map(|k| plan.handover(k) - k.checked_sub(1).map_or(0, |p| plan.handover(p)))
            .collect();
        assert!(lengths.first() > lengths.last(), "{lengths:?}");
        assert!(
            lengths.iter().all(|&len| len <= plan.segment_frames),
            "{lengths:?}"
        );
        let total_frames = ten_minutes.div_ceil(plan.spf);
        let last = plan.handover(plan.planned.len() as u64 - 1);
        let shortest = Plan::frames(PACKET_SEGMENT_SECS.1, rate, plan.spf);
        assert!(
            total_frames - last >= shortest,
            "the last segment is too short"
        );
        assert!(
            total_frames - last < 3 * shortest,
            "the last segment is too long"
        );
        // Beyond the plan (a container that understated its length) segments
        // go on at the longest length.
        let k = plan.planned.len() as u64;
        assert_eq!(plan.handover(k) - plan.handover(k - 1), plan.segment_frames);
    }

    #[test]
    fn a_length_no_file_has_does_not_make_the_plan_huge() {
        let plan = Plan::for_packets(44_100, Some(u64::MAX), 2);
        assert_eq!(plan.planned.len(), MAX_PLANNED_SEGMENTS);
        let k = MAX_PLANNED_SEGMENTS as u64;
        assert_eq!(plan.handover(k) - plan.handover(k - 1), plan.segment_frames);
    }

    #[test]
    fn pcm_segments_are_equal() {
        let plan = Plan::for_rate(48_000);
        assert_eq!(plan.first_frame(0), 0);
        assert_eq!(plan.handover(2) - plan.handover(1), plan.segment_frames);
        assert_eq!(plan.first_frame(3), plan.handover(2) - WARMUP_FRAMES);
    }
}
