//! `sft`: supervised fine-tuning on chats — loss on assistant tokens only, Tülu 3's defaults
//! (lr 5e-6, linear schedule with 3% warmup, 2 epochs, batch 128, length 4096, sum reduction).

use anyhow::Context;
use serde_json::json;

use super::model_bundle::{messages_of, ModelBundle};
use super::train_observer::{loss_summary, EngineObserver};
use super::training_params::{optimizer_params, optimizer_settings, schedule_value};
use super::{Op, OpCall, OpContext, Output};
use crate::check::signature::{ArgProblem, Args, CheckEnv, Constraint, ParamSpec};
use crate::check::{OpSignature, Schema, Type, Value};
use crate::model::chat_tokenize::tokenize_chat_for_sft;
use crate::train::{sft, LossReduction, SftConfig, TrainExample};

pub struct Sft {
    signature: OpSignature,
}

impl Sft {
    pub fn new() -> Sft {
        let mut params = vec![
            ParamSpec::required("model", Type::Model, "the model to fine-tune"),
            ParamSpec::required(
                "data",
                Type::Dataset(Some(Schema::Chat)),
                "chats; the loss covers assistant turns",
            ),
            ParamSpec::with_default("epochs", Type::Int, Value::Int(2), "passes over the data")
                .constrained(Constraint::POSITIVE),
            ParamSpec::with_default(
                "batch",
                Type::Int,
                Value::Int(128),
                "examples per update (the effective batch)",
            )
            .constrained(Constraint::POSITIVE),
            ParamSpec::with_default(
                "micro_batch",
                Type::Int,
                Value::Int(8),
                "examples per forward/backward pass (gradients accumulate)",
            )
            .constrained(Constraint::POSITIVE),
            ParamSpec::with_default(
                "max_len",
                Type::Int,
                Value::Int(4096),
                "longer chats are cut to this many tokens",
            )
            .constrained(Constraint::POSITIVE),
            ParamSpec::with_default(
                "reduce",
                Type::Str,
                Value::Str("sum".into()),
                "\"sum\" (Tülu 3) or \"mean\" over the batch's tokens",
            )
            .constrained(Constraint::OneOf(&["sum", "mean"])),
        ];
        params.extend(optimizer_params(
            5e-6,
            schedule_value("linear", Value::Float(0.03), None),
            0.0,
            None,
        ));
        params.push(ParamSpec::with_default(
            "seed",
            Type::Int,
            Value::Int(0),
            "data order",
        ));
        Sft {
            signature: OpSignature {
                name: "sft",
                version: 1,
                doc: "Supervised fine-tuning on chats (loss on assistant tokens only)",
                params,
                output: |_: &Args, _: &CheckEnv| -> Result<Type, ArgProblem> { Ok(Type::Model) },
                complete: None,
            },
        }
    }
}

impl Default for Sft {
    fn default() -> Self {
        Sft::new()
    }
}

impl Op for Sft {
    fn signature(&self) -> &OpSignature {
        &self.signature
    }

    fn execute(&self, call: &OpCall, ctx: &OpContext) -> anyhow::Result<Output> {
        let device = super::model_bundle::device_from_env()?;
        let bundle = ModelBundle::load(call.model_dir("model")?, &device)?;
        let template = bundle.template()?;
        let data = call.dataset("data")?;
        let max_len = call
            .usize("max_len")?
            .min(bundle.config().max_position_embeddings);
        ctx.progress.message("tokenizing");
        let mut examples = Vec::with_capacity(data.rows.len());
        for row in &data.rows {
            let messages = messages_of(row.get("messages").unwrap_or(&serde_json::Value::Null));
            let tokenized = tokenize_chat_for_sft(&messages, &template, &bundle.tokenizer, max_len)
                .with_context(|| {
                    format!(
                        "row {} of `{}`",
                        row.provenance.index, row.provenance.source
                    )
                })?;
            examples.push(TrainExample::from_target_mask(
                tokenized.input_ids,
                &tokenized.assistant_mask,
            )?);
        }
        let reduce: LossReduction = call.str("reduce")?.parse().map_err(anyhow::Error::msg)?;
        let config = SftConfig {
            epochs: call.usize("epochs")?,
            batch_size: call.usize("batch")?,
            micro_batch_size: call.usize("micro_batch")?,
            max_seq_len: max_len,
            loss_reduction: reduce,
            optimizer: optimizer_settings(call)?,
            seed: ctx.seed,
        };
        let mut observer = EngineObserver::new(ctx);
        let report = sft(&bundle.llama, &examples, &config, &mut observer).context("SFT failed")?;
        let dir = ctx.work_dir.join("model");
        bundle.save(&dir)?;
        let mut meta = bundle.manifest_meta();
        meta["training"] = json!({
            "kind": "sft",
            "examples_used": report.examples_used,
            "examples_truncated": report.examples_truncated,
            "examples_without_loss_tokens": report.examples_without_loss_tokens,
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
