//! Micro-batches as the model consumes them: inputs and next-token targets, right-padded to the
//! longest row, with the mask of counted predictions.

use super::error::{TrainError, TrainResult};
use super::example::TrainExample;
use candle_core::{Device, Tensor};

/// Filler for padding positions. Which id is irrelevant: a right-padded position comes after
/// every real token of its row, so no real token attends to it (causal attention), and its
/// prediction is masked out of the loss.
const PAD_ID: u32 = 0;

/// One micro-batch: `rows` sequences of `len` positions.
#[derive(Debug, Clone)]
pub struct TokenBatch {
    /// `[rows, len]` u32.
    pub input_ids: Tensor,
    /// `[rows, len]` u32: the token each position predicts.
    pub targets: Tensor,
    /// Row-major `[rows, len]`: whether each prediction counts; `None` when all do.
    pub loss_mask: Option<Vec<bool>>,
    /// Real (non-padding) input positions.
    pub tokens: usize,
    /// Counted predictions.
    pub counted: usize,
}

impl TokenBatch {
    /// Collates examples: each row is an example without its last token as input and without
    /// its first as target, right-padded to the longest row.
    pub fn from_examples(examples: &[&TrainExample], device: &Device) -> TrainResult<Self> {
        if examples.is_empty() {
            return Err(TrainError::NoData(
                "a micro-batch needs at least one example".into(),
            ));
        }
        if let Some(i) = examples
            .iter()
            .position(|ex| ex.input_ids.len() < 2 || ex.loss_mask.len() != ex.input_ids.len())
        {
            return Err(TrainError::InvalidExample {
                index: i,
                reason: "an example needs at least two tokens and one mask entry per token".into(),
            });
        }
        let len = examples
            .iter()
            .map(|ex| ex.input_ids.len() - 1)
            .max()
            .unwrap_or(0);
        let rows = examples.len();
        let mut inputs = vec![PAD_ID; rows * len];
        let mut targets = vec![PAD_ID; rows * len];
        let mut mask = vec![false; rows * len];
        let mut tokens = 0;
        for (row, ex) in examples.iter().enumerate() {
            let n = ex.input_ids.len() - 1;
            let at = row * len;
            inputs[at..at + n].copy_from_slice(&ex.input_ids[..n]);
            targets[at..at + n].copy_from_slice(&ex.input_ids[1..]);
            mask[at..at + n].copy_from_slice(&ex.loss_mask[..n]);
            tokens += n;
        }
        let counted = mask.iter().filter(|&&c| c).count();
        Ok(Self {
            input_ids: Tensor::from_vec(inputs, (rows, len), device)?,
            targets: Tensor::from_vec(targets, (rows, len), device)?,
            loss_mask: if counted == rows * len {
                None
            } else {
                Some(mask)
            },
            tokens,
            counted,
        })
    }

    /// Packed language-modelling windows of equal length `seq_len + 1`: inputs are the first
    /// `seq_len` tokens of each, targets the last `seq_len`; every prediction counts.
    pub fn from_windows(windows: &[&[u32]], device: &Device) -> TrainResult<Self> {
        let Some(first) = windows.first() else {
            return Err(TrainError::NoData(
                "a micro-batch needs at least one window".into(),
            ));
        };
        let width = first.len();
        if width < 2 || windows.iter().any(|w| w.len() != width) {
            return Err(TrainError::InvalidLossInput(
                "packed windows must all have the same length of at least two tokens".into(),
            ));
        }
        let len = width - 1;
        let rows = windows.len();
        let inputs: Vec<u32> = windows
            .iter()
            .flat_map(|w| w[..len].iter().copied())
            .collect();
        let targets: Vec<u32> = windows
            .iter()
            .flat_map(|w| w[1..].iter().copied())
            .collect();
        Ok(Self {
            input_ids: Tensor::from_vec(inputs, (rows, len), device)?,
            targets: Tensor::from_vec(targets, (rows, len), device)?,
            loss_mask: None,
            tokens: rows * len,
            counted: rows * len,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn examples_are_shifted_and_right_padded() {
        let a = TrainExample::new(vec![5, 6, 7, 8], vec![false, true, true, false]);
        let b = TrainExample::new(vec![9, 3], vec![true, false]);
        let batch = TokenBatch::from_examples(&[&a, &b], &Device::Cpu).unwrap();
        assert_eq!(
            batch.input_ids.to_vec2::<u32>().unwrap(),
            vec![vec![5, 6, 7], vec![9, 0, 0]]
        );
        assert_eq!(
            batch.targets.to_vec2::<u32>().unwrap(),
            vec![vec![6, 7, 8], vec![3, 0, 0]]
        );
        assert_eq!(
            batch.loss_mask.as_deref(),
            Some(&[false, true, true, true, false, false][..])
        );
        assert_eq!((batch.tokens, batch.counted), (4, 3));
    }

    #[test]
    fn windows_count_every_prediction() {
        let stream = [1u32, 2, 3, 4, 5, 6, 7];
        let batch =
            TokenBatch::from_windows(&[&stream[0..4], &stream[3..7]], &Device::Cpu).unwrap();
        assert_eq!(
            batch.input_ids.to_vec2::<u32>().unwrap(),
            vec![vec![1, 2, 3], vec![4, 5, 6]]
        );
        assert_eq!(
            batch.targets.to_vec2::<u32>().unwrap(),
            vec![vec![2, 3, 4], vec![5, 6, 7]]
        );
        assert!(batch.loss_mask.is_none());
        assert_eq!((batch.tokens, batch.counted), (6, 6));
        assert!(TokenBatch::from_windows(&[&stream[0..4], &stream[0..3]], &Device::Cpu).is_err());
        assert!(TokenBatch::from_windows(&[], &Device::Cpu).is_err());
    }
}
