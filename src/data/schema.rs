//! What each schema requires of a row, how a schema is recognized, and which text of a row the
//! text ops (dedup, decontamination, length filters) look at.

use serde_json::{Map, Value};

use crate::check::Schema;

/// A problem with one row: the field path and what is wrong.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

fn err(field: impl Into<String>, message: impl Into<String>) -> FieldError {
    FieldError {
        field: field.into(),
        message: message.into(),
    }
}

pub const ROLES: &[&str] = &["system", "user", "assistant", "tool"];

/// The schema a row looks like, from its keys.
pub fn sniff(row: &Map<String, Value>) -> Option<Schema> {
    if row.contains_key("chosen") && row.contains_key("rejected") {
        Some(Schema::Pref)
    } else if row.contains_key("ground_truth") {
        Some(Schema::Prompt)
    } else if row.contains_key("messages") {
        Some(Schema::Chat)
    } else if row.contains_key("text") {
        Some(Schema::Text)
    } else {
        None
    }
}

/// What a row of each schema must hold, in words (for error help).
pub fn describe(schema: Schema) -> &'static str {
    match schema {
        Schema::Chat => {
            r#"{"messages": [{"role": "user", "content": "…"}, {"role": "assistant", "content": "…"}]}"#
        }
        Schema::Pref => {
            r#"{"prompt": "…", "chosen": "…", "rejected": "…"} (or "messages" for the prompt, or chosen/rejected as message lists)"#
        }
        Schema::Prompt => r#"{"prompt": "…", "ground_truth": …, "dataset": "gsm8k"}"#,
        Schema::Text => r#"{"text": "…"}"#,
    }
}

pub fn validate(schema: Schema, row: &Map<String, Value>) -> Result<(), FieldError> {
    match schema {
        Schema::Chat => {
            let messages = row
                .get("messages")
                .ok_or_else(|| err("messages", "missing; a chat row holds a list of messages"))?;
            validate_messages("messages", messages, true)
        }
        Schema::Pref => {
            let chosen = row.get("chosen").ok_or_else(|| err("chosen", "missing"))?;
            let rejected = row
                .get("rejected")
                .ok_or_else(|| err("rejected", "missing"))?;
            match (chosen, rejected) {
                (Value::String(_), Value::String(_)) => {
                    match (row.get("prompt"), row.get("messages")) {
                        (Some(Value::String(_)), _) => Ok(()),
                        (Some(_), _) => Err(err("prompt", "must be a string")),
                        (None, Some(m)) => validate_messages("messages", m, false),
                        (None, None) => Err(err(
                            "prompt",
                            "missing; with string responses the row needs a `prompt` or `messages`",
                        )),
                    }
                }
                (Value::Array(_), Value::Array(_)) => {
                    validate_messages("chosen", chosen, true)?;
                    validate_messages("rejected", rejected, true)?;
                    if let Some(p) = row.get("prompt") {
                        if !p.is_string() {
                            return Err(err("prompt", "must be a string"));
                        }
                    }
                    Ok(())
                }
                (Value::String(_) | Value::Array(_), _) => Err(err(
                    "rejected",
                    "must be the same kind as `chosen` (both strings or both message lists)",
                )),
                _ => Err(err("chosen", "must be a string or a list of messages")),
            }
        }
        Schema::Prompt => {
            match row.get("prompt") {
                Some(Value::String(_)) => {}
                Some(m @ Value::Array(_)) => validate_messages("prompt", m, false)?,
                Some(_) => return Err(err("prompt", "must be a string or a list of messages")),
                None => match row.get("messages") {
                    Some(m) => validate_messages("messages", m, false)?,
                    None => return Err(err("prompt", "missing")),
                },
            }
            match row.get("ground_truth") {
                None | Some(Value::Null) => Err(err(
                    "ground_truth",
                    "missing; a prompt row carries the answer a verifier checks against",
                )),
                Some(_) => Ok(()),
            }?;
            match row.get("dataset") {
                None | Some(Value::String(_)) => Ok(()),
                Some(_) => Err(err(
                    "dataset",
                    "must be a string naming the verifier's task",
                )),
            }
        }
        Schema::Text => match row.get("text") {
            Some(Value::String(_)) => Ok(()),
            Some(_) => Err(err("text", "must be a string")),
            None => Err(err("text", "missing")),
        },
    }
}

fn validate_messages(field: &str, value: &Value, need_assistant: bool) -> Result<(), FieldError> {
    let list = value
        .as_array()
        .ok_or_else(|| err(field, "must be a list of {\"role\", \"content\"} messages"))?;
    if list.is_empty() {
        return Err(err(field, "is empty"));
    }
    for (i, m) in list.iter().enumerate() {
        let at = |f: &str| format!("{field}[{i}].{f}");
        let obj = m.as_object().ok_or_else(|| {
            err(
                format!("{field}[{i}]"),
                "must be an object with role and content",
            )
        })?;
        match obj.get("role") {
            Some(Value::String(r)) if ROLES.contains(&r.as_str()) => {}
            Some(Value::String(r)) => {
                return Err(err(
                    at("role"),
                    format!("`{r}` is not a role; roles are {}", ROLES.join(", ")),
                ))
            }
            Some(_) => return Err(err(at("role"), "must be a string")),
            None => return Err(err(at("role"), "missing")),
        }
        match obj.get("content") {
            Some(Value::String(_)) => {}
            Some(Value::Null) | None => return Err(err(at("content"), "missing")),
            Some(_) => return Err(err(at("content"), "must be a string")),
        }
    }
    if need_assistant
        && !list
            .iter()
            .any(|m| m.get("role").and_then(Value::as_str) == Some("assistant"))
    {
        return Err(err(field, "has no assistant message"));
    }
    Ok(())
}

/// Which text of a row an op looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextPart {
    /// The prompt: the first user message, `prompt`, or `text`. Decontamination uses this.
    Prompt,
    /// Everything: all message contents (and chosen/rejected), joined by newlines.
    All,
}

/// The text of a row, as dedup, decontamination and length filters see it.
pub fn text_of(schema: Schema, row: &Map<String, Value>, part: TextPart) -> String {
    let messages_text = |v: &Value, only_first_user: bool| -> String {
        let Some(list) = v.as_array() else {
            return v.as_str().unwrap_or_default().to_string();
        };
        if only_first_user {
            return list
                .iter()
                .find(|m| m.get("role").and_then(Value::as_str) == Some("user"))
                .and_then(|m| m.get("content"))
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string();
        }
        list.iter()
            .filter_map(|m| m.get("content").and_then(Value::as_str))
            .collect::<Vec<_>>()
            .join("\n")
    };
    let prompt_of = |row: &Map<String, Value>| -> String {
        match (row.get("prompt"), row.get("messages")) {
            (Some(p), _) => messages_text(p, true),
            (None, Some(m)) => messages_text(m, true),
            (None, None) => String::new(),
        }
    };
    match (schema, part) {
        (Schema::Text, _) => row
            .get("text")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string(),
        (Schema::Chat, TextPart::Prompt) => row
            .get("messages")
            .map(|m| messages_text(m, true))
            .unwrap_or_default(),
        (Schema::Chat, TextPart::All) => row
            .get("messages")
            .map(|m| messages_text(m, false))
            .unwrap_or_default(),
        (Schema::Prompt, _) => prompt_of(row),
        (Schema::Pref, TextPart::Prompt) => {
            let p = prompt_of(row);
            if p.is_empty() {
                row.get("chosen")
                    .map(|c| messages_text(c, true))
                    .unwrap_or_default()
            } else {
                p
            }
        }
        (Schema::Pref, TextPart::All) => {
            let mut parts = vec![prompt_of(row)];
            for side in ["chosen", "rejected"] {
                if let Some(v) = row.get(side) {
                    parts.push(messages_text(v, false));
                }
            }
            parts.retain(|p| !p.is_empty());
            parts.join("\n")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap()
    }

    #[test]
    fn chat_rows_need_roles_and_content() {
        let ok = obj(
            json!({"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}]}),
        );
        assert_eq!(validate(Schema::Chat, &ok), Ok(()));
        let bad = obj(json!({"messages": [{"role": "usr", "content": "hi"}]}));
        let e = validate(Schema::Chat, &bad).unwrap_err();
        assert_eq!(e.field, "messages[0].role");
        assert!(e.message.contains("`usr` is not a role"));
        let no_assistant = obj(json!({"messages": [{"role": "user", "content": "hi"}]}));
        assert_eq!(
            validate(Schema::Chat, &no_assistant).unwrap_err().message,
            "has no assistant message"
        );
    }

    #[test]
    fn preference_rows_accept_strings_or_message_lists() {
        let strings = obj(json!({"prompt": "p", "chosen": "a", "rejected": "b"}));
        assert_eq!(validate(Schema::Pref, &strings), Ok(()));
        let lists = obj(json!({
            "chosen": [{"role": "user", "content": "p"}, {"role": "assistant", "content": "a"}],
            "rejected": [{"role": "user", "content": "p"}, {"role": "assistant", "content": "b"}]
        }));
        assert_eq!(validate(Schema::Pref, &lists), Ok(()));
        let mixed = obj(json!({"prompt": "p", "chosen": "a", "rejected": []}));
        assert_eq!(
            validate(Schema::Pref, &mixed).unwrap_err().field,
            "rejected"
        );
    }

    #[test]
    fn sniffing_and_text_extraction() {
        let prompt = obj(json!({"prompt": "What is 2+2?", "ground_truth": "4"}));
        assert_eq!(sniff(&prompt), Some(Schema::Prompt));
        assert_eq!(
            text_of(Schema::Prompt, &prompt, TextPart::Prompt),
            "What is 2+2?"
        );
        let chat = obj(
            json!({"messages": [{"role": "system", "content": "s"}, {"role": "user", "content": "u"}, {"role": "assistant", "content": "a"}]}),
        );
        assert_eq!(sniff(&chat), Some(Schema::Chat));
        assert_eq!(text_of(Schema::Chat, &chat, TextPart::Prompt), "u");
        assert_eq!(text_of(Schema::Chat, &chat, TextPart::All), "s\nu\na");
    }
}
