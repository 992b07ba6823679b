//! The SFT and pretraining loops on a tiny model: learning, accumulation, reductions,
//! determinism, progress, cancellation and bad input.

use super::adamw::AdamWConfig;
use super::error::TrainError;
use super::example::TrainExample;
use super::pretrain::{pack_documents, pretrain, PretrainConfig};
use super::progress::{StepProgress, TrainHooks};
use super::schedule::{LrSchedule, ScheduleKind, Warmup};
use super::sft::{sft, SftConfig};
use super::test_support::{
    clone_model, max_weight_diff, reversal_examples, tiny_model, weights, EOS,
};
use super::token_loss::LossReduction;
use super::trainer::OptimizerSettings;
use std::cell::Cell;

fn sft_config(lr: f64, batch: usize, micro: usize, epochs: usize) -> SftConfig {
    SftConfig {
        epochs,
        batch_size: batch,
        micro_batch_size: micro,
        max_seq_len: 64,
        loss_reduction: LossReduction::Mean,
        optimizer: OptimizerSettings {
            adamw: AdamWConfig::default(),
            schedule: LrSchedule {
                kind: ScheduleKind::Linear,
                peak_lr: lr,
                warmup: Warmup::Fraction(0.03),
                min_lr_ratio: 0.0,
            },
            max_grad_norm: Some(1.0),
        },
        seed: 1,
    }
}

#[test]
fn sft_loss_falls_clearly_over_a_few_dozen_steps() {
    let model = tiny_model(0);
    let examples = reversal_examples(32, 1);
    let report = sft(&model, &examples, &sft_config(1e-2, 8, 8, 10), &mut ()).unwrap();
    assert_eq!(report.total_steps, 40);
    assert_eq!(report.curve.len(), 40);
    let first = report.curve[0].mean_token_loss;
    let last: f64 = report.curve[35..]
        .iter()
        .map(|r| r.mean_token_loss)
        .sum::<f64>()
        / 5.0;
    // From ln(32) ≈ 3.47 (uniform) to about half; learning the unigram distribution alone
    // would stop at ln(28) ≈ 3.33.
    assert!(
        last < 0.6 * first,
        "loss fell only from {first:.3} to {last:.3}"
    );
    // The curve carries the schedule and the epoch of every step.
    assert_eq!(report.curve[0].lr, 0.0); // warmup: int(40 · 0.03) = 1 step
    assert_eq!(report.curve[1].lr, 1e-2);
    assert_eq!(report.curve[39].epoch, 10);
    assert!(report
        .curve
        .iter()
        .all(|r| r.grad_norm > 0.0 && r.loss_tokens > 0));
}

#[test]
fn mean_reduction_makes_accumulation_invisible() {
    // Effective batch 8 as 2 micro-batches of 4 (padded differently) vs one of 8.
    let examples = reversal_examples(16, 2);
    for reduction in [LossReduction::Mean, LossReduction::Sum] {
        let whole = tiny_model(7);
        let split = clone_model(&whole);
        let mut one = sft_config(1e-3, 8, 8, 1);
        one.loss_reduction = reduction;
        let two = SftConfig {
            micro_batch_size: 4,
            ..one.clone()
        };
        let a = sft(&whole, &examples, &one, &mut ()).unwrap();
        let b = sft(&split, &examples, &two, &mut ()).unwrap();
        for (x, y) in a.curve.iter().zip(&b.curve) {
            assert!(
                (x.loss - y.loss).abs() <= 1e-5 * x.loss.abs(),
                "{x:?} vs {y:?}"
            );
            assert!((x.grad_norm - y.grad_norm).abs() <= 1e-4 * x.grad_norm);
            assert_eq!((x.tokens, x.loss_tokens), (y.tokens, y.loss_tokens));
        }
        let diff = max_weight_diff(&whole, &split);
        assert!(diff < 1e-6, "{reduction:?}: weights differ by {diff}");
    }
}

#[test]
fn sum_reduction_is_the_token_total_and_mean_divides_by_the_batch_count() {
    let examples = reversal_examples(8, 3);
    let counted: usize = examples.iter().map(|e| e.counted()).sum();
    let mut config = sft_config(1e-3, 8, 3, 1);
    config.loss_reduction = LossReduction::Sum;
    let summed = sft(&tiny_model(9), &examples, &config, &mut ()).unwrap();
    config.loss_reduction = LossReduction::Mean;
    let averaged = sft(&tiny_model(9), &examples, &config, &mut ()).unwrap();
    let (s, m) = (&summed.curve[0], &averaged.curve[0]);
    assert_eq!(s.loss_tokens, counted);
    assert!((s.loss - m.loss * counted as f64).abs() < 1e-4 * s.loss);
    assert!((s.mean_token_loss - m.mean_token_loss).abs() < 1e-6);
    // The whole gradient scales with the token count.
    assert!((s.grad_norm - m.grad_norm * counted as f64).abs() < 1e-4 * s.grad_norm);
}

#[test]
fn one_seed_gives_bit_identical_weights_another_seed_does_not() {
    let examples = reversal_examples(12, 4);
    let config = sft_config(5e-3, 4, 2, 2);
    let run = |seed: u64| {
        let model = tiny_model(0);
        let report = sft(
            &model,
            &examples,
            &SftConfig {
                seed,
                ..config.clone()
            },
            &mut (),
        )
        .unwrap();
        (weights(&model), report.curve)
    };
    let (w1, c1) = run(5);
    let (w2, c2) = run(5);
    assert_eq!(w1, w2);
    assert_eq!(c1, c2);
    let (w3, _) = run(6);
    assert_ne!(w1, w3);
}

#[test]
fn progress_reports_every_step_and_cancellation_stops_between_micro_batches() {
    let examples = reversal_examples(8, 5);
    let config = sft_config(1e-3, 2, 1, 1);
    let model = tiny_model(1);
    let seen = Cell::new(0usize);
    let mut totals = Vec::new();
    let mut hooks = TrainHooks::new(
        |p: &StepProgress<'_>| {
            seen.set(p.record.step);
            totals.push((p.total_steps, p.tokens_per_second > 0.0));
        },
        || seen.get() >= 2,
    );
    let err = sft(&model, &examples, &config, &mut hooks).unwrap_err();
    assert!(
        matches!(
            err,
            TrainError::Cancelled {
                completed_steps: 2,
                total_steps: 4
            }
        ),
        "{err}"
    );
    assert_eq!(totals, vec![(4, true), (4, true)]);
}

#[test]
fn truncation_and_examples_without_loss_tokens_are_reported() {
    let mut examples = reversal_examples(4, 6);
    // A long prompt whose answer lies beyond max_seq_len: dropped after truncation.
    let mut long = vec![1u32; 70];
    long.extend([5, 6, EOS]);
    let n = long.len();
    let target: Vec<bool> = (0..n).map(|t| t >= 70).collect();
    examples.push(TrainExample::from_target_mask(long, &target).unwrap());
    let report = sft(
        &tiny_model(2),
        &examples,
        &sft_config(1e-3, 4, 4, 1),
        &mut (),
    )
    .unwrap();
    assert_eq!(report.examples_truncated, 1);
    assert_eq!(report.examples_without_loss_tokens, 1);
    assert_eq!(report.examples_used, 4);
    assert_eq!(report.total_steps, 1);
}

#[test]
fn bad_data_and_settings_are_errors_not_panics() {
    let model = tiny_model(3);
    let good = reversal_examples(2, 7);
    let config = sft_config(1e-3, 2, 2, 1);
    let e = sft(&model, &[], &config, &mut ()).unwrap_err();
    assert!(matches!(e, TrainError::NoData(_)), "{e}");
    let mut bad = good.clone();
    bad[1].input_ids[0] = 999;
    let e = sft(&model, &bad, &config, &mut ()).unwrap_err();
    assert!(
        matches!(e, TrainError::InvalidExample { index: 1, .. }),
        "{e}"
    );
    let unmasked: Vec<TrainExample> = good
        .iter()
        .map(|e| TrainExample::new(e.input_ids.clone(), vec![false; e.input_ids.len()]))
        .collect();
    assert!(matches!(
        sft(&model, &unmasked, &config, &mut ()).unwrap_err(),
        TrainError::NoData(_)
    ));
    for broken in [
        SftConfig {
            batch_size: 0,
            ..config.clone()
        },
        SftConfig {
            epochs: 0,
            ..config.clone()
        },
        SftConfig {
            max_seq_len: 1,
            ..config.clone()
        },
    ] {
        assert!(matches!(
            sft(&model, &good, &broken, &mut ()).unwrap_err(),
            TrainError::InvalidConfig(_)
        ));
    }
    let mut infinite_lr = config.clone();
    infinite_lr.optimizer.schedule.peak_lr = f64::INFINITY;
    assert!(matches!(
        sft(&model, &good, &infinite_lr, &mut ()).unwrap_err(),
        TrainError::InvalidConfig(_)
    ));
}

fn pretrain_config(steps: usize) -> PretrainConfig {
    PretrainConfig {
        seq_len: 16,
        batch_size: 4,
        micro_batch_size: 2,
        steps,
        optimizer: OptimizerSettings {
            adamw: AdamWConfig {
                weight_decay: 0.01,
                ..AdamWConfig::default()
            },
            schedule: LrSchedule {
                kind: ScheduleKind::Cosine,
                peak_lr: 1e-2,
                warmup: Warmup::Steps(2),
                min_lr_ratio: 0.1,
            },
            max_grad_norm: Some(1.0),
        },
        seed: 3,
    }
}

#[test]
fn pretraining_learns_a_periodic_stream() {
    // Documents that count up by a fixed stride: the next token is predictable from the last.
    let documents: Vec<Vec<u32>> = (0..12)
        .map(|d| (0..20).map(|i| 4 + ((d * 3 + i * 5) % 28) as u32).collect())
        .collect();
    let stream = pack_documents(&documents, Some(EOS));
    assert_eq!(stream.len(), 12 * 21);
    assert_eq!(stream[20], EOS);
    let model = tiny_model(4);
    let report = pretrain(&model, &stream, &pretrain_config(30), &mut ()).unwrap();
    assert_eq!(report.windows, (stream.len() - 1) / 16);
    assert_eq!(report.curve.len(), 30);
    assert!((report.epochs - 30.0 * 4.0 / report.windows as f64).abs() < 1e-12);
    assert_eq!(
        report.curve[29].epoch,
        (30 * 4usize).div_ceil(report.windows)
    );
    let first = report.curve[0].mean_token_loss;
    let last = report.curve[29].mean_token_loss;
    assert!(
        last < 0.5 * first,
        "loss fell only from {first:.3} to {last:.3}"
    );
    assert!(report.curve.iter().all(|r| r.loss_tokens == 4 * 16));

    // Same seed, same weights.
    let again = tiny_model(4);
    pretrain(&again, &stream, &pretrain_config(30), &mut ()).unwrap();
    assert_eq!(max_weight_diff(&model, &again), 0.0);
}

#[test]
fn pretraining_rejects_short_streams_and_foreign_tokens() {
    let model = tiny_model(5);
    let short: Vec<u32> = (0..16).collect();
    assert!(matches!(
        pretrain(&model, &short, &pretrain_config(1), &mut ()).unwrap_err(),
        TrainError::NoData(_)
    ));
    let foreign: Vec<u32> = (0..40).map(|i| if i == 33 { 40 } else { 4 }).collect();
    let e = pretrain(&model, &foreign, &pretrain_config(1), &mut ()).unwrap_err();
    assert!(
        matches!(
            e,
            TrainError::InvalidToken {
                position: 33,
                id: 40,
                vocab_size: 32
            }
        ),
        "{e}"
    );
    let zero_steps = PretrainConfig {
        steps: 0,
        ..pretrain_config(1)
    };
    assert!(pretrain(&model, &foreign, &zero_steps, &mut ()).is_err());
}

#[test]
fn a_non_finite_loss_stops_the_run_with_its_step() {
    let model = tiny_model(6);
    let mut weights = model.to_tensors().unwrap();
    let norm = weights.get_mut("model.norm.weight").unwrap();
    *norm = candle_core::Tensor::full(f32::NAN, norm.dims(), &candle_core::Device::Cpu).unwrap();
    let broken = crate::model::llama::Llama::from_tensors(
        model.config().clone(),
        weights,
        &candle_core::Device::Cpu,
    )
    .unwrap();
    let e = sft(
        &broken,
        &reversal_examples(4, 8),
        &sft_config(1e-3, 2, 1, 1),
        &mut (),
    )
    .unwrap_err();
    assert!(
        matches!(
            e,
            TrainError::NonFinite {
                step: 1,
                quantity: "loss",
                ..
            }
        ),
        "{e}"
    );
    assert!(e.to_string().contains("lower the learning rate"), "{e}");
}
