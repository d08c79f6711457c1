//! Recognising supported media containers by their first bytes.
//!
//! An upload is refused with 415 at once when its magic bytes are not a
//! container the converter can decode (DESIGN §6): better than storing a
//! gigabyte and failing the job minutes later. The check is deliberately
//! about containers only; a corrupt file that starts right still fails in
//! the worker with a clear reason.

/// How many leading bytes [`sniff`] wants to see (fewer only at end of file).
pub const SNIFF_LEN: usize = 12;

/// A container the converter decodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Container {
    /// ISO base media: MP4, MOV, M4A (`ftyp` and other top-level atoms).
    IsoMedia,
    /// Matroska or WebM (EBML header `1A 45 DF A3`).
    Matroska,
    /// Ogg (`OggS`).
    Ogg,
    /// RIFF WAVE (`RIFF....WAVE`).
    Wave,
    /// FLAC (`fLaC`).
    Flac,
    /// MPEG audio: an `ID3` tag or a frame sync.
    Mpeg,
}

impl Container {
    /// A media type for the container, used when the client declared none
    /// of its own (or a generic one).
    pub fn media_type(self) -> &'static str {
        match self {
            Self::IsoMedia => "video/mp4",
            Self::Matroska => "video/x-matroska",
            Self::Ogg => "audio/ogg",
            Self::Wave => "audio/wav",
            Self::Flac => "audio/flac",
            Self::Mpeg => "audio/mpeg",
        }
    }
}

/// Top-level ISO-BMFF atoms a MOV/MP4 file may start with.
const ISO_ATOMS: [&[u8; 4]; 7] = [
    b"ftyp", b"moov", b"mdat", b"wide", b"free", b"skip", b"pnot",
];

/// The container `head` (the first [`SNIFF_LEN`] bytes, or the whole file
/// when shorter) starts, or `None` when it is none we support.
pub fn sniff(head: &[u8]) -> Option<Container> {
    if head.len() >= 8 && ISO_ATOMS.iter().any(|atom| &head[4..8] == *atom) {
        return Some(Container::IsoMedia);
    }
    if head.starts_with(&[0x1A, 0x45, 0xDF, 0xA3]) {
        return Some(Container::Matroska);
    }
    if head.starts_with(b"OggS") {
        return Some(Container::Ogg);
    }
    if head.len() >= 12 && head.starts_with(b"RIFF") && &head[8..12] == b"WAVE" {
        return Some(Container::Wave);
    }
    if head.starts_with(b"fLaC") {
        return Some(Container::Flac);
    }
    if head.starts_with(b"ID3") || is_mpeg_frame_sync(head) {
        return Some(Container::Mpeg);
    }
    None
}

/// An MPEG audio frame header: 11 sync bits, a version that is not the
/// reserved `01`, a layer that is not the reserved `00`, and a bitrate
/// index that is not the invalid `1111`.
fn is_mpeg_frame_sync(head: &[u8]) -> bool {
    let [first, second, third, ..] = *head else {
        return false;
    };
    first == 0xFF
        && second & 0xE0 == 0xE0
        && (second >> 3) & 0b11 != 0b01
        && (second >> 1) & 0b11 != 0b00
        && third >> 4 != 0b1111
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_supported_container_is_recognised() {
        let cases: [(&[u8], Container); 8] = [
            (b"\0\0\0\x20ftypisom\0\0", Container::IsoMedia),
            (b"\0\0\0\x14ftypqt  ", Container::IsoMedia),
            (b"\0\0\0\x08wide\0\0\0\0", Container::IsoMedia),
            (
                &[0x1A, 0x45, 0xDF, 0xA3, 0x9F, 0x42, 0x86, 0x81],
                Container::Matroska,
            ),
            (b"OggS\0\x02\0\0\0\0\0\0", Container::Ogg),
            (b"RIFF\x24\0\0\0WAVEfmt ", Container::Wave),
            (b"fLaC\0\0\0\x22", Container::Flac),
            (b"ID3\x04\0\0\0\0\0\0", Container::Mpeg),
        ];
        for (head, expected) in cases {
            assert_eq!(sniff(head), Some(expected), "{head:?}");
        }
        assert_eq!(sniff(&[0xFF, 0xFB, 0x90, 0x64]), Some(Container::Mpeg));
    }

    #[test]
    fn other_bytes_are_not_media() {
        let cases: [&[u8]; 9] = [
            b"",
            b"%PDF-1.7\n%\xe2\xe3",
            b"\x89PNG\r\n\x1a\n\0\0\0\x0d",
            b"PK\x03\x04\x14\0\0\0",
            b"RIFF\x24\0\0\0AVI LIST",
            b"<html><body>",
            &[0xFF, 0xFF, 0xFF, 0xFF],
            &[0xFF, 0xE8, 0x90, 0x64],
            b"\0\0\0\x20ftp",
        ];
        for head in cases {
            assert_eq!(sniff(head), None, "{head:?}");
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(4000))]

        /// The short run of `fuzz/fuzz_targets/sniff.rs`: sniffing never
        /// panics and never looks past [`SNIFF_LEN`], the bytes the upload
        /// writer keeps for it.
        #[test]
        fn sniff_answers_from_the_first_bytes_alone(
            data in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..40),
        ) {
            let head = &data[..data.len().min(SNIFF_LEN)];
            proptest::prop_assert_eq!(sniff(&data), sniff(head));
        }
    }
}
