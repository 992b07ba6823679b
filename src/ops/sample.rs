//! `sample`: a seeded subset of rows — `n: 1000` rows, or `n: 0.1` of them (a float is a
//! fraction, an int a count; the dot decides). Rows keep their original order. Without
//! `replace: true`, asking for more rows than there are is an error; with it, the dataset is
//! repeated whole as often as it fits and the remainder drawn without replacement.

use rand::seq::index;
use rand_chacha::ChaCha8Rng;

use super::{Op, OpCall, OpContext, Output};
use crate::check::signature::{arg, ArgProblem, Args, CheckEnv, Constraint, ParamSpec};
use crate::check::{OpSignature, Type, Value};
use crate::data::{Dataset, Row};

pub struct Sample {
    signature: OpSignature,
}

impl Sample {
    pub fn new() -> Sample {
        Sample {
            signature: OpSignature {
                name: "sample",
                version: 1,
                doc: "A seeded subset: `n: 1000` rows or `n: 0.1` of them",
                params: vec![
                    ParamSpec::required("data", Type::Dataset(None), "the dataset"),
                    ParamSpec::required(
                        "n",
                        Type::Number,
                        "a row count (Int) or a fraction (Float)",
                    )
                    .constrained(Constraint::NON_NEGATIVE),
                    ParamSpec::with_default("seed", Type::Int, Value::Int(0), "the sampling seed"),
                    ParamSpec::with_default(
                        "replace",
                        Type::Bool,
                        Value::Bool(false),
                        "allow more rows than the dataset has, by repeating it",
                    ),
                ],
                output: output_type,
                complete: None,
            },
        }
    }
}

impl Default for Sample {
    fn default() -> Self {
        Sample::new()
    }
}

fn output_type(args: &Args, _env: &CheckEnv) -> Result<Type, ArgProblem> {
    let replace = matches!(arg(args, "replace"), Some(Value::Bool(true)));
    if let (Some(Value::Float(f)), false) = (arg(args, "n"), replace) {
        if *f > 1.0 {
            return Err(ArgProblem::at(
                "n",
                format!("a fraction above 1 ({f}) needs `replace: true`"),
            )
            .with_help("write an Int for a row count, or set `replace: true` to upsample"));
        }
    }
    Ok(arg(args, "data")
        .map(Value::type_of)
        .unwrap_or(Type::Dataset(None)))
}

/// How many rows an amount asks for: an Int is a count, a Float a fraction (rounded down, as
/// open-instruct's mixer does).
pub fn resolve_amount(amount: &serde_json::Value, available: usize) -> anyhow::Result<usize> {
    if let Some(n) = amount
        .as_u64()
        .filter(|_| amount.is_u64() || amount.is_i64())
    {
        return Ok(n as usize);
    }
    match amount.as_f64() {
        Some(f) if f >= 0.0 && f.is_finite() => Ok((f * available as f64).floor() as usize),
        _ => anyhow::bail!("`{amount}` is not a row count or a fraction"),
    }
}

/// `count` rows of `rows` (order kept), drawn with `rng`; repeats whole copies when `count`
/// exceeds the rows available.
pub fn draw(rows: &[Row], count: usize, rng: &mut ChaCha8Rng) -> Vec<Row> {
    if rows.is_empty() || count == 0 {
        return Vec::new();
    }
    let copies = count / rows.len();
    let rest = count % rows.len();
    let mut out = Vec::with_capacity(count);
    for _ in 0..copies {
        out.extend_from_slice(rows);
    }
    let mut picked = index::sample(rng, rows.len(), rest).into_vec();
    picked.sort_unstable();
    out.extend(picked.into_iter().map(|i| rows[i].clone()));
    out
}

impl Op for Sample {
    fn signature(&self) -> &OpSignature {
        &self.signature
    }

    fn execute(&self, call: &OpCall, ctx: &OpContext) -> anyhow::Result<Output> {
        let data = call.dataset("data")?;
        let count = resolve_amount(call.param("n"), data.rows.len())?;
        if count > data.rows.len() && !call.bool("replace")? {
            anyhow::bail!(
                "asked for {count} rows but the dataset has {}; use `replace: true` to upsample, or ask for fewer",
                data.rows.len()
            );
        }
        let mut rng = ctx.rng();
        let rows = draw(&data.rows, count, &mut rng);
        let mut out = Dataset::new(data.schema, rows);
        out.meta.insert(
            "sample".into(),
            serde_json::json!({"requested": call.param("n"), "available": data.rows.len(), "selected": count}),
        );
        Ok(Output::Dataset(out))
    }
}
