//! Loading Llama models from GGUF files (llama.cpp's format).
//!
//! Every tensor is dequantized to f32 with candle's GGML kernels — any type candle reads
//! (F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, the K-quants) — and renamed to Hugging Face's
//! Llama names. llama.cpp's converter reorders the rows of the Q and K projections so that its
//! interleaved RoPE (rotating pairs `(2i, 2i+1)`) computes what Hugging Face's rotate-half RoPE
//! (pairs `(i, i + d/2)`) computes on the original weights; [`unpermute_rope_rows`] undoes that,
//! so the weights here use the rotate-half convention like every Hugging Face checkpoint.
//!
//! The config comes from the `llama.*` keys, the tokenizer from `tokenizer.ggml.*` (see
//! [`super::gguf_tokenizer`]), the chat template from `tokenizer.chat_template`.

use std::collections::HashMap;
use std::fs::File;
use std::io::BufReader;
use std::path::Path;

use anyhow::{anyhow, bail, Context, Result};
use candle_core::quantized::{gguf_file, QTensor};
use candle_core::{Device, Tensor};
use rayon::prelude::*;

use super::config::LlamaConfig;
use super::gguf_metadata::GgufMetadata;
use super::gguf_tokenizer::tokenizer_from_gguf;
use super::loaded_model::LoadedModel;
use super::weight_layout::{check_llama_config, check_llama_weights};

/// Loads a Llama model — config, f32 weights in Hugging Face layout, tokenizer and chat
/// template — from a GGUF file.
pub fn load_gguf(path: &Path) -> Result<LoadedModel> {
    let mut reader = BufReader::new(
        File::open(path).with_context(|| format!("cannot open GGUF file {}", path.display()))?,
    );
    let content = gguf_file::Content::read(&mut reader)
        .map_err(|e| anyhow!("{}: not a readable GGUF file: {e}", path.display()))?;
    let meta = GgufMetadata::new(path, &content.metadata);

    let config = llama_config_from_gguf(&meta, &content)?;
    let tokenizer = tokenizer_from_gguf(&meta)?;
    if tokenizer.vocab_size() > config.vocab_size {
        bail!(
            "{}: the tokenizer has {} tokens but the embedding has only {} rows",
            path.display(),
            tokenizer.vocab_size(),
            config.vocab_size
        );
    }
    let chat_template = meta.opt_str("tokenizer.chat_template")?.map(str::to_string);

    // Reading is sequential (one file handle); dequantizing is CPU work, done in parallel.
    let mut names: Vec<&String> = content.tensor_infos.keys().collect();
    names.sort();
    let mut quantized: Vec<(String, QTensor)> = Vec::with_capacity(names.len());
    for gguf_name in names {
        let hf_name = hf_tensor_name(gguf_name).ok_or_else(|| {
            anyhow!(
                "{}: tensor `{gguf_name}` is not part of a plain Llama model (rope scaling \
                 tables, biases and other architectures are not supported)",
                path.display()
            )
        })?;
        let tensor = content
            .tensor(&mut reader, gguf_name, &Device::Cpu)
            .map_err(|e| anyhow!("{}: cannot read tensor `{gguf_name}`: {e}", path.display()))?;
        quantized.push((hf_name, tensor));
    }
    let tensors = quantized
        .into_par_iter()
        .map(|(name, q)| {
            let dtype = q.dtype();
            let mut t = q.dequantize(&Device::Cpu).map_err(|e| {
                anyhow!("{}: cannot dequantize `{name}` ({dtype:?}): {e}", path.display())
            })?;
            if name.ends_with("self_attn.q_proj.weight") {
                t = unpermute_rope_rows(&t, config.num_attention_heads)?;
            } else if name.ends_with("self_attn.k_proj.weight") {
                t = unpermute_rope_rows(&t, config.num_key_value_heads)?;
            }
            Ok((name, t))
        })
        .collect::<Result<HashMap<String, Tensor>>>()?;
    check_llama_weights(&config, &tensors).with_context(|| format!("in {}", path.display()))?;

    Ok(LoadedModel {
        config,
        tensors,
        tokenizer,
        chat_template,
    })
}

/// The model shape from the `llama.*` metadata keys.
fn llama_config_from_gguf(
    meta: &GgufMetadata<'_>,
    content: &gguf_file::Content,
) -> Result<LlamaConfig> {
    let path = meta.path().display().to_string();
    let arch = meta.str("general.architecture", "the model architecture")?;
    if arch != "llama" {
        bail!("{path}: architecture `{arch}` is not supported; only `llama` models load");
    }
    if let Some(scaling) = meta.opt_str("llama.rope.scaling.type")? {
        if scaling != "none" {
            bail!("{path}: RoPE scaling `{scaling}` (llama.rope.scaling.type) is not supported");
        }
    }
    if meta.contains("llama.expert_count") {
        bail!("{path}: mixture-of-experts models (llama.expert_count) are not supported");
    }

    let embedding = content.tensor_infos.get("token_embd.weight").ok_or_else(|| {
        anyhow!("{path}: the token embedding tensor `token_embd.weight` is missing")
    })?;
    let embedding_rows = embedding.shape.dims().first().copied().unwrap_or(0);
    let vocab_size = match meta.opt_usize("llama.vocab_size")? {
        Some(n) => n,
        None => embedding_rows,
    };
    let heads = meta.usize("llama.attention.head_count", "number of attention heads")?;
    let config = LlamaConfig {
        vocab_size,
        hidden_size: meta.usize("llama.embedding_length", "hidden size")?,
        intermediate_size: meta.usize("llama.feed_forward_length", "MLP size")?,
        num_hidden_layers: meta.usize("llama.block_count", "number of layers")?,
        num_attention_heads: heads,
        num_key_value_heads: meta
            .opt_usize("llama.attention.head_count_kv")?
            .unwrap_or(heads),
        max_position_embeddings: meta.usize("llama.context_length", "context length")?,
        rms_norm_eps: meta
            .opt_f64("llama.attention.layer_norm_rms_epsilon")?
            .ok_or_else(|| {
                anyhow!(
                    "{path}: GGUF metadata key `llama.attention.layer_norm_rms_epsilon` is \
                     missing (RMSNorm epsilon)"
                )
            })?,
        rope_theta: meta.opt_f64("llama.rope.freq_base")?.unwrap_or(10_000.0),
        tie_word_embeddings: !content.tensor_infos.contains_key("output.weight"),
        bos_token_id: meta.opt_token_id("tokenizer.ggml.bos_token_id", vocab_size)?,
        eos_token_id: meta.opt_token_id("tokenizer.ggml.eos_token_id", vocab_size)?,
    };
    check_llama_config(&config).with_context(|| format!("in {path}"))?;
    let head_dim = config.head_dim();
    for key in [
        "llama.rope.dimension_count",
        "llama.attention.key_length",
        "llama.attention.value_length",
    ] {
        if let Some(n) = meta.opt_usize(key)? {
            if n != head_dim {
                bail!(
                    "{path}: `{key}` is {n} but hidden size / heads is {head_dim}; partial \
                     rotary embeddings and custom head sizes are not supported"
                );
            }
        }
    }
    Ok(config)
}

/// The Hugging Face name of a llama.cpp tensor name, or None for tensors a plain Llama lacks.
pub fn hf_tensor_name(gguf_name: &str) -> Option<String> {
    let fixed = match gguf_name {
        "token_embd.weight" => Some("model.embed_tokens.weight"),
        "output_norm.weight" => Some("model.norm.weight"),
        "output.weight" => Some("lm_head.weight"),
        _ => None,
    };
    if let Some(name) = fixed {
        return Some(name.to_string());
    }
    let rest = gguf_name.strip_prefix("blk.")?;
    let (layer, part) = rest.split_once('.')?;
    let layer: usize = layer.parse().ok()?;
    let hf_part = match part {
        "attn_norm.weight" => "input_layernorm.weight",
        "attn_q.weight" => "self_attn.q_proj.weight",
        "attn_k.weight" => "self_attn.k_proj.weight",
        "attn_v.weight" => "self_attn.v_proj.weight",
        "attn_output.weight" => "self_attn.o_proj.weight",
        "ffn_norm.weight" => "post_attention_layernorm.weight",
        "ffn_gate.weight" => "mlp.gate_proj.weight",
        "ffn_up.weight" => "mlp.up_proj.weight",
        "ffn_down.weight" => "mlp.down_proj.weight",
        _ => return None,
    };
    Some(format!("model.layers.{layer}.{hf_part}"))
}

/// Undoes llama.cpp's Q/K row permutation: within each head, GGUF stores the rotary pairs
/// interleaved (`x0, x_{d/2}, x1, x_{d/2+1}, …`); Hugging Face stores the two halves one after
/// the other. `weight` is `[heads * head_dim, in]`.
pub fn unpermute_rope_rows(weight: &Tensor, heads: usize) -> Result<Tensor> {
    let (rows, cols) = weight.dims2()?;
    let head_dim = checked_head_dim(rows, heads)?;
    Ok(weight
        .reshape((heads, head_dim / 2, 2, cols))?
        .transpose(1, 2)?
        .contiguous()?
        .reshape((rows, cols))?)
}

/// llama.cpp's converter permutation (Hugging Face → GGUF), the inverse of
/// [`unpermute_rope_rows`]; for writing GGUF files and for tests.
pub fn permute_rope_rows(weight: &Tensor, heads: usize) -> Result<Tensor> {
    let (rows, cols) = weight.dims2()?;
    let head_dim = checked_head_dim(rows, heads)?;
    Ok(weight
        .reshape((heads, 2, head_dim / 2, cols))?
        .transpose(1, 2)?
        .contiguous()?
        .reshape((rows, cols))?)
}

fn checked_head_dim(rows: usize, heads: usize) -> Result<usize> {
    if heads == 0 || rows % heads != 0 || (rows / heads) % 2 != 0 {
        bail!("cannot split {rows} projection rows into {heads} heads of even size");
    }
    Ok(rows / heads)
}
