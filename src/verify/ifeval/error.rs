//! Errors raised while turning a data row into checkable instructions.

use thiserror::Error;

/// Why a row's instruction list cannot be turned into checkers.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum InstructionError {
    /// The id is neither one of IFEval's 25 nor one of IFBench's.
    #[error("unknown instruction id `{id}`{suggestion}; IFEval ids are: {known}")]
    UnknownInstruction {
        /// The id as given.
        id: String,
        /// `; did you mean `…`?` or empty.
        suggestion: String,
        /// The known IFEval ids, comma-separated.
        known: String,
    },
    /// A known id whose checker is not implemented, or whose kwargs ask for something this
    /// implementation cannot check (e.g. a language the detector does not know).
    #[error("instruction `{id}` cannot be checked: {reason}")]
    Unsupported {
        /// The instruction id.
        id: String,
        /// What is missing.
        reason: String,
    },
    /// A kwarg is missing, has the wrong type, or has a value the checker cannot use.
    #[error("instruction `{id}`: kwarg `{kwarg}` {problem}; expected {allowed}")]
    BadKwarg {
        /// The instruction id.
        id: String,
        /// The kwarg's name as IFEval spells it.
        kwarg: String,
        /// What is wrong (`is missing`, `is "sometimes"`, …).
        problem: String,
        /// What is allowed.
        allowed: String,
    },
    /// A non-null kwarg that the instruction does not take.
    #[error("instruction `{id}` does not take kwarg `{kwarg}`; it takes {allowed}")]
    UnexpectedKwarg {
        /// The instruction id.
        id: String,
        /// The unexpected kwarg.
        kwarg: String,
        /// The kwargs it takes.
        allowed: String,
    },
    /// `kwargs` is not a list with one object (or null) per instruction id.
    #[error("malformed row: {problem}")]
    MalformedRow {
        /// What is wrong with the row's shape.
        problem: String,
    },
}

impl InstructionError {
    /// The instruction id the error is about, if it is about one.
    pub fn instruction_id(&self) -> Option<&str> {
        match self {
            InstructionError::UnknownInstruction { id, .. }
            | InstructionError::Unsupported { id, .. }
            | InstructionError::BadKwarg { id, .. }
            | InstructionError::UnexpectedKwarg { id, .. } => Some(id),
            InstructionError::MalformedRow { .. } => None,
        }
    }
}
