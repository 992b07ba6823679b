//! A model artifact as ops use it: the Llama on a device, its tokenizer and chat template, read
//! from and written to a Hugging Face directory (config.json, model.safetensors, tokenizer.json,
//! tokenizer_config.json) — the format the cache stores and `transformers` loads.

use std::path::Path;

use anyhow::{Context, Result};
use candle_core::Device;
use serde_json::{json, Value as Json};

use crate::model::chat_template::{ChatMessage, ChatTemplate, TemplateTokens};
use crate::model::config::LlamaConfig;
use crate::model::hf_dir::{load_hf_dir, save_hf_dir};
use crate::model::llama::Llama;
use crate::model::loaded_model::LoadedModel;
use crate::model::tokenizer::ModelTokenizer;

pub struct ModelBundle {
    pub llama: Llama,
    pub tokenizer: ModelTokenizer,
    /// The Jinja source of the chat template.
    pub chat_template: String,
}

/// The template used when a model ships none: Tülu's `<|user|>` / `<|assistant|>` format.
pub const DEFAULT_TEMPLATE: &str = "tulu";

impl ModelBundle {
    pub fn load(dir: &Path, device: &Device) -> Result<ModelBundle> {
        let loaded = load_hf_dir(dir)
            .with_context(|| format!("cannot load the model in {}", dir.display()))?;
        Self::from_loaded(loaded, device)
    }

    pub fn from_loaded(loaded: LoadedModel, device: &Device) -> Result<ModelBundle> {
        let chat_template = match loaded.chat_template {
            Some(t) => t,
            None => ChatTemplate::builtin(DEFAULT_TEMPLATE)?
                .source()
                .to_string(),
        };
        let llama = Llama::from_tensors(loaded.config, loaded.tensors, device)?;
        Ok(ModelBundle {
            llama,
            tokenizer: loaded.tokenizer,
            chat_template,
        })
    }

    pub fn config(&self) -> &LlamaConfig {
        self.llama.config()
    }

    pub fn template(&self) -> Result<ChatTemplate> {
        ChatTemplate::from_source(&self.chat_template)
    }

    /// Writes the model as a Hugging Face directory `dir` (which must not exist or be empty).
    pub fn save(&self, dir: &Path) -> Result<()> {
        let loaded = LoadedModel {
            config: self.llama.config().clone(),
            tensors: self.llama.to_tensors()?,
            tokenizer: self.tokenizer.clone(),
            chat_template: Some(self.chat_template.clone()),
        };
        save_hf_dir(&loaded, dir)
            .with_context(|| format!("cannot save the model to {}", dir.display()))
    }

    /// The metadata every model manifest carries (`tulu cat --summary`).
    pub fn manifest_meta(&self) -> Json {
        let c = self.config();
        json!({
            "architecture": "llama",
            "parameters": self.llama.num_parameters(),
            "hidden_size": c.hidden_size,
            "layers": c.num_hidden_layers,
            "heads": c.num_attention_heads,
            "kv_heads": c.num_key_value_heads,
            "intermediate_size": c.intermediate_size,
            "vocab_size": c.vocab_size,
            "context": c.max_position_embeddings,
        })
    }

    /// The token ids of a conversation rendered for generation (ending with the assistant turn's
    /// opening).
    pub fn prompt_ids(
        &self,
        template: &ChatTemplate,
        messages: &[ChatMessage],
    ) -> Result<Vec<u32>> {
        let tokens = TemplateTokens::from_tokenizer(&self.tokenizer);
        let text = template.render(messages, &tokens, true)?;
        self.tokenizer.encode(&text, true)
    }
}

/// The device tensor ops run on: `TULU_DEVICE` = `cpu` (default), `cuda` or `cuda:N` (a build
/// with `--features cuda`).
pub fn device_from_env() -> Result<Device> {
    let spec = std::env::var("TULU_DEVICE").unwrap_or_else(|_| "cpu".into());
    match spec.as_str() {
        "cpu" | "" => Ok(Device::Cpu),
        s if s == "cuda" || s.starts_with("cuda:") => {
            let ordinal = s
                .strip_prefix("cuda:")
                .map(|n| n.parse::<usize>())
                .transpose()
                .map_err(|_| anyhow::anyhow!("TULU_DEVICE={s}: write cuda or cuda:N"))?
                .unwrap_or(0);
            if !candle_core::utils::cuda_is_available() {
                anyhow::bail!(
                    "TULU_DEVICE={s}, but this tulu was built without CUDA; build with `cargo build --release --features cuda` (see docs/gpu.md)"
                );
            }
            // candle's error carries a backtrace; the user needs the driver's verdict and a way out.
            Device::new_cuda(ordinal).map_err(|e| {
                anyhow::anyhow!(
                    "TULU_DEVICE={s}: cannot open CUDA device {ordinal}: {}; check that the machine \
                     has an NVIDIA GPU and driver (`nvidia-smi`), or run on the CPU with TULU_DEVICE=cpu",
                    without_backtrace(e)
                )
            })
        }
        other => anyhow::bail!("TULU_DEVICE={other}: the devices are cpu, cuda and cuda:N"),
    }
}

/// candle's error without the backtrace it captured (with `RUST_BACKTRACE` set), which would bury
/// the message under a page of frames.
fn without_backtrace(error: candle_core::Error) -> candle_core::Error {
    match error {
        candle_core::Error::WithBacktrace { inner, .. } => *inner,
        other => other,
    }
}

/// Messages of a chat row as the template wants them.
pub fn messages_of(value: &Json) -> Vec<ChatMessage> {
    value
        .as_array()
        .map(|list| {
            list.iter()
                .filter_map(|m| {
                    Some(ChatMessage::new(
                        m.get("role")?.as_str()?,
                        m.get("content")?.as_str()?,
                    ))
                })
                .collect()
        })
        .unwrap_or_default()
}
