//! Turning an upload body into a stored blob, streamed: raw or multipart.
//!
//! Both paths push the body through a [`BlobWriter`] piece by piece, so
//! memory stays at one chunk whatever the file size; the first bytes are
//! sniffed on the way ([`crate::sniff`]) and a body that is not a supported
//! container stops at once. Nothing is committed until the whole body has
//! been read and checked, so every failure leaves the store as it was.
//!
//! Multipart parsing is `multer`'s (it builds for `wasm32-wasip2` without
//! tokio). The form must hold exactly one file — a part with a filename or
//! named `file`, as the original tutorial's `request.files` — and may hold
//! a `callback_url` field; other fields are read and ignored. A form's
//! shape is judged before its content: when the first file is not media,
//! the rest is still read (and discarded) so that a second file makes it a
//! 400, as DESIGN §3 lists "zero or several files" first.

use std::{
    pin::Pin,
    task::{Context, Poll},
};

use bytes::Bytes;
use futures::{Stream, StreamExt};

use crate::{
    body::BodyError,
    media_store::{BlobWriter, Kv, Manifest, WriteError},
    sniff::{sniff, Container, SNIFF_LEN},
};

/// Longest `callback_url` accepted.
const MAX_CALLBACK_LEN: usize = 2048;
/// Longest original filename kept (longer ones are cut).
const MAX_FILENAME_CHARS: usize = 255;

/// Why an upload was refused or failed.
#[derive(Debug)]
pub enum IngestError {
    /// 413: the file or the body is over the limit.
    TooLarge,
    /// 415: the bytes are not a supported container.
    Unsupported,
    /// 400 with a message for the client.
    BadRequest(String),
    /// The client stopped sending (no response can reach it anyway).
    ClientGone(String),
    /// The media store failed.
    Store(anyhow::Error),
}

impl From<WriteError> for IngestError {
    fn from(error: WriteError) -> Self {
        match error {
            WriteError::TooLarge => Self::TooLarge,
            WriteError::Store(error) => Self::Store(error),
        }
    }
}

impl From<BodyError> for IngestError {
    fn from(error: BodyError) -> Self {
        match error {
            BodyError::TooLarge => Self::TooLarge,
            BodyError::Read(reason) => Self::ClientGone(reason),
        }
    }
}

impl From<multer::Error> for IngestError {
    fn from(error: multer::Error) -> Self {
        if let multer::Error::StreamReadFailed(inner) = &error {
            if let Some(body) = inner.downcast_ref::<BodyError>() {
                return body.clone().into();
            }
        }
        Self::BadRequest(format!("The multipart body is malformed: {error}."))
    }
}

/// What a multipart upload carried besides the file.
#[derive(Debug)]
pub struct FormUpload {
    /// The stored file.
    pub manifest: Manifest,
    /// The `callback_url` field, checked.
    pub callback_url: Option<String>,
}

/// A [`BlobWriter`] that checks the first bytes of what passes through.
struct SniffingWriter<'a, K: Kv + ?Sized> {
    writer: BlobWriter<'a, K>,
    head: Vec<u8>,
    container: Option<Container>,
}

impl<'a, K: Kv + ?Sized> SniffingWriter<'a, K> {
    fn new(writer: BlobWriter<'a, K>) -> Self {
        Self {
            writer,
            head: Vec::with_capacity(SNIFF_LEN),
            container: None,
        }
    }

    fn write(&mut self, data: &[u8]) -> Result<(), IngestError> {
        if self.container.is_none() {
            let wanted = SNIFF_LEN - self.head.len();
            self.head.extend_from_slice(&data[..wanted.min(data.len())]);
            if self.head.len() == SNIFF_LEN {
                self.container = Some(sniff(&self.head).ok_or(IngestError::Unsupported)?);
            }
        }
        Ok(self.writer.write(data)?)
    }

    fn commit(self, declared: Option<&str>, filename: &str) -> Result<Manifest, IngestError> {
        let container = match self.container {
            Some(found) => found,
            None => sniff(&self.head).ok_or(IngestError::Unsupported)?,
        };
        let content_type = declared
            .filter(|media| media.starts_with("video/") || media.starts_with("audio/"))
            .unwrap_or(container.media_type());
        self.writer
            .commit(content_type, filename)
            .map_err(IngestError::Store)
    }
}

/// Stores a raw body (`Content-Type: video/*` or `audio/*`).
///
/// # Errors
/// See [`IngestError`]; on error nothing stays in the store.
pub async fn raw<S, K>(
    body: S,
    writer: BlobWriter<'_, K>,
    content_type: &str,
    filename: &str,
) -> Result<Manifest, IngestError>
where
    S: Stream<Item = Result<Bytes, BodyError>>,
    K: Kv + ?Sized,
{
    let mut body = std::pin::pin!(body);
    let mut sink = SniffingWriter::new(writer);
    while let Some(chunk) = body.next().await {
        sink.write(&chunk?)?;
    }
    sink.commit(Some(content_type), &clean_filename(filename))
}

/// Stores the one file of a `multipart/form-data` body.
///
/// # Errors
/// 400 for no file, several files, a bad `callback_url` or a malformed
/// body (even when the first file is not media); 415 for a single file
/// that is not media; otherwise see [`IngestError`]. On error nothing stays
/// in the store.
///
/// multer's buffer takes every chunk a ready stream offers in one go, so
/// on a fast connection the body piled up in memory faster than it was
/// stored (132 MiB of host memory for a 1 GiB form); the body is handed
/// over through [`OneChunkPerPoll`] to keep that buffer to about a chunk.
pub async fn multipart<S, K>(
    body: S,
    boundary: &str,
    writer: BlobWriter<'_, K>,
) -> Result<FormUpload, IngestError>
where
    S: Stream<Item = Result<Bytes, BodyError>> + Send,
    K: Kv + ?Sized,
{
    let mut form = multer::Multipart::new(OneChunkPerPoll::new(body), boundary);
    let mut writer = Some(writer);
    let mut file: Option<(SniffingWriter<'_, K>, Option<String>, String)> = None;
    let mut not_media = false;
    let mut callback_url = None;
    while let Some(mut field) = form.next_field().await? {
        let is_file = field.file_name().is_some() || field.name() == Some("file");
        if is_file {
            let Some(writer) = writer.take() else {
                return Err(IngestError::BadRequest(
                    "Send exactly one file; this form has several.".into(),
                ));
            };
            let declared = field.content_type().map(|m| m.essence_str().to_owned());
            let filename = clean_filename(field.file_name().unwrap_or_default());
            let mut sink = SniffingWriter::new(writer);
            while let Some(chunk) = field.chunk().await? {
                match sink.write(&chunk) {
                    Ok(()) => {}
                    Err(IngestError::Unsupported) => {
                        // Dropping the writer deletes what it stored; the
                        // rest of the form is only read for its shape.
                        not_media = true;
                        while field.chunk().await?.is_some() {}
                        break;
                    }
                    Err(error) => return Err(error),
                }
            }
            if !not_media {
                file = Some((sink, declared, filename));
            }
        } else if field.name() == Some("callback_url") {
            let mut text = Vec::new();
            while let Some(chunk) = field.chunk().await? {
                text.extend_from_slice(&chunk);
                if text.len() > MAX_CALLBACK_LEN {
                    return Err(IngestError::BadRequest(
                        "`callback_url` is too long.".into(),
                    ));
                }
            }
            let text = String::from_utf8(text)
                .map_err(|_| IngestError::BadRequest("`callback_url` is not UTF-8.".into()))?;
            callback_url = parse_callback_url(&text)?;
        } else {
            while field.chunk().await?.is_some() {}
        }
    }
    if not_media {
        return Err(IngestError::Unsupported);
    }
    let Some((sink, declared, filename)) = file else {
        return Err(IngestError::BadRequest(
            "Send exactly one file in a `file` part; this form has none.".into(),
        ));
    };
    let manifest = sink.commit(declared.as_deref(), &filename)?;
    Ok(FormUpload {
        manifest,
        callback_url,
    })
}

/// Checks a webhook address: an absolute `http(s)` URL of sane length
/// without spaces or control characters; empty means none.
///
/// # Errors
/// 400 with a message when it is not such a URL.
pub fn parse_callback_url(text: &str) -> Result<Option<String>, IngestError> {
    // The limit is on what was sent, spaces included, as for the form field.
    if text.len() > MAX_CALLBACK_LEN {
        return Err(IngestError::BadRequest(
            "`callback_url` is too long.".into(),
        ));
    }
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    let lower = text.to_ascii_lowercase();
    let rest = lower
        .strip_prefix("https://")
        .or_else(|| lower.strip_prefix("http://"));
    let valid = text.len() <= MAX_CALLBACK_LEN
        && rest.is_some_and(|rest| !rest.is_empty() && !rest.starts_with('/'))
        && text.chars().all(|c| c.is_ascii_graphic());
    if valid {
        Ok(Some(text.to_owned()))
    } else {
        Err(IngestError::BadRequest(
            "`callback_url` must be an absolute http or https URL.".into(),
        ))
    }
}

/// The client's filename without directories or control characters, at
/// most 255 characters; `upload` when nothing is left.
pub fn clean_filename(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or_default();
    let cleaned: String = base
        .chars()
        .filter(|c| !c.is_control())
        .take(MAX_FILENAME_CHARS)
        .collect();
    let cleaned = cleaned.trim();
    if cleaned.is_empty() || cleaned == "." || cleaned == ".." {
        "upload".to_owned()
    } else {
        cleaned.to_owned()
    }
}

#[cfg(test)]
#[path = "ingest_tests.rs"]
mod tests;

/// A stream that yields at most one item per poll: after an item it
/// answers `Pending` once (waking itself at once), which ends a consumer's
/// "read while ready" loop without delaying it.
pub struct OneChunkPerPoll<S> {
    inner: Pin<Box<S>>,
    just_yielded: bool,
}

impl<S: Stream> OneChunkPerPoll<S> {
    /// Wraps `inner`.
    pub fn new(inner: S) -> Self {
        Self {
            inner: Box::pin(inner),
            just_yielded: false,
        }
    }
}

impl<S: Stream> Stream for OneChunkPerPoll<S> {
    type Item = S::Item;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<S::Item>> {
        if std::mem::take(&mut self.just_yielded) {
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        let next = self.inner.as_mut().poll_next(cx);
        self.just_yielded = matches!(next, Poll::Ready(Some(_)));
        next
    }
}
