//! Each fused op against its composed form: forward values and the gradients of every input.

use super::*;
use crate::model::rope::{rope_composed, rope_fused};
use candle_core::{Device, Shape, Var};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};

fn random(rng: &mut ChaCha8Rng, shape: impl Into<Shape>) -> Tensor {
    let shape = shape.into();
    let data: Vec<f32> = (0..shape.elem_count())
        .map(|_| StandardNormal.sample(rng))
        .collect();
    Tensor::from_vec(data, shape, &Device::Cpu).unwrap()
}

/// Largest absolute difference, relative to the larger magnitude (floored at 1).
fn max_rel_diff(a: &Tensor, b: &Tensor) -> f32 {
    assert_eq!(a.dims(), b.dims());
    let a = a.flatten_all().unwrap().to_vec1::<f32>().unwrap();
    let b = b.flatten_all().unwrap().to_vec1::<f32>().unwrap();
    let scale = a.iter().chain(&b).fold(1f32, |m, v| m.max(v.abs()));
    a.iter()
        .zip(&b)
        .map(|(x, y)| (x - y).abs())
        .fold(0f32, f32::max)
        / scale
}

/// Runs `f` on fresh variables holding `inputs`, backpropagates `Σ out · probe`, and returns the
/// output with the gradient of every input.
fn output_and_grads(
    inputs: &[Tensor],
    probe_seed: u64,
    f: impl Fn(&[Tensor]) -> Result<Tensor>,
) -> (Tensor, Vec<Tensor>) {
    let vars: Vec<Var> = inputs
        .iter()
        .map(|t| Var::from_tensor(t).unwrap())
        .collect();
    let tensors: Vec<Tensor> = vars.iter().map(|v| v.as_tensor().clone()).collect();
    let out = f(&tensors).unwrap();
    let probe = random(
        &mut ChaCha8Rng::seed_from_u64(probe_seed),
        out.shape().clone(),
    );
    let loss = (&out * &probe).unwrap().sum_all().unwrap();
    let grads = loss.backward().unwrap();
    let grads = tensors
        .iter()
        .map(|t| {
            grads
                .get(t)
                .cloned()
                .unwrap_or_else(|| t.zeros_like().unwrap())
        })
        .collect();
    (out, grads)
}

fn assert_fused_matches_composed(
    what: &str,
    inputs: &[Tensor],
    fused: impl Fn(&[Tensor]) -> Result<Tensor>,
    composed: impl Fn(&[Tensor]) -> Result<Tensor>,
    tolerance: f32,
) {
    let (out_f, grads_f) = output_and_grads(inputs, 99, fused);
    let (out_c, grads_c) = output_and_grads(inputs, 99, composed);
    let diff = max_rel_diff(&out_f, &out_c);
    assert!(diff < tolerance, "{what}: forward differs by {diff}");
    for (i, (gf, gc)) in grads_f.iter().zip(&grads_c).enumerate() {
        let diff = max_rel_diff(gf, gc);
        assert!(
            diff < tolerance,
            "{what}: gradient of input {i} differs by {diff}"
        );
        let norm = gf
            .abs()
            .unwrap()
            .sum_all()
            .unwrap()
            .to_scalar::<f32>()
            .unwrap();
        assert!(norm > 0.0, "{what}: gradient of input {i} is zero");
    }
}

#[test]
fn rms_norm_matches_composed() {
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    // 27 is not a multiple of the 8-lane reduction; 40 rows span several row chunks.
    let x = random(&mut rng, (5, 8, 27));
    let w = random(&mut rng, 27);
    assert_fused_matches_composed(
        "rms_norm",
        &[x, w],
        |t| rms_norm_fused(&t[0], &t[1], 1e-5),
        |t| rms_norm_composed(&t[0], &t[1], 1e-5),
        1e-5,
    );
}

#[test]
fn swiglu_matches_composed() {
    let mut rng = ChaCha8Rng::seed_from_u64(2);
    let gate = (random(&mut rng, (9, 2100)) * 4.0).unwrap();
    let up = random(&mut rng, (9, 2100));
    assert_fused_matches_composed(
        "swiglu",
        &[gate, up],
        |t| swiglu_fused(&t[0], &t[1]),
        |t| swiglu_composed(&t[0], &t[1]),
        1e-5,
    );
}

#[test]
fn rope_matches_composed() {
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let x = random(&mut rng, (2, 5, 3, 8));
    let positions: Vec<u32> = vec![0, 1, 2, 3, 4, 0, 0, 7, 8, 900];
    let angles = Arc::new(RopeAngles::new(&positions, 8, 10_000.0).unwrap());
    assert_fused_matches_composed(
        "rope",
        &[x],
        |t| rope_fused(&t[0], &angles),
        |t| rope_composed(&t[0], &angles),
        1e-5,
    );
}

fn attention_case(heads: usize, kv_heads: usize, len: usize, mask: Option<Vec<bool>>) {
    let mut rng = ChaCha8Rng::seed_from_u64(4 + heads as u64 * 10 + kv_heads as u64);
    let (batch, head_dim) = (2, 8);
    let q = random(&mut rng, (batch, len, heads * head_dim));
    let k = random(&mut rng, (batch, len, kv_heads * head_dim));
    let v = random(&mut rng, (batch, len, kv_heads * head_dim));
    // Positions as a padded batch would have them: counting real tokens only.
    let positions: Vec<u32> = match &mask {
        None => (0..batch).flat_map(|_| 0..len as u32).collect(),
        Some(mask) => mask
            .chunks(len)
            .flat_map(|row| {
                let mut seen = 0u32;
                row.iter()
                    .map(|&real| {
                        let p = seen.saturating_sub(1) + u32::from(seen > 0 || real);
                        seen += u32::from(real);
                        p.saturating_sub(1)
                    })
                    .collect::<Vec<_>>()
            })
            .collect(),
    };
    let angles = Arc::new(RopeAngles::new(&positions, head_dim, 10_000.0).unwrap());
    let shape = AttentionHeads {
        heads,
        kv_heads,
        head_dim,
    };
    let mask = mask.as_deref();
    assert_fused_matches_composed(
        &format!(
            "attention heads {heads} kv {kv_heads} len {len} masked {}",
            mask.is_some()
        ),
        &[q, k, v],
        |t| self_attention_fused(&t[0], &t[1], &t[2], shape, &angles, mask),
        |t| self_attention_composed(&t[0], &t[1], &t[2], shape, &angles, mask),
        2e-5,
    );
}

#[test]
fn attention_matches_composed_for_mha_gqa_and_mqa() {
    attention_case(4, 4, 9, None);
    attention_case(4, 2, 9, None);
    attention_case(3, 1, 9, None);
}

#[test]
fn attention_matches_composed_across_query_blocks() {
    // Longer than one 64-row query block.
    attention_case(2, 1, 70, None);
}

#[test]
fn attention_matches_composed_with_left_and_right_padding() {
    let len = 7;
    let mut mask = vec![true; 2 * len];
    // Row 0: two left-padding positions; row 1: one right-padding position and a hole.
    mask[0] = false;
    mask[1] = false;
    mask[2 * len - 1] = false;
    mask[len + 3] = false;
    attention_case(4, 2, len, Some(mask));
}

#[test]
fn attention_gradient_matches_finite_differences() {
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    let (batch, len, heads, kv_heads, head_dim) = (1, 5, 2, 1, 4);
    let q = random(&mut rng, (batch, len, heads * head_dim));
    let k = random(&mut rng, (batch, len, kv_heads * head_dim));
    let v = random(&mut rng, (batch, len, kv_heads * head_dim));
    let angles = Arc::new(RopeAngles::sequential(batch, len, head_dim, 10_000.0).unwrap());
    let shape = AttentionHeads {
        heads,
        kv_heads,
        head_dim,
    };
    // The same probe `output_and_grads` uses for seed 0.
    let probe = random(
        &mut ChaCha8Rng::seed_from_u64(0),
        (batch, len, heads * head_dim),
    );
    let loss = |q: &Tensor, k: &Tensor, v: &Tensor| -> f64 {
        let out = self_attention_fused(q, k, v, shape, &angles, None).unwrap();
        (out.to_dtype(DType::F64).unwrap() * probe.to_dtype(DType::F64).unwrap())
            .unwrap()
            .sum_all()
            .unwrap()
            .to_scalar::<f64>()
            .unwrap()
    };
    let (_, grads) = output_and_grads(&[q.clone(), k.clone(), v.clone()], 0, |t| {
        self_attention_fused(&t[0], &t[1], &t[2], shape, &angles, None)
    });
    let eps = 1e-2f32;
    for (which, grad) in grads.iter().enumerate() {
        let grad = grad.flatten_all().unwrap().to_vec1::<f32>().unwrap();
        for index in [5, 17, grad.len() - 1] {
            let bumped = |delta: f32| {
                let mut inputs = [q.clone(), k.clone(), v.clone()];
                let mut data = inputs[which]
                    .flatten_all()
                    .unwrap()
                    .to_vec1::<f32>()
                    .unwrap();
                data[index] += delta;
                inputs[which] =
                    Tensor::from_vec(data, inputs[which].shape(), &Device::Cpu).unwrap();
                loss(&inputs[0], &inputs[1], &inputs[2])
            };
            let numeric = (bumped(eps) - bumped(-eps)) / (2.0 * eps as f64);
            let analytic = grad[index] as f64;
            assert!(
                (numeric - analytic).abs() < 2e-2 * (1.0 + analytic.abs()),
                "input {which}[{index}]: finite differences {numeric}, backward {analytic}"
            );
        }
    }
}

#[test]
fn cached_attention_matches_composed_on_a_strided_cache_view() {
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let (batch, heads, kv_heads, head_dim, capacity, kv_len, q_len) = (2, 4, 2, 8, 12, 9, 3);
    let q = random(&mut rng, (batch, q_len, heads, head_dim));
    let k_cache = random(&mut rng, (batch, capacity, kv_heads, head_dim));
    let v_cache = random(&mut rng, (batch, capacity, kv_heads, head_dim));
    let k = k_cache.narrow(1, 0, kv_len).unwrap();
    let v = v_cache.narrow(1, 0, kv_len).unwrap();
    assert!(!k.is_contiguous());
    let mut mask = vec![true; batch * kv_len];
    mask[0] = false;
    mask[1] = false;
    let shape = AttentionHeads {
        heads,
        kv_heads,
        head_dim,
    };
    for mask in [None, Some(mask.as_slice())] {
        let fused = cached_attention_fused(&q, &k, &v, shape, mask).unwrap();
        let composed = cached_attention_composed(&q, &k, &v, shape, mask).unwrap();
        let diff = max_rel_diff(&fused, &composed);
        assert!(diff < 2e-5, "cached attention differs by {diff}");
    }
}

#[test]
fn token_log_probs_and_log_softmax_match_composed() {
    let mut rng = ChaCha8Rng::seed_from_u64(6);
    let logits = (random(&mut rng, (3, 4, 50)) * 3.0).unwrap();
    let targets = Tensor::from_vec(
        (0..12u32).map(|i| (i * 7) % 50).collect::<Vec<_>>(),
        (3, 4),
        &Device::Cpu,
    )
    .unwrap();
    assert_fused_matches_composed(
        "token_log_probs",
        std::slice::from_ref(&logits),
        |t| token_log_probs_fused(&t[0], &targets),
        |t| token_log_probs_composed(&t[0], &targets),
        1e-5,
    );
    assert_fused_matches_composed(
        "log_softmax",
        &[logits],
        |t| log_softmax_fused(&t[0]),
        |t| log_softmax_composed(&t[0]),
        1e-5,
    );
}

#[test]
fn token_log_probs_rejects_targets_outside_the_vocabulary() {
    let logits = Tensor::zeros((2, 5), DType::F32, &Device::Cpu).unwrap();
    let targets = Tensor::new(&[1u32, 5], &Device::Cpu).unwrap();
    let err = token_log_probs_fused(&logits, &targets).unwrap_err();
    assert!(err.to_string().contains("outside the vocabulary"), "{err}");
}

#[test]
fn fused_ops_give_bit_identical_results_across_thread_counts() {
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let x = random(&mut rng, (64, 48));
    let w = random(&mut rng, 48);
    let run = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| {
            let (_, grads) = output_and_grads(&[x.clone(), w.clone()], 3, |t| {
                rms_norm_fused(&t[0], &t[1], 1e-5)
            });
            grads[1].to_vec1::<f32>().unwrap()
        })
    };
    assert_eq!(run(1), run(3));
}

#[test]
fn linear_matches_composed() {
    let mut rng = ChaCha8Rng::seed_from_u64(8);
    let x = random(&mut rng, (2, 5, 12));
    let w = random(&mut rng, (7, 12));
    assert_fused_matches_composed(
        "linear",
        &[x, w],
        |t| linear_fused(&t[0], &t[1]),
        |t| linear_composed(&t[0], &t[1]),
        1e-5,
    );
}

#[test]
fn swiglu_projection_matches_composed() {
    let mut rng = ChaCha8Rng::seed_from_u64(9);
    let x = random(&mut rng, (3, 4, 16));
    let gate = random(&mut rng, (40, 16));
    let up = random(&mut rng, (40, 16));
    assert_fused_matches_composed(
        "swiglu_projection",
        &[x, gate, up],
        |t| swiglu_projection_fused(&t[0], &t[1], &t[2]),
        |t| swiglu_projection_composed(&t[0], &t[1], &t[2]),
        1e-5,
    );
}

#[test]
fn linear_over_few_rows_splits_features_and_matches_composed() {
    let mut rng = ChaCha8Rng::seed_from_u64(10);
    // Few rows and more output features than one task takes: the feature-split path.
    let x = random(&mut rng, (1, 3, 20));
    let w = random(&mut rng, (600, 20));
    let fused = linear_fused(&x, &w).unwrap();
    let composed = linear_composed(&x, &w).unwrap();
    assert!(max_rel_diff(&fused, &composed) < 1e-5);
}
