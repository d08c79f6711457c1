//! MP4/MOV edit lists, read straight from the file.
//!
//! symphonia 0.5 parses `elst` but does not expose or apply it, so AAC audio
//! from an MP4 would start with the encoder's priming samples (1024 frames for
//! ffmpeg's AAC encoder, 2112 for Apple's) and run past its real end. ffmpeg
//! honours the edit list; to be aligned with it we read the audio track's edit
//! list ourselves. Only small boxes are read; everything else (notably `mdat`
//! and the sample tables) is skipped with a seek, so memory stays flat.

use std::io::{self, Read, Seek, SeekFrom};

/// Samples to drop at the start of a track and how many to keep after that,
/// both in the track's own sample rate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct EditTrim {
    /// Priming samples before the presentation starts.
    pub skip: u64,
    /// Presented samples, when the edit gives a duration.
    pub length: Option<u64>,
}

struct BoxHeader {
    kind: [u8; 4],
    /// Offset of the box's payload.
    body: u64,
    /// Offset just past the box.
    end: u64,
}

fn read_header<R: Read + Seek>(r: &mut R, limit: u64) -> io::Result<Option<BoxHeader>> {
    let start = r.stream_position()?;
    if start + 8 > limit {
        return Ok(None);
    }
    let mut head = [0u8; 8];
    r.read_exact(&mut head)?;
    let size32 = u32::from_be_bytes([head[0], head[1], head[2], head[3]]);
    let kind = [head[4], head[5], head[6], head[7]];
    let (size, body) = match size32 {
        0 => (limit - start, start + 8),
        1 => {
            let mut large = [0u8; 8];
            r.read_exact(&mut large)?;
            (u64::from_be_bytes(large), start + 16)
        }
        n => (u64::from(n), start + 8),
    };
    let end = start.saturating_add(size);
    if size < body - start || end > limit {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "bad MP4 box size",
        ));
    }
    Ok(Some(BoxHeader { kind, body, end }))
}

/// Calls `visit` for each child box of the range `[start, end)`.
fn for_each_box<R: Read + Seek>(
    r: &mut R,
    start: u64,
    end: u64,
    mut visit: impl FnMut(&mut R, &BoxHeader) -> io::Result<bool>,
) -> io::Result<()> {
    let mut pos = start;
    loop {
        r.seek(SeekFrom::Start(pos))?;
        let Some(header) = read_header(r, end)? else {
            return Ok(());
        };
        if !visit(r, &header)? {
            return Ok(());
        }
        pos = header.end;
    }
}

fn read_be(r: &mut impl Read, bytes: usize) -> io::Result<u64> {
    let mut buf = [0u8; 8];
    r.read_exact(&mut buf[8 - bytes..])?;
    Ok(u64::from_be_bytes(buf))
}

/// Timescale of an `mvhd` or `mdhd` box (same layout up to the timescale).
fn read_timescale<R: Read + Seek>(r: &mut R, header: &BoxHeader) -> io::Result<u64> {
    r.seek(SeekFrom::Start(header.body))?;
    let version = read_be(r, 4)? >> 24;
    let skip = if version == 1 { 16 } else { 8 };
    r.seek(SeekFrom::Current(skip))?;
    read_be(r, 4)
}

/// The first media edit: (segment duration in movie timescale, media time).
fn read_first_edit<R: Read + Seek>(
    r: &mut R,
    header: &BoxHeader,
) -> io::Result<Option<(u64, i64)>> {
    r.seek(SeekFrom::Start(header.body))?;
    let version = read_be(r, 4)? >> 24;
    let count = read_be(r, 4)?;
    let wide = if version == 1 { 8 } else { 4 };
    for _ in 0..count.min(64) {
        let duration = read_be(r, wide)?;
        let raw_time = read_be(r, wide)?;
        let media_time = if wide == 8 {
            raw_time as i64
        } else {
            i64::from(raw_time as u32 as i32)
        };
        read_be(r, 4)?;
        // media_time -1 is an empty edit (a delay before the track starts);
        // the first real edit says where the presentation starts.
        if media_time >= 0 {
            return Ok(Some((duration, media_time)));
        }
    }
    Ok(None)
}

#[derive(Default)]
struct TrakInfo {
    media_timescale: Option<u64>,
    edit: Option<(u64, i64)>,
}

fn read_trak<R: Read + Seek>(r: &mut R, trak: &BoxHeader) -> io::Result<TrakInfo> {
    let mut info = TrakInfo::default();
    for_each_box(r, trak.body, trak.end, |r, child| {
        match &child.kind {
            b"edts" => for_each_box(r, child.body, child.end, |r, b| {
                if &b.kind == b"elst" {
                    info.edit = read_first_edit(r, b)?;
                }
                Ok(true)
            })?,
            b"mdia" => for_each_box(r, child.body, child.end, |r, b| {
                if &b.kind == b"mdhd" {
                    info.media_timescale = Some(read_timescale(r, b)?);
                }
                Ok(true)
            })?,
            _ => {}
        }
        Ok(true)
    })?;
    Ok(info)
}

/// Reads the edit list of the `track_index`-th `trak` (symphonia numbers MP4
/// tracks by their order in `moov`) and converts it to samples at
/// `sample_rate`. `Ok(None)` when the file has no usable edit list.
pub(crate) fn audio_trim<R: Read + Seek>(
    r: &mut R,
    track_index: usize,
    sample_rate: u32,
) -> io::Result<Option<EditTrim>> {
    let file_end = r.seek(SeekFrom::End(0))?;
    let mut movie_timescale = None;
    let mut found = None;
    for_each_box(r, 0, file_end, |r, top| {
        if &top.kind != b"moov" {
            return Ok(true);
        }
        let mut index = 0usize;
        for_each_box(r, top.body, top.end, |r, b| {
            match &b.kind {
                b"mvhd" => movie_timescale = Some(read_timescale(r, b)?),
                b"trak" => {
                    if index == track_index {
                        found = Some(read_trak(r, b)?);
                    }
                    index += 1;
                }
                _ => {}
            }
            Ok(true)
        })?;
        Ok(false)
    })?;
    let (Some(info), Some(movie_ts)) = (found, movie_timescale) else {
        return Ok(None);
    };
    let (Some((duration, media_time)), Some(media_ts)) = (info.edit, info.media_timescale) else {
        return Ok(None);
    };
    if media_ts == 0 || movie_ts == 0 {
        return Ok(None);
    }
    let rate = u128::from(sample_rate);
    let skip = (media_time as u128 * rate / u128::from(media_ts)) as u64;
    let length = (duration > 0).then(|| {
        ((u128::from(duration) * rate + u128::from(movie_ts) / 2) / u128::from(movie_ts)) as u64
    });
    Ok(Some(EditTrim { skip, length }))
}

/// Sample tables whose entry count symphonia 0.5 hands straight to
/// `Vec::with_capacity`: `(kind, bytes per entry, bytes before the entries)`.
const COUNTED_TABLES: [(&[u8; 4], u64, u64); 5] = [
    (b"stts", 8, 8),
    (b"stsc", 12, 8),
    (b"stco", 4, 8),
    (b"co64", 8, 8),
    (b"stsz", 4, 12),
];

/// The boxes leading from `moov` down to the sample tables.
const TABLE_PATH: [&[u8; 4]; 5] = [b"moov", b"trak", b"mdia", b"minf", b"stbl"];

/// Whether a sample table of the MP4 that starts at `start` announces more
/// entries than the bytes it really has.
///
/// symphonia 0.5 reserves `entry_count` entries before reading them, so a
/// forged count (a 1 KB file claiming 4 billion `stts` entries) asks for tens
/// of GiB, and a failed allocation aborts the process: no `catch_unwind`
/// can turn that into an error. Boxes are clamped to their parent and to the
/// file, so the allocation symphonia then makes is bounded by the file size.
/// A file of more than [`MAX_BOXES`] boxes counts as oversized too (no real
/// one comes close; it would only hide a table behind a slow walk).
pub(crate) fn has_oversized_table<R: Read + Seek>(r: &mut R, start: u64) -> io::Result<bool> {
    let file_end = r.seek(SeekFrom::End(0))?;
    let mut budget = MAX_BOXES;
    oversized_within(r, start, file_end, &TABLE_PATH, &mut budget)
}

/// Boxes [`has_oversized_table`] reads at most.
const MAX_BOXES: u32 = 1_000_000;

fn oversized_within<R: Read + Seek>(
    r: &mut R,
    start: u64,
    end: u64,
    path: &[&[u8; 4]],
    budget: &mut u32,
) -> io::Result<bool> {
    let mut pos = start;
    while pos.saturating_add(8) <= end {
        let Some(left) = budget.checked_sub(1) else {
            return Ok(true);
        };
        *budget = left;
        r.seek(SeekFrom::Start(pos))?;
        let size32 = read_be(r, 4)?;
        let mut kind = [0u8; 4];
        r.read_exact(&mut kind)?;
        let (size, body) = match size32 {
            0 => (end - pos, pos + 8),
            1 if pos + 16 <= end => (read_be(r, 8)?, pos + 16),
            1 => return Ok(false),
            n => (n, pos + 8),
        };
        if size < body - pos {
            return Ok(false);
        }
        let box_end = pos.saturating_add(size).min(end);
        let found = match path.split_first() {
            Some((next, rest)) if **next == kind => {
                oversized_within(r, body, box_end, rest, budget)?
            }
            Some(_) => false,
            None => match COUNTED_TABLES.iter().find(|(k, ..)| **k == kind) {
                Some((_, entry, head)) => table_overflows(r, &kind, body, box_end, *entry, *head)?,
                None => false,
            },
        };
        if found {
            return Ok(true);
        }
        pos = box_end;
    }
    Ok(false)
}

fn table_overflows<R: Read + Seek>(
    r: &mut R,
    kind: &[u8; 4],
    body: u64,
    end: u64,
    entry: u64,
    head: u64,
) -> io::Result<bool> {
    if body + head > end {
        return Ok(false);
    }
    r.seek(SeekFrom::Start(body + 4))?;
    let mut count = read_be(r, 4)?;
    if kind == b"stsz" {
        // A fixed sample size: symphonia reserves nothing.
        if count != 0 {
            return Ok(false);
        }
        count = read_be(r, 4)?;
    }
    Ok(count.saturating_mul(entry) > end - body - head)
}

/// Where symphonia's probe would start reading an MP4: four bytes before the
/// first `ftyp` in the first MiB (its search limit), after any ID3v2 tags
/// it skips. `None` when there is no `ftyp` there.
pub(crate) fn probe_start(head: &[u8]) -> Option<u64> {
    let mut from = 0usize;
    while head.len() >= from + 10 && &head[from..from + 3] == b"ID3" {
        let size = head[from + 6..from + 10]
            .iter()
            .fold(0usize, |n, b| (n << 7) | usize::from(b & 0x7f));
        let footer = if head[from + 5] & 0x10 != 0 { 10 } else { 0 };
        from += 10 + size + footer;
    }
    let window = head.get(from..)?;
    let at = window.windows(4).position(|w| w == b"ftyp")? + from;
    (at >= 4).then(|| (at - 4) as u64)
}
