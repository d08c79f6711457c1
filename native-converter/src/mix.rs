//! Mixing to the stereo every output has (DESIGN §6: "192 kbit/s CBR,
//! stereo"; the tutorial's moviepy converter also always writes two
//! channels).
//!
//! MP3 has at most two channels. Inputs with more (5.1 film audio is common in
//! videos) are folded down with the usual ITU-R BS.775 weights: centre and
//! surrounds at -3 dB into their side, LFE dropped. The weights are then
//! scaled so a full-scale signal in every channel cannot clip, which is what
//! ffmpeg's resampler does by default as well. A mono input is played on both
//! sides (LAME's joint stereo spends almost nothing on the empty side
//! channel).

use symphonia::core::audio::Channels;

const MINUS_3_DB: f32 = std::f32::consts::FRAC_1_SQRT_2;

/// How each source plane contributes to the output channels.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Downmix {
    /// Per source plane: (weight into left, weight into right). Empty for
    /// copying (two channels, or one copied to both sides).
    weights: Vec<(f32, f32)>,
}

fn weight_of(channel: Channels) -> (f32, f32) {
    if channel == Channels::FRONT_LEFT {
        (1.0, 0.0)
    } else if channel == Channels::FRONT_RIGHT {
        (0.0, 1.0)
    } else if channel == Channels::LFE1 || channel == Channels::LFE2 {
        (0.0, 0.0)
    } else if (Channels::FRONT_LEFT_CENTRE
        | Channels::REAR_LEFT
        | Channels::SIDE_LEFT
        | Channels::FRONT_LEFT_WIDE
        | Channels::FRONT_LEFT_HIGH
        | Channels::REAR_LEFT_CENTRE
        | Channels::TOP_FRONT_LEFT
        | Channels::TOP_REAR_LEFT)
        .contains(channel)
    {
        (MINUS_3_DB, 0.0)
    } else if (Channels::FRONT_RIGHT_CENTRE
        | Channels::REAR_RIGHT
        | Channels::SIDE_RIGHT
        | Channels::FRONT_RIGHT_WIDE
        | Channels::FRONT_RIGHT_HIGH
        | Channels::REAR_RIGHT_CENTRE
        | Channels::TOP_FRONT_RIGHT
        | Channels::TOP_REAR_RIGHT)
        .contains(channel)
    {
        (0.0, MINUS_3_DB)
    } else {
        (MINUS_3_DB, MINUS_3_DB)
    }
}

impl Downmix {
    /// Plans the mix for a source layout with `count` planes in `channels`'
    /// bit order (the order symphonia stores planes in).
    pub(crate) fn for_layout(channels: Channels, count: usize) -> Self {
        if count <= 2 {
            return Self {
                weights: Vec::new(),
            };
        }
        let mut weights: Vec<(f32, f32)> = channels.iter().map(weight_of).collect();
        // Layouts symphonia could not name: spread unknown planes evenly.
        weights.resize(count, (MINUS_3_DB, MINUS_3_DB));
        let left: f32 = weights.iter().map(|w| w.0).sum();
        let right: f32 = weights.iter().map(|w| w.1).sum();
        let norm = left.max(right).max(1.0);
        for w in &mut weights {
            w.0 /= norm;
            w.1 /= norm;
        }
        Self { weights }
    }

    /// Output channels: always 2.
    pub(crate) fn out_channels(&self) -> usize {
        2
    }

    /// Appends `planes[..][range]` to `out` (one `Vec` per output channel).
    pub(crate) fn mix_into(
        &self,
        planes: &[&[f32]],
        range: std::ops::Range<usize>,
        out: &mut [Vec<f32>],
    ) {
        if self.weights.is_empty() {
            // Left from the first plane, right from the second or, for
            // mono, the first again.
            for (side, dst) in out.iter_mut().enumerate() {
                if let Some(src) = planes.get(side).or(planes.first()) {
                    dst.extend_from_slice(&src[range.clone()]);
                }
            }
            return;
        }
        let [left, right] = out else { return };
        for i in range {
            let (mut l, mut r) = (0.0f32, 0.0f32);
            for (plane, (wl, wr)) in planes.iter().zip(&self.weights) {
                l += plane[i] * wl;
                r += plane[i] * wr;
            }
            left.push(l);
            right.push(r);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mono_is_played_on_both_sides() {
        let mix = Downmix::for_layout(Channels::FRONT_CENTRE, 1);
        assert_eq!(mix.out_channels(), 2);
        let samples = [0.25f32, -0.5, 1.0];
        let mut out = vec![Vec::new(), Vec::new()];
        mix.mix_into(&[&samples[..]], 1..3, &mut out);
        assert_eq!(out, vec![vec![-0.5, 1.0], vec![-0.5, 1.0]]);
    }

    #[test]
    fn five_one_folds_to_stereo_without_clipping() {
        let layout = Channels::FRONT_LEFT
            | Channels::FRONT_RIGHT
            | Channels::FRONT_CENTRE
            | Channels::LFE1
            | Channels::REAR_LEFT
            | Channels::REAR_RIGHT;
        let mix = Downmix::for_layout(layout, 6);
        assert_eq!(mix.out_channels(), 2);
        let ones = [1.0f32; 4];
        let planes: Vec<&[f32]> = (0..6).map(|_| &ones[..]).collect();
        let mut out = vec![Vec::new(), Vec::new()];
        mix.mix_into(&planes, 0..4, &mut out);
        assert!(out[0].iter().all(|s| (*s - 1.0).abs() < 1e-5));
        assert!(out[1].iter().all(|s| (*s - 1.0).abs() < 1e-5));
    }
}
