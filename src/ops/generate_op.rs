//! `generate(model, prompts, …)`: each prompt's conversation continued by the model — greedy
//! (`temperature: 0`, the default) or sampled (temperature, top-p, top-k, seed) — as chats whose
//! last message is the model's reply. Other fields of the prompt rows (`ground_truth`,
//! `dataset`, …) are kept, so the output can be scored.

use serde_json::{json, Map, Value as Json};

use super::generation::{respond, sampling_param_specs, sampling_params, GenerationSettings};
use super::model_bundle::{messages_of, ModelBundle};
use super::{Op, OpCall, OpContext, Output};
use crate::check::signature::{arg, ArgProblem, Args, CheckEnv, Constraint, ParamSpec};
use crate::check::{OpSignature, Schema, Type, Value};
use crate::data::{Dataset, Row};
use crate::model::chat_template::ChatMessage;

pub struct Generate {
    signature: OpSignature,
}

impl Generate {
    pub fn new() -> Generate {
        Generate {
            signature: OpSignature {
                name: "generate",
                version: 1,
                doc: "Continue each prompt's conversation with the model",
                // temperature, top_p, top_k: the same as `eval`'s.
                params: [
                    vec![
                        ParamSpec::required("model", Type::Model, "the model"),
                        ParamSpec::required(
                            "prompts",
                            Type::Dataset(None),
                            "Prompt rows, or Chat rows (a trailing assistant turn is replaced)",
                        ),
                        ParamSpec::with_default(
                            "max_new_tokens",
                            Type::Int,
                            Value::Int(256),
                            "at most this many new tokens per reply",
                        )
                        .constrained(Constraint::POSITIVE),
                    ],
                    sampling_param_specs(),
                    vec![
                        ParamSpec::with_default(
                            "samples",
                            Type::Int,
                            Value::Int(1),
                            "replies per prompt",
                        )
                        .constrained(Constraint::POSITIVE),
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
                            "a system message put before each conversation",
                        ),
                        ParamSpec::with_default(
                            "seed",
                            Type::Int,
                            Value::Int(0),
                            "the sampling seed",
                        ),
                    ],
                ]
                .into_iter()
                .flatten()
                .collect(),
                output: output_type,
                complete: None,
            },
        }
    }
}

impl Default for Generate {
    fn default() -> Self {
        Generate::new()
    }
}

fn output_type(args: &Args, _env: &CheckEnv) -> Result<Type, ArgProblem> {
    match arg(args, "prompts").map(Value::type_of) {
        Some(Type::Dataset(Some(Schema::Prompt | Schema::Chat)))
        | Some(Type::Dataset(None))
        | None => Ok(Type::Dataset(Some(Schema::Chat))),
        Some(other) => Err(ArgProblem::at(
            "prompts",
            format!("generate reads Prompt or Chat rows, not {other}"),
        )),
    }
}

/// The conversation a row asks the model to continue.
pub fn conversation_of(schema: Schema, row: &Row, system: Option<&str>) -> Vec<ChatMessage> {
    let mut messages = Vec::new();
    if let Some(s) = system {
        messages.push(ChatMessage::system(s));
    }
    match schema {
        Schema::Chat => {
            let mut m = messages_of(row.get("messages").unwrap_or(&Json::Null));
            if m.last().is_some_and(|last| last.role == "assistant") {
                m.pop();
            }
            messages.extend(m);
        }
        _ => match row.get("prompt").or_else(|| row.get("messages")) {
            Some(Json::String(p)) => messages.push(ChatMessage::user(p.clone())),
            Some(list @ Json::Array(_)) => messages.extend(messages_of(list)),
            _ => {}
        },
    }
    messages
}

impl Op for Generate {
    fn signature(&self) -> &OpSignature {
        &self.signature
    }

    fn execute(&self, call: &OpCall, ctx: &OpContext) -> anyhow::Result<Output> {
        let device = super::model_bundle::device_from_env()?;
        let bundle = ModelBundle::load(call.model_dir("model")?, &device)?;
        let data = call.dataset("prompts")?;
        let samples = call.usize("samples")?;
        let system = call.opt_str("system");
        let mut conversations = Vec::with_capacity(data.rows.len() * samples);
        for row in &data.rows {
            let conversation = conversation_of(data.schema, row, system);
            if conversation.is_empty() {
                anyhow::bail!(
                    "row {} of `{}` has no prompt",
                    row.provenance.index,
                    row.provenance.source
                );
            }
            for _ in 0..samples {
                conversations.push(conversation.clone());
            }
        }
        let settings = GenerationSettings {
            max_new_tokens: call.usize("max_new_tokens")?,
            sampling: sampling_params(call)?,
            batch: call.usize("batch")?,
            seed: ctx.seed,
        };
        let responses = respond(&bundle, &conversations, &settings, ctx)?;
        let mut rows = Vec::with_capacity(responses.len());
        for (i, response) in responses.into_iter().enumerate() {
            let source = &data.rows[i / samples];
            let mut messages: Vec<Json> = conversations[i]
                .iter()
                .map(|m| json!({"role": m.role, "content": m.content}))
                .collect();
            messages.push(json!({"role": "assistant", "content": response.text}));
            let mut fields = Map::new();
            fields.insert("messages".into(), Json::Array(messages));
            for (k, v) in &source.fields {
                if k != "messages" {
                    fields.insert(k.clone(), v.clone());
                }
            }
            fields.insert("finish_reason".into(), json!(response.finish_reason));
            fields.insert("generated_tokens".into(), json!(response.tokens));
            if samples > 1 {
                fields.insert("sample".into(), json!(i % samples));
            }
            rows.push(Row::new(fields, source.provenance.clone()));
        }
        Ok(Output::Dataset(Dataset::new(Schema::Chat, rows)))
    }
}
