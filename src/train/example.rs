//! One supervised training sequence as token ids, and which of its next-token predictions count.

use super::error::{TrainError, TrainResult};
use serde::{Deserialize, Serialize};
use std::borrow::Cow;

/// A training sequence: `loss_mask[t]` says whether the prediction made **at position `t`** —
/// of token `input_ids[t + 1]` from `input_ids[..=t]` — counts in the loss. So the mask has one
/// entry per token, and the last entry is always `false` (nothing follows the last token).
///
/// For SFT, the counted predictions are those whose target is an assistant token (its content
/// and end-of-turn token); [`TrainExample::from_target_mask`] builds this from the other common
/// convention, a mask over the target tokens themselves (HF's `labels != -100`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrainExample {
    pub input_ids: Vec<u32>,
    pub loss_mask: Vec<bool>,
}

impl TrainExample {
    pub fn new(input_ids: Vec<u32>, loss_mask: Vec<bool>) -> Self {
        Self {
            input_ids,
            loss_mask,
        }
    }

    /// An example where every next-token prediction counts (plain language modelling).
    pub fn all_tokens(input_ids: Vec<u32>) -> Self {
        let n = input_ids.len();
        let loss_mask = (0..n).map(|t| t + 1 < n).collect();
        Self {
            input_ids,
            loss_mask,
        }
    }

    /// From a mask over target tokens: `is_target[t]` says token `t` is trained on (predicted
    /// from the tokens before it), as in HF's `labels`. Shifted by one to the prediction
    /// convention of [`TrainExample`]; the first token has no prediction and is ignored, as in
    /// HF's shifted loss.
    pub fn from_target_mask(input_ids: Vec<u32>, is_target: &[bool]) -> TrainResult<Self> {
        if is_target.len() != input_ids.len() {
            return Err(TrainError::InvalidLossInput(format!(
                "the target mask has {} entries for {} tokens",
                is_target.len(),
                input_ids.len()
            )));
        }
        let n = input_ids.len();
        let loss_mask = (0..n).map(|t| t + 1 < n && is_target[t + 1]).collect();
        Ok(Self {
            input_ids,
            loss_mask,
        })
    }

    /// How many predictions count.
    pub fn counted(&self) -> usize {
        self.loss_mask.iter().filter(|&&c| c).count()
    }

    /// Checks the example against a vocabulary; `index` names it in the error.
    pub fn validate(&self, index: usize, vocab_size: usize) -> TrainResult<()> {
        let fail = |reason: String| Err(TrainError::InvalidExample { index, reason });
        if self.loss_mask.len() != self.input_ids.len() {
            return fail(format!(
                "loss_mask has {} entries but input_ids has {} tokens; one entry per token \
                 is expected",
                self.loss_mask.len(),
                self.input_ids.len()
            ));
        }
        if self.loss_mask.last() == Some(&true) {
            return fail(
                "the last loss_mask entry is true, but nothing follows the last token: \
                 loss_mask[t] marks the prediction of token t + 1 (use \
                 TrainExample::from_target_mask for a mask over target tokens)"
                    .into(),
            );
        }
        if let Some((pos, &id)) = self
            .input_ids
            .iter()
            .enumerate()
            .find(|(_, &id)| id as usize >= vocab_size)
        {
            return fail(format!(
                "token {id} at position {pos} is outside the model's vocabulary of {vocab_size}"
            ));
        }
        Ok(())
    }

    /// The example cut to at most `max_len` tokens (the head is kept, as open-instruct does);
    /// the new last position loses its prediction. Borrowed when already short enough.
    pub fn truncated(&self, max_len: usize) -> Cow<'_, TrainExample> {
        if self.input_ids.len() <= max_len {
            return Cow::Borrowed(self);
        }
        let input_ids = self.input_ids[..max_len].to_vec();
        let mut loss_mask = self.loss_mask[..max_len].to_vec();
        if let Some(last) = loss_mask.last_mut() {
            *last = false;
        }
        Cow::Owned(Self {
            input_ids,
            loss_mask,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn target_mask_shifts_to_prediction_positions() {
        // prompt 10 11, answer 12 13 (13 = end of turn)
        let ex = TrainExample::from_target_mask(vec![10, 11, 12, 13], &[false, false, true, true])
            .unwrap();
        assert_eq!(ex.loss_mask, vec![false, true, true, false]);
        assert_eq!(ex.counted(), 2);
        assert!(ex.validate(0, 14).is_ok());
        let all = TrainExample::all_tokens(vec![1, 2, 3]);
        assert_eq!(all.loss_mask, vec![true, true, false]);
    }

    #[test]
    fn truncation_keeps_the_head_and_drops_the_cut_prediction() {
        let ex = TrainExample::new(vec![1, 2, 3, 4, 5], vec![false, true, true, true, false]);
        assert!(matches!(ex.truncated(5), Cow::Borrowed(_)));
        let cut = ex.truncated(3);
        assert_eq!(cut.input_ids, vec![1, 2, 3]);
        assert_eq!(cut.loss_mask, vec![false, true, false]);
    }

    #[test]
    fn invalid_examples_are_described() {
        let err = |ex: TrainExample| ex.validate(7, 10).unwrap_err().to_string();
        let e = err(TrainExample::new(vec![1, 2], vec![true]));
        assert!(
            e.contains("example 7") && e.contains("one entry per token"),
            "{e}"
        );
        let e = err(TrainExample::new(vec![1, 2], vec![true, true]));
        assert!(e.contains("nothing follows the last token"), "{e}");
        let e = err(TrainExample::new(vec![1, 12], vec![true, false]));
        assert!(e.contains("token 12 at position 1"), "{e}");
        assert!(TrainExample::from_target_mask(vec![1, 2], &[true]).is_err());
    }
}
