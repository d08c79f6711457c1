//! The one error type of the conversion library.
//!
//! Every way an input can fail to convert has its own variant, so callers (the
//! CLI, later the worker) can tell input that will never convert (report the
//! job failed, no retry) from an environment problem (retry), and users get a
//! sentence rather than a decoder's internal message.

use std::io;

/// Why a conversion failed.
#[derive(Debug, thiserror::Error)]
pub enum ConvertError {
    /// The input file has no bytes at all.
    #[error("the input file is empty")]
    Empty,
    /// The bytes are not a container symphonia can read (or not media at all).
    #[error(
        "the input is not a supported media file (MP4/MOV/M4A, MKV/WebM, OGG, WAV, FLAC or MP3)"
    )]
    UnsupportedFormat,
    /// The container holds no audio track.
    #[error("the input has no audio track")]
    NoAudioTrack,
    /// The audio track uses a codec we cannot decode.
    #[error("the audio codec {codec} is not supported (AAC, Vorbis, FLAC, MP3 and PCM are)")]
    UnsupportedCodec {
        /// The codec's short name, or its numeric id when symphonia has no name for it.
        codec: String,
    },
    /// The file ends before the audio track does.
    #[error("the input is truncated: it ends after {decoded_secs:.2} s of {expected_secs:.2} s of audio")]
    Truncated {
        /// Seconds of audio decoded before the file ended.
        decoded_secs: f64,
        /// Seconds of audio the container announced.
        expected_secs: f64,
    },
    /// The file ends inside the container's structure (before its index or
    /// inside a box it announced).
    #[error("the input is truncated: the file ends inside its container structure")]
    TruncatedContainer,
    /// The audio data is damaged beyond what skipping a few packets can repair.
    #[error("the audio data is corrupt: {detail}")]
    Corrupt {
        /// What the decoder or demuxer reported.
        detail: String,
    },
    /// The audio track decodes to nothing.
    #[error("the audio track contains no samples")]
    NoAudio,
    /// The sample rate or channel layout cannot be handled.
    #[error("unsupported audio layout: {detail}")]
    UnsupportedLayout {
        /// What is wrong with the layout.
        detail: String,
    },
    /// An option given by the caller is out of range.
    #[error("invalid option: {0}")]
    InvalidOption(String),
    /// The MP3 encoder refused its parameters or failed.
    #[error("the MP3 encoder failed: {0}")]
    Encoder(String),
    /// The resampler failed.
    #[error("resampling failed: {0}")]
    Resample(String),
    /// The encoded output did not pass the check after encoding.
    #[error("the output failed its check: {0}")]
    OutputCheck(String),
    /// The caller canceled the conversion (see `ConvertOptions::cancel`).
    #[error("the conversion was canceled")]
    Canceled,
    /// Reading the input or writing the output failed.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
}

impl ConvertError {
    /// Wraps an I/O error with what was being done when it happened.
    pub fn io(context: impl Into<String>, source: io::Error) -> Self {
        Self::Io {
            context: context.into(),
            source,
        }
    }

    /// Whether the error comes from the input itself, so that retrying the same
    /// input can never succeed (the worker fails such jobs without retry).
    pub fn is_permanent(&self) -> bool {
        !matches!(self, Self::Io { .. } | Self::Encoder(_) | Self::Canceled)
    }
}
