//! RMSNorm, `y = x / sqrt(mean(x²) + eps) · w`, over the last dimension, with a backward pass.
//!
//! candle's own `ops::rms_norm` (and `candle_nn::RmsNorm` on contiguous input) has no backward and
//! silently cuts the gradient; this op computes both passes in one sweep over the rows each. The
//! backward recomputes the per-row scale from `x` instead of saving it: one extra reduction over
//! data that is already in cache, and nothing to keep alive between the passes.

use super::cpu::{contiguous_f32, filled_vec, tensor_to_f32_vec, with_f32_slice, ROWS_PER_TASK};
use candle_core::{bail, CpuStorage, CustomOp2, Layout, Result, Shape, Tensor, D};
use rayon::prelude::*;

/// The composed (differentiable candle ops) RMSNorm: the oracle for the fused op's tests and the
/// path on devices without a fused kernel.
pub fn rms_norm_composed(x: &Tensor, weight: &Tensor, eps: f64) -> Result<Tensor> {
    let mean_square = x.sqr()?.mean_keepdim(D::Minus1)?;
    let inv_rms = (mean_square + eps)?.sqrt()?.recip()?;
    x.broadcast_mul(&inv_rms)?.broadcast_mul(weight)
}

/// RMSNorm with the fused CPU kernel (`x` of any rank, `weight` of shape `[x.dim(-1)]`).
pub fn rms_norm_fused(x: &Tensor, weight: &Tensor, eps: f64) -> Result<Tensor> {
    let hidden = x.dim(D::Minus1)?;
    if weight.dims() != [hidden] {
        bail!(
            "rms_norm: weight has shape {:?}, expected [{hidden}]",
            weight.dims()
        )
    }
    x.contiguous()?
        .apply_op2(&weight.contiguous()?, RmsNormOp { eps: eps as f32 })
}

struct RmsNormOp {
    eps: f32,
}

#[inline(always)]
fn inv_rms(row: &[f32], eps: f32) -> f32 {
    // Eight partial sums let the compiler vectorise the reduction.
    let mut acc = [0f32; 8];
    let mut chunks = row.chunks_exact(8);
    for chunk in &mut chunks {
        for i in 0..8 {
            acc[i] += chunk[i] * chunk[i];
        }
    }
    let mut sum: f32 = acc.iter().sum();
    for &v in chunks.remainder() {
        sum += v * v;
    }
    1.0 / (sum / row.len() as f32 + eps).sqrt()
}

impl CustomOp2 for RmsNormOp {
    fn name(&self) -> &'static str {
        "tulu-rms-norm"
    }

    fn cpu_fwd(
        &self,
        x_storage: &CpuStorage,
        x_layout: &Layout,
        w_storage: &CpuStorage,
        w_layout: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let x = contiguous_f32(x_storage, x_layout, self.name())?;
        let w = contiguous_f32(w_storage, w_layout, self.name())?;
        let hidden = w.len();
        let eps = self.eps;
        let chunk = ROWS_PER_TASK * hidden;
        // SAFETY: every row of every chunk is written.
        let out = unsafe {
            filled_vec(x.len(), |out| {
                out.par_chunks_mut(chunk)
                    .zip(x.par_chunks(chunk))
                    .for_each(|(out_rows, x_rows)| {
                        for (out_row, x_row) in out_rows
                            .chunks_exact_mut(hidden)
                            .zip(x_rows.chunks_exact(hidden))
                        {
                            let r = inv_rms(x_row, eps);
                            for ((o, &xv), &wv) in out_row.iter_mut().zip(x_row).zip(w) {
                                o.write(xv * r * wv);
                            }
                        }
                    })
            })
        };
        Ok((CpuStorage::F32(out), x_layout.shape().clone()))
    }

    fn bwd(
        &self,
        x: &Tensor,
        weight: &Tensor,
        _out: &Tensor,
        grad: &Tensor,
    ) -> Result<(Option<Tensor>, Option<Tensor>)> {
        if !x.device().is_cpu() {
            bail!("tulu-rms-norm: the CPU kernel got a tensor on another device")
        }
        let w = tensor_to_f32_vec(weight, self.name())?;
        let hidden = w.len();
        let eps = self.eps;
        let chunk = ROWS_PER_TASK * hidden;
        let grad = grad.contiguous()?;
        let (dx, dw) = with_f32_slice(x, self.name(), |x| {
            with_f32_slice(&grad, self.name(), |g| {
                let mut partial_dw: Vec<Vec<f32>> = Vec::new();
                // One partial weight gradient per fixed row chunk, summed in chunk order below, so
                // the result does not depend on how rayon scheduled the chunks.
                // SAFETY: every row of every chunk of `dx` is written.
                let dx = unsafe {
                    filled_vec(x.len(), |dx| {
                        partial_dw = dx
                            .par_chunks_mut(chunk)
                            .zip(x.par_chunks(chunk))
                            .zip(g.par_chunks(chunk))
                            .map(|((dx_rows, x_rows), g_rows)| {
                                let mut dw = vec![0f32; hidden];
                                for ((dx_row, x_row), g_row) in dx_rows
                                    .chunks_exact_mut(hidden)
                                    .zip(x_rows.chunks_exact(hidden))
                                    .zip(g_rows.chunks_exact(hidden))
                                {
                                    let r = inv_rms(x_row, eps);
                                    // dot = Σ g·w·x̂ / n, with x̂ = x·r.
                                    let mut dot = 0f32;
                                    for i in 0..hidden {
                                        let x_hat = x_row[i] * r;
                                        dot += g_row[i] * w[i] * x_hat;
                                        dw[i] += g_row[i] * x_hat;
                                    }
                                    let dot = dot / hidden as f32;
                                    for i in 0..hidden {
                                        let x_hat = x_row[i] * r;
                                        dx_row[i].write(r * (g_row[i] * w[i] - x_hat * dot));
                                    }
                                }
                                dw
                            })
                            .collect();
                    })
                };
                let mut dw = vec![0f32; hidden];
                for partial in &partial_dw {
                    for (acc, &v) in dw.iter_mut().zip(partial) {
                        *acc += v;
                    }
                }
                Ok((dx, dw))
            })
        })?;
        let dx = Tensor::from_vec(dx, x.shape(), x.device())?;
        let dw = Tensor::from_vec(dw, weight.shape(), weight.device())?;
        Ok((Some(dx), Some(dw)))
    }
}
