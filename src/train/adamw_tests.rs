//! AdamW against hand-computed updates and against its composed (candle ops) form.

use super::adamw::{AdamW, AdamWConfig, DecayScope};
use super::test_support::{max_abs_diff, tiny_model};
use crate::model::fused::Kernels;
use candle_core::{Device, Tensor, Var};

fn var(values: &[f32], shape: &[usize]) -> Var {
    Var::from_tensor(&Tensor::from_vec(values.to_vec(), shape, &Device::Cpu).unwrap()).unwrap()
}

fn grad(values: &[f32], shape: &[usize]) -> Option<Tensor> {
    Some(Tensor::from_vec(values.to_vec(), shape, &Device::Cpu).unwrap())
}

fn values(v: &Var) -> Vec<f32> {
    v.flatten_all().unwrap().to_vec1::<f32>().unwrap()
}

/// Plain-f64 AdamW on one scalar, for comparison: `(param, m, v)` after update `t`.
fn reference_update(p: f64, g: f64, m: f64, v: f64, t: i32, lr: f64, wd: f64) -> (f64, f64, f64) {
    let (b1, b2, eps) = (0.9, 0.999, 1e-8);
    let p = p * (1.0 - lr * wd);
    let m = b1 * m + (1.0 - b1) * g;
    let v = b2 * v + (1.0 - b2) * g * g;
    let m_hat = m / (1.0 - b1.powi(t));
    let v_hat = v / (1.0 - b2.powi(t));
    (p - lr * m_hat / (v_hat.sqrt() + eps), m, v)
}

#[test]
fn two_updates_match_the_hand_computed_values() {
    let lr = 0.1;
    let wd = 0.5;
    let w0 = [1.0f32, -2.0, 0.5, 3.0];
    let b0 = [0.25f32, -0.75];
    let w = var(&w0, &[2, 2]);
    let b = var(&b0, &[2]);
    let config = AdamWConfig {
        weight_decay: wd,
        ..AdamWConfig::default()
    };
    let mut adamw = AdamW::new(
        vec![("w".into(), w.clone()), ("b".into(), b.clone())],
        config,
    )
    .unwrap();
    assert_eq!(adamw.decay_flags(), vec![("w", true), ("b", false)]);

    let gw1 = [0.5f32, -1.0, 2.0, 0.0];
    let gb1 = [-0.25f32, 4.0];
    adamw
        .step(&[grad(&gw1, &[2, 2]), grad(&gb1, &[2])], lr, 1.0)
        .unwrap();
    // First update: m̂ = g and v̂ = g², so each element moves by lr · g / (|g| + ε) ≈ lr·sign(g),
    // after the matrix (only) shrinks by 1 − lr·λ = 0.95.
    let expected_w1 = [
        0.95 - 0.1,
        -1.9 + 0.1,
        0.475 - 0.1,
        2.85, // zero gradient: decay only
    ];
    let expected_b1 = [0.25 + 0.1, -0.75 - 0.1];
    for (got, want) in values(&w).iter().zip(expected_w1) {
        assert!((*got as f64 - want).abs() < 1e-6, "{got} vs {want}");
    }
    for (got, want) in values(&b).iter().zip(expected_b1) {
        assert!((*got as f64 - want).abs() < 1e-6, "{got} vs {want}");
    }

    // Second update against the f64 formula carried from the start.
    let gw2 = [1.5f32, 0.5, -0.5, -3.0];
    let gb2 = [0.125f32, -4.0];
    adamw
        .step(&[grad(&gw2, &[2, 2]), grad(&gb2, &[2])], lr, 1.0)
        .unwrap();
    let check = |start: &[f32], g1: &[f32], g2: &[f32], wd: f64, got: Vec<f32>| {
        for i in 0..start.len() {
            let (p, m, v) = reference_update(start[i] as f64, g1[i] as f64, 0.0, 0.0, 1, lr, wd);
            let (p, _, _) = reference_update(p, g2[i] as f64, m, v, 2, lr, wd);
            assert!(
                (got[i] as f64 - p).abs() < 1e-6,
                "element {i}: {} vs {p}",
                got[i]
            );
        }
    };
    check(&w0, &gw1, &gw2, wd, values(&w));
    check(&b0, &gb1, &gb2, 0.0, values(&b));
}

#[test]
fn gradient_scale_and_missing_gradients() {
    let a = var(&[1.0, 2.0, 3.0], &[3]);
    let b = var(&[1.0, 2.0, 3.0], &[3]);
    let skipped = var(&[7.0, 8.0], &[2]);
    let mut scaled = AdamW::new(
        vec![("a".into(), a.clone()), ("s".into(), skipped.clone())],
        AdamWConfig::default(),
    )
    .unwrap();
    let mut prescaled = AdamW::new(vec![("b".into(), b.clone())], AdamWConfig::default()).unwrap();
    for step in 0..3 {
        let g = [0.3f32 * step as f32 - 0.2, 1.0, -0.6];
        let half: Vec<f32> = g.iter().map(|x| x * 0.5).collect();
        scaled.step(&[grad(&g, &[3]), None], 0.01, 0.5).unwrap();
        prescaled.step(&[grad(&half, &[3])], 0.01, 1.0).unwrap();
    }
    assert_eq!(values(&a), values(&b));
    assert_eq!(values(&skipped), vec![7.0, 8.0]);
    assert!(
        scaled.step(&[None], 0.01, 1.0).is_err(),
        "gradient count mismatch"
    );
    assert!(
        scaled
            .step(&[grad(&[1.0; 2], &[2]), None], 0.01, 1.0)
            .is_err(),
        "shape mismatch"
    );
    assert!(scaled.step(&[None, None], f64::NAN, 1.0).is_err());
}

#[test]
fn fused_kernel_matches_composed_ops_over_several_updates() {
    let n = 40_000; // several parallel chunks
    let init: Vec<f32> = (0..n)
        .map(|i| ((i * 37 % 101) as f32 - 50.0) / 25.0)
        .collect();
    let fused_var = var(&init, &[200, 200]);
    let composed_var = var(&init, &[200, 200]);
    let config = AdamWConfig {
        weight_decay: 0.1,
        ..AdamWConfig::default()
    };
    let mut fused = AdamW::new(vec![("w".into(), fused_var.clone())], config).unwrap();
    let mut composed = AdamW::new(vec![("w".into(), composed_var.clone())], config)
        .unwrap()
        .with_kernels(Kernels::Composed);
    for step in 0..4 {
        let g: Vec<f32> = (0..n)
            .map(|i| (((i + step * 11) * 53 % 97) as f32 - 48.0) / 30.0)
            .collect();
        let g = grad(&g, &[200, 200]);
        fused.step(std::slice::from_ref(&g), 1e-2, 0.7).unwrap();
        composed.step(std::slice::from_ref(&g), 1e-2, 0.7).unwrap();
    }
    let diff = max_abs_diff(fused_var.as_tensor(), composed_var.as_tensor());
    assert!(diff < 1e-6, "fused vs composed: {diff}");
}

#[test]
fn model_norms_are_exempt_from_decay_by_default() {
    let model = tiny_model(0);
    let adamw = AdamW::new(model.named_parameters(), AdamWConfig::default()).unwrap();
    for (name, decays) in adamw.decay_flags() {
        assert_eq!(decays, !name.contains("norm"), "{name}");
    }
    let all = AdamW::new(
        model.named_parameters(),
        AdamWConfig {
            decay_scope: DecayScope::All,
            ..AdamWConfig::default()
        },
    )
    .unwrap();
    assert!(all.decay_flags().iter().all(|(_, d)| *d));
}

#[test]
fn invalid_hyperparameters_are_errors() {
    let bad = [
        AdamWConfig {
            beta1: 1.0,
            ..AdamWConfig::default()
        },
        AdamWConfig {
            beta2: -0.1,
            ..AdamWConfig::default()
        },
        AdamWConfig {
            eps: 0.0,
            ..AdamWConfig::default()
        },
        AdamWConfig {
            weight_decay: f64::INFINITY,
            ..AdamWConfig::default()
        },
    ];
    for config in bad {
        assert!(AdamW::new(vec![], config).is_err(), "{config:?}");
    }
}
