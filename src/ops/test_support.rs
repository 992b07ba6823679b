//! Running an op directly in unit tests: params with the signature's defaults filled in (as the
//! checker would), datasets as inputs, a throwaway context.

use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use serde_json::{json, Map, Value as Json};

use super::{Input, Op, OpCall, OpContext, Output};
use crate::check::signature::Default as ParamDefault;
use crate::check::Schema;
use crate::data::{Dataset, Provenance, Row};

/// Rows of `schema` from JSON objects, with provenance `source#i`.
pub fn dataset(schema: Schema, source: &str, rows: Vec<Json>) -> Dataset {
    let rows = rows
        .into_iter()
        .enumerate()
        .map(|(i, fields)| {
            Row::new(
                fields.as_object().cloned().unwrap_or_default(),
                Provenance {
                    source: source.into(),
                    index: i as u64,
                    license: "MIT".into(),
                },
            )
        })
        .collect();
    Dataset::new(schema, rows)
}

/// Text rows from strings.
pub fn texts(source: &str, texts: &[&str]) -> Dataset {
    dataset(
        Schema::Text,
        source,
        texts.iter().map(|t| json!({ "text": t })).collect(),
    )
}

/// Prompt rows from strings.
pub fn prompts(source: &str, prompts: &[&str]) -> Dataset {
    dataset(
        Schema::Prompt,
        source,
        prompts
            .iter()
            .map(|p| json!({ "prompt": p, "ground_truth": "0" }))
            .collect(),
    )
}

/// One chat row: a user turn and an assistant turn.
pub fn chat(user: &str, assistant: &str) -> Json {
    json!({"messages": [{"role": "user", "content": user}, {"role": "assistant", "content": assistant}]})
}

/// All rows of `parts`, in order (each keeps its provenance).
pub fn concat(parts: Vec<Dataset>) -> Dataset {
    let schema = parts.first().map(|d| d.schema).unwrap_or(Schema::Text);
    Dataset::new(schema, parts.into_iter().flat_map(|d| d.rows).collect())
}

/// Runs `op` with `params` over the signature's defaults; each value of `params` that is a
/// [`Dataset`] placeholder (`{"$input": i}`) refers to `inputs[i]`.
pub fn run_op(op: &dyn Op, params: Json, inputs: Vec<Dataset>) -> anyhow::Result<Output> {
    let mut full = Map::new();
    for spec in &op.signature().params {
        let value = match &spec.default {
            ParamDefault::Value(v) => v.to_json(&|_| 0),
            _ => Json::Null,
        };
        full.insert(spec.name.to_string(), value);
    }
    for (k, v) in params.as_object().cloned().unwrap_or_default() {
        full.insert(k, v);
    }
    let call = OpCall {
        params: Json::Object(full),
        inputs: inputs
            .into_iter()
            .map(|d| Input::Dataset(Arc::new(d)))
            .collect(),
    };
    let dir = tempfile::tempdir()?;
    let cancel = AtomicBool::new(false);
    let ctx = OpContext {
        work_dir: dir.path().to_path_buf(),
        recipe_dir: dir.path().to_path_buf(),
        seed: 0,
        progress: &super::context::NoProgress,
        cancel: &cancel,
    };
    op.execute(&call, &ctx)
}

/// The dataset an op produced.
pub fn output_dataset(output: Output) -> Dataset {
    match output {
        Output::Dataset(d) => d,
        _ => panic!("the op did not produce a dataset"),
    }
}
