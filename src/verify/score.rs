//! What a verifier says about one response, in one shape for every task.

use serde::Serialize;
use serde_json::Value;

use super::ifeval::IfEvalOutcome;
use super::task::Task;

/// The judgement of one response against one row's gold.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Score {
    /// Whether the response is verified correct (for IFEval: every instruction checked and
    /// followed in the verifier's mode).
    pub correct: bool,
    /// 1.0 when correct, else 0.0. Ops scale it (Tülu 3's RLVR pays 10 for a verified answer).
    pub reward: f64,
    /// The answer read from the response (the GSM8K last number, the MATH candidate that
    /// matched, else the first one tried); `None` when nothing was extracted and for IFEval,
    /// which judges the whole response.
    pub extracted: Option<String>,
    /// Task-specific facts, for people and reports: always `task`; for GSM8K and MATH `gold`
    /// (the gold answer as read) and `matched_by` (where the matching answer came from, or
    /// null); for IFEval `mode` and `instructions`, one `{id, verdict}` per instruction in the
    /// row's order, verdict `followed`, `not_followed` or `unsupported`.
    pub details: Value,
}

impl Score {
    pub(crate) fn new(correct: bool, extracted: Option<String>, details: Value) -> Score {
        Score {
            correct,
            reward: if correct { 1.0 } else { 0.0 },
            extracted,
            details,
        }
    }
}

/// A score together with what a report needs beyond it: for IFEval rows, the strict and the
/// loose outcome, whatever the verifier's own mode (IFEval reports all four accuracies).
#[derive(Debug, Clone, PartialEq)]
pub struct Assessment {
    /// The task the row was verified as.
    pub task: Task,
    pub score: Score,
    /// `(strict, loose)` for IFEval rows, `None` otherwise.
    pub ifeval: Option<(IfEvalOutcome, IfEvalOutcome)>,
}
