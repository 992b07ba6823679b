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
                anyhow!(
                    "{}: cannot dequantize `{name}` ({dtype:?}): {e}",
                    path.display()
                )
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

    let embedding = content
        .tensor_infos
        .get("token_embd.weight")
        .ok_or_else(|| {
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
    if heads == 0 || !rows.is_multiple_of(heads) || !(rows / heads).is_multiple_of(2) {
        bail!("cannot split {rows} projection rows into {heads} heads of even size");
    }
    Ok(rows / heads)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::io_test_support::{max_abs, max_abs_diff, tiny_model};
    use crate::model::tokenizer::ModelTokenizer;
    use candle_core::quantized::gguf_file::Value;
    use candle_core::quantized::GgmlDType;
    use candle_core::{DType, D};
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    fn random(shape: &[usize], seed: u64) -> Tensor {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let n = shape.iter().product();
        let values: Vec<f32> = (0..n).map(|_| rng.random_range(-1.0f32..1.0)).collect();
        Tensor::from_vec(values, shape, &Device::Cpu).unwrap()
    }

    #[test]
    fn permutation_interleaves_the_two_halves_of_each_head() {
        // Heads of size 4: Hugging Face rows [a0, a1, b0, b1] (halves a, b) are stored by
        // llama.cpp as the pairs [a0, b0, a1, b1].
        let hf = Tensor::new(
            &[[0f32], [1.], [2.], [3.], [10.], [11.], [12.], [13.]],
            &Device::Cpu,
        )
        .unwrap();
        let stored = permute_rope_rows(&hf, 2).unwrap();
        let rows: Vec<f32> = stored.flatten_all().unwrap().to_vec1().unwrap();
        assert_eq!(rows, [0., 2., 1., 3., 10., 12., 11., 13.]);
        let back = unpermute_rope_rows(&stored, 2).unwrap();
        assert_eq!(max_abs_diff(&back, &hf), 0.0);
        assert!(unpermute_rope_rows(&hf, 3).is_err());
        assert!(unpermute_rope_rows(&hf, 0).is_err());
    }

    /// The reason for the permutation: llama.cpp's interleaved RoPE on the stored rows gives the
    /// same attention scores as Hugging Face's rotate-half RoPE on the un-permuted rows.
    #[test]
    fn unpermuted_weights_with_rotate_half_rope_match_stored_weights_with_interleaved_rope() {
        let (heads, kv_heads, head_dim, hidden, seq) = (4usize, 2usize, 16usize, 64usize, 7usize);
        let wq = random(&[heads * head_dim, hidden], 1);
        let wk = random(&[kv_heads * head_dim, hidden], 2);
        let x = random(&[seq, hidden], 3);
        let stored_q = permute_rope_rows(&wq, heads).unwrap();
        let stored_k = permute_rope_rows(&wk, kv_heads).unwrap();

        let inv_freq: Vec<f32> = (0..head_dim / 2)
            .map(|i| 1.0 / 10_000f32.powf(2.0 * i as f32 / head_dim as f32))
            .collect();
        let positions = Tensor::arange(0u32, seq as u32, &Device::Cpu)
            .unwrap()
            .to_dtype(DType::F32)
            .unwrap()
            .reshape((seq, 1))
            .unwrap();
        let inv_freq = Tensor::from_vec(inv_freq, (1, head_dim / 2), &Device::Cpu).unwrap();
        let angles = positions.broadcast_mul(&inv_freq).unwrap();
        let (cos, sin) = (angles.cos().unwrap(), angles.sin().unwrap());

        let project = |w: &Tensor, n_heads: usize| {
            x.matmul(&w.t().unwrap())
                .unwrap()
                .reshape((1, seq, n_heads, head_dim))
                .unwrap()
                .transpose(1, 2)
                .unwrap()
                .contiguous()
                .unwrap()
        };
        let scores = |q: Tensor, k: Tensor| {
            // Grouped-query attention: query head h reads key head h / (heads / kv_heads).
            let k = k
                .unsqueeze(2)
                .unwrap()
                .expand((1, kv_heads, heads / kv_heads, seq, head_dim))
                .unwrap()
                .reshape((1, heads, seq, head_dim))
                .unwrap();
            q.matmul(&k.t().unwrap()).unwrap()
        };
        let hf_scores = scores(
            candle_nn::rotary_emb::rope(&project(&wq, heads), &cos, &sin).unwrap(),
            candle_nn::rotary_emb::rope(&project(&wk, kv_heads), &cos, &sin).unwrap(),
        );
        let gguf_scores = scores(
            candle_nn::rotary_emb::rope_i(&project(&stored_q, heads), &cos, &sin).unwrap(),
            candle_nn::rotary_emb::rope_i(&project(&stored_k, kv_heads), &cos, &sin).unwrap(),
        );
        assert!(max_abs_diff(&hf_scores, &gguf_scores) < 1e-3 * max_abs(&hf_scores));
        // Without the un-permutation the scores differ: the check has teeth.
        let wrong = scores(
            candle_nn::rotary_emb::rope(&project(&stored_q, heads), &cos, &sin).unwrap(),
            candle_nn::rotary_emb::rope(&project(&stored_k, kv_heads), &cos, &sin).unwrap(),
        );
        assert!(max_abs_diff(&hf_scores, &wrong) > 0.1 * max_abs(&hf_scores));
    }

    #[test]
    fn unpermute_keeps_values_and_only_moves_rows() {
        let w = random(&[32, 8], 9);
        let back = unpermute_rope_rows(&w, 2).unwrap();
        let row_sums = |t: &Tensor| {
            let mut sums: Vec<f32> = t
                .sum_keepdim(D::Minus1)
                .unwrap()
                .flatten_all()
                .unwrap()
                .to_vec1()
                .unwrap();
            sums.sort_by(f32::total_cmp);
            sums
        };
        assert_eq!(row_sums(&w), row_sums(&back));
    }

    #[test]
    fn maps_every_llama_tensor_name() {
        assert_eq!(
            hf_tensor_name("token_embd.weight").unwrap(),
            "model.embed_tokens.weight"
        );
        assert_eq!(
            hf_tensor_name("blk.12.attn_output.weight").unwrap(),
            "model.layers.12.self_attn.o_proj.weight"
        );
        assert_eq!(
            hf_tensor_name("blk.0.ffn_norm.weight").unwrap(),
            "model.layers.0.post_attention_layernorm.weight"
        );
        assert_eq!(hf_tensor_name("rope_freqs.weight"), None);
        assert_eq!(hf_tensor_name("blk.x.attn_q.weight"), None);
        assert_eq!(hf_tensor_name("blk.0.attn_q.bias"), None);
    }

    /// llama.cpp's name for a Hugging Face tensor name (the inverse of `hf_tensor_name`).
    fn gguf_name(hf: &str) -> String {
        let fixed = [
            ("model.embed_tokens.weight", "token_embd.weight"),
            ("model.norm.weight", "output_norm.weight"),
            ("lm_head.weight", "output.weight"),
        ];
        if let Some((_, g)) = fixed.iter().find(|(h, _)| *h == hf) {
            return g.to_string();
        }
        let rest = hf.strip_prefix("model.layers.").unwrap();
        let (layer, part) = rest.split_once('.').unwrap();
        let part = match part {
            "input_layernorm.weight" => "attn_norm.weight",
            "self_attn.q_proj.weight" => "attn_q.weight",
            "self_attn.k_proj.weight" => "attn_k.weight",
            "self_attn.v_proj.weight" => "attn_v.weight",
            "self_attn.o_proj.weight" => "attn_output.weight",
            "post_attention_layernorm.weight" => "ffn_norm.weight",
            "mlp.gate_proj.weight" => "ffn_gate.weight",
            "mlp.up_proj.weight" => "ffn_up.weight",
            "mlp.down_proj.weight" => "ffn_down.weight",
            other => panic!("{other}"),
        };
        format!("blk.{layer}.{part}")
    }

    /// Storage type per tensor, covering F32, F16, Q8_0, Q4_0 and Q4_1.
    fn storage_type(hf: &str) -> GgmlDType {
        match hf {
            n if n.ends_with("norm.weight") => GgmlDType::F32,
            n if n.contains("embed_tokens") || n.contains("lm_head") => GgmlDType::Q8_0,
            n if n.contains("layers.0.self_attn.q_proj") => GgmlDType::Q4_0,
            n if n.contains("q_proj") => GgmlDType::Q4_1,
            n if n.contains("k_proj") || n.contains("up_proj") => GgmlDType::F16,
            n if n.contains("v_proj") => GgmlDType::Q8_0,
            n if n.contains("gate_proj") => GgmlDType::Q4_0,
            _ => GgmlDType::Q4_1,
        }
    }

    /// Worst-case quantization error for weights in [-1, 1]; a wrong row order errs by ~1.
    fn tolerance(dtype: GgmlDType) -> f32 {
        match dtype {
            GgmlDType::F32 => 0.0,
            GgmlDType::F16 => 1e-3,
            GgmlDType::Q8_0 => 6e-3,
            // Q4_0 has one scale per block and clips the side opposite the largest magnitude
            // to 7/8 of it: errors up to 1/8 of the block's range.
            GgmlDType::Q4_0 => 0.13,
            _ => 0.07,
        }
    }

    fn tokenizer_metadata(tok: &ModelTokenizer) -> Vec<(String, Value)> {
        let json: serde_json::Value = serde_json::from_str(&tok.to_json().unwrap()).unwrap();
        let merges: Vec<Value> = json["model"]["merges"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| match m {
                serde_json::Value::String(s) => Value::String(s.clone()),
                pair => Value::String(format!(
                    "{} {}",
                    pair[0].as_str().unwrap(),
                    pair[1].as_str().unwrap()
                )),
            })
            .collect();
        let n = tok.vocab_size() as u32;
        let tokens = (0..n)
            .map(|id| Value::String(tok.id_to_token(id).unwrap()))
            .collect();
        let types = (0..n)
            .map(|id| Value::I32(if tok.is_special(id) { 3 } else { 1 }))
            .collect();
        vec![
            ("tokenizer.ggml.model".into(), Value::String("gpt2".into())),
            ("tokenizer.ggml.pre".into(), Value::String("smollm".into())),
            ("tokenizer.ggml.tokens".into(), Value::Array(tokens)),
            ("tokenizer.ggml.token_type".into(), Value::Array(types)),
            ("tokenizer.ggml.merges".into(), Value::Array(merges)),
            ("tokenizer.ggml.eos_token_id".into(), Value::U32(2)),
            ("tokenizer.ggml.padding_token_id".into(), Value::U32(0)),
            ("tokenizer.ggml.bos_token_id".into(), Value::U32(1)),
        ]
    }

    fn tiny_metadata(model: &LoadedModel) -> Vec<(String, Value)> {
        let c = &model.config;
        let u32_of = |n: usize| Value::U32(n as u32);
        let mut meta = vec![
            ("general.architecture".into(), Value::String("llama".into())),
            ("llama.block_count".into(), u32_of(c.num_hidden_layers)),
            (
                "llama.context_length".into(),
                u32_of(c.max_position_embeddings),
            ),
            ("llama.embedding_length".into(), u32_of(c.hidden_size)),
            (
                "llama.feed_forward_length".into(),
                u32_of(c.intermediate_size),
            ),
            (
                "llama.attention.head_count".into(),
                u32_of(c.num_attention_heads),
            ),
            (
                "llama.attention.head_count_kv".into(),
                Value::U64(c.num_key_value_heads as u64),
            ),
            (
                "llama.attention.layer_norm_rms_epsilon".into(),
                Value::F32(c.rms_norm_eps as f32),
            ),
            (
                "llama.rope.freq_base".into(),
                Value::F32(c.rope_theta as f32),
            ),
            ("llama.rope.dimension_count".into(), u32_of(c.head_dim())),
            (
                "tokenizer.chat_template".into(),
                Value::String(model.chat_template.clone().unwrap()),
            ),
        ];
        meta.extend(tokenizer_metadata(&model.tokenizer));
        meta
    }

    /// Quantized, llama.cpp-named, Q/K-permuted tensors of `model`.
    fn tiny_tensors(model: &LoadedModel) -> Vec<(String, QTensor)> {
        let c = &model.config;
        let mut names: Vec<&String> = model.tensors.keys().collect();
        names.sort();
        names
            .into_iter()
            .map(|hf| {
                let mut t = model.tensors[hf].clone();
                if hf.ends_with("q_proj.weight") {
                    t = permute_rope_rows(&t, c.num_attention_heads).unwrap();
                } else if hf.ends_with("k_proj.weight") {
                    t = permute_rope_rows(&t, c.num_key_value_heads).unwrap();
                }
                (
                    gguf_name(hf),
                    QTensor::quantize(&t, storage_type(hf)).unwrap(),
                )
            })
            .collect()
    }

    fn write_gguf(path: &Path, meta: &[(String, Value)], tensors: &[(String, QTensor)]) {
        let mut file = std::fs::File::create(path).unwrap();
        let meta: Vec<(&str, &Value)> = meta.iter().map(|(k, v)| (k.as_str(), v)).collect();
        let tensors: Vec<(&str, &QTensor)> = tensors.iter().map(|(k, v)| (k.as_str(), v)).collect();
        gguf_file::write(&mut file, &meta, &tensors).unwrap();
    }

    #[test]
    fn loads_a_written_gguf_in_every_storage_type() {
        for tied in [false, true] {
            let model = tiny_model(11, tied);
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("tiny.gguf");
            write_gguf(&path, &tiny_metadata(&model), &tiny_tensors(&model));

            let loaded = load_gguf(&path).unwrap();
            let mut expected_config = model.config.clone();
            expected_config.bos_token_id = Some(1);
            assert_eq!(loaded.config, expected_config);
            assert_eq!(loaded.tensors.len(), model.tensors.len());
            for (name, original) in &model.tensors {
                let dtype = storage_type(name);
                let diff = max_abs_diff(&loaded.tensors[name], original);
                assert!(
                    diff <= tolerance(dtype),
                    "{name} ({dtype:?}): max diff {diff}"
                );
            }
            assert_eq!(loaded.chat_template, model.chat_template);
            assert_eq!(loaded.tokenizer.eos_token_id(), Some(2));
            assert_eq!(loaded.tokenizer.bos_token_id(), Some(1));
            assert_eq!(loaded.tokenizer.pad_token_id(), Some(0));
            for text in [
                "What is 12 + 30? It is 42.",
                "<|im_start|>user\nhé 🦀<|im_end|>\n",
            ] {
                assert_eq!(
                    loaded.tokenizer.encode(text, true).unwrap(),
                    model.tokenizer.encode(text, true).unwrap()
                );
            }
        }
    }

    #[test]
    fn bos_and_eos_flags_become_a_post_processor() {
        let model = tiny_model(1, true);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bos.gguf");
        let mut meta = tiny_metadata(&model);
        meta.push(("tokenizer.ggml.add_bos_token".into(), Value::Bool(true)));
        meta.push(("tokenizer.ggml.add_eos_token".into(), Value::Bool(true)));
        meta.push(("tokenizer.ggml.eot_token_id".into(), Value::U32(0)));
        write_gguf(&path, &meta, &tiny_tensors(&model));
        let tok = load_gguf(&path).unwrap().tokenizer;
        let plain = tok.encode("the dog", false).unwrap();
        let wrapped = tok.encode("the dog", true).unwrap();
        assert_eq!(wrapped.first(), Some(&1));
        assert_eq!(wrapped.last(), Some(&2));
        assert_eq!(&wrapped[1..wrapped.len() - 1], plain.as_slice());
        assert_eq!(tok.stop_token_ids(), vec![2, 0]);
    }

    type Edit = Box<dyn Fn(&mut Vec<(String, Value)>, &mut Vec<(String, QTensor)>)>;

    fn set_key(key: &'static str, value: Option<Value>) -> Edit {
        Box::new(move |meta, _| {
            meta.retain(|(k, _)| k != key);
            if let Some(v) = &value {
                meta.push((key.to_string(), v.clone()));
            }
        })
    }

    #[test]
    fn errors_name_the_file_and_the_problem() {
        let model = tiny_model(1, true);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bad.gguf");
        let string = |s: &str| Some(Value::String(s.into()));
        let cases: Vec<(Edit, &str)> = vec![
            (
                set_key("general.architecture", string("gemma")),
                "architecture `gemma`",
            ),
            (
                set_key("llama.block_count", None),
                "`llama.block_count` is missing",
            ),
            (
                set_key("llama.block_count", string("2")),
                "`llama.block_count` should be an integer",
            ),
            (
                set_key("tokenizer.ggml.model", string("llama")),
                "tokenizer type `llama`",
            ),
            (
                set_key("tokenizer.ggml.pre", string("klingon")),
                "pre-tokenizer `klingon`",
            ),
            (
                set_key("tokenizer.ggml.eos_token_id", Some(Value::U32(99_999))),
                "outside the vocabulary",
            ),
            (
                set_key("llama.rope.dimension_count", Some(Value::U32(8))),
                "partial rotary",
            ),
            (
                set_key("llama.rope.scaling.type", string("yarn")),
                "RoPE scaling `yarn`",
            ),
            (
                Box::new(|_, t| t.retain(|(n, _)| n != "blk.1.ffn_up.weight")),
                "missing tensor `model.layers.1.mlp.up_proj.weight`",
            ),
            (
                Box::new(|_, t| {
                    let extra = QTensor::quantize(&random(&[8], 5), GgmlDType::F32).unwrap();
                    t.push(("rope_freqs.weight".into(), extra));
                }),
                "tensor `rope_freqs.weight` is not part of a plain Llama",
            ),
        ];
        for (edit, expected) in cases {
            let mut meta = tiny_metadata(&model);
            let mut tensors = tiny_tensors(&model);
            edit(&mut meta, &mut tensors);
            write_gguf(&path, &meta, &tensors);
            let err = format!("{:#}", load_gguf(&path).unwrap_err());
            assert!(err.contains(expected), "expected `{expected}` in: {err}");
            assert!(err.contains("bad.gguf"), "no file name in: {err}");
        }
    }

    #[test]
    fn garbage_and_truncated_files_are_errors_not_panics() {
        let model = tiny_model(1, true);
        let dir = tempfile::tempdir().unwrap();
        let good = dir.path().join("good.gguf");
        write_gguf(&good, &tiny_metadata(&model), &tiny_tensors(&model));
        let bytes = std::fs::read(&good).unwrap();
        let bad = dir.path().join("cut.gguf");
        for len in [0, 3, 100, bytes.len() / 2, bytes.len() - 10] {
            std::fs::write(&bad, &bytes[..len]).unwrap();
            let err = format!("{:#}", load_gguf(&bad).unwrap_err());
            assert!(err.contains("cut.gguf"), "{err}");
        }
        std::fs::write(&bad, b"definitely not a gguf file at all").unwrap();
        assert!(load_gguf(&bad).is_err());
        let err = format!(
            "{:#}",
            load_gguf(&dir.path().join("absent.gguf")).unwrap_err()
        );
        assert!(err.contains("absent.gguf"), "{err}");
    }
}
