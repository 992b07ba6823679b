//! AdamW (Loshchilov & Hutter): Adam with decoupled weight decay, exactly as PyTorch's
//! `torch.optim.AdamW` computes it, per parameter and update `t`:
//!
//! ```text
//! g ← scale · grad                       (scale: the gradient-clipping coefficient)
//! θ ← θ · (1 − lr · λ)                   (decoupled weight decay, λ = weight_decay)
//! m ← β₁ m + (1 − β₁) g
//! v ← β₂ v + (1 − β₂) g²
//! θ ← θ − lr / (1 − β₁ᵗ) · m / (√v / √(1 − β₂ᵗ) + ε)
//! ```
//!
//! **Which parameters decay.** By default ([`DecayScope::Matrices`]) only parameters with two or
//! more dimensions decay — embeddings, projections, the LM head — and one-dimensional ones
//! (RMSNorm weights; biases, in models that have them) do not. That is the Hugging Face
//! `Trainer` rule (it exempts biases and the weights of norm layers, `LlamaRMSNorm` included).
//! open-instruct's `finetune.py` means the same but matches names against `"bias"` and
//! `"layer_norm.weight"`, which misses Llama's `*layernorm.weight`, so its Llama norms do decay;
//! with Tülu 3's `weight_decay = 0` the difference never shows. [`DecayScope::All`] decays every
//! parameter.
//!
//! On CPU `f32` tensors the update is one fused in-place pass ([`super::adamw_kernel`]); on
//! other devices (or with [`Kernels::Composed`]) it is built from candle ops, which are the
//! oracle in the tests.

use super::adamw_kernel::{AdamWKernel, UpdateCoefficients};
use super::error::{ensure_config, TrainError, TrainResult};
use super::host_tensor::is_host_f32;
use crate::model::fused::Kernels;
use candle_core::{Tensor, Var};
use serde::{Deserialize, Serialize};
use std::sync::Mutex;

/// Which parameters weight decay applies to. See the module docs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DecayScope {
    /// Parameters of rank ≥ 2 only (no decay on norm weights and biases): HF's rule.
    #[default]
    Matrices,
    /// Every parameter.
    All,
}

impl DecayScope {
    /// Whether a parameter of this shape decays.
    pub fn decays(self, shape: &[usize]) -> bool {
        match self {
            DecayScope::Matrices => shape.len() >= 2,
            DecayScope::All => true,
        }
    }
}

/// AdamW's hyperparameters (the learning rate comes from the schedule, per update).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct AdamWConfig {
    pub beta1: f64,
    pub beta2: f64,
    pub eps: f64,
    /// Decoupled weight decay λ. 0 by default, as in open-instruct and the HF `Trainer`
    /// (PyTorch's own default is 0.01).
    pub weight_decay: f64,
    #[serde(default)]
    pub decay_scope: DecayScope,
}

impl Default for AdamWConfig {
    /// PyTorch's betas and epsilon, no weight decay.
    fn default() -> Self {
        Self {
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            weight_decay: 0.0,
            decay_scope: DecayScope::Matrices,
        }
    }
}

impl AdamWConfig {
    pub fn validate(&self) -> TrainResult<()> {
        for (name, beta) in [("beta1", self.beta1), ("beta2", self.beta2)] {
            ensure_config((0.0..1.0).contains(&beta), || {
                format!("AdamW {name} must lie in [0, 1), got {beta}")
            })?;
        }
        ensure_config(self.eps.is_finite() && self.eps > 0.0, || {
            format!("AdamW eps must be a positive number, got {}", self.eps)
        })?;
        ensure_config(
            self.weight_decay.is_finite() && self.weight_decay >= 0.0,
            || {
                format!(
                    "weight_decay must be a finite number ≥ 0, got {}",
                    self.weight_decay
                )
            },
        )
    }
}

/// First and second moments of one parameter, where its update runs.
enum Moments {
    Host { m: Vec<f32>, v: Vec<f32> },
    Device { m: Tensor, v: Tensor },
}

struct ParamState {
    name: String,
    var: Var,
    decays: bool,
    /// Updates applied so far (PyTorch's per-parameter `step`): bias correction uses it.
    steps: u64,
    moments: Option<Moments>,
}

/// The AdamW optimizer over a fixed list of parameters. See the module docs.
pub struct AdamW {
    config: AdamWConfig,
    kernels: Kernels,
    params: Vec<ParamState>,
}

impl std::fmt::Debug for AdamW {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AdamW")
            .field("config", &self.config)
            .field("kernels", &self.kernels)
            .field("params", &self.params.len())
            .finish_non_exhaustive()
    }
}

impl AdamW {
    /// An optimizer for `params` (e.g. [`crate::model::llama::Llama::named_parameters`]); the
    /// gradients passed to [`Self::step`] follow the same order.
    pub fn new(params: Vec<(String, Var)>, config: AdamWConfig) -> TrainResult<Self> {
        config.validate()?;
        let params = params
            .into_iter()
            .map(|(name, var)| {
                if !var.dtype().is_float() {
                    return Err(TrainError::InvalidConfig(format!(
                        "parameter `{name}` has dtype {:?}; AdamW trains float parameters",
                        var.dtype()
                    )));
                }
                Ok(ParamState {
                    decays: config.decay_scope.decays(var.dims()),
                    name,
                    var,
                    steps: 0,
                    moments: None,
                })
            })
            .collect::<TrainResult<_>>()?;
        Ok(Self {
            config,
            kernels: Kernels::Auto,
            params,
        })
    }

    /// The same optimizer with another implementation of the update (the composed candle ops
    /// cross-check the fused kernel).
    pub fn with_kernels(mut self, kernels: Kernels) -> Self {
        self.kernels = kernels;
        self
    }

    pub fn config(&self) -> &AdamWConfig {
        &self.config
    }

    /// Each parameter's name and whether weight decay applies to it.
    pub fn decay_flags(&self) -> Vec<(&str, bool)> {
        self.params
            .iter()
            .map(|p| (p.name.as_str(), p.decays))
            .collect()
    }

    /// One update with learning rate `lr`, every gradient first multiplied by `grad_scale`
    /// (the clipping coefficient; 1 for none). `grads[i]` belongs to the `i`-th parameter; a
    /// parameter whose gradient is `None` is left alone, moments and step count included, as
    /// PyTorch does for a parameter without `.grad`.
    pub fn step(&mut self, grads: &[Option<Tensor>], lr: f64, grad_scale: f64) -> TrainResult<()> {
        if grads.len() != self.params.len() {
            return Err(TrainError::InvalidLossInput(format!(
                "{} gradients for {} parameters",
                grads.len(),
                self.params.len()
            )));
        }
        ensure_config(lr.is_finite() && lr >= 0.0, || {
            format!("the learning rate must be a finite number ≥ 0, got {lr}")
        })?;
        ensure_config(grad_scale.is_finite() && grad_scale >= 0.0, || {
            format!("the gradient scale must be a finite number ≥ 0, got {grad_scale}")
        })?;
        let config = self.config;
        for (state, grad) in self.params.iter_mut().zip(grads) {
            let Some(grad) = grad else { continue };
            if grad.dims() != state.var.dims() {
                return Err(TrainError::InvalidLossInput(format!(
                    "gradient of `{}` has shape {:?}, the parameter {:?}",
                    state.name,
                    grad.dims(),
                    state.var.dims()
                )));
            }
            state.steps += 1;
            let t = state.steps as i32;
            let weight_decay = if state.decays {
                config.weight_decay
            } else {
                0.0
            };
            let coefficients = UpdateCoefficients {
                grad_scale: grad_scale as f32,
                decay_factor: (1.0 - lr * weight_decay) as f32,
                beta1: config.beta1 as f32,
                beta2: config.beta2 as f32,
                one_minus_beta1: (1.0 - config.beta1) as f32,
                one_minus_beta2: (1.0 - config.beta2) as f32,
                step_size: (lr / (1.0 - config.beta1.powi(t))) as f32,
                sqrt_bias_correction2: (1.0 - config.beta2.powi(t)).sqrt() as f32,
                eps: config.eps as f32,
            };
            let fused = self.kernels == Kernels::Auto
                && is_host_f32(state.var.as_tensor())
                && is_host_f32(grad);
            if fused {
                state.update_fused(grad, coefficients)?;
            } else {
                state.update_composed(grad, coefficients)?;
            }
        }
        Ok(())
    }
}

impl ParamState {
    fn host_moments(&mut self) -> TrainResult<(&mut Vec<f32>, &mut Vec<f32>)> {
        let n = self.var.elem_count();
        let moments = match self.moments.take() {
            None => Moments::Host {
                m: vec![0.0; n],
                v: vec![0.0; n],
            },
            Some(Moments::Device { m, v }) => Moments::Host {
                m: m.flatten_all()?.to_vec1::<f32>()?,
                v: v.flatten_all()?.to_vec1::<f32>()?,
            },
            Some(host) => host,
        };
        match self.moments.insert(moments) {
            Moments::Host { m, v } => Ok((m, v)),
            Moments::Device { .. } => unreachable!("host moments were just stored"),
        }
    }

    fn device_moments(&mut self) -> TrainResult<(Tensor, Tensor)> {
        let var = self.var.as_tensor();
        Ok(match self.moments.take() {
            None => (var.zeros_like()?, var.zeros_like()?),
            Some(Moments::Host { m, v }) => (
                Tensor::from_vec(m, var.shape(), var.device())?,
                Tensor::from_vec(v, var.shape(), var.device())?,
            ),
            Some(Moments::Device { m, v }) => (m, v),
        })
    }

    fn update_fused(&mut self, grad: &Tensor, coefficients: UpdateCoefficients) -> TrainResult<()> {
        let grad = grad.contiguous()?;
        let var = self.var.clone();
        let (m, v) = self.host_moments()?;
        let kernel = AdamWKernel {
            moments: Mutex::new((m.as_mut_slice(), v.as_mut_slice())),
            coefficients,
        };
        var.as_tensor().inplace_op2(&grad, &kernel)?;
        Ok(())
    }

    fn update_composed(&mut self, grad: &Tensor, c: UpdateCoefficients) -> TrainResult<()> {
        let (m, v) = self.device_moments()?;
        let dtype = self.var.dtype();
        let g = grad.to_dtype(dtype)?.affine(c.grad_scale as f64, 0.0)?;
        let m = (m.affine(c.beta1 as f64, 0.0)? + g.affine(c.one_minus_beta1 as f64, 0.0)?)?;
        let v =
            (v.affine(c.beta2 as f64, 0.0)? + g.sqr()?.affine(c.one_minus_beta2 as f64, 0.0)?)?;
        let denom = v
            .sqrt()?
            .affine(1.0 / c.sqrt_bias_correction2 as f64, c.eps as f64)?;
        let param = self
            .var
            .as_detached_tensor()
            .affine(c.decay_factor as f64, 0.0)?;
        let param = (param - (m.div(&denom)?.affine(c.step_size as f64, 0.0))?)?;
        self.var.set(&param)?;
        self.moments = Some(Moments::Device { m, v });
        Ok(())
    }
}
