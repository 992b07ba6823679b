//! `load`: read a data file (JSONL, JSON array, gzipped or not) into a dataset, validating every
//! row against its schema and attaching provenance (source name, row index, license).

use serde_json::{Map, Value as Json};

use super::{Op, OpCall, OpContext, Output};
use crate::check::signature::{arg, ArgProblem, Args, CheckEnv, Constraint, ParamSpec};
use crate::check::{OpSignature, Schema, Type, Value};
use crate::data::field_map::{self, FieldRule};
use crate::data::reader::{read_rows, sniff_file, ReadOptions};
use crate::data::Dataset;

pub struct Load {
    signature: OpSignature,
}

const SCHEMAS: &[&str] = &["auto", "chat", "pref", "prompt", "text"];

impl Load {
    pub fn new() -> Load {
        Load {
            signature: OpSignature {
                name: "load",
                version: 1,
                doc: "Read a data file (JSONL, JSON array, optionally gzipped) into a dataset",
                params: vec![
                    ParamSpec::required(
                        "path",
                        Type::File,
                        "the file, relative to the recipe, or `asset:<package>/<path>`",
                    ),
                    ParamSpec::with_default(
                        "schema",
                        Type::Str,
                        Value::Str("auto".into()),
                        "chat, pref, prompt, text, or auto (from the first row)",
                    )
                    .constrained(Constraint::OneOf(SCHEMAS)),
                    ParamSpec::optional(
                        "name",
                        Type::Str,
                        "the source name rows carry (default: the file's stem)",
                    ),
                    ParamSpec::with_default(
                        "license",
                        Type::Str,
                        Value::Str("unknown".into()),
                        "the license rows carry",
                    ),
                    ParamSpec::optional(
                        "fields",
                        Type::Record(vec![]),
                        "build rows from paths into the source rows: {prompt: \"doc.question\"}",
                    ),
                    ParamSpec::optional(
                        "set",
                        Type::Record(vec![]),
                        "constant fields added to every row",
                    ),
                    ParamSpec::optional("limit", Type::Int, "read only the first N rows")
                        .constrained(Constraint::POSITIVE),
                ],
                output: output_type,
                complete: Some(default_name),
            },
        }
    }
}

impl Default for Load {
    fn default() -> Self {
        Load::new()
    }
}

fn default_name(args: &mut [(&'static str, Option<Value>)]) {
    let stem = match arg(args, "path") {
        Some(Value::File { display, .. }) => source_stem(display),
        _ => return,
    };
    for (name, value) in args.iter_mut() {
        if *name == "name" && value.is_none() {
            *value = Some(Value::Str(stem.clone()));
        }
    }
}

/// `data/gsm8k_test.jsonl.gz` → `gsm8k_test`.
fn source_stem(path: &str) -> String {
    let file = path.rsplit(['/', '\\']).next().unwrap_or(path);
    let mut stem = file;
    for ext in [".gz", ".jsonl", ".json"] {
        stem = stem.strip_suffix(ext).unwrap_or(stem);
    }
    if stem.is_empty() {
        file.to_string()
    } else {
        stem.to_string()
    }
}

fn record_to_json(v: Option<&Value>) -> Map<String, Json> {
    match v.map(|v| v.to_json(&|_| 0)) {
        Some(Json::Object(m)) => m,
        _ => Map::new(),
    }
}

fn rules_of(args: &Args) -> Result<Option<Vec<FieldRule>>, ArgProblem> {
    match arg(args, "fields") {
        None => Ok(None),
        Some(v) => field_map::parse_rules(&record_to_json(Some(v)))
            .map(Some)
            .map_err(|m| ArgProblem::at("fields", m)),
    }
}

fn output_type(args: &Args, _env: &CheckEnv) -> Result<Type, ArgProblem> {
    let rules = rules_of(args)?;
    let set = record_to_json(arg(args, "set"));
    let declared = match arg(args, "schema") {
        Some(Value::Str(s)) if s != "auto" => Schema::from_name(s),
        _ => None,
    };
    if let Some(schema) = declared {
        return Ok(Type::Dataset(Some(schema)));
    }
    let Some(Value::File { path, .. }) = arg(args, "path") else {
        return Ok(Type::Dataset(None));
    };
    match sniff_file(path, rules.as_deref(), &set) {
        Ok(Some(schema)) => Ok(Type::Dataset(Some(schema))),
        Ok(None) => Err(ArgProblem::at(
            "path",
            "cannot tell the schema of this file's first row",
        )
        .with_help("pass `schema: \"chat\"` (or pref, prompt, text); rows need `messages`, `chosen`/`rejected`, `ground_truth` or `text`")),
        Err(e) => Err(ArgProblem::at("path", e.to_string())),
    }
}

impl Op for Load {
    fn signature(&self) -> &OpSignature {
        &self.signature
    }

    fn execute(&self, call: &OpCall, ctx: &OpContext) -> anyhow::Result<Output> {
        let path = call.file("path")?;
        let schema = match call.str("schema")? {
            "auto" => None,
            s => Schema::from_name(s),
        };
        let rules = match call.param("fields") {
            Json::Object(m) => Some(field_map::parse_rules(m).map_err(anyhow::Error::msg)?),
            _ => None,
        };
        let set = match call.param("set") {
            Json::Object(m) => m.clone(),
            _ => Map::new(),
        };
        let opts = ReadOptions {
            schema,
            source: call.str("name")?.to_string(),
            license: call.str("license")?.to_string(),
            fields: rules.as_deref(),
            set: &set,
        };
        ctx.progress.message("reading");
        let (schema, mut rows) = read_rows(path, &opts)?;
        if let Some(limit) = call.opt_usize("limit")? {
            rows.truncate(limit);
        }
        ctx.progress.set_total(rows.len() as u64, "rows");
        ctx.progress.advance(rows.len() as u64);
        Ok(Output::Dataset(Dataset::new(schema, rows)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn source_names_default_to_the_file_stem() {
        assert_eq!(source_stem("data/gsm8k_test.jsonl.gz"), "gsm8k_test");
        assert_eq!(source_stem("x.json"), "x");
        assert_eq!(source_stem("asset:pkg/dir/requests.jsonl.gz"), "requests");
    }
}
