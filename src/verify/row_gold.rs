//! Reading what a verifier needs from a Prompt-schema row: the gold answer in each of the forms
//! real data uses, and the prompt text IFEval checkers compare against.
//!
//! Errors name the field and say what to do; callers add the row's provenance.

use anyhow::{anyhow, bail, Result};
use serde_json::{Map, Value};

use super::python_literal;

/// The gold answer of a GSM8K or MATH row as text: a string as given, a number as written
/// (`18`, `-2.5`). `task` names the verifier in messages.
pub fn scalar_gold(row: &Map<String, Value>, task: &str) -> Result<String> {
    match ground_truth(row)? {
        Value::String(text) => Ok(text.clone()),
        Value::Number(number) => Ok(number.to_string()),
        other => {
            let hint = if looks_like_instructions(other) {
                format!(
                    "; it holds IFEval instructions, so score the row with `verifier.ifeval` (or \
                     `verifier.auto` with `dataset: \"ifeval\"`) instead of the {task} verifier"
                )
            } else {
                String::new()
            };
            bail!(
                "field `ground_truth` is {}; the {task} verifier needs the gold answer as a \
                 string or a number{hint}",
                describe(other)
            )
        }
    }
}

/// The instruction ids and their kwargs (one object or null per id) of an IFEval row.
///
/// Accepted forms of `ground_truth`: an object `{instruction_id_list, kwargs}` (IFEval's and
/// IFBench's field names, as `stdlib/eval.tulu` builds it) or `{instruction_id, kwargs}`
/// (open-instruct's); a one-element list of such an object; and a string holding any of these
/// as JSON or as a Python literal (open-instruct stores `str()` of a Python list), possibly
/// nested once more as a JSON string inside the list.
pub fn instruction_gold(row: &Map<String, Value>) -> Result<(Vec<String>, Vec<Value>)> {
    let value = ground_truth(row)?;
    let constraints = unwrap_constraints(value.clone(), 0)?;
    let ids_value = constraints
        .get("instruction_id_list")
        .or_else(|| constraints.get("instruction_id"));
    let Some(ids_value) = ids_value else {
        if constraints.contains_key("func_name") {
            bail!(
                "field `ground_truth` holds an open-instruct `func_name` constraint (the \
                 allenai/RLVR-IFeval form, checked by open-instruct's `IFEvalVerifierOld`), \
                 which tulu does not implement; use data in the IFEval form \
                 (`instruction_id_list` and `kwargs`), or drop these rows"
            );
        }
        let keys: Vec<&str> = constraints.keys().map(String::as_str).collect();
        bail!(
            "field `ground_truth` has no `instruction_id_list` (its keys are: {}); the IFEval \
             verifier needs {{instruction_id_list: [ids], kwargs: [objects]}}",
            keys.join(", ")
        );
    };
    let ids = match ids_value {
        Value::Array(items) => items
            .iter()
            .map(|id| {
                id.as_str().map(str::to_string).ok_or_else(|| {
                    anyhow!(
                        "field `ground_truth.instruction_id_list` holds {}; instruction ids are \
                         strings such as \"punctuation:no_comma\"",
                        describe(id)
                    )
                })
            })
            .collect::<Result<Vec<_>>>()?,
        Value::String(id) => vec![id.clone()],
        other => bail!(
            "field `ground_truth.instruction_id_list` is {}; it must be a list of instruction ids",
            describe(other)
        ),
    };
    let kwargs = match constraints.get("kwargs") {
        Some(Value::Array(items)) => items.clone(),
        // A row whose instructions take no kwargs may leave them out.
        None | Some(Value::Null) => vec![Value::Null; ids.len()],
        Some(other) => bail!(
            "field `ground_truth.kwargs` is {}; it must be a list with one object (or null) per \
             instruction id",
            describe(other)
        ),
    };
    Ok((ids, kwargs))
}

/// The text IFEval's prompt-dependent checkers see: `prompt` when it is a string, else the last
/// user message of `prompt` or `messages`.
pub fn prompt_text(row: &Map<String, Value>) -> String {
    let from_messages = |messages: &Value| {
        messages
            .as_array()
            .and_then(|list| {
                list.iter()
                    .rev()
                    .find(|m| m.get("role").and_then(Value::as_str) == Some("user"))
            })
            .and_then(|m| m.get("content"))
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    match (row.get("prompt"), row.get("messages")) {
        (Some(Value::String(prompt)), _) => prompt.clone(),
        (Some(messages), _) | (None, Some(messages)) => from_messages(messages),
        (None, None) => String::new(),
    }
}

fn ground_truth(row: &Map<String, Value>) -> Result<&Value> {
    match row.get("ground_truth") {
        None | Some(Value::Null) => bail!(
            "the row has no `ground_truth`; a verifier checks a response against it (load the \
             data with `fields: {{ground_truth: \"…\"}}` naming the gold answer)"
        ),
        Some(value) => Ok(value),
    }
}

/// Peels the wrappers open-instruct's data puts around the constraint object.
fn unwrap_constraints(value: Value, depth: usize) -> Result<Map<String, Value>> {
    // A JSON string inside a Python list inside a string is the deepest real data goes.
    const MAX_WRAPPERS: usize = 4;
    if depth > MAX_WRAPPERS {
        bail!("field `ground_truth` is wrapped in too many lists and strings to be instructions");
    }
    match value {
        Value::Object(map) => Ok(map),
        Value::Array(mut items) => match items.len() {
            1 => unwrap_constraints(items.remove(0), depth + 1),
            0 => bail!("field `ground_truth` is an empty list; it must hold the instructions"),
            n => bail!(
                "field `ground_truth` is a list of {n} constraint sets; the IFEval verifier takes \
                 one object {{instruction_id_list, kwargs}} per row (open-instruct reads only \
                 the first); merge them into one"
            ),
        },
        Value::String(text) => {
            let parsed = serde_json::from_str::<Value>(&text)
                .or_else(|_| python_literal::parse(&text))
                .map_err(|problem| {
                    anyhow!(
                        "field `ground_truth` is the string {}, which is neither JSON nor a \
                         Python literal ({problem}); the IFEval verifier needs \
                         {{instruction_id_list: [ids], kwargs: [objects]}}",
                        excerpt(&text)
                    )
                })?;
            match parsed {
                Value::Object(_) | Value::Array(_) | Value::String(_) => {
                    unwrap_constraints(parsed, depth + 1)
                }
                _ => bail!(
                    "field `ground_truth` is the string {}, not IFEval instructions; {NOT_INSTRUCTIONS_HELP}",
                    excerpt(&text)
                ),
            }
        }
        other => bail!(
            "field `ground_truth` is {}, not IFEval instructions; {NOT_INSTRUCTIONS_HELP}",
            describe(&other)
        ),
    }
}

const NOT_INSTRUCTIONS_HELP: &str = "the IFEval verifier needs {instruction_id_list: [ids], \
     kwargs: [objects]}; a GSM8K or MATH row is scored with `verifier.gsm8k`, `verifier.math` or \
     `verifier.auto`, which picks the verifier from the row's `dataset`";

fn looks_like_instructions(mut value: &Value) -> bool {
    // open-instruct wraps the object in a one-element list; look through such wrappers.
    while let Value::Array(items) = value {
        match items.first() {
            Some(first) => value = first,
            None => return false,
        }
    }
    match value {
        Value::Object(map) => {
            map.contains_key("instruction_id_list") || map.contains_key("instruction_id")
        }
        _ => false,
    }
}

/// A value named for a message: its kind and a short excerpt.
fn describe(value: &Value) -> String {
    match value {
        Value::Null => "null".into(),
        Value::Bool(b) => format!("the boolean {b}"),
        Value::Number(n) => format!("the number {n}"),
        Value::String(s) => format!("the string {}", excerpt(s)),
        Value::Array(items) => format!("a list of {} items", items.len()),
        Value::Object(map) => {
            let keys: Vec<&str> = map.keys().take(6).map(String::as_str).collect();
            format!("an object with keys {}", keys.join(", "))
        }
    }
}

fn excerpt(text: &str) -> String {
    const MAX_CHARS: usize = 60;
    if text.chars().count() <= MAX_CHARS {
        format!("{text:?}")
    } else {
        let head: String = text.chars().take(MAX_CHARS).collect();
        format!("{head:?}…")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn row(value: Value) -> Map<String, Value> {
        value.as_object().cloned().unwrap()
    }

    #[test]
    fn scalar_gold_takes_strings_and_numbers() {
        assert_eq!(
            scalar_gold(&row(json!({"ground_truth": "18"})), "GSM8K").unwrap(),
            "18"
        );
        assert_eq!(
            scalar_gold(&row(json!({"ground_truth": -2.5})), "GSM8K").unwrap(),
            "-2.5"
        );
        let error = scalar_gold(
            &row(json!({"ground_truth": {"instruction_id_list": [], "kwargs": []}})),
            "MATH",
        )
        .unwrap_err()
        .to_string();
        assert!(error.contains("verifier.ifeval"), "{error}");
        let error = scalar_gold(&row(json!({"prompt": "p"})), "MATH")
            .unwrap_err()
            .to_string();
        assert!(error.contains("no `ground_truth`"), "{error}");
    }

    #[test]
    fn instruction_gold_reads_every_real_form() {
        let expected = (
            vec!["punctuation:no_comma".to_string()],
            vec![json!({"N": null})],
        );
        let forms = [
            json!({"instruction_id_list": ["punctuation:no_comma"], "kwargs": [{"N": null}]}),
            json!({"instruction_id": ["punctuation:no_comma"], "kwargs": [{"N": null}]}),
            json!([{"instruction_id": ["punctuation:no_comma"], "kwargs": [{"N": null}]}]),
            json!("[{'instruction_id': ['punctuation:no_comma'], 'kwargs': [{'N': None}]}]"),
            json!(r#"{"instruction_id": ["punctuation:no_comma"], "kwargs": [{"N": null}]}"#),
            json!([r#"{"instruction_id": ["punctuation:no_comma"], "kwargs": [{"N": null}]}"#]),
            json!(
                r#"["{\"instruction_id\": [\"punctuation:no_comma\"], \"kwargs\": [{\"N\": null}]}"]"#
            ),
        ];
        for form in forms {
            let got = instruction_gold(&row(json!({"ground_truth": form.clone()})))
                .unwrap_or_else(|e| panic!("{form}: {e}"));
            assert_eq!(got, expected, "{form}");
        }
        let no_kwargs = instruction_gold(&row(
            json!({"ground_truth": {"instruction_id_list": ["a", "b"]}}),
        ))
        .unwrap();
        assert_eq!(no_kwargs.1, vec![Value::Null, Value::Null]);
    }

    #[test]
    fn instruction_gold_errors_say_what_is_wrong() {
        let cases = [
            (json!("18"), "the string \"18\", not IFEval instructions"),
            (json!(18), "not IFEval instructions"),
            (
                json!({"answer": 1}),
                "no `instruction_id_list` (its keys are: answer)",
            ),
            (
                json!({"func_name": "validate_lowercase"}),
                "IFEvalVerifierOld",
            ),
            (
                json!([{"instruction_id": []}, {"instruction_id": []}]),
                "2 constraint sets",
            ),
            (json!({"instruction_id_list": [1]}), "the number 1"),
            (
                json!({"instruction_id_list": ["a"], "kwargs": "x"}),
                "ground_truth.kwargs",
            ),
            (json!("[{'a': "), "neither JSON nor a Python literal"),
        ];
        for (ground_truth, expected) in cases {
            let error = instruction_gold(&row(json!({"ground_truth": ground_truth.clone()})))
                .expect_err("must fail")
                .to_string();
            assert!(error.contains(expected), "{ground_truth}: {error}");
        }
        let mut wrapped = json!({"instruction_id_list": []}).to_string();
        for _ in 0..8 {
            wrapped = Value::String(wrapped).to_string();
        }
        let error = instruction_gold(&row(json!({"ground_truth": wrapped})))
            .expect_err("too deep")
            .to_string();
        assert!(error.contains("too many lists and strings"), "{error}");
    }

    #[test]
    fn prompt_text_is_the_prompt_or_the_last_user_message() {
        assert_eq!(prompt_text(&row(json!({"prompt": "p"}))), "p");
        let chat = json!([
            {"role": "user", "content": "first"},
            {"role": "assistant", "content": "a"},
            {"role": "user", "content": "second"},
            {"role": "assistant", "content": "b"}
        ]);
        assert_eq!(prompt_text(&row(json!({"prompt": chat.clone()}))), "second");
        assert_eq!(prompt_text(&row(json!({"messages": chat}))), "second");
        assert_eq!(prompt_text(&row(json!({}))), "");
    }
}
