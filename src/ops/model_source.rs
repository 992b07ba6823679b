//! `model(path)`: bring a model into the cache — a GGUF file (dequantized; its tokenizer and chat
//! template come from its metadata) or a Hugging Face directory. Stored as a Hugging Face
//! directory that `transformers` loads. `chat_template:` replaces the model's template with a
//! built-in one (`"tulu"`, `"chatml"`) or with Jinja source.

use super::model_bundle::ModelBundle;
use super::{Op, OpCall, OpContext, Output};
use crate::check::signature::{ArgProblem, Args, CheckEnv, ParamSpec};
use crate::check::{OpSignature, Type};
use crate::model::chat_template::{ChatTemplate, BUILTIN_TEMPLATES};
use crate::model::gguf::load_gguf;
use crate::model::hf_dir::load_hf_dir;

pub struct ModelSource {
    signature: OpSignature,
}

impl ModelSource {
    pub fn new() -> ModelSource {
        ModelSource {
            signature: OpSignature {
                name: "model",
                version: 1,
                doc: "A model from a GGUF file or a Hugging Face directory (config.json, model.safetensors, tokenizer.json)",
                params: vec![
                    ParamSpec::required("path", Type::File, "a .gguf file or a model directory, relative to the recipe or `asset:…`"),
                    ParamSpec::optional("chat_template", Type::Str, "a built-in template (tulu, chatml) or Jinja source, replacing the model's"),
                ],
                output: |_: &Args, _: &CheckEnv| -> Result<Type, ArgProblem> { Ok(Type::Model) },
                complete: None,
            },
        }
    }
}

impl Default for ModelSource {
    fn default() -> Self {
        ModelSource::new()
    }
}

impl Op for ModelSource {
    fn signature(&self) -> &OpSignature {
        &self.signature
    }

    fn execute(&self, call: &OpCall, ctx: &OpContext) -> anyhow::Result<Output> {
        let path = call.file("path")?;
        ctx.progress.message("loading");
        let mut loaded = if path.is_dir() {
            load_hf_dir(path)?
        } else {
            load_gguf(path)?
        };
        if let Some(template) = call.opt_str("chat_template") {
            let source = if BUILTIN_TEMPLATES.contains(&template) {
                ChatTemplate::builtin(template)?.source().to_string()
            } else {
                ChatTemplate::from_source(template)?.source().to_string()
            };
            loaded.chat_template = Some(source);
        }
        let bundle = ModelBundle::from_loaded(loaded, &candle_core::Device::Cpu)?;
        ctx.progress.message("saving");
        let dir = ctx.work_dir.join("model");
        bundle.save(&dir)?;
        Ok(Output::Dir {
            kind: "model",
            dir,
            meta: bundle.manifest_meta(),
        })
    }
}
