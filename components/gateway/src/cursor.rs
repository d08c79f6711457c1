//! Keyset pagination for `GET /jobs`: the cursor and the page size.
//!
//! Jobs are listed newest first by `(created_ms, id)`; a cursor names the
//! last job of the previous page, so pages stay stable while new jobs
//! arrive (an offset would shift). The cursor is opaque to clients but
//! plain text to us: `<created_ms>_<job id>`.

use clipwave_ids::JobId;

/// Jobs per page unless the client asks otherwise.
pub const DEFAULT_LIMIT: u32 = 20;
/// The most jobs a page may hold.
pub const MAX_LIMIT: u32 = 100;

/// Where the next page starts: strictly after this job in list order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    /// The job's creation time in Unix milliseconds.
    pub created_ms: i64,
    /// The job's id (ties broken by id, descending).
    pub id: JobId,
}

impl Cursor {
    /// The wire form.
    pub fn encode(&self) -> String {
        format!("{}_{}", self.created_ms, self.id)
    }

    /// Parses the wire form; `None` for anything we did not make.
    pub fn decode(text: &str) -> Option<Self> {
        let (millis, id) = text.split_once('_')?;
        if millis.is_empty() || millis.len() > 15 || !millis.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        Some(Self {
            created_ms: millis.parse().ok()?,
            id: JobId::parse(id)?,
        })
    }
}

/// What the query string of `GET /jobs` asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageRequest {
    /// Page size, 1..=[`MAX_LIMIT`].
    pub limit: u32,
    /// Start after this job, or at the newest.
    pub after: Option<Cursor>,
}

impl PageRequest {
    /// Parses `limit` and `cursor` from a query string; unknown parameters
    /// are ignored.
    ///
    /// # Errors
    /// A message for the client when `limit` is not 1..=100 or the cursor
    /// is not one we issued.
    pub fn from_query(query: &str) -> Result<Self, &'static str> {
        let mut page = Self {
            limit: DEFAULT_LIMIT,
            after: None,
        };
        for (name, value) in form_urlencoded::parse(query.as_bytes()) {
            match &*name {
                "limit" => {
                    page.limit = value
                        .parse()
                        .ok()
                        .filter(|n| (1..=MAX_LIMIT).contains(n))
                        .ok_or("`limit` must be an integer from 1 to 100.")?;
                }
                "cursor" if !value.is_empty() => {
                    page.after = Some(Cursor::decode(&value).ok_or("`cursor` is not valid.")?);
                }
                _ => {}
            }
        }
        Ok(page)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_survives_its_round_trip() {
        let cursor = Cursor {
            created_ms: 1_764_130_000_123,
            id: JobId::generate(),
        };
        assert_eq!(Cursor::decode(&cursor.encode()), Some(cursor));
    }

    #[test]
    fn foreign_cursors_are_refused() {
        for bad in [
            "",
            "_",
            "12_",
            "_abc",
            "-1_6f1c0000000000000000000000000000",
            "1_x",
            "1e3_6f1c0000000000000000000000000000",
        ] {
            assert_eq!(Cursor::decode(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn the_query_sets_limit_and_cursor_within_bounds() {
        assert_eq!(PageRequest::from_query("").unwrap().limit, DEFAULT_LIMIT);
        let page = PageRequest::from_query("limit=5&cursor=7_6f1c0000000000000000000000000000&x=1")
            .unwrap();
        assert_eq!(page.limit, 5);
        assert_eq!(page.after.unwrap().created_ms, 7);
        for bad in ["limit=0", "limit=101", "limit=abc", "cursor=zzz"] {
            assert!(PageRequest::from_query(bad).is_err(), "{bad}");
        }
    }
}
