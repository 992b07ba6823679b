//! Hugging Face model directories: what `transformers`' `save_pretrained` writes and
//! `from_pretrained` reads, for Llama-family models.
//!
//! Loading reads `config.json`, the weights (`model.safetensors`, or shards listed in
//! `model.safetensors.index.json`; F32, F16 and BF16 are converted to f32), `tokenizer.json`
//! (fast tokenizers only), and when present `tokenizer_config.json` (special-token roles, chat
//! template), `chat_template.jinja` (newer `transformers` keep the template there) and
//! `generation_config.json` (further stop ids).
//!
//! Saving writes `config.json` (`architectures: ["LlamaForCausalLM"]`, `model_type: "llama"`,
//! `torch_dtype: "float32"`), `model.safetensors` (f32, metadata `{"format": "pt"}`),
//! `tokenizer.json`, `tokenizer_config.json`, `special_tokens_map.json` and
//! `generation_config.json`. The bytes depend only on the model: tensors are written in name
//! order, JSON keys in a fixed order, no timestamps or versions — the cache hashes them.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;

use anyhow::{anyhow, bail, Context, Result};
use candle_core::{DType, Device, Tensor};
use serde_json::{json, Map, Value};

use super::config::LlamaConfig;
use super::loaded_model::LoadedModel;
use super::tokenizer::ModelTokenizer;
use super::weight_layout::check_llama_weights;

const CONFIG_FILE: &str = "config.json";
const WEIGHTS_FILE: &str = "model.safetensors";
const WEIGHTS_INDEX_FILE: &str = "model.safetensors.index.json";
const TOKENIZER_FILE: &str = "tokenizer.json";
const TOKENIZER_CONFIG_FILE: &str = "tokenizer_config.json";
const CHAT_TEMPLATE_FILE: &str = "chat_template.jinja";
const SPECIAL_TOKENS_MAP_FILE: &str = "special_tokens_map.json";
const GENERATION_CONFIG_FILE: &str = "generation_config.json";

/// Loads a Llama model from a Hugging Face directory.
pub fn load_hf_dir(dir: &Path) -> Result<LoadedModel> {
    if !dir.is_dir() {
        bail!("{} is not a directory", dir.display());
    }
    let config_json = read_json(&dir.join(CONFIG_FILE))?;
    let (config, config_stop_ids) = llama_config_from_json(&config_json)
        .with_context(|| format!("in {}", dir.join(CONFIG_FILE).display()))?;

    let mut tensors = load_weights(dir)?;
    if config.tie_word_embeddings {
        // Some checkpoints store the tied head anyway; the model reads the embedding.
        tensors.remove("lm_head.weight");
    }
    // Old checkpoints carry the RoPE frequency buffer; it is recomputed from rope_theta.
    tensors.retain(|name, _| !name.ends_with("rotary_emb.inv_freq"));
    check_llama_weights(&config, &tensors).with_context(|| format!("in {}", dir.display()))?;

    let (tokenizer, chat_template) = load_tokenizer(dir, &config, config_stop_ids)?;
    Ok(LoadedModel {
        config,
        tensors,
        tokenizer,
        chat_template,
    })
}

fn read_json(path: &Path) -> Result<Value> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("{} is not valid JSON", path.display()))
}

fn read_optional_json(path: &Path) -> Result<Option<Value>> {
    if path.exists() {
        read_json(path).map(Some)
    } else {
        Ok(None)
    }
}

/// The config, plus stop ids beyond the first when `eos_token_id` is a list (Llama 3.1).
fn llama_config_from_json(json: &Value) -> Result<(LlamaConfig, Vec<u32>)> {
    let Value::Object(fields) = json else {
        bail!("config.json must be a JSON object");
    };
    let mut fields = fields.clone();
    if let Some(model_type) = fields.get("model_type").and_then(Value::as_str) {
        if model_type != "llama" {
            bail!("model_type `{model_type}` is not supported; only `llama` models load");
        }
    }
    if let Some(act) = fields.get("hidden_act").and_then(Value::as_str) {
        if act != "silu" {
            bail!("hidden_act `{act}` is not supported; Llama uses `silu`");
        }
    }
    for flag in ["attention_bias", "mlp_bias"] {
        if fields.get(flag).and_then(Value::as_bool) == Some(true) {
            bail!("`{flag}: true` is not supported; the Llama model here has no biases");
        }
    }
    if let Some(scaling) = fields.get("rope_scaling").filter(|v| !v.is_null()) {
        bail!("RoPE scaling is not supported (rope_scaling: {scaling})");
    }
    // transformers 5 writes RoPE settings as `rope_parameters`.
    if let Some(Value::Object(rope)) = fields.get("rope_parameters").cloned() {
        if let Some(kind) = rope.get("rope_type").and_then(Value::as_str) {
            if kind != "default" {
                bail!("RoPE type `{kind}` is not supported (rope_parameters.rope_type)");
            }
        }
        if !fields.contains_key("rope_theta") {
            if let Some(theta) = rope.get("rope_theta") {
                fields.insert("rope_theta".into(), theta.clone());
            }
        }
    }
    let mut extra_stops = Vec::new();
    for key in ["bos_token_id", "eos_token_id"] {
        if let Some(Value::Array(ids)) = fields.get(key).cloned() {
            let ids: Vec<u32> = ids
                .iter()
                .map(|v| {
                    v.as_u64()
                        .and_then(|n| u32::try_from(n).ok())
                        .ok_or_else(|| anyhow!("`{key}` holds {v}, not a token id"))
                })
                .collect::<Result<_>>()?;
            fields.insert(key.into(), ids.first().map_or(Value::Null, |&id| json!(id)));
            if key == "eos_token_id" {
                extra_stops.extend(ids.into_iter().skip(1));
            }
        }
    }
    let config: LlamaConfig = serde_json::from_value(Value::Object(fields.clone()))
        .map_err(|e| anyhow!("not a Llama config: {e}"))?;
    if let Some(head_dim) = fields.get("head_dim").and_then(Value::as_u64) {
        if config.num_attention_heads > 0 && head_dim as usize != config.head_dim() {
            bail!(
                "head_dim {head_dim} differs from hidden_size / num_attention_heads = {}; \
                 custom head sizes are not supported",
                config.head_dim()
            );
        }
    }
    Ok((config, extra_stops))
}

fn load_weights(dir: &Path) -> Result<HashMap<String, Tensor>> {
    let single = dir.join(WEIGHTS_FILE);
    let index = dir.join(WEIGHTS_INDEX_FILE);
    let files: Vec<std::path::PathBuf> = if single.exists() {
        vec![single]
    } else if index.exists() {
        shard_files(dir, &index)?
    } else {
        let hint = if dir.join("pytorch_model.bin").exists() {
            " (pytorch_model.bin is not read: convert it to safetensors with transformers' \
             `save_pretrained(..., safe_serialization=True)`)"
        } else {
            ""
        };
        bail!(
            "{}: no {WEIGHTS_FILE} or {WEIGHTS_INDEX_FILE}{hint}",
            dir.display()
        );
    };
    let mut tensors = HashMap::new();
    for file in files {
        let loaded = candle_core::safetensors::load(&file, &Device::Cpu)
            .map_err(|e| anyhow!("{}: cannot read safetensors: {e}", file.display()))?;
        for (name, tensor) in loaded {
            let tensor = match tensor.dtype() {
                DType::F32 => tensor,
                DType::F16 | DType::BF16 => tensor.to_dtype(DType::F32)?,
                other => bail!(
                    "{}: tensor `{name}` is {other:?}; only F32, F16 and BF16 weights load",
                    file.display()
                ),
            };
            if tensors.insert(name.clone(), tensor).is_some() {
                bail!(
                    "{}: tensor `{name}` appears in more than one shard",
                    file.display()
                );
            }
        }
    }
    Ok(tensors)
}

/// The shard files named by a `model.safetensors.index.json`, in name order.
fn shard_files(dir: &Path, index: &Path) -> Result<Vec<std::path::PathBuf>> {
    let json = read_json(index)?;
    let map = json
        .get("weight_map")
        .and_then(Value::as_object)
        .ok_or_else(|| anyhow!("{}: no `weight_map` object", index.display()))?;
    let mut shards = BTreeSet::new();
    for (tensor, file) in map {
        let file = file.as_str().ok_or_else(|| {
            anyhow!(
                "{}: weight_map entry `{tensor}` is not a file name",
                index.display()
            )
        })?;
        // Shard names are plain file names; anything else could point outside the directory.
        if file.contains('/') || file.contains('\\') || file == ".." {
            bail!(
                "{}: shard `{file}` is not a plain file name",
                index.display()
            );
        }
        shards.insert(file.to_string());
    }
    if shards.is_empty() {
        bail!("{}: the weight map is empty", index.display());
    }
    Ok(shards.into_iter().map(|f| dir.join(f)).collect())
}

/// A special-token entry of `tokenizer_config.json`: a string or `{"content": …}`.
fn token_text(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::String(s) => Some(s.clone()),
        Value::Object(o) => o.get("content")?.as_str().map(str::to_string),
        _ => None,
    }
}

/// The chat template of `tokenizer_config.json`: a string, or a list of named templates of
/// which `default` is used.
fn chat_template_text(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::String(s) => Some(s.clone()),
        Value::Array(items) => items.iter().find_map(|item| {
            (item.get("name")?.as_str()? == "default")
                .then(|| item.get("template")?.as_str().map(str::to_string))
                .flatten()
        }),
        _ => None,
    }
}

fn load_tokenizer(
    dir: &Path,
    config: &LlamaConfig,
    config_stop_ids: Vec<u32>,
) -> Result<(ModelTokenizer, Option<String>)> {
    let tokenizer_path = dir.join(TOKENIZER_FILE);
    if !tokenizer_path.exists() {
        bail!(
            "{}: no {TOKENIZER_FILE}; only fast tokenizers load (save one with \
             `AutoTokenizer.from_pretrained(...).save_pretrained(...)` in transformers)",
            dir.display()
        );
    }
    let mut tokenizer = ModelTokenizer::from_file(&tokenizer_path)?;
    let tokenizer_config = read_optional_json(&dir.join(TOKENIZER_CONFIG_FILE))?;
    let field = |name: &str| tokenizer_config.as_ref().and_then(|c| c.get(name));
    let context = || format!("in {}", dir.display());

    match token_text(field("bos_token")) {
        Some(text) => tokenizer = tokenizer.with_bos_token(&text).with_context(context)?,
        None => {
            if let Some(id) = config.bos_token_id {
                tokenizer = tokenizer.with_bos_id(id).with_context(context)?;
            }
        }
    }
    match token_text(field("eos_token")) {
        Some(text) => tokenizer = tokenizer.with_eos_token(&text).with_context(context)?,
        None => {
            if let Some(id) = config.eos_token_id {
                tokenizer = tokenizer.with_eos_id(id).with_context(context)?;
            }
        }
    }
    if let Some(text) = token_text(field("pad_token")) {
        tokenizer = tokenizer.with_pad_token(&text).with_context(context)?;
    }

    let mut stops = config_stop_ids;
    if let Some(generation) = read_optional_json(&dir.join(GENERATION_CONFIG_FILE))? {
        match generation.get("eos_token_id") {
            Some(Value::Number(n)) => stops.extend(n.as_u64().map(|n| n as u32)),
            Some(Value::Array(ids)) => {
                stops.extend(ids.iter().filter_map(|v| v.as_u64()).map(|n| n as u32))
            }
            _ => {}
        }
    }
    if let Some(eos) = config.eos_token_id {
        stops.push(eos);
    }
    let eos = tokenizer.eos_token_id();
    tokenizer = tokenizer
        .with_extra_stop_ids(stops.into_iter().filter(|&id| Some(id) != eos))
        .with_context(context)?;

    let template_file = dir.join(CHAT_TEMPLATE_FILE);
    let chat_template = if template_file.exists() {
        Some(
            std::fs::read_to_string(&template_file)
                .with_context(|| format!("cannot read {}", template_file.display()))?,
        )
    } else {
        chat_template_text(field("chat_template"))
    };
    Ok((tokenizer, chat_template))
}

/// Writes `model` as a Hugging Face directory that `transformers` loads with
/// `AutoModelForCausalLM.from_pretrained(dir)` and `AutoTokenizer.from_pretrained(dir)`.
/// `dir` must not exist yet or be empty, so no stale file from an earlier save survives.
pub fn save_hf_dir(model: &LoadedModel, dir: &Path) -> Result<()> {
    check_llama_weights(&model.config, &model.tensors)
        .context("refusing to save a model whose weights do not match its config")?;
    if dir.exists() {
        let mut entries = std::fs::read_dir(dir)
            .with_context(|| format!("cannot read directory {}", dir.display()))?;
        if entries.next().is_some() {
            bail!(
                "{} already exists and is not empty; save into a new directory",
                dir.display()
            );
        }
    }
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;

    write_json(&dir.join(CONFIG_FILE), &config_json(model))?;
    write_weights(&dir.join(WEIGHTS_FILE), &model.tensors)?;
    let tokenizer_json = model.tokenizer.to_json()?;
    write_file(
        &dir.join(TOKENIZER_FILE),
        format!("{tokenizer_json}\n").as_bytes(),
    )?;
    write_json(
        &dir.join(TOKENIZER_CONFIG_FILE),
        &tokenizer_config_json(model),
    )?;
    write_json(
        &dir.join(SPECIAL_TOKENS_MAP_FILE),
        &Value::Object(special_tokens_map(&model.tokenizer)),
    )?;
    write_json(
        &dir.join(GENERATION_CONFIG_FILE),
        &generation_config_json(model),
    )?;
    Ok(())
}

fn config_json(model: &LoadedModel) -> Value {
    let c = &model.config;
    json!({
        "architectures": ["LlamaForCausalLM"],
        "model_type": "llama",
        "vocab_size": c.vocab_size,
        "hidden_size": c.hidden_size,
        "intermediate_size": c.intermediate_size,
        "num_hidden_layers": c.num_hidden_layers,
        "num_attention_heads": c.num_attention_heads,
        "num_key_value_heads": c.num_key_value_heads,
        "head_dim": c.head_dim(),
        "hidden_act": "silu",
        "max_position_embeddings": c.max_position_embeddings,
        "rms_norm_eps": c.rms_norm_eps,
        "rope_theta": c.rope_theta,
        "rope_scaling": null,
        "attention_bias": false,
        "attention_dropout": 0.0,
        "mlp_bias": false,
        "tie_word_embeddings": c.tie_word_embeddings,
        "bos_token_id": c.bos_token_id.or(model.tokenizer.bos_token_id()),
        "eos_token_id": c.eos_token_id.or(model.tokenizer.eos_token_id()),
        "pad_token_id": model.tokenizer.pad_token_id(),
        "initializer_range": 0.02,
        "use_cache": true,
        "torch_dtype": "float32",
    })
}

fn special_tokens_map(tokenizer: &ModelTokenizer) -> Map<String, Value> {
    let mut map = Map::new();
    for (key, token) in [
        ("bos_token", tokenizer.bos_token()),
        ("eos_token", tokenizer.eos_token()),
        ("pad_token", tokenizer.pad_token()),
    ] {
        if let Some(token) = token {
            map.insert(key.into(), Value::String(token.content.clone()));
        }
    }
    map
}

fn tokenizer_config_json(model: &LoadedModel) -> Value {
    let mut map = Map::new();
    map.insert("tokenizer_class".into(), json!("PreTrainedTokenizerFast"));
    map.extend(special_tokens_map(&model.tokenizer));
    map.insert(
        "model_max_length".into(),
        json!(model.config.max_position_embeddings),
    );
    map.insert("clean_up_tokenization_spaces".into(), json!(false));
    if let Some(template) = &model.chat_template {
        map.insert("chat_template".into(), json!(template));
    }
    Value::Object(map)
}

fn generation_config_json(model: &LoadedModel) -> Value {
    let stops = model.tokenizer.stop_token_ids();
    let eos = match stops.as_slice() {
        [] => json!(model.config.eos_token_id),
        [one] => json!(one),
        many => json!(many),
    };
    json!({
        "bos_token_id": model.config.bos_token_id.or(model.tokenizer.bos_token_id()),
        "eos_token_id": eos,
        "pad_token_id": model.tokenizer.pad_token_id(),
    })
}

fn write_weights(path: &Path, tensors: &HashMap<String, Tensor>) -> Result<()> {
    // Sorted by name; safetensors also orders its header, but a fixed input order keeps the
    // file independent of HashMap iteration whatever the library does.
    let sorted: BTreeMap<&String, &Tensor> = tensors.iter().collect();
    let views = sorted
        .into_iter()
        .map(|(name, tensor)| {
            let values = tensor
                .flatten_all()
                .and_then(|t| t.to_vec1::<f32>())
                .with_context(|| format!("tensor `{name}` is not f32"))?;
            let view = F32View {
                shape: tensor.dims().to_vec(),
                values,
            };
            Ok((name.clone(), view))
        })
        .collect::<Result<Vec<_>>>()?;
    let metadata = HashMap::from([("format".to_string(), "pt".to_string())]);
    safetensors::tensor::serialize_to_file(views, Some(metadata), path)
        .map_err(|e| anyhow!("cannot write the weights to {}: {e}", path.display()))
}

/// An f32 tensor for safetensors, turned into little-endian bytes only while it is written, so
/// saving holds one tensor's bytes at a time.
struct F32View {
    shape: Vec<usize>,
    values: Vec<f32>,
}

impl safetensors::View for F32View {
    fn dtype(&self) -> safetensors::Dtype {
        safetensors::Dtype::F32
    }

    fn shape(&self) -> &[usize] {
        &self.shape
    }

    fn data(&self) -> std::borrow::Cow<'_, [u8]> {
        let mut bytes = Vec::with_capacity(self.values.len() * 4);
        for v in &self.values {
            bytes.extend_from_slice(&v.to_le_bytes());
        }
        bytes.into()
    }

    fn data_len(&self) -> usize {
        self.values.len() * 4
    }
}

fn write_json(path: &Path, value: &Value) -> Result<()> {
    let mut text = serde_json::to_string_pretty(value)?;
    text.push('\n');
    write_file(path, text.as_bytes())
}

fn write_file(path: &Path, bytes: &[u8]) -> Result<()> {
    std::fs::write(path, bytes).with_context(|| format!("cannot write {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::io_test_support::{tiny_model, SPECIALS};

    fn files_of(dir: &Path) -> BTreeMap<String, Vec<u8>> {
        std::fs::read_dir(dir)
            .unwrap()
            .map(|e| {
                let e = e.unwrap();
                (
                    e.file_name().to_string_lossy().into_owned(),
                    std::fs::read(e.path()).unwrap(),
                )
            })
            .collect()
    }

    fn assert_same_tensors(a: &HashMap<String, Tensor>, b: &HashMap<String, Tensor>) {
        assert_eq!(
            a.keys().collect::<BTreeSet<_>>(),
            b.keys().collect::<BTreeSet<_>>()
        );
        for (name, t) in a {
            let x: Vec<f32> = t.flatten_all().unwrap().to_vec1().unwrap();
            let y: Vec<f32> = b[name].flatten_all().unwrap().to_vec1().unwrap();
            assert_eq!(t.dims(), b[name].dims(), "{name}");
            assert!(
                x.iter().zip(&y).all(|(p, q)| p.to_bits() == q.to_bits()),
                "{name}"
            );
        }
    }

    #[test]
    fn save_then_load_gives_back_the_same_model() {
        for tied in [false, true] {
            let model = tiny_model(7, tied);
            let dir = tempfile::tempdir().unwrap();
            let out = dir.path().join("model");
            save_hf_dir(&model, &out).unwrap();
            let loaded = load_hf_dir(&out).unwrap();
            assert_eq!(loaded.config, model.config);
            assert_same_tensors(&loaded.tensors, &model.tensors);
            assert_eq!(loaded.tensors.contains_key("lm_head.weight"), !tied);
            assert_eq!(loaded.chat_template, model.chat_template);
            assert_eq!(loaded.tokenizer.eos_token(), model.tokenizer.eos_token());
            assert_eq!(loaded.tokenizer.pad_token(), model.tokenizer.pad_token());
            let text = "<|im_start|>user\nWhat is 2 + 2?<|im_end|>\n";
            assert_eq!(
                loaded.tokenizer.encode(text, true).unwrap(),
                model.tokenizer.encode(text, true).unwrap()
            );
        }
    }

    #[test]
    fn saving_is_byte_for_byte_deterministic() {
        let dir = tempfile::tempdir().unwrap();
        save_hf_dir(&tiny_model(3, false), &dir.path().join("a")).unwrap();
        save_hf_dir(&tiny_model(3, false), &dir.path().join("b")).unwrap();
        let a = files_of(&dir.path().join("a"));
        let b = files_of(&dir.path().join("b"));
        assert_eq!(
            a.keys().map(String::as_str).collect::<Vec<_>>(),
            [
                "config.json",
                "generation_config.json",
                "model.safetensors",
                "special_tokens_map.json",
                "tokenizer.json",
                "tokenizer_config.json"
            ]
        );
        assert_eq!(a, b);
        // Different weights, different bytes.
        save_hf_dir(&tiny_model(4, false), &dir.path().join("c")).unwrap();
        assert_ne!(
            a["model.safetensors"],
            files_of(&dir.path().join("c"))["model.safetensors"]
        );
    }

    #[test]
    fn saved_files_are_what_transformers_expects() {
        let dir = tempfile::tempdir().unwrap();
        save_hf_dir(&tiny_model(1, true), dir.path()).unwrap();
        let config = read_json(&dir.path().join("config.json")).unwrap();
        assert_eq!(config["architectures"], json!(["LlamaForCausalLM"]));
        assert_eq!(config["model_type"], "llama");
        assert_eq!(config["torch_dtype"], "float32");
        assert_eq!(config["tie_word_embeddings"], true);
        assert_eq!(config["head_dim"], 16);
        let weights = std::fs::read(dir.path().join("model.safetensors")).unwrap();
        let (_, header) = safetensors::SafeTensors::read_metadata(&weights).unwrap();
        let metadata = header.metadata().as_ref().unwrap();
        assert_eq!(metadata.get("format").map(String::as_str), Some("pt"));
        let tokenizer_config = read_json(&dir.path().join("tokenizer_config.json")).unwrap();
        assert_eq!(tokenizer_config["eos_token"], "<|im_end|>");
        assert_eq!(
            tokenizer_config["tokenizer_class"],
            "PreTrainedTokenizerFast"
        );
        assert!(tokenizer_config["chat_template"]
            .as_str()
            .unwrap()
            .contains("<|im_start|>"));
        let generation = read_json(&dir.path().join("generation_config.json")).unwrap();
        assert_eq!(generation["eos_token_id"], 2);
    }

    #[test]
    fn refuses_to_overwrite_and_to_save_inconsistent_weights() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("stale.txt"), "x").unwrap();
        let err = save_hf_dir(&tiny_model(1, false), dir.path()).unwrap_err();
        assert!(err.to_string().contains("not empty"), "{err}");

        let mut model = tiny_model(1, false);
        model.tensors.remove("model.layers.1.mlp.up_proj.weight");
        let err = save_hf_dir(&model, &dir.path().join("new")).unwrap_err();
        assert!(
            format!("{err:#}").contains("model.layers.1.mlp.up_proj.weight"),
            "{err:#}"
        );
    }

    #[test]
    fn loads_sharded_half_precision_checkpoints_with_tied_head_and_list_eos() {
        let model = tiny_model(5, false);
        let dir = tempfile::tempdir().unwrap();
        save_hf_dir(&model, dir.path()).unwrap();
        std::fs::remove_file(dir.path().join(WEIGHTS_FILE)).unwrap();

        // Two bf16 shards, an extra inv_freq buffer, and an index.
        let names: Vec<&String> = model
            .tensors
            .keys()
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let (first, second) = names.split_at(names.len() / 2);
        let mut weight_map = Map::new();
        for (shard, part) in [
            ("model-00001-of-00002.safetensors", first),
            ("model-00002-of-00002.safetensors", second),
        ] {
            let mut tensors: HashMap<String, Tensor> = part
                .iter()
                .map(|&n| (n.clone(), model.tensors[n].to_dtype(DType::BF16).unwrap()))
                .collect();
            if shard.starts_with("model-00001") {
                tensors.insert(
                    "model.layers.0.self_attn.rotary_emb.inv_freq".into(),
                    Tensor::ones(8, DType::F32, &Device::Cpu).unwrap(),
                );
            }
            for name in tensors.keys() {
                weight_map.insert(name.clone(), json!(shard));
            }
            candle_core::safetensors::save(&tensors, dir.path().join(shard)).unwrap();
        }
        write_json(
            &dir.path().join(WEIGHTS_INDEX_FILE),
            &json!({"metadata": {}, "weight_map": weight_map}),
        )
        .unwrap();
        // Llama 3.1 style: a list of eos ids; transformers 5 style rope_parameters.
        let mut config = read_json(&dir.path().join(CONFIG_FILE)).unwrap();
        config["eos_token_id"] = json!([2, 0]);
        config.as_object_mut().unwrap().remove("rope_theta");
        config["rope_parameters"] = json!({"rope_theta": 500000.0, "rope_type": "default"});
        std::fs::write(dir.path().join(CONFIG_FILE), config.to_string()).unwrap();

        let loaded = load_hf_dir(dir.path()).unwrap();
        assert_eq!(loaded.config.eos_token_id, Some(2));
        assert_eq!(loaded.config.rope_theta, 500000.0);
        assert_eq!(loaded.tokenizer.stop_token_ids(), vec![2, 0]);
        assert!(!loaded.tensors.keys().any(|k| k.contains("inv_freq")));
        for (name, t) in &model.tensors {
            let expected = t
                .to_dtype(DType::BF16)
                .unwrap()
                .to_dtype(DType::F32)
                .unwrap();
            assert_eq!(
                crate::model::io_test_support::max_abs_diff(&loaded.tensors[name], &expected),
                0.0,
                "{name}"
            );
        }
    }

    #[test]
    fn tied_checkpoints_may_carry_a_redundant_head() {
        let mut model = tiny_model(2, true);
        let dir = tempfile::tempdir().unwrap();
        save_hf_dir(&model, dir.path()).unwrap();
        let embed = model.tensors["model.embed_tokens.weight"].clone();
        model.tensors.insert("lm_head.weight".into(), embed);
        let sorted: BTreeMap<String, Tensor> = model.tensors.clone().into_iter().collect();
        candle_core::safetensors::save(
            &sorted.into_iter().collect(),
            dir.path().join(WEIGHTS_FILE),
        )
        .unwrap();
        let loaded = load_hf_dir(dir.path()).unwrap();
        assert!(!loaded.tensors.contains_key("lm_head.weight"));
    }

    #[test]
    fn reads_chat_template_and_token_roles_in_their_various_spellings() {
        let dir = tempfile::tempdir().unwrap();
        save_hf_dir(&tiny_model(1, false), dir.path()).unwrap();
        write_json(
            &dir.path().join(TOKENIZER_CONFIG_FILE),
            &json!({
                "bos_token": {"content": SPECIALS[1], "lstrip": false},
                "eos_token": SPECIALS[0],
                "chat_template": [
                    {"name": "tool_use", "template": "tools"},
                    {"name": "default", "template": "plain"}
                ]
            }),
        )
        .unwrap();
        let loaded = load_hf_dir(dir.path()).unwrap();
        assert_eq!(loaded.tokenizer.bos_token_id(), Some(1));
        assert_eq!(loaded.tokenizer.eos_token_id(), Some(0));
        assert_eq!(loaded.chat_template.as_deref(), Some("plain"));
        std::fs::write(dir.path().join(CHAT_TEMPLATE_FILE), "from file").unwrap();
        let loaded = load_hf_dir(dir.path()).unwrap();
        assert_eq!(loaded.chat_template.as_deref(), Some("from file"));
    }

    #[test]
    fn unsupported_or_broken_directories_are_explained() {
        let model = tiny_model(1, false);
        type Damage = Box<dyn Fn(&Path)>;
        let cases: Vec<(&str, Damage, &str)> = vec![
            (
                "no dir",
                Box::new(|d: &Path| std::fs::remove_dir_all(d).unwrap()),
                "not a directory",
            ),
            (
                "mistral",
                Box::new(|d: &Path| {
                    let mut c = read_json(&d.join(CONFIG_FILE)).unwrap();
                    c["model_type"] = json!("mistral");
                    write_json(&d.join(CONFIG_FILE), &c).unwrap();
                }),
                "model_type `mistral`",
            ),
            (
                "rope scaling",
                Box::new(|d: &Path| {
                    let mut c = read_json(&d.join(CONFIG_FILE)).unwrap();
                    c["rope_scaling"] = json!({"rope_type": "llama3", "factor": 8.0});
                    write_json(&d.join(CONFIG_FILE), &c).unwrap();
                }),
                "RoPE scaling",
            ),
            (
                "bad json",
                Box::new(|d: &Path| std::fs::write(d.join(CONFIG_FILE), "{").unwrap()),
                "not valid JSON",
            ),
            (
                "no weights",
                Box::new(|d: &Path| std::fs::remove_file(d.join(WEIGHTS_FILE)).unwrap()),
                "no model.safetensors",
            ),
            (
                "corrupt weights",
                Box::new(|d: &Path| std::fs::write(d.join(WEIGHTS_FILE), b"garbage").unwrap()),
                "cannot read safetensors",
            ),
            (
                "no tokenizer",
                Box::new(|d: &Path| std::fs::remove_file(d.join(TOKENIZER_FILE)).unwrap()),
                "no tokenizer.json",
            ),
            (
                "wrong layer count",
                Box::new(|d: &Path| {
                    let mut c = read_json(&d.join(CONFIG_FILE)).unwrap();
                    c["num_hidden_layers"] = json!(3);
                    write_json(&d.join(CONFIG_FILE), &c).unwrap();
                }),
                "missing tensor `model.layers.2.input_layernorm.weight`",
            ),
            (
                "unknown eos",
                Box::new(|d: &Path| {
                    write_json(
                        &d.join(TOKENIZER_CONFIG_FILE),
                        &json!({"eos_token": "</s>"}),
                    )
                    .unwrap()
                }),
                "`</s>` is not in",
            ),
        ];
        for (case, damage, expected) in cases {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("m");
            save_hf_dir(&model, &path).unwrap();
            damage(&path);
            let err = format!("{:#}", load_hf_dir(&path).unwrap_err());
            assert!(err.contains(expected), "{case}: {err}");
        }
    }
}
