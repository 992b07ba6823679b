//! Constructed values recipes pass to training ops: model architectures (`llama(…)`) and
//! learning-rate schedules (`linear(warmup: 0.03)`, `cosine(…)`, `constant()`).

use anyhow::{anyhow, bail, Result};
use serde_json::Value as Json;

use crate::check::signature::{arg, ArgProblem, Args, Constraint, CtorSignature, ParamSpec};
use crate::check::{Type, Value};
use crate::model::config::LlamaConfig;
use crate::train::{LrSchedule, ScheduleKind, Warmup};

pub fn signatures() -> Vec<CtorSignature> {
    let positive =
        |name, doc| ParamSpec::required(name, Type::Int, doc).constrained(Constraint::POSITIVE);
    let warmup = || {
        ParamSpec::with_default(
            "warmup",
            Type::Number,
            Value::Float(0.03),
            "a fraction of the run (Float) or a number of updates (Int)",
        )
        .constrained(Constraint::NON_NEGATIVE)
    };
    vec![
        CtorSignature {
            name: "llama",
            kind: "Arch",
            doc: "A Llama-family decoder shape (RMSNorm, RoPE, grouped-query attention, SwiGLU)",
            params: vec![
                positive("dim", "hidden size"),
                positive("layers", "decoder layers"),
                positive("heads", "attention heads"),
                ParamSpec::optional(
                    "kv_heads",
                    Type::Int,
                    "key/value heads (grouped-query attention; default: heads)",
                )
                .constrained(Constraint::POSITIVE),
                ParamSpec::optional("ff", Type::Int, "SwiGLU hidden size (default: 4 × dim)")
                    .constrained(Constraint::POSITIVE),
                ParamSpec::with_default(
                    "vocab",
                    Type::Int,
                    Value::Int(512),
                    "vocabulary size of the tokenizer trained for it",
                )
                .constrained(Constraint::between(300.0, 1_000_000.0)),
                ParamSpec::with_default(
                    "context",
                    Type::Int,
                    Value::Int(256),
                    "maximum sequence length",
                )
                .constrained(Constraint::POSITIVE),
                ParamSpec::with_default(
                    "rope_theta",
                    Type::Float,
                    Value::Float(10_000.0),
                    "RoPE base",
                )
                .constrained(Constraint::POSITIVE),
                ParamSpec::with_default(
                    "tie",
                    Type::Bool,
                    Value::Bool(true),
                    "tie the output projection to the embeddings",
                ),
            ],
            validate: Some(validate_llama),
        },
        CtorSignature {
            name: "linear",
            kind: "Schedule",
            doc: "Linear warmup, then linear decay to 0 (Tülu 3's schedule)",
            params: vec![warmup()],
            validate: Some(validate_warmup),
        },
        CtorSignature {
            name: "cosine",
            kind: "Schedule",
            doc: "Linear warmup, then cosine decay to `min_lr_ratio` × the peak",
            params: vec![
                warmup(),
                ParamSpec::with_default(
                    "min_lr_ratio",
                    Type::Float,
                    Value::Float(0.0),
                    "the floor, as a fraction of the peak",
                )
                .constrained(Constraint::UNIT),
            ],
            validate: Some(validate_warmup),
        },
        CtorSignature {
            name: "constant",
            kind: "Schedule",
            doc: "Linear warmup, then a constant learning rate",
            params: vec![ParamSpec::with_default(
                "warmup",
                Type::Number,
                Value::Int(0),
                "a fraction of the run (Float) or a number of updates (Int)",
            )
            .constrained(Constraint::NON_NEGATIVE)],
            validate: Some(validate_warmup),
        },
    ]
}

fn int(args: &Args, name: &str) -> Option<i64> {
    match arg(args, name) {
        Some(Value::Int(i)) => Some(*i),
        _ => None,
    }
}

fn validate_llama(args: &Args) -> Result<(), ArgProblem> {
    let (Some(dim), Some(heads)) = (int(args, "dim"), int(args, "heads")) else {
        return Ok(());
    };
    if dim % heads != 0 {
        return Err(ArgProblem::at(
            "heads",
            format!("dim {dim} is not divisible by {heads} heads"),
        ));
    }
    if (dim / heads) % 2 != 0 {
        return Err(ArgProblem::at(
            "heads",
            format!(
                "the head size dim/heads = {} must be even for RoPE",
                dim / heads
            ),
        ));
    }
    if let Some(kv) = int(args, "kv_heads") {
        if heads % kv != 0 {
            return Err(ArgProblem::at(
                "kv_heads",
                format!("{heads} heads cannot be shared evenly by {kv} key/value heads"),
            ));
        }
    }
    Ok(())
}

fn validate_warmup(args: &Args) -> Result<(), ArgProblem> {
    if let Some(Value::Float(f)) = arg(args, "warmup") {
        if *f > 1.0 {
            return Err(ArgProblem::at(
                "warmup",
                format!(
                    "a warmup fraction cannot exceed 1 ({f}); write an Int for a number of updates"
                ),
            ));
        }
    }
    Ok(())
}

fn ctor_args<'a>(value: &'a Json, expected: &[&str]) -> Result<&'a serde_json::Map<String, Json>> {
    let name = value.get("$ctor").and_then(Json::as_str).unwrap_or("?");
    if !expected.contains(&name) {
        bail!("expected one of {}, found `{name}`", expected.join(", "));
    }
    value
        .get("args")
        .and_then(Json::as_object)
        .ok_or_else(|| anyhow!("`{name}` has no arguments"))
}

/// `llama(…)` → the model config (the vocabulary size is the tokenizer's).
pub fn arch_config(value: &Json) -> Result<LlamaConfig> {
    let a = ctor_args(value, &["llama"])?;
    let get = |n: &str| a.get(n).and_then(Json::as_u64).map(|v| v as usize);
    let dim = get("dim").ok_or_else(|| anyhow!("llama: dim missing"))?;
    let heads = get("heads").ok_or_else(|| anyhow!("llama: heads missing"))?;
    Ok(LlamaConfig {
        vocab_size: get("vocab").unwrap_or(512),
        hidden_size: dim,
        intermediate_size: get("ff").unwrap_or(4 * dim),
        num_hidden_layers: get("layers").ok_or_else(|| anyhow!("llama: layers missing"))?,
        num_attention_heads: heads,
        num_key_value_heads: get("kv_heads").unwrap_or(heads),
        max_position_embeddings: get("context").unwrap_or(256),
        rms_norm_eps: 1e-5,
        rope_theta: a
            .get("rope_theta")
            .and_then(Json::as_f64)
            .unwrap_or(10_000.0),
        tie_word_embeddings: a.get("tie").and_then(Json::as_bool).unwrap_or(true),
        bos_token_id: None,
        eos_token_id: None,
    })
}

/// `linear(…)` / `cosine(…)` / `constant(…)` with a peak learning rate → the schedule.
pub fn schedule(value: &Json, peak_lr: f64) -> Result<LrSchedule> {
    let a = ctor_args(value, &["linear", "cosine", "constant"])?;
    let kind = match value.get("$ctor").and_then(Json::as_str) {
        Some("linear") => ScheduleKind::Linear,
        Some("cosine") => ScheduleKind::Cosine,
        _ => ScheduleKind::Constant,
    };
    let warmup = match a.get("warmup") {
        Some(w) if w.is_i64() || w.is_u64() => Warmup::Steps(w.as_u64().unwrap_or(0) as usize),
        Some(w) => Warmup::Fraction(w.as_f64().unwrap_or(0.0)),
        None => Warmup::NONE,
    };
    Ok(LrSchedule {
        kind,
        peak_lr,
        warmup,
        min_lr_ratio: a.get("min_lr_ratio").and_then(Json::as_f64).unwrap_or(0.0),
    })
}
