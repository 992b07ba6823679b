//! Verifiers: GSM8K, MATH "flex", IFEval instruction checkers — and the one API ops use for all
//! of them.
//!
//! A recipe names a verifier as a value ([`Verifier`]: `verifier.gsm8k`, `verifier.math`,
//! `verifier.ifeval(mode: "strict" | "loose")`, `verifier.auto`). An op turns the value it
//! receives into a [`Verifier`] with [`Verifier::from_json`], prepares each row's gold once with
//! [`Verifier::prepare`] (a [`PreparedGold`]: the parsed gold answer or the built IFEval
//! instruction set) and scores any number of responses against it ([`PreparedGold::score`], a
//! [`Score`] with a 0/1 reward the op scales). [`PreparedGold::assess`] adds what a report needs
//! (both IFEval modes), and a [`ScoreTally`] sums assessments into accuracies.
//!
//! The gold forms each task accepts, how `verifier.auto` dispatches, and where this deliberately
//! differs from open-instruct are in `docs/verifiers.md`.

pub mod gsm8k;
pub mod ifeval;
pub mod math;
pub mod prepared;
pub mod python_literal;
pub mod row_gold;
pub mod score;
pub mod tally;
pub mod task;
pub mod verifier;

pub use prepared::{answer_after_thinking, PreparedGold};
pub use score::{Assessment, Score};
pub use tally::ScoreTally;
pub use task::Task;
pub use verifier::Verifier;
