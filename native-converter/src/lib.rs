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
//! - [`convert`]: the pipeline that ties them together, with progress.
//! - [`verify`]: the after-encoding check (decodes, duration matches).
//! - [`error`]: [`ConvertError`], the one error type.
//!
//! `mix` (downmix weights) and `mp4_edits` (MP4 edit lists, which symphonia
//! 0.5 does not apply) are internal.

pub mod convert;
pub mod decode;
pub mod encode;
pub mod error;
mod mix;
mod mp4_edits;
pub mod resample;
pub mod verify;

pub use convert::{convert_file, ConvertOptions, Progress, Summary};
pub use encode::{EncodeSettings, RateControl};
pub use error::ConvertError;
