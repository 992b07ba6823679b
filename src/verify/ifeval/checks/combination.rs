//! `combination:*` — two responses, repeat the prompt.

use super::Check;
use crate::verify::ifeval::error::InstructionError;
use crate::verify::ifeval::kwargs::Kwargs;
use crate::verify::ifeval::python_text::{is_blank, lower, strip};

/// `combination:two_responses`: exactly two non-blank parts separated by `******`, differing
/// after stripping; a blank part is allowed only first or last.
#[derive(Debug)]
pub struct TwoResponses;

impl Check for TwoResponses {
    fn is_followed(&self, response: &str, _prompt: &str) -> bool {
        let parts: Vec<&str> = response.split("******").collect();
        let last = parts.len() - 1;
        let mut valid = Vec::new();
        for (index, part) in parts.iter().enumerate() {
            if is_blank(part) {
                if index != 0 && index != last {
                    return false;
                }
            } else {
                valid.push(strip(part));
            }
        }
        valid.len() == 2 && valid[0] != valid[1]
    }
}

/// `combination:repeat_prompt`: the stripped, lower-cased response starts with the stripped,
/// lower-cased `prompt_to_repeat`.
#[derive(Debug)]
pub struct RepeatPrompt {
    prompt_to_repeat: String,
}

impl RepeatPrompt {
    /// Kwargs: `prompt_to_repeat` (non-empty string).
    pub fn new(kwargs: &Kwargs) -> Result<Self, InstructionError> {
        let prompt = kwargs.string("prompt_to_repeat")?;
        if prompt.is_empty() {
            return Err(kwargs.bad("prompt_to_repeat", "is empty", "the request to repeat"));
        }
        Ok(RepeatPrompt {
            prompt_to_repeat: lower(strip(prompt)),
        })
    }
}

impl Check for RepeatPrompt {
    fn is_followed(&self, response: &str, _prompt: &str) -> bool {
        lower(strip(response)).starts_with(&self.prompt_to_repeat)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn two_different_responses() {
        assert!(TwoResponses.is_followed("First answer.\n******\nSecond answer.", ""));
        assert!(TwoResponses.is_followed("******\nA\n******\nB\n******", ""));
        assert!(!TwoResponses.is_followed("Same.\n******\n Same. ", ""));
        assert!(!TwoResponses.is_followed("A\n******\n\n******\nB", ""));
        assert!(!TwoResponses.is_followed("A\n******\nB\n******\nC", ""));
        assert!(!TwoResponses.is_followed("Only one", ""));
        assert!(!TwoResponses.is_followed("A *** B", ""));
    }

    #[test]
    fn repeat_prompt_is_a_case_insensitive_prefix() {
        let value = json!({"prompt_to_repeat": "  Write a Poem about Rust.  "});
        let kw = Kwargs::new("combination:repeat_prompt", &value, &["prompt_to_repeat"])
            .expect("kwargs");
        let checker = RepeatPrompt::new(&kw).expect("valid");
        assert!(checker.is_followed("\nwrite a poem about rust. Here it is...", ""));
        assert!(!checker.is_followed("Sure! Write a poem about Rust.", ""));
    }
}
