//! Dealing decoded PCM: the path for every input whose packets cannot be
//! dealt ([`super::packets`]).
//!
//! The calling thread decodes in time order, so while one encoder works
//! through its segment the next segment's PCM must already be decoded and
//! waiting for the other: about one segment per encoder is buffered
//! (≈ 2.1 MiB per 6 s at 44.1 kHz stereo), which is why these segments are
//! short.

use std::path::Path;
use std::sync::mpsc::{self, Receiver, SyncSender};

use super::{finish, offer, run, Encoders, ParallelError, Plan, SegmentAt, SegmentResult};
use crate::convert::{ConvertOptions, Progress};
use crate::encode::{EncodeSettings, Mp3Encoder};
use crate::pipeline::AudioSource;
use crate::verify::OutputInfo;
use crate::ConvertError;

/// Frames per message to an encoder thread.
const BLOCK_FRAMES: usize = 4096;

/// One segment handed to an encoder: where it starts, and its audio.
struct Segment {
    at: SegmentAt,
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

/// Encodes `source` with `threads` encoders into `path`.
///
/// # Errors
/// See [`run`].
pub(crate) fn encode_pcm(
    mut source: AudioSource,
    path: &Path,
    options: &ConvertOptions,
    threads: usize,
    progress: &mut dyn FnMut(Progress),
) -> Result<(AudioSource, OutputInfo), ParallelError> {
    let plan = Plan::for_rate(source.out_rate);
    let (rate, channels) = (source.out_rate, source.info.channels);
    let settings = options.encode;
    let encoders = Encoders {
        path,
        rate,
        channels,
        threads,
        total_secs: source.total_secs(),
    };
    let info = run(
        encoders,
        progress,
        |segment| encode_segment(segment, &plan, rate, channels, &settings),
        |offers, report| Ok(deal(&mut source, &plan, offers, report)?),
    )?;
    Ok((source, info))
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
    report: &mut dyn FnMut(),
) -> Result<(), ConvertError> {
    let send = |audio: &SyncSender<Block>, block: Block| {
        audio.send(block).map_err(|_| super::encoder_gone())
    };
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
            report();
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
        // The channel holds every block of the segment, and its end, so the
        // decoder never waits on it.
        let blocks = (plan.longest_samples() as usize).div_ceil(BLOCK_FRAMES) + 1;
        let (audio, receiver) = mpsc::sync_channel(blocks);
        offer(
            offers,
            Segment {
                at: SegmentAt::new(segment.index, plan),
                audio: receiver,
            },
        )?;
        segment.audio = Some(audio);
    }
    segment.audio.as_ref().ok_or_else(super::encoder_gone)
}

/// Encodes one segment; `None` when the decoder dropped it unfinished.
fn encode_segment(
    segment: Segment,
    plan: &Plan,
    rate: u32,
    channels: usize,
    settings: &EncodeSettings,
) -> Option<SegmentResult> {
    let mut encoder = match Mp3Encoder::new(rate, channels, settings) {
        Ok(encoder) => encoder,
        Err(e) => return Some(Err(e.into())),
    };
    let mut bytes = Vec::new();
    while let Ok(block) = segment.audio.recv() {
        match block {
            Block::Pcm(planes) => match encoder.encode(&planes) {
                Ok(encoded) => bytes.extend_from_slice(encoded),
                Err(e) => return Some(Err(e.into())),
            },
            Block::End { last } => return Some(finish(segment.at, encoder, bytes, last, plan)),
        }
    }
    None
}
