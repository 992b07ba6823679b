//! Log-probabilities over the vocabulary, with backward passes, without materialising more than
//! the output: `token_log_probs` gives `log p(target)` per position straight from the logits (the
//! quantity every post-training loss is built from: SFT's NLL, DPO's sequence log-ratios, the
//! policy ratios of PPO/GRPO), and `log_softmax` the full distribution (entropy, KL to a reference).
//!
//! The composed candle form of `log p(target)` makes ~6 full passes over `[tokens, vocab]` forward
//! and as many backward, each allocating a logits-sized tensor; with a 49k vocabulary that is the
//! largest tensor of the step. These kernels make two passes forward (max, then sum of exp) and one
//! backward, keeping only one log-sum-exp per row between the passes.

use super::cpu::{contiguous_f32, contiguous_u32, filled_vec, with_f32_slice, ROWS_PER_TASK};
use super::fast_math::{exp, vectorized};
use candle_core::{
    bail, CpuStorage, CustomOp1, CustomOp2, DType, Layout, Result, Shape, Tensor, D,
};
use rayon::prelude::*;
use std::sync::OnceLock;

/// `log Σ exp(row)`, stable.
#[inline(always)]
fn log_sum_exp(row: &[f32]) -> f32 {
    let mut max = f32::NEG_INFINITY;
    for &v in row {
        if v > max {
            max = v;
        }
    }
    if max == f32::NEG_INFINITY || max.is_nan() {
        return max;
    }
    let mut lanes = [0f32; 8];
    let mut chunks = row.chunks_exact(8);
    for chunk in &mut chunks {
        for i in 0..8 {
            lanes[i] += exp(chunk[i] - max);
        }
    }
    let mut sum: f32 = lanes.iter().sum();
    for &v in chunks.remainder() {
        sum += exp(v - max);
    }
    max + sum.ln()
}

/// The composed (differentiable candle ops) form: `log_softmax(logits)[.., target]`.
pub fn token_log_probs_composed(logits: &Tensor, targets: &Tensor) -> Result<Tensor> {
    let log_probs = candle_nn::ops::log_softmax(logits, D::Minus1)?;
    let targets = targets.to_dtype(DType::U32)?.contiguous()?;
    log_probs
        .gather(&targets.unsqueeze(D::Minus1)?, D::Minus1)?
        .squeeze(D::Minus1)
}

/// `log p(target)` per position: `logits: [.., vocab]` f32, `targets: [..]` u32 token ids (same
/// leading shape) → `[..]`. Differentiable in `logits`. A target outside the vocabulary is an
/// error.
pub fn token_log_probs_fused(logits: &Tensor, targets: &Tensor) -> Result<Tensor> {
    let vocab = logits.dim(D::Minus1)?;
    let leading = &logits.dims()[..logits.rank() - 1];
    if targets.dims() != leading {
        bail!(
            "token_log_probs: targets {:?} do not match logits {:?} without the vocabulary axis",
            targets.dims(),
            logits.dims()
        )
    }
    if vocab == 0 {
        bail!("token_log_probs: empty vocabulary axis")
    }
    let targets = targets.to_dtype(DType::U32)?.contiguous()?;
    logits.contiguous()?.apply_op2(
        &targets,
        TokenLogProbsOp {
            vocab,
            lse: OnceLock::new(),
        },
    )
}

struct TokenLogProbsOp {
    vocab: usize,
    /// One log-sum-exp per row, kept for the backward pass.
    lse: OnceLock<Vec<f32>>,
}

impl CustomOp2 for TokenLogProbsOp {
    fn name(&self) -> &'static str {
        "tulu-token-log-probs"
    }

    fn cpu_fwd(
        &self,
        l_storage: &CpuStorage,
        l_layout: &Layout,
        t_storage: &CpuStorage,
        t_layout: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let logits = contiguous_f32(l_storage, l_layout, self.name())?;
        let targets = contiguous_u32(t_storage, t_layout, self.name())?;
        let vocab = self.vocab;
        if let Some(&bad) = targets.iter().find(|&&t| t as usize >= vocab) {
            bail!("token_log_probs: target id {bad} is outside the vocabulary of {vocab} tokens")
        }
        let lse: Vec<f32> = logits
            .par_chunks(vocab)
            .with_min_len(ROWS_PER_TASK)
            .map(|row| {
                vectorized(
                    #[inline(always)]
                    || log_sum_exp(row),
                )
            })
            .collect();
        let out: Vec<f32> = lse
            .iter()
            .zip(targets)
            .enumerate()
            .map(|(row, (&lse, &t))| logits[row * vocab + t as usize] - lse)
            .collect();
        let _ = self.lse.set(lse);
        Ok((CpuStorage::F32(out), t_layout.shape().clone()))
    }

    fn bwd(
        &self,
        logits: &Tensor,
        targets: &Tensor,
        _out: &Tensor,
        grad: &Tensor,
    ) -> Result<(Option<Tensor>, Option<Tensor>)> {
        let Some(lse) = self.lse.get() else {
            bail!("tulu-token-log-probs: backward without a saved forward pass")
        };
        let vocab = self.vocab;
        let targets = targets.flatten_all()?.to_vec1::<u32>()?;
        let d_logits = with_f32_slice(logits, self.name(), |logits| {
            with_f32_slice(grad, self.name(), |g| {
                // SAFETY: every row is written in full before its target entry is adjusted.
                let d = unsafe {
                    filled_vec(logits.len(), |d| {
                        d.par_chunks_mut(vocab)
                            .zip(logits.par_chunks(vocab))
                            .enumerate()
                            .with_min_len(ROWS_PER_TASK)
                            .for_each(|(row, (d_row, l_row))| {
                                // d log p(t) / d logit_v = 1{v = t} − softmax_v
                                let (g, lse) = (g[row], lse[row]);
                                vectorized(
                                    #[inline(always)]
                                    || {
                                        for (dv, &l) in d_row.iter_mut().zip(l_row) {
                                            dv.write(-g * exp(l - lse));
                                        }
                                    },
                                );
                                let target = targets[row] as usize;
                                d_row[target].write(g * (1.0 - exp(l_row[target] - lse)));
                            })
                    })
                };
                Ok(d)
            })
        })?;
        Ok((
            Some(Tensor::from_vec(d_logits, logits.shape(), logits.device())?),
            None,
        ))
    }
}

/// The composed form of [`log_softmax_fused`].
pub fn log_softmax_composed(logits: &Tensor) -> Result<Tensor> {
    candle_nn::ops::log_softmax(logits, D::Minus1)
}

/// `log_softmax` over the last axis with the fused CPU kernel; differentiable.
pub fn log_softmax_fused(logits: &Tensor) -> Result<Tensor> {
    let vocab = logits.dim(D::Minus1)?;
    if vocab == 0 {
        bail!("log_softmax: empty last axis")
    }
    logits.contiguous()?.apply_op1(LogSoftmaxOp { vocab })
}

struct LogSoftmaxOp {
    vocab: usize,
}

impl CustomOp1 for LogSoftmaxOp {
    fn name(&self) -> &'static str {
        "tulu-log-softmax"
    }

    fn cpu_fwd(&self, storage: &CpuStorage, layout: &Layout) -> Result<(CpuStorage, Shape)> {
        let logits = contiguous_f32(storage, layout, self.name())?;
        let mut out = vec![0f32; logits.len()];
        out.par_chunks_mut(self.vocab)
            .zip(logits.par_chunks(self.vocab))
            .with_min_len(ROWS_PER_TASK)
            .for_each(|(o, l)| {
                let lse = log_sum_exp(l);
                for (o, &l) in o.iter_mut().zip(l) {
                    *o = l - lse;
                }
            });
        Ok((CpuStorage::F32(out), layout.shape().clone()))
    }

    fn bwd(&self, _logits: &Tensor, out: &Tensor, grad: &Tensor) -> Result<Option<Tensor>> {
        // d/dx_v = g_v − softmax_v · Σ g, and softmax = exp(out).
        let vocab = self.vocab;
        let d = with_f32_slice(out, self.name(), |out| {
            with_f32_slice(grad, self.name(), |g| {
                let mut d = vec![0f32; out.len()];
                d.par_chunks_mut(vocab)
                    .zip(out.par_chunks(vocab))
                    .zip(g.par_chunks(vocab))
                    .with_min_len(ROWS_PER_TASK)
                    .for_each(|((d, o), g)| {
                        let total: f32 = g.iter().sum();
                        for ((d, &o), &g) in d.iter_mut().zip(o).zip(g) {
                            *d = g - exp(o) * total;
                        }
                    });
                Ok(d)
            })
        })?;
        Ok(Some(Tensor::from_vec(d, out.shape(), out.device())?))
    }
}
