//! The tensor names and shapes a Llama model of a given config has, in Hugging Face naming —
//! the contract between the loaders and the model.

use std::collections::{BTreeMap, HashMap};

use anyhow::{bail, Result};
use candle_core::{DType, Tensor};

use super::config::LlamaConfig;

/// Every tensor a Llama model of this config has, name → shape, sorted by name.
/// `lm_head.weight` is listed only when the embeddings are not tied.
pub fn llama_tensor_shapes(config: &LlamaConfig) -> BTreeMap<String, Vec<usize>> {
    let hidden = config.hidden_size;
    let head_dim = config.head_dim();
    let q_out = config.num_attention_heads * head_dim;
    let kv_out = config.num_key_value_heads * head_dim;
    let ffn = config.intermediate_size;
    let mut shapes = BTreeMap::new();
    shapes.insert(
        "model.embed_tokens.weight".to_string(),
        vec![config.vocab_size, hidden],
    );
    shapes.insert("model.norm.weight".to_string(), vec![hidden]);
    if !config.tie_word_embeddings {
        shapes.insert(
            "lm_head.weight".to_string(),
            vec![config.vocab_size, hidden],
        );
    }
    for i in 0..config.num_hidden_layers {
        let p = format!("model.layers.{i}");
        let layer = [
            ("input_layernorm.weight", vec![hidden]),
            ("post_attention_layernorm.weight", vec![hidden]),
            ("self_attn.q_proj.weight", vec![q_out, hidden]),
            ("self_attn.k_proj.weight", vec![kv_out, hidden]),
            ("self_attn.v_proj.weight", vec![kv_out, hidden]),
            ("self_attn.o_proj.weight", vec![hidden, q_out]),
            ("mlp.gate_proj.weight", vec![ffn, hidden]),
            ("mlp.up_proj.weight", vec![ffn, hidden]),
            ("mlp.down_proj.weight", vec![hidden, ffn]),
        ];
        for (name, shape) in layer {
            shapes.insert(format!("{p}.{name}"), shape);
        }
    }
    shapes
}

/// Checks the config is self-consistent: heads divide the hidden size, KV heads divide heads.
pub fn check_llama_config(config: &LlamaConfig) -> Result<()> {
    let c = config;
    if c.vocab_size == 0
        || c.hidden_size == 0
        || c.intermediate_size == 0
        || c.num_hidden_layers == 0
        || c.num_attention_heads == 0
        || c.num_key_value_heads == 0
    {
        bail!("invalid Llama config: sizes and counts must be positive ({c:?})");
    }
    if !c.hidden_size.is_multiple_of(c.num_attention_heads) {
        bail!(
            "invalid Llama config: hidden_size {} is not divisible by num_attention_heads {}",
            c.hidden_size,
            c.num_attention_heads
        );
    }
    if !c.num_attention_heads.is_multiple_of(c.num_key_value_heads) {
        bail!(
            "invalid Llama config: num_attention_heads {} is not a multiple of \
             num_key_value_heads {}",
            c.num_attention_heads,
            c.num_key_value_heads
        );
    }
    if !c.head_dim().is_multiple_of(2) {
        bail!(
            "invalid Llama config: head_dim {} must be even for rotary embeddings",
            c.head_dim()
        );
    }
    Ok(())
}

/// Checks that `tensors` holds exactly the tensors of `config`, each f32 with the right shape.
/// Reports every problem, not just the first, so a wrong conversion is easy to diagnose.
pub fn check_llama_weights(config: &LlamaConfig, tensors: &HashMap<String, Tensor>) -> Result<()> {
    check_llama_config(config)?;
    let expected = llama_tensor_shapes(config);
    let mut problems = Vec::new();
    for (name, shape) in &expected {
        match tensors.get(name) {
            None => problems.push(format!("missing tensor `{name}` {shape:?}")),
            Some(t) if t.dims() != shape.as_slice() => problems.push(format!(
                "tensor `{name}` has shape {:?}, expected {shape:?}",
                t.dims()
            )),
            Some(t) if t.dtype() != DType::F32 => {
                problems.push(format!("tensor `{name}` is {:?}, expected f32", t.dtype()))
            }
            Some(_) => {}
        }
    }
    let mut unexpected: Vec<&String> = tensors
        .keys()
        .filter(|n| !expected.contains_key(*n))
        .collect();
    unexpected.sort();
    for name in unexpected {
        problems.push(format!("unexpected tensor `{name}`"));
    }
    if problems.is_empty() {
        return Ok(());
    }
    let shown = problems.len().min(12);
    let more = if problems.len() > shown {
        format!("\n  … and {} more", problems.len() - shown)
    } else {
        String::new()
    };
    bail!(
        "the weights do not match the config ({} layers, hidden {}, {} heads / {} kv heads, \
         vocab {}, tied embeddings: {}):\n  {}{more}",
        config.num_hidden_layers,
        config.hidden_size,
        config.num_attention_heads,
        config.num_key_value_heads,
        config.vocab_size,
        config.tie_word_embeddings,
        problems[..shown].join("\n  ")
    )
}
