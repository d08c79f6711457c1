//! Shared set-up: inputs made in memory, a worker context pointed at a
//! gateway double, and the path of the worker binary.

use std::path::Path;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use clipwave_convert::worker::notify::NotifierHandle;
use clipwave_convert::worker::{ApiClient, ConverterProcess, WorkerContext};
use clipwave_convert::ConvertOptions;

use crate::gateway_double::{GatewayDouble, CLIENT_ID, CLIENT_SECRET};

pub const WORKER_BIN: &str = env!("CARGO_BIN_EXE_clipwave-worker");

/// A 16-bit stereo 44.1 kHz WAV of a 440 Hz tone, `secs` long.
pub fn wav_bytes(secs: f64) -> Vec<u8> {
    let rate = 44_100u32;
    let frames = (secs * f64::from(rate)) as u32;
    let data_len = frames * 4;
    let mut out = Vec::with_capacity(44 + data_len as usize);
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&(36 + data_len).to_le_bytes());
    out.extend_from_slice(b"WAVEfmt ");
    out.extend_from_slice(&16u32.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes());
    out.extend_from_slice(&2u16.to_le_bytes());
    out.extend_from_slice(&rate.to_le_bytes());
    out.extend_from_slice(&(rate * 4).to_le_bytes());
    out.extend_from_slice(&4u16.to_le_bytes());
    out.extend_from_slice(&16u16.to_le_bytes());
    out.extend_from_slice(b"data");
    out.extend_from_slice(&data_len.to_le_bytes());
    for i in 0..frames {
        let t = f64::from(i) / f64::from(rate);
        let s = ((t * 440.0 * std::f64::consts::TAU).sin() * 8000.0) as i16;
        out.extend_from_slice(&s.to_le_bytes());
        out.extend_from_slice(&s.to_le_bytes());
    }
    out
}

/// A worker context for `gateway`, with its work files under `dir`.
pub fn context(
    gateway: &GatewayDouble,
    dir: &Path,
    notifier: Option<NotifierHandle>,
) -> WorkerContext {
    WorkerContext {
        api: ApiClient::new(&gateway.url, CLIENT_ID, CLIENT_SECRET).expect("an HTTP client"),
        worker_id: "test-worker".into(),
        work_dir: dir.to_path_buf(),
        convert: ConvertOptions::default(),
        converter: ConverterProcess::new(WORKER_BIN),
        shutdown: Arc::new(AtomicBool::new(false)),
        notifier,
    }
}

/// Whether `bytes` start like our MP3 output (an MPEG audio frame sync).
pub fn looks_like_mp3(bytes: &[u8]) -> bool {
    bytes.len() > 1000 && bytes[0] == 0xFF && bytes[1] & 0xE0 == 0xE0
}
