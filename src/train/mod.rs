//! Losses and training loops: pretraining, SFT, the DPO family, RLVR; the optimizer.
//!
//! - Optimizer side: [`AdamW`] (decoupled weight decay, PyTorch's arithmetic, fused on CPU),
//!   learning-rate schedules ([`LrSchedule`]: constant, linear, cosine, with warmup),
//!   global-norm clipping, and the [`Trainer`] that accumulates micro-batch gradients and
//!   applies one update per effective batch.
//! - Losses: masked next-token cross-entropy with `sum`/`mean` reduction over the effective
//!   batch ([`LossReduction`]); the preference losses `dpo`, `dpo_norm`, `simpo`
//!   ([`preference_loss`]).
//! - Loops: [`sft`] and [`pretrain`], with a progress/cancellation [`TrainObserver`] and the
//!   loss curve returned as [`StepRecord`]s.
//!
//! The API is on token ids ([`TrainExample`]): tokenizing and chat templates live in
//! `model`. Everything is deterministic: the only randomness is the data order, drawn from a
//! ChaCha8 stream seeded by the config's `seed`, and every reduction has fixed chunking, so a
//! rerun on the same machine gives bit-identical weights. `docs/training.md` has the details.

mod adamw;
mod adamw_kernel;
mod error;
mod example;
mod grad_clip;
mod host_tensor;
mod lm_step;
mod preference_loss;
mod pretrain;
mod progress;
mod schedule;
mod sft;
mod token_batch;
mod token_loss;
mod trainer;

#[cfg(test)]
mod adamw_tests;
#[cfg(test)]
mod loop_tests;
#[cfg(test)]
mod preference_loss_tests;
#[cfg(test)]
mod test_support;
#[cfg(test)]
mod token_loss_tests;

pub use adamw::{AdamW, AdamWConfig, DecayScope};
pub use error::{TrainError, TrainResult};
pub use example::TrainExample;
pub use grad_clip::{clip_coefficient, global_grad_norm};
pub use lm_step::{language_model_step, LmStepOutcome};
pub use preference_loss::{
    preference_loss, PreferenceLoss, PreferenceLossOutput, ReferenceLogProbs,
};
pub use pretrain::{pack_documents, pretrain, PretrainConfig, PretrainReport};
pub use progress::{StepProgress, StepRecord, TrainHooks, TrainObserver};
pub use schedule::{LrSchedule, ResolvedSchedule, ScheduleKind, Warmup};
pub use sft::{sft, SftConfig, SftReport};
pub use token_batch::TokenBatch;
pub use token_loss::{
    masked_nll_sum, sequence_log_probs, LossReduction, MaskedNll, SequenceLogProbs,
};
pub use trainer::{OptimizerSettings, Trainer, UpdateStats};
