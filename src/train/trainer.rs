//! The optimizer side of a training step, shared by every loop: gradients of any number of
//! micro-batch losses are accumulated, then one update clips them by global norm and applies
//! AdamW at the schedule's learning rate. What the losses are (next-token, DPO, policy
//! gradient) is the caller's business.

use super::adamw::{AdamW, AdamWConfig};
use super::error::{TrainError, TrainResult};
use super::grad_clip::{clip_coefficient, global_grad_norm, validate_max_grad_norm};
use super::schedule::{LrSchedule, ResolvedSchedule};
use crate::model::llama::Llama;
use candle_core::{Tensor, Var};
use serde::{Deserialize, Serialize};

/// Optimizer, schedule and clipping: the settings every training loop shares.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct OptimizerSettings {
    pub adamw: AdamWConfig,
    pub schedule: LrSchedule,
    /// Clip the global gradient norm to this value; `None` = no clipping (open-instruct's
    /// default, `clip_grad_norm = -1`).
    pub max_grad_norm: Option<f64>,
}

impl OptimizerSettings {
    pub fn validate(&self) -> TrainResult<()> {
        self.adamw.validate()?;
        self.schedule.validate()?;
        validate_max_grad_norm(self.max_grad_norm)
    }
}

/// What one optimizer update did.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct UpdateStats {
    /// The learning rate used.
    pub lr: f64,
    /// The global gradient norm before clipping.
    pub grad_norm: f64,
    /// The factor the gradients were scaled by (1 unless clipped).
    pub clip_coefficient: f64,
}

/// Trains the parameters of a model: accumulate with [`Trainer::backward`], update with
/// [`Trainer::apply_update`].
pub struct Trainer<'m> {
    model: &'m Llama,
    vars: Vec<Var>,
    optimizer: AdamW,
    schedule: ResolvedSchedule,
    max_grad_norm: Option<f64>,
    /// Summed gradients of the current step, one slot per parameter.
    grads: Vec<Option<Tensor>>,
    steps_done: usize,
}

impl<'m> Trainer<'m> {
    /// A trainer for all parameters of `model` over a run of `total_steps` updates.
    pub fn new(
        model: &'m Llama,
        settings: &OptimizerSettings,
        total_steps: usize,
    ) -> TrainResult<Self> {
        settings.validate()?;
        let schedule = settings.schedule.resolve(total_steps)?;
        let params = model.named_parameters();
        let vars: Vec<Var> = params.iter().map(|(_, v)| v.clone()).collect();
        let optimizer = AdamW::new(params, settings.adamw)?;
        Ok(Self {
            model,
            grads: vec![None; vars.len()],
            vars,
            optimizer,
            schedule,
            max_grad_norm: settings.max_grad_norm,
            steps_done: 0,
        })
    }

    pub fn model(&self) -> &'m Llama {
        self.model
    }

    /// Updates applied so far.
    pub fn steps_done(&self) -> usize {
        self.steps_done
    }

    pub fn total_steps(&self) -> usize {
        self.schedule.total_steps()
    }

    pub fn schedule(&self) -> &ResolvedSchedule {
        &self.schedule
    }

    /// Backpropagates `loss` (a scalar) and adds its parameter gradients to the step's sums.
    pub fn backward(&mut self, loss: &Tensor) -> TrainResult<()> {
        let store = loss.backward()?;
        for (slot, var) in self.grads.iter_mut().zip(&self.vars) {
            if let Some(grad) = store.get(var.as_tensor()) {
                *slot = Some(match slot.take() {
                    None => grad.clone(),
                    Some(sum) => (sum + grad)?,
                });
            }
        }
        Ok(())
    }

    /// Drops the gradients accumulated since the last update.
    pub fn discard_gradients(&mut self) {
        self.grads.iter_mut().for_each(|g| *g = None);
    }

    /// Clips the accumulated gradients, applies AdamW at the scheduled learning rate, and
    /// clears the gradients for the next step.
    pub fn apply_update(&mut self) -> TrainResult<UpdateStats> {
        let step = self.steps_done + 1;
        let grads: Vec<Option<Tensor>> =
            std::mem::replace(&mut self.grads, vec![None; self.vars.len()])
                .into_iter()
                .map(|g| g.map(|g| g.contiguous()).transpose())
                .collect::<candle_core::Result<_>>()?;
        if grads.iter().all(Option::is_none) {
            return Err(TrainError::InvalidLossInput(format!(
                "step {step}: no parameter received a gradient (no counted tokens, or a loss \
                 not computed from the model)"
            )));
        }
        let grad_norm = global_grad_norm(&grads)?;
        if !grad_norm.is_finite() {
            return Err(TrainError::NonFinite {
                step,
                quantity: "gradient norm",
                value: grad_norm,
            });
        }
        let clip = clip_coefficient(grad_norm, self.max_grad_norm);
        let lr = self.schedule.lr_at(self.steps_done);
        self.optimizer.step(&grads, lr, clip)?;
        self.steps_done = step;
        Ok(UpdateStats {
            lr,
            grad_norm,
            clip_coefficient: clip,
        })
    }
}
