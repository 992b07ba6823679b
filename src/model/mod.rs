//! The language model on candle: config, weights (GGUF, safetensors), tokenizer, chat templates,
//! generation.

pub mod config;

// Model I/O: file formats, tokenizers, chat templates (see docs/models.md).
pub mod bpe_training;
pub mod chat_template;
pub mod chat_tokenize;
pub mod gguf;
pub mod gguf_metadata;
pub mod gguf_tokenizer;
pub mod hf_dir;
#[cfg(test)]
mod io_test_support;
pub mod loaded_model;
#[cfg(test)]
mod smollm2_reference_tests;
pub mod tokenizer;
pub mod weight_layout;

// The trainable model, its kernels and generation (model-core).
pub mod cpu_runtime;
pub mod fused;
pub mod generate;
#[cfg(test)]
mod generate_tests;
pub mod kv_cache;
pub mod llama;
pub mod llama_error;
#[cfg(test)]
mod llama_tests;
pub mod rope;
pub mod sampling;
