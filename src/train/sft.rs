//! Supervised fine-tuning: next-token loss on the counted (assistant) positions of chat
//! examples, over epochs of seeded shuffles.
//!
//! Per epoch the examples are shuffled by a ChaCha8 stream seeded with `seed` (one stream for the
//! whole run, so epoch `k`'s order depends only on the seed and `k`), cut into effective batches
//! of `batch_size` examples (the last one of an epoch may be smaller, as with PyTorch's
//! `DataLoader` without `drop_last`), each split into micro-batches of `micro_batch_size`
//! examples that are right-padded to their longest row. One optimizer update per effective
//! batch: `epochs · ⌈examples / batch_size⌉` updates in all.
//!
//! Before training, examples longer than `max_seq_len` tokens are cut to their first
//! `max_seq_len` tokens, and examples left with no counted prediction are dropped (as
//! open-instruct's SFT filter does); the report counts both.

use super::adamw::AdamWConfig;
use super::error::{ensure_config, TrainError, TrainResult};
use super::example::TrainExample;
use super::lm_step::language_model_step;
use super::progress::{ProgressClock, StepRecord, TrainObserver};
use super::schedule::LrSchedule;
use super::token_batch::TokenBatch;
use super::token_loss::LossReduction;
use super::trainer::{OptimizerSettings, Trainer};
use crate::model::llama::Llama;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use std::borrow::Cow;

/// SFT settings. [`Default`] is Tülu 3 8B's recipe (lr 5e-6, linear schedule with 3% warmup,
/// 2 epochs, effective batch 128, 4096 tokens, `sum` reduction, no weight decay, no clipping).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SftConfig {
    pub epochs: usize,
    /// Examples per optimizer update (the effective batch).
    pub batch_size: usize,
    /// Examples per forward/backward pass; gradients of the micro-batches of one effective
    /// batch are accumulated. Changes memory use, not the result (up to float rounding).
    pub micro_batch_size: usize,
    /// Longer examples are truncated to this many tokens.
    pub max_seq_len: usize,
    pub loss_reduction: LossReduction,
    pub optimizer: OptimizerSettings,
    /// Seeds the per-epoch shuffles.
    pub seed: u64,
}

impl Default for SftConfig {
    fn default() -> Self {
        Self {
            epochs: 2,
            batch_size: 128,
            micro_batch_size: 8,
            max_seq_len: 4096,
            loss_reduction: LossReduction::Sum,
            optimizer: OptimizerSettings {
                adamw: AdamWConfig::default(),
                schedule: LrSchedule::tulu3(5e-6),
                max_grad_norm: None,
            },
            seed: 42,
        }
    }
}

impl SftConfig {
    pub fn validate(&self) -> TrainResult<()> {
        ensure_config(self.epochs > 0, || "epochs must be at least 1".into())?;
        ensure_config(self.batch_size > 0, || {
            "batch_size must be at least 1".into()
        })?;
        ensure_config(self.micro_batch_size > 0, || {
            "micro_batch_size must be at least 1".into()
        })?;
        ensure_config(self.max_seq_len >= 2, || {
            format!(
                "max_seq_len must be at least 2 tokens (one prediction), got {}",
                self.max_seq_len
            )
        })?;
        self.optimizer.validate()
    }
}

/// The outcome of [`sft`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SftReport {
    /// One record per optimizer update.
    pub curve: Vec<StepRecord>,
    pub total_steps: usize,
    /// Examples trained on (after dropping those without counted tokens).
    pub examples_used: usize,
    /// Examples cut to `max_seq_len`.
    pub examples_truncated: usize,
    /// Examples dropped because no prediction of theirs counted (after truncation).
    pub examples_without_loss_tokens: usize,
}

/// Fine-tunes `model` in place on `examples`. See the module docs. Errors on invalid examples
/// (naming the example), on invalid settings, on divergence, and on cancellation.
pub fn sft(
    model: &Llama,
    examples: &[TrainExample],
    config: &SftConfig,
    observer: &mut dyn TrainObserver,
) -> TrainResult<SftReport> {
    config.validate()?;
    let vocab = model.config().vocab_size;
    let mut kept: Vec<Cow<'_, TrainExample>> = Vec::with_capacity(examples.len());
    let (mut truncated, mut without_loss) = (0, 0);
    for (index, example) in examples.iter().enumerate() {
        example.validate(index, vocab)?;
        let cut = example.truncated(config.max_seq_len);
        truncated += usize::from(matches!(cut, Cow::Owned(_)));
        if cut.counted() == 0 {
            without_loss += 1;
        } else {
            kept.push(cut);
        }
    }
    if kept.is_empty() {
        return Err(TrainError::NoData(format!(
            "none of the {} examples has a counted token (after truncation to {} tokens); \
             check the loss masks",
            examples.len(),
            config.max_seq_len
        )));
    }
    let steps_per_epoch = kept.len().div_ceil(config.batch_size);
    let total_steps = config.epochs * steps_per_epoch;
    let mut trainer = Trainer::new(model, &config.optimizer, total_steps)?;
    let mut rng = ChaCha8Rng::seed_from_u64(config.seed);
    let mut clock = ProgressClock::start(total_steps);
    let mut curve = Vec::with_capacity(total_steps);
    let device = model.device();
    for epoch in 1..=config.epochs {
        let mut order: Vec<usize> = (0..kept.len()).collect();
        order.shuffle(&mut rng);
        for batch in order.chunks(config.batch_size) {
            let micro_batches = batch
                .chunks(config.micro_batch_size)
                .map(|micro| {
                    let rows: Vec<&TrainExample> =
                        micro.iter().map(|&i| kept[i].as_ref()).collect();
                    TokenBatch::from_examples(&rows, device)
                })
                .collect::<TrainResult<Vec<_>>>()?;
            let outcome = language_model_step(
                &mut trainer,
                &micro_batches,
                config.loss_reduction,
                observer,
            )?;
            let record = StepRecord {
                step: trainer.steps_done(),
                epoch,
                loss: outcome.loss,
                mean_token_loss: outcome.mean_token_loss,
                lr: outcome.update.lr,
                grad_norm: outcome.update.grad_norm,
                tokens: outcome.tokens,
                loss_tokens: outcome.loss_tokens,
            };
            clock.report(&record, observer);
            curve.push(record);
        }
    }
    Ok(SftReport {
        curve,
        total_steps,
        examples_used: kept.len(),
        examples_truncated: truncated,
        examples_without_loss_tokens: without_loss,
    })
}
