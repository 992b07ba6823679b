//! The AdamW update of one parameter as a single in-place pass over parameter, gradient and both
//! moments, in parallel over fixed chunks (the update is elementwise, so the result does not
//! depend on the number of threads). candle's composed form of the same update makes about a
//! dozen passes and allocates a parameter-sized tensor for each; at 135M parameters that alone
//! would rival the forward pass.

use candle_core::{bail, CpuStorage, InplaceOp2, Layout, Result};
use rayon::prelude::*;
use std::sync::Mutex;

/// Elements per parallel task: large enough to amortise scheduling, small enough to balance.
const CHUNK: usize = 1 << 14;

/// The scalars of one update, in the order PyTorch's `AdamW` applies them.
#[derive(Debug, Clone, Copy)]
pub(crate) struct UpdateCoefficients {
    /// Multiplies the gradient first (gradient clipping's coefficient).
    pub grad_scale: f32,
    /// `1 − lr · weight_decay` (1 for parameters without decay).
    pub decay_factor: f32,
    pub beta1: f32,
    pub beta2: f32,
    /// `1 − β₁` and `1 − β₂`, rounded from f64 (as PyTorch's Python-float scalars are): in f32,
    /// `1 − 0.999` is off by 1e-5 relative.
    pub one_minus_beta1: f32,
    pub one_minus_beta2: f32,
    /// `lr / (1 − β₁ᵗ)`.
    pub step_size: f32,
    /// `√(1 − β₂ᵗ)`.
    pub sqrt_bias_correction2: f32,
    pub eps: f32,
}

impl UpdateCoefficients {
    /// Updates one element; returns the new `(param, m, v)`.
    #[inline(always)]
    pub fn apply(&self, p: f32, g: f32, m: f32, v: f32) -> (f32, f32, f32) {
        let g = g * self.grad_scale;
        let p = p * self.decay_factor;
        let m = m + self.one_minus_beta1 * (g - m);
        let v = v * self.beta2 + self.one_minus_beta2 * g * g;
        let denom = v.sqrt() / self.sqrt_bias_correction2 + self.eps;
        (p - self.step_size * (m / denom), m, v)
    }
}

/// The in-place op: the parameter is the destination, the gradient the source; the moments
/// are host buffers owned by the optimizer, lent for the call.
pub(crate) struct AdamWKernel<'a> {
    pub moments: Mutex<(&'a mut [f32], &'a mut [f32])>,
    pub coefficients: UpdateCoefficients,
}

impl InplaceOp2 for AdamWKernel<'_> {
    fn name(&self) -> &'static str {
        "tulu-adamw"
    }

    fn cpu_fwd(
        &self,
        param_storage: &mut CpuStorage,
        param_layout: &Layout,
        grad_storage: &CpuStorage,
        grad_layout: &Layout,
    ) -> Result<()> {
        let (CpuStorage::F32(params), CpuStorage::F32(grads)) = (param_storage, grad_storage)
        else {
            bail!("tulu-adamw: parameter and gradient must be f32")
        };
        let (Some((p0, p1)), Some((g0, g1))) = (
            param_layout.contiguous_offsets(),
            grad_layout.contiguous_offsets(),
        ) else {
            bail!("tulu-adamw: parameter and gradient must be contiguous")
        };
        let params = &mut params[p0..p1];
        let grads = &grads[g0..g1];
        let mut moments = self
            .moments
            .lock()
            .map_err(|_| candle_core::Error::Msg("tulu-adamw: moment buffers poisoned".into()))?;
        let (m, v) = &mut *moments;
        if grads.len() != params.len() || m.len() != params.len() || v.len() != params.len() {
            bail!(
                "tulu-adamw: {} parameters, {} gradients, {}/{} moments",
                params.len(),
                grads.len(),
                m.len(),
                v.len()
            )
        }
        let c = self.coefficients;
        params
            .par_chunks_mut(CHUNK)
            .zip(grads.par_chunks(CHUNK))
            .zip(m.par_chunks_mut(CHUNK))
            .zip(v.par_chunks_mut(CHUNK))
            .for_each(|(((p, g), m), v)| {
                for (((p, &g), m), v) in p.iter_mut().zip(g).zip(m.iter_mut()).zip(v.iter_mut()) {
                    (*p, *m, *v) = c.apply(*p, g, *m, *v);
                }
            });
        Ok(())
    }
}
