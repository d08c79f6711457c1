//! Sample-rate conversion for inputs at rates MP3 cannot carry (96 kHz, 88.2
//! kHz, 64 kHz, ...), with rubato's synchronous FFT resampler.
//!
//! It is streamed like the rest of the pipeline: input is gathered into fixed
//! chunks, and the resampler's start-up delay is cut from the front and the
//! output trimmed to exactly `round(input frames × ratio)`, so resampling moves
//! nothing in time and adds no tail.

use rubato::audioadapter_buffers::direct::SequentialSliceOfVecs;
use rubato::{Fft, FixedSync, Resampler as _};

use crate::ConvertError;

/// Input frames per resampler call.
const CHUNK: usize = 1024;

/// A streaming resampler from one fixed rate to another.
pub struct StreamResampler {
    inner: Fft<f32>,
    channels: usize,
    pending: Vec<Vec<f32>>,
    scratch: Vec<Vec<f32>>,
    delay_left: usize,
    in_total: u64,
    out_total: u64,
    from: u32,
    to: u32,
}

fn err(e: impl std::fmt::Display) -> ConvertError {
    ConvertError::Resample(e.to_string())
}

impl StreamResampler {
    /// A resampler for `channels` channels from `from` Hz to `to` Hz.
    ///
    /// # Errors
    /// [`ConvertError::Resample`] when rubato rejects the rates.
    pub fn new(from: u32, to: u32, channels: usize) -> Result<Self, ConvertError> {
        let inner = Fft::<f32>::new(
            from as usize,
            to as usize,
            CHUNK,
            channels,
            FixedSync::Input,
        )
        .map_err(err)?;
        let delay_left = inner.output_delay();
        let scratch = vec![vec![0.0; inner.output_frames_max()]; channels];
        Ok(Self {
            inner,
            channels,
            pending: vec![Vec::with_capacity(CHUNK * 2); channels],
            scratch,
            delay_left,
            in_total: 0,
            out_total: 0,
            from,
            to,
        })
    }

    fn expected_out(&self) -> u64 {
        (u128::from(self.in_total) * u128::from(self.to) / u128::from(self.from)) as u64
    }

    /// Resamples `planes` and appends the result to `out`.
    ///
    /// # Errors
    /// [`ConvertError::Resample`] if rubato fails.
    pub fn push(&mut self, planes: &[Vec<f32>], out: &mut [Vec<f32>]) -> Result<(), ConvertError> {
        for (p, src) in self.pending.iter_mut().zip(planes) {
            p.extend_from_slice(src);
        }
        self.in_total += planes.first().map_or(0, Vec::len) as u64;
        self.drain_full_chunks(out)
    }

    fn drain_full_chunks(&mut self, out: &mut [Vec<f32>]) -> Result<(), ConvertError> {
        let mut offset = 0;
        while self.pending.first().map_or(0, Vec::len) - offset >= self.inner.input_frames_next() {
            offset += self.process_at(offset, out, None)?;
        }
        for p in &mut self.pending {
            p.drain(..offset);
        }
        Ok(())
    }

    fn process_at(
        &mut self,
        offset: usize,
        out: &mut [Vec<f32>],
        cap: Option<u64>,
    ) -> Result<usize, ConvertError> {
        let len = self.pending.first().map_or(0, Vec::len);
        let input = SequentialSliceOfVecs::new(&self.pending, self.channels, len).map_err(err)?;
        let frames_out = self.scratch.first().map_or(0, Vec::len);
        let mut output =
            SequentialSliceOfVecs::new_mut(&mut self.scratch, self.channels, frames_out)
                .map_err(err)?;
        let indexing = rubato::Indexing::new().input_offset(offset);
        let (used, made) = self
            .inner
            .process_into_buffer(&input, &mut output, Some(&indexing))
            .map_err(err)?;
        let skip = self.delay_left.min(made);
        self.delay_left -= skip;
        let mut end = made;
        if let Some(cap) = cap {
            end = end.min(skip + cap.saturating_sub(self.out_total).min(made as u64) as usize);
        }
        if end > skip {
            for (dst, src) in out.iter_mut().zip(&self.scratch) {
                dst.extend_from_slice(&src[skip..end]);
            }
            self.out_total += (end - skip) as u64;
        }
        Ok(used)
    }

    /// Pushes the remaining input through (padded with silence) and appends
    /// the last output frames to `out`.
    ///
    /// # Errors
    /// [`ConvertError::Resample`] if rubato fails.
    pub fn finish(&mut self, out: &mut [Vec<f32>]) -> Result<(), ConvertError> {
        let target = self.expected_out();
        let mut rounds = 0;
        while self.out_total < target {
            let need = self.inner.input_frames_next();
            for p in &mut self.pending {
                p.resize(p.len().max(need), 0.0);
            }
            let used = self.process_at(0, out, Some(target))?;
            for p in &mut self.pending {
                p.drain(..used.min(p.len()));
            }
            rounds += 1;
            if rounds > 64 {
                return Err(ConvertError::Resample("the resampler did not drain".into()));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resampling_96k_to_48k_halves_the_length_exactly() -> Result<(), ConvertError> {
        let mut rs = StreamResampler::new(96_000, 48_000, 1)?;
        let mut out = vec![Vec::new()];
        for _ in 0..10 {
            rs.push(&[vec![0.25; 777]], &mut out)?;
        }
        rs.finish(&mut out)?;
        assert_eq!(out[0].len(), 7770 / 2);
        Ok(())
    }
}
