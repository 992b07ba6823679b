//! `keywords:*` — existence, frequency, forbidden words, letter frequency.

use super::Check;
use crate::verify::ifeval::error::InstructionError;
use crate::verify::ifeval::kwargs::Kwargs;
use crate::verify::ifeval::python_pattern::PythonPattern;
use crate::verify::ifeval::python_text::{is_word_char, lower, strip};
use crate::verify::ifeval::relation::Relation;

/// `keywords:existence`: every keyword occurs (case-insensitive pattern search, so `cat` is found
/// inside `category`).
#[derive(Debug)]
pub struct KeywordsExistence {
    keywords: Vec<PythonPattern>,
}

impl KeywordsExistence {
    /// Kwargs: `keywords` (non-empty list of strings).
    pub fn new(kwargs: &Kwargs) -> Result<Self, InstructionError> {
        let keywords = kwargs.string_list("keywords")?;
        Ok(KeywordsExistence {
            keywords: keywords
                .into_iter()
                .map(PythonPattern::ignore_case)
                .collect(),
        })
    }
}

impl Check for KeywordsExistence {
    fn is_followed(&self, response: &str, _prompt: &str) -> bool {
        self.keywords
            .iter()
            .all(|keyword| keyword.is_match(response))
    }
}

/// `keywords:frequency`: the number of non-overlapping, case-insensitive occurrences of
/// `keyword` (substrings count) compared with `frequency`.
#[derive(Debug)]
pub struct KeywordFrequency {
    keyword: PythonPattern,
    frequency: i64,
    relation: Relation,
}

impl KeywordFrequency {
    /// Kwargs: `keyword` (string, stripped), `frequency` (≥ 0), `relation`.
    pub fn new(kwargs: &Kwargs) -> Result<Self, InstructionError> {
        let keyword = strip(kwargs.string("keyword")?);
        if keyword.is_empty() {
            return Err(kwargs.bad("keyword", "is empty", "a non-empty string"));
        }
        Ok(KeywordFrequency {
            keyword: PythonPattern::ignore_case(keyword),
            frequency: kwargs.int_at_least("frequency", 0)?,
            relation: kwargs.relation("relation")?,
        })
    }
}

impl Check for KeywordFrequency {
    fn is_followed(&self, response: &str, _prompt: &str) -> bool {
        self.relation
            .holds_for_count(self.keyword.count(response), self.frequency)
    }
}

/// `keywords:forbidden_words`: no forbidden word occurs as a whole word (`\bword\b`,
/// case-insensitive, with Python's definition of a word character).
#[derive(Debug)]
pub struct ForbiddenWords {
    words: Vec<PythonPattern>,
}

impl ForbiddenWords {
    /// Kwargs: `forbidden_words` (non-empty list of strings).
    pub fn new(kwargs: &Kwargs) -> Result<Self, InstructionError> {
        let words = kwargs.string_list("forbidden_words")?;
        Ok(ForbiddenWords {
            words: words.into_iter().map(PythonPattern::ignore_case).collect(),
        })
    }
}

/// Python's `\b` at byte offset `at`: a word character on exactly one side.
fn is_word_boundary(text: &str, at: usize) -> bool {
    let before = text[..at].chars().next_back().is_some_and(is_word_char);
    let after = text[at..].chars().next().is_some_and(is_word_char);
    before != after
}

/// Whether `pattern` matches somewhere with a word boundary at both ends.
pub fn occurs_as_word(pattern: &PythonPattern, text: &str) -> bool {
    let mut from = 0;
    while from <= text.len() {
        let Some(found) = pattern.regex().find_at(text, from) else {
            return false;
        };
        if is_word_boundary(text, found.start()) && is_word_boundary(text, found.end()) {
            return true;
        }
        // Retry from the next character after this match's start.
        from = found.start()
            + text[found.start()..]
                .chars()
                .next()
                .map_or(1, char::len_utf8);
    }
    false
}

impl Check for ForbiddenWords {
    fn is_followed(&self, response: &str, _prompt: &str) -> bool {
        !self.words.iter().any(|word| occurs_as_word(word, response))
    }
}

/// `keywords:letter_frequency`: occurrences of `letter` in the lower-cased response compared
/// with `let_frequency`.
#[derive(Debug)]
pub struct LetterFrequency {
    letter: char,
    frequency: i64,
    relation: Relation,
}

impl LetterFrequency {
    /// Kwargs: `letter` (one character, matched case-insensitively), `let_frequency` (≥ 0),
    /// `let_relation`.
    pub fn new(kwargs: &Kwargs) -> Result<Self, InstructionError> {
        const ALLOWED: &str = "a single letter";
        let given = kwargs.string("letter")?;
        let lowered = lower(strip(given));
        let mut lowered = lowered.chars();
        let letter = match (given.chars().count(), lowered.next(), lowered.next()) {
            (1, Some(letter), None) => letter,
            _ => return Err(kwargs.bad("letter", format!("is {given:?}"), ALLOWED)),
        };
        Ok(LetterFrequency {
            letter,
            frequency: kwargs.int_at_least("let_frequency", 0)?,
            relation: kwargs.relation("let_relation")?,
        })
    }
}

impl Check for LetterFrequency {
    fn is_followed(&self, response: &str, _prompt: &str) -> bool {
        let count = lower(response)
            .chars()
            .filter(|&c| c == self.letter)
            .count();
        self.relation.holds_for_count(count, self.frequency)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn check(checker: &dyn Check, response: &str) -> bool {
        checker.is_followed(response, "")
    }

    #[test]
    fn existence_is_a_case_insensitive_substring_search() {
        let kwargs = json!({"keywords": ["Cat", "dog"]});
        let kw = Kwargs::new("keywords:existence", &kwargs, &["keywords"]).expect("kwargs");
        let checker = KeywordsExistence::new(&kw).expect("valid");
        assert!(check(&checker, "A CATEGORY of Dogs"));
        assert!(!check(&checker, "a category of wolves"));
        assert!(!check(&checker, ""));
    }

    #[test]
    fn frequency_boundaries() {
        let make = |relation: &str| {
            let kwargs = json!({"keyword": " the ", "frequency": 3, "relation": relation});
            let kw = Kwargs::new(
                "keywords:frequency",
                &kwargs,
                &["keyword", "frequency", "relation"],
            )
            .expect("kwargs");
            KeywordFrequency::new(&kw).expect("valid")
        };
        let (at_least, less_than) = (make("at least"), make("less than"));
        let three = "The end. THE start. theme";
        let two = "The end. THE start.";
        assert!(check(&at_least, three) && !check(&less_than, three));
        assert!(!check(&at_least, two) && check(&less_than, two));
    }

    #[test]
    fn forbidden_words_match_whole_words_only() {
        let kwargs = json!({"forbidden_words": ["cat", "über"]});
        let kw =
            Kwargs::new("keywords:forbidden_words", &kwargs, &["forbidden_words"]).expect("kwargs");
        let checker = ForbiddenWords::new(&kw).expect("valid");
        assert!(check(&checker, "concatenate categories"));
        assert!(!check(&checker, "the CAT sat"));
        assert!(!check(&checker, "(cat)"));
        assert!(check(&checker, "überall"));
        assert!(!check(&checker, "Über alles"));
        assert!(check(&checker, "cat_like cats"));
    }

    #[test]
    fn letter_frequency_counts_case_insensitively() {
        let kwargs = json!({"letter": "Z", "let_frequency": 2, "let_relation": "at least"});
        let kw = Kwargs::new(
            "keywords:letter_frequency",
            &kwargs,
            &["letter", "let_frequency", "let_relation"],
        )
        .expect("kwargs");
        let checker = LetterFrequency::new(&kw).expect("valid");
        assert!(check(&checker, "Zig zag"));
        assert!(!check(&checker, "Zig"));
        let bad = json!({"letter": "ab", "let_frequency": 2, "let_relation": "at least"});
        let kw = Kwargs::new(
            "keywords:letter_frequency",
            &bad,
            &["letter", "let_frequency", "let_relation"],
        )
        .expect("kwargs");
        assert!(LetterFrequency::new(&kw).is_err());
    }
}
