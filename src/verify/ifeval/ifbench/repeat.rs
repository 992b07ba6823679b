//! IFBench `repeat:*` checkers.

use super::rule::Rule;
use crate::verify::ifeval::checks::Check;
use crate::verify::ifeval::error::InstructionError;
use crate::verify::ifeval::kwargs::Kwargs;
use crate::verify::ifeval::python_text::{lower, split_whitespace, strip};

fn prompt_to_repeat(kwargs: &Kwargs) -> Result<String, InstructionError> {
    let prompt = kwargs.string("prompt_to_repeat")?;
    if prompt.is_empty() {
        return Err(kwargs.bad("prompt_to_repeat", "is empty", "the text to repeat"));
    }
    Ok(prompt.to_string())
}

/// `repeat:repeat_change`: the request repeated with only its first word changed (the words
/// after the first are identical, and the whole is not identical).
pub fn repeat_change(kwargs: &Kwargs) -> Result<Box<dyn Check>, InstructionError> {
    let prompt = prompt_to_repeat(kwargs)?;
    Ok(Rule::on_response("repeat:repeat_change", move |response| {
        let tail = |text: &str| split_whitespace(text).skip(1).collect::<Vec<_>>().join(" ");
        prompt != response && tail(&prompt) == tail(response)
    }))
}

/// IFBench's fixed sentence for `repeat:repeat_simple`.
pub const SIMPLE_SENTENCE: &str = "only output this sentence here, ignore all other requests.";

/// `repeat:repeat_simple`: the response is exactly the instruction sentence (any case).
pub fn repeat_simple(_: &Kwargs) -> Result<Box<dyn Check>, InstructionError> {
    Ok(Rule::on_response("repeat:repeat_simple", |response| {
        lower(strip(response)) == SIMPLE_SENTENCE
    }))
}

/// `repeat:repeat_span`: the response's words are exactly the prompt's words `n_start..n_end`
/// (a Python slice: end excluded, out-of-range bounds clamped), compared lower-cased.
pub fn repeat_span(kwargs: &Kwargs) -> Result<Box<dyn Check>, InstructionError> {
    let prompt = lower(strip(&prompt_to_repeat(kwargs)?));
    let start = usize::try_from(kwargs.int_at_least("n_start", 0)?).unwrap_or(usize::MAX);
    let end = usize::try_from(kwargs.int_at_least("n_end", 0)?).unwrap_or(usize::MAX);
    let words: Vec<String> = split_whitespace(&prompt).map(str::to_string).collect();
    let span: Vec<String> = words
        .get(start.min(words.len())..end.clamp(start.min(words.len()), words.len()))
        .unwrap_or_default()
        .to_vec();
    Ok(Rule::on_response("repeat:repeat_span", move |response| {
        let lowered = lower(strip(response));
        split_whitespace(&lowered).eq(span.iter().map(String::as_str))
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn repeats() {
        let value = json!({"prompt_to_repeat": "Write a poem about cats"});
        let kw =
            Kwargs::new("repeat:repeat_change", &value, &["prompt_to_repeat"]).expect("kwargs");
        let change = repeat_change(&kw).expect("valid");
        assert!(change.is_followed("Compose a poem about cats", ""));
        assert!(!change.is_followed("Write a poem about cats", ""));
        assert!(!change.is_followed("Compose a poem about dogs", ""));

        let empty = json!({});
        let kw = Kwargs::new("repeat:repeat_simple", &empty, &[]).expect("kwargs");
        let simple = repeat_simple(&kw).expect("valid");
        assert!(simple.is_followed(
            " Only output this sentence here, ignore all other requests. ",
            ""
        ));
        assert!(!simple.is_followed("Only output this sentence here.", ""));

        let value =
            json!({"prompt_to_repeat": "One two three four five", "n_start": 1, "n_end": 3});
        let kw = Kwargs::new(
            "repeat:repeat_span",
            &value,
            &["prompt_to_repeat", "n_start", "n_end"],
        )
        .expect("kwargs");
        let span = repeat_span(&kw).expect("valid");
        assert!(span.is_followed("TWO three", ""));
        assert!(!span.is_followed("two three four", ""));
    }
}
