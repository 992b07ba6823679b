//! Chats in, responses out: the generation loop `generate` and `eval` share — render each
//! conversation with the model's chat template, generate in batches with the KV cache, decode.

use std::ops::ControlFlow;
use std::sync::atomic::Ordering;
use std::time::Instant;

use anyhow::{bail, Result};
use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::model_bundle::ModelBundle;
use super::{OpCall, OpContext};
use crate::check::signature::{Constraint, ParamSpec};
use crate::check::{Type, Value};
use crate::model::chat_template::ChatMessage;
use crate::model::generate::{generate, FinishReason, GenerationConfig};
use crate::model::sampling::SamplingParams;

/// `temperature`, `top_p`, `top_k`: how `generate` and `eval` pick tokens; read back by
/// [`sampling_params`].
pub fn sampling_param_specs() -> Vec<ParamSpec> {
    vec![
        ParamSpec::with_default("temperature", Type::Float, Value::Float(0.0), "0 is greedy")
            .constrained(Constraint::NON_NEGATIVE),
        ParamSpec::with_default("top_p", Type::Float, Value::Float(1.0), "nucleus sampling")
            .constrained(Constraint::Range {
                min: Some(0.0),
                max: Some(1.0),
                min_exclusive: true,
                max_exclusive: false,
            }),
        ParamSpec::with_default(
            "top_k",
            Type::Int,
            Value::Int(0),
            "keep the k most likely tokens (0: all)",
        )
        .constrained(Constraint::NON_NEGATIVE),
    ]
}

pub fn sampling_params(call: &OpCall) -> Result<SamplingParams> {
    let top_k = call.usize("top_k")?;
    let top_p = call.f64("top_p")? as f32;
    Ok(SamplingParams {
        temperature: call.f64("temperature")? as f32,
        top_k: (top_k > 0).then_some(top_k),
        top_p: (top_p < 1.0).then_some(top_p),
    })
}

#[derive(Debug, Clone)]
pub struct GenerationSettings {
    pub max_new_tokens: usize,
    pub sampling: SamplingParams,
    pub batch: usize,
    pub seed: u64,
}

#[derive(Debug, Clone)]
pub struct Response {
    pub text: String,
    pub tokens: usize,
    pub finish_reason: &'static str,
}

/// Generates one response per conversation, in order. Progress counts finished sequences, with
/// the token rate as the message.
pub fn respond(
    bundle: &ModelBundle,
    conversations: &[Vec<ChatMessage>],
    settings: &GenerationSettings,
    ctx: &OpContext,
) -> Result<Vec<Response>> {
    let template = bundle.template()?;
    let context = bundle.config().max_position_embeddings;
    let mut prompts = Vec::with_capacity(conversations.len());
    for (i, messages) in conversations.iter().enumerate() {
        let ids = bundle.prompt_ids(&template, messages)?;
        if ids.len() + 1 > context {
            bail!(
                "prompt #{i} has {} tokens, more than the model's context of {context}",
                ids.len()
            );
        }
        prompts.push(ids);
    }
    let stops = bundle.tokenizer.stop_token_ids();
    if stops.is_empty() {
        bail!("the model's tokenizer has no end-of-sequence token, so generation would never stop; set the model's eos token");
    }
    ctx.progress.set_total(prompts.len() as u64, "sequences");
    let started = Instant::now();
    let mut generated_total = 0usize;
    let mut seeds = ChaCha8Rng::seed_from_u64(settings.seed);
    let mut out = Vec::with_capacity(prompts.len());
    for chunk in prompts.chunks(settings.batch.max(1)) {
        ctx.check_cancelled()?;
        // Keep every sequence inside the context window.
        let longest = chunk.iter().map(Vec::len).max().unwrap_or(0);
        let max_new = settings
            .max_new_tokens
            .min(context.saturating_sub(longest))
            .max(1);
        let config = GenerationConfig {
            max_new_tokens: max_new,
            sampling: settings.sampling,
            stop_token_ids: stops.clone(),
            seed: seeds.next_u64(),
        };
        let mut reported = 0usize;
        let mut on_progress = |p: &crate::model::generate::GenerationProgress| {
            if p.finished_sequences > reported {
                ctx.progress
                    .advance((p.finished_sequences - reported) as u64);
                reported = p.finished_sequences;
            }
            let rate = (generated_total + p.generated_tokens) as f64
                / started.elapsed().as_secs_f64().max(1e-9);
            ctx.progress.message(&format!("{rate:.1} tok/s"));
            if ctx.cancel.load(Ordering::Relaxed) {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        };
        let generations = generate(&bundle.llama, chunk, &config, &mut on_progress)?;
        ctx.check_cancelled()?;
        if chunk.len() > reported {
            ctx.progress.advance((chunk.len() - reported) as u64);
        }
        for g in generations {
            generated_total += g.tokens.len();
            let (body, reason) = match g.finish_reason {
                FinishReason::StopToken(_) => {
                    (&g.tokens[..g.tokens.len().saturating_sub(1)], "stop")
                }
                FinishReason::MaxNewTokens => (&g.tokens[..], "length"),
                FinishReason::Cancelled => bail!("cancelled"),
            };
            out.push(Response {
                text: bundle.tokenizer.decode(body, true)?,
                tokens: g.tokens.len(),
                finish_reason: reason,
            });
        }
    }
    Ok(out)
}
