//! Accuracy over many scored responses: overall, per task, and for IFEval rows the four IFEval
//! numbers (prompt- and instruction-level, strict and loose) — the metadata a scored dataset
//! or an eval report carries.
//!
//! Counts are integers and ratios are computed once at the end, so the result does not depend
//! on the order in which shards are merged.

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};

use super::ifeval::{IfEvalAccumulator, ModeAccuracy, Tally};
use super::score::Assessment;
use super::task::Task;

/// Correct / total counts of many assessments.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ScoreTally {
    overall: Tally,
    per_task: BTreeMap<Task, Tally>,
    ifeval: IfEvalAccumulator,
}

impl ScoreTally {
    pub fn add(&mut self, assessment: &Assessment) {
        let correct = assessment.score.correct;
        record(&mut self.overall, correct);
        record(self.per_task.entry(assessment.task).or_default(), correct);
        if let Some((strict, loose)) = &assessment.ifeval {
            self.ifeval.add(strict, loose);
        }
    }

    /// Combines tallies of disjoint sets of responses.
    pub fn merge(&mut self, other: &ScoreTally) {
        merge(&mut self.overall, other.overall);
        for (task, tally) in &other.per_task {
            merge(self.per_task.entry(*task).or_default(), *tally);
        }
        self.ifeval.merge(&other.ifeval);
    }

    /// How many responses were scored.
    pub fn total(&self) -> u64 {
        self.overall.total
    }

    /// Share of responses scored correct, `None` when none was scored.
    pub fn accuracy(&self) -> Option<f64> {
        self.overall.accuracy()
    }

    /// The IFEval accumulator (per category and per id as well as the headline numbers).
    pub fn ifeval(&self) -> &IfEvalAccumulator {
        &self.ifeval
    }

    /// The tally as metadata:
    /// `{verifier, rows, correct, accuracy, per_task: {task: {rows, correct, accuracy}},
    /// ifeval: {prompt_level_strict_acc, inst_level_strict_acc, prompt_level_loose_acc,
    /// inst_level_loose_acc, prompts, instructions, prompts_not_fully_checked, unsupported,
    /// per_category: {category: {strict, loose}}}}`; `ifeval` only when IFEval rows were scored.
    pub fn to_json(&self, verifier_name: &str) -> Value {
        let mut out = Map::new();
        out.insert("verifier".into(), json!(verifier_name));
        insert_tally(&mut out, "rows", self.overall);
        let per_task: Map<String, Value> = self
            .per_task
            .iter()
            .map(|(task, tally)| {
                let mut entry = Map::new();
                insert_tally(&mut entry, "rows", *tally);
                (task.name().to_string(), Value::Object(entry))
            })
            .collect();
        out.insert("per_task".into(), Value::Object(per_task));
        let ifeval_rows = self.per_task.get(&Task::IfEval).map_or(0, |t| t.total);
        if ifeval_rows > 0 {
            out.insert("ifeval".into(), ifeval_json(&self.ifeval));
        }
        Value::Object(out)
    }
}

fn ifeval_json(ifeval: &IfEvalAccumulator) -> Value {
    let summary = ifeval.summary();
    let (strict, loose) = (&ifeval.strict, &ifeval.loose);
    let per_category: Map<String, Value> = strict
        .per_category
        .keys()
        .chain(loose.per_category.keys())
        .map(|category| {
            let of = |mode: &ModeAccuracy| {
                mode.per_category
                    .get(category)
                    .copied()
                    .unwrap_or_default()
                    .accuracy()
            };
            (
                category.clone(),
                json!({"strict": of(strict), "loose": of(loose)}),
            )
        })
        .collect();
    json!({
        "prompt_level_strict_acc": summary.prompt_level_strict_acc,
        "inst_level_strict_acc": summary.inst_level_strict_acc,
        "prompt_level_loose_acc": summary.prompt_level_loose_acc,
        "inst_level_loose_acc": summary.inst_level_loose_acc,
        "prompts": strict.prompts.total,
        "instructions": strict.instructions.total,
        "prompts_not_fully_checked": strict.prompts_not_fully_checked,
        "unsupported": strict.unsupported,
        "per_category": per_category,
    })
}

fn insert_tally(out: &mut Map<String, Value>, total_name: &str, tally: Tally) {
    out.insert(total_name.into(), json!(tally.total));
    out.insert("correct".into(), json!(tally.followed));
    out.insert("accuracy".into(), json!(tally.accuracy()));
}

fn record(tally: &mut Tally, correct: bool) {
    tally.total += 1;
    tally.followed += u64::from(correct);
}

fn merge(tally: &mut Tally, other: Tally) {
    tally.total += other.total;
    tally.followed += other.followed;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verify::ifeval::Mode;
    use crate::verify::Verifier;

    fn assess(verifier: Verifier, row: Value, response: &str) -> Assessment {
        verifier
            .prepare(row.as_object().unwrap())
            .unwrap()
            .assess(response)
    }

    #[test]
    fn tallies_overall_per_task_and_ifeval_metrics() {
        let auto = Verifier::Auto {
            ifeval_mode: Mode::Strict,
        };
        let gsm8k = json!({"prompt": "p", "ground_truth": "4", "dataset": "gsm8k"});
        let ifeval = json!({
            "prompt": "p",
            "dataset": "ifeval",
            "ground_truth": {
                "instruction_id_list": ["punctuation:no_comma", "change_case:english_lowercase"],
                "kwargs": [{}, {}]
            }
        });
        let assessments = [
            assess(auto, gsm8k.clone(), "4"),
            assess(auto, gsm8k, "5"),
            assess(
                auto,
                ifeval.clone(),
                "this is my answer written entirely in lowercase letters as the user asked",
            ),
            assess(auto, ifeval, "Hi\nno commas but Upper"),
        ];
        let mut tally = ScoreTally::default();
        assessments.iter().for_each(|a| tally.add(a));
        let json = tally.to_json("auto(ifeval: strict)");
        assert_eq!(json["rows"], 4);
        assert_eq!(json["correct"], 2);
        assert_eq!(json["accuracy"], 0.5);
        assert_eq!(json["per_task"]["gsm8k"]["correct"], 1);
        assert_eq!(json["per_task"]["ifeval"]["accuracy"], 0.5);
        let ifeval = &json["ifeval"];
        assert_eq!(ifeval["prompt_level_strict_acc"], 0.5);
        assert_eq!(ifeval["inst_level_strict_acc"], 0.75);
        // Loose drops the first line "Hi", leaving "no commas but Upper": still not lowercase.
        assert_eq!(ifeval["inst_level_loose_acc"], 0.75);
        assert_eq!(ifeval["instructions"], 4);
        assert_eq!(ifeval["per_category"]["punctuation"]["strict"], 1.0);

        // Merging shards gives the tally of the whole, in any order.
        let (mut left, mut right) = (ScoreTally::default(), ScoreTally::default());
        assessments[..1].iter().for_each(|a| left.add(a));
        assessments[1..].iter().for_each(|a| right.add(a));
        right.merge(&left);
        assert_eq!(right.to_json("x"), tally.to_json("x"));
    }

    #[test]
    fn empty_tallies_have_no_accuracy_and_no_ifeval_section() {
        let json = ScoreTally::default().to_json("math");
        assert_eq!(json["rows"], 0);
        assert_eq!(json["accuracy"], Value::Null);
        assert!(json.get("ifeval").is_none());
    }
}
