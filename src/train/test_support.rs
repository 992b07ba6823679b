//! Tiny models and toy data for the training tests.

use super::example::TrainExample;
use crate::model::config::LlamaConfig;
use crate::model::llama::Llama;
use candle_core::{Device, Tensor};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

pub(crate) const VOCAB: usize = 32;
pub(crate) const BOS: u32 = 1;
pub(crate) const SEP: u32 = 2;
pub(crate) const EOS: u32 = 3;
/// Content tokens are drawn from `FIRST_CONTENT..VOCAB`.
const FIRST_CONTENT: u32 = 4;

pub(crate) fn tiny_config() -> LlamaConfig {
    LlamaConfig {
        vocab_size: VOCAB,
        hidden_size: 32,
        intermediate_size: 64,
        num_hidden_layers: 2,
        num_attention_heads: 4,
        num_key_value_heads: 2,
        max_position_embeddings: 64,
        rms_norm_eps: 1e-5,
        rope_theta: 10_000.0,
        tie_word_embeddings: false,
        bos_token_id: Some(BOS),
        eos_token_id: Some(EOS),
    }
}

pub(crate) fn tiny_model(seed: u64) -> Llama {
    Llama::init_random(&tiny_config(), seed, &Device::Cpu).unwrap()
}

/// An independent copy of a model (same weights, separate storage).
pub(crate) fn clone_model(model: &Llama) -> Llama {
    Llama::from_tensors(
        model.config().clone(),
        model.to_tensors().unwrap(),
        &Device::Cpu,
    )
    .unwrap()
}

/// The toy SFT task: `BOS x₁…xₖ SEP` → `xₖ…x₁ EOS`, with k in 2..=5; the predictions of the
/// answer tokens (and EOS) count.
pub(crate) fn reversal_examples(count: usize, seed: u64) -> Vec<TrainExample> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    (0..count)
        .map(|_| {
            let k = rng.random_range(2..=5);
            let content: Vec<u32> = (0..k)
                .map(|_| rng.random_range(FIRST_CONTENT..VOCAB as u32))
                .collect();
            let mut ids = vec![BOS];
            ids.extend(&content);
            ids.push(SEP);
            let prompt_len = ids.len();
            ids.extend(content.iter().rev());
            ids.push(EOS);
            let is_target: Vec<bool> = (0..ids.len()).map(|t| t >= prompt_len).collect();
            TrainExample::from_target_mask(ids, &is_target).unwrap()
        })
        .collect()
}

/// Every parameter's values, in `named_parameters` order.
pub(crate) fn weights(model: &Llama) -> Vec<(String, Vec<f32>)> {
    model
        .named_parameters()
        .into_iter()
        .map(|(name, var)| (name, var.flatten_all().unwrap().to_vec1::<f32>().unwrap()))
        .collect()
}

pub(crate) fn max_abs_diff(a: &Tensor, b: &Tensor) -> f32 {
    (a - b)
        .unwrap()
        .abs()
        .unwrap()
        .flatten_all()
        .unwrap()
        .max(0)
        .unwrap()
        .to_scalar::<f32>()
        .unwrap()
}

/// The largest absolute difference between two models' parameters.
pub(crate) fn max_weight_diff(a: &Llama, b: &Llama) -> f32 {
    a.named_parameters()
        .iter()
        .zip(b.named_parameters())
        .map(|((_, x), (_, y))| max_abs_diff(x.as_tensor(), y.as_tensor()))
        .fold(0.0, f32::max)
}
