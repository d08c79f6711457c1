//! Clipwave's native converter: any supported video or audio file in, MP3 out.
//!
//! Everything streams: a packet is decoded, mixed, resampled if needed and
//! encoded before the next is read, so memory does not grow with the input's
//! length. The output is checked before [`convert::convert_file`] returns.
//!
//! # Layout
//! - [`decode`]: symphonia front end (probe, default audio track, priming
//!   trim, downmix); typed errors for every kind of bad input.
//! - [`encode`]: LAME through `mp3lame-encoder`, bit-rate settings, LAME tag.
//! - [`resample`]: rubato, for sample rates MP3 cannot carry.
//! - [`convert`]: the public entry point, with progress and cancellation.
//! - `pipeline`: the audio source shared by both strategies, and the
//!   one-thread encoder.
//! - [`parallel`]: segments dealt to encoder threads (compressed packets
//!   for AAC in MP4, decoded PCM otherwise); `join` stitches their
//!   frames (re-laying the bit reservoir, see `mp3_frames`) and `lame_tag`
//!   writes the joined stream's LAME tag.
//! - [`verify`]: the output check (every frame decodes as it is written,
//!   the LAME tag matches the stream, the duration matches the input's).
//! - [`error`]: [`ConvertError`], the one error type.
//! - [`worker`]: the `clipwave-worker` daemon's library (API client, job
//!   step, loop, notifications).
//!
//! `mix` (downmix weights), `mp4_edits` (MP4 edit lists, which symphonia
//! 0.5 does not apply) and `mkv_sizes` (Matroska sizes checked before
//! symphonia allocates them) are internal.

pub mod convert;
pub mod decode;
pub mod encode;
pub mod error;
mod join;
mod lame_tag;
mod mix;
mod mkv_sizes;
mod mp3_frames;
mod mp4_edits;
pub mod parallel;
mod pipeline;
pub mod resample;
pub mod verify;
pub mod worker;

pub use convert::{convert_file, ConvertOptions, Progress, Summary};
pub use encode::{EncodeSettings, RateControl};
pub use error::ConvertError;
