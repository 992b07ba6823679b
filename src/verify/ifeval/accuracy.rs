//! Prompt-level and instruction-level accuracy, as IFEval's `print_report` computes them.
//!
//! IFEval reports, per mode: prompt-level accuracy (the share of prompts whose every
//! instruction is followed), instruction-level accuracy (the share of all instructions
//! followed), and instruction-level accuracy per category (`keywords`, `detectable_format`, …,
//! the id before `:`) and per id. Instructions this implementation cannot check
//! ([`Verdict::Unsupported`]) are left out of every ratio and counted separately; a prompt with
//! one is left out of the prompt-level ratio.

use super::instruction_set::{IfEvalOutcome, Verdict};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Followed / checked counts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tally {
    /// How many were followed.
    pub followed: u64,
    /// How many were checked.
    pub total: u64,
}

impl Tally {
    fn record(&mut self, followed: bool) {
        self.total += 1;
        self.followed += u64::from(followed);
    }

    fn merge(&mut self, other: Tally) {
        self.followed += other.followed;
        self.total += other.total;
    }

    /// `followed / total`, or `None` when nothing was checked.
    pub fn accuracy(&self) -> Option<f64> {
        (self.total > 0).then(|| self.followed as f64 / self.total as f64)
    }
}

/// Accuracy of one mode over many responses.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ModeAccuracy {
    /// Prompts whose instructions were all checked: how many followed all of them.
    pub prompts: Tally,
    /// Checked instructions: how many were followed.
    pub instructions: Tally,
    /// Per category (the id before `:`).
    pub per_category: BTreeMap<String, Tally>,
    /// Per instruction id.
    pub per_instruction: BTreeMap<String, Tally>,
    /// Prompts left out of the prompt-level ratio because an instruction could not be checked.
    pub prompts_not_fully_checked: u64,
    /// Instructions that could not be checked, per id.
    pub unsupported: BTreeMap<String, u64>,
}

impl ModeAccuracy {
    /// Adds one response's outcome.
    pub fn add(&mut self, outcome: &IfEvalOutcome) {
        if outcome.is_fully_checked() {
            self.prompts.record(outcome.follow_all);
        } else {
            self.prompts_not_fully_checked += 1;
        }
        for verdict in &outcome.per_instruction {
            let followed = match verdict.verdict {
                Verdict::Unsupported => {
                    *self.unsupported.entry(verdict.id.clone()).or_default() += 1;
                    continue;
                }
                Verdict::Followed => true,
                Verdict::NotFollowed => false,
            };
            self.instructions.record(followed);
            let category = verdict.id.split(':').next().unwrap_or_default();
            self.per_category
                .entry(category.to_string())
                .or_default()
                .record(followed);
            self.per_instruction
                .entry(verdict.id.clone())
                .or_default()
                .record(followed);
        }
    }

    /// Combines accuracies computed over disjoint sets of responses (e.g. in parallel shards).
    pub fn merge(&mut self, other: &ModeAccuracy) {
        self.prompts.merge(other.prompts);
        self.instructions.merge(other.instructions);
        for (key, tally) in &other.per_category {
            self.per_category
                .entry(key.clone())
                .or_default()
                .merge(*tally);
        }
        for (key, tally) in &other.per_instruction {
            self.per_instruction
                .entry(key.clone())
                .or_default()
                .merge(*tally);
        }
        self.prompts_not_fully_checked += other.prompts_not_fully_checked;
        for (key, count) in &other.unsupported {
            *self.unsupported.entry(key.clone()).or_default() += count;
        }
    }

    /// IFEval's prompt-level accuracy.
    pub fn prompt_level(&self) -> Option<f64> {
        self.prompts.accuracy()
    }

    /// IFEval's instruction-level accuracy.
    pub fn instruction_level(&self) -> Option<f64> {
        self.instructions.accuracy()
    }
}

/// Strict and loose accuracy together: the four headline IFEval numbers and their breakdowns.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct IfEvalAccumulator {
    /// Strict mode.
    pub strict: ModeAccuracy,
    /// Loose mode.
    pub loose: ModeAccuracy,
}

impl IfEvalAccumulator {
    /// Adds the strict and loose outcomes of one response.
    pub fn add(&mut self, strict: &IfEvalOutcome, loose: &IfEvalOutcome) {
        self.strict.add(strict);
        self.loose.add(loose);
    }

    /// Combines two accumulators over disjoint responses.
    pub fn merge(&mut self, other: &IfEvalAccumulator) {
        self.strict.merge(&other.strict);
        self.loose.merge(&other.loose);
    }

    /// The headline numbers, as lm-evaluation-harness names them.
    pub fn summary(&self) -> IfEvalSummary {
        IfEvalSummary {
            prompt_level_strict_acc: self.strict.prompt_level(),
            inst_level_strict_acc: self.strict.instruction_level(),
            prompt_level_loose_acc: self.loose.prompt_level(),
            inst_level_loose_acc: self.loose.instruction_level(),
        }
    }
}

/// IFEval's four headline metrics (`None` when nothing was checked).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct IfEvalSummary {
    /// Share of prompts with every instruction followed, strict mode.
    pub prompt_level_strict_acc: Option<f64>,
    /// Share of instructions followed, strict mode.
    pub inst_level_strict_acc: Option<f64>,
    /// Share of prompts with every instruction followed, loose mode.
    pub prompt_level_loose_acc: Option<f64>,
    /// Share of instructions followed, loose mode.
    pub inst_level_loose_acc: Option<f64>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verify::ifeval::instruction_set::InstructionVerdict;

    fn outcome(verdicts: &[(&str, Verdict)]) -> IfEvalOutcome {
        IfEvalOutcome {
            follow_all: verdicts.iter().all(|(_, v)| *v == Verdict::Followed),
            per_instruction: verdicts
                .iter()
                .map(|(id, verdict)| InstructionVerdict {
                    id: id.to_string(),
                    verdict: *verdict,
                })
                .collect(),
        }
    }

    #[test]
    fn prompt_and_instruction_levels_match_ifeval_definitions() {
        use Verdict::*;
        let mut accuracy = ModeAccuracy::default();
        accuracy.add(&outcome(&[
            ("keywords:existence", Followed),
            ("punctuation:no_comma", Followed),
        ]));
        accuracy.add(&outcome(&[
            ("keywords:existence", NotFollowed),
            ("punctuation:no_comma", Followed),
        ]));
        accuracy.add(&outcome(&[("keywords:frequency", Followed)]));
        accuracy.add(&outcome(&[
            ("count:numbers", Unsupported),
            ("punctuation:no_comma", NotFollowed),
        ]));
        assert_eq!(accuracy.prompt_level(), Some(2.0 / 3.0));
        assert_eq!(accuracy.instruction_level(), Some(4.0 / 6.0));
        assert_eq!(
            accuracy.per_category["keywords"],
            Tally {
                followed: 2,
                total: 3
            }
        );
        assert_eq!(
            accuracy.per_instruction["punctuation:no_comma"],
            Tally {
                followed: 2,
                total: 3
            }
        );
        assert_eq!(accuracy.prompts_not_fully_checked, 1);
        assert_eq!(accuracy.unsupported["count:numbers"], 1);

        let mut merged = ModeAccuracy::default();
        merged.merge(&accuracy);
        merged.merge(&accuracy);
        assert_eq!(
            merged.prompts,
            Tally {
                followed: 4,
                total: 6
            }
        );
        assert_eq!(merged.prompt_level(), accuracy.prompt_level());
    }

    #[test]
    fn empty_accumulator_has_no_accuracy() {
        let summary = IfEvalAccumulator::default().summary();
        assert_eq!(summary.prompt_level_strict_acc, None);
        assert_eq!(summary.inst_level_loose_acc, None);
    }
}
