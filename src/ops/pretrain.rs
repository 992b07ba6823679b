//! `pretrain`: a small Llama from scratch on a text corpus — a byte-level BPE tokenizer trained on
//! the corpus, then causal language modelling on packed windows. For recipes that start from
//! nothing (the quickstart); real recipes start from `model(…)`.

use anyhow::Context;
use serde_json::json;

use super::ctors::arch_config;
use super::model_bundle::{ModelBundle, DEFAULT_TEMPLATE};
use super::train_observer::{loss_summary, EngineObserver};
use super::training_params::{optimizer_params, optimizer_settings, schedule_value};
use super::{Op, OpCall, OpContext, Output};
use crate::check::signature::{arg, ArgProblem, Args, CheckEnv, Constraint, ParamSpec};
use crate::check::{OpSignature, Schema, Type, Value};
use crate::model::bpe_training::train_bpe;
use crate::model::chat_template::ChatTemplate;
use crate::model::llama::Llama;
use crate::train::{pack_documents, pretrain, PretrainConfig};

pub struct Pretrain {
    signature: OpSignature,
}

/// Special tokens of a tokenizer trained here: end of text, padding, and the Tülu chat markers
/// (so they are single tokens, never split).
pub const SPECIAL_TOKENS: &[&str] = &[
    "<|endoftext|>",
    "<|pad|>",
    "<|system|>",
    "<|user|>",
    "<|assistant|>",
];

impl Pretrain {
    pub fn new() -> Pretrain {
        let mut params = vec![
            ParamSpec::required(
                "arch",
                Type::Value("Arch"),
                "the model shape: llama(dim: …, layers: …, heads: …)",
            ),
            ParamSpec::required(
                "corpus",
                Type::Dataset(Some(Schema::Text)),
                "the documents (`render(…, format: \"text\")` makes them from prompts)",
            ),
            ParamSpec::with_default("steps", Type::Int, Value::Int(1000), "optimizer updates")
                .constrained(Constraint::POSITIVE),
            ParamSpec::with_default(
                "seq_len",
                Type::Int,
                Value::Int(128),
                "tokens per training window",
            )
            .constrained(Constraint::POSITIVE),
            ParamSpec::with_default("batch", Type::Int, Value::Int(8), "windows per update")
                .constrained(Constraint::POSITIVE),
            ParamSpec::optional(
                "micro_batch",
                Type::Int,
                "windows per forward/backward pass (default: batch)",
            )
            .constrained(Constraint::POSITIVE),
        ];
        params.extend(optimizer_params(
            1e-3,
            schedule_value("cosine", Value::Float(0.02), Some(0.1)),
            0.1,
            Some(1.0),
        ));
        params.push(ParamSpec::with_default(
            "seed",
            Type::Int,
            Value::Int(0),
            "weight init and data order",
        ));
        Pretrain {
            signature: OpSignature {
                name: "pretrain",
                version: 1,
                doc: "Train a small Llama and its BPE tokenizer from scratch on a text corpus",
                params,
                output: output_type,
                complete: None,
            },
        }
    }
}

impl Default for Pretrain {
    fn default() -> Self {
        Pretrain::new()
    }
}

fn output_type(args: &Args, _env: &CheckEnv) -> Result<Type, ArgProblem> {
    if let (Some(Value::Ctor(arch)), Some(Value::Int(seq_len))) =
        (arg(args, "arch"), arg(args, "seq_len"))
    {
        let context = arch
            .args
            .iter()
            .find(|(n, _)| n == "context")
            .and_then(|(_, v)| match v {
                Value::Int(c) => Some(*c),
                _ => None,
            });
        if let Some(context) = context {
            if *seq_len > context {
                return Err(ArgProblem::at(
                    "seq_len",
                    format!("seq_len {seq_len} is longer than the model's context {context}"),
                )
                .with_help("raise `context` in llama(…) or shorten `seq_len`"));
            }
        }
    }
    Ok(Type::Model)
}

impl Op for Pretrain {
    fn signature(&self) -> &OpSignature {
        &self.signature
    }

    fn execute(&self, call: &OpCall, ctx: &OpContext) -> anyhow::Result<Output> {
        let mut config = arch_config(call.param("arch"))?;
        let corpus = call.dataset("corpus")?;
        let texts: Vec<&str> = corpus
            .rows
            .iter()
            .filter_map(|r| r.str_field("text"))
            .collect();
        anyhow::ensure!(!texts.is_empty(), "the corpus is empty");
        ctx.progress.message("training the tokenizer");
        let tokenizer = train_bpe(&texts, config.vocab_size, SPECIAL_TOKENS)?
            .with_eos_token("<|endoftext|>")?
            .with_pad_token("<|pad|>")?;
        config.vocab_size = tokenizer.vocab_size();
        let eos = tokenizer.eos_token_id();
        config.eos_token_id = eos;
        ctx.progress.message("tokenizing the corpus");
        let mut documents = Vec::with_capacity(texts.len());
        for text in &texts {
            documents.push(tokenizer.encode(text, false)?);
        }
        let stream = pack_documents(&documents, eos);
        let steps = call.usize("steps")?;
        let batch = call.usize("batch")?;
        let train_config = PretrainConfig {
            seq_len: call.usize("seq_len")?,
            batch_size: batch,
            micro_batch_size: call.opt_usize("micro_batch")?.unwrap_or(batch),
            steps,
            optimizer: optimizer_settings(call)?,
            seed: ctx.seed,
        };
        let device = super::model_bundle::device_from_env()?;
        let llama = Llama::init_random(&config, ctx.seed, &device)?;
        let mut observer = EngineObserver::new(ctx);
        let report = pretrain(&llama, &stream, &train_config, &mut observer)
            .context("pretraining failed")?;
        let bundle = ModelBundle {
            llama,
            tokenizer,
            chat_template: ChatTemplate::builtin(DEFAULT_TEMPLATE)?
                .source()
                .to_string(),
        };
        let dir = ctx.work_dir.join("model");
        bundle.save(&dir)?;
        let mut meta = bundle.manifest_meta();
        meta["training"] = json!({
            "kind": "pretrain",
            "corpus_tokens": stream.len(),
            "windows": report.windows,
            "epochs": report.epochs,
            "summary": loss_summary(&report.curve),
            "loss_curve": observer.curve_json(),
        });
        Ok(Output::Dir {
            kind: "model",
            dir,
            meta,
        })
    }
}
