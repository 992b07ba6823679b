//! The masked next-token loss: values, masking, reductions.

use super::example::TrainExample;
use super::test_support::{reversal_examples, tiny_model};
use super::token_batch::TokenBatch;
use super::token_loss::{masked_nll_sum, sequence_log_probs, LossReduction};
use crate::model::llama::Llama;
use candle_core::{Device, Tensor, D};

/// Loss value and every parameter's gradient for `batch`, summed reduction.
fn loss_and_grads(model: &Llama, batch: &TokenBatch) -> (f32, Vec<Vec<f32>>) {
    let logits = model.forward(&batch.input_ids).unwrap();
    let nll = masked_nll_sum(
        model.kernels(),
        &logits,
        &batch.targets,
        batch.loss_mask.as_deref(),
    )
    .unwrap();
    let grads = nll.sum.backward().unwrap();
    let grads = model
        .named_parameters()
        .iter()
        .map(|(name, var)| {
            grads
                .get(var.as_tensor())
                .unwrap_or_else(|| panic!("no gradient for {name}"))
                .flatten_all()
                .unwrap()
                .to_vec1::<f32>()
                .unwrap()
        })
        .collect();
    (nll.sum.to_scalar::<f32>().unwrap(), grads)
}

#[test]
fn masked_targets_change_neither_loss_nor_gradients() {
    let model = tiny_model(3);
    let examples = reversal_examples(3, 11);
    let rows: Vec<&TrainExample> = examples.iter().collect();
    let batch = TokenBatch::from_examples(&rows, &Device::Cpu).unwrap();
    let (loss, grads) = loss_and_grads(&model, &batch);

    // Every masked target (prompt positions and padding) replaced by another token.
    let mask = batch.loss_mask.clone().unwrap();
    let targets: Vec<u32> = batch
        .targets
        .flatten_all()
        .unwrap()
        .to_vec1::<u32>()
        .unwrap()
        .into_iter()
        .zip(&mask)
        .map(|(t, &counted)| if counted { t } else { (t + 7) % 32 })
        .collect();
    let altered = TokenBatch {
        targets: Tensor::from_vec(targets, batch.targets.dims(), &Device::Cpu).unwrap(),
        ..batch.clone()
    };
    assert_ne!(
        altered.targets.to_vec2::<u32>().unwrap(),
        batch.targets.to_vec2::<u32>().unwrap()
    );
    let (loss2, grads2) = loss_and_grads(&model, &altered);
    assert_eq!(loss, loss2);
    assert_eq!(grads, grads2);

    // Padding inputs of a right-padded row are invisible to the real tokens too.
    let shortest = (0..rows.len())
        .min_by_key(|&i| rows[i].input_ids.len())
        .unwrap();
    let len = batch.input_ids.dim(1).unwrap();
    let real = rows[shortest].input_ids.len() - 1;
    assert!(real < len, "the toy batch must have a padded row");
    let mut inputs = batch.input_ids.to_vec2::<u32>().unwrap();
    for id in &mut inputs[shortest][real..] {
        *id = 9;
    }
    let repadded = TokenBatch {
        input_ids: Tensor::new(inputs, &Device::Cpu).unwrap(),
        ..batch.clone()
    };
    let (loss3, grads3) = loss_and_grads(&model, &repadded);
    assert_eq!(loss, loss3);
    assert_eq!(grads, grads3);
}

#[test]
fn summed_loss_is_the_sum_of_counted_token_losses() {
    let model = tiny_model(4);
    let examples = reversal_examples(2, 5);
    let rows: Vec<&TrainExample> = examples.iter().collect();
    let batch = TokenBatch::from_examples(&rows, &Device::Cpu).unwrap();
    let logits = model.forward(&batch.input_ids).unwrap();
    let nll = masked_nll_sum(
        model.kernels(),
        &logits,
        &batch.targets,
        batch.loss_mask.as_deref(),
    )
    .unwrap();
    assert_eq!(
        nll.counted,
        examples.iter().map(|e| e.counted()).sum::<usize>()
    );

    // Independently: log-softmax in f64 over every position, keep the counted ones.
    let log_probs = candle_nn::ops::log_softmax(
        &logits.to_dtype(candle_core::DType::F64).unwrap(),
        D::Minus1,
    )
    .unwrap()
    .to_vec3::<f64>()
    .unwrap();
    let targets = batch.targets.to_vec2::<u32>().unwrap();
    let mask = batch.loss_mask.as_ref().unwrap();
    let len = targets[0].len();
    let mut expected = 0.0;
    for (b, row) in targets.iter().enumerate() {
        for (t, &target) in row.iter().enumerate() {
            if mask[b * len + t] {
                expected -= log_probs[b][t][target as usize];
            }
        }
    }
    let got = nll.sum.to_scalar::<f32>().unwrap() as f64;
    assert!(
        (got - expected).abs() < 1e-4 * expected,
        "{got} vs {expected}"
    );

    // Reductions: `sum` keeps the total, `mean` divides by the effective batch's count.
    assert_eq!(LossReduction::Sum.scale(nll.counted), 1.0);
    assert_eq!(LossReduction::Mean.scale(40), 1.0 / 40.0);
    assert_eq!("sum".parse::<LossReduction>(), Ok(LossReduction::Sum));
    assert!("avg".parse::<LossReduction>().is_err());

    // Per-sequence sums add up to the same total.
    let seq = sequence_log_probs(model.kernels(), &logits, &batch.targets, mask).unwrap();
    let per_row = seq.sums.to_vec1::<f32>().unwrap();
    assert_eq!(
        seq.token_counts,
        examples.iter().map(|e| e.counted()).collect::<Vec<_>>()
    );
    let total: f64 = per_row.iter().map(|&x| -(x as f64)).sum();
    assert!((total - expected).abs() < 1e-4 * expected);
}

#[test]
fn an_all_counted_batch_takes_the_unmasked_path_and_bad_shapes_are_errors() {
    let model = tiny_model(5);
    let stream: Vec<u32> = (0..17).map(|i| (i * 5 % 32) as u32).collect();
    let batch = TokenBatch::from_windows(&[&stream[..9], &stream[8..17]], &Device::Cpu).unwrap();
    let logits = model.forward(&batch.input_ids).unwrap();
    let all = masked_nll_sum(model.kernels(), &logits, &batch.targets, None).unwrap();
    let every = vec![true; 16];
    let masked = masked_nll_sum(model.kernels(), &logits, &batch.targets, Some(&every)).unwrap();
    assert_eq!(all.counted, 16);
    assert_eq!(
        all.sum.to_scalar::<f32>().unwrap(),
        masked.sum.to_scalar::<f32>().unwrap()
    );
    let none = vec![false; 16];
    let empty = masked_nll_sum(model.kernels(), &logits, &batch.targets, Some(&none)).unwrap();
    assert_eq!(
        (empty.counted, empty.sum.to_scalar::<f32>().unwrap()),
        (0, 0.0)
    );
    assert!(masked_nll_sum(model.kernels(), &logits, &batch.targets, Some(&none[..3])).is_err());
    assert!(masked_nll_sum(
        model.kernels(),
        &logits,
        &batch.input_ids.narrow(1, 0, 4).unwrap(),
        None
    )
    .is_err());
}
