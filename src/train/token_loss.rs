//! Next-token cross-entropy on selected positions, and how it is reduced over a batch.
//!
//! Position `t` of a sequence predicts token `t + 1`; a loss mask says which of those
//! predictions count (SFT: the assistant's tokens; pretraining: all). Two reductions, the two of
//! open-instruct's `--reduce_loss`, defined over the **effective batch** (all micro-batches of
//! one optimizer update together, see [`LossReduction`]).

use super::error::{TrainError, TrainResult};
use crate::model::fused::Kernels;
use candle_core::{DType, Tensor};
use serde::{Deserialize, Serialize};

/// How the per-token losses of one effective batch become the objective of the update.
///
/// With `N` counted tokens in the effective batch and `ℓᵢ = −log p(tokenᵢ | prefix)`:
///
/// - `Sum`: `L = Σᵢ ℓᵢ` — every counted token weighs the same, however the tokens fall into
///   examples and micro-batches, and the gradient grows with `N`. Tülu 3's SFT setting. (In
///   open-instruct the summed micro-batch losses are further divided by the number of
///   accumulation steps and averaged over data-parallel ranks — a constant factor, which AdamW
///   all but ignores except through `eps` and a clipping threshold.)
/// - `Mean`: `L = (1/N) Σᵢ ℓᵢ` — the same token weighting at the scale of one token; the
///   value is the mean per-token loss, and splitting the batch into micro-batches changes
///   nothing (up to float rounding). Note this is not open-instruct's `mean`, which averages
///   each micro-batch's own token mean and then averages those (each micro-batch weighs the
///   same, whatever its token count); the two agree when a step is one micro-batch.
///
/// Either way, each micro-batch contributes `scale · Σ_{its tokens} ℓᵢ` with
/// [`scale`](LossReduction::scale) fixed for the whole effective batch, so accumulating the
/// micro-batch gradients gives exactly the gradient of `L`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LossReduction {
    Sum,
    Mean,
}

impl LossReduction {
    /// The factor on the summed token losses of an effective batch with `counted_tokens`
    /// counted tokens: 1 for `Sum`, `1 / counted_tokens` for `Mean`.
    pub fn scale(self, counted_tokens: usize) -> f64 {
        match self {
            LossReduction::Sum => 1.0,
            LossReduction::Mean => 1.0 / counted_tokens.max(1) as f64,
        }
    }
}

impl std::str::FromStr for LossReduction {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "sum" => Ok(Self::Sum),
            "mean" => Ok(Self::Mean),
            other => Err(format!(
                "unknown loss reduction `{other}`; expected `sum` or `mean`"
            )),
        }
    }
}

/// The summed negative log-likelihood of the counted positions of a batch.
#[derive(Debug, Clone)]
pub struct MaskedNll {
    /// `Σ −log p(target)` over the counted positions: a differentiable scalar.
    pub sum: Tensor,
    /// How many positions counted.
    pub counted: usize,
}

/// Checks the shapes of `logits: [batch, len, vocab]`, `targets: [batch, len]` and a row-major
/// `[batch, len]` mask; returns `(batch, len, vocab)`.
fn check_shapes(
    logits: &Tensor,
    targets: &Tensor,
    loss_mask: Option<&[bool]>,
) -> TrainResult<(usize, usize, usize)> {
    let (batch, len, vocab) = logits.dims3().map_err(|_| {
        TrainError::InvalidLossInput(format!(
            "logits must be [batch, len, vocab], got {:?}",
            logits.dims()
        ))
    })?;
    if targets.dims() != [batch, len] {
        return Err(TrainError::InvalidLossInput(format!(
            "targets have shape {:?}, expected [{batch}, {len}] like the logits",
            targets.dims()
        )));
    }
    if let Some(mask) = loss_mask {
        if mask.len() != batch * len {
            return Err(TrainError::InvalidLossInput(format!(
                "the loss mask has {} entries, expected {batch} × {len}",
                mask.len()
            )));
        }
    }
    Ok((batch, len, vocab))
}

/// `Σ −log p(targets[b, t])` over the positions where `loss_mask[b·len + t]` is true (`None`:
/// every position). Masked positions take no part at all: their logits are not even read by the
/// loss, so their targets may be anything (padding) and they receive exactly zero gradient.
pub fn masked_nll_sum(
    kernels: Kernels,
    logits: &Tensor,
    targets: &Tensor,
    loss_mask: Option<&[bool]>,
) -> TrainResult<MaskedNll> {
    let (batch, len, vocab) = check_shapes(logits, targets, loss_mask)?;
    let targets = targets.to_dtype(DType::U32)?;
    let Some(mask) = loss_mask.filter(|m| !m.iter().all(|&c| c)) else {
        let log_probs = kernels.token_log_probs(logits, &targets)?;
        return Ok(MaskedNll {
            sum: log_probs.sum_all()?.neg()?,
            counted: batch * len,
        });
    };
    let positions: Vec<u32> = (0..mask.len() as u32)
        .filter(|&i| mask[i as usize])
        .collect();
    let counted = positions.len();
    if counted == 0 {
        return Ok(MaskedNll {
            sum: Tensor::zeros((), logits.dtype(), logits.device())?,
            counted,
        });
    }
    let positions = Tensor::from_vec(positions, counted, logits.device())?;
    let logits = logits
        .reshape((batch * len, vocab))?
        .index_select(&positions, 0)?;
    let targets = targets.flatten_all()?.index_select(&positions, 0)?;
    let log_probs = kernels.token_log_probs(&logits, &targets)?;
    Ok(MaskedNll {
        sum: log_probs.sum_all()?.neg()?,
        counted,
    })
}

/// Per-sequence sums of `log p(target)` over the counted positions: the quantity preference
/// losses compare.
#[derive(Debug, Clone)]
pub struct SequenceLogProbs {
    /// `[batch]`, differentiable.
    pub sums: Tensor,
    /// Counted positions per sequence (for length normalisation).
    pub token_counts: Vec<usize>,
}

/// `Σ_t loss_mask[b, t] · log p(targets[b, t])` per sequence `b`.
pub fn sequence_log_probs(
    kernels: Kernels,
    logits: &Tensor,
    targets: &Tensor,
    loss_mask: &[bool],
) -> TrainResult<SequenceLogProbs> {
    let (batch, len, _) = check_shapes(logits, targets, Some(loss_mask))?;
    let targets = targets.to_dtype(DType::U32)?;
    let log_probs = kernels.token_log_probs(logits, &targets)?;
    let weights: Vec<f32> = loss_mask.iter().map(|&c| f32::from(u8::from(c))).collect();
    let weights =
        Tensor::from_vec(weights, (batch, len), logits.device())?.to_dtype(log_probs.dtype())?;
    let sums = (log_probs * weights)?.sum(1)?;
    let token_counts = loss_mask
        .chunks(len)
        .map(|row| row.iter().filter(|&&c| c).count())
        .collect();
    Ok(SequenceLogProbs { sums, token_counts })
}
