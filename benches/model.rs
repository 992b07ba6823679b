//! Throughput of the model: training steps (forward + loss + backward) and generation (KV cache
//! vs recomputing the prefix), for the tiny quickstart model and a SmolLM2-135M-shaped one.
//!
//! `cargo bench --bench model -- --warm-up-time 1 --measurement-time 5`; criterion reports
//! tokens per second as "elem/s". The process runs under
//! [`configure_cpu_runtime`](tulu::model::cpu_runtime::configure_cpu_runtime), as `tulu` should. Reference: PyTorch trains the tiny model at ~13.4k tokens/s on
//! the project's 2-core CPU (docs/model.md).

use candle_core::{Device, Tensor};
use criterion::{criterion_group, Criterion, Throughput};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::hint::black_box;
use std::ops::ControlFlow;
use tulu::model::config::LlamaConfig;
use tulu::model::fused::Kernels;
use tulu::model::generate::{generate, greedy_decode_uncached, GenerationConfig};
use tulu::model::llama::{mean_next_token_nll, Llama};

/// The quickstart model: d=128, 4 layers, 4 heads, FF 512, vocab 512.
fn tiny() -> LlamaConfig {
    LlamaConfig {
        vocab_size: 512,
        hidden_size: 128,
        intermediate_size: 512,
        num_hidden_layers: 4,
        num_attention_heads: 4,
        num_key_value_heads: 4,
        max_position_embeddings: 512,
        rms_norm_eps: 1e-5,
        rope_theta: 10_000.0,
        tie_word_embeddings: false,
        bos_token_id: None,
        eos_token_id: None,
    }
}

/// SmolLM2-135M's shape (random weights: throughput does not depend on their values).
fn smollm2_135m() -> LlamaConfig {
    LlamaConfig {
        vocab_size: 49_152,
        hidden_size: 576,
        intermediate_size: 1536,
        num_hidden_layers: 30,
        num_attention_heads: 9,
        num_key_value_heads: 3,
        max_position_embeddings: 8192,
        rms_norm_eps: 1e-5,
        rope_theta: 100_000.0,
        tie_word_embeddings: true,
        bos_token_id: None,
        eos_token_id: None,
    }
}

fn random_ids(rng: &mut ChaCha8Rng, vocab: usize, batch: usize, len: usize) -> Tensor {
    let ids: Vec<u32> = (0..batch * len)
        .map(|_| rng.random_range(0..vocab as u32))
        .collect();
    Tensor::from_vec(ids, (batch, len), &Device::Cpu).unwrap()
}

fn train_step(model: &Llama, input: &Tensor, targets: &Tensor) {
    let logits = model.forward(input).unwrap();
    let loss = mean_next_token_nll(model.kernels(), &logits, targets).unwrap();
    black_box(loss.backward().unwrap());
}

fn bench_training(c: &mut Criterion) {
    let mut group = c.benchmark_group("train_step");
    group.sample_size(10);
    let cases = [
        ("tiny_b8_t128", tiny(), 8, 128, Kernels::Auto),
        ("tiny_b8_t128_composed", tiny(), 8, 128, Kernels::Composed),
        (
            "smollm2_135m_b1_t256",
            smollm2_135m(),
            1,
            256,
            Kernels::Auto,
        ),
    ];
    for (name, config, batch, len, kernels) in cases {
        let model = Llama::init_random(&config, 0, &Device::Cpu)
            .unwrap()
            .with_kernels(kernels);
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let input = random_ids(&mut rng, config.vocab_size, batch, len);
        let targets = random_ids(&mut rng, config.vocab_size, batch, len);
        group.throughput(Throughput::Elements((batch * len) as u64));
        group.bench_function(name, |b| b.iter(|| train_step(&model, &input, &targets)));
    }
    group.finish();
}

fn bench_generation(c: &mut Criterion) {
    let mut group = c.benchmark_group("generate");
    group.sample_size(10);
    let (prompt_len, new_tokens) = (16, 48);
    for (name, config) in [("tiny", tiny()), ("smollm2_135m", smollm2_135m())] {
        let model = Llama::init_random(&config, 0, &Device::Cpu).unwrap();
        let mut rng = ChaCha8Rng::seed_from_u64(2);
        let prompt: Vec<u32> = (0..prompt_len)
            .map(|_| rng.random_range(0..config.vocab_size as u32))
            .collect();
        let settings = GenerationConfig::greedy(new_tokens, vec![]);
        group.throughput(Throughput::Elements(new_tokens as u64));
        group.bench_function(format!("{name}_kv_cache"), |b| {
            b.iter(|| {
                let prompts = [prompt.clone()];
                black_box(
                    generate(&model, &prompts, &settings, &mut |_| {
                        ControlFlow::Continue(())
                    })
                    .unwrap(),
                )
            })
        });
        group.bench_function(format!("{name}_recompute_prefix"), |b| {
            b.iter(|| black_box(greedy_decode_uncached(&model, &prompt, new_tokens, &[]).unwrap()))
        });
        // A batch of 8 prompts of different lengths, as an eval or RL rollout would run them.
        let prompts: Vec<Vec<u32>> = (0..8).map(|i| prompt[..prompt_len - i].to_vec()).collect();
        group.throughput(Throughput::Elements((8 * new_tokens) as u64));
        group.bench_function(format!("{name}_kv_cache_batch8"), |b| {
            b.iter(|| {
                black_box(
                    generate(&model, &prompts, &settings, &mut |_| {
                        ControlFlow::Continue(())
                    })
                    .unwrap(),
                )
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench_training, bench_generation);

fn main() {
    // SAFETY: first thing in main, before criterion or candle start any thread.
    unsafe { tulu::model::cpu_runtime::configure_cpu_runtime() };
    benches();
    Criterion::default().configure_from_args().final_summary();
}
