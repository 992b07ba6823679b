//! One optimizer step of next-token training over the micro-batches of an effective batch: the
//! step both SFT and pretraining take.

use super::error::{TrainError, TrainResult};
use super::progress::TrainObserver;
use super::token_batch::TokenBatch;
use super::token_loss::{masked_nll_sum, LossReduction};
use super::trainer::{Trainer, UpdateStats};
use candle_core::DType;

/// What a step computed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LmStepOutcome {
    /// The objective under the chosen reduction.
    pub loss: f64,
    /// Mean loss per counted token.
    pub mean_token_loss: f64,
    /// Input tokens processed (padding excluded).
    pub tokens: usize,
    /// Counted predictions.
    pub loss_tokens: usize,
    pub update: UpdateStats,
}

/// Forward and backward over every micro-batch of one effective batch, then one update. Each
/// micro-batch's summed token loss is scaled by `reduction.scale(N)`, `N` the counted tokens of
/// all `batches` together, so the accumulated gradient is that of the whole effective batch's
/// objective (see [`LossReduction`]). The observer is asked before each micro-batch whether to
/// cancel; a cancelled step applies nothing.
pub fn language_model_step(
    trainer: &mut Trainer<'_>,
    batches: &[TokenBatch],
    reduction: LossReduction,
    observer: &dyn TrainObserver,
) -> TrainResult<LmStepOutcome> {
    let step = trainer.steps_done() + 1;
    let loss_tokens: usize = batches.iter().map(|b| b.counted).sum();
    let tokens: usize = batches.iter().map(|b| b.tokens).sum();
    if loss_tokens == 0 {
        return Err(TrainError::NoData(format!(
            "step {step} has no counted tokens (every loss_mask entry is false)"
        )));
    }
    let scale = reduction.scale(loss_tokens);
    let model = trainer.model();
    let mut nll_total = 0.0;
    for batch in batches.iter().filter(|b| b.counted > 0) {
        if observer.is_cancelled() {
            trainer.discard_gradients();
            return Err(TrainError::Cancelled {
                completed_steps: trainer.steps_done(),
                total_steps: trainer.total_steps(),
            });
        }
        let logits = model.forward(&batch.input_ids)?;
        let nll = masked_nll_sum(
            model.kernels(),
            &logits,
            &batch.targets,
            batch.loss_mask.as_deref(),
        )?;
        let value = nll.sum.to_dtype(DType::F64)?.to_scalar::<f64>()?;
        if !value.is_finite() {
            trainer.discard_gradients();
            return Err(TrainError::NonFinite {
                step,
                quantity: "loss",
                value,
            });
        }
        nll_total += value;
        trainer.backward(&nll.sum.affine(scale, 0.0)?)?;
    }
    let update = trainer.apply_update()?;
    Ok(LmStepOutcome {
        loss: nll_total * scale,
        mean_token_loss: nll_total / loss_tokens as f64,
        tokens,
        loss_tokens,
        update,
    })
}
