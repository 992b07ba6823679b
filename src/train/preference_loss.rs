//! The DPO family of preference losses, on per-sequence log-probabilities of a chosen and a
//! rejected response (summed over the response tokens, [`SequenceLogProbs`]) and, where the loss
//! needs one, the same sums under the frozen reference model, precomputed once.
//!
//! With `πc, πr` the policy's and `ρc, ρr` the reference's log-probabilities of the chosen and
//! rejected responses, `|c|, |r|` their token counts, `σ` the logistic function:
//!
//! | loss | per pair | reward of a response |
//! |---|---|---|
//! | `dpo` (Rafailov et al.) | `−log σ(β((πc − ρc) − (πr − ρr)))` | `β(π − ρ)` |
//! | `dpo_norm` (Tülu 3) | the same on length-normalised log-probs `π/|y|`, `ρ/|y|` | `β(π − ρ)/|y|` |
//! | `simpo` (Meng et al.) | `−log σ(β(πc/|c| − πr/|r|) − γ)`, no reference | `β π/|y|` |
//!
//! The batch loss is the mean over pairs. `γ` is SimPO's target reward margin as in the paper;
//! open-instruct and the SimPO code take `gamma_beta_ratio = γ/β` instead. Tülu 3 8B used
//! `dpo_norm` with β = 5.

use super::error::{TrainError, TrainResult};
use super::token_loss::SequenceLogProbs;
use candle_core::{DType, Tensor};
use serde::{Deserialize, Serialize};

/// Which preference loss, with its hyperparameters. See the module docs.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum PreferenceLoss {
    Dpo { beta: f64 },
    DpoNorm { beta: f64 },
    Simpo { beta: f64, gamma: f64 },
}

impl PreferenceLoss {
    /// The loss a recipe names (`"dpo"`, `"dpo_norm"`, `"simpo"`) with its β, and SimPO's γ
    /// (required for `simpo`, rejected for the others).
    pub fn from_name(name: &str, beta: f64, gamma: Option<f64>) -> TrainResult<Self> {
        let loss = match (name, gamma) {
            ("dpo", None) => Self::Dpo { beta },
            ("dpo_norm", None) => Self::DpoNorm { beta },
            ("simpo", Some(gamma)) => Self::Simpo { beta, gamma },
            ("simpo", None) => {
                return Err(TrainError::InvalidConfig(
                    "simpo needs gamma, its target reward margin (e.g. 0.5)".into(),
                ))
            }
            ("dpo" | "dpo_norm", Some(_)) => {
                return Err(TrainError::InvalidConfig(format!(
                    "gamma is a simpo setting; {name} takes only beta"
                )))
            }
            (other, _) => {
                return Err(TrainError::InvalidConfig(format!(
                    "unknown preference loss `{other}`; expected `dpo`, `dpo_norm` or `simpo`"
                )))
            }
        };
        loss.validate()?;
        Ok(loss)
    }

    fn beta(self) -> f64 {
        match self {
            Self::Dpo { beta } | Self::DpoNorm { beta } | Self::Simpo { beta, .. } => beta,
        }
    }

    /// Whether log-probabilities are divided by the response length.
    pub fn length_normalized(self) -> bool {
        !matches!(self, Self::Dpo { .. })
    }

    /// Whether the loss compares against a reference model.
    pub fn needs_reference(self) -> bool {
        !matches!(self, Self::Simpo { .. })
    }

    pub fn validate(self) -> TrainResult<()> {
        let beta = self.beta();
        if !(beta.is_finite() && beta > 0.0) {
            return Err(TrainError::InvalidConfig(format!(
                "the preference loss's beta must be a positive number, got {beta}"
            )));
        }
        if let Self::Simpo { gamma, .. } = self {
            if !gamma.is_finite() {
                return Err(TrainError::InvalidConfig(format!(
                    "SimPO's gamma must be a finite number, got {gamma}"
                )));
            }
        }
        Ok(())
    }
}

/// The reference model's summed log-probabilities of each pair's responses (over the same
/// counted tokens as the policy's), computed once without gradients.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ReferenceLogProbs {
    pub chosen: Vec<f64>,
    pub rejected: Vec<f64>,
}

/// A batch's preference loss and the implicit rewards for logging.
#[derive(Debug, Clone)]
pub struct PreferenceLossOutput {
    /// Mean over pairs: a differentiable f64 scalar.
    pub loss: Tensor,
    /// Per-pair loss values.
    pub losses: Vec<f64>,
    pub chosen_rewards: Vec<f64>,
    pub rejected_rewards: Vec<f64>,
}

impl PreferenceLossOutput {
    /// Fraction of pairs whose chosen reward exceeds the rejected one.
    pub fn accuracy(&self) -> f64 {
        let wins = self
            .chosen_rewards
            .iter()
            .zip(&self.rejected_rewards)
            .filter(|(c, r)| c > r)
            .count();
        wins as f64 / self.chosen_rewards.len().max(1) as f64
    }

    /// Mean of `chosen reward − rejected reward`.
    pub fn mean_margin(&self) -> f64 {
        let total: f64 = self
            .chosen_rewards
            .iter()
            .zip(&self.rejected_rewards)
            .map(|(c, r)| c - r)
            .sum();
        total / self.chosen_rewards.len().max(1) as f64
    }
}

/// `softplus(x) = log(1 + eˣ)`, stable and with the exact derivative `σ(x)` everywhere. Built
/// from two branches joined by `where_cond`, each fed only the inputs of its own side (so
/// neither overflows): candle's `abs` and `relu` take derivative 1 at 0, which would make the
/// DPO gradient vanish at the very start, where policy and reference agree.
fn softplus(x: &Tensor) -> candle_core::Result<Tensor> {
    let zeros = x.zeros_like()?;
    let non_positive = x.le(0.0)?;
    let left = non_positive.where_cond(x, &zeros)?;
    let right = non_positive.where_cond(&zeros, x)?;
    let left = (left.exp()? + 1.0)?.log()?;
    let right = (&right + (right.neg()?.exp()? + 1.0)?.log()?)?;
    non_positive.where_cond(&left, &right)
}

/// `values / counts` elementwise, as f64.
fn per_token(values: &[f64], counts: &[usize]) -> Vec<f64> {
    values
        .iter()
        .zip(counts)
        .map(|(&v, &n)| v / n as f64)
        .collect()
}

/// The loss of a batch of pairs: `chosen` and `rejected` hold the policy's log-probabilities of
/// the pairs' responses, row `i` of each forming pair `i`; `reference` is required by `dpo` and
/// `dpo_norm` and ignored by `simpo`.
pub fn preference_loss(
    loss: PreferenceLoss,
    chosen: &SequenceLogProbs,
    rejected: &SequenceLogProbs,
    reference: Option<&ReferenceLogProbs>,
) -> TrainResult<PreferenceLossOutput> {
    loss.validate()?;
    let pairs = chosen.token_counts.len();
    let invalid = |msg: String| Err(TrainError::InvalidLossInput(msg));
    if pairs == 0 {
        return invalid("the preference batch is empty".into());
    }
    if chosen.sums.dims() != [pairs]
        || rejected.sums.dims() != [pairs]
        || rejected.token_counts.len() != pairs
    {
        return invalid(format!(
            "chosen ({:?}, {} counts) and rejected ({:?}, {} counts) log-probs must both be \
             [pairs] with one token count per pair",
            chosen.sums.dims(),
            chosen.token_counts.len(),
            rejected.sums.dims(),
            rejected.token_counts.len()
        ));
    }
    let normalized = loss.length_normalized();
    if normalized {
        let empty = chosen
            .token_counts
            .iter()
            .chain(&rejected.token_counts)
            .any(|&n| n == 0);
        if empty {
            return invalid(
                "a response has no counted tokens, so its length-normalised log-prob is \
                 undefined; drop pairs with empty responses"
                    .into(),
            );
        }
    }
    let device = chosen.sums.device();
    let beta = loss.beta();
    let score = |seq: &SequenceLogProbs| -> TrainResult<Tensor> {
        let sums = seq.sums.to_dtype(DType::F64)?;
        if !normalized {
            return Ok(sums);
        }
        let counts: Vec<f64> = seq.token_counts.iter().map(|&n| n as f64).collect();
        Ok(sums.div(&Tensor::from_vec(counts, pairs, device)?)?)
    };
    let policy_chosen = score(chosen)?;
    let policy_rejected = score(rejected)?;

    let (margin_logits, chosen_rewards, rejected_rewards) = match loss {
        PreferenceLoss::Simpo { gamma, .. } => {
            let logits = ((&policy_chosen - &policy_rejected)?.affine(beta, -gamma))?;
            let c = policy_chosen.affine(beta, 0.0)?.to_vec1::<f64>()?;
            let r = policy_rejected.affine(beta, 0.0)?.to_vec1::<f64>()?;
            (logits, c, r)
        }
        PreferenceLoss::Dpo { .. } | PreferenceLoss::DpoNorm { .. } => {
            let Some(reference) = reference else {
                return invalid(
                    "dpo and dpo_norm need the reference model's log-probs; compute them \
                     first (or use simpo, which has no reference)"
                        .into(),
                );
            };
            if reference.chosen.len() != pairs || reference.rejected.len() != pairs {
                return invalid(format!(
                    "{pairs} pairs but reference log-probs for {} chosen and {} rejected",
                    reference.chosen.len(),
                    reference.rejected.len()
                ));
            }
            if let Some(bad) = reference
                .chosen
                .iter()
                .chain(&reference.rejected)
                .find(|v| !v.is_finite())
            {
                return invalid(format!("a reference log-prob is {bad}"));
            }
            let (ref_chosen, ref_rejected) = if normalized {
                (
                    per_token(&reference.chosen, &chosen.token_counts),
                    per_token(&reference.rejected, &rejected.token_counts),
                )
            } else {
                (reference.chosen.clone(), reference.rejected.clone())
            };
            let chosen_ratio = (&policy_chosen - Tensor::from_vec(ref_chosen, pairs, device)?)?;
            let rejected_ratio =
                (&policy_rejected - Tensor::from_vec(ref_rejected, pairs, device)?)?;
            let logits = (&chosen_ratio - &rejected_ratio)?.affine(beta, 0.0)?;
            let c = chosen_ratio.affine(beta, 0.0)?.to_vec1::<f64>()?;
            let r = rejected_ratio.affine(beta, 0.0)?.to_vec1::<f64>()?;
            (logits, c, r)
        }
    };
    // −log σ(z) = softplus(−z).
    let losses = softplus(&margin_logits.neg()?)?;
    let loss_values = losses.to_vec1::<f64>()?;
    if let Some(bad) = loss_values.iter().find(|v| !v.is_finite()) {
        return invalid(format!(
            "the preference loss is {bad}: the policy log-probs contain NaN or infinity"
        ));
    }
    Ok(PreferenceLossOutput {
        loss: losses.mean_all()?,
        losses: loss_values,
        chosen_rewards,
        rejected_rewards,
    })
}
