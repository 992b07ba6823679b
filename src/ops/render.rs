//! `render`: turn prompt rows into training data — chats whose assistant turn is the worked
//! solution (`format: "chat_cot"`) or just the answer (`"chat_answer"`), or plain text documents
//! for pretraining (`"text"`: the prompt, a newline, the solution).

use serde_json::{json, Map, Value as Json};

use super::{Op, OpCall, OpContext, Output};
use crate::check::signature::{arg, ArgProblem, Args, CheckEnv, Constraint, ParamSpec};
use crate::check::{OpSignature, Schema, Type, Value};
use crate::data::schema::{text_of, TextPart};
use crate::data::{Dataset, Row};

pub struct Render {
    signature: OpSignature,
}

const FORMATS: &[&str] = &["chat_cot", "chat_answer", "text"];

impl Render {
    pub fn new() -> Render {
        Render {
            signature: OpSignature {
                name: "render",
                version: 1,
                doc: "Prompt rows → chats (the solution or the answer as the assistant turn) or text documents",
                params: vec![
                    ParamSpec::required("data", Type::Dataset(Some(Schema::Prompt)), "prompt rows (with a `solution` field for chat_cot and text)"),
                    ParamSpec::with_default("format", Type::Str, Value::Str("chat_cot".into()), "chat_cot, chat_answer or text")
                        .constrained(Constraint::OneOf(FORMATS)),
                    ParamSpec::optional("system", Type::Str, "a system message to put first in each chat"),
                ],
                output: output_type,
                complete: None,
            },
        }
    }
}

impl Default for Render {
    fn default() -> Self {
        Render::new()
    }
}

fn output_type(args: &Args, _env: &CheckEnv) -> Result<Type, ArgProblem> {
    Ok(match arg(args, "format") {
        Some(Value::Str(f)) if f == "text" => Type::Dataset(Some(Schema::Text)),
        _ => Type::Dataset(Some(Schema::Chat)),
    })
}

impl Op for Render {
    fn signature(&self) -> &OpSignature {
        &self.signature
    }

    fn execute(&self, call: &OpCall, ctx: &OpContext) -> anyhow::Result<Output> {
        let data = call.dataset("data")?;
        let format = call.str("format")?;
        let system = call.opt_str("system");
        ctx.progress.set_total(data.rows.len() as u64, "rows");
        let mut rows = Vec::with_capacity(data.rows.len());
        for row in &data.rows {
            let prompt = text_of(Schema::Prompt, &row.fields, TextPart::Prompt);
            let solution = || -> anyhow::Result<String> {
                row.str_field("solution").map(str::to_string).ok_or_else(|| {
                    anyhow::anyhow!(
                        "row {} of `{}` has no `solution` field; use `format: \"chat_answer\"`, or load a `solution`",
                        row.provenance.index,
                        row.provenance.source
                    )
                })
            };
            let mut fields = Map::new();
            if format == "text" {
                fields.insert(
                    "text".into(),
                    Json::String(format!("{prompt}\n{}", solution()?)),
                );
            } else {
                let reply = if format == "chat_cot" {
                    solution()?
                } else {
                    let answer = match row.get("ground_truth") {
                        Some(Json::String(s)) => s.clone(),
                        Some(other) => other.to_string(),
                        None => String::new(),
                    };
                    format!("The answer is {answer}.")
                };
                let mut messages = Vec::new();
                if let Some(s) = system {
                    messages.push(json!({"role": "system", "content": s}));
                }
                messages.push(json!({"role": "user", "content": prompt}));
                messages.push(json!({"role": "assistant", "content": reply}));
                fields.insert("messages".into(), Json::Array(messages));
            }
            rows.push(Row::new(fields, row.provenance.clone()));
        }
        ctx.progress.advance(data.rows.len() as u64);
        let schema = if format == "text" {
            Schema::Text
        } else {
            Schema::Chat
        };
        Ok(Output::Dataset(Dataset::new(schema, rows)))
    }
}
