//! Tokenizing conversations for supervised fine-tuning: ids plus a mask of the tokens the loss
//! is computed on — the assistant replies, each with the end-of-turn text its template closes
//! it with (`<|im_end|>\n` in ChatML, EOS in Tülu's format) — as open-instruct does.
//!
//! The conversation is rendered once and tokenized once. Each assistant reply's span in the
//! rendered text is found by rendering prefixes of the conversation: the reply starts where
//! `messages[..i]` rendered with the generation prompt ends, and ends where `messages[..=i]`
//! rendered ends. Both must be prefixes of the full rendering; a template that rewrites earlier
//! turns depending on later ones (e.g. one that strips reasoning from past turns) is rejected
//! with an error rather than silently mis-masked. A token is trained when it begins inside a
//! reply span; tokens the tokenizer's post-processor adds (BOS) never are.
//!
//! Sequences longer than `max_len` are cut at `max_len` tokens (the end is dropped, as
//! open-instruct does) and flagged `truncated`; an example whose replies were cut away entirely
//! has no trained tokens, and callers should drop it.

use anyhow::{bail, Result};

use super::chat_template::{ChatMessage, ChatTemplate, TemplateTokens};
use super::tokenizer::ModelTokenizer;

/// A conversation tokenized for SFT.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SftExample {
    pub input_ids: Vec<u32>,
    /// True on the tokens the loss is computed on (assistant replies and their end of turn).
    pub assistant_mask: Vec<bool>,
    /// The rendered conversation was longer than `max_len` tokens and was cut.
    pub truncated: bool,
}

impl SftExample {
    /// How many tokens the loss is computed on.
    pub fn trained_tokens(&self) -> usize {
        self.assistant_mask.iter().filter(|&&m| m).count()
    }

    /// Labels in the `transformers` convention: the token id where trained, -100 elsewhere.
    pub fn labels(&self) -> Vec<i64> {
        self.input_ids
            .iter()
            .zip(&self.assistant_mask)
            .map(|(&id, &trained)| if trained { i64::from(id) } else { -100 })
            .collect()
    }
}

/// Renders `messages` with `template`, tokenizes them with `tokenizer` (including its
/// post-processor's BOS, if any) and marks the assistant tokens; cuts at `max_len` tokens.
pub fn tokenize_chat_for_sft(
    messages: &[ChatMessage],
    template: &ChatTemplate,
    tokenizer: &ModelTokenizer,
    max_len: usize,
) -> Result<SftExample> {
    if max_len == 0 {
        bail!("max_len must be at least 1");
    }
    if messages.is_empty() {
        bail!("cannot tokenize an empty conversation");
    }
    let tokens = TemplateTokens::from_tokenizer(tokenizer);
    let full = template.render(messages, &tokens, false)?;
    let spans = assistant_spans(messages, template, &tokens, &full)?;

    let encoded = tokenizer.encode_with_offsets(&full, true)?;
    let mut input_ids = encoded.ids;
    let mut assistant_mask: Vec<bool> = encoded
        .offsets
        .iter()
        .zip(&encoded.added_by_post_processor)
        .map(|(&(start, _), &added)| {
            !added && spans.iter().any(|&(lo, hi)| start >= lo && start < hi)
        })
        .collect();
    let truncated = input_ids.len() > max_len;
    input_ids.truncate(max_len);
    assistant_mask.truncate(max_len);
    Ok(SftExample {
        input_ids,
        assistant_mask,
        truncated,
    })
}

/// Byte spans of the assistant replies in `full`, in order.
fn assistant_spans(
    messages: &[ChatMessage],
    template: &ChatTemplate,
    tokens: &TemplateTokens,
    full: &str,
) -> Result<Vec<(usize, usize)>> {
    let mut spans = Vec::new();
    for (i, message) in messages.iter().enumerate() {
        if message.role != "assistant" {
            continue;
        }
        let before = template.render(&messages[..i], tokens, true)?;
        let through = template.render(&messages[..=i], tokens, false)?;
        if !full.starts_with(&before) || !full.starts_with(&through) || through.len() < before.len()
        {
            bail!(
                "the chat template renders message {i} (assistant) differently depending on \
                 the messages after it, so its reply cannot be located for loss masking; use \
                 a template whose rendering of a conversation prefix is a prefix of the whole \
                 (the built-in `tulu` and `chatml` templates are)"
            );
        }
        spans.push((before.len(), through.len()));
    }
    Ok(spans)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::io_test_support::tokenizer;

    fn conversation() -> Vec<ChatMessage> {
        vec![
            ChatMessage::system("You answer arithmetic."),
            ChatMessage::user("What is 12 + 30?"),
            ChatMessage::assistant("It is 42."),
            ChatMessage::user("And 7 + 8?"),
            ChatMessage::assistant("It is 15, the answer."),
        ]
    }

    /// The text of the masked (trained) tokens, one string per contiguous run.
    fn trained_runs(tok: &ModelTokenizer, example: &SftExample) -> Vec<String> {
        let mut runs = Vec::new();
        let mut current = Vec::new();
        for (&id, &trained) in example.input_ids.iter().zip(&example.assistant_mask) {
            if trained {
                current.push(id);
            } else if !current.is_empty() {
                runs.push(tok.decode(&current, false).unwrap());
                current.clear();
            }
        }
        if !current.is_empty() {
            runs.push(tok.decode(&current, false).unwrap());
        }
        runs
    }

    #[test]
    fn chatml_mask_covers_exactly_the_replies_and_their_end_of_turn() {
        let tok = tokenizer();
        let template = ChatTemplate::builtin("chatml").unwrap();
        let example = tokenize_chat_for_sft(&conversation(), &template, &tok, 4096).unwrap();
        assert!(!example.truncated);
        assert_eq!(example.input_ids.len(), example.assistant_mask.len());
        assert_eq!(
            trained_runs(&tok, &example),
            ["It is 42.<|im_end|>\n", "It is 15, the answer.<|im_end|>\n"]
        );
        // The ids are exactly the tokenization of the rendered conversation.
        let rendered = template
            .render(
                &conversation(),
                &TemplateTokens::from_tokenizer(&tok),
                false,
            )
            .unwrap();
        assert_eq!(example.input_ids, tok.encode(&rendered, true).unwrap());
        let labels = example.labels();
        assert_eq!(
            labels.iter().filter(|&&l| l != -100).count(),
            example.trained_tokens()
        );
        assert_eq!(labels[0], -100);
    }

    #[test]
    fn tulu_mask_ends_at_eos() {
        let tok = tokenizer();
        let template = ChatTemplate::builtin("tulu").unwrap();
        let example = tokenize_chat_for_sft(&conversation(), &template, &tok, 4096).unwrap();
        assert_eq!(
            trained_runs(&tok, &example),
            ["It is 42.<|im_end|>", "It is 15, the answer.<|im_end|>"]
        );
    }

    #[test]
    fn bos_added_by_the_tokenizer_is_never_trained() {
        let tok = tokenizer().with_bos_token("<|endoftext|>").unwrap();
        let inner = {
            let mut inner = tok.inner().clone();
            let processor =
                crate::model::gguf_tokenizer::wrap_post_processor(Some((0, "<|endoftext|>")), None)
                    .unwrap();
            inner.with_post_processor(Some(processor));
            inner
        };
        let tok = ModelTokenizer::new(inner)
            .with_eos_token("<|im_end|>")
            .unwrap();
        let template = ChatTemplate::from_source(
            "{% for m in messages %}{{ m.content }}{% if m.role == 'assistant' %}{{ eos_token }}{% endif %}{% endfor %}",
        )
        .unwrap();
        let messages = [ChatMessage::assistant("hello"), ChatMessage::user("dog")];
        let example = tokenize_chat_for_sft(&messages, &template, &tok, 64).unwrap();
        assert_eq!(example.input_ids[0], 0);
        assert!(!example.assistant_mask[0]);
        assert_eq!(trained_runs(&tok, &example), ["hello<|im_end|>"]);
    }

    #[test]
    fn truncation_cuts_the_end_and_keeps_the_mask_aligned() {
        let tok = tokenizer();
        let template = ChatTemplate::builtin("chatml").unwrap();
        let full = tokenize_chat_for_sft(&conversation(), &template, &tok, 4096).unwrap();
        let cut_at = full.input_ids.len() - 5;
        let cut = tokenize_chat_for_sft(&conversation(), &template, &tok, cut_at).unwrap();
        assert!(cut.truncated);
        assert_eq!(cut.input_ids, full.input_ids[..cut_at]);
        assert_eq!(cut.assistant_mask, full.assistant_mask[..cut_at]);
        // Cut before the first reply: nothing left to train on.
        let first_trained = full.assistant_mask.iter().position(|&m| m).unwrap();
        let none = tokenize_chat_for_sft(&conversation(), &template, &tok, first_trained).unwrap();
        assert_eq!(none.trained_tokens(), 0);
    }

    #[test]
    fn conversation_without_replies_trains_nothing() {
        let tok = tokenizer();
        let template = ChatTemplate::builtin("chatml").unwrap();
        let example = tokenize_chat_for_sft(&conversation()[..2], &template, &tok, 4096).unwrap();
        assert!(!example.input_ids.is_empty());
        assert_eq!(example.trained_tokens(), 0);
    }

    #[test]
    fn templates_that_rewrite_earlier_turns_are_rejected() {
        let tok = tokenizer();
        // Marks only the final message, so a prefix renders differently from the whole.
        let template = ChatTemplate::from_source(
            "{% for m in messages %}{% if loop.last %}LAST {% endif %}{{ m.content }}\n{% endfor %}",
        )
        .unwrap();
        let err = tokenize_chat_for_sft(&conversation(), &template, &tok, 4096).unwrap_err();
        assert!(err.to_string().contains("message 2 (assistant)"), "{err}");
    }

    #[test]
    fn bad_arguments_are_errors() {
        let tok = tokenizer();
        let template = ChatTemplate::builtin("chatml").unwrap();
        assert!(tokenize_chat_for_sft(&conversation(), &template, &tok, 0).is_err());
        assert!(tokenize_chat_for_sft(&[], &template, &tok, 10).is_err());
    }
}
