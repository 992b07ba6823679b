//! `filter`: keep the rows that satisfy every condition given — on a field (`field` with
//! `equals`, `not_equals`, `one_of`, `contains`, `matches`, `min`, `max`) and on length (`min_chars`,
//! `max_chars`, `min_words`, `max_words`, measured on the text `on` selects).
//!
//! A row without the field fails every field condition except `not_equals`.

use regex::Regex;
use serde_json::Value as Json;

use super::{Op, OpCall, OpContext, Output};
use crate::check::signature::{arg, ArgProblem, Args, CheckEnv, Constraint, ParamSpec};
use crate::check::{OpSignature, Type, Value};
use crate::data::field_map::{parse_path, pick};
use crate::data::schema::{text_of, TextPart};
use crate::data::Dataset;

pub struct Filter {
    signature: OpSignature,
}

const FIELD_CONDITIONS: &[&str] = &[
    "equals",
    "not_equals",
    "one_of",
    "contains",
    "matches",
    "min",
    "max",
];
const LENGTH_CONDITIONS: &[&str] = &["min_chars", "max_chars", "min_words", "max_words"];

impl Filter {
    pub fn new() -> Filter {
        let count = |name, doc| {
            ParamSpec::optional(name, Type::Int, doc).constrained(Constraint::NON_NEGATIVE)
        };
        Filter {
            signature: OpSignature {
                name: "filter",
                version: 1,
                doc: "Keep the rows that satisfy every given condition",
                params: vec![
                    ParamSpec::required("data", Type::Dataset(None), "the dataset"),
                    ParamSpec::optional(
                        "field",
                        Type::Str,
                        "a field path such as \"dataset\" or \"messages.0.role\"",
                    ),
                    ParamSpec::optional(
                        "equals",
                        Type::Literal,
                        "keep rows whose field equals this",
                    ),
                    ParamSpec::optional(
                        "not_equals",
                        Type::Literal,
                        "keep rows whose field differs from this",
                    ),
                    ParamSpec::optional(
                        "one_of",
                        Type::list(Type::Literal),
                        "keep rows whose field is one of these",
                    ),
                    ParamSpec::optional(
                        "contains",
                        Type::Str,
                        "keep rows whose field (a string or list) contains this",
                    ),
                    ParamSpec::optional(
                        "matches",
                        Type::Str,
                        "keep rows whose field matches this regular expression",
                    ),
                    ParamSpec::optional(
                        "min",
                        Type::Float,
                        "keep rows whose numeric field is at least this",
                    ),
                    ParamSpec::optional(
                        "max",
                        Type::Float,
                        "keep rows whose numeric field is at most this",
                    ),
                    count(
                        "min_chars",
                        "keep rows whose text has at least this many characters",
                    ),
                    count(
                        "max_chars",
                        "keep rows whose text has at most this many characters",
                    ),
                    count(
                        "min_words",
                        "keep rows whose text has at least this many words",
                    ),
                    count(
                        "max_words",
                        "keep rows whose text has at most this many words",
                    ),
                    ParamSpec::with_default(
                        "on",
                        Type::Str,
                        Value::Str("all".into()),
                        "the text length conditions measure: \"all\" or \"prompt\"",
                    )
                    .constrained(Constraint::OneOf(&["all", "prompt"])),
                ],
                output: output_type,
                complete: None,
            },
        }
    }
}

impl Default for Filter {
    fn default() -> Self {
        Filter::new()
    }
}

fn output_type(args: &Args, _env: &CheckEnv) -> Result<Type, ArgProblem> {
    let has = |n: &str| arg(args, n).is_some();
    let field_conditions: Vec<&str> = FIELD_CONDITIONS
        .iter()
        .copied()
        .filter(|c| has(c))
        .collect();
    match (arg(args, "field"), field_conditions.first()) {
        (None, Some(c)) => {
            return Err(ArgProblem::at(
                c,
                format!("`{c}` needs `field:` to say which field it tests"),
            ))
        }
        (Some(Value::Str(path)), None) => {
            parse_path(path).map_err(|m| ArgProblem::at("field", m))?;
            return Err(
                ArgProblem::at("field", "`field` is given but no condition on it")
                    .with_help(format!("add one of: {}", FIELD_CONDITIONS.join(", "))),
            );
        }
        (Some(Value::Str(path)), Some(_)) => {
            parse_path(path).map_err(|m| ArgProblem::at("field", m))?;
        }
        _ => {}
    }
    if field_conditions.is_empty() && !LENGTH_CONDITIONS.iter().any(|c| has(c)) {
        return Err(
            ArgProblem::call("no condition given; filter would keep every row").with_help(format!(
                "add a field condition ({}) or a length condition ({})",
                FIELD_CONDITIONS.join(", "),
                LENGTH_CONDITIONS.join(", ")
            )),
        );
    }
    if let Some(Value::Str(re)) = arg(args, "matches") {
        Regex::new(re).map_err(|e| {
            ArgProblem::at("matches", format!("not a valid regular expression: {e}"))
        })?;
    }
    Ok(arg(args, "data")
        .map(Value::type_of)
        .unwrap_or(Type::Dataset(None)))
}

/// Numbers compare by value (1 equals 1.0); everything else structurally.
fn json_equal(a: &Json, b: &Json) -> bool {
    match (a.as_f64(), b.as_f64()) {
        (Some(x), Some(y)) => x == y,
        _ => a == b,
    }
}

struct Conditions {
    path: Option<Vec<String>>,
    equals: Option<Json>,
    not_equals: Option<Json>,
    one_of: Option<Vec<Json>>,
    contains: Option<String>,
    matches: Option<Regex>,
    min: Option<f64>,
    max: Option<f64>,
    min_chars: Option<usize>,
    max_chars: Option<usize>,
    min_words: Option<usize>,
    max_words: Option<usize>,
    part: TextPart,
}

impl Conditions {
    fn from_call(call: &OpCall) -> anyhow::Result<Conditions> {
        let opt = |n: &str| Some(call.param(n).clone()).filter(|v| !v.is_null());
        Ok(Conditions {
            path: call
                .opt_str("field")
                .map(parse_path)
                .transpose()
                .map_err(anyhow::Error::msg)?,
            equals: opt("equals"),
            not_equals: opt("not_equals"),
            one_of: opt("one_of").and_then(|v| v.as_array().cloned()),
            contains: call.opt_str("contains").map(str::to_string),
            matches: call.opt_str("matches").map(Regex::new).transpose()?,
            min: call.opt_f64("min"),
            max: call.opt_f64("max"),
            min_chars: call.opt_usize("min_chars")?,
            max_chars: call.opt_usize("max_chars")?,
            min_words: call.opt_usize("min_words")?,
            max_words: call.opt_usize("max_words")?,
            part: if call.str("on")? == "prompt" {
                TextPart::Prompt
            } else {
                TextPart::All
            },
        })
    }

    fn keep(&self, ds: &Dataset, fields: &serde_json::Map<String, Json>) -> bool {
        if let Some(path) = &self.path {
            let value = pick(fields, path);
            if let Some(ne) = &self.not_equals {
                if value.is_some_and(|v| json_equal(v, ne)) {
                    return false;
                }
            }
            let needs_value = self.equals.is_some()
                || self.one_of.is_some()
                || self.contains.is_some()
                || self.matches.is_some()
                || self.min.is_some()
                || self.max.is_some();
            if needs_value {
                let Some(v) = value else { return false };
                if self.equals.as_ref().is_some_and(|e| !json_equal(v, e)) {
                    return false;
                }
                if self
                    .one_of
                    .as_ref()
                    .is_some_and(|set| !set.iter().any(|e| json_equal(v, e)))
                {
                    return false;
                }
                if let Some(needle) = &self.contains {
                    let found = match v {
                        Json::String(s) => s.contains(needle.as_str()),
                        Json::Array(items) => items.iter().any(|i| i.as_str() == Some(needle)),
                        _ => false,
                    };
                    if !found {
                        return false;
                    }
                }
                if let Some(re) = &self.matches {
                    let text = match v {
                        Json::String(s) => s.clone(),
                        other => other.to_string(),
                    };
                    if !re.is_match(&text) {
                        return false;
                    }
                }
                if self.min.is_some() || self.max.is_some() {
                    let Some(x) = v.as_f64() else { return false };
                    if self.min.is_some_and(|m| x < m) || self.max.is_some_and(|m| x > m) {
                        return false;
                    }
                }
            }
        }
        if self.min_chars.is_some()
            || self.max_chars.is_some()
            || self.min_words.is_some()
            || self.max_words.is_some()
        {
            let text = text_of(ds.schema, fields, self.part);
            let chars = text.chars().count();
            let words = text.split_whitespace().count();
            if self.min_chars.is_some_and(|m| chars < m)
                || self.max_chars.is_some_and(|m| chars > m)
                || self.min_words.is_some_and(|m| words < m)
                || self.max_words.is_some_and(|m| words > m)
            {
                return false;
            }
        }
        true
    }
}

impl Op for Filter {
    fn signature(&self) -> &OpSignature {
        &self.signature
    }

    fn execute(&self, call: &OpCall, ctx: &OpContext) -> anyhow::Result<Output> {
        let data = call.dataset("data")?;
        let conditions = Conditions::from_call(call)?;
        ctx.progress.set_total(data.rows.len() as u64, "rows");
        let rows: Vec<_> = data
            .rows
            .iter()
            .filter(|r| conditions.keep(&data, &r.fields))
            .cloned()
            .collect();
        ctx.progress.advance(data.rows.len() as u64);
        let mut out = Dataset::new(data.schema, rows);
        out.meta.insert(
            "filter".into(),
            serde_json::json!({"kept": out.rows.len(), "dropped": data.rows.len() - out.rows.len()}),
        );
        Ok(Output::Dataset(out))
    }
}
