//! `eval(models: […], suites: […])`: every model answers every suite's prompts (greedy by
//! default), a verifier scores the answers, and the report is a table of models × suites —
//! accuracy with a 95% Wilson interval and n — plus every scored answer for inspection.

use rayon::prelude::*;
use serde_json::{json, Value as Json};

use super::call::dataset_of;
use super::eval_report::{render_eval_markdown, wilson_interval};
use super::generate_op::conversation_of;
use super::generation::{respond, sampling_param_specs, sampling_params, GenerationSettings};
use super::model_bundle::ModelBundle;
use super::{Input, Op, OpCall, OpContext, Output};
use crate::check::signature::{ArgProblem, Args, CheckEnv, Constraint, ParamSpec};
use crate::check::{OpSignature, Schema, Type, Value};
use crate::verify::Verifier;

pub struct Eval {
    signature: OpSignature,
}

impl Eval {
    pub fn new() -> Eval {
        Eval {
            signature: OpSignature {
                name: "eval",
                // 2: IFBench's CSV and `format:emoji` instructions are checked (version 1 scored
                // them `unsupported`).
                version: 2,
                doc: "Models × suites: generate, verify, and report accuracy with 95% intervals",
                // temperature, top_p, top_k: the same as `generate`'s.
                params: [
                    vec![
                        ParamSpec::required("models", Type::list(Type::Model), "the models to compare"),
                        ParamSpec::required(
                            "suites",
                            Type::list(Type::Dataset(Some(Schema::Prompt))),
                            "evaluation sets (prompt rows with ground truth)",
                        ),
                        ParamSpec::optional(
                            "verifier",
                            Type::Value("Verifier"),
                            "how answers are checked (default: verifier.auto, by each row's `dataset`)",
                        ),
                        ParamSpec::optional(
                            "limit",
                            Type::Int,
                            "use only the first N prompts of each suite",
                        )
                        .constrained(Constraint::POSITIVE),
                        ParamSpec::with_default(
                            "max_new_tokens",
                            Type::Int,
                            Value::Int(256),
                            "at most this many tokens per answer",
                        )
                        .constrained(Constraint::POSITIVE),
                    ],
                    sampling_param_specs(),
                    vec![
                        ParamSpec::with_default(
                            "batch",
                            Type::Int,
                            Value::Int(8),
                            "sequences generated together",
                        )
                        .constrained(Constraint::POSITIVE),
                        ParamSpec::optional(
                            "system",
                            Type::Str,
                            "a system message put before each prompt",
                        ),
                        ParamSpec::with_default(
                            "seed",
                            Type::Int,
                            Value::Int(0),
                            "the sampling seed (when temperature > 0)",
                        ),
                    ],
                ]
                .into_iter()
                .flatten()
                .collect(),
                output: |args: &Args, _: &CheckEnv| -> Result<Type, ArgProblem> {
                    for name in ["models", "suites"] {
                        if let Some(Value::List(items)) = crate::check::signature::arg(args, name) {
                            if items.is_empty() {
                                return Err(ArgProblem::at(name, format!("`{name}` is empty")));
                            }
                        }
                    }
                    Ok(Type::Report)
                },
                complete: None,
            },
        }
    }
}

impl Default for Eval {
    fn default() -> Self {
        Eval::new()
    }
}

fn suite_name(ds: &crate::data::Dataset) -> String {
    let mut names: Vec<&str> = ds
        .rows
        .iter()
        .map(|r| r.provenance.source.as_str())
        .collect();
    names.sort();
    names.dedup();
    if names.is_empty() {
        "(empty)".into()
    } else {
        names.join("+")
    }
}

impl Op for Eval {
    fn signature(&self) -> &OpSignature {
        &self.signature
    }

    fn execute(&self, call: &OpCall, ctx: &OpContext) -> anyhow::Result<Output> {
        let verifier = match call.param("verifier") {
            Json::Null => Verifier::from_json(&json!({"$ctor": "verifier.auto", "args": {}}))?,
            v => Verifier::from_json(v)?,
        };
        let limit = call.opt_usize("limit")?;
        let models: Vec<Json> = call.param("models").as_array().cloned().unwrap_or_default();
        let suites: Vec<Json> = call.param("suites").as_array().cloned().unwrap_or_default();
        let settings = GenerationSettings {
            max_new_tokens: call.usize("max_new_tokens")?,
            sampling: sampling_params(call)?,
            batch: call.usize("batch")?,
            seed: ctx.seed,
        };
        let system = call.opt_str("system");
        let device = super::model_bundle::device_from_env()?;

        let mut suite_data = Vec::new();
        for s in &suites {
            let ds = dataset_of(call.input_at(s)?)?;
            let take = limit.unwrap_or(ds.rows.len()).min(ds.rows.len());
            // Each row's gold is prepared once, before any generation, so a bad row fails fast.
            let mut golds = Vec::with_capacity(take);
            for row in &ds.rows[..take] {
                golds.push(verifier.prepare(&row.fields).map_err(|e| {
                    anyhow::anyhow!(
                        "row {} of `{}`: {e:#}",
                        row.provenance.index,
                        row.provenance.source
                    )
                })?);
            }
            suite_data.push((suite_name(&ds), ds, take, golds));
        }

        let mut cells = Vec::new();
        let mut samples = Vec::new();
        for (m, model_ref) in models.iter().enumerate() {
            let dir = match call.input_at(model_ref)? {
                Input::Model(dir) => dir.clone(),
                _ => anyhow::bail!("models[{m}] is not a model"),
            };
            let bundle = ModelBundle::load(&dir, &device)?;
            for (s, (name, ds, take, golds)) in suite_data.iter().enumerate() {
                let conversations: Vec<_> = ds.rows[..*take]
                    .iter()
                    .map(|r| conversation_of(Schema::Prompt, r, system))
                    .collect();
                ctx.progress.message(&format!("model #{m} on {name}"));
                let responses = respond(&bundle, &conversations, &settings, ctx)?;
                let scores: Vec<_> = responses
                    .par_iter()
                    .zip(golds.par_iter())
                    .map(|(r, g)| g.score(&r.text))
                    .collect();
                let correct = scores.iter().filter(|s| s.correct).count();
                let (lo, hi) = wilson_interval(correct, scores.len());
                cells.push(json!({
                    "model": m,
                    "suite": s,
                    "n": scores.len(),
                    "correct": correct,
                    "accuracy": if scores.is_empty() { 0.0 } else { correct as f64 / scores.len() as f64 },
                    "ci95": [lo, hi],
                }));
                for ((row, response), score) in ds.rows[..*take].iter().zip(&responses).zip(&scores)
                {
                    samples.push(json!({
                        "model": m,
                        "suite": s,
                        "source": row.provenance.source,
                        "index": row.provenance.index,
                        "prompt": conversation_of(Schema::Prompt, row, None).last().map(|c| c.content.clone()),
                        "response": response.text,
                        "finish_reason": response.finish_reason,
                        "extracted": score.extracted,
                        "correct": score.correct,
                    }));
                }
            }
        }
        let report = json!({
            "format": "eval",
            "verifier": verifier.name(),
            "models": models.len(),
            "suites": suite_data.iter().map(|(name, _, take, _)| json!({"name": name, "n": take})).collect::<Vec<_>>(),
            "cells": cells,
            "settings": {"max_new_tokens": settings.max_new_tokens, "temperature": call.f64("temperature")?, "limit": limit},
        });
        let dir = ctx.work_dir.join("report");
        std::fs::create_dir_all(&dir)?;
        std::fs::write(dir.join("report.json"), serde_json::to_vec_pretty(&report)?)?;
        let model_names: Vec<String> = (0..models.len()).map(|m| format!("model #{m}")).collect();
        std::fs::write(
            dir.join("report.md"),
            render_eval_markdown(&report, &model_names),
        )?;
        let mut lines = String::new();
        for s in &samples {
            lines.push_str(&serde_json::to_string(s)?);
            lines.push('\n');
        }
        std::fs::write(dir.join("samples.jsonl"), lines)?;
        Ok(Output::Dir {
            kind: "report",
            dir,
            meta: json!({"format": "eval", "verifier": verifier.name()}),
        })
    }
}
