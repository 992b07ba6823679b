//! The language model on candle: config, weights (GGUF, safetensors), tokenizer, chat templates,
//! generation.

pub mod config;
