//! What can go wrong while training, each error saying what to change.

use crate::model::llama_error::LlamaError;
use thiserror::Error;

/// Errors from the optimizer, the losses and the training loops.
#[derive(Debug, Error)]
pub enum TrainError {
    /// A setting is out of range or inconsistent with another.
    #[error("invalid training config: {0}")]
    InvalidConfig(String),

    /// One training example cannot be used as given.
    #[error("training example {index}: {reason}")]
    InvalidExample { index: usize, reason: String },

    /// A pretraining stream holds a token the model cannot embed.
    #[error(
        "token {id} at stream position {position} is outside the model's vocabulary of \
         {vocab_size} tokens (was the corpus tokenized with another tokenizer?)"
    )]
    InvalidToken {
        position: usize,
        id: u32,
        vocab_size: usize,
    },

    /// Inputs to a loss function do not fit together (shapes, lengths, missing reference).
    #[error("invalid loss input: {0}")]
    InvalidLossInput(String),

    /// Nothing is left to train on.
    #[error("no training data: {0}")]
    NoData(String),

    /// The loss or the gradient norm became NaN or infinite: the run diverged.
    #[error(
        "step {step}: the {quantity} is {value}; training diverged — lower the learning rate, \
         enable gradient clipping (max_grad_norm), or check the data"
    )]
    NonFinite {
        step: usize,
        quantity: &'static str,
        value: f64,
    },

    /// The observer asked to stop. The model holds the weights of the last completed step.
    #[error("training cancelled after {completed_steps} of {total_steps} steps")]
    Cancelled {
        completed_steps: usize,
        total_steps: usize,
    },

    #[error(transparent)]
    Model(#[from] LlamaError),

    #[error(transparent)]
    Tensor(#[from] candle_core::Error),
}

/// Shorthand for results with [`TrainError`].
pub type TrainResult<T> = std::result::Result<T, TrainError>;

/// `Err(InvalidConfig)` unless `ok`.
pub(crate) fn ensure_config(ok: bool, message: impl FnOnce() -> String) -> TrainResult<()> {
    if ok {
        Ok(())
    } else {
        Err(TrainError::InvalidConfig(message()))
    }
}
