//! Dealing compressed packets: the calling thread only demuxes; each encoder
//! thread decodes the packets of its own segment and encodes them.
//!
//! A packet goes to every segment whose samples (with the encoder's warm-up
//! and the seam overlap) it holds, plus [`PREROLL_SAMPLES`] before: a fresh
//! decoder's first packet lacks the MDCT overlap of the one before it, so a
//! segment decodes a little early and throws that away. After it, the
//! segment's decoder gives the same samples as one that decoded from the
//! start (tested bit for bit), except in AAC's noise-substituted (PNS)
//! bands, which are random noise by definition and differ between any two
//! decoders.
//!
//! Sample positions come from the packets' timestamps, so this path is only
//! taken when they count samples exactly ([`AudioDecoder::open_packets`]);
//! a gap in them, or a packet that decodes to another length than its
//! timestamps say, turns the conversion over to one thread.
//!
//! [`AudioDecoder::open_packets`]: crate::decode::AudioDecoder::open_packets

use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, SyncSender};

use symphonia::core::formats::Packet;

use super::{
    finish, offer, run, Encoders, JoinFailure, ParallelError, Plan, SegmentAt, SegmentResult,
};
use crate::convert::{ConvertOptions, Progress};
use crate::decode::{check_complete, AudioInfo, PacketDecoder, PacketTrack, PcmBlock, TrackReader};
use crate::encode::Mp3Encoder;
use crate::verify::OutputInfo;
use crate::ConvertError;

/// Samples decoded before a segment's first and thrown away: AAC's MDCT
/// overlaps each 1024-sample frame with the one before, so two packets
/// restore a decoder's state.
const PREROLL_SAMPLES: i64 = 2048;

/// One segment handed to an encoder: where it starts, and its packets.
struct Segment {
    at: SegmentAt,
    packets: Receiver<Message>,
}

/// What a segment's channel carries.
enum Message {
    Packet {
        /// Position of the packet's first sample in the output's timeline
        /// (negative for priming the container says to cut).
        start: i64,
        packet: Packet,
        /// The track's last packet, whose timestamps may understate it.
        last_of_track: bool,
    },
    End {
        last: bool,
    },
}

/// A segment the dealer is filling: its packets staged until an encoder
/// takes it, then its channel.
struct OpenSegment {
    index: u64,
    staged: Vec<Message>,
    packets: Option<SyncSender<Message>>,
}

/// What a conversion through this path found out about its input.
pub(crate) struct PacketsDone {
    /// The track's properties.
    pub info: AudioInfo,
    /// Samples of input audio (after the container's trim).
    pub input_frames: u64,
    /// What the output check found.
    pub output: OutputInfo,
}

/// What every segment's decoder and encoder share.
struct Shared<'a> {
    track: &'a PacketTrack,
    plan: &'a Plan,
    options: &'a ConvertOptions,
    /// One past the last input sample any segment kept.
    input_end: &'a AtomicU64,
}

/// Encodes `track`, its packets read from `reader`, with `threads` encoders
/// into `path`.
///
/// # Errors
/// See [`run`].
pub(crate) fn encode_packets(
    mut reader: TrackReader,
    track: PacketTrack,
    path: &Path,
    options: &ConvertOptions,
    threads: usize,
    progress: &mut dyn FnMut(Progress),
) -> Result<PacketsDone, ParallelError> {
    let rate = track.info.sample_rate;
    let plan = Plan::for_packets(rate, track.info.expected_frames, threads);
    let encoders = Encoders {
        path,
        rate,
        channels: track.info.channels,
        threads,
        total_secs: track
            .info
            .expected_frames
            .map(|n| n as f64 / f64::from(rate.max(1))),
    };
    let input_end = AtomicU64::new(0);
    let shared = Shared {
        track: &track,
        plan: &plan,
        options,
        input_end: &input_end,
    };
    let output = run(
        encoders,
        progress,
        |segment| encode_segment(segment, &shared),
        |offers, report| {
            let mut dealer = Dealer {
                plan: &plan,
                skip: track.skip as i64,
                origin: None,
                offers,
                open: Vec::with_capacity(2),
                next_segment: 0,
            };
            dealer.deal(&mut reader, &track, options.cancel.as_deref(), report)
        },
    )?;
    Ok(PacketsDone {
        info: track.info,
        input_frames: input_end.load(Ordering::Relaxed),
        output,
    })
}

/// The calling thread's side: reads packets and deals them out.
struct Dealer<'a> {
    plan: &'a Plan,
    skip: i64,
    /// The first packet's timestamp: sample 0 of the track (fragmented MP4
    /// cut from a longer stream may not start at 0).
    origin: Option<u64>,
    offers: &'a SyncSender<Segment>,
    /// Segments with packets dealt and no end yet; only the first may be
    /// without an encoder (its packets staged).
    open: Vec<OpenSegment>,
    next_segment: u64,
}

impl Dealer<'_> {
    fn deal(
        &mut self,
        reader: &mut TrackReader,
        track: &PacketTrack,
        cancel: Option<&AtomicBool>,
        report: &mut dyn FnMut(),
    ) -> Result<(), ParallelError> {
        let rate = i64::from(track.info.sample_rate.max(1));
        let mut held: Option<Packet> = None;
        let mut covered = 0i64;
        let mut reported = 0i64;
        loop {
            if cancel.is_some_and(|c| c.load(Ordering::Relaxed)) {
                return Err(ConvertError::Canceled.into());
            }
            let next = reader.next_packet()?;
            if let Some(next) = &next {
                check_timeline(held.as_ref(), next)?;
                self.origin.get_or_insert(next.ts());
            }
            // Packets past the container's end of the track are not decoded
            // (as on one thread).
            let next =
                next.filter(|p| track.length.is_none_or(|len| self.start_of(p) < len as i64));
            // One packet is held back so the track's last is known as such.
            if let Some(packet) = held.take() {
                covered = self.route(packet, next.is_none())?;
            }
            if covered - reported >= rate {
                reported = covered;
                report();
            }
            match next {
                Some(packet) => held = Some(packet),
                None => break,
            }
        }
        let length = track.length.map_or(covered, |len| covered.min(len as i64));
        check_complete(&track.info, length.max(0) as u64)?;
        // The first open segment ends the stream; one that only began is
        // never handed out.
        if let Some(mut first) = std::mem::take(&mut self.open).into_iter().next() {
            hand_out(self.plan, self.offers, &mut first)?
                .send(Message::End { last: true })
                .map_err(|_| super::encoder_gone())?;
        }
        Ok(())
    }

    /// Where `packet`'s first sample lies in the output's timeline. The
    /// timeline check keeps this small: timestamps grow from the origin by
    /// at most [`MAX_PACKET_SAMPLES`] per packet.
    fn start_of(&self, packet: &Packet) -> i64 {
        let from_origin = packet.ts().wrapping_sub(self.origin.unwrap_or(0));
        from_origin as i64 - self.skip
    }

    /// Deals `packet` to the segments that need it; returns the end of the
    /// samples dealt so far.
    fn route(&mut self, packet: Packet, last_of_track: bool) -> Result<i64, ConvertError> {
        let plan = self.plan;
        let start = self.start_of(&packet);
        let end = start + packet.dur() as i64;
        while (plan.first_frame(self.next_segment) * plan.spf) as i64 - PREROLL_SAMPLES < end {
            self.open.push(OpenSegment {
                index: self.next_segment,
                staged: Vec::new(),
                packets: None,
            });
            self.next_segment += 1;
        }
        if let Some(first) = self.open.first_mut() {
            hand_out(plan, self.offers, first)?;
        }
        let wanted = |k: u64| {
            let from = (plan.first_frame(k) * plan.spf) as i64 - PREROLL_SAMPLES;
            end > from && start < plan.end_sample(k) as i64
        };
        // The last segment that wants the packet takes it; any before get a copy.
        let last_taker = self.open.iter().rposition(|segment| wanted(segment.index));
        let mut packet = Some(packet);
        for i in 0..self.open.len() {
            if !wanted(self.open[i].index) {
                continue;
            }
            let packet = if Some(i) == last_taker {
                packet.take()
            } else {
                packet.clone()
            };
            let Some(packet) = packet else { break };
            let message = Message::Packet {
                start,
                packet,
                last_of_track,
            };
            let segment = &mut self.open[i];
            match &segment.packets {
                Some(channel) => channel.send(message).map_err(|_| super::encoder_gone())?,
                None => segment.staged.push(message),
            }
        }
        while let Some(first) = self.open.first() {
            if end < plan.end_sample(first.index) as i64 {
                break;
            }
            let mut first = self.open.remove(0);
            hand_out(plan, self.offers, &mut first)?
                .send(Message::End { last: false })
                .map_err(|_| super::encoder_gone())?;
        }
        Ok(end)
    }
}

/// Hands `segment` to the next free encoder (waiting for one) with the
/// packets staged for it, unless it already has one; returns its channel.
fn hand_out<'s>(
    plan: &Plan,
    offers: &SyncSender<Segment>,
    segment: &'s mut OpenSegment,
) -> Result<&'s SyncSender<Message>, ConvertError> {
    if segment.packets.is_none() {
        // Room for every packet of the longest segment, so the dealer does
        // not wait on one encoder while the other is idle.
        let capacity = (plan.longest_samples() as usize).div_ceil(1024) + 16;
        let (packets, receiver) = mpsc::sync_channel(capacity);
        offer(
            offers,
            Segment {
                at: SegmentAt::new(segment.index, plan),
                packets: receiver,
            },
        )?;
        for message in segment.staged.drain(..) {
            packets.send(message).map_err(|_| super::encoder_gone())?;
        }
        segment.packets = Some(packets);
    }
    segment.packets.as_ref().ok_or_else(super::encoder_gone)
}

/// Longest packet accepted, in samples (AAC's are 1024): with it, and
/// timestamps that never jump, one packet opens at most a segment or two,
/// whatever a hostile container claims.
const MAX_PACKET_SAMPLES: u64 = 1 << 16;

/// Checks that `next` follows `previous` without a gap or overlap and is
/// not longer than a packet can be; anything else is handed to one thread.
fn check_timeline(previous: Option<&Packet>, next: &Packet) -> Result<(), ParallelError> {
    let expected = previous.map_or(Some(next.ts()), |p| p.ts().checked_add(p.dur()));
    if expected == Some(next.ts()) && next.dur() <= MAX_PACKET_SAMPLES {
        return Ok(());
    }
    Err(ParallelError::Seam(format!(
        "packet timestamps are not contiguous (expected {expected:?}, got {} + {})",
        next.ts(),
        next.dur()
    )))
}

/// Decodes and encodes one segment; `None` when the dealer dropped it
/// unfinished.
fn encode_segment(segment: Segment, shared: &Shared<'_>) -> Option<SegmentResult> {
    let Shared {
        track,
        plan,
        options,
        input_end,
    } = shared;
    let setup = PacketDecoder::new(&track.params, track.mix.clone()).and_then(|decoder| {
        let encoder =
            Mp3Encoder::new(track.info.sample_rate, track.info.channels, &options.encode)?;
        Ok((decoder, encoder))
    });
    let (mut decoder, mut encoder) = match setup {
        Ok(parts) => parts,
        Err(e) => return Some(Err(e.into())),
    };
    let mut info = track.info.clone();
    // The samples this segment encodes: its frames on the global grid,
    // within the track.
    let from = (segment.at.first_frame * plan.spf) as i64;
    let to = (plan.end_sample(segment.at.index) as i64)
        .min(track.length.map_or(i64::MAX, |len| len as i64));
    let mut block = PcmBlock::default();
    let mut bytes = Vec::new();
    let mut kept_end = 0i64;
    while let Ok(message) = segment.packets.recv() {
        let (start, packet, last_of_track) = match message {
            Message::Packet {
                start,
                packet,
                last_of_track,
            } => (start, packet, last_of_track),
            Message::End { last } => {
                input_end.fetch_max(kept_end.max(0) as u64, Ordering::Relaxed);
                return Some(finish(segment.at, encoder, bytes, last, plan));
            }
        };
        let decoded = decoder.decode(&packet, &mut info, false, &mut block, |frames| {
            let (lo, hi) = (from.max(start), to.min(start + frames as i64));
            if hi <= lo {
                return 0..0;
            }
            kept_end = hi;
            (lo - start) as usize..(hi - start) as usize
        });
        let frames = match decoded {
            Ok(frames) => frames,
            Err(e) => return Some(Err(e.into())),
        };
        if frames as u64 != packet.dur() && !last_of_track {
            return Some(Err(JoinFailure::Seam(format!(
                "a packet at {} decoded to {frames} samples, its timestamps say {}",
                packet.ts(),
                packet.dur()
            ))));
        }
        if block.frames() > 0 {
            match encoder.encode(&block.planes) {
                Ok(encoded) => bytes.extend_from_slice(encoded),
                Err(e) => return Some(Err(e.into())),
            }
            block.planes.iter_mut().for_each(Vec::clear);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use std::process::Command;

    use super::*;
    use crate::decode::AudioDecoder;

    /// `secs` of a chord with noise, as AAC in MP4 at `rate` with
    /// `channels`; PNS off, so every decoder must give the same samples.
    fn aac_mp4(dir: &Path, secs: u32, rate: u32, channels: u32) -> std::path::PathBuf {
        let path = dir.join(format!("in-{rate}-{channels}.mp4"));
        let source = format!(
            "aevalsrc=exprs='0.3*sin(2*PI*440*t)+0.2*sin(2*PI*660*t)*exp(-3*mod(t,0.7))+0.05*(random(0)-0.5)':s={rate}:d={secs}"
        );
        let status = Command::new("ffmpeg")
            .args([
                "-y", "-v", "error", "-nostdin", "-f", "lavfi", "-i", &source,
            ])
            .args(["-ac", &channels.to_string(), "-c:a", "aac", "-aac_pns", "0"])
            .arg(&path)
            .status()
            .expect("ffmpeg runs (it is installed by `make test`)");
        assert!(status.success());
        path
    }

    fn decode_serially(path: &Path) -> Vec<Vec<f32>> {
        let mut decoder = AudioDecoder::open(path).unwrap();
        let mut all = vec![Vec::new(); decoder.info().channels];
        let mut block = PcmBlock::default();
        while decoder.next_block(&mut block).unwrap() {
            for (dst, src) in all.iter_mut().zip(&block.planes) {
                dst.extend_from_slice(src);
            }
        }
        all
    }

    /// Decodes from the packet that holds `from - PREROLL_SAMPLES`, as a
    /// segment does, and returns `len` samples from `from` on.
    fn decode_from(path: &Path, from: i64, len: i64) -> Vec<Vec<f32>> {
        let primed = AudioDecoder::open(path).unwrap();
        let (mut reader, mut track) = AudioDecoder::open_packets(path, &primed)
            .unwrap()
            .expect("AAC in MP4 is dealt as packets");
        let mut decoder = PacketDecoder::new(&track.params, track.mix.clone()).unwrap();
        let mut out = PcmBlock::default();
        while let Some(packet) = reader.next_packet().unwrap() {
            let start = packet.ts() as i64 - track.skip as i64;
            if start + packet.dur() as i64 <= from - PREROLL_SAMPLES {
                continue;
            }
            if start >= from + len {
                break;
            }
            decoder
                .decode(&packet, &mut track.info, false, &mut out, |frames| {
                    let (lo, hi) = (from.max(start), (from + len).min(start + frames as i64));
                    if hi <= lo {
                        0..0
                    } else {
                        (lo - start) as usize..(hi - start) as usize
                    }
                })
                .unwrap();
        }
        out.planes
    }

    #[test]
    fn a_segment_decoder_gives_the_samples_of_one_that_decoded_from_the_start() {
        let dir = tempfile::tempdir().unwrap();
        for (rate, channels) in [(44_100, 2), (48_000, 1), (22_050, 2)] {
            let path = aac_mp4(dir.path(), 8, rate, channels);
            let serial = decode_serially(&path);
            for from in [0i64, 1, 1023, 1024, 1025, 100_000, 222_222] {
                let len = 5_000;
                let segment = decode_from(&path, from, len);
                for (side, plane) in segment.iter().enumerate() {
                    let expected = &serial[side][from as usize..(from + len) as usize];
                    assert_eq!(
                        plane.as_slice(),
                        expected,
                        "{rate} Hz, {channels} channels, from sample {from}"
                    );
                }
            }
        }
    }

    #[test]
    fn a_timeline_that_jumps_goes_to_one_thread() {
        let packet = |ts, dur| Packet::new_from_slice(0, ts, dur, &[]);
        let follows =
            |previous: Option<&Packet>, next: &Packet| check_timeline(previous, next).is_ok();
        assert!(follows(None, &packet(0, 1024)));
        assert!(follows(Some(&packet(0, 1024)), &packet(1024, 1024)));
        assert!(
            follows(None, &packet(1 << 40, 1024)),
            "a stream cut from a longer one"
        );
        assert!(!follows(Some(&packet(0, 1024)), &packet(4096, 1024)), "gap");
        assert!(
            !follows(Some(&packet(0, 1024)), &packet(512, 1024)),
            "overlap"
        );
        assert!(
            !follows(Some(&packet(u64::MAX, 1)), &packet(0, 1)),
            "overflow"
        );
        assert!(!follows(None, &packet(0, 1 << 40)), "huge packet");
    }

    #[test]
    fn only_exact_timestamps_are_dealt_as_packets() {
        let dir = tempfile::tempdir().unwrap();
        let mp4 = aac_mp4(dir.path(), 2, 44_100, 2);
        let wav = dir.path().join("in.wav");
        let status = Command::new("ffmpeg")
            .args(["-y", "-v", "error", "-nostdin", "-i"])
            .arg(&mp4)
            .arg(&wav)
            .status()
            .unwrap();
        assert!(status.success());
        let dealt = |path: &Path| {
            let primed = AudioDecoder::open(path).unwrap();
            AudioDecoder::open_packets(path, &primed).unwrap().is_some()
        };
        assert!(dealt(&mp4));
        assert!(!dealt(&wav));
    }
}
