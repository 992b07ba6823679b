//! Causal language-model pretraining on a packed token stream.
//!
//! Documents are concatenated into one stream ([`pack_documents`], with a separator such as
//! EOS after each), and the stream is cut into windows of `seq_len + 1` tokens that overlap by
//! one: window `i` covers tokens `i·seq_len ..= (i+1)·seq_len`, its first `seq_len` tokens are
//! the input and its last `seq_len` the targets, so every token after the first is predicted
//! exactly once per pass. A tail shorter than a window is dropped. Attention runs across
//! document boundaries inside a window (the usual packed-pretraining setup; the separator tells
//! the model where a document ends).
//!
//! A run is `steps` updates of `batch_size` windows each, split into micro-batches of
//! `micro_batch_size`. Windows are drawn in a ChaCha8-seeded shuffle; when one pass is used up
//! the next pass is reshuffled (a batch may straddle two passes). The loss is the mean over all
//! predictions of the effective batch.

use super::adamw::AdamWConfig;
use super::error::{ensure_config, TrainError, TrainResult};
use super::lm_step::language_model_step;
use super::progress::{ProgressClock, StepRecord, TrainObserver};
use super::schedule::{LrSchedule, ScheduleKind, Warmup};
use super::token_batch::TokenBatch;
use super::token_loss::LossReduction;
use super::trainer::{OptimizerSettings, Trainer};
use crate::model::llama::Llama;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

/// Pretraining settings. [`Default`] suits a tiny model on CPU (sequence 128, batch 8, 1000
/// steps, lr 1e-3 with cosine decay after 2% warmup, clipping at 1.0, weight decay 0.1).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PretrainConfig {
    /// Input positions per window.
    pub seq_len: usize,
    /// Windows per optimizer update.
    pub batch_size: usize,
    /// Windows per forward/backward pass.
    pub micro_batch_size: usize,
    /// Optimizer updates.
    pub steps: usize,
    pub optimizer: OptimizerSettings,
    /// Seeds the window shuffles.
    pub seed: u64,
}

impl Default for PretrainConfig {
    fn default() -> Self {
        Self {
            seq_len: 128,
            batch_size: 8,
            micro_batch_size: 8,
            steps: 1000,
            optimizer: OptimizerSettings {
                adamw: AdamWConfig {
                    weight_decay: 0.1,
                    ..AdamWConfig::default()
                },
                schedule: LrSchedule {
                    kind: ScheduleKind::Cosine,
                    peak_lr: 1e-3,
                    warmup: Warmup::Fraction(0.02),
                    min_lr_ratio: 0.1,
                },
                max_grad_norm: Some(1.0),
            },
            seed: 0,
        }
    }
}

impl PretrainConfig {
    pub fn validate(&self) -> TrainResult<()> {
        ensure_config(self.seq_len > 0, || "seq_len must be at least 1".into())?;
        ensure_config(self.batch_size > 0, || {
            "batch_size must be at least 1".into()
        })?;
        ensure_config(self.micro_batch_size > 0, || {
            "micro_batch_size must be at least 1".into()
        })?;
        ensure_config(self.steps > 0, || "steps must be at least 1".into())?;
        self.optimizer.validate()
    }
}

/// The outcome of [`pretrain`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PretrainReport {
    /// One record per optimizer update; `epoch` counts passes over the windows.
    pub curve: Vec<StepRecord>,
    pub total_steps: usize,
    /// Windows of `seq_len + 1` tokens the stream holds.
    pub windows: usize,
    /// Passes over the windows the run made (`steps · batch_size / windows`).
    pub epochs: f64,
}

/// Concatenates documents into one stream, `separator` (e.g. EOS) after each.
pub fn pack_documents(documents: &[Vec<u32>], separator: Option<u32>) -> Vec<u32> {
    let extra = usize::from(separator.is_some());
    let mut stream = Vec::with_capacity(documents.iter().map(|d| d.len() + extra).sum());
    for doc in documents {
        stream.extend_from_slice(doc);
        stream.extend(separator);
    }
    stream
}

/// Trains `model` in place on the packed `tokens` stream. See the module docs.
pub fn pretrain(
    model: &Llama,
    tokens: &[u32],
    config: &PretrainConfig,
    observer: &mut dyn TrainObserver,
) -> TrainResult<PretrainReport> {
    config.validate()?;
    let vocab = model.config().vocab_size;
    if let Some((pos, &id)) = tokens
        .iter()
        .enumerate()
        .find(|(_, &id)| id as usize >= vocab)
    {
        return Err(TrainError::InvalidToken {
            position: pos,
            id,
            vocab_size: vocab,
        });
    }
    let seq_len = config.seq_len;
    let windows = tokens.len().saturating_sub(1) / seq_len;
    if windows == 0 {
        return Err(TrainError::NoData(format!(
            "the stream has {} tokens, fewer than one window of seq_len + 1 = {}",
            tokens.len(),
            seq_len + 1
        )));
    }
    let window = |i: usize| &tokens[i * seq_len..=(i + 1) * seq_len];
    let mut trainer = Trainer::new(model, &config.optimizer, config.steps)?;
    let mut rng = ChaCha8Rng::seed_from_u64(config.seed);
    let mut order: Vec<usize> = Vec::new();
    let mut next = 0;
    let mut pass = 0;
    let mut clock = ProgressClock::start(config.steps);
    let mut curve = Vec::with_capacity(config.steps);
    for _ in 0..config.steps {
        let mut picked = Vec::with_capacity(config.batch_size);
        let mut epoch = None;
        while picked.len() < config.batch_size {
            if next == order.len() {
                order = (0..windows).collect();
                order.shuffle(&mut rng);
                next = 0;
                pass += 1;
            }
            epoch.get_or_insert(pass);
            picked.push(window(order[next]));
            next += 1;
        }
        let micro_batches = picked
            .chunks(config.micro_batch_size)
            .map(|rows| TokenBatch::from_windows(rows, model.device()))
            .collect::<TrainResult<Vec<_>>>()?;
        let outcome =
            language_model_step(&mut trainer, &micro_batches, LossReduction::Mean, observer)?;
        let record = StepRecord {
            step: trainer.steps_done(),
            epoch: epoch.unwrap_or(pass),
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
    Ok(PretrainReport {
        curve,
        total_steps: config.steps,
        windows,
        epochs: (config.steps * config.batch_size) as f64 / windows as f64,
    })
}
