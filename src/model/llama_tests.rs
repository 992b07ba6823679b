//! Tests of the trainable model and its inference path.

use super::config::LlamaConfig;
use super::fused::Kernels;
use super::kv_cache::KvCache;
use super::llama::{mean_next_token_nll, Llama, LogitPositions};
use super::llama_error::LlamaError;
use candle_core::{DType, Device, Tensor};

pub(crate) fn tiny_config(tied: bool, kv_heads: usize) -> LlamaConfig {
    LlamaConfig {
        vocab_size: 61,
        hidden_size: 32,
        intermediate_size: 44,
        num_hidden_layers: 2,
        num_attention_heads: 4,
        num_key_value_heads: kv_heads,
        max_position_embeddings: 128,
        rms_norm_eps: 1e-5,
        rope_theta: 10_000.0,
        tie_word_embeddings: tied,
        bos_token_id: None,
        eos_token_id: None,
    }
}

fn ids(rows: &[&[u32]]) -> Tensor {
    let len = rows[0].len();
    let flat: Vec<u32> = rows.iter().flat_map(|r| r.iter().copied()).collect();
    Tensor::from_vec(flat, (rows.len(), len), &Device::Cpu).unwrap()
}

fn max_abs_diff(a: &Tensor, b: &Tensor) -> f32 {
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

/// A model whose norms are not all ones, so that norm-weight gradients are exercised for real.
fn model(tied: bool, kv_heads: usize, seed: u64) -> Llama {
    let config = tiny_config(tied, kv_heads);
    let mut weights = Llama::init_random(&config, seed, &Device::Cpu)
        .unwrap()
        .to_tensors()
        .unwrap();
    for (name, w) in weights.iter_mut() {
        if name.ends_with("norm.weight") {
            let n = w.elem_count();
            let wobble: Vec<f32> = (0..n).map(|i| 1.0 + 0.1 * ((i % 7) as f32 - 3.0)).collect();
            *w = Tensor::from_vec(wobble, n, &Device::Cpu).unwrap();
        } else {
            // Larger than the 0.02 init so that attention patterns are not uniform.
            *w = (&*w * 10.0).unwrap();
        }
    }
    Llama::from_tensors(config, weights, &Device::Cpu).unwrap()
}

const BATCH: [&[u32]; 2] = [&[1, 5, 9, 2, 7, 3, 3, 60], &[4, 4, 0, 11, 13, 17, 19, 23]];

fn loss_and_grads(model: &Llama) -> (f32, Vec<(String, Tensor)>) {
    let input = ids(&BATCH);
    let logits = model.forward(&input.narrow(1, 0, 7).unwrap()).unwrap();
    let targets = input.narrow(1, 1, 7).unwrap();
    let loss = mean_next_token_nll(model.kernels(), &logits, &targets).unwrap();
    let grads = loss.backward().unwrap();
    let named = model
        .named_parameters()
        .into_iter()
        .map(|(name, var)| {
            let g = grads
                .get(var.as_tensor())
                .unwrap_or_else(|| panic!("no gradient reached {name}"))
                .clone();
            (name, g)
        })
        .collect();
    (loss.to_scalar::<f32>().unwrap(), named)
}

#[test]
fn every_parameter_receives_a_nonzero_gradient() {
    for tied in [false, true] {
        let model = model(tied, 2, 1);
        let (_, grads) = loss_and_grads(&model);
        assert_eq!(grads.len(), model.named_parameters().len());
        for (name, g) in grads {
            let norm = g
                .sqr()
                .unwrap()
                .sum_all()
                .unwrap()
                .to_scalar::<f32>()
                .unwrap();
            assert!(
                norm > 0.0 && norm.is_finite(),
                "{name}: gradient norm {norm}"
            );
        }
    }
}

#[test]
fn masked_forward_trains_every_parameter() {
    let model = model(false, 2, 2);
    let input = ids(&BATCH);
    let mask = Tensor::from_vec(
        vec![0u32, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0],
        (2, 8),
        &Device::Cpu,
    )
    .unwrap();
    let logits = model.forward_masked(&input, &mask).unwrap();
    let loss = logits.sqr().unwrap().mean_all().unwrap();
    let grads = loss.backward().unwrap();
    for (name, var) in model.named_parameters() {
        let g = grads.get(var.as_tensor()).unwrap();
        let norm = g
            .sqr()
            .unwrap()
            .sum_all()
            .unwrap()
            .to_scalar::<f32>()
            .unwrap();
        assert!(
            norm > 0.0 && norm.is_finite(),
            "{name}: gradient norm {norm}"
        );
    }
}

#[test]
fn fused_and_composed_kernels_give_the_same_loss_and_gradients() {
    for (tied, kv_heads) in [(false, 2), (true, 4), (false, 1)] {
        let fused = model(tied, kv_heads, 3);
        let composed = Llama::from_tensors(
            fused.config().clone(),
            fused.to_tensors().unwrap(),
            &Device::Cpu,
        )
        .unwrap()
        .with_kernels(Kernels::Composed);
        let (loss_f, grads_f) = loss_and_grads(&fused);
        let (loss_c, grads_c) = loss_and_grads(&composed);
        assert!((loss_f - loss_c).abs() < 1e-4, "loss {loss_f} vs {loss_c}");
        for ((name, gf), (_, gc)) in grads_f.iter().zip(&grads_c) {
            let scale = gc.abs().unwrap().flatten_all().unwrap().max(0).unwrap();
            let scale = scale.to_scalar::<f32>().unwrap().max(1e-3);
            let diff = max_abs_diff(gf, gc) / scale;
            assert!(
                diff < 1e-3,
                "{name} (tied {tied}, kv {kv_heads}): relative diff {diff}"
            );
        }
    }
}

#[test]
fn to_tensors_then_from_tensors_gives_identical_logits() {
    for tied in [false, true] {
        let model = model(tied, 2, 4);
        let weights = model.to_tensors().unwrap();
        assert_eq!(weights.contains_key("lm_head.weight"), !tied);
        let copy = Llama::from_tensors(model.config().clone(), weights, &Device::Cpu).unwrap();
        let input = ids(&BATCH);
        let a = model.forward(&input).unwrap().flatten_all().unwrap();
        let b = copy.forward(&input).unwrap().flatten_all().unwrap();
        assert_eq!(a.to_vec1::<f32>().unwrap(), b.to_vec1::<f32>().unwrap());
    }
}

#[test]
fn snapshots_do_not_follow_later_parameter_updates() {
    let model = model(false, 2, 5);
    let snapshot = model.to_tensors().unwrap();
    let (name, var) = &model.named_parameters()[1];
    var.set(&var.as_tensor().zeros_like().unwrap()).unwrap();
    let saved = snapshot[name].sqr().unwrap().sum_all().unwrap();
    assert!(saved.to_scalar::<f32>().unwrap() > 0.0);
    // And a model built from the snapshot does not share storage with it.
    let rebuilt =
        Llama::from_tensors(model.config().clone(), snapshot.clone(), &Device::Cpu).unwrap();
    let (_, var) = &rebuilt.named_parameters()[1];
    var.set(&var.as_tensor().zeros_like().unwrap()).unwrap();
    let saved = snapshot[name].sqr().unwrap().sum_all().unwrap();
    assert!(saved.to_scalar::<f32>().unwrap() > 0.0);
}

#[test]
fn random_init_is_deterministic_per_seed_and_follows_hf_scheme() {
    let config = tiny_config(false, 2);
    let a = Llama::init_random(&config, 7, &Device::Cpu)
        .unwrap()
        .to_tensors()
        .unwrap();
    let b = Llama::init_random(&config, 7, &Device::Cpu)
        .unwrap()
        .to_tensors()
        .unwrap();
    let c = Llama::init_random(&config, 8, &Device::Cpu)
        .unwrap()
        .to_tensors()
        .unwrap();
    let name = "model.layers.1.mlp.up_proj.weight";
    let flat = |t: &Tensor| t.flatten_all().unwrap().to_vec1::<f32>().unwrap();
    assert_eq!(flat(&a[name]), flat(&b[name]));
    assert_ne!(flat(&a[name]), flat(&c[name]));
    let values = flat(&a["model.embed_tokens.weight"]);
    let mean = values.iter().sum::<f32>() / values.len() as f32;
    let std = (values.iter().map(|v| (v - mean).powi(2)).sum::<f32>() / values.len() as f32).sqrt();
    assert!(
        mean.abs() < 0.003 && (std - 0.02).abs() < 0.002,
        "mean {mean} std {std}"
    );
    assert!(flat(&a["model.norm.weight"]).iter().all(|&v| v == 1.0));
}

#[test]
fn from_tensors_reports_missing_misshapen_and_unknown_weights() {
    let config = tiny_config(false, 2);
    let weights = Llama::init_random(&config, 1, &Device::Cpu)
        .unwrap()
        .to_tensors()
        .unwrap();

    let mut missing = weights.clone();
    missing.remove("model.layers.1.self_attn.k_proj.weight");
    let err = Llama::from_tensors(config.clone(), missing, &Device::Cpu).unwrap_err();
    assert!(matches!(err, LlamaError::MissingWeight { ref name } if name.contains("k_proj")));

    let mut misshapen = weights.clone();
    misshapen.insert(
        "model.norm.weight".into(),
        Tensor::ones(31, DType::F32, &Device::Cpu).unwrap(),
    );
    let err = Llama::from_tensors(config.clone(), misshapen, &Device::Cpu).unwrap_err();
    assert!(matches!(err, LlamaError::WeightShape { .. }), "{err}");

    let mut unknown = weights.clone();
    unknown.insert(
        "model.layers.0.self_attn.q_proj.bias".into(),
        Tensor::zeros(32, DType::F32, &Device::Cpu).unwrap(),
    );
    let err = Llama::from_tensors(config.clone(), unknown, &Device::Cpu).unwrap_err();
    assert!(err.to_string().contains("q_proj.bias"), "{err}");

    let mut bad = config.clone();
    bad.num_key_value_heads = 3;
    let err = Llama::init_random(&bad, 1, &Device::Cpu).unwrap_err();
    assert!(matches!(err, LlamaError::InvalidConfig(_)), "{err}");
}

#[test]
fn bad_inputs_are_errors_not_panics() {
    let model = model(true, 2, 6);
    let err = model.forward(&ids(&[&[1, 61]])).unwrap_err();
    assert!(
        matches!(err, LlamaError::TokenOutOfRange { id: 61, .. }),
        "{err}"
    );
    let floats = Tensor::zeros((1, 3), DType::F32, &Device::Cpu).unwrap();
    assert!(matches!(
        model.forward(&floats),
        Err(LlamaError::InvalidInput(_))
    ));
    let flat = Tensor::zeros(3, DType::U32, &Device::Cpu).unwrap();
    assert!(matches!(
        model.forward(&flat),
        Err(LlamaError::InvalidInput(_))
    ));
    let mask = Tensor::ones((1, 2), DType::U32, &Device::Cpu).unwrap();
    let err = model
        .forward_masked(&ids(&[&[1, 2, 3]]), &mask)
        .unwrap_err();
    assert!(matches!(err, LlamaError::InvalidInput(_)), "{err}");
}

#[test]
fn left_padding_with_a_mask_reproduces_unpadded_logits() {
    let model = model(false, 2, 7);
    let short: &[u32] = &[5, 9, 2, 7];
    let alone = model.forward(&ids(&[short])).unwrap();
    let padded = ids(&[&[0, 0, 5, 9, 2, 7], &[1, 2, 3, 4, 5, 6]]);
    let mask = Tensor::from_vec(
        vec![0u8, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1],
        (2, 6),
        &Device::Cpu,
    )
    .unwrap();
    for logits in [
        model.forward_masked(&padded, &mask).unwrap(),
        model.forward_no_grad(&padded, Some(&mask)).unwrap(),
    ] {
        let real = logits.narrow(0, 0, 1).unwrap().narrow(1, 2, 4).unwrap();
        let diff = max_abs_diff(&real, &alone);
        assert!(diff < 1e-4, "left-padded row differs by {diff}");
    }
}

#[test]
fn cached_prefill_and_steps_match_the_training_forward() {
    for kernels in [Kernels::Auto, Kernels::Composed] {
        let model = model(false, 2, 8).with_kernels(kernels);
        let input = ids(&BATCH);
        let full = model.forward(&input).unwrap();
        let mut cache = KvCache::new(model.config(), 2, 3, &Device::Cpu).unwrap();
        // Prefill 5 tokens (growing the cache past its capacity of 3), then one at a time.
        let prefill = model
            .forward_with_cache(
                &input.narrow(1, 0, 5).unwrap(),
                None,
                &mut cache,
                LogitPositions::All,
            )
            .unwrap();
        let diff = max_abs_diff(&prefill, &full.narrow(1, 0, 5).unwrap());
        assert!(diff < 1e-4, "{kernels:?}: prefill differs by {diff}");
        for t in 5..8 {
            let step = model
                .forward_with_cache(
                    &input.narrow(1, t, 1).unwrap(),
                    None,
                    &mut cache,
                    LogitPositions::Last,
                )
                .unwrap();
            let want = full.narrow(1, t, 1).unwrap().squeeze(1).unwrap();
            let diff = max_abs_diff(&step, &want);
            assert!(diff < 1e-4, "{kernels:?}: step {t} differs by {diff}");
        }
        assert_eq!(cache.len(), 8);
        assert_eq!(cache.next_positions(), &[8, 8]);
    }
}

#[test]
fn cache_rows_can_be_dropped_mid_generation() {
    let model = model(true, 1, 9);
    let input = ids(&BATCH);
    let full = model.forward(&input).unwrap();
    let mut cache = KvCache::new(model.config(), 2, 8, &Device::Cpu).unwrap();
    model
        .forward_with_cache(
            &input.narrow(1, 0, 6).unwrap(),
            None,
            &mut cache,
            LogitPositions::Last,
        )
        .unwrap();
    cache.retain_rows(&[1]).unwrap();
    let step = model
        .forward_with_cache(
            &input.narrow(0, 1, 1).unwrap().narrow(1, 6, 1).unwrap(),
            None,
            &mut cache,
            LogitPositions::Last,
        )
        .unwrap();
    let want = full
        .narrow(0, 1, 1)
        .unwrap()
        .narrow(1, 6, 1)
        .unwrap()
        .squeeze(1)
        .unwrap();
    assert!(max_abs_diff(&step, &want) < 1e-4);
    assert!(cache.retain_rows(&[3]).is_err());
    let wrong_batch = model.forward_with_cache(&input, None, &mut cache, LogitPositions::Last);
    assert!(matches!(wrong_batch, Err(LlamaError::InvalidInput(_))));
}

#[test]
fn training_step_is_bit_identical_across_runs_and_thread_counts() {
    let model = model(false, 2, 10);
    let grads_with = |threads: usize| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(|| {
                let (loss, grads) = loss_and_grads(&model);
                let flat: Vec<Vec<f32>> = grads
                    .iter()
                    .map(|(_, g)| g.flatten_all().unwrap().to_vec1::<f32>().unwrap())
                    .collect();
                (loss, flat)
            })
    };
    let reference = grads_with(2);
    assert_eq!(reference, grads_with(2));
    assert_eq!(reference, grads_with(1));
    assert_eq!(reference, grads_with(3));
}
