//! Chat templates: turning a conversation into the text a model was trained on.
//!
//! A model's own template (from `tokenizer_config.json` or GGUF `tokenizer.chat_template`) is a
//! Jinja template written for `transformers`, which renders with `trim_blocks` and
//! `lstrip_blocks` on, the `loopcontrols` extension, and these additions, all provided here:
//! `raise_exception(msg)`, a `tojson` filter that writes JSON the way Python's `json.dumps`
//! does (`", "` and `": "` separators, non-ASCII kept, `indent` and `sort_keys` arguments),
//! the variables `messages`, `add_generation_prompt`, `bos_token`, `eos_token`, `pad_token`,
//! and Python string/dict/list methods (`.strip()`, `.split()`, `.startswith()`, `.items()`, …,
//! from `minijinja-contrib`'s pycompat).
//!
//! `strftime_now` is deliberately absent: templates that call it (Llama 3.x) fall back to a
//! fixed date when it is undefined, which keeps rendered training data identical between runs.
//!
//! Two built-in templates need no model file:
//! - `tulu`: Tülu's format, `<|user|>\n{content}\n<|assistant|>\n{content}{eos}\n`, with
//!   `<|system|>` likewise; the last message has no trailing newline after EOS.
//! - `chatml`: `<|im_start|>{role}\n{content}<|im_end|>\n`, the generation prompt
//!   `<|im_start|>assistant\n`.

use std::sync::Arc;

use anyhow::{anyhow, bail, Result};
use minijinja::value::{Kwargs, Value};
use minijinja::{context, Environment, Error, ErrorKind};
use serde::{Deserialize, Serialize};

use super::tokenizer::ModelTokenizer;

/// One turn of a conversation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatMessage {
    /// `system`, `user` or `assistant` (templates may accept others, e.g. `tool`).
    pub role: String,
    pub content: String,
}

impl ChatMessage {
    pub fn new(role: impl Into<String>, content: impl Into<String>) -> Self {
        Self {
            role: role.into(),
            content: content.into(),
        }
    }

    pub fn system(content: impl Into<String>) -> Self {
        Self::new("system", content)
    }

    pub fn user(content: impl Into<String>) -> Self {
        Self::new("user", content)
    }

    pub fn assistant(content: impl Into<String>) -> Self {
        Self::new("assistant", content)
    }
}

/// The special-token strings a template may refer to (`{{ eos_token }}`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TemplateTokens {
    pub bos_token: String,
    pub eos_token: String,
    pub pad_token: String,
}

impl TemplateTokens {
    /// The tokenizer's BOS/EOS/PAD texts; a role the tokenizer lacks renders as "".
    pub fn from_tokenizer(tokenizer: &ModelTokenizer) -> Self {
        let text = |t: Option<&super::tokenizer::SpecialToken>| {
            t.map(|t| t.content.clone()).unwrap_or_default()
        };
        Self {
            bos_token: text(tokenizer.bos_token()),
            eos_token: text(tokenizer.eos_token()),
            pad_token: text(tokenizer.pad_token()),
        }
    }
}

const TULU_TEMPLATE: &str = concat!(
    "{% for message in messages %}",
    "{% if message['role'] == 'system' %}{{ '<|system|>\\n' + message['content'] + '\\n' }}",
    "{% elif message['role'] == 'user' %}{{ '<|user|>\\n' + message['content'] + '\\n' }}",
    "{% elif message['role'] == 'assistant' %}",
    "{{ '<|assistant|>\\n' + message['content'] + eos_token }}",
    "{% if not loop.last %}{{ '\\n' }}{% endif %}",
    "{% else %}{{ raise_exception('tulu template: unknown role ' + message['role']) }}",
    "{% endif %}",
    "{% endfor %}",
    "{% if add_generation_prompt %}{{ '<|assistant|>\\n' }}{% endif %}",
);

const CHATML_TEMPLATE: &str = concat!(
    "{% for message in messages %}",
    "{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>\\n' }}",
    "{% endfor %}",
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}",
);

/// Names of the built-in templates.
pub const BUILTIN_TEMPLATES: &[&str] = &["tulu", "chatml"];

/// A compiled chat template. Cloning is cheap (the compiled template is shared).
#[derive(Clone)]
pub struct ChatTemplate {
    source: String,
    env: Arc<Environment<'static>>,
}

impl std::fmt::Debug for ChatTemplate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChatTemplate")
            .field("source", &self.source)
            .finish()
    }
}

const TEMPLATE_NAME: &str = "chat_template";

impl ChatTemplate {
    /// Compiles a Jinja chat template as `transformers` would.
    pub fn from_source(source: &str) -> Result<Self> {
        let mut env = Environment::new();
        env.set_trim_blocks(true);
        env.set_lstrip_blocks(true);
        env.set_unknown_method_callback(minijinja_contrib::pycompat::unknown_method_callback);
        env.add_function("raise_exception", raise_exception);
        env.add_filter("tojson", python_tojson);
        env.add_template_owned(TEMPLATE_NAME, source.to_string())
            .map_err(|e| anyhow!("the chat template does not compile: {}", describe(&e)))?;
        Ok(Self {
            source: source.to_string(),
            env: Arc::new(env),
        })
    }

    /// A built-in template by name: `tulu` or `chatml`.
    pub fn builtin(name: &str) -> Result<Self> {
        let source = match name {
            "tulu" => TULU_TEMPLATE,
            "chatml" => CHATML_TEMPLATE,
            other => bail!(
                "unknown built-in chat template `{other}`; built-ins are: {}",
                BUILTIN_TEMPLATES.join(", ")
            ),
        };
        Self::from_source(source)
    }

    /// The Jinja source.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// Renders a conversation. `add_generation_prompt` appends the opening of an assistant turn,
    /// as for generation.
    pub fn render(
        &self,
        messages: &[ChatMessage],
        tokens: &TemplateTokens,
        add_generation_prompt: bool,
    ) -> Result<String> {
        let template = self
            .env
            .get_template(TEMPLATE_NAME)
            .map_err(|e| anyhow!("chat template: {}", describe(&e)))?;
        template
            .render(context! {
                messages => messages,
                add_generation_prompt => add_generation_prompt,
                bos_token => tokens.bos_token,
                eos_token => tokens.eos_token,
                pad_token => tokens.pad_token,
            })
            .map_err(|e| anyhow!("cannot render the chat template: {}", describe(&e)))
    }
}

fn describe(error: &Error) -> String {
    let mut text = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    text
}

fn raise_exception(message: String) -> Result<String, Error> {
    Err(Error::new(ErrorKind::InvalidOperation, message))
}

/// `tojson` as `transformers` defines it: `json.dumps(value, ensure_ascii=False, indent=…,
/// sort_keys=…)`, which differs from minijinja's HTML-safe built-in.
fn python_tojson(value: Value, kwargs: Kwargs) -> Result<Value, Error> {
    let indent: Option<usize> = kwargs.get("indent")?;
    let sort_keys: Option<bool> = kwargs.get("sort_keys")?;
    kwargs.assert_all_used()?;
    let json = serde_json::to_value(&value).map_err(|e| {
        Error::new(
            ErrorKind::InvalidOperation,
            format!("tojson: value is not JSON: {e}"),
        )
    })?;
    let mut out = String::new();
    write_python_json(&json, indent, sort_keys.unwrap_or(false), 0, &mut out);
    Ok(Value::from_safe_string(out))
}

fn write_python_json(
    value: &serde_json::Value,
    indent: Option<usize>,
    sort_keys: bool,
    depth: usize,
    out: &mut String,
) {
    use serde_json::Value as J;
    let newline = |out: &mut String, depth: usize| {
        if let Some(width) = indent {
            out.push('\n');
            out.push_str(&" ".repeat(width * depth));
        }
    };
    let item_separator = if indent.is_some() { "," } else { ", " };
    match value {
        J::Array(items) if items.is_empty() => out.push_str("[]"),
        J::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(item_separator);
                }
                newline(out, depth + 1);
                write_python_json(item, indent, sort_keys, depth + 1, out);
            }
            newline(out, depth);
            out.push(']');
        }
        J::Object(map) if map.is_empty() => out.push_str("{}"),
        J::Object(map) => {
            let mut entries: Vec<(&String, &serde_json::Value)> = map.iter().collect();
            if sort_keys {
                entries.sort_by(|a, b| a.0.cmp(b.0));
            }
            out.push('{');
            for (i, (key, item)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push_str(item_separator);
                }
                newline(out, depth + 1);
                out.push_str(&serde_json::Value::String(key.clone()).to_string());
                out.push_str(": ");
                write_python_json(item, indent, sort_keys, depth + 1, out);
            }
            newline(out, depth);
            out.push('}');
        }
        scalar => out.push_str(&scalar.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens() -> TemplateTokens {
        TemplateTokens {
            bos_token: "<s>".into(),
            eos_token: "</s>".into(),
            pad_token: String::new(),
        }
    }

    fn chat() -> Vec<ChatMessage> {
        vec![
            ChatMessage::system("Be brief."),
            ChatMessage::user("What is 2+2?"),
            ChatMessage::assistant("4."),
            ChatMessage::user("And 3+3?"),
        ]
    }

    #[test]
    fn tulu_format() {
        let t = ChatTemplate::builtin("tulu").unwrap();
        assert_eq!(
            t.render(&chat(), &tokens(), true).unwrap(),
            "<|system|>\nBe brief.\n<|user|>\nWhat is 2+2?\n<|assistant|>\n4.</s>\n\
             <|user|>\nAnd 3+3?\n<|assistant|>\n"
        );
        let mut finished = chat();
        finished.push(ChatMessage::assistant("6."));
        assert!(t
            .render(&finished, &tokens(), false)
            .unwrap()
            .ends_with("<|user|>\nAnd 3+3?\n<|assistant|>\n6.</s>"));
        let err = t
            .render(&[ChatMessage::new("tool", "x")], &tokens(), false)
            .unwrap_err();
        assert!(format!("{err:#}").contains("unknown role tool"), "{err:#}");
    }

    #[test]
    fn chatml_format() {
        let t = ChatTemplate::builtin("chatml").unwrap();
        assert_eq!(
            t.render(&chat()[1..3], &tokens(), true).unwrap(),
            "<|im_start|>user\nWhat is 2+2?<|im_end|>\n<|im_start|>assistant\n4.<|im_end|>\n\
             <|im_start|>assistant\n"
        );
        assert_eq!(t.render(&[], &tokens(), false).unwrap(), "");
    }

    #[test]
    fn unknown_builtin_lists_the_builtins() {
        let err = ChatTemplate::builtin("alpaca").unwrap_err().to_string();
        assert!(
            err.contains("alpaca") && err.contains("tulu, chatml"),
            "{err}"
        );
    }

    #[test]
    fn syntax_errors_are_reported_not_panicked() {
        let err = ChatTemplate::from_source("{% for m in messages %}").unwrap_err();
        assert!(format!("{err:#}").contains("does not compile"), "{err:#}");
    }

    #[test]
    fn huggingface_extensions() {
        let source = "{% if messages[0]['role'] != 'user' %}\
            {{ raise_exception('Conversations must start with the user') }}{% endif %}\
            {{ bos_token }}{% for m in messages %}{{ m.content.strip().upper() }}|\
            {{ m['content'].startswith(' hi') }}|{{ m | tojson }}{% endfor %}";
        let t = ChatTemplate::from_source(source).unwrap();
        let out = t
            .render(&[ChatMessage::user(" hi <there> é ")], &tokens(), false)
            .unwrap();
        assert_eq!(
            out,
            r#"<s>HI <THERE> É|True|{"role": "user", "content": " hi <there> é "}"#
        );
        let err = t
            .render(&[ChatMessage::assistant("x")], &tokens(), false)
            .unwrap_err();
        assert!(
            format!("{err:#}").contains("Conversations must start with the user"),
            "{err:#}"
        );
    }

    #[test]
    fn tojson_indent_and_sort_keys_follow_python() {
        let t = ChatTemplate::from_source(
            "{{ messages[0] | tojson(indent=2, sort_keys=true) }}|{{ [] | tojson }}|{{ [1, 'a'] | tojson }}",
        )
        .unwrap();
        let out = t
            .render(&[ChatMessage::user("x")], &tokens(), false)
            .unwrap();
        assert_eq!(
            out,
            "{\n  \"content\": \"x\",\n  \"role\": \"user\"\n}|[]|[1, \"a\"]"
        );
    }

    #[test]
    fn whitespace_control_and_loop_controls_match_transformers() {
        // trim_blocks drops the newline after a block tag; lstrip_blocks the indentation
        // before one.
        let source = "{% for m in messages %}\n    {% if loop.index > 2 %}{% break %}{% endif %}\n{{ m.content }}\n{% endfor %}";
        let t = ChatTemplate::from_source(source).unwrap();
        let messages = ["a", "b", "c"].map(ChatMessage::user);
        assert_eq!(t.render(&messages, &tokens(), false).unwrap(), "a\nb\n");
    }

    #[test]
    fn the_date_helper_is_absent_so_templates_fall_back_to_a_fixed_date() {
        let t = ChatTemplate::from_source(
            "{% if strftime_now is defined %}{{ strftime_now('%d %b %Y') }}{% else %}26 Jul 2024{% endif %}",
        )
        .unwrap();
        assert_eq!(t.render(&[], &tokens(), false).unwrap(), "26 Jul 2024");
    }
}
