//! Combining datasets: `concat` (all rows, in order) and `mix` (a weighted mixture with resolved
//! per-source counts recorded, as the Tülu 3 SFT and preference mixes are described).

use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::json;

use super::call::dataset_of;
use super::sample::{draw, resolve_amount};
use super::{Op, OpCall, OpContext, Output};
use crate::check::signature::{arg, ArgProblem, Args, CheckEnv, ParamSpec};
use crate::check::{OpSignature, Type, Value};
use crate::data::Dataset;

/// The one schema a list of datasets shares, or a problem naming the param.
fn common_schema(param: &'static str, datasets: &[Type]) -> Result<Type, ArgProblem> {
    let mut schema = None;
    for t in datasets {
        if let Type::Dataset(Some(s)) = t {
            match schema {
                None => schema = Some(*s),
                Some(prev) if prev != *s => {
                    return Err(ArgProblem::at(
                        param,
                        format!("all datasets must have one schema, but this list mixes {} and {}", prev.name(), s.name()),
                    )
                    .with_help("convert them first (e.g. `generate` turns prompts into chats), or keep them apart"))
                }
                _ => {}
            }
        }
    }
    Ok(Type::Dataset(schema))
}

pub struct Concat {
    signature: OpSignature,
}

impl Concat {
    pub fn new() -> Concat {
        Concat {
            signature: OpSignature {
                name: "concat",
                version: 1,
                doc: "All rows of several datasets of one schema, in order",
                params: vec![ParamSpec::required(
                    "datasets",
                    Type::list(Type::Dataset(None)),
                    "the datasets",
                )],
                output: concat_type,
                complete: None,
            },
        }
    }
}

impl Default for Concat {
    fn default() -> Self {
        Concat::new()
    }
}

fn concat_type(args: &Args, _env: &CheckEnv) -> Result<Type, ArgProblem> {
    let Some(Value::List(items)) = arg(args, "datasets") else {
        return Ok(Type::Dataset(None));
    };
    if items.is_empty() {
        return Err(ArgProblem::at("datasets", "the list is empty"));
    }
    let types: Vec<Type> = items.iter().map(Value::type_of).collect();
    common_schema("datasets", &types)
}

impl Op for Concat {
    fn signature(&self) -> &OpSignature {
        &self.signature
    }

    fn execute(&self, call: &OpCall, _ctx: &OpContext) -> anyhow::Result<Output> {
        let items = call
            .param("datasets")
            .as_array()
            .cloned()
            .unwrap_or_default();
        let mut rows = Vec::new();
        let mut schema = None;
        for item in &items {
            let ds = dataset_of(call.input_at(item)?)?;
            schema.get_or_insert(ds.schema);
            rows.extend(ds.rows.iter().cloned());
        }
        let schema = schema.ok_or_else(|| anyhow::anyhow!("concat of an empty list"))?;
        Ok(Output::Dataset(Dataset::new(schema, rows)))
    }
}

pub struct Mix {
    signature: OpSignature,
}

impl Mix {
    pub fn new() -> Mix {
        Mix {
            signature: OpSignature {
                name: "mix",
                version: 1,
                doc: "A weighted mixture: [(dataset, amount), …] where a Float is a fraction of that source (above 1.0 upsamples) and an Int a row count",
                params: vec![
                    ParamSpec::required(
                        "sources",
                        Type::list(Type::Tuple(vec![Type::Dataset(None), Type::Number])),
                        "[(dataset, amount), …]",
                    ),
                    ParamSpec::with_default("seed", Type::Int, Value::Int(0), "the sampling seed"),
                    ParamSpec::with_default("shuffle", Type::Bool, Value::Bool(false), "shuffle the mixed rows (else sources stay in order)"),
                ],
                output: mix_type,
                complete: None,
            },
        }
    }
}

impl Default for Mix {
    fn default() -> Self {
        Mix::new()
    }
}

fn mix_type(args: &Args, _env: &CheckEnv) -> Result<Type, ArgProblem> {
    let Some(Value::List(items)) = arg(args, "sources") else {
        return Ok(Type::Dataset(None));
    };
    if items.is_empty() {
        return Err(ArgProblem::at("sources", "the list is empty"));
    }
    let mut types = Vec::new();
    for item in items {
        if let Value::Tuple(pair) = item {
            let negative = match pair.get(1) {
                Some(Value::Int(n)) => *n < 0,
                Some(Value::Float(f)) => *f < 0.0,
                _ => false,
            };
            if negative {
                return Err(ArgProblem::at(
                    "sources",
                    format!("an amount cannot be negative ({})", pair[1].describe()),
                ));
            }
            types.push(pair[0].type_of());
        }
    }
    common_schema("sources", &types)
}

impl Op for Mix {
    fn signature(&self) -> &OpSignature {
        &self.signature
    }

    fn execute(&self, call: &OpCall, ctx: &OpContext) -> anyhow::Result<Output> {
        let sources = call
            .param("sources")
            .as_array()
            .cloned()
            .unwrap_or_default();
        let mut seeds = ctx.rng();
        let mut rows = Vec::new();
        let mut resolved = Vec::new();
        let mut schema = None;
        for (i, pair) in sources.iter().enumerate() {
            let ds = dataset_of(call.input_at(&pair[0])?)?;
            schema.get_or_insert(ds.schema);
            let amount = &pair[1];
            let count = resolve_amount(amount, ds.rows.len())?;
            if count > 0 && ds.rows.is_empty() {
                anyhow::bail!("source #{i} is empty but {count} rows were asked of it");
            }
            // Each source draws from its own stream, so changing one amount leaves the rows
            // picked from the others unchanged.
            let mut rng = ChaCha8Rng::seed_from_u64(seeds.random());
            let picked = draw(&ds.rows, count, &mut rng);
            let names: std::collections::BTreeSet<&str> = ds
                .rows
                .iter()
                .map(|r| r.provenance.source.as_str())
                .collect();
            resolved.push(json!({
                "source": i,
                "names": names.into_iter().collect::<Vec<_>>(),
                "requested": amount,
                "available": ds.rows.len(),
                "selected": picked.len(),
            }));
            rows.extend(picked);
        }
        if call.bool("shuffle")? {
            rows.shuffle(&mut seeds);
        }
        let schema = schema.ok_or_else(|| anyhow::anyhow!("mix of an empty list"))?;
        ctx.progress.set_total(rows.len() as u64, "rows");
        ctx.progress.advance(rows.len() as u64);
        let mut out = Dataset::new(schema, rows);
        out.meta
            .insert("mix".into(), serde_json::Value::Array(resolved));
        Ok(Output::Dataset(out))
    }
}
