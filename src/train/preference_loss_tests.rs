//! The DPO family against hand-computed values and gradients.

use super::preference_loss::{preference_loss, PreferenceLoss, ReferenceLogProbs};
use super::token_loss::SequenceLogProbs;
use candle_core::{Device, Tensor, Var};

fn softplus(x: f64) -> f64 {
    (1.0 + x.exp()).ln()
}

fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

fn seq(var: &Var, counts: &[usize]) -> SequenceLogProbs {
    SequenceLogProbs {
        sums: var.as_tensor().clone(),
        token_counts: counts.to_vec(),
    }
}

fn var(values: &[f32]) -> Var {
    Var::from_tensor(&Tensor::new(values, &Device::Cpu).unwrap()).unwrap()
}

fn grad(loss: &Tensor, v: &Var) -> Vec<f64> {
    let grads = loss.backward().unwrap();
    grads
        .get(v.as_tensor())
        .unwrap()
        .to_dtype(candle_core::DType::F64)
        .unwrap()
        .to_vec1::<f64>()
        .unwrap()
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-6 * b.abs().max(1.0)
}

#[test]
fn dpo_matches_the_formula() {
    let chosen = var(&[-10.0, -5.0]);
    let rejected = var(&[-12.0, -4.0]);
    let reference = ReferenceLogProbs {
        chosen: vec![-11.0, -5.0],
        rejected: vec![-11.0, -5.0],
    };
    let out = preference_loss(
        PreferenceLoss::Dpo { beta: 0.1 },
        &seq(&chosen, &[3, 3]),
        &seq(&rejected, &[4, 4]),
        Some(&reference),
    )
    .unwrap();
    // z₁ = 0.1·((−10 + 11) − (−12 + 11)) = 0.2, z₂ = 0.1·(0 − 1) = −0.1
    let expected = [softplus(-0.2), softplus(0.1)];
    assert!(close(out.losses[0], expected[0]) && close(out.losses[1], expected[1]));
    let mean = out.loss.to_scalar::<f64>().unwrap();
    assert!(close(mean, (expected[0] + expected[1]) / 2.0));
    assert!(close(out.chosen_rewards[0], 0.1) && close(out.rejected_rewards[0], -0.1));
    assert!(close(out.chosen_rewards[1], 0.0) && close(out.rejected_rewards[1], 0.1));
    assert_eq!(out.accuracy(), 0.5);
    assert!(close(out.mean_margin(), (0.2 - 0.1) / 2.0));
    // d loss / d πc_i = −β σ(−z_i) / pairs
    let g = grad(&out.loss, &chosen);
    assert!(close(g[0], -0.1 * sigmoid(-0.2) / 2.0), "{g:?}");
    assert!(close(g[1], -0.1 * sigmoid(0.1) / 2.0), "{g:?}");
}

#[test]
fn dpo_gradient_is_nonzero_where_policy_equals_reference() {
    // At the start of DPO the policy is the reference, so z = 0 exactly: the gradient must be
    // −β/2 per pair, not 0 (the kink of |x| or relu at 0 would lose it).
    let chosen = var(&[-7.0]);
    let rejected = var(&[-9.0]);
    let reference = ReferenceLogProbs {
        chosen: vec![-7.0],
        rejected: vec![-9.0],
    };
    let out = preference_loss(
        PreferenceLoss::Dpo { beta: 0.5 },
        &seq(&chosen, &[2]),
        &seq(&rejected, &[2]),
        Some(&reference),
    )
    .unwrap();
    assert!(close(out.losses[0], std::f64::consts::LN_2));
    assert!(close(grad(&out.loss, &chosen)[0], -0.25));
    let out = preference_loss(
        PreferenceLoss::Dpo { beta: 0.5 },
        &seq(&chosen, &[2]),
        &seq(&rejected, &[2]),
        Some(&reference),
    )
    .unwrap();
    assert!(close(grad(&out.loss, &rejected)[0], 0.25));
}

#[test]
fn dpo_norm_divides_policy_and_reference_by_length() {
    let chosen = var(&[-8.0]);
    let rejected = var(&[-30.0]);
    let reference = ReferenceLogProbs {
        chosen: vec![-10.0],
        rejected: vec![-25.0],
    };
    let out = preference_loss(
        PreferenceLoss::DpoNorm { beta: 5.0 },
        &seq(&chosen, &[4]),
        &seq(&rejected, &[10]),
        Some(&reference),
    )
    .unwrap();
    // chosen: (−8 + 10)/4 = 0.5; rejected: (−30 + 25)/10 = −0.5; z = 5·1 = 5
    assert!(close(out.losses[0], softplus(-5.0)));
    assert!(close(out.chosen_rewards[0], 2.5) && close(out.rejected_rewards[0], -2.5));
    let g = grad(&out.loss, &chosen);
    assert!(close(g[0], -5.0 * sigmoid(-5.0) / 4.0));
}

#[test]
fn simpo_uses_average_log_probs_and_a_margin_without_reference() {
    let chosen = var(&[-6.0]);
    let rejected = var(&[-6.0]);
    let out = preference_loss(
        PreferenceLoss::Simpo {
            beta: 2.0,
            gamma: 0.5,
        },
        &seq(&chosen, &[3]),
        &seq(&rejected, &[2]),
        None,
    )
    .unwrap();
    // avg: −2 vs −3; z = 2·(−2 + 3) − 0.5 = 1.5
    assert!(close(out.losses[0], softplus(-1.5)));
    assert!(close(out.chosen_rewards[0], -4.0) && close(out.rejected_rewards[0], -6.0));
    assert!(close(
        grad(&out.loss, &chosen)[0],
        -2.0 * sigmoid(-1.5) / 3.0
    ));
}

#[test]
fn extreme_margins_stay_finite() {
    let chosen = var(&[0.0, -5000.0]);
    let rejected = var(&[-5000.0, 0.0]);
    let reference = ReferenceLogProbs {
        chosen: vec![0.0, 0.0],
        rejected: vec![0.0, 0.0],
    };
    let out = preference_loss(
        PreferenceLoss::Dpo { beta: 1.0 },
        &seq(&chosen, &[1, 1]),
        &seq(&rejected, &[1, 1]),
        Some(&reference),
    )
    .unwrap();
    assert!(out.losses[0].abs() < 1e-12);
    assert!(close(out.losses[1], 5000.0));
    let g = grad(&out.loss, &chosen);
    assert!(g.iter().all(|x| x.is_finite()), "{g:?}");
    assert!(close(g[1], -0.5));
}

#[test]
fn inconsistent_inputs_are_errors() {
    let c = var(&[-1.0, -2.0]);
    let r = var(&[-1.0, -2.0]);
    let reference = ReferenceLogProbs {
        chosen: vec![-1.0, -2.0],
        rejected: vec![-1.0, -2.0],
    };
    let dpo = PreferenceLoss::Dpo { beta: 0.1 };
    let err = |loss, c: &SequenceLogProbs, r: &SequenceLogProbs, reference| {
        preference_loss(loss, c, r, reference)
            .unwrap_err()
            .to_string()
    };
    let e = err(dpo, &seq(&c, &[1, 1]), &seq(&r, &[1, 1]), None);
    assert!(e.contains("reference"), "{e}");
    let short = ReferenceLogProbs {
        chosen: vec![-1.0],
        rejected: vec![-1.0],
    };
    assert!(preference_loss(dpo, &seq(&c, &[1, 1]), &seq(&r, &[1, 1]), Some(&short)).is_err());
    assert!(preference_loss(dpo, &seq(&c, &[1, 1]), &seq(&r, &[1]), Some(&reference)).is_err());
    let e = err(
        PreferenceLoss::DpoNorm { beta: 0.1 },
        &seq(&c, &[1, 0]),
        &seq(&r, &[1, 1]),
        Some(&reference),
    );
    assert!(e.contains("no counted tokens"), "{e}");
    assert!(preference_loss(
        PreferenceLoss::Dpo { beta: 0.0 },
        &seq(&c, &[1, 1]),
        &seq(&r, &[1, 1]),
        Some(&reference)
    )
    .is_err());
    assert!(preference_loss(
        PreferenceLoss::Simpo {
            beta: 1.0,
            gamma: f64::NAN
        },
        &seq(&c, &[1, 1]),
        &seq(&r, &[1, 1]),
        None
    )
    .is_err());
    let nan_ref = ReferenceLogProbs {
        chosen: vec![f64::NAN, -1.0],
        rejected: vec![-1.0, -1.0],
    };
    assert!(preference_loss(dpo, &seq(&c, &[1, 1]), &seq(&r, &[1, 1]), Some(&nan_ref)).is_err());
}

#[test]
fn losses_are_named_as_in_recipes() {
    assert_eq!(
        PreferenceLoss::from_name("dpo_norm", 5.0, None).unwrap(),
        PreferenceLoss::DpoNorm { beta: 5.0 }
    );
    assert_eq!(
        PreferenceLoss::from_name("simpo", 2.0, Some(0.5)).unwrap(),
        PreferenceLoss::Simpo {
            beta: 2.0,
            gamma: 0.5
        }
    );
    assert!(PreferenceLoss::from_name("simpo", 2.0, None).is_err());
    assert!(PreferenceLoss::from_name("dpo", 0.1, Some(1.0)).is_err());
    assert!(PreferenceLoss::from_name("dpo", -0.1, None).is_err());
    let e = PreferenceLoss::from_name("ipo", 0.1, None)
        .unwrap_err()
        .to_string();
    assert!(e.contains("dpo_norm"), "{e}");
}
