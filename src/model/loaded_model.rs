//! A model as the loaders hand it over: its shape, its weights in Hugging Face Llama names and
//! layout, its tokenizer and its chat template — whatever file format it came from.

use std::collections::HashMap;

use candle_core::Tensor;

use super::config::LlamaConfig;
use super::tokenizer::ModelTokenizer;

/// A Llama-family model read from GGUF or a Hugging Face directory.
///
/// `tensors` are f32 on the CPU, named as in `transformers`' `LlamaForCausalLM`
/// (`model.embed_tokens.weight` [vocab, hidden], `model.layers.{i}.self_attn.q_proj.weight`
/// [out, in], …, `lm_head.weight` absent when `config.tie_word_embeddings`), with Q and K rows
/// in Hugging Face's rotate-half RoPE order. [`super::weight_layout::check_llama_weights`] has
/// been run on them.
#[derive(Debug, Clone)]
pub struct LoadedModel {
    pub config: LlamaConfig,
    pub tensors: HashMap<String, Tensor>,
    pub tokenizer: ModelTokenizer,
    /// The model's own Jinja chat template, if it ships one.
    pub chat_template: Option<String>,
}
