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
}
