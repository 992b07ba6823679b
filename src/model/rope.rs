//! Rotary position embeddings in Hugging Face's "rotate half" convention: within a head of size
//! `d`, element `i` pairs with element `i + d/2`, and the pair is rotated by `pos · θ^(-2i/d)`.
//! That is the layout of HF Llama checkpoints (GGUF's interleaved layout is permuted to it at load
//! time by the weight loader).
//!
//! Angles are computed per token from explicit position ids, so a left-padded row (positions
//! starting at its first real token) and a KV-cached continuation (positions starting after the
//! cache) use the same code. They are computed in f64 and rounded once, which is more exact than
//! HF's f32 `inv_freq · pos` product at long positions (the two agree to ~1e-6 at position 100).

use super::fused::cpu::contiguous_f32;
use candle_core::{bail, CpuStorage, CustomOp1, Device, Layout, Result, Shape, Tensor, D};
use rayon::prelude::*;
use std::sync::Arc;

/// The cosines and sines of every (token, frequency) pair of one forward pass.
#[derive(Debug, Clone)]
pub struct RopeAngles {
    head_dim: usize,
    tokens: usize,
    /// `[tokens, head_dim / 2]`, row-major.
    cos: Vec<f32>,
    sin: Vec<f32>,
}

/// Which way to rotate: forward applies RoPE, inverse undoes it (the backward pass of a rotation
/// is its transpose, i.e. the inverse rotation).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Rotation {
    Forward,
    Inverse,
}

impl RopeAngles {
    /// Angles for `positions` (one per token, in the row-major order of the tokens they belong
    /// to). `head_dim` must be even.
    pub fn new(positions: &[u32], head_dim: usize, theta: f64) -> Result<Self> {
        if head_dim == 0 || !head_dim.is_multiple_of(2) {
            bail!("RoPE needs an even, non-zero head dimension, got {head_dim}")
        }
        if theta.is_nan() || theta <= 1.0 {
            bail!("rope_theta must be a number above 1, got {theta}")
        }
        let half = head_dim / 2;
        let inv_freq: Vec<f64> = (0..half)
            .map(|i| theta.powf(-((2 * i) as f64) / head_dim as f64))
            .collect();
        let mut cos = Vec::with_capacity(positions.len() * half);
        let mut sin = Vec::with_capacity(positions.len() * half);
        for &pos in positions {
            for &f in &inv_freq {
                let (s, c) = (pos as f64 * f).sin_cos();
                cos.push(c as f32);
                sin.push(s as f32);
            }
        }
        Ok(Self {
            head_dim,
            tokens: positions.len(),
            cos,
            sin,
        })
    }

    /// Angles for positions `0..len` of each of `batch` rows.
    pub fn sequential(batch: usize, len: usize, head_dim: usize, theta: f64) -> Result<Self> {
        let positions: Vec<u32> = (0..batch).flat_map(|_| 0..len as u32).collect();
        Self::new(&positions, head_dim, theta)
    }

    pub fn head_dim(&self) -> usize {
        self.head_dim
    }

    /// Number of tokens the angles cover.
    pub fn tokens(&self) -> usize {
        self.tokens
    }

    /// Rotates one head vector of token `token` from `src` into `dst`.
    #[inline]
    pub(crate) fn rotate(&self, token: usize, src: &[f32], dst: &mut [f32], rotation: Rotation) {
        let half = self.head_dim / 2;
        let cos = &self.cos[token * half..(token + 1) * half];
        let sin = &self.sin[token * half..(token + 1) * half];
        let (x1, x2) = src.split_at(half);
        let (y1, y2) = dst.split_at_mut(half);
        match rotation {
            Rotation::Forward => {
                for i in 0..half {
                    y1[i] = x1[i] * cos[i] - x2[i] * sin[i];
                    y2[i] = x2[i] * cos[i] + x1[i] * sin[i];
                }
            }
            Rotation::Inverse => {
                for i in 0..half {
                    y1[i] = x1[i] * cos[i] + x2[i] * sin[i];
                    y2[i] = x2[i] * cos[i] - x1[i] * sin[i];
                }
            }
        }
    }

    /// `[tokens, head_dim]` cosine and sine tensors with each half repeated, for the composed form.
    fn cos_sin_tensors(&self, device: &Device) -> Result<(Tensor, Tensor)> {
        let half = self.head_dim / 2;
        let cos = Tensor::from_slice(&self.cos, (self.tokens, half), device)?;
        let sin = Tensor::from_slice(&self.sin, (self.tokens, half), device)?;
        Ok((
            Tensor::cat(&[&cos, &cos], 1)?,
            Tensor::cat(&[&sin, &sin], 1)?,
        ))
    }
}

fn check_rope_input(x: &Tensor, angles: &RopeAngles) -> Result<(usize, usize, usize, usize)> {
    let (batch, len, heads, head_dim) = x.dims4()?;
    if head_dim != angles.head_dim || batch * len != angles.tokens {
        bail!(
            "rope: input [batch {batch}, len {len}, heads {heads}, head_dim {head_dim}] does not \
             match angles for {} tokens of head_dim {}",
            angles.tokens,
            angles.head_dim
        )
    }
    Ok((batch, len, heads, head_dim))
}

/// The composed (differentiable candle ops) RoPE on `x: [batch, len, heads, head_dim]`.
pub fn rope_composed(x: &Tensor, angles: &RopeAngles) -> Result<Tensor> {
    let (batch, len, _heads, head_dim) = check_rope_input(x, angles)?;
    let (cos, sin) = angles.cos_sin_tensors(x.device())?;
    let cos = cos.reshape((batch, len, 1, head_dim))?;
    let sin = sin.reshape((batch, len, 1, head_dim))?;
    let half = head_dim / 2;
    let x1 = x.narrow(D::Minus1, 0, half)?;
    let x2 = x.narrow(D::Minus1, half, half)?;
    let rotated_half = Tensor::cat(&[&x2.neg()?, &x1], D::Minus1)?;
    x.broadcast_mul(&cos)? + rotated_half.broadcast_mul(&sin)?
}

/// RoPE on `x: [batch, len, heads, head_dim]` with the fused CPU kernel; differentiable.
pub fn rope_fused(x: &Tensor, angles: &Arc<RopeAngles>) -> Result<Tensor> {
    check_rope_input(x, angles)?;
    x.contiguous()?.apply_op1(RopeOp {
        angles: angles.clone(),
        rotation: Rotation::Forward,
    })
}

/// Rotates every head of `x: [tokens, heads, head_dim]` (row-major) into a new vector.
fn rotate_all(x: &[f32], angles: &RopeAngles, rotation: Rotation) -> Vec<f32> {
    let head_dim = angles.head_dim;
    let mut out = vec![0f32; x.len()];
    if x.is_empty() {
        return out;
    }
    let per_token = x.len() / angles.tokens;
    out.par_chunks_mut(per_token)
        .zip(x.par_chunks(per_token))
        .enumerate()
        .for_each(|(token, (dst, src))| {
            for (d, s) in dst
                .chunks_exact_mut(head_dim)
                .zip(src.chunks_exact(head_dim))
            {
                angles.rotate(token, s, d, rotation);
            }
        });
    out
}

struct RopeOp {
    angles: Arc<RopeAngles>,
    rotation: Rotation,
}

impl CustomOp1 for RopeOp {
    fn name(&self) -> &'static str {
        "tulu-rope"
    }

    fn cpu_fwd(&self, storage: &CpuStorage, layout: &Layout) -> Result<(CpuStorage, Shape)> {
        let x = contiguous_f32(storage, layout, self.name())?;
        let out = rotate_all(x, &self.angles, self.rotation);
        Ok((CpuStorage::F32(out), layout.shape().clone()))
    }

    fn bwd(&self, _x: &Tensor, _out: &Tensor, grad: &Tensor) -> Result<Option<Tensor>> {
        let inverse = match self.rotation {
            Rotation::Forward => Rotation::Inverse,
            Rotation::Inverse => Rotation::Forward,
        };
        let grad_in = grad.contiguous()?.apply_op1(RopeOp {
            angles: self.angles.clone(),
            rotation: inverse,
        })?;
        Ok(Some(grad_in))
    }
}
