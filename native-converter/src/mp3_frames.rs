//! Just enough of the MPEG audio Layer III frame format to join independently
//! encoded segments: frame headers, the side-info fields that say where a
//! frame's main data lives (`main_data_begin`, `part2_3_length`) and the
//! block types that must line up across a seam.
//!
//! Why this exists: an MP3 frame's main data may start up to 511 bytes
//! *before* the frame (the bit reservoir), inside earlier frames. When frames
//! of two encoders are concatenated, the first kept frame of the second one
//! points into frames that were dropped. [`crate::join`] therefore takes each
//! frame's main data out of its encoder's stream and lays it out again in the
//! joined stream, which needs exactly these fields.

/// Block type of a granule whose window switching flag is off.
pub(crate) const BLOCK_NORMAL: u8 = 0;

/// Layer III bit rates (kbit/s) by index, MPEG-1 and MPEG-2/2.5.
const BITRATES_V1: [u32; 15] = [
    0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320,
];
const BITRATES_V2: [u32; 15] = [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160];

/// One parsed Layer III frame (positions relative to the frame's first byte).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FrameInfo {
    /// The 4-byte frame header.
    pub header: [u8; 4],
    /// Whole frame length in bytes.
    pub len: usize,
    /// Header + CRC + side info length: the main-data area starts here.
    pub head_len: usize,
    /// MPEG-1 (two granules, 9-bit `main_data_begin`) or MPEG-2/2.5.
    pub mpeg1: bool,
    /// Whether a CRC-16 follows the header.
    pub protected: bool,
    /// `main_data_begin`: bytes of reservoir before this frame's data area.
    pub main_data_begin: usize,
    /// Sum of `part2_3_length` over granules and channels, in bits.
    pub main_bits: usize,
    /// Block type of the first granule, per channel.
    pub first_blocks: [u8; 2],
    /// Block type of the last granule, per channel.
    pub last_blocks: [u8; 2],
}

impl FrameInfo {
    /// The same frame at the next higher bit rate (a larger data area, the
    /// same side info and main data), or `None` at the top of the table.
    /// The joiner uses it to make room for a reservoir at a seam.
    pub(crate) fn bumped(&self) -> Option<FrameInfo> {
        let index = (self.header[2] >> 4) + 1;
        if index > 14 {
            return None;
        }
        let mut header = self.header;
        header[2] = (header[2] & 0x0F) | (index << 4);
        let len = frame_len(header)?;
        Some(FrameInfo {
            header,
            len,
            ..self.clone()
        })
    }

    /// Bytes of main data, rounded up (main data starts byte-aligned).
    pub(crate) fn main_bytes(&self) -> usize {
        self.main_bits.div_ceil(8)
    }

    /// Size of the area after the side info that holds main data.
    pub(crate) fn data_len(&self) -> usize {
        self.len - self.head_len
    }

    /// The largest `main_data_begin` LAME allows a frame of this size: the
    /// field's width (511 / 255 bytes) and its default buffer constraint
    /// (reservoir + frame ≤ 1440 bytes), so a re-laid stream stays within
    /// what decoders were promised.
    pub(crate) fn reservoir_cap(&self) -> usize {
        let field = if self.mpeg1 { 511 } else { 255 };
        field.min(1440usize.saturating_sub(self.len))
    }
}

/// Reads bits most significant first.
struct Bits<'a> {
    data: &'a [u8],
    pos: usize,
}

impl Bits<'_> {
    fn take(&mut self, n: usize) -> Option<u32> {
        let mut v = 0u32;
        for _ in 0..n {
            let byte = self.data.get(self.pos / 8)?;
            v = (v << 1) | u32::from((byte >> (7 - self.pos % 8)) & 1);
            self.pos += 1;
        }
        Some(v)
    }
}

/// Length of a Layer III frame with this header; `None` if the header is
/// not one.
pub(crate) fn frame_len(h: [u8; 4]) -> Option<usize> {
    if h[0] != 0xFF || h[1] & 0xE0 != 0xE0 || (h[1] >> 1) & 3 != 1 {
        return None;
    }
    let version = (h[1] >> 3) & 3;
    let mpeg1 = version == 3;
    let rates = match version {
        3 => [44_100, 48_000, 32_000],
        2 => [22_050, 24_000, 16_000],
        0 => [11_025, 12_000, 8_000],
        _ => return None,
    };
    let rate: u32 = *rates.get(usize::from((h[2] >> 2) & 3))?;
    let kbps = if mpeg1 { BITRATES_V1 } else { BITRATES_V2 }
        .get(usize::from(h[2] >> 4))
        .copied()
        .filter(|k| *k != 0)?;
    let coefficient = if mpeg1 { 144_000 } else { 72_000 };
    Some((coefficient * kbps / rate) as usize + usize::from((h[2] >> 1) & 1))
}

/// Parses the frame at the start of `data`. `None` when it is not a complete
/// Layer III frame.
pub(crate) fn parse_frame(data: &[u8]) -> Option<FrameInfo> {
    let h = data.get(..4)?;
    let len = frame_len([h[0], h[1], h[2], h[3]])?;
    let mpeg1 = (h[1] >> 3) & 3 == 3;
    let protected = h[1] & 1 == 0;
    let mono = h[3] >> 6 == 3;
    let side_len = match (mpeg1, mono) {
        (true, true) => 17,
        (true, false) => 32,
        (false, true) => 9,
        (false, false) => 17,
    };
    let head_len = 4 + if protected { 2 } else { 0 } + side_len;
    if len < head_len || data.len() < len {
        return None;
    }
    let channels = if mono { 1 } else { 2 };
    let granules = if mpeg1 { 2 } else { 1 };
    let mut bits = Bits {
        data: &data[head_len - side_len..head_len],
        pos: 0,
    };
    let main_data_begin = bits.take(if mpeg1 { 9 } else { 8 })? as usize;
    bits.take(match (mpeg1, mono) {
        (true, true) => 5,
        (true, false) => 3,
        (false, true) => 1,
        (false, false) => 2,
    })?;
    if mpeg1 {
        bits.take(4 * channels)?; // scfsi
    }
    let mut main_bits = 0usize;
    let mut blocks = [[BLOCK_NORMAL; 2]; 2];
    for granule in blocks.iter_mut().take(granules) {
        for block in granule.iter_mut().take(channels) {
            main_bits += bits.take(12)? as usize; // part2_3_length
            bits.take(9 + 8)?; // big_values, global_gain
            bits.take(if mpeg1 { 4 } else { 9 })?; // scalefac_compress
            if bits.take(1)? == 1 {
                *block = bits.take(2)? as u8;
                bits.take(1 + 10 + 9)?; // mixed, table_select, subblock_gain
            } else {
                bits.take(15 + 4 + 3)?; // table_select, region counts
            }
            bits.take(if mpeg1 { 3 } else { 2 })?; // (preflag,) scale, count1
        }
        if mono {
            granule[1] = granule[0];
        }
    }
    Some(FrameInfo {
        header: [h[0], h[1], h[2], h[3]],
        len,
        head_len,
        mpeg1,
        protected,
        main_data_begin,
        main_bits,
        first_blocks: blocks[0],
        last_blocks: blocks[granules - 1],
    })
}

/// Whether a granule of type `next` may follow one of type `prev`: the
/// windows must overlap with the same shape or the aliasing does not cancel
/// (long-ending NORMAL/STOP before long-starting NORMAL/START; short-ending
/// START/SHORT before short-starting SHORT/STOP).
pub(crate) fn windows_fit(prev: [u8; 2], next: [u8; 2]) -> bool {
    let ends_short = |t: u8| t == 1 || t == 2;
    let starts_short = |t: u8| t == 2 || t == 3;
    prev.iter()
        .zip(&next)
        .all(|(p, n)| ends_short(*p) == starts_short(*n))
}

/// Writes `main_data_begin` into a frame's head (header + CRC + side info)
/// and refreshes its CRC when it has one.
pub(crate) fn set_main_data_begin(head: &mut [u8], info: &FrameInfo, mdb: usize) {
    let side = if info.protected { 6 } else { 4 };
    if info.mpeg1 {
        head[side] = (mdb >> 1) as u8;
        head[side + 1] = (head[side + 1] & 0x7F) | (((mdb & 1) as u8) << 7);
    } else {
        head[side] = mdb as u8;
    }
    if info.protected {
        let mut crc = 0xFFFFu16;
        for byte in head[2..4].iter().chain(&head[6..info.head_len]) {
            crc = crc16_8005(crc, *byte);
        }
        head[4..6].copy_from_slice(&crc.to_be_bytes());
    }
}

/// The MPEG audio header CRC (polynomial 0x8005, MSB first).
fn crc16_8005(mut crc: u16, byte: u8) -> u16 {
    crc ^= u16::from(byte) << 8;
    for _ in 0..8 {
        crc = if crc & 0x8000 != 0 {
            (crc << 1) ^ 0x8005
        } else {
            crc << 1
        };
    }
    crc
}

/// Splits an encoder's output into frames; `None` if any byte is not part
/// of a Layer III frame (our own encoder's output never is).
pub(crate) fn split_frames(data: &[u8]) -> Option<Vec<(usize, FrameInfo)>> {
    let mut out = Vec::with_capacity(data.len() / 400 + 1);
    let mut pos = 0;
    while pos < data.len() {
        let info = parse_frame(&data[pos..])?;
        let len = info.len;
        out.push((pos, info));
        pos += len;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_192k_stereo_mpeg1_header_is_parsed() {
        let mut frame = vec![0u8; 627];
        frame[..4].copy_from_slice(&[0xFF, 0xFB, 0xB2, 0x44]);
        let mut head = frame[..36].to_vec();
        let info = parse_frame(&frame).expect("a frame");
        set_main_data_begin(&mut head, &info, 300);
        frame[..36].copy_from_slice(&head);
        let info = parse_frame(&frame).expect("a frame");
        assert_eq!((info.len, info.head_len, info.mpeg1), (627, 36, true));
        assert_eq!(info.main_data_begin, 300);
        assert_eq!(info.reservoir_cap(), 511);
        let bigger = info.bumped().expect("224 kbit/s exists");
        assert_eq!((bigger.len, bigger.header[2] >> 4), (732, 12));
    }

    #[test]
    fn window_shapes_must_match_across_a_seam() {
        assert!(windows_fit([0, 0], [0, 0]));
        assert!(windows_fit([0, 0], [1, 1]));
        assert!(windows_fit([1, 1], [2, 2]));
        assert!(windows_fit([2, 2], [3, 3]));
        assert!(!windows_fit([0, 0], [2, 2]));
        assert!(!windows_fit([2, 2], [0, 0]));
    }
}
