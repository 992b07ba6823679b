//! The 25 IFEval instruction checkers, one file per IFEval instruction family.
//!
//! Each checker is built from its kwargs once (patterns compiled, thresholds validated) and then
//! answers [`Check::is_followed`] for any number of responses. Every checker reproduces the
//! behaviour of `instruction_following_eval/instructions.py` (google-research), including its
//! quirks; the doc comment of each checker states the rule.

pub mod case;
pub mod combination;
pub mod content;
pub mod format;
pub mod keywords;
pub mod language;
pub mod length;
pub mod punctuation;
pub mod startend;

/// A verifiable instruction, ready to check responses.
pub trait Check: Send + Sync + std::fmt::Debug {
    /// Whether `response` follows the instruction. `prompt` is the row's prompt, for checkers
    /// that compare against it. Callers apply IFEval's rule that a blank response follows
    /// nothing before calling this.
    fn is_followed(&self, response: &str, prompt: &str) -> bool;
}
