//! A row's gold, prepared once and scored against many responses.

use std::borrow::Cow;

use anyhow::{anyhow, bail, Result};
use serde_json::{json, Map, Value};

use super::gsm8k::{gold_from_solution, Gsm8kGold};
use super::ifeval::{self, IfEvalOutcome, InstructionSet, Mode};
use super::math::{MathGold, Verdict};
use super::row_gold::{instruction_gold, prompt_text, scalar_gold};
use super::score::{Assessment, Score};
use super::task::Task;
use super::verifier::mode_name;

/// A row's gold answer or instructions, ready to score responses. `Send + Sync`: share one
/// across threads to score many samples of a prompt in parallel.
#[derive(Debug)]
pub struct PreparedGold {
    gold: Gold,
}

#[derive(Debug)]
enum Gold {
    Gsm8k {
        gold: Gsm8kGold,
        answer: String,
    },
    Math(MathGold),
    IfEval {
        instructions: InstructionSet,
        prompt: String,
        mode: Mode,
    },
}

impl PreparedGold {
    pub(crate) fn new(task: Task, mode: Mode, row: &Map<String, Value>) -> Result<PreparedGold> {
        let gold = match task {
            Task::Gsm8k => {
                let text = scalar_gold(row, "GSM8K")?;
                let gold =
                    Gsm8kGold::new(&text).map_err(|e| anyhow!("field `ground_truth`: {e}"))?;
                let answer = gold_from_solution(&text).unwrap_or_else(|| text.trim().to_string());
                Gold::Gsm8k { gold, answer }
            }
            Task::Math => {
                let text = scalar_gold(row, "MATH")?;
                Gold::Math(MathGold::new(&text).map_err(|e| anyhow!("field `ground_truth`: {e}"))?)
            }
            Task::IfEval => {
                let (ids, kwargs) = instruction_gold(row)?;
                Gold::IfEval {
                    instructions: instruction_set(&ids, &kwargs)?,
                    prompt: prompt_text(row),
                    mode,
                }
            }
        };
        Ok(PreparedGold { gold })
    }

    /// The task this gold is checked as.
    pub fn task(&self) -> Task {
        match self.gold {
            Gold::Gsm8k { .. } => Task::Gsm8k,
            Gold::Math(_) => Task::Math,
            Gold::IfEval { .. } => Task::IfEval,
        }
    }

    /// IFEval instructions that cannot be checked here, as `(id, reason)`: their verdict is
    /// `unsupported` and the row is never scored correct. Empty for other tasks.
    pub fn unsupported_instructions(&self) -> Vec<(&str, &str)> {
        match &self.gold {
            Gold::IfEval { instructions, .. } => instructions.unsupported().collect(),
            _ => Vec::new(),
        }
    }

    /// Scores one response.
    pub fn score(&self, response: &str) -> Score {
        match &self.gold {
            Gold::Gsm8k { gold, answer } => {
                verdict_score(gold.verify(response), Task::Gsm8k, answer)
            }
            Gold::Math(gold) => verdict_score(gold.verify(response), Task::Math, gold.answer()),
            Gold::IfEval {
                instructions,
                prompt,
                mode,
            } => {
                let outcome =
                    instructions.evaluate(prompt, &answer_after_thinking(response), *mode);
                ifeval_score(&outcome, *mode)
            }
        }
    }

    /// Scores one response and, for IFEval, also computes the outcome of the other mode, since
    /// IFEval reports strict and loose accuracy together.
    pub fn assess(&self, response: &str) -> Assessment {
        if let Gold::IfEval {
            instructions,
            prompt,
            mode,
        } = &self.gold
        {
            let (strict, loose) =
                instructions.evaluate_both(prompt, &answer_after_thinking(response));
            let score = ifeval_score(
                match mode {
                    Mode::Strict => &strict,
                    Mode::Loose => &loose,
                },
                *mode,
            );
            return Assessment {
                task: Task::IfEval,
                score,
                ifeval: Some((strict, loose)),
            };
        }
        Assessment {
            task: self.task(),
            score: self.score(response),
            ifeval: None,
        }
    }
}

fn verdict_score(verdict: Verdict, task: Task, gold: &str) -> Score {
    Score::new(
        verdict.correct,
        verdict.extracted,
        json!({
            "task": task.name(),
            "gold": gold,
            "matched_by": verdict.matched_by.map(|source| source.as_str()),
        }),
    )
}

/// The row's instruction set. An id that is neither IFEval's nor IFBench's is an error (most
/// likely a typo, reported with a "did you mean"); a known id this implementation cannot check
/// (an IFBench checker not implemented, a language the detector does not know) becomes an
/// `unsupported` instruction, so a whole benchmark loads and its report counts them.
fn instruction_set(ids: &[String], kwargs: &[Value]) -> Result<InstructionSet> {
    for id in ids {
        let known =
            ifeval::registry::spec(id).is_some() || ifeval::ifbench::ALL_IDS.contains(&id.as_str());
        if !known {
            let error = ifeval::registry::build(id, &Value::Null)
                .err()
                .map(|e| e.to_string())
                .unwrap_or_else(|| format!("unknown instruction id `{id}`"));
            bail!("field `ground_truth.instruction_id_list`: {error}");
        }
    }
    InstructionSet::from_row_lenient(ids, kwargs).map_err(|e| anyhow!("field `ground_truth`: {e}"))
}

fn ifeval_score(outcome: &IfEvalOutcome, mode: Mode) -> Score {
    let instructions: Vec<Value> = outcome
        .per_instruction
        .iter()
        .map(|v| json!({"id": v.id, "verdict": v.verdict}))
        .collect();
    Score::new(
        outcome.follow_all,
        None,
        json!({
            "task": Task::IfEval.name(),
            "mode": mode_name(mode),
            "instructions": instructions,
        }),
    )
}

/// The answer part of a reasoning model's response: the text after the last `</think>`, with
/// `<answer>` tags removed and surrounding whitespace stripped, as open-instruct's IFEval
/// verifier reads it. A response without `</think>` is judged exactly as written (as IFEval
/// itself does).
pub fn answer_after_thinking(response: &str) -> Cow<'_, str> {
    match response.rsplit_once("</think>") {
        None => Cow::Borrowed(response),
        Some((_, after)) => Cow::Owned(
            after
                .replace("<answer>", "")
                .replace("</answer>", "")
                .trim()
                .to_string(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verify::Verifier;

    fn row(value: Value) -> Map<String, Value> {
        value.as_object().cloned().unwrap()
    }

    fn assert_send_sync<T: Send + Sync>() {}

    #[test]
    fn prepared_gold_is_shareable_across_threads() {
        assert_send_sync::<PreparedGold>();
        assert_send_sync::<Score>();
    }

    #[test]
    fn gsm8k_and_math_scores_carry_extraction_and_details() {
        let gold = Verifier::Gsm8k
            .prepare(&row(
                json!({"prompt": "p", "ground_truth": "So 3 + 4 = 7.\n#### 7"}),
            ))
            .unwrap();
        let score = gold.score("3 and 4 make $7.");
        assert_eq!(score.reward, 1.0);
        assert_eq!(score.extracted.as_deref(), Some("7"));
        assert_eq!(
            score.details,
            json!({"task": "gsm8k", "gold": "7", "matched_by": "last_number"})
        );
        assert!(!gold.score("8").correct);

        let gold = Verifier::Math
            .prepare(&row(json!({"prompt": "p", "ground_truth": "\\frac{1}{2}"})))
            .unwrap();
        let score = gold.score("so $x = \\boxed{0.5}$");
        assert!(score.correct);
        assert_eq!(score.details["matched_by"], "boxed");
        assert_eq!(gold.assess("\\boxed{1}").score.reward, 0.0);
        assert_eq!(gold.task(), Task::Math);
    }

    #[test]
    fn ifeval_scores_list_per_instruction_verdicts() {
        let gold = Verifier::IfEval { mode: Mode::Strict }
            .prepare(&row(json!({
                "prompt": "Write without commas, in lowercase.",
                "ground_truth": {
                    "instruction_id_list": ["punctuation:no_comma", "change_case:english_lowercase"],
                    "kwargs": [{}, {}]
                }
            })))
            .unwrap();
        let score =
            gold.score("this is my answer written entirely in lowercase letters as the user asked");
        assert!(score.correct);
        assert_eq!(score.extracted, None);
        assert_eq!(
            score.details["instructions"],
            json!([
                {"id": "punctuation:no_comma", "verdict": "followed"},
                {"id": "change_case:english_lowercase", "verdict": "followed"}
            ])
        );
        let score = gold.score("Hello, World");
        assert!(!score.correct);
        assert_eq!(score.details["instructions"][0]["verdict"], "not_followed");
    }

    #[test]
    fn loose_mode_and_assessments_cover_both_modes() {
        let ground_truth = json!({
            "instruction_id_list": ["change_case:english_lowercase"],
            "kwargs": [null]
        });
        let response = "Sure! Here it is:\nthis is my answer written entirely in lowercase letters as the user asked";
        let prepare = |mode| {
            Verifier::IfEval { mode }
                .prepare(&row(
                    json!({"prompt": "p", "ground_truth": ground_truth.clone()}),
                ))
                .unwrap()
        };
        assert!(!prepare(Mode::Strict).score(response).correct);
        assert!(prepare(Mode::Loose).score(response).correct);
        let assessment = prepare(Mode::Strict).assess(response);
        let (strict, loose) = assessment.ifeval.unwrap();
        assert!(!strict.follow_all && loose.follow_all);
        assert!(!assessment.score.correct);
    }

    #[test]
    fn thinking_is_removed_before_instructions_are_checked() {
        let gold = Verifier::IfEval { mode: Mode::Strict }
            .prepare(&row(json!({
                "prompt": "p",
                "ground_truth": {"instruction_id_list": ["punctuation:no_comma"], "kwargs": [{}]}
            })))
            .unwrap();
        assert!(
            gold.score("<think>well, hmm, ok</think>\n<answer>no commas</answer>")
                .correct
        );
        assert!(!gold.score("well, hmm").correct);
        assert_eq!(answer_after_thinking(" a, b "), " a, b ");
    }

    #[test]
    fn unknown_ids_are_errors_and_unimplemented_ones_unsupported() {
        let error = Verifier::IfEval { mode: Mode::Strict }
            .prepare(&row(json!({
                "prompt": "p",
                "ground_truth": {"instruction_id_list": ["punctuation:no_comas"], "kwargs": [{}]}
            })))
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("did you mean `punctuation:no_comma`"),
            "{error}"
        );
        let unimplemented = crate::verify::ifeval::ifbench::ALL_IDS
            .iter()
            .find(|id| crate::verify::ifeval::registry::spec(id).is_none());
        if let Some(id) = unimplemented {
            let gold = Verifier::IfEval { mode: Mode::Strict }
                .prepare(&row(json!({
                    "prompt": "p",
                    "ground_truth": {"instruction_id_list": [id], "kwargs": [null]}
                })))
                .unwrap();
            assert_eq!(gold.unsupported_instructions().len(), 1);
            let score = gold.score("anything");
            assert!(!score.correct);
            assert_eq!(score.details["instructions"][0]["verdict"], "unsupported");
        }
    }

    /// Hostile gold and responses end as errors or incorrect scores, never as panics or hangs.
    #[test]
    fn hostile_rows_never_panic() {
        // Rows come from serde_json, which refuses nesting past 128 levels.
        let mut nested = Value::Null;
        for _ in 0..120 {
            nested = json!([nested]);
        }
        let golds = [
            json!("[".repeat(100_000)),
            json!("{".repeat(100_000)),
            json!(format!("[{}]", "'a',".repeat(10_000))),
            json!("\\boxed{".repeat(1_000)),
            json!("9".repeat(20_000)),
            json!({"instruction_id_list": ["length_constraints:number_words"], "kwargs": [{"num_words": -1, "relation": "less than"}]}),
            json!({"instruction_id_list": ["detectable_content:number_placeholders"], "kwargs": [{"num_placeholders": 1e300}]}),
            nested,
            json!(true),
            json!(-0.0),
        ];
        let verifiers = [
            Verifier::Gsm8k,
            Verifier::Math,
            Verifier::IfEval { mode: Mode::Loose },
        ];
        let responses = [
            "",
            "\\boxed{",
            &"(".repeat(50_000),
            "<think></think>",
            "\u{0}\u{202e}",
        ];
        for gold in &golds {
            for verifier in verifiers {
                let row = row(json!({"prompt": "p", "ground_truth": gold}));
                if let Ok(prepared) = verifier.prepare(&row) {
                    for response in responses {
                        let assessment = prepared.assess(response);
                        assert!(assessment.score.reward == 0.0 || assessment.score.correct);
                    }
                }
            }
        }
    }

    #[test]
    fn gold_errors_name_the_field() {
        let error = Verifier::Gsm8k
            .prepare(&row(json!({"prompt": "p", "ground_truth": "no number"})))
            .unwrap_err()
            .to_string();
        assert!(error.starts_with("field `ground_truth`"), "{error}");
        let error = Verifier::Math
            .prepare(&row(json!({"prompt": "p", "ground_truth": ""})))
            .unwrap_err()
            .to_string();
        assert!(error.contains("empty"), "{error}");
        let error = Verifier::IfEval { mode: Mode::Loose }
            .prepare(&row(json!({
                "prompt": "p",
                "ground_truth": {"instruction_id_list": ["punctuation:no_comma"], "kwargs": []}
            })))
            .unwrap_err()
            .to_string();
        assert!(error.contains("one per id"), "{error}");
    }
}
