//! Autoregressive generation with a KV cache, on token ids (tokenizing is the caller's).
//!
//! **Batching.** Prompts of different lengths are left-padded to the longest one and run as one
//! batch with an attention mask: padding is hidden from attention and positions count real tokens
//! only, so each row computes what it would alone (up to float rounding). After the prefill,
//! every step feeds one token per unfinished sequence. When sequences finish, their rows are
//! dropped from the cache, so later steps cost only what is still running.
//!
//! **Determinism.** Sequence `i` of a call samples from stream `i` of a ChaCha8 generator seeded
//! with [`GenerationConfig::seed`]: the same prompts, settings and seed give the same tokens.
//! (Changing the other prompts of a batch changes the padding and hence float rounding of the
//! logits, which can flip a draw that sits on a boundary.)
//!
//! **Stopping.** A sequence ends when it emits one of `stop_token_ids` (the stop token is kept as
//! its last token), after `max_new_tokens`, or when the progress callback breaks.

use super::kv_cache::KvCache;
use super::llama::{Llama, LogitPositions};
use super::llama_error::{LlamaError, LlamaResult};
use super::sampling::{argmax, log_prob_of, SamplingParams, TokenSampler};
use candle_core::Tensor;
use std::ops::ControlFlow;

/// New-token positions the cache is first sized for.
const INITIAL_GENERATION_ROOM: usize = 256;

/// What to generate.
#[derive(Debug, Clone, PartialEq)]
pub struct GenerationConfig {
    /// Upper bound on new tokens per sequence (the stop token counts).
    pub max_new_tokens: usize,
    pub sampling: SamplingParams,
    /// Token ids that end a sequence (e.g. EOS, end-of-turn).
    pub stop_token_ids: Vec<u32>,
    pub seed: u64,
}

impl GenerationConfig {
    /// Greedy decoding of up to `max_new_tokens`, stopping at `stop_token_ids`.
    pub fn greedy(max_new_tokens: usize, stop_token_ids: Vec<u32>) -> Self {
        Self {
            max_new_tokens,
            sampling: SamplingParams::greedy(),
            stop_token_ids,
            seed: 0,
        }
    }
}

/// Why a sequence stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FinishReason {
    /// It emitted this stop token.
    StopToken(u32),
    /// It reached `max_new_tokens`.
    MaxNewTokens,
    /// The progress callback asked to stop.
    Cancelled,
}

/// One sequence's continuation.
#[derive(Debug, Clone, PartialEq)]
pub struct Generation {
    /// The new tokens, ending with the stop token if one ended the sequence.
    pub tokens: Vec<u32>,
    /// `log p(token)` of each new token under the model's own distribution (temperature 1, no
    /// top-k/top-p), as the reference for policy-gradient ratios.
    pub log_probs: Vec<f32>,
    pub finish_reason: FinishReason,
}

/// Reported after every decoding step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GenerationProgress {
    /// New tokens produced so far, over all sequences.
    pub generated_tokens: usize,
    pub finished_sequences: usize,
    pub total_sequences: usize,
}

/// Generates a continuation of every prompt (see the module docs). All prompts run as one batch:
/// callers with many prompts pass them in chunks sized to memory (the KV cache holds
/// `batch × length × 2 · layers · kv_heads · head_dim` floats). `on_progress` is called after each
/// step; returning `ControlFlow::Break(())` stops all unfinished sequences with
/// [`FinishReason::Cancelled`].
pub fn generate(
    model: &Llama,
    prompts: &[Vec<u32>],
    config: &GenerationConfig,
    on_progress: &mut dyn FnMut(&GenerationProgress) -> ControlFlow<()>,
) -> LlamaResult<Vec<Generation>> {
    config.sampling.validate()?;
    if let Some(i) = prompts.iter().position(|p| p.is_empty()) {
        return Err(LlamaError::InvalidInput(format!(
            "prompt {i} is empty; generation needs at least one token to condition on"
        )));
    }
    let mut generations: Vec<Generation> = prompts
        .iter()
        .map(|_| Generation {
            tokens: Vec::new(),
            log_probs: Vec::new(),
            finish_reason: FinishReason::MaxNewTokens,
        })
        .collect();
    if prompts.is_empty() || config.max_new_tokens == 0 {
        return Ok(generations);
    }
    let device = model.device();
    let batch = prompts.len();
    let prompt_len = prompts.iter().map(Vec::len).max().unwrap_or(0);
    let mut ids = Vec::with_capacity(batch * prompt_len);
    let mut mask = Vec::with_capacity(batch * prompt_len);
    for prompt in prompts {
        let pad = prompt_len - prompt.len();
        // Padding takes id 0, which is always in the vocabulary; the mask hides it.
        ids.extend(std::iter::repeat_n(0u32, pad).chain(prompt.iter().copied()));
        mask.extend(std::iter::repeat_n(0u8, pad).chain(std::iter::repeat_n(1u8, prompt.len())));
    }
    let ids = Tensor::from_vec(ids, (batch, prompt_len), device)?;
    let mask = Tensor::from_vec(mask, (batch, prompt_len), device)?;
    let mut samplers = (0..batch)
        .map(|i| TokenSampler::new(config.sampling, config.seed, i as u64))
        .collect::<LlamaResult<Vec<_>>>()?;
    // Room for the prompt and the first new tokens; the cache doubles when a long generation
    // outgrows it, so a large `max_new_tokens` that stops early does not cost its full size.
    let room = config.max_new_tokens.min(INITIAL_GENERATION_ROOM);
    let mut cache = KvCache::new(model.config(), batch, prompt_len + room, device)?;
    let mut logits =
        model.forward_with_cache(&ids, Some(&mask), &mut cache, LogitPositions::Last)?;
    // `active[r]` is the prompt index of cache row `r`.
    let mut active: Vec<usize> = (0..batch).collect();
    let mut progress = GenerationProgress {
        generated_tokens: 0,
        finished_sequences: 0,
        total_sequences: batch,
    };
    loop {
        let rows = logits.to_vec2::<f32>()?;
        // Cache rows whose sequences go on, and the token each feeds next.
        let mut keep = Vec::with_capacity(active.len());
        let mut next_tokens = Vec::with_capacity(active.len());
        for (row_index, (row, &seq)) in rows.iter().zip(&active).enumerate() {
            let token = samplers[seq].sample(row);
            let generation = &mut generations[seq];
            generation.tokens.push(token);
            generation.log_probs.push(log_prob_of(row, token));
            progress.generated_tokens += 1;
            if config.stop_token_ids.contains(&token) {
                generation.finish_reason = FinishReason::StopToken(token);
                progress.finished_sequences += 1;
            } else if generation.tokens.len() >= config.max_new_tokens {
                generation.finish_reason = FinishReason::MaxNewTokens;
                progress.finished_sequences += 1;
            } else {
                keep.push(row_index);
                next_tokens.push(token);
            }
        }
        let cancelled = on_progress(&progress).is_break();
        if keep.is_empty() {
            break;
        }
        if cancelled {
            for &row in &keep {
                generations[active[row]].finish_reason = FinishReason::Cancelled;
            }
            break;
        }
        if keep.len() < active.len() {
            cache.retain_rows(&keep)?;
            active = keep.iter().map(|&row| active[row]).collect();
        }
        let input = Tensor::from_vec(next_tokens, (active.len(), 1), device)?;
        logits = model.forward_with_cache(&input, None, &mut cache, LogitPositions::Last)?;
    }
    Ok(generations)
}

/// Greedy decoding of one prompt that recomputes the whole prefix at every step, without a cache:
/// the reference the cached path is tested and benchmarked against. Returns the new tokens
/// (ending with the stop token if one was emitted).
pub fn greedy_decode_uncached(
    model: &Llama,
    prompt: &[u32],
    max_new_tokens: usize,
    stop_token_ids: &[u32],
) -> LlamaResult<Vec<u32>> {
    if prompt.is_empty() {
        return Err(LlamaError::InvalidInput(
            "the prompt is empty; decoding needs at least one token".into(),
        ));
    }
    let mut sequence = prompt.to_vec();
    let mut generated = Vec::new();
    while generated.len() < max_new_tokens {
        let len = sequence.len();
        let input = Tensor::from_slice(&sequence, (1, len), model.device())?;
        let logits = model.forward_no_grad(&input, None)?;
        let last = logits.squeeze(0)?.get(len - 1)?.to_vec1::<f32>()?;
        let token = argmax(&last);
        generated.push(token);
        sequence.push(token);
        if stop_token_ids.contains(&token) {
            break;
        }
    }
    Ok(generated)
}
