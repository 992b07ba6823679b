//! Training-step throughput: forward, loss, backward, global-norm clipping and AdamW, in tokens
//! per second, for the tiny CPU model of the quickstart recipe and a SmolLM2-135M-shaped model;
//! plus the step's two halves measured apart (forward+backward, and clip+AdamW) so the report can
//! say where the time goes.
//!
//! Run: `cargo bench --bench train -- --warm-up-time 1 --measurement-time 5`. The process runs
//! under [`configure_cpu_runtime`](tulu::model::cpu_runtime::configure_cpu_runtime), as `tulu`
//! should; criterion reports tokens per second as "elem/s".

use candle_core::{Device, Tensor};
use criterion::{criterion_group, BenchmarkId, Criterion, Throughput};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use tulu::model::config::LlamaConfig;
use tulu::model::llama::Llama;
use tulu::train::{
    global_grad_norm, language_model_step, masked_nll_sum, AdamW, AdamWConfig, LossReduction,
    LrSchedule, OptimizerSettings, TokenBatch, Trainer,
};

struct Shape {
    name: &'static str,
    config: LlamaConfig,
    seq_len: usize,
    batch: usize,
}

fn llama(
    vocab: usize,
    hidden: usize,
    ff: usize,
    layers: usize,
    heads: usize,
    kv_heads: usize,
    tied: bool,
) -> LlamaConfig {
    LlamaConfig {
        vocab_size: vocab,
        hidden_size: hidden,
        intermediate_size: ff,
        num_hidden_layers: layers,
        num_attention_heads: heads,
        num_key_value_heads: kv_heads,
        max_position_embeddings: 2048,
        rms_norm_eps: 1e-5,
        rope_theta: 10_000.0,
        tie_word_embeddings: tied,
        bos_token_id: None,
        eos_token_id: None,
    }
}

fn shapes() -> Vec<Shape> {
    vec![
        Shape {
            name: "tiny_d128_l4_seq128_b8",
            config: llama(512, 128, 512, 4, 4, 4, false),
            seq_len: 128,
            batch: 8,
        },
        Shape {
            name: "smollm2_135m_seq256_b1",
            config: llama(49_152, 576, 1536, 30, 9, 3, true),
            seq_len: 256,
            batch: 1,
        },
    ]
}

/// `batch` random windows of `seq_len + 1` tokens, seeded.
fn windows(shape: &Shape) -> TokenBatch {
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    let data: Vec<Vec<u32>> = (0..shape.batch)
        .map(|_| {
            (0..=shape.seq_len)
                .map(|_| rng.random_range(0..shape.config.vocab_size as u32))
                .collect()
        })
        .collect();
    let rows: Vec<&[u32]> = data.iter().map(Vec::as_slice).collect();
    TokenBatch::from_windows(&rows, &Device::Cpu).unwrap()
}

fn settings() -> OptimizerSettings {
    OptimizerSettings {
        adamw: AdamWConfig {
            weight_decay: 0.1,
            ..AdamWConfig::default()
        },
        schedule: LrSchedule::constant(1e-4),
        max_grad_norm: Some(1.0),
    }
}

fn random_gradients(model: &Llama) -> Vec<Option<Tensor>> {
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    model
        .named_parameters()
        .iter()
        .map(|(_, v)| {
            let values: Vec<f32> = (0..v.elem_count())
                .map(|_| rng.random_range(-1e-3..1e-3))
                .collect();
            Some(Tensor::from_vec(values, v.shape(), &Device::Cpu).unwrap())
        })
        .collect()
}

/// Setup runs inside each benchmark's closure, so a filtered run (`-- train_step/tiny`) builds
/// only what it measures.
fn bench_training(c: &mut Criterion) {
    for shape in shapes() {
        let tokens = (shape.batch * shape.seq_len) as u64;
        let model = || Llama::init_random(&shape.config, 0, &Device::Cpu).unwrap();

        let mut group = c.benchmark_group("train_step");
        group.sample_size(10);
        group.throughput(Throughput::Elements(tokens));
        group.bench_function(BenchmarkId::from_parameter(shape.name), |b| {
            let model = model();
            let batch = windows(&shape);
            let mut trainer = Trainer::new(&model, &settings(), usize::MAX / 2).unwrap();
            b.iter(|| {
                language_model_step(
                    &mut trainer,
                    std::slice::from_ref(&batch),
                    LossReduction::Mean,
                    &(),
                )
                .unwrap()
            })
        });
        group.finish();

        let mut group = c.benchmark_group("forward_backward");
        group.sample_size(10);
        group.throughput(Throughput::Elements(tokens));
        group.bench_function(BenchmarkId::from_parameter(shape.name), |b| {
            let model = model();
            let batch = windows(&shape);
            b.iter(|| {
                let logits = model.forward(&batch.input_ids).unwrap();
                let nll = masked_nll_sum(model.kernels(), &logits, &batch.targets, None).unwrap();
                nll.sum.backward().unwrap()
            })
        });
        group.finish();

        // Clip + AdamW over the model's parameters, with fixed random gradients.
        let mut group = c.benchmark_group("clip_and_adamw");
        group.sample_size(10);
        group.throughput(Throughput::Elements(tokens));
        group.bench_function(BenchmarkId::from_parameter(shape.name), |b| {
            let model = model();
            let grads = random_gradients(&model);
            let mut adamw = AdamW::new(model.named_parameters(), settings().adamw).unwrap();
            b.iter(|| {
                let norm = global_grad_norm(&grads).unwrap();
                adamw.step(&grads, 1e-4, (1.0 / norm).min(1.0)).unwrap()
            })
        });
        group.finish();
    }
}

criterion_group!(benches, bench_training);

fn main() {
    // SAFETY: first thing in main, before criterion or candle start any thread.
    unsafe { tulu::model::cpu_runtime::configure_cpu_runtime() };
    benches();
    Criterion::default().configure_from_args().final_summary();
}
