//! Request bodies as byte streams with a hard size limit.
//!
//! Every body the gateway reads goes through [`limited`], so a client can
//! never make it read (or buffer) more than the route allows, whatever it
//! declares in `Content-Length`.

use bytes::Bytes;
use futures::{Stream, StreamExt};

/// Why reading a body stopped early.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BodyError {
    /// More bytes arrived than the route accepts.
    TooLarge,
    /// The client went away or the transport failed (a description for logs).
    Read(String),
}

impl std::fmt::Display for BodyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::TooLarge => f.write_str("request body too large"),
            Self::Read(reason) => write!(f, "request body could not be read: {reason}"),
        }
    }
}

impl std::error::Error for BodyError {}

/// Wraps a body stream so that it fails with [`BodyError::TooLarge`] once
/// more than `limit` bytes have arrived, and maps transport errors to
/// [`BodyError::Read`].
pub fn limited<S, E>(stream: S, limit: u64) -> impl Stream<Item = Result<Bytes, BodyError>>
where
    S: Stream<Item = Result<Vec<u8>, E>>,
    E: std::fmt::Debug,
{
    let mut seen: u64 = 0;
    stream.map(move |item| match item {
        Ok(chunk) => {
            seen = seen.saturating_add(chunk.len() as u64);
            if seen > limit {
                Err(BodyError::TooLarge)
            } else {
                Ok(Bytes::from(chunk))
            }
        }
        Err(error) => Err(BodyError::Read(format!("{error:?}"))),
    })
}

/// Reads a small body (JSON of the internal API) whole, up to `limit` bytes.
///
/// # Errors
/// The first [`BodyError`] met.
pub async fn collect<S>(stream: S) -> Result<Vec<u8>, BodyError>
where
    S: Stream<Item = Result<Bytes, BodyError>>,
{
    let mut stream = std::pin::pin!(stream);
    let mut body = Vec::new();
    while let Some(chunk) = stream.next().await {
        body.extend_from_slice(&chunk?);
    }
    Ok(body)
}

#[cfg(test)]
mod tests {
    use futures::{executor::block_on, stream};

    use super::*;

    #[test]
    fn a_body_within_the_limit_is_read_whole() {
        let chunks = stream::iter(vec![Ok::<_, ()>(b"ab".to_vec()), Ok(b"cd".to_vec())]);
        assert_eq!(block_on(collect(limited(chunks, 4))), Ok(b"abcd".to_vec()));
    }

    #[test]
    fn a_body_past_the_limit_fails_as_too_large() {
        let chunks = stream::iter(vec![Ok::<_, ()>(b"ab".to_vec()), Ok(b"cde".to_vec())]);
        assert_eq!(
            block_on(collect(limited(chunks, 4))),
            Err(BodyError::TooLarge)
        );
    }

    #[test]
    fn a_transport_error_is_a_read_error() {
        let chunks = stream::iter(vec![Ok(b"ab".to_vec()), Err("reset")]);
        assert!(matches!(
            block_on(collect(limited(chunks, 4))),
            Err(BodyError::Read(_))
        ));
    }
}
