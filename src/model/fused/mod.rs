//! The model's tensor operations, each in two forms: a **fused** CPU kernel (a candle custom op
//! with its own backward pass) and a **composed** form built from differentiable candle ops.
//!
//! Why: candle's own fused ops (`ops::rms_norm`, `ops::softmax_last_dim`, `rotary_emb::rope`)
//! have no backward pass and silently cut gradients, while the composed forms are slow on CPU —
//! each small op is a separate pass over memory with a fresh allocation, and every node of the
//! graph costs a zero-filled gradient buffer plus an add in candle's backward. The fused kernels
//! make one pass where the composed form makes several, vectorise their inner loops, run row
//! blocks in parallel with rayon (fixed chunking, so results are bit-identical across thread
//! counts), and call the `gemm` crate directly inside attention.
//!
//! The composed forms are the oracles in the tests (each fused op's forward and gradient must
//! match its composed form) and the path on devices without a fused kernel: [`Kernels::Auto`]
//! picks the fused kernel for f32 tensors on the CPU and the composed form everywhere else.
//!
//! Ops: [`linear`](Kernels::linear), [`rms_norm`](Kernels::rms_norm),
//! [`swiglu_projection`](Kernels::swiglu_projection) (gate and up projections with SwiGLU),
//! [`swiglu`](Kernels::swiglu), RoPE (fused into attention
//! for training; standalone in [`crate::model::rope`]), causal grouped-query
//! [`self_attention`](Kernels::self_attention) with RoPE and key masks, attention over a KV cache,
//! and the vocabulary-sized [`token_log_probs`](Kernels::token_log_probs) and
//! [`log_softmax`](Kernels::log_softmax) that the training losses are built on.

mod attention;
pub(crate) mod cpu;
mod fast_math;
mod linear;
mod rms_norm;
mod swiglu;
mod swiglu_projection;
mod token_log_probs;

#[cfg(test)]
mod tests;

pub use attention::{
    cached_attention_composed, cached_attention_fused, self_attention_composed,
    self_attention_fused, AttentionHeads,
};
pub use linear::{linear_composed, linear_fused};
pub use rms_norm::{rms_norm_composed, rms_norm_fused};
pub use swiglu::{swiglu_composed, swiglu_fused};
pub use swiglu_projection::{swiglu_projection_composed, swiglu_projection_fused};
pub use token_log_probs::{
    log_softmax_composed, log_softmax_fused, token_log_probs_composed, token_log_probs_fused,
};

use crate::model::rope::{rope_composed, rope_fused, RopeAngles};
use candle_core::{DType, Result, Tensor};
use std::sync::Arc;

/// Which implementation of the model's ops to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Kernels {
    /// The fused CPU kernels for f32 tensors on the CPU, the composed ops elsewhere.
    #[default]
    Auto,
    /// Always the composed candle ops (slower on CPU; useful to cross-check the kernels).
    Composed,
}

impl Kernels {
    fn fused_for(self, t: &Tensor) -> bool {
        self == Kernels::Auto && t.device().is_cpu() && t.dtype() == DType::F32
    }

    /// RMSNorm over the last axis.
    pub fn rms_norm(self, x: &Tensor, weight: &Tensor, eps: f64) -> Result<Tensor> {
        if self.fused_for(x) {
            rms_norm_fused(x, weight, eps)
        } else {
            rms_norm_composed(x, weight, eps)
        }
    }

    /// `x · weightᵀ` for `x: [.., in]` and a `[out, in]` weight.
    pub fn linear(self, x: &Tensor, weight: &Tensor) -> Result<Tensor> {
        if self.fused_for(x) {
            linear_fused(x, weight)
        } else {
            linear_composed(x, weight)
        }
    }

    /// `silu(x · gateᵀ) · (x · upᵀ)`, the SwiGLU MLP's first half.
    pub fn swiglu_projection(self, x: &Tensor, gate: &Tensor, up: &Tensor) -> Result<Tensor> {
        if self.fused_for(x) {
            swiglu_projection_fused(x, gate, up)
        } else {
            swiglu_projection_composed(x, gate, up)
        }
    }

    /// `silu(gate) · up`.
    pub fn swiglu(self, gate: &Tensor, up: &Tensor) -> Result<Tensor> {
        if self.fused_for(gate) {
            swiglu_fused(gate, up)
        } else {
            swiglu_composed(gate, up)
        }
    }

    /// RoPE on `[batch, len, heads, head_dim]`.
    pub fn rope(self, x: &Tensor, angles: &Arc<RopeAngles>) -> Result<Tensor> {
        if self.fused_for(x) {
            rope_fused(x, angles)
        } else {
            rope_composed(x, angles)
        }
    }

    /// Causal self-attention with RoPE; see [`self_attention_fused`].
    pub fn self_attention(
        self,
        q: &Tensor,
        k: &Tensor,
        v: &Tensor,
        heads: AttentionHeads,
        angles: &Arc<RopeAngles>,
        key_valid: Option<&[bool]>,
    ) -> Result<Tensor> {
        if self.fused_for(q) {
            self_attention_fused(q, k, v, heads, angles, key_valid)
        } else {
            self_attention_composed(q, k, v, heads, angles, key_valid)
        }
    }

    /// Attention over a KV cache; see [`cached_attention_fused`].
    pub fn cached_attention(
        self,
        q: &Tensor,
        k: &Tensor,
        v: &Tensor,
        heads: AttentionHeads,
        key_valid: Option<&[bool]>,
    ) -> Result<Tensor> {
        if self.fused_for(q) {
            cached_attention_fused(q, k, v, heads, key_valid)
        } else {
            cached_attention_composed(q, k, v, heads, key_valid)
        }
    }

    /// `log p(target)` per position; see [`token_log_probs_fused`].
    pub fn token_log_probs(self, logits: &Tensor, targets: &Tensor) -> Result<Tensor> {
        if self.fused_for(logits) {
            token_log_probs_fused(logits, targets)
        } else {
            token_log_probs_composed(logits, targets)
        }
    }

    /// `log_softmax` over the last axis.
    pub fn log_softmax(self, logits: &Tensor) -> Result<Tensor> {
        if self.fused_for(logits) {
            log_softmax_fused(logits)
        } else {
            log_softmax_composed(logits)
        }
    }
}
