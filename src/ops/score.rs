//! `score(data, verifier: …, response: "response")`: verify the response each Prompt row holds
//! against the row's gold, adding `score` (1 or 0), `correct`, `extracted` and `details` to the
//! row (replacing fields of those names), and the accuracy to the dataset's metadata (for IFEval
//! rows also IFEval's prompt- and instruction-level accuracy, strict and loose).
//!
//! The response is the string field `response` names; a row without that field whose `messages`
//! (or list-valued `prompt`) ends with an assistant message is scored on that message. Rows are
//! scored in parallel; the output keeps the input's order, so reruns are byte-identical. A row
//! that cannot be scored (no response, a gold its verifier cannot read) fails the node with the
//! row's source and index, after every row was tried, so one run lists how many are at fault.

use std::sync::atomic::Ordering;

use anyhow::{anyhow, bail, Result};
use rayon::prelude::*;
use serde_json::{json, Map, Value as Json};

use super::verifier_ctors::VERIFIER_KIND;
use super::{Op, OpCall, OpContext, Output};
use crate::check::signature::{ArgProblem, Args, CheckEnv, ParamSpec};
use crate::check::{OpSignature, Schema, Type, Value};
use crate::data::{Dataset, Row};
use crate::verify::{Assessment, ScoreTally, Verifier};

pub struct Score {
    signature: OpSignature,
}

/// The fields `score` adds to each row.
pub const SCORE_FIELDS: &[&str] = &["score", "correct", "extracted", "details"];

/// Rows per parallel task: progress and cancellation are checked between chunks.
const ROWS_PER_CHUNK: usize = 64;

impl Score {
    pub fn new() -> Score {
        Score {
            signature: OpSignature {
                name: "score",
                // 2: IFBench's CSV and `format:emoji` instructions are checked (version 1 scored
                // them `unsupported`).
                version: 2,
                doc: "Verify each row's response against its gold answer; add score, correct, \
                      extracted and details, and the accuracy to the metadata",
                params: vec![
                    ParamSpec::required(
                        "data",
                        Type::Dataset(Some(Schema::Prompt)),
                        "prompts with gold answers, each holding a response",
                    ),
                    ParamSpec::required(
                        "verifier",
                        Type::Value(VERIFIER_KIND),
                        "verifier.gsm8k, verifier.math, verifier.ifeval(mode: …) or verifier.auto",
                    ),
                    ParamSpec::with_default(
                        "response",
                        Type::Str,
                        Value::Str("response".into()),
                        "the field holding the response (rows without it are scored on their \
                         chat's last assistant message)",
                    ),
                ],
                output: output_type,
                complete: None,
            },
        }
    }
}

impl Default for Score {
    fn default() -> Self {
        Score::new()
    }
}

fn output_type(args: &Args, _env: &CheckEnv) -> Result<Type, ArgProblem> {
    if let Some(Value::Str(field)) = crate::check::signature::arg(args, "response") {
        if field.is_empty() {
            return Err(
                ArgProblem::at("response", "the response field name is empty")
                    .with_help("name the field that holds each row's response, e.g. \"response\""),
            );
        }
        if SCORE_FIELDS.contains(&field.as_str()) {
            return Err(ArgProblem::at(
                "response",
                format!("the response cannot come from field `{field}`, which this op writes"),
            )
            .with_help("rename the response field when loading the data"));
        }
    }
    Ok(Type::Dataset(Some(Schema::Prompt)))
}

impl Op for Score {
    fn signature(&self) -> &OpSignature {
        &self.signature
    }

    fn execute(&self, call: &OpCall, ctx: &OpContext) -> Result<Output> {
        let data = call.dataset("data")?;
        let verifier = Verifier::from_json(call.param("verifier"))
            .map_err(|e| anyhow!("param `verifier`: {e}"))?;
        let response_field = call.str("response")?;
        ctx.progress.set_total(data.rows.len() as u64, "rows");
        ctx.progress
            .message(&format!("verifying with {}", verifier.name()));

        let scored: Vec<Result<(Row, Assessment), String>> = data
            .rows
            .par_chunks(ROWS_PER_CHUNK)
            .flat_map_iter(|chunk| {
                let cancelled = ctx.cancel.load(Ordering::Relaxed);
                let results: Vec<_> = chunk
                    .iter()
                    .map(|row| {
                        if cancelled {
                            return Err(String::new());
                        }
                        score_row(&verifier, row, response_field)
                            .map_err(|e| format!("{}: {e}", row_location(row)))
                    })
                    .collect();
                ctx.progress.advance(chunk.len() as u64);
                results
            })
            .collect();
        ctx.check_cancelled()?;

        let failures: Vec<&String> = scored.iter().filter_map(|r| r.as_ref().err()).collect();
        if let Some(first) = failures.first() {
            let others = match failures.len() - 1 {
                0 => String::new(),
                1 => "\n(1 more row cannot be scored)".into(),
                n => format!("\n({n} more rows cannot be scored)"),
            };
            bail!("{first}{others}");
        }

        let mut tally = ScoreTally::default();
        let rows: Vec<Row> = scored
            .into_iter()
            .filter_map(Result::ok)
            .map(|(row, assessment)| {
                tally.add(&assessment);
                row
            })
            .collect();
        let mut out = Dataset::new(data.schema, rows);
        out.meta
            .insert("score".into(), tally.to_json(&verifier.name()));
        Ok(Output::Dataset(out))
    }
}

/// Where a row came from, for messages: `gsm8k_test row 12` (the 0-based index in its source).
fn row_location(row: &Row) -> String {
    format!(
        "`{}` row {} (0-based index in that source)",
        row.provenance.source, row.provenance.index
    )
}

fn score_row(verifier: &Verifier, row: &Row, response_field: &str) -> Result<(Row, Assessment)> {
    let response = response_of(&row.fields, response_field)?;
    let gold = verifier.prepare(&row.fields)?;
    let assessment = gold.assess(response);
    let score = &assessment.score;
    let mut fields = row.fields.clone();
    fields.insert("score".into(), json!(u8::from(score.correct)));
    fields.insert("correct".into(), json!(score.correct));
    fields.insert("extracted".into(), json!(score.extracted));
    fields.insert("details".into(), score.details.clone());
    Ok((Row::new(fields, row.provenance.clone()), assessment))
}

/// The response of a row: the string in `field`, else the last message of `messages` (or of a
/// list-valued `prompt`) when an assistant wrote it.
pub fn response_of<'r>(fields: &'r Map<String, Json>, field: &str) -> Result<&'r str> {
    match fields.get(field) {
        Some(Json::String(response)) => return Ok(response),
        Some(other) => bail!(
            "field `{field}` is {}, not the response text; name the field that holds the \
             response with `response: \"…\"`",
            kind_of(other)
        ),
        None => {}
    }
    for chat_field in ["messages", "prompt"] {
        let last = fields
            .get(chat_field)
            .and_then(Json::as_array)
            .and_then(|messages| messages.last());
        if let Some(last) = last {
            if last.get("role").and_then(Json::as_str) == Some("assistant") {
                if let Some(content) = last.get("content").and_then(Json::as_str) {
                    return Ok(content);
                }
            }
        }
    }
    let names: Vec<&str> = fields.keys().map(String::as_str).collect();
    bail!(
        "the row has no `{field}` field and no chat ending in an assistant message, so there is \
         no response to score (its fields are: {}); name the field holding the response with \
         `response: \"…\"`",
        names.join(", ")
    )
}

fn kind_of(value: &Json) -> &'static str {
    match value {
        Json::Null => "null",
        Json::Bool(_) => "a boolean",
        Json::Number(_) => "a number",
        Json::String(_) => "a string",
        Json::Array(_) => "a list",
        Json::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::Provenance;
    use crate::ops::context::NoProgress;
    use crate::ops::Input;
    use std::sync::atomic::AtomicBool;
    use std::sync::Arc;

    fn dataset(rows: Vec<Json>) -> Dataset {
        Dataset::new(
            Schema::Prompt,
            rows.into_iter()
                .enumerate()
                .map(|(i, fields)| {
                    Row::new(
                        fields.as_object().cloned().unwrap(),
                        Provenance {
                            source: "fixture".into(),
                            index: i as u64,
                            license: "MIT".into(),
                        },
                    )
                })
                .collect(),
        )
    }

    fn run(data: Dataset, verifier: Json, response: &str) -> Result<Dataset> {
        let call = OpCall {
            params: json!({"data": {"$input": 0}, "verifier": verifier, "response": response}),
            inputs: vec![Input::Dataset(Arc::new(data))],
        };
        let cancel = AtomicBool::new(false);
        let dir = tempfile::tempdir()?;
        let ctx = OpContext {
            work_dir: dir.path().to_path_buf(),
            recipe_dir: dir.path().to_path_buf(),
            seed: 0,
            progress: &NoProgress,
            cancel: &cancel,
        };
        match Score::new().execute(&call, &ctx)? {
            Output::Dataset(d) => Ok(d),
            _ => bail!("score must produce a dataset"),
        }
    }

    fn auto() -> Json {
        json!({"$ctor": "verifier.auto", "args": {"ifeval_mode": "strict"}})
    }

    #[test]
    fn adds_score_fields_and_accuracy_keeping_order_and_provenance() {
        let mut rows = Vec::new();
        for i in 0..300 {
            rows.push(json!({
                "prompt": format!("{i} + 1?"),
                "ground_truth": (i + 1).to_string(),
                "dataset": if i % 2 == 0 { "gsm8k" } else { "math" },
                "response": if i % 3 == 0 { format!("\\boxed{{{i}}}") } else { format!("{} so \\boxed{{{}}}", i, i + 1) },
            }));
        }
        let out = run(dataset(rows), auto(), "response").unwrap();
        assert_eq!(out.rows.len(), 300);
        for (i, row) in out.rows.iter().enumerate() {
            assert_eq!(row.provenance.index, i as u64);
            let correct = i % 3 != 0;
            assert_eq!(row.fields["correct"], json!(correct), "row {i}");
            assert_eq!(row.fields["score"], json!(u8::from(correct)));
        }
        let meta = &out.meta["score"];
        assert_eq!(meta["rows"], 300);
        assert_eq!(meta["correct"], 200);
        assert_eq!(meta["per_task"]["gsm8k"]["rows"], 150);
        assert_eq!(meta["verifier"], "auto(ifeval: strict)");
    }

    #[test]
    fn chat_rows_are_scored_on_their_last_assistant_message() {
        let out = run(
            dataset(vec![json!({
                "messages": [{"role": "user", "content": "2+2?"}, {"role": "assistant", "content": "4"}],
                "ground_truth": "4",
            })]),
            json!({"$ctor": "verifier.gsm8k", "args": {}}),
            "response",
        )
        .unwrap();
        assert_eq!(out.rows[0].fields["correct"], true);
        assert_eq!(out.rows[0].fields["extracted"], "4");
    }

    #[test]
    fn errors_name_the_row_and_count_the_others() {
        let rows = vec![
            json!({"prompt": "p", "ground_truth": "1", "response": "1"}),
            json!({"prompt": "p", "ground_truth": "1"}),
            json!({"prompt": "p", "ground_truth": "1", "response": 3}),
        ];
        let error = run(
            dataset(rows),
            json!({"$ctor": "verifier.math", "args": {}}),
            "response",
        )
        .unwrap_err()
        .to_string();
        assert!(
            error.starts_with(
                "`fixture` row 1 (0-based index in that source): the row has no `response` field"
            ),
            "{error}"
        );
        assert!(
            error.contains("its fields are: prompt, ground_truth"),
            "{error}"
        );
        assert!(error.contains("(1 more row cannot be scored)"), "{error}");
    }

    #[test]
    fn response_field_names_that_collide_are_rejected_by_the_checker() {
        let args = [("response", Some(Value::Str("score".into())))];
        let env = CheckEnv {
            base_dir: std::path::Path::new("."),
        };
        let problem = output_type(&args, &env).unwrap_err();
        assert!(
            problem.message.contains("which this op writes"),
            "{problem:?}"
        );
    }
}
