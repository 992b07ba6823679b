//! `length_constraints:*` — sentences, paragraphs, words, first word of the n-th paragraph.

use super::Check;
use crate::verify::ifeval::error::InstructionError;
use crate::verify::ifeval::kwargs::Kwargs;
use crate::verify::ifeval::punkt::count_sentences;
use crate::verify::ifeval::python_text::{is_blank, lower, split_whitespace, strip, PY_SPACE};
use crate::verify::ifeval::relation::Relation;
use crate::verify::ifeval::word_tokenize::count_words;
use regex::Regex;
use std::sync::LazyLock;

/// `length_constraints:number_sentences`: the Punkt (NLTK English) sentence count compared with
/// `num_sentences`.
#[derive(Debug)]
pub struct NumberSentences {
    threshold: i64,
    relation: Relation,
}

impl NumberSentences {
    /// Kwargs: `num_sentences` (≥ 0), `relation`.
    pub fn new(kwargs: &Kwargs) -> Result<Self, InstructionError> {
        Ok(NumberSentences {
            threshold: kwargs.int_at_least("num_sentences", 0)?,
            relation: kwargs.relation("relation")?,
        })
    }
}

impl Check for NumberSentences {
    fn is_followed(&self, response: &str, _prompt: &str) -> bool {
        self.relation
            .holds_for_count(count_sentences(response), self.threshold)
    }
}

/// `length_constraints:number_words`: the `\w+` word count compared with `num_words`.
#[derive(Debug)]
pub struct NumberWords {
    threshold: i64,
    relation: Relation,
}

impl NumberWords {
    /// Kwargs: `num_words` (≥ 0), `relation`.
    pub fn new(kwargs: &Kwargs) -> Result<Self, InstructionError> {
        Ok(NumberWords {
            threshold: kwargs.int_at_least("num_words", 0)?,
            relation: kwargs.relation("relation")?,
        })
    }
}

impl Check for NumberWords {
    fn is_followed(&self, response: &str, _prompt: &str) -> bool {
        self.relation
            .holds_for_count(count_words(response), self.threshold)
    }
}

static MARKDOWN_DIVIDER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(r"{PY_SPACE}?\*\*\*{PY_SPACE}?")).expect("static pattern")
});

/// `length_constraints:number_paragraphs`: exactly `num_paragraphs` paragraphs separated by the
/// markdown divider `***`. A blank paragraph is allowed only first or last (and is not counted);
/// a blank one in between fails the instruction.
#[derive(Debug)]
pub struct NumberParagraphs {
    expected: i64,
}

impl NumberParagraphs {
    /// Kwargs: `num_paragraphs` (≥ 0).
    pub fn new(kwargs: &Kwargs) -> Result<Self, InstructionError> {
        Ok(NumberParagraphs {
            expected: kwargs.int_at_least("num_paragraphs", 0)?,
        })
    }
}

impl Check for NumberParagraphs {
    fn is_followed(&self, response: &str, _prompt: &str) -> bool {
        let paragraphs: Vec<&str> = MARKDOWN_DIVIDER.split(response).collect();
        let last = paragraphs.len() - 1;
        let mut count = paragraphs.len();
        for (index, paragraph) in paragraphs.iter().enumerate() {
            if is_blank(paragraph) {
                if index == 0 || index == last {
                    count -= 1;
                } else {
                    return false;
                }
            }
        }
        i64::try_from(count).is_ok_and(|count| count == self.expected)
    }
}

/// `length_constraints:nth_paragraph_first_word`: exactly `num_paragraphs` non-blank paragraphs
/// separated by `"\n\n"`, and the `nth_paragraph`-th piece of the split (blank pieces included,
/// as IFEval indexes it) starts with `first_word`, compared lower-cased after dropping leading
/// quotes and cutting at the first `. , ? ! ' "`.
#[derive(Debug)]
pub struct NthParagraphFirstWord {
    num_paragraphs: usize,
    nth_paragraph: usize,
    first_word: String,
}

impl NthParagraphFirstWord {
    /// Kwargs: `num_paragraphs` (≥ 1), `nth_paragraph` (1..=num_paragraphs), `first_word`.
    pub fn new(kwargs: &Kwargs) -> Result<Self, InstructionError> {
        let num_paragraphs = kwargs.int_at_least("num_paragraphs", 0)?;
        let nth_paragraph = kwargs.int_at_least("nth_paragraph", 1)?;
        if nth_paragraph > num_paragraphs {
            return Err(kwargs.bad(
                "nth_paragraph",
                format!("is {nth_paragraph}"),
                &format!("an integer from 1 to num_paragraphs ({num_paragraphs})"),
            ));
        }
        Ok(NthParagraphFirstWord {
            num_paragraphs: usize::try_from(num_paragraphs).unwrap_or(usize::MAX),
            nth_paragraph: usize::try_from(nth_paragraph).unwrap_or(usize::MAX),
            first_word: lower(kwargs.string("first_word")?),
        })
    }
}

/// IFEval's notion of a paragraph's first word.
fn first_word_of(paragraph: &str) -> String {
    let word = split_whitespace(paragraph).next().unwrap_or("");
    let word = word.trim_start_matches('\'').trim_start_matches('"');
    word.chars()
        .take_while(|c| !matches!(c, '.' | ',' | '?' | '!' | '\'' | '"'))
        .flat_map(char::to_lowercase)
        .collect()
}

impl Check for NthParagraphFirstWord {
    fn is_followed(&self, response: &str, _prompt: &str) -> bool {
        let paragraphs: Vec<&str> = response.split("\n\n").collect();
        let non_blank = paragraphs.iter().filter(|p| !is_blank(p)).count();
        if self.nth_paragraph > non_blank {
            return false;
        }
        let paragraph = strip(paragraphs[self.nth_paragraph - 1]);
        if paragraph.is_empty() {
            return false;
        }
        non_blank == self.num_paragraphs && first_word_of(paragraph) == self.first_word
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    fn kwargs<'a>(id: &'a str, value: &'a Value, takes: &[&str]) -> Kwargs<'a> {
        Kwargs::new(id, value, takes).expect("kwargs")
    }

    #[test]
    fn sentence_count_boundaries() {
        let text = "One here. Two here! Three here?";
        for (threshold, relation, expected) in [
            (3, "at least", true),
            (4, "at least", false),
            (3, "less than", false),
            (4, "less than", true),
        ] {
            let value = json!({"num_sentences": threshold, "relation": relation});
            let checker =
                NumberSentences::new(&kwargs("s", &value, &["num_sentences", "relation"]))
                    .expect("valid");
            assert_eq!(
                checker.is_followed(text, ""),
                expected,
                "{threshold} {relation}"
            );
        }
    }

    #[test]
    fn word_count_boundaries() {
        let text = "one two, three-four five's"; // \w+ runs: one two three four five s
        for (threshold, relation, expected) in [
            (6, "at least", true),
            (7, "at least", false),
            (6, "less than", false),
            (7, "less than", true),
        ] {
            let value = json!({"num_words": threshold, "relation": relation});
            let checker =
                NumberWords::new(&kwargs("w", &value, &["num_words", "relation"])).expect("valid");
            assert_eq!(
                checker.is_followed(text, ""),
                expected,
                "{threshold} {relation}"
            );
        }
    }

    #[test]
    fn paragraphs_split_on_markdown_dividers() {
        let value = json!({"num_paragraphs": 3});
        let checker =
            NumberParagraphs::new(&kwargs("p", &value, &["num_paragraphs"])).expect("valid");
        assert!(checker.is_followed("A\n***\nB\n***\nC", ""));
        assert!(
            checker.is_followed("***\nA\n***\nB\n***\nC\n***", ""),
            "blank ends are dropped"
        );
        assert!(
            !checker.is_followed("A\n***\n\n***\nB\n***\nC", ""),
            "blank middle fails"
        );
        assert!(!checker.is_followed("A\n***\nB", ""));
        assert!(!checker.is_followed("A\n\nB\n\nC", ""));
    }

    #[test]
    fn nth_paragraph_first_word() {
        let value = json!({"num_paragraphs": 3, "nth_paragraph": 2, "first_word": "Because"});
        let takes = ["num_paragraphs", "nth_paragraph", "first_word"];
        let checker = NthParagraphFirstWord::new(&kwargs("n", &value, &takes)).expect("valid");
        assert!(checker.is_followed("Intro.\n\n\"Because, well.\" More\n\nEnd.", ""));
        assert!(checker.is_followed("Intro.\n\nbecause's end\n\nEnd.", ""));
        assert!(!checker.is_followed("Intro.\n\nSince then\n\nEnd.", ""));
        assert!(!checker.is_followed("Intro.\n\nBecause\n\nEnd.\n\nExtra.", ""));
        // IFEval indexes the raw split, so a leading blank piece shifts the paragraphs.
        assert!(!checker.is_followed("\n\nIntro.\n\nBecause\n\nEnd.", ""));
        let bad = json!({"num_paragraphs": 2, "nth_paragraph": 3, "first_word": "x"});
        assert!(NthParagraphFirstWord::new(&kwargs("n", &bad, &takes)).is_err());
    }
}
