//! Joining MP3 segments encoded in parallel into one gapless stream.
//!
//! Every segment encoder starts on the global frame grid a few frames before
//! its segment (its "preroll", so its psychoacoustic state and MDCT overlap
//! have real audio behind them) and runs a few frames past its end. Where two
//! segments overlap, both encoders produced frames for the same audio; the
//! joiner picks the seam frame `c` among a few candidates: frames `< c` from
//! the earlier encoder, frames `≥ c` from the later one. A candidate is
//! acceptable when the window shapes on both sides fit (otherwise the MDCT
//! aliasing does not cancel: a click) and the main data can be laid out.
//!
//! A fresh encoder builds its reservoir up from nothing while the previous
//! one may just have spent its own on a transient, so the later encoder can
//! expect more reservoir than the joined stream has at the seam (measured:
//! at 64 kbit/s it did at every seam). Then the last frame before the seam is
//! re-written at the next higher bit rate(s): the same side info and main
//! data in a larger frame, whose extra bytes become the missing reservoir.
//! Decoders take a bit-rate change between frames in their stride (it is
//! what VBR is); the stream grows by a few hundred bytes per seam.
//!
//! The bit reservoir is why the frames cannot simply be concatenated: a
//! frame's main data may begin up to 511 bytes before the frame, in frames
//! that were dropped. So the joiner takes each kept frame's main data out of
//! its encoder's stream and lays all of it out again, as early as the
//! reservoir rules allow (`main_data_begin` ≤ 511/255 bytes and LAME's
//! 1440-byte buffer constraint), rewriting `main_data_begin` in each side
//! info. Laying out as early as possible never places data later than its
//! encoder did once a frame is on or ahead of its original position, so the
//! only risk is right after a seam, which [`Joiner`] simulates before it
//! commits to a candidate. The audio bits themselves are not touched.

use std::collections::VecDeque;
use std::io::{self, Write};

use crate::lame_tag::{self, TocBuilder};
use crate::mp3_frames::{self, FrameInfo};

/// Why frames could not be joined.
#[derive(Debug, thiserror::Error)]
pub(crate) enum JoinError {
    /// No candidate seam could be laid out (the caller re-encodes serially).
    #[error("no usable seam between segments {0} and {1}")]
    Seam(usize, usize),
    /// An encoder produced something that is not a stream of Layer III frames.
    #[error("segment {0} is not a valid MP3 stream: {1}")]
    Format(usize, &'static str),
    /// Writing the output failed.
    #[error("writing the output: {0}")]
    Io(#[from] io::Error),
}

/// One segment's encoder output.
#[derive(Debug)]
pub(crate) struct EncodedSegment {
    /// Position of the segment in the stream (0, 1, 2, ...).
    pub index: usize,
    /// Global frame index of the encoder's first audio frame.
    pub first_frame: u64,
    /// First global frame at which the next segment may take over (the
    /// next segment's first seam candidate); `None` for the last segment.
    pub handover_from: Option<u64>,
    /// The encoder's whole output: its LAME tag placeholder, then audio frames.
    pub bytes: Vec<u8>,
    /// The finished LAME tag (needed from the last segment only).
    pub tag: Option<Vec<u8>>,
}

/// A segment split into frames, with where each frame's main data is.
struct Parsed {
    index: usize,
    first_frame: u64,
    handover_from: Option<u64>,
    bytes: Vec<u8>,
    /// (offset in `bytes`, frame) of the audio frames.
    frames: Vec<(usize, FrameInfo)>,
    /// Data areas of all audio frames, back to back (the reservoir's view).
    areas: Vec<u8>,
    /// Offset in `areas` where each frame's main data starts.
    main_at: Vec<usize>,
    /// First local frame not yet written.
    from: usize,
    tag: Option<Vec<u8>>,
}

impl Parsed {
    fn new(seg: EncodedSegment) -> Result<(Self, Vec<u8>), JoinError> {
        let bad = |what| JoinError::Format(seg.index, what);
        let mut frames = mp3_frames::split_frames(&seg.bytes).ok_or(bad("unparsable frame"))?;
        if frames.is_empty() {
            return Err(bad("no frames"));
        }
        let (tag_at, tag) = frames.remove(0);
        let placeholder = seg.bytes[tag_at..tag_at + tag.len].to_vec();
        let mut areas = Vec::with_capacity(seg.bytes.len());
        let mut main_at = Vec::with_capacity(frames.len());
        for (at, f) in &frames {
            let start = areas
                .len()
                .checked_sub(f.main_data_begin)
                .ok_or(bad("main data before the stream"))?;
            areas.extend_from_slice(&seg.bytes[at + f.head_len..at + f.len]);
            if start + f.main_bytes() > areas.len() {
                return Err(bad("main data past its frame"));
            }
            main_at.push(start);
        }
        let parsed = Self {
            index: seg.index,
            first_frame: seg.first_frame,
            handover_from: seg.handover_from,
            bytes: seg.bytes,
            frames,
            areas,
            main_at,
            from: 0,
            tag: seg.tag,
        };
        Ok((parsed, placeholder))
    }

    fn local(&self, global: u64) -> Option<usize> {
        let i = usize::try_from(global.checked_sub(self.first_frame)?).ok()?;
        (i < self.frames.len()).then_some(i)
    }

    /// Local frames to lay out when nothing follows: up to the handover
    /// point, or all of them.
    fn end(&self) -> usize {
        self.handover_from
            .and_then(|g| self.local(g))
            .unwrap_or(self.frames.len())
    }
}

/// The reservoir bookkeeping of the joined stream, in positions of its
/// data areas laid back to back.
#[derive(Debug, Clone, Copy, Default)]
struct Cursor {
    /// End of the last frame's main data.
    end: u64,
    /// End of the last frame's data area.
    total: u64,
}

impl Cursor {
    /// Places a frame; returns its new `main_data_begin` and the data's
    /// start, or `None` when the data would run past the frame's own area.
    fn place(&mut self, f: &FrameInfo) -> Option<(usize, u64)> {
        let ds = self.total;
        let cap = (f.reservoir_cap() as u64).min(ds);
        let start = self.end.max(ds - cap);
        let end = start + f.main_bytes() as u64;
        if end > ds + f.data_len() as u64 {
            return None;
        }
        self.end = end;
        self.total = ds + f.data_len() as u64;
        Some(((ds - start) as usize, start))
    }
}

/// A frame written to memory, waiting for later frames' main data.
struct Pending {
    buf: Vec<u8>,
    head_len: usize,
    area_start: u64,
}

/// Writes joined frames to `out` (the first segment's tag placeholder first)
/// and hands out the patched LAME tag that replaces the placeholder.
pub(crate) struct Joiner<W: Write> {
    out: W,
    cursor: Cursor,
    pending: VecDeque<Pending>,
    held: Option<Parsed>,
    toc: TocBuilder,
    tag_len: usize,
    seam_candidates: u64,
}

impl<W: Write> Joiner<W> {
    /// A joiner that tries `seam_candidates` frames per seam.
    pub(crate) fn new(out: W, seam_candidates: u64) -> Self {
        Self {
            out,
            cursor: Cursor::default(),
            pending: VecDeque::new(),
            held: None,
            toc: TocBuilder::default(),
            tag_len: 0,
            seam_candidates,
        }
    }

    /// Adds the next segment (segments must come in order).
    ///
    /// # Errors
    /// [`JoinError`]; `Seam` means no candidate worked.
    pub(crate) fn push(&mut self, seg: EncodedSegment) -> Result<(), JoinError> {
        let (mut next, placeholder) = Parsed::new(seg)?;
        let Some(mut prev) = self.held.take() else {
            self.tag_len = placeholder.len();
            self.out.write_all(&placeholder)?;
            self.held = Some(next);
            return Ok(());
        };
        let no_seam = JoinError::Seam(prev.index, next.index);
        let (seam, bump) = self.choose_seam(&prev, &next).ok_or(no_seam)?;
        let (Some(end_prev), Some(start_next)) = (prev.local(seam), next.local(seam)) else {
            return Err(JoinError::Seam(prev.index, next.index));
        };
        self.lay_out(&mut prev, end_prev, bump)?;
        next.from = start_next;
        self.held = Some(next);
        Ok(())
    }

    /// Picks the seam: the first candidate whose windows fit and whose main
    /// data can be laid out as it is; else the first whose windows fit once
    /// the last frame before it is re-written at a higher bit rate (making
    /// room for the reservoir the next encoder built up); else the first
    /// that can be laid out at all.
    fn choose_seam(&self, prev: &Parsed, next: &Parsed) -> Option<(u64, Option<FrameInfo>)> {
        let first = prev.handover_from?;
        let candidates: Vec<(u64, usize, usize)> = (first..first + self.seam_candidates)
            .filter_map(|seam| Some((seam, prev.local(seam)?, next.local(seam)?)))
            .filter(|&(_, p, _)| p > prev.from)
            .collect();
        let windows = |p: usize, n: usize| {
            mp3_frames::windows_fit(
                prev.frames[p - 1].1.last_blocks,
                next.frames[n].1.first_blocks,
            )
        };
        let with_room = |p: usize, n: usize| -> Option<Option<FrameInfo>> {
            if self.fits(prev, p, None, next, n) {
                return Some(None);
            }
            let mut bigger = prev.frames[p - 1].1.bumped();
            while let Some(frame) = bigger {
                if self.fits(prev, p, Some(&frame), next, n) {
                    return Some(Some(frame));
                }
                bigger = frame.bumped();
            }
            None
        };
        let fitting = candidates
            .iter()
            .filter(|&&(_, p, n)| windows(p, n))
            .chain(candidates.iter());
        for &(seam, p, n) in fitting {
            if let Some(bump) = with_room(p, n) {
                return Some((seam, bump));
            }
        }
        None
    }

    /// Simulates laying out `prev[from..p]` (the last one as `last` when
    /// given) then `next[n..end]`.
    fn fits(
        &self,
        prev: &Parsed,
        p: usize,
        last: Option<&FrameInfo>,
        next: &Parsed,
        n: usize,
    ) -> bool {
        let mut cursor = self.cursor;
        let prev_frames = prev.frames[prev.from..p].iter().map(|(_, f)| f);
        let count = p - prev.from;
        prev_frames
            .enumerate()
            .map(|(i, f)| if i + 1 == count { last.unwrap_or(f) } else { f })
            .chain(next.frames[n..next.end().max(n)].iter().map(|(_, f)| f))
            .all(|f| cursor.place(f).is_some())
    }

    /// Lays out and writes `seg`'s frames from `seg.from` up to `until`; the
    /// last one as `last` when given (a bit-rate bump at a seam).
    fn lay_out(
        &mut self,
        seg: &mut Parsed,
        until: usize,
        last: Option<FrameInfo>,
    ) -> Result<(), JoinError> {
        for i in seg.from..until {
            let (at, original) = &seg.frames[i];
            let f = match &last {
                Some(bumped) if i + 1 == until => bumped,
                _ => original,
            };
            let (mdb, start) = self
                .cursor
                .place(f)
                .ok_or(JoinError::Seam(seg.index, seg.index + 1))?;
            let mut buf = vec![0u8; f.len];
            buf[..f.head_len].copy_from_slice(&seg.bytes[*at..at + f.head_len]);
            buf[..4].copy_from_slice(&f.header);
            mp3_frames::set_main_data_begin(&mut buf[..f.head_len], f, mdb);
            self.pending.push_back(Pending {
                buf,
                head_len: f.head_len,
                area_start: self.cursor.total - f.data_len() as u64,
            });
            let main = &seg.areas[seg.main_at[i]..seg.main_at[i] + f.main_bytes()];
            self.copy_main(start, main);
            self.flush_settled(f.reservoir_cap() as u64)?;
        }
        seg.from = until;
        Ok(())
    }

    /// Copies main data starting at joined position `start` into the data
    /// areas of the pending frames it spans.
    fn copy_main(&mut self, start: u64, mut main: &[u8]) {
        let mut pos = start;
        for p in &mut self.pending {
            let area_len = (p.buf.len() - p.head_len) as u64;
            let area_end = p.area_start + area_len;
            if main.is_empty() {
                break;
            }
            if pos >= area_end {
                continue;
            }
            let offset = (pos - p.area_start) as usize;
            let n = main.len().min((area_end - pos) as usize);
            let at = p.head_len + offset;
            p.buf[at..at + n].copy_from_slice(&main[..n]);
            main = &main[n..];
            pos += n as u64;
        }
    }

    /// Writes the frames no later main data can reach.
    fn flush_settled(&mut self, max_reach: u64) -> io::Result<()> {
        let reach = self
            .cursor
            .end
            .max(self.cursor.total.saturating_sub(max_reach.max(511)));
        while let Some(p) = self.pending.front() {
            if p.area_start + (p.buf.len() - p.head_len) as u64 > reach {
                break;
            }
            if let Some(p) = self.pending.pop_front() {
                self.toc.add_frame(&p.buf);
                self.out.write_all(&p.buf)?;
            }
        }
        Ok(())
    }

    /// Writes the rest of the last segment and returns the writer and the
    /// patched LAME tag (the caller writes it over the placeholder).
    ///
    /// # Errors
    /// [`JoinError`] if nothing was pushed, the tag is missing or writing fails.
    pub(crate) fn finish(mut self) -> Result<(W, Vec<u8>), JoinError> {
        let mut last = self
            .held
            .take()
            .ok_or(JoinError::Format(0, "no segments"))?;
        let end = last.frames.len();
        last.handover_from = None;
        self.lay_out(&mut last, end, None)?;
        while let Some(p) = self.pending.pop_front() {
            self.toc.add_frame(&p.buf);
            self.out.write_all(&p.buf)?;
        }
        let mut tag = last
            .tag
            .take()
            .ok_or(JoinError::Format(last.index, "no LAME tag"))?;
        if tag.len() != self.tag_len || !lame_tag::patch(&mut tag, &self.toc) {
            return Err(JoinError::Format(last.index, "unexpected LAME tag"));
        }
        Ok((self.out, tag))
    }
}
