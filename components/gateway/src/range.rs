//! Deciding what part of a download to send: `Range` and `If-Range`.
//!
//! RFC 9110 §14 lets a server ignore a `Range` it does not like, so we serve
//! exactly one byte range and answer everything else (malformed headers,
//! several ranges) with the whole file; only a well-formed single range that
//! misses the file is 416. Parsing is `http-range-header`'s.

use http_range_header::{parse_range_header, RangeUnsatisfiableError};

/// An inclusive byte range that lies inside the file: `first <= last < size`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ByteRange {
    first: u64,
    last: u64,
}

impl ByteRange {
    /// The first byte.
    pub fn first(self) -> u64 {
        self.first
    }

    /// The last byte (inclusive).
    pub fn last(self) -> u64 {
        self.last
    }

    /// How many bytes the range covers.
    pub fn byte_count(self) -> u64 {
        self.last - self.first + 1
    }

    /// The `Content-Range` value for a file of `size` bytes.
    pub fn content_range(self, size: u64) -> String {
        format!("bytes {}-{}/{size}", self.first, self.last)
    }
}

/// What to send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Selection {
    /// 200 with the whole file.
    Whole,
    /// 206 with one range.
    Partial(ByteRange),
    /// 416 with `Content-Range: bytes */<size>`.
    Unsatisfiable,
}

/// Chooses the response for a file of `size` bytes with entity tag `etag`
/// (quoted), given the request's `Range` and `If-Range` header values.
pub fn select(range: Option<&str>, if_range: Option<&str>, size: u64, etag: &str) -> Selection {
    let Some(range) = range else {
        return Selection::Whole;
    };
    // If-Range with anything but our current strong tag (a date, a weak or
    // stale tag) means "the file changed, send all of it" (RFC 9110 §13.1.5).
    if if_range.is_some_and(|validator| validator.trim() != etag) {
        return Selection::Whole;
    }
    let Ok(parsed) = parse_range_header(range) else {
        return Selection::Whole;
    };
    if parsed.len() != 1 {
        return Selection::Whole;
    }
    match parsed.validate(size) {
        Ok(ranges) => match ranges.first() {
            Some(r) => Selection::Partial(ByteRange {
                first: *r.start(),
                last: *r.end(),
            }),
            // Only for an empty file with a suffix range: nothing to slice.
            None => Selection::Whole,
        },
        Err(RangeUnsatisfiableError::Unsatisfiable) => Selection::Unsatisfiable,
        Err(_) => Selection::Whole,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TAG: &str = "\"abc\"";

    fn partial(first: u64, last: u64) -> Selection {
        Selection::Partial(ByteRange { first, last })
    }

    #[test]
    fn single_ranges_select_exact_bytes() {
        assert_eq!(select(Some("bytes=0-0"), None, 1000, TAG), partial(0, 0));
        assert_eq!(
            select(Some("bytes=100-199"), None, 1000, TAG),
            partial(100, 199)
        );
        assert_eq!(
            select(Some("bytes=-100"), None, 1000, TAG),
            partial(900, 999)
        );
        assert_eq!(
            select(Some("bytes=990-"), None, 1000, TAG),
            partial(990, 999)
        );
        assert_eq!(
            select(Some("bytes=990-5000"), None, 1000, TAG),
            partial(990, 999)
        );
        assert_eq!(
            select(Some("bytes=-5000"), None, 1000, TAG),
            partial(0, 999)
        );
    }

    #[test]
    fn ranges_outside_the_file_are_unsatisfiable() {
        assert_eq!(
            select(Some("bytes=1000-"), None, 1000, TAG),
            Selection::Unsatisfiable
        );
        assert_eq!(
            select(Some("bytes=5000-6000"), None, 1000, TAG),
            Selection::Unsatisfiable
        );
        assert_eq!(
            select(Some("bytes=-0"), None, 1000, TAG),
            Selection::Unsatisfiable
        );
    }

    #[test]
    fn malformed_and_multiple_ranges_are_ignored() {
        for header in [
            "bytes=abc",
            "bytes=5-2",
            "items=0-1",
            "bytes=",
            "bytes=0-1,5-9",
            "bytes=0-1, 2-3",
            "bytes 0-1",
            "bytes=--1",
        ] {
            assert_eq!(
                select(Some(header), None, 1000, TAG),
                Selection::Whole,
                "{header}"
            );
        }
    }

    #[test]
    fn if_range_only_allows_a_range_for_the_current_tag() {
        assert_eq!(
            select(Some("bytes=0-9"), Some(TAG), 1000, TAG),
            partial(0, 9)
        );
        for stale in ["\"other\"", "W/\"abc\"", "Tue, 01 Jan 2030 00:00:00 GMT"] {
            assert_eq!(
                select(Some("bytes=0-9"), Some(stale), 1000, TAG),
                Selection::Whole
            );
        }
    }

    #[test]
    fn content_range_names_first_last_and_size() {
        assert_eq!(
            ByteRange {
                first: 10,
                last: 19
            }
            .content_range(100),
            "bytes 10-19/100"
        );
        assert_eq!(
            ByteRange {
                first: 10,
                last: 19
            }
            .byte_count(),
            10
        );
    }

    mod fuzz {
        //! The short, always-on run of `fuzz/fuzz_targets/range.rs`
        //! (docs/fuzzing.md): any `Range`/`If-Range` pair selects bytes
        //! inside the file, and the download's chunk slices cover exactly them.

        use proptest::prelude::*;

        use super::*;
        use crate::media_store::{slices, Manifest, CHUNK_SIZE};

        fn covered(size: u64, first: u64, last: u64) -> u64 {
            let manifest = Manifest {
                size,
                sha256: String::new(),
                content_type: "audio/mpeg".into(),
                filename: "a.mp3".into(),
                chunk_size: CHUNK_SIZE as u64,
                chunks: size.div_ceil(CHUNK_SIZE as u64),
            };
            let mut next = first;
            for slice in slices(&manifest, first, last) {
                assert!(slice.index < manifest.chunks);
                assert!(slice.start < slice.end && slice.end <= CHUNK_SIZE);
                assert_eq!(slice.index * CHUNK_SIZE as u64 + slice.start as u64, next);
                next = slice.index * CHUNK_SIZE as u64 + slice.end as u64;
            }
            next - first
        }

        fn range_header() -> impl Strategy<Value = String> {
            let bound = prop_oneof![
                Just(String::new()),
                (0..3000u64).prop_map(|n| n.to_string()),
                any::<u64>().prop_map(|n| n.to_string()),
                Just("18446744073709551616".to_owned()),
                Just("-0".to_owned()),
                Just(" 1".to_owned()),
            ];
            let spec = (
                bound.clone(),
                prop::sample::select(vec!["-", "--", "", " - "]),
                bound,
            )
                .prop_map(|(a, dash, b)| format!("{a}{dash}{b}"));
            prop_oneof![
                (
                    prop::sample::select(vec![
                        "bytes=", "Bytes=", "bytes =", "bytes", "items=", ""
                    ]),
                    proptest::collection::vec(spec, 1..4),
                    prop::sample::select(vec![",", ", ", ";"]),
                )
                    .prop_map(|(unit, specs, sep)| format!("{unit}{}", specs.join(sep))),
                ".{0,40}",
            ]
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(4000))]

            #[test]
            fn any_range_selects_bytes_inside_the_file_or_the_whole_file(
                range in range_header(),
                if_range in proptest::option::of(prop_oneof![Just(TAG.to_owned()), Just(format!(" {TAG} ")), ".{0,20}"]),
                size in prop_oneof![0..3 * CHUNK_SIZE as u64, Just(u64::MAX), any::<u64>()],
            ) {
                match select(Some(&range), if_range.as_deref(), size, TAG) {
                    Selection::Partial(r) => {
                        prop_assert!(r.first() <= r.last() && r.last() < size);
                        if r.byte_count() <= 64 * CHUNK_SIZE as u64 {
                            prop_assert_eq!(covered(size, r.first(), r.last()), r.byte_count());
                        }
                    }
                    Selection::Whole => {
                        if size > 0 && size <= 64 * CHUNK_SIZE as u64 {
                            prop_assert_eq!(covered(size, 0, size - 1), size);
                        }
                    }
                    Selection::Unsatisfiable => {
                        prop_assert!(if_range.as_deref().is_none_or(|v| v.trim() == TAG));
                    }
                }
            }
        }
    }
}
