//! The tokenizer a model is used with: a Hugging Face `tokenizers` tokenizer plus the roles of its
//! special tokens (beginning/end of sequence, padding), which `tokenizer.json` itself does not
//! record — they live in `tokenizer_config.json` or in GGUF metadata.
//!
//! Encoding follows `transformers`: `add_special_tokens` applies the tokenizer's own
//! post-processor (for example a BOS prefix), and special tokens written in the text
//! (`<|im_start|>`) are recognised as single tokens.

use std::path::Path;

use anyhow::{anyhow, bail, Context, Result};
use tokenizers::Tokenizer;

/// A special token with its id, e.g. `<|im_end|>` = 2.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpecialToken {
    pub id: u32,
    pub content: String,
}

/// Token ids with the byte span of the input text each token came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenizedText {
    pub ids: Vec<u32>,
    /// `(start, end)` byte offsets into the encoded text. Tokens added by the post-processor
    /// (such as a BOS prefix) cover no text and have `start == end`.
    pub offsets: Vec<(usize, usize)>,
    /// True for tokens the post-processor added (BOS/EOS), false for tokens of the text.
    pub added_by_post_processor: Vec<bool>,
}

/// A tokenizer with the roles of its special tokens.
#[derive(Clone)]
pub struct ModelTokenizer {
    inner: Tokenizer,
    bos: Option<SpecialToken>,
    eos: Option<SpecialToken>,
    pad: Option<SpecialToken>,
    /// Further ids that end generation besides EOS (e.g. Llama 3's `<|eot_id|>`, listed in
    /// `generation_config.json` or as GGUF `tokenizer.ggml.eot_token_id`).
    extra_stop_ids: Vec<u32>,
}

impl std::fmt::Debug for ModelTokenizer {
    // The vocabulary runs to megabytes; show what identifies the tokenizer instead.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ModelTokenizer")
            .field("vocab_size", &self.vocab_size())
            .field("bos", &self.bos)
            .field("eos", &self.eos)
            .field("pad", &self.pad)
            .field("extra_stop_ids", &self.extra_stop_ids)
            .finish_non_exhaustive()
    }
}

impl ModelTokenizer {
    /// Wraps a `tokenizers` tokenizer; no special-token roles are set yet.
    pub fn new(inner: Tokenizer) -> Self {
        Self {
            inner,
            bos: None,
            eos: None,
            pad: None,
            extra_stop_ids: Vec::new(),
        }
    }

    /// Reads a `tokenizer.json`.
    pub fn from_file(path: &Path) -> Result<Self> {
        let bytes = std::fs::read(path)
            .with_context(|| format!("cannot read tokenizer file {}", path.display()))?;
        Self::from_json_bytes(&bytes).with_context(|| format!("in {}", path.display()))
    }

    /// Parses the contents of a `tokenizer.json`.
    pub fn from_json_bytes(bytes: &[u8]) -> Result<Self> {
        let inner =
            Tokenizer::from_bytes(bytes).map_err(|e| anyhow!("not a valid tokenizer.json: {e}"))?;
        Ok(Self::new(inner))
    }

    /// Sets the beginning-of-sequence token by its text; it must be in the vocabulary.
    pub fn with_bos_token(mut self, content: &str) -> Result<Self> {
        self.bos = Some(self.special_token("bos", content)?);
        Ok(self)
    }

    /// Sets the end-of-sequence token by its text; it must be in the vocabulary.
    pub fn with_eos_token(mut self, content: &str) -> Result<Self> {
        self.eos = Some(self.special_token("eos", content)?);
        Ok(self)
    }

    /// Sets the padding token by its text; it must be in the vocabulary.
    pub fn with_pad_token(mut self, content: &str) -> Result<Self> {
        self.pad = Some(self.special_token("pad", content)?);
        Ok(self)
    }

    /// Sets the beginning-of-sequence token by id.
    pub fn with_bos_id(mut self, id: u32) -> Result<Self> {
        self.bos = Some(self.special_token_by_id("bos", id)?);
        Ok(self)
    }

    /// Sets the end-of-sequence token by id.
    pub fn with_eos_id(mut self, id: u32) -> Result<Self> {
        self.eos = Some(self.special_token_by_id("eos", id)?);
        Ok(self)
    }

    /// Sets the padding token by id.
    pub fn with_pad_id(mut self, id: u32) -> Result<Self> {
        self.pad = Some(self.special_token_by_id("pad", id)?);
        Ok(self)
    }

    /// Adds ids that end generation besides EOS; each must be in the vocabulary.
    pub fn with_extra_stop_ids(mut self, ids: impl IntoIterator<Item = u32>) -> Result<Self> {
        for id in ids {
            self.special_token_by_id("stop", id)?;
            if !self.extra_stop_ids.contains(&id) {
                self.extra_stop_ids.push(id);
            }
        }
        Ok(self)
    }

    fn special_token(&self, role: &str, content: &str) -> Result<SpecialToken> {
        let id = self.inner.token_to_id(content).ok_or_else(|| {
            anyhow!("the {role} token `{content}` is not in the tokenizer's vocabulary")
        })?;
        Ok(SpecialToken {
            id,
            content: content.to_string(),
        })
    }

    fn special_token_by_id(&self, role: &str, id: u32) -> Result<SpecialToken> {
        let content = self.inner.id_to_token(id).ok_or_else(|| {
            anyhow!(
                "the {role} token id {id} is outside the tokenizer's vocabulary of {} tokens",
                self.vocab_size()
            )
        })?;
        Ok(SpecialToken { id, content })
    }

    /// Encodes text to ids. `add_special_tokens` applies the post-processor (e.g. a BOS prefix).
    pub fn encode(&self, text: &str, add_special_tokens: bool) -> Result<Vec<u32>> {
        let encoding = self
            .inner
            .encode_fast(text, add_special_tokens)
            .map_err(|e| anyhow!("tokenizer failed to encode text: {e}"))?;
        Ok(encoding.get_ids().to_vec())
    }

    /// Encodes text to ids together with the byte span each token covers.
    pub fn encode_with_offsets(
        &self,
        text: &str,
        add_special_tokens: bool,
    ) -> Result<TokenizedText> {
        let encoding = self
            .inner
            .encode(text, add_special_tokens)
            .map_err(|e| anyhow!("tokenizer failed to encode text: {e}"))?;
        Ok(TokenizedText {
            ids: encoding.get_ids().to_vec(),
            offsets: encoding.get_offsets().to_vec(),
            added_by_post_processor: encoding
                .get_special_tokens_mask()
                .iter()
                .map(|&m| m != 0)
                .collect(),
        })
    }

    /// Decodes ids to text; `skip_special_tokens` drops special tokens such as `<|im_end|>`.
    pub fn decode(&self, ids: &[u32], skip_special_tokens: bool) -> Result<String> {
        self.check_ids(ids)?;
        self.inner
            .decode(ids, skip_special_tokens)
            .map_err(|e| anyhow!("tokenizer failed to decode ids: {e}"))
    }

    /// A decoder for streaming generation: feed ids one at a time, get text as soon as it forms
    /// complete characters.
    pub fn stream_decoder(&self, skip_special_tokens: bool) -> StreamDecoder<'_> {
        StreamDecoder {
            tokenizer: self,
            skip_special_tokens,
            ids: Vec::new(),
            prefix_offset: 0,
            read_offset: 0,
        }
    }

    fn check_ids(&self, ids: &[u32]) -> Result<()> {
        let size = self.vocab_size();
        if let Some(bad) = ids.iter().find(|&&id| id as usize >= size) {
            bail!("token id {bad} is outside the tokenizer's vocabulary of {size} tokens");
        }
        Ok(())
    }

    /// The id of a token given by its text (a special token or a vocabulary entry).
    pub fn token_to_id(&self, token: &str) -> Option<u32> {
        self.inner.token_to_id(token)
    }

    /// The text of a token as stored in the vocabulary (byte-level encoded for BPE models).
    pub fn id_to_token(&self, id: u32) -> Option<String> {
        self.inner.id_to_token(id)
    }

    /// Number of token ids, including added tokens.
    pub fn vocab_size(&self) -> usize {
        self.inner.get_vocab_size(true)
    }

    /// Whether `id` is a special token (skipped by `decode(.., true)`).
    pub fn is_special(&self, id: u32) -> bool {
        self.inner
            .get_added_tokens_decoder()
            .get(&id)
            .is_some_and(|t| t.special)
    }

    /// All special tokens, ordered by id.
    pub fn special_tokens(&self) -> Vec<SpecialToken> {
        let mut tokens: Vec<SpecialToken> = self
            .inner
            .get_added_tokens_decoder()
            .into_iter()
            .filter(|(_, t)| t.special)
            .map(|(id, t)| SpecialToken {
                id,
                content: t.content,
            })
            .collect();
        tokens.sort_by_key(|t| t.id);
        tokens
    }

    pub fn bos_token(&self) -> Option<&SpecialToken> {
        self.bos.as_ref()
    }

    pub fn eos_token(&self) -> Option<&SpecialToken> {
        self.eos.as_ref()
    }

    pub fn pad_token(&self) -> Option<&SpecialToken> {
        self.pad.as_ref()
    }

    pub fn bos_token_id(&self) -> Option<u32> {
        self.bos.as_ref().map(|t| t.id)
    }

    pub fn eos_token_id(&self) -> Option<u32> {
        self.eos.as_ref().map(|t| t.id)
    }

    pub fn pad_token_id(&self) -> Option<u32> {
        self.pad.as_ref().map(|t| t.id)
    }

    /// Ids that end generation: EOS first, then any extra stop ids.
    pub fn stop_token_ids(&self) -> Vec<u32> {
        let mut ids: Vec<u32> = self.eos_token_id().into_iter().collect();
        for &id in &self.extra_stop_ids {
            if !ids.contains(&id) {
                ids.push(id);
            }
        }
        ids
    }

    /// The wrapped `tokenizers` tokenizer.
    pub fn inner(&self) -> &Tokenizer {
        &self.inner
    }

    /// The `tokenizer.json` text (pretty-printed, as `transformers` writes it). Deterministic:
    /// the vocabulary and added tokens are written in id order.
    pub fn to_json(&self) -> Result<String> {
        self.inner
            .to_string(true)
            .map_err(|e| anyhow!("cannot serialize tokenizer: {e}"))
    }
}

/// Incremental detokenization for streaming generation.
///
/// Decoding each token on its own is wrong for byte-level BPE (a character may span several
/// tokens) and for decoders that join or strip spaces, so each step decodes a short window of
/// recent ids twice — with and without the new id — and returns the difference, held back while
/// it ends in an incomplete UTF-8 character. The window keeps each step O(1) in sequence length.
pub struct StreamDecoder<'a> {
    tokenizer: &'a ModelTokenizer,
    skip_special_tokens: bool,
    ids: Vec<u32>,
    /// Start of the context window: ids before it are never decoded again.
    prefix_offset: usize,
    /// End of the text already returned.
    read_offset: usize,
}

impl StreamDecoder<'_> {
    /// Adds one id; returns the text it completes, if any.
    pub fn step(&mut self, id: u32) -> Result<Option<String>> {
        self.ids.push(id);
        let window = &self.ids[self.prefix_offset..];
        let already_read = &self.ids[self.prefix_offset..self.read_offset];
        let prefix_text = self
            .tokenizer
            .decode(already_read, self.skip_special_tokens)?;
        let text = self.tokenizer.decode(window, self.skip_special_tokens)?;
        if text.len() <= prefix_text.len() || text.ends_with('\u{FFFD}') {
            return Ok(None);
        }
        let Some(new_text) = text.strip_prefix(prefix_text.as_str()) else {
            bail!(
                "streaming decode: the decoder rewrote earlier text ({prefix_text:?} became \
                 {text:?}); decode the whole sequence instead"
            );
        };
        let new_text = new_text.to_string();
        self.prefix_offset = self.read_offset;
        self.read_offset = self.ids.len();
        Ok(Some(new_text))
    }

    /// Everything decoded so far, including a trailing incomplete character if any.
    pub fn text(&self) -> Result<String> {
        self.tokenizer.decode(&self.ids, self.skip_special_tokens)
    }

    /// The ids fed so far.
    pub fn ids(&self) -> &[u32] {
        &self.ids
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::io_test_support::tokenizer;

    #[test]
    fn special_token_roles() {
        let tok = tokenizer();
        assert_eq!(tok.eos_token_id(), Some(2));
        assert_eq!(tok.eos_token().unwrap().content, "<|im_end|>");
        assert_eq!(tok.pad_token_id(), Some(0));
        assert_eq!(tok.bos_token_id(), None);
        assert_eq!(tok.stop_token_ids(), vec![2]);
        let tok = tok
            .with_bos_id(1)
            .unwrap()
            .with_extra_stop_ids([0, 2])
            .unwrap();
        assert_eq!(tok.bos_token().unwrap().content, "<|im_start|>");
        assert_eq!(tok.stop_token_ids(), vec![2, 0]);
        let specials: Vec<String> = tok
            .special_tokens()
            .into_iter()
            .map(|t| t.content)
            .collect();
        assert_eq!(specials, ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]);
    }

    #[test]
    fn unknown_tokens_and_ids_are_errors() {
        let tok = tokenizer();
        let err = tok.clone().with_eos_token("</s>").unwrap_err().to_string();
        assert!(err.contains("</s>") && err.contains("not in"), "{err}");
        let err = tok.clone().with_bos_id(100_000).unwrap_err().to_string();
        assert!(err.contains("100000"), "{err}");
        let err = tok.decode(&[5, 100_000], false).unwrap_err().to_string();
        assert!(err.contains("100000"), "{err}");
    }

    #[test]
    fn offsets_locate_tokens_in_the_text() {
        let tok = tokenizer();
        let text = "hello world<|im_end|>\n";
        let encoded = tok.encode_with_offsets(text, true).unwrap();
        assert_eq!(encoded.ids, tok.encode(text, true).unwrap());
        let end = encoded.ids.iter().position(|&id| id == 2).unwrap();
        let (start, stop) = encoded.offsets[end];
        assert_eq!(&text[start..stop], "<|im_end|>");
        assert!(encoded.added_by_post_processor.iter().all(|&added| !added));
    }

    #[test]
    fn stream_decoding_reproduces_the_text() {
        let tok = tokenizer();
        for text in [
            "the quick brown fox jumps",
            "emoji 🎉🦀 split across byte tokens, 日本語 too",
            "<|im_start|>user\nhi<|im_end|>\n",
        ] {
            for skip_special in [false, true] {
                let ids = tok.encode(text, false).unwrap();
                let mut stream = tok.stream_decoder(skip_special);
                let mut pieces = Vec::new();
                for &id in &ids {
                    if let Some(piece) = stream.step(id).unwrap() {
                        assert!(!piece.contains('\u{FFFD}'), "{piece:?}");
                        pieces.push(piece);
                    }
                }
                let whole = tok.decode(&ids, skip_special).unwrap();
                assert_eq!(pieces.concat(), whole);
                assert_eq!(stream.text().unwrap(), whole);
                assert_eq!(stream.ids(), ids.as_slice());
            }
        }
    }

    #[test]
    fn stream_decoding_holds_back_incomplete_characters() {
        let tok = tokenizer();
        // 🦀 is four bytes; unseen in training, so it is four byte tokens.
        let ids = tok.encode("🦀", false).unwrap();
        assert_eq!(ids.len(), 4);
        let mut stream = tok.stream_decoder(false);
        for &id in &ids[..3] {
            assert_eq!(stream.step(id).unwrap(), None);
        }
        assert_eq!(stream.step(ids[3]).unwrap().as_deref(), Some("🦀"));
    }

    #[test]
    fn invalid_tokenizer_json_is_an_error() {
        let err = ModelTokenizer::from_json_bytes(b"{not json")
            .unwrap_err()
            .to_string();
        assert!(err.contains("tokenizer.json"), "{err}");
        let missing = std::path::Path::new("/nonexistent/tokenizer.json");
        let err = ModelTokenizer::from_file(missing).unwrap_err().to_string();
        assert!(err.contains("/nonexistent/tokenizer.json"), "{err}");
    }
}
