//! Matroska/WebM element sizes, checked before symphonia reads the file.
//!
//! symphonia 0.5's Matroska reader allocates string, binary and block
//! elements at the size the file declares (`vec![0; size]`), and the frames
//! of a laced block at the sizes in the lace header. A forged size of
//! gigabytes in a file of 81 bytes (found by fuzzing, docs/fuzzing.md bug 4)
//! makes that allocation fail, and Rust aborts the process. So the file is
//! walked first, element header by element header (descending into the
//! master elements symphonia descends into, skipping the data of the rest),
//! and refused when any element or laced frame claims more bytes than there
//! are, beyond [`SLACK`]. A file cut short (its last block claims a few
//! bytes more than are left) is not refused here: symphonia reports that as
//! a truncated file, as before. Where a byte cannot start an element ID,
//! the walk skips ahead to the next top-level element, as symphonia does.

use std::io::{self, BufReader, Read, Seek, SeekFrom};

/// Declared sizes up to this much past the end of the file are left to
/// symphonia: allocating them is harmless, and a truncated upload looks
/// like that.
const SLACK: u64 = 16 << 20;

/// Elements read at most, so a file of millions of tiny elements costs a
/// bounded time.
const MAX_ELEMENTS: u32 = 4_000_000;

/// Master elements (their data is more elements) that symphonia's reader
/// knows: EBML header, Segment, SeekHead, Seek, Info, Cluster, BlockGroup,
/// BlockAdditions, BlockMore, Tracks, TrackEntry, Video, Audio,
/// ContentEncodings, ContentEncoding, ContentEncryption,
/// ContentEncAESSettings, Colour, MasteringMetadata, Cues, CuePoint,
/// CueTrackPositions, Chapters, EditionEntry, ChapterAtom, ChapterDisplay,
/// Tags, Tag, Targets, SimpleTag (IDs from the Matroska specification).
const MASTERS: [u32; 30] = [
    0x1A45_DFA3,
    0x1853_8067,
    0x114D_9B74,
    0x4DBB,
    0x1549_A966,
    0x1F43_B675,
    0xA0,
    0x75A1,
    0xA6,
    0x1654_AE6B,
    0xAE,
    0xE0,
    0xE1,
    0x6D80,
    0x6240,
    0x5035,
    0x47E7,
    0x55B0,
    0x55D0,
    0x1C53_BB6B,
    0xBB,
    0xB7,
    0x1043_A770,
    0x45B9,
    0xB6,
    0x80,
    0x1254_C367,
    0x7373,
    0x63C0,
    0x67C8,
];

/// `SimpleBlock` and `Block`: their data may be laced frames.
const BLOCKS: [u32; 2] = [0xA3, 0xA1];

/// The elements symphonia resynchronises on after bytes that cannot start
/// an ID: Cluster, Cues, Info, SeekHead, Tags, Tracks.
const TOP_LEVEL: [u32; 6] = [
    0x1F43_B675,
    0x1C53_BB6B,
    0x1549_A966,
    0x114D_9B74,
    0x1254_C367,
    0x1654_AE6B,
];

/// Fills `buf`; `false` at the end of the data (a cut-off structure is
/// symphonia's to report, not ours).
fn read_full<R: Read>(r: &mut R, buf: &mut [u8]) -> io::Result<bool> {
    match r.read_exact(buf) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => Ok(false),
        Err(e) => Err(e),
    }
}

/// The next byte, `None` at the end of the data.
fn read_byte<R: Read>(r: &mut R) -> io::Result<Option<u8>> {
    let mut byte = [0u8; 1];
    Ok(read_full(r, &mut byte)?.then_some(byte[0]))
}

/// A variable-length integer: its value (marker bit removed), its length,
/// and whether every value bit is set (an unknown size). `None` for a
/// first byte of 0 (no length marker), a length over `max_len`, or a read
/// past the end.
fn read_vint<R: Read>(r: &mut R, max_len: u32) -> io::Result<Option<(u64, u32, bool)>> {
    let Some(first) = read_byte(r)? else {
        return Ok(None);
    };
    let len = first.leading_zeros() + 1;
    if len > max_len {
        return Ok(None);
    }
    let mut value = u64::from(first) & (0xFF >> len);
    let mut all_ones = value == 0xFF >> len;
    for _ in 1..len {
        let Some(byte) = read_byte(r)? else {
            return Ok(None);
        };
        value = (value << 8) | u64::from(byte);
        all_ones &= byte == 0xFF;
    }
    Ok(Some((value, len, all_ones)))
}

/// An element ID keeps its marker bit (that is how IDs are written).
/// After a byte that cannot start an ID, the next top-level ID and its
/// offset from where reading began.
fn read_id<R: Read>(r: &mut R) -> io::Result<Option<(u32, u64)>> {
    let Some(first) = read_byte(r)? else {
        return Ok(None);
    };
    let len = first.leading_zeros() + 1;
    if len <= 4 {
        let mut id = u32::from(first);
        for _ in 1..len {
            let Some(byte) = read_byte(r)? else {
                return Ok(None);
            };
            id = (id << 8) | u32::from(byte);
        }
        return Ok(Some((id, u64::from(len))));
    }
    // Not an ID: skip to the next top-level one, as symphonia does.
    let (mut id, mut read) = (0u32, 1u64);
    loop {
        let Some(byte) = read_byte(r)? else {
            return Ok(None);
        };
        read += 1;
        id = (id << 8) | u32::from(byte);
        if TOP_LEVEL.contains(&id) {
            return Ok(Some((id, read)));
        }
    }
}

/// Whether the Matroska file in `r`, whose EBML header starts at `start`,
/// declares an element or a laced frame larger than the file can hold.
/// Damage of any other kind is left to symphonia.
///
/// # Errors
/// Only real read errors.
pub(crate) fn has_oversized_element<R: Read + Seek>(
    r: &mut BufReader<R>,
    start: u64,
) -> io::Result<bool> {
    let file_end = r.seek(SeekFrom::End(0))?;
    r.seek(SeekFrom::Start(start))?;
    let (mut pos, mut at) = (start, start);
    for _ in 0..MAX_ELEMENTS {
        // Forward moves stay within the buffer when they can.
        r.seek_relative(pos as i64 - at as i64)?;
        let Some((id, id_len)) = read_id(r)? else {
            return Ok(false);
        };
        let Some((size, size_len, unknown)) = read_vint(r, 8)? else {
            return Ok(false);
        };
        let data = pos + id_len + u64::from(size_len);
        at = data;
        let room = file_end.saturating_sub(data);
        if MASTERS.contains(&id) {
            // Unknown sizes are allowed for masters (live streams); either
            // way their children follow right away.
            pos = data;
            continue;
        }
        if unknown || size > room.saturating_add(SLACK) {
            return Ok(true);
        }
        if BLOCKS.contains(&id) {
            let (oversized, read) = has_oversized_lace(r, size)?;
            if oversized {
                return Ok(true);
            }
            at += read;
        }
        pos = data.saturating_add(size);
        if pos >= file_end {
            return Ok(false);
        }
    }
    Ok(false)
}

/// Whether a block of `block_len` bytes (the reader at its data) declares a
/// laced frame larger than the block, and how many bytes were read.
fn has_oversized_lace<R: Read>(r: &mut R, block_len: u64) -> io::Result<(bool, u64)> {
    let mut r = r.take(block_len);
    let oversized = oversized_lace(&mut r, block_len)?;
    Ok((oversized, block_len - r.limit()))
}

fn oversized_lace<R: Read>(r: &mut R, block_len: u64) -> io::Result<bool> {
    let Some(_track) = read_vint(r, 8)? else {
        return Ok(false);
    };
    let mut head = [0u8; 4];
    // Timecode (2 bytes), flags, and the lace count.
    if !read_full(r, &mut head)? {
        return Ok(false);
    }
    let frames = u64::from(head[3]);
    match (head[2] >> 1) & 3 {
        // Xiph: each size is a run of 255s ended by a smaller byte.
        1 => {
            for _ in 0..frames {
                let mut size = 0u64;
                loop {
                    let Some(byte) = read_byte(r)? else {
                        return Ok(false);
                    };
                    size += u64::from(byte);
                    if byte != 255 {
                        break;
                    }
                }
                if size > block_len {
                    return Ok(true);
                }
            }
            Ok(false)
        }
        // EBML: the first size, then signed differences.
        3 => {
            let Some((first, _, _)) = read_vint(r, 8)? else {
                return Ok(false);
            };
            let mut size = i128::from(first);
            for i in 0..frames {
                if size < 0 || size > i128::from(block_len) {
                    return Ok(true);
                }
                if i + 1 == frames {
                    break;
                }
                let Some((raw, len, _)) = read_vint(r, 8)? else {
                    return Ok(false);
                };
                let bias = (1i128 << (7 * len - 1)) - 1;
                size += i128::from(raw) - bias;
            }
            Ok(false)
        }
        _ => Ok(false),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    /// An element: ID bytes, a one-to-eight-byte size, data.
    fn element(id: &[u8], size: &[u8], data: &[u8]) -> Vec<u8> {
        [id, size, data].concat()
    }

    fn oversized(bytes: &[u8]) -> bool {
        has_oversized_element(&mut BufReader::new(Cursor::new(bytes)), 0).unwrap()
    }

    #[test]
    fn sizes_that_fit_pass_and_a_huge_string_does_not() {
        let header = element(
            &[0x1A, 0x45, 0xDF, 0xA3],
            &[0x84],
            &[0x42, 0x86, 0x81, 0x01],
        );
        let title = element(&[0x7B, 0xA9], &[0x83], b"abc");
        let segment = element(
            &[0x18, 0x53, 0x80, 0x67],
            &[0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF],
            &element(&[0x15, 0x49, 0xA9, 0x66], &[0x86], &title),
        );
        assert!(!oversized(&[header.clone(), segment].concat()));
        // The same title claiming 2^32 bytes (an eight-byte size).
        let huge = element(&[0x7B, 0xA9], &[0x01, 0, 0, 0x01, 0, 0, 0, 0], b"abc");
        let info = element(
            &[0x15, 0x49, 0xA9, 0x66],
            &[0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF],
            &huge,
        );
        let segment = element(
            &[0x18, 0x53, 0x80, 0x67],
            &[0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF],
            &info,
        );
        assert!(oversized(&[header, segment].concat()));
    }

    #[test]
    fn a_block_cut_short_is_left_to_symphonia() {
        // A SimpleBlock claiming 100 bytes with 10 left: a truncated file.
        let block = element(&[0xA3], &[0xE4], &[0x81, 0, 0, 0x80, 1, 2, 3, 4, 5, 6]);
        let cluster = element(
            &[0x1F, 0x43, 0xB6, 0x75],
            &[0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF],
            &block,
        );
        assert!(!oversized(&cluster));
    }

    #[test]
    fn an_ebml_laced_frame_larger_than_its_block_is_refused() {
        // Track 1, timecode 0, flags: EBML lacing (0b110), 2 frames (count 1),
        // first size 2^48 as an 8-byte vint.
        let mut data = vec![0x81, 0, 0, 0x06, 0x01];
        data.extend_from_slice(&[0x01, 0x01, 0, 0, 0, 0, 0, 0]);
        data.extend_from_slice(&[0u8; 16]);
        let block = element(&[0xA3], &[0x80 | data.len() as u8], &data);
        assert!(oversized(&block));
        // The same block with a first frame of 4 bytes is fine.
        let mut fine = vec![0x81, 0, 0, 0x06, 0x01, 0x84];
        fine.extend_from_slice(&[0u8; 16]);
        let block = element(&[0xA3], &[0x80 | fine.len() as u8], &fine);
        assert!(!oversized(&block));
    }

    #[test]
    fn a_xiph_laced_frame_larger_than_its_block_is_refused() {
        let mut data = vec![0x81, 0, 0, 0x02, 0x01];
        data.extend_from_slice(&[255; 8]);
        data.push(0);
        let block = element(&[0xA3], &[0x80 | data.len() as u8], &data);
        assert!(oversized(&block));
    }
}
