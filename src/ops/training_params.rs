//! The optimizer params `pretrain` and `sft` share, and how they become training settings.

use anyhow::Result;

use super::ctors;
use super::OpCall;
use crate::check::signature::{Constraint, ParamSpec};
use crate::check::value::Ctor;
use crate::check::{Type, Value};
use crate::train::{AdamWConfig, OptimizerSettings};

/// A schedule constructor value, for defaults: `linear(warmup: 0.03)` and friends.
pub fn schedule_value(name: &str, warmup: Value, min_lr_ratio: Option<f64>) -> Value {
    let mut args = vec![("warmup".to_string(), warmup)];
    if let Some(m) = min_lr_ratio {
        args.push(("min_lr_ratio".to_string(), Value::Float(m)));
    }
    Value::Ctor(Ctor {
        kind: "Schedule",
        name: name.to_string(),
        args,
    })
}

/// `lr`, `schedule`, `weight_decay`, `grad_clip` with the given defaults.
pub fn optimizer_params(
    lr: f64,
    schedule: Value,
    weight_decay: f64,
    grad_clip: Option<f64>,
) -> Vec<ParamSpec> {
    let clip = match grad_clip {
        Some(c) => ParamSpec::with_default(
            "grad_clip",
            Type::Float,
            Value::Float(c),
            "clip the global gradient norm to this",
        ),
        None => ParamSpec::optional(
            "grad_clip",
            Type::Float,
            "clip the global gradient norm to this (default: no clipping)",
        ),
    };
    vec![
        ParamSpec::with_default(
            "lr",
            Type::Float,
            Value::Float(lr),
            "the peak learning rate",
        )
        .constrained(Constraint::POSITIVE),
        ParamSpec::with_default(
            "schedule",
            Type::Value("Schedule"),
            schedule,
            "linear(warmup: …), cosine(…) or constant()",
        ),
        ParamSpec::with_default(
            "weight_decay",
            Type::Float,
            Value::Float(weight_decay),
            "AdamW's decoupled weight decay (matrices only)",
        )
        .constrained(Constraint::NON_NEGATIVE),
        clip.constrained(Constraint::POSITIVE),
    ]
}

pub fn optimizer_settings(call: &OpCall) -> Result<OptimizerSettings> {
    Ok(OptimizerSettings {
        adamw: AdamWConfig {
            weight_decay: call.f64("weight_decay")?,
            ..AdamWConfig::default()
        },
        schedule: ctors::schedule(call.param("schedule"), call.f64("lr")?)?,
        max_grad_norm: call.opt_f64("grad_clip"),
    })
}
