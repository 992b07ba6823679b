//! The trainable Llama-family decoder: token embedding, `num_hidden_layers` blocks of
//! (RMSNorm → grouped-query attention with RoPE → residual, RMSNorm → SwiGLU MLP → residual),
//! a final RMSNorm and the LM head (optionally tied to the embedding).
//!
//! Every parameter is a candle [`Var`] under its Hugging Face name, so an optimizer can update
//! them in place and `to_tensors` saves a checkpoint that `transformers` loads. Two paths share
//! the weights:
//!
//! - [`Llama::forward`] / [`Llama::forward_masked`], the training path: differentiable in every
//!   parameter, built from the fused ops of [`super::fused`] (custom ops with backward passes).
//! - [`Llama::forward_with_cache`], the inference path: detached weights (no autograd graph), a
//!   [`KvCache`], logits for only the last position when that is all that is needed.
//!
//! Layouts: activations are kept as contiguous `[batch·len, hidden]` matrices throughout, so every
//! projection is one 2-D GEMM against the `[out, in]` weight read transposed in place, and the
//! attention op reads and writes the `[batch, len, heads·head_dim]` projections directly.

use super::config::LlamaConfig;
use super::fused::{AttentionHeads, Kernels};
use super::kv_cache::KvCache;
use super::llama_error::{LlamaError, LlamaResult};
use super::rope::RopeAngles;
use candle_core::{DType, Device, Tensor, Var};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};
use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

/// Standard deviation of the random initialisation (HF's `initializer_range` default).
pub const INIT_STD: f64 = 0.02;

/// Which positions [`Llama::forward_with_cache`] returns logits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogitPositions {
    /// `[batch, new_len, vocab]`: every new position (scoring a sequence).
    All,
    /// `[batch, vocab]`: only the last new position (next-token generation). With left padding
    /// the last position is a real token in every row.
    Last,
}

/// How a parameter starts under [`Llama::init_random`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Init {
    Normal,
    Ones,
}

/// Name, shape and initialisation of every parameter, in the fixed order of
/// [`Llama::named_parameters`] (that of a Hugging Face state dict).
fn parameter_specs(config: &LlamaConfig) -> Vec<(String, Vec<usize>, Init)> {
    let hidden = config.hidden_size;
    let kv_width = config.num_key_value_heads * config.head_dim();
    let q_width = config.num_attention_heads * config.head_dim();
    let ff = config.intermediate_size;
    let mut specs = vec![(
        "model.embed_tokens.weight".to_string(),
        vec![config.vocab_size, hidden],
        Init::Normal,
    )];
    for i in 0..config.num_hidden_layers {
        let p = format!("model.layers.{i}");
        specs.extend([
            (
                format!("{p}.input_layernorm.weight"),
                vec![hidden],
                Init::Ones,
            ),
            (
                format!("{p}.self_attn.q_proj.weight"),
                vec![q_width, hidden],
                Init::Normal,
            ),
            (
                format!("{p}.self_attn.k_proj.weight"),
                vec![kv_width, hidden],
                Init::Normal,
            ),
            (
                format!("{p}.self_attn.v_proj.weight"),
                vec![kv_width, hidden],
                Init::Normal,
            ),
            (
                format!("{p}.self_attn.o_proj.weight"),
                vec![hidden, q_width],
                Init::Normal,
            ),
            (
                format!("{p}.post_attention_layernorm.weight"),
                vec![hidden],
                Init::Ones,
            ),
            (
                format!("{p}.mlp.gate_proj.weight"),
                vec![ff, hidden],
                Init::Normal,
            ),
            (
                format!("{p}.mlp.up_proj.weight"),
                vec![ff, hidden],
                Init::Normal,
            ),
            (
                format!("{p}.mlp.down_proj.weight"),
                vec![hidden, ff],
                Init::Normal,
            ),
        ]);
    }
    specs.push(("model.norm.weight".to_string(), vec![hidden], Init::Ones));
    if !config.tie_word_embeddings {
        specs.push((
            LM_HEAD.to_string(),
            vec![config.vocab_size, hidden],
            Init::Normal,
        ));
    }
    specs
}

const LM_HEAD: &str = "lm_head.weight";

/// Checks that a config describes a model this implementation can build.
pub fn validate_config(config: &LlamaConfig) -> LlamaResult<()> {
    let fail = |msg: String| Err(LlamaError::InvalidConfig(msg));
    let positive = [
        ("vocab_size", config.vocab_size),
        ("hidden_size", config.hidden_size),
        ("intermediate_size", config.intermediate_size),
        ("num_attention_heads", config.num_attention_heads),
        ("num_key_value_heads", config.num_key_value_heads),
    ];
    for (name, value) in positive {
        if value == 0 {
            return fail(format!("{name} must be positive"));
        }
    }
    if !config
        .hidden_size
        .is_multiple_of(config.num_attention_heads)
    {
        return fail(format!(
            "hidden_size {} is not a multiple of num_attention_heads {}",
            config.hidden_size, config.num_attention_heads
        ));
    }
    if !config
        .num_attention_heads
        .is_multiple_of(config.num_key_value_heads)
    {
        return fail(format!(
            "num_attention_heads {} is not a multiple of num_key_value_heads {}",
            config.num_attention_heads, config.num_key_value_heads
        ));
    }
    if !config.head_dim().is_multiple_of(2) {
        return fail(format!(
            "the head dimension {} must be even for RoPE",
            config.head_dim()
        ));
    }
    if !(config.rms_norm_eps.is_finite() && config.rms_norm_eps > 0.0) {
        return fail(format!(
            "rms_norm_eps must be a positive number, got {}",
            config.rms_norm_eps
        ));
    }
    if !(config.rope_theta.is_finite() && config.rope_theta > 1.0) {
        return fail(format!(
            "rope_theta must be a number above 1, got {}",
            config.rope_theta
        ));
    }
    if config.vocab_size > u32::MAX as usize {
        return fail(format!(
            "vocab_size {} does not fit u32 token ids",
            config.vocab_size
        ));
    }
    Ok(())
}

/// One decoder block's parameters.
struct DecoderLayer {
    input_layernorm: Var,
    q_proj: Var,
    k_proj: Var,
    v_proj: Var,
    o_proj: Var,
    post_attention_layernorm: Var,
    gate_proj: Var,
    up_proj: Var,
    down_proj: Var,
}

/// How a forward pass reads a parameter: as the variable itself (training: gradients flow) or as
/// a detached view of the same storage (inference: no graph is recorded).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Train,
    Infer,
}

impl Mode {
    fn read(self, var: &Var) -> Tensor {
        match self {
            Mode::Train => var.as_tensor().clone(),
            Mode::Infer => var.as_tensor().detach(),
        }
    }
}

/// A Llama-family decoder whose parameters all train. See the module docs.
pub struct Llama {
    config: LlamaConfig,
    device: Device,
    kernels: Kernels,
    embed_tokens: Var,
    layers: Vec<DecoderLayer>,
    norm: Var,
    /// `None` when the head is tied to `embed_tokens`.
    lm_head: Option<Var>,
}

impl std::fmt::Debug for Llama {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Llama")
            .field("config", &self.config)
            .field("device", &self.device)
            .field("kernels", &self.kernels)
            .finish_non_exhaustive()
    }
}

impl Llama {
    /// A freshly initialised model, HF's scheme: every matrix (embedding, projections, untied
    /// head) drawn from N(0, 0.02²), every norm weight 1. The draws come from a ChaCha8 stream
    /// seeded with `seed`, parameter by parameter in [`Self::named_parameters`] order, so the
    /// same seed gives the same model on every machine.
    pub fn init_random(config: &LlamaConfig, seed: u64, device: &Device) -> LlamaResult<Self> {
        validate_config(config)?;
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut tensors = HashMap::new();
        for (name, shape, init) in parameter_specs(config) {
            let count: usize = shape.iter().product();
            let data: Vec<f32> = match init {
                Init::Ones => vec![1.0; count],
                Init::Normal => (0..count)
                    .map(|_| {
                        let z: f64 = StandardNormal.sample(&mut rng);
                        (z * INIT_STD) as f32
                    })
                    .collect(),
            };
            tensors.insert(name, Tensor::from_vec(data, shape, &Device::Cpu)?);
        }
        Self::from_tensors(config.clone(), tensors, device)
    }

    /// A model from weights in Hugging Face Llama names (see [`Self::named_parameters`]).
    /// Tensors of other float dtypes are converted to f32; every tensor is copied, so the model
    /// never shares storage with the map (an optimizer step cannot change the caller's tensors).
    /// `lm_head.weight` is ignored when the embeddings are tied; HF's cached
    /// `rotary_emb.inv_freq` buffers are ignored; any other unknown name is an error.
    pub fn from_tensors(
        config: LlamaConfig,
        tensors: HashMap<String, Tensor>,
        device: &Device,
    ) -> LlamaResult<Self> {
        validate_config(&config)?;
        let specs = parameter_specs(&config);
        let expected: BTreeSet<&str> = specs.iter().map(|(n, _, _)| n.as_str()).collect();
        let unexpected: Vec<String> = tensors
            .keys()
            .filter(|name| {
                let known = expected.contains(name.as_str())
                    || name.ends_with("rotary_emb.inv_freq")
                    || (config.tie_word_embeddings && name.as_str() == LM_HEAD);
                !known
            })
            .cloned()
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        if !unexpected.is_empty() {
            return Err(LlamaError::UnexpectedWeights { names: unexpected });
        }
        let mut vars = HashMap::new();
        for (name, shape, _) in &specs {
            let tensor = tensors
                .get(name)
                .ok_or_else(|| LlamaError::MissingWeight { name: name.clone() })?;
            if tensor.dims() != shape.as_slice() {
                return Err(LlamaError::WeightShape {
                    name: name.clone(),
                    expected: shape.clone(),
                    got: tensor.dims().to_vec(),
                });
            }
            if !tensor.dtype().is_float() {
                return Err(LlamaError::InvalidInput(format!(
                    "weight `{name}` has dtype {:?}; a float dtype is expected",
                    tensor.dtype()
                )));
            }
            let tensor = tensor.to_dtype(DType::F32)?.to_device(device)?;
            // `Var::from_tensor` copies a non-variable tensor into fresh storage.
            vars.insert(name.clone(), Var::from_tensor(&tensor.detach())?);
        }
        let mut take = |name: &str| {
            vars.remove(name)
                .ok_or_else(|| LlamaError::MissingWeight { name: name.into() })
        };
        let embed_tokens = take("model.embed_tokens.weight")?;
        let mut layers = Vec::with_capacity(config.num_hidden_layers);
        for i in 0..config.num_hidden_layers {
            let p = format!("model.layers.{i}");
            layers.push(DecoderLayer {
                input_layernorm: take(&format!("{p}.input_layernorm.weight"))?,
                q_proj: take(&format!("{p}.self_attn.q_proj.weight"))?,
                k_proj: take(&format!("{p}.self_attn.k_proj.weight"))?,
                v_proj: take(&format!("{p}.self_attn.v_proj.weight"))?,
                o_proj: take(&format!("{p}.self_attn.o_proj.weight"))?,
                post_attention_layernorm: take(&format!("{p}.post_attention_layernorm.weight"))?,
                gate_proj: take(&format!("{p}.mlp.gate_proj.weight"))?,
                up_proj: take(&format!("{p}.mlp.up_proj.weight"))?,
                down_proj: take(&format!("{p}.mlp.down_proj.weight"))?,
            });
        }
        let norm = take("model.norm.weight")?;
        let lm_head = if config.tie_word_embeddings {
            None
        } else {
            Some(take(LM_HEAD)?)
        };
        Ok(Self {
            config,
            device: device.clone(),
            kernels: Kernels::default(),
            embed_tokens,
            layers,
            norm,
            lm_head,
        })
    }

    /// The same model running a different implementation of its ops (e.g. the composed candle
    /// ops, to cross-check the fused kernels).
    pub fn with_kernels(mut self, kernels: Kernels) -> Self {
        self.kernels = kernels;
        self
    }

    pub fn config(&self) -> &LlamaConfig {
        &self.config
    }

    pub fn device(&self) -> &Device {
        &self.device
    }

    pub fn kernels(&self) -> Kernels {
        self.kernels
    }

    /// Every parameter under its Hugging Face name, in a fixed order: the embedding, then per
    /// layer `input_layernorm, q_proj, k_proj, v_proj, o_proj, post_attention_layernorm,
    /// gate_proj, up_proj, down_proj`, then `model.norm`, then `lm_head` unless tied. The
    /// [`Var`]s share storage with the model: setting one changes the model.
    pub fn named_parameters(&self) -> Vec<(String, Var)> {
        let mut out = vec![(
            "model.embed_tokens.weight".to_string(),
            self.embed_tokens.clone(),
        )];
        for (i, l) in self.layers.iter().enumerate() {
            let p = format!("model.layers.{i}");
            out.extend([
                (
                    format!("{p}.input_layernorm.weight"),
                    l.input_layernorm.clone(),
                ),
                (format!("{p}.self_attn.q_proj.weight"), l.q_proj.clone()),
                (format!("{p}.self_attn.k_proj.weight"), l.k_proj.clone()),
                (format!("{p}.self_attn.v_proj.weight"), l.v_proj.clone()),
                (format!("{p}.self_attn.o_proj.weight"), l.o_proj.clone()),
                (
                    format!("{p}.post_attention_layernorm.weight"),
                    l.post_attention_layernorm.clone(),
                ),
                (format!("{p}.mlp.gate_proj.weight"), l.gate_proj.clone()),
                (format!("{p}.mlp.up_proj.weight"), l.up_proj.clone()),
                (format!("{p}.mlp.down_proj.weight"), l.down_proj.clone()),
            ]);
        }
        out.push(("model.norm.weight".to_string(), self.norm.clone()));
        if let Some(head) = &self.lm_head {
            out.push((LM_HEAD.to_string(), head.clone()));
        }
        out
    }

    /// Number of scalar parameters (a tied head counted once).
    pub fn num_parameters(&self) -> usize {
        self.named_parameters()
            .iter()
            .map(|(_, v)| v.elem_count())
            .sum()
    }

    /// A snapshot of the weights in Hugging Face names (no `lm_head.weight` when tied). The
    /// tensors are copies: later training steps do not change them.
    pub fn to_tensors(&self) -> LlamaResult<HashMap<String, Tensor>> {
        self.named_parameters()
            .into_iter()
            .map(|(name, var)| Ok((name, var.as_tensor().detach().copy()?)))
            .collect()
    }

    fn heads(&self) -> AttentionHeads {
        AttentionHeads {
            heads: self.config.num_attention_heads,
            kv_heads: self.config.num_key_value_heads,
            head_dim: self.config.head_dim(),
        }
    }

    /// Checks `[batch, len]` u32 token ids and returns `(batch, len)` and the ids.
    fn check_ids(&self, input_ids: &Tensor) -> LlamaResult<(usize, usize, Vec<u32>)> {
        let (batch, len) = input_ids.dims2().map_err(|_| {
            LlamaError::InvalidInput(format!(
                "input_ids must be [batch, len], got shape {:?}",
                input_ids.dims()
            ))
        })?;
        if input_ids.dtype() != DType::U32 {
            return Err(LlamaError::InvalidInput(format!(
                "input_ids must be u32 token ids, got {:?}",
                input_ids.dtype()
            )));
        }
        if batch == 0 || len == 0 {
            return Err(LlamaError::InvalidInput(format!(
                "input_ids is empty (shape [{batch}, {len}])"
            )));
        }
        let ids = input_ids.flatten_all()?.to_vec1::<u32>()?;
        if let Some(&id) = ids
            .iter()
            .find(|&&id| id as usize >= self.config.vocab_size)
        {
            return Err(LlamaError::TokenOutOfRange {
                id,
                vocab_size: self.config.vocab_size,
            });
        }
        Ok((batch, len, ids))
    }

    /// Logits `[batch, len, vocab]` of a causal forward pass over `input_ids: [batch, len]` (u32),
    /// positions `0..len` in every row. Differentiable in every parameter: the training path.
    /// Right-padded batches need no mask here (padding comes after every real token, so no real
    /// token attends to it); mask the padding out of the loss.
    pub fn forward(&self, input_ids: &Tensor) -> LlamaResult<Tensor> {
        let (batch, len, _) = self.check_ids(input_ids)?;
        let positions: Vec<u32> = (0..batch).flat_map(|_| 0..len as u32).collect();
        self.forward_full(input_ids, batch, len, &positions, None, Mode::Train)
    }

    /// [`Self::forward`] for a padded batch: `attention_mask: [batch, len]` (any integer or
    /// float dtype, non-zero = real token). Padding is hidden from attention, and positions count
    /// real tokens only (HF's `cumsum(mask) − 1`), so a left-padded row gives its real tokens the
    /// same logits as the unpadded sequence, up to float rounding. Logits at padding positions
    /// are meaningless. Differentiable in every parameter.
    pub fn forward_masked(
        &self,
        input_ids: &Tensor,
        attention_mask: &Tensor,
    ) -> LlamaResult<Tensor> {
        let (batch, len, _) = self.check_ids(input_ids)?;
        let real = mask_to_bools(attention_mask, batch, len)?;
        let positions = positions_from_mask(&real, len, &vec![0; batch]);
        let key_valid = if real.iter().all(|&r| r) {
            None
        } else {
            Some(real)
        };
        self.forward_full(
            input_ids,
            batch,
            len,
            &positions,
            key_valid.as_deref(),
            Mode::Train,
        )
    }

    fn forward_full(
        &self,
        input_ids: &Tensor,
        batch: usize,
        len: usize,
        positions: &[u32],
        key_valid: Option<&[bool]>,
        mode: Mode,
    ) -> LlamaResult<Tensor> {
        let cfg = &self.config;
        let angles = Arc::new(RopeAngles::new(positions, cfg.head_dim(), cfg.rope_theta)?);
        let kernels = self.kernels;
        let heads = self.heads();
        let eps = cfg.rms_norm_eps;
        let mut x = mode
            .read(&self.embed_tokens)
            .index_select(&input_ids.flatten_all()?, 0)?
            .reshape((batch, len, cfg.hidden_size))?;
        for layer in &self.layers {
            let h = kernels.rms_norm(&x, &mode.read(&layer.input_layernorm), eps)?;
            let q = kernels.linear(&h, &mode.read(&layer.q_proj))?;
            let k = kernels.linear(&h, &mode.read(&layer.k_proj))?;
            let v = kernels.linear(&h, &mode.read(&layer.v_proj))?;
            let attn = kernels.self_attention(&q, &k, &v, heads, &angles, key_valid)?;
            x = (x + kernels.linear(&attn, &mode.read(&layer.o_proj))?)?;
            x = (&x + self.mlp(&x, layer, mode)?)?;
        }
        let x = kernels.rms_norm(&x, &mode.read(&self.norm), eps)?;
        Ok(kernels.linear(&x, &self.lm_head_weight(mode))?)
    }

    /// The residual MLP branch: `down(silu(gate(norm(x))) · up(norm(x)))`.
    fn mlp(&self, x: &Tensor, layer: &DecoderLayer, mode: Mode) -> LlamaResult<Tensor> {
        let kernels = self.kernels;
        let h = kernels.rms_norm(
            x,
            &mode.read(&layer.post_attention_layernorm),
            self.config.rms_norm_eps,
        )?;
        let act = kernels.swiglu_projection(
            &h,
            &mode.read(&layer.gate_proj),
            &mode.read(&layer.up_proj),
        )?;
        Ok(kernels.linear(&act, &mode.read(&layer.down_proj))?)
    }

    fn lm_head_weight(&self, mode: Mode) -> Tensor {
        mode.read(self.lm_head.as_ref().unwrap_or(&self.embed_tokens))
    }

    /// Inference over new tokens `input_ids: [batch, new_len]` that continue the sequences in
    /// `cache` (empty for a prompt). `attention_mask: [batch, new_len]` marks real tokens
    /// (non-zero) among the new ones — left padding of a batch of prompts; `None` = all real.
    /// Keys and values of the new tokens are appended to the cache; positions continue each
    /// row's count of real tokens. No autograd graph is recorded.
    pub fn forward_with_cache(
        &self,
        input_ids: &Tensor,
        attention_mask: Option<&Tensor>,
        cache: &mut KvCache,
        logits: LogitPositions,
    ) -> LlamaResult<Tensor> {
        let (batch, len, _) = self.check_ids(input_ids)?;
        cache.check_compatible(&self.config, batch)?;
        let real = match attention_mask {
            Some(mask) => mask_to_bools(mask, batch, len)?,
            None => vec![true; batch * len],
        };
        let cfg = &self.config;
        let positions = positions_from_mask(&real, len, cache.next_positions());
        let angles = Arc::new(RopeAngles::new(&positions, cfg.head_dim(), cfg.rope_theta)?);
        let key_valid = cache.key_mask_with(&real, len);
        let key_valid = if key_valid.iter().all(|&r| r) {
            None
        } else {
            Some(key_valid)
        };
        cache.reserve(len)?;
        let kernels = self.kernels;
        let heads = self.heads();
        let (n_heads, kv_heads, head_dim) = (heads.heads, heads.kv_heads, heads.head_dim);
        let mode = Mode::Infer;
        let mut x = mode
            .read(&self.embed_tokens)
            .index_select(&input_ids.flatten_all()?, 0)?
            .reshape((batch, len, cfg.hidden_size))?;
        for (i, layer) in self.layers.iter().enumerate() {
            let h = kernels.rms_norm(&x, &mode.read(&layer.input_layernorm), cfg.rms_norm_eps)?;
            let q = kernels
                .linear(&h, &mode.read(&layer.q_proj))?
                .reshape((batch, len, n_heads, head_dim))?;
            let k = kernels
                .linear(&h, &mode.read(&layer.k_proj))?
                .reshape((batch, len, kv_heads, head_dim))?;
            let v = kernels
                .linear(&h, &mode.read(&layer.v_proj))?
                .reshape((batch, len, kv_heads, head_dim))?;
            let q = kernels.rope(&q, &angles)?;
            let k = kernels.rope(&k, &angles)?;
            let (keys, values) = cache.append(i, &k, &v)?;
            let attn = kernels.cached_attention(&q, &keys, &values, heads, key_valid.as_deref())?;
            x = (x + kernels.linear(&attn, &mode.read(&layer.o_proj))?)?;
            x = (&x + self.mlp(&x, layer, mode)?)?;
        }
        cache.commit(&real, &positions, len);
        let x = match logits {
            LogitPositions::All => x,
            LogitPositions::Last => x.narrow(1, len - 1, 1)?.squeeze(1)?,
        };
        let x = kernels.rms_norm(&x, &mode.read(&self.norm), cfg.rms_norm_eps)?;
        Ok(kernels.linear(&x, &self.lm_head_weight(mode))?)
    }

    /// Logits `[batch, len, vocab]` without recording an autograd graph (reference-model
    /// log-probs, evaluation): [`Self::forward_masked`]'s semantics at inference cost.
    pub fn forward_no_grad(
        &self,
        input_ids: &Tensor,
        attention_mask: Option<&Tensor>,
    ) -> LlamaResult<Tensor> {
        let (batch, len, _) = self.check_ids(input_ids)?;
        let real = match attention_mask {
            Some(mask) => mask_to_bools(mask, batch, len)?,
            None => vec![true; batch * len],
        };
        let positions = positions_from_mask(&real, len, &vec![0; batch]);
        let key_valid = if real.iter().all(|&r| r) {
            None
        } else {
            Some(real)
        };
        self.forward_full(
            input_ids,
            batch,
            len,
            &positions,
            key_valid.as_deref(),
            Mode::Infer,
        )
    }
}

/// A `[batch, len]` mask of any dtype as row-major booleans (non-zero = real token).
fn mask_to_bools(mask: &Tensor, batch: usize, len: usize) -> LlamaResult<Vec<bool>> {
    if mask.dims() != [batch, len] {
        return Err(LlamaError::InvalidInput(format!(
            "attention_mask has shape {:?}, expected [{batch}, {len}] like input_ids",
            mask.dims()
        )));
    }
    let values = mask.flatten_all()?.to_dtype(DType::F32)?.to_vec1::<f32>()?;
    Ok(values.into_iter().map(|v| v != 0.0).collect())
}

/// Position ids that count real tokens only, continuing from `start` per row: the position of a
/// real token is the number of real tokens before it; padding gets the next row position (it is
/// masked out, any value works).
fn positions_from_mask(real: &[bool], len: usize, start: &[u32]) -> Vec<u32> {
    let mut positions = Vec::with_capacity(real.len());
    for (row, &first) in real.chunks(len).zip(start) {
        let mut next = first;
        for &is_real in row {
            positions.push(next);
            if is_real {
                next += 1;
            }
        }
    }
    positions
}

/// Mean negative log-likelihood of `targets: [batch, len]` under `logits: [batch, len, vocab]`,
/// unmasked. The training losses (masks, sum reduction, DPO, …) live in `train/`; this is the
/// plain language-modelling loss the model's tests and benchmarks train with.
pub fn mean_next_token_nll(
    kernels: Kernels,
    logits: &Tensor,
    targets: &Tensor,
) -> LlamaResult<Tensor> {
    let log_probs = kernels.token_log_probs(logits, targets)?;
    Ok(log_probs.mean_all()?.neg()?)
}
