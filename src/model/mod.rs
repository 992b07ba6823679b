//! The language model on candle: config, weights (GGUF, safetensors), tokenizer, chat templates,
//! generation.

pub mod config;

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
