//! Small models and tokenizers built in memory for the model I/O tests.

use std::collections::HashMap;
use std::sync::OnceLock;

use candle_core::{Device, Tensor};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::bpe_training::train_bpe;
use super::config::LlamaConfig;
use super::loaded_model::LoadedModel;
use super::tokenizer::ModelTokenizer;
use super::weight_layout::llama_tensor_shapes;

pub const SPECIALS: &[&str] = &["<|endoftext|>", "<|im_start|>", "<|im_end|>"];

/// A small English + arithmetic corpus, enough for a few hundred merges.
pub fn corpus() -> Vec<String> {
    let mut texts = Vec::new();
    let words = [
        "the",
        "quick",
        "brown",
        "fox",
        "jumps",
        "over",
        "lazy",
        "dog",
        "and",
        "then",
        "runs",
        "away",
        "from",
        "there",
        "where",
        "question",
        "answer",
        "what",
        "is",
        "capital",
        "of",
        "France",
        "Paris",
        "hello",
        "world",
        "assistant",
        "user",
        "system",
        "river",
        "mountain",
        "language",
        "model",
        "training",
        "reward",
        "policy",
        "gradient",
        "tokenizer",
        "number",
        "mathematics",
        "problem",
        "solution",
        "careful",
        "reasoning",
        "because",
        "therefore",
        "sentence",
        "paragraph",
        "history",
        "science",
        "library",
        "kitchen",
        "garden",
        "winter",
        "summer",
        "evening",
        "morning",
        "yesterday",
        "tomorrow",
        "beautiful",
        "important",
    ];
    for i in 0..400usize {
        let a = words[i % words.len()];
        let b = words[(i * 7 + 3) % words.len()];
        let c = words[(i * 13 + 5) % words.len()];
        texts.push(format!(
            "{a} {b} {c}. What is {} + {}? It is {}.",
            i,
            i * 3,
            i * 4
        ));
        texts.push(format!(
            "<|im_start|>user\n{a} {c}?<|im_end|>\n<|im_start|>assistant\n{b}!<|im_end|>\n"
        ));
    }
    texts
}

/// A BPE tokenizer trained on [`corpus`], 400 ids, EOS `<|im_end|>`, PAD `<|endoftext|>`.
pub fn tokenizer() -> ModelTokenizer {
    static TOKENIZER: OnceLock<ModelTokenizer> = OnceLock::new();
    TOKENIZER
        .get_or_init(|| {
            train_bpe(&corpus(), 400, SPECIALS)
                .and_then(|t| t.with_eos_token("<|im_end|>"))
                .and_then(|t| t.with_pad_token("<|endoftext|>"))
                .expect("training the test tokenizer")
        })
        .clone()
}

/// hidden 64 (a multiple of the 32-element quantization block), 4 heads of 16, 2 KV heads.
pub fn tiny_config(vocab_size: usize, tie_word_embeddings: bool) -> LlamaConfig {
    LlamaConfig {
        vocab_size,
        hidden_size: 64,
        intermediate_size: 128,
        num_hidden_layers: 2,
        num_attention_heads: 4,
        num_key_value_heads: 2,
        max_position_embeddings: 256,
        rms_norm_eps: 1e-5,
        rope_theta: 10_000.0,
        tie_word_embeddings,
        bos_token_id: None,
        eos_token_id: Some(2),
    }
}

/// Random weights of the right shapes from a seeded ChaCha RNG.
pub fn random_tensors(config: &LlamaConfig, seed: u64) -> HashMap<String, Tensor> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    llama_tensor_shapes(config)
        .into_iter()
        .map(|(name, shape)| {
            let n: usize = shape.iter().product();
            let values: Vec<f32> = if name.ends_with("norm.weight") {
                (0..n)
                    .map(|_| 1.0 + rng.random_range(-0.1f32..0.1))
                    .collect()
            } else {
                (0..n).map(|_| rng.random_range(-1.0f32..1.0)).collect()
            };
            let tensor = Tensor::from_vec(values, shape, &Device::Cpu).expect("tensor");
            (name, tensor)
        })
        .collect()
}

pub fn tiny_model(seed: u64, tie_word_embeddings: bool) -> LoadedModel {
    let tokenizer = tokenizer();
    let config = tiny_config(tokenizer.vocab_size(), tie_word_embeddings);
    LoadedModel {
        tensors: random_tensors(&config, seed),
        config,
        tokenizer,
        chat_template: Some(
            super::chat_template::ChatTemplate::builtin("chatml")
                .unwrap()
                .source()
                .to_string(),
        ),
    }
}

/// Largest absolute elementwise difference.
pub fn max_abs_diff(a: &Tensor, b: &Tensor) -> f32 {
    (a - b)
        .and_then(|d| d.abs())
        .and_then(|d| d.flatten_all())
        .and_then(|d| d.max(0))
        .and_then(|d| d.to_scalar::<f32>())
        .expect("comparable tensors")
}

pub fn max_abs(a: &Tensor) -> f32 {
    a.abs()
        .and_then(|d| d.flatten_all())
        .and_then(|d| d.max(0))
        .and_then(|d| d.to_scalar::<f32>())
        .expect("tensor")
}
