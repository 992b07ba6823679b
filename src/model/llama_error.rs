//! What can go wrong when building or running a [`Llama`](super::llama::Llama).

use thiserror::Error;

/// Errors from building, running or generating with the model. Each says what to fix.
#[derive(Debug, Error)]
pub enum LlamaError {
    #[error("invalid model config: {0}")]
    InvalidConfig(String),

    #[error("weight `{name}` is missing (a Llama checkpoint in Hugging Face names is expected)")]
    MissingWeight { name: String },

    #[error("weight `{name}` has shape {got:?}, but the config implies {expected:?}")]
    WeightShape {
        name: String,
        expected: Vec<usize>,
        got: Vec<usize>,
    },

    #[error(
        "unexpected weights {names:?}: this model has no such parameters (biases, a different \
         architecture, or names not in Hugging Face Llama form?)"
    )]
    UnexpectedWeights { names: Vec<String> },

    #[error("token id {id} is outside the vocabulary of {vocab_size} tokens")]
    TokenOutOfRange { id: u32, vocab_size: usize },

    #[error("invalid input: {0}")]
    InvalidInput(String),

    #[error(transparent)]
    Tensor(#[from] candle_core::Error),
}

/// Shorthand for results with [`LlamaError`].
pub type LlamaResult<T> = std::result::Result<T, LlamaError>;
