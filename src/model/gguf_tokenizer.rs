//! Rebuilds a Hugging Face tokenizer from GGUF metadata (`tokenizer.ggml.*`).
//!
//! Supported: `tokenizer.ggml.model = "gpt2"`, i.e. byte-level BPE, which is what llama.cpp's
//! converter writes for SmolLM, Llama 3, Qwen 2 and GPT-2-style models. The vocabulary, merges
//! and token types come from the file; the pre-tokenizer (how text is split before BPE) is not
//! stored, only named by `tokenizer.ggml.pre`, so each name maps to the split rule llama.cpp
//! uses for it:
//!
//! | `tokenizer.ggml.pre` | pre-tokenizer |
//! |---|---|
//! | absent, `default`, `gpt-2`, `gpt2`, `mpt`, `olmo` | GPT-2 byte-level regex |
//! | `smollm`, `starcoder`, `refact`, `command-r`, `codeshell`, `exaone`, `minerva` | every digit alone, then the GPT-2 regex |
//! | `llama3`, `llama-v3`, `llama-bpe`, `falcon3`, `pixtral` | Llama 3 regex (numbers in groups of up to 3) |
//! | `qwen2`, `stablelm2`, `deepseek-r1-qwen` | Qwen 2 regex (every digit alone) |
//!
//! Token types: control tokens (3) become special added tokens, user-defined tokens (4) plain
//! added tokens, so both are matched whole in text, as llama.cpp does.
//! `tokenizer.ggml.add_bos_token` / `add_eos_token` (default false) become a post-processor.

use anyhow::{anyhow, bail, Context, Result};
use tokenizers::decoders::byte_level::ByteLevel as ByteLevelDecoder;
use tokenizers::models::bpe::{Vocab, BPE};
use tokenizers::pre_tokenizers::byte_level::ByteLevel;
use tokenizers::pre_tokenizers::digits::Digits;
use tokenizers::pre_tokenizers::sequence::Sequence;
use tokenizers::pre_tokenizers::split::{Split, SplitPattern};
use tokenizers::pre_tokenizers::PreTokenizerWrapper;
use tokenizers::processors::PostProcessorWrapper;
use tokenizers::{AddedToken, SplitDelimiterBehavior, Tokenizer};

use super::gguf_metadata::GgufMetadata;
use super::tokenizer::ModelTokenizer;

const TOKEN_TYPE_CONTROL: usize = 3;
const TOKEN_TYPE_USER_DEFINED: usize = 4;

const LLAMA3_SPLIT: &str = r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";
const QWEN2_SPLIT: &str = r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

/// How a GGUF `tokenizer.ggml.pre` name splits text before BPE.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PreTokenizerKind {
    Gpt2,
    DigitsThenGpt2,
    Llama3,
    Qwen2,
}

impl PreTokenizerKind {
    fn from_gguf_name(name: Option<&str>) -> Option<Self> {
        Some(match name {
            None | Some("default" | "gpt-2" | "gpt2" | "mpt" | "olmo") => Self::Gpt2,
            Some(
                "smollm" | "starcoder" | "refact" | "command-r" | "codeshell" | "exaone"
                | "minerva",
            ) => Self::DigitsThenGpt2,
            Some("llama3" | "llama-v3" | "llama-bpe" | "falcon3" | "pixtral") => Self::Llama3,
            Some("qwen2" | "stablelm2" | "deepseek-r1-qwen") => Self::Qwen2,
            Some(_) => return None,
        })
    }

    fn build(self) -> Result<PreTokenizerWrapper> {
        let gpt2 = || PreTokenizerWrapper::ByteLevel(ByteLevel::new(false, true, true));
        let regex_then_bytes = |pattern: &str| -> Result<PreTokenizerWrapper> {
            let split = Split::new(
                SplitPattern::Regex(pattern.to_string()),
                SplitDelimiterBehavior::Isolated,
                false,
            )
            .map_err(|e| anyhow!("cannot compile pre-tokenizer regex: {e}"))?;
            Ok(PreTokenizerWrapper::Sequence(Sequence::new(vec![
                PreTokenizerWrapper::Split(split),
                PreTokenizerWrapper::ByteLevel(ByteLevel::new(false, true, false)),
            ])))
        };
        match self {
            Self::Gpt2 => Ok(gpt2()),
            Self::DigitsThenGpt2 => Ok(PreTokenizerWrapper::Sequence(Sequence::new(vec![
                PreTokenizerWrapper::Digits(Digits::new(true)),
                gpt2(),
            ]))),
            Self::Llama3 => regex_then_bytes(LLAMA3_SPLIT),
            Self::Qwen2 => regex_then_bytes(QWEN2_SPLIT),
        }
    }
}

/// Builds the tokenizer described by a GGUF file's `tokenizer.ggml.*` metadata.
pub fn tokenizer_from_gguf(meta: &GgufMetadata<'_>) -> Result<ModelTokenizer> {
    let path = meta.path().display().to_string();
    let model = meta.str("tokenizer.ggml.model", "the tokenizer type")?;
    if model != "gpt2" {
        bail!(
            "{path}: tokenizer type `{model}` is not supported; only byte-level BPE (`gpt2`) \
             tokenizers can be rebuilt from GGUF metadata — load the model's Hugging Face \
             directory (with tokenizer.json) instead"
        );
    }
    let pre_name = meta.opt_str("tokenizer.ggml.pre")?;
    let pre_kind = PreTokenizerKind::from_gguf_name(pre_name).ok_or_else(|| {
        anyhow!(
            "{path}: pre-tokenizer `{}` (tokenizer.ggml.pre) is not supported; supported: \
             default, gpt2, smollm, starcoder, llama3, llama-bpe, qwen2 and their aliases \
             (see docs/models.md)",
            pre_name.unwrap_or_default()
        )
    })?;

    let tokens = meta.str_array("tokenizer.ggml.tokens", "the vocabulary")?;
    let merges = meta.str_array("tokenizer.ggml.merges", "BPE merges")?;
    let token_types = meta.opt_int_array("tokenizer.ggml.token_type")?;
    if let Some(types) = &token_types {
        if types.len() != tokens.len() {
            bail!(
                "{path}: tokenizer.ggml.token_type has {} entries but tokenizer.ggml.tokens has {}",
                types.len(),
                tokens.len()
            );
        }
    }

    let mut vocab = Vocab::default();
    for (id, token) in tokens.iter().enumerate() {
        if let Some(first) = vocab.insert(token.to_string(), id as u32) {
            bail!("{path}: token `{token}` appears twice in the vocabulary (ids {first} and {id})");
        }
    }
    let merges = merges
        .iter()
        .enumerate()
        .map(|(rank, merge)| {
            merge
                .split_once(' ')
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .ok_or_else(|| anyhow!("{path}: BPE merge #{rank} `{merge}` is not `left right`"))
        })
        .collect::<Result<Vec<_>>>()?;
    let bpe = BPE::builder()
        .vocab_and_merges(vocab, merges)
        // Llama 3's tokenizer looks up whole pre-tokens before merging; llama.cpp does the same.
        .ignore_merges(pre_kind == PreTokenizerKind::Llama3)
        .build()
        .map_err(|e| anyhow!("{path}: invalid BPE vocabulary or merges: {e}"))?;

    let mut inner = Tokenizer::new(bpe);
    inner.with_pre_tokenizer(Some(pre_kind.build()?));
    inner.with_decoder(Some(ByteLevelDecoder::default()));

    if let Some(types) = &token_types {
        let added: Vec<(usize, AddedToken)> = types
            .iter()
            .enumerate()
            .filter_map(|(id, &kind)| {
                let special = match kind {
                    TOKEN_TYPE_CONTROL => true,
                    TOKEN_TYPE_USER_DEFINED => false,
                    _ => return None,
                };
                let token = AddedToken::from(tokens[id], special).normalized(false);
                Some((id, token))
            })
            .collect();
        let special: Vec<AddedToken> = added
            .iter()
            .filter(|(_, t)| t.special)
            .map(|(_, t)| t.clone())
            .collect();
        let plain: Vec<AddedToken> = added
            .iter()
            .filter(|(_, t)| !t.special)
            .map(|(_, t)| t.clone())
            .collect();
        inner.add_special_tokens(&special);
        inner.add_tokens(&plain);
    }

    let vocab_size = tokens.len();
    let bos = meta.opt_token_id("tokenizer.ggml.bos_token_id", vocab_size)?;
    let eos = meta.opt_token_id("tokenizer.ggml.eos_token_id", vocab_size)?;
    let pad = meta.opt_token_id("tokenizer.ggml.padding_token_id", vocab_size)?;
    let add_bos = meta
        .opt_bool("tokenizer.ggml.add_bos_token")?
        .unwrap_or(false);
    let add_eos = meta
        .opt_bool("tokenizer.ggml.add_eos_token")?
        .unwrap_or(false);
    let bos_text = bos.map(|id| tokens[id as usize]);
    let eos_text = eos.map(|id| tokens[id as usize]);
    if add_bos && bos.is_none() {
        bail!("{path}: tokenizer.ggml.add_bos_token is true but tokenizer.ggml.bos_token_id is missing");
    }
    if add_eos && eos.is_none() {
        bail!("{path}: tokenizer.ggml.add_eos_token is true but tokenizer.ggml.eos_token_id is missing");
    }
    if add_bos || add_eos {
        let processor = wrap_post_processor(
            bos.filter(|_| add_bos).zip(bos_text),
            eos.filter(|_| add_eos).zip(eos_text),
        )
        .with_context(|| format!("{path}: cannot build the BOS/EOS post-processor"))?;
        inner.with_post_processor(Some(processor));
    }

    let mut tokenizer = ModelTokenizer::new(inner);
    if let Some(id) = bos {
        tokenizer = tokenizer.with_bos_id(id)?;
    }
    if let Some(id) = eos {
        tokenizer = tokenizer.with_eos_id(id)?;
    }
    if let Some(id) = pad {
        tokenizer = tokenizer.with_pad_id(id)?;
    }
    let mut stops = Vec::new();
    for key in ["tokenizer.ggml.eot_token_id", "tokenizer.ggml.eom_token_id"] {
        stops.extend(meta.opt_token_id(key, vocab_size)?);
    }
    tokenizer.with_extra_stop_ids(stops)
}

/// A post-processor that wraps each sequence in BOS/EOS, written in `tokenizer.json`'s own
/// format so token texts containing `:` or `$` need no escaping.
pub(crate) fn wrap_post_processor(
    bos: Option<(u32, &str)>,
    eos: Option<(u32, &str)>,
) -> Result<PostProcessorWrapper> {
    let special = |text: &str| serde_json::json!({"SpecialToken": {"id": text, "type_id": 0}});
    let sequence = |id: &str| serde_json::json!({"Sequence": {"id": id, "type_id": 0}});
    let mut single = Vec::new();
    let mut pair = Vec::new();
    let mut special_tokens = serde_json::Map::new();
    if let Some((id, text)) = bos {
        single.push(special(text));
        special_tokens.insert(
            text.to_string(),
            serde_json::json!({"id": text, "ids": [id], "tokens": [text]}),
        );
    }
    single.push(sequence("A"));
    pair.extend(single.iter().cloned());
    if let Some((id, text)) = eos {
        single.push(special(text));
        pair.push(special(text));
        special_tokens.insert(
            text.to_string(),
            serde_json::json!({"id": text, "ids": [id], "tokens": [text]}),
        );
    }
    if let Some((_, text)) = bos {
        pair.push(special(text));
    }
    pair.push(sequence("B"));
    if let Some((_, text)) = eos {
        pair.push(special(text));
    }
    let json = serde_json::json!({
        "type": "TemplateProcessing",
        "single": single,
        "pair": pair,
        "special_tokens": special_tokens,
    });
    serde_json::from_value(json).map_err(|e| anyhow!("invalid template post-processor: {e}"))
}
