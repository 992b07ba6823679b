//! `change_case:*` — capital word frequency, all-capitals English, all-lowercase English.

use super::Check;
use crate::verify::ifeval::error::InstructionError;
use crate::verify::ifeval::kwargs::Kwargs;
use crate::verify::ifeval::language::ResponseLanguage;
use crate::verify::ifeval::python_text::{is_lower, is_upper};
use crate::verify::ifeval::relation::Relation;
use crate::verify::ifeval::word_tokenize::word_tokenize;

/// `change_case:capital_word_frequency`: the number of `nltk.word_tokenize` tokens that are
/// all-capitals (Python `isupper`: `NASA`, `U.S.`, `DON'T` → `DO` + `N'T` = 2) compared with
/// `capital_frequency`.
#[derive(Debug)]
pub struct CapitalWordFrequency {
    frequency: i64,
    relation: Relation,
}

impl CapitalWordFrequency {
    /// Kwargs: `capital_frequency` (any integer, as IFEval accepts), `capital_relation`.
    pub fn new(kwargs: &Kwargs) -> Result<Self, InstructionError> {
        Ok(CapitalWordFrequency {
            frequency: kwargs.int("capital_frequency")?,
            relation: kwargs.relation("capital_relation")?,
        })
    }
}

impl Check for CapitalWordFrequency {
    fn is_followed(&self, response: &str, _prompt: &str) -> bool {
        let capitals = word_tokenize(response)
            .iter()
            .filter(|token| is_upper(token))
            .count();
        self.relation.holds_for_count(capitals, self.frequency)
    }
}

/// `change_case:english_capital`: Python `isupper()` of the whole response, and detected as
/// English (undetectable text counts as English, as in IFEval).
#[derive(Debug)]
pub struct EnglishCapital;

impl Check for EnglishCapital {
    fn is_followed(&self, response: &str, _prompt: &str) -> bool {
        is_upper(response) && ResponseLanguage::english().matches(response)
    }
}

/// `change_case:english_lowercase`: Python `islower()` of the whole response, and detected as
/// English (undetectable text counts as English, as in IFEval).
#[derive(Debug)]
pub struct EnglishLowercase;

impl Check for EnglishLowercase {
    fn is_followed(&self, response: &str, _prompt: &str) -> bool {
        is_lower(response) && ResponseLanguage::english().matches(response)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn capital(frequency: i64, relation: &str) -> CapitalWordFrequency {
        let value = json!({"capital_frequency": frequency, "capital_relation": relation});
        let kw = Kwargs::new(
            "change_case:capital_word_frequency",
            &value,
            &["capital_frequency", "capital_relation"],
        )
        .expect("kwargs");
        CapitalWordFrequency::new(&kw).expect("valid")
    }

    #[test]
    fn capital_words_follow_nltk_tokenization() {
        // Tokens: I, DON'T → DO + N'T, like, NASA, 's → 4 all-capital tokens (I, DO, N'T, NASA).
        let text = "I DON'T like NASA's plan.";
        assert!(capital(4, "at least").is_followed(text, ""));
        assert!(!capital(5, "at least").is_followed(text, ""));
        assert!(!capital(4, "less than").is_followed(text, ""));
        assert!(capital(5, "less than").is_followed(text, ""));
    }

    #[test]
    fn english_capital_and_lowercase() {
        let upper =
            "THIS IS AN ANSWER WRITTEN ENTIRELY IN CAPITAL LETTERS, AS REQUESTED BY THE USER.";
        assert!(EnglishCapital.is_followed(upper, ""));
        assert!(!EnglishCapital.is_followed("THIS IS ALMOST all capitals.", ""));
        assert!(!EnglishCapital.is_followed(
            "CECI EST UNE RÉPONSE ENTIÈREMENT EN MAJUSCULES, COMME LE DEMANDE L'UTILISATEUR.",
            ""
        ));
        let lower = "this is an answer written entirely in lowercase letters, as the user asked.";
        assert!(EnglishLowercase.is_followed(lower, ""));
        assert!(!EnglishLowercase.is_followed("this is almost all lowercase. Not quite.", ""));
        assert!(EnglishCapital.is_followed("123 !!!", "") == is_upper("123 !!!"));
    }
}
