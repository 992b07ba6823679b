//! `startend:*` — end phrase, quotation.

use super::Check;
use crate::verify::ifeval::error::InstructionError;
use crate::verify::ifeval::kwargs::Kwargs;
use crate::verify::ifeval::python_text::{lower, strip};

/// `startend:end_checker`: after stripping whitespace and then double quotes from both ends,
/// the lower-cased response ends with the lower-cased `end_phrase`.
#[derive(Debug)]
pub struct EndChecker {
    end_phrase: String,
}

impl EndChecker {
    /// Kwargs: `end_phrase` (string, stripped).
    pub fn new(kwargs: &Kwargs) -> Result<Self, InstructionError> {
        Ok(EndChecker {
            end_phrase: lower(strip(kwargs.string("end_phrase")?)),
        })
    }
}

impl Check for EndChecker {
    fn is_followed(&self, response: &str, _prompt: &str) -> bool {
        lower(strip(response).trim_matches('"')).ends_with(&self.end_phrase)
    }
}

/// `startend:quotation`: the stripped response is at least two characters long and starts and
/// ends with `"`.
#[derive(Debug)]
pub struct Quotation;

impl Check for Quotation {
    fn is_followed(&self, response: &str, _prompt: &str) -> bool {
        let response = strip(response);
        response.chars().count() > 1 && response.starts_with('"') && response.ends_with('"')
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn end_phrase_ignores_case_and_wrapping_quotes() {
        let value = json!({"end_phrase": "Is there anything else I can help with?"});
        let kw = Kwargs::new("startend:end_checker", &value, &["end_phrase"]).expect("kwargs");
        let checker = EndChecker::new(&kw).expect("valid");
        assert!(checker.is_followed("Done. is there anything else I can help with?", ""));
        assert!(checker.is_followed("\"Done. Is there anything else I can help with?\"\n", ""));
        assert!(!checker.is_followed("Is there anything else I can help with? Bye.", ""));
    }

    #[test]
    fn quotation_needs_both_ends() {
        assert!(Quotation.is_followed("  \"Quoted answer.\"  ", ""));
        assert!(Quotation.is_followed("\"\"", ""));
        assert!(!Quotation.is_followed("\"", ""));
        assert!(!Quotation.is_followed("“Curly quotes”", ""));
        assert!(!Quotation.is_followed("\"Open only", ""));
    }
}
