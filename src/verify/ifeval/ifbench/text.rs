//! Python text helpers IFBench's checkers are written with.

use crate::verify::ifeval::python_text::{strip, PY_SPACE};
use regex::{Captures, Regex};
use std::sync::LazyLock;

/// Python's `string.punctuation` (ASCII punctuation).
pub fn is_ascii_punctuation(c: char) -> bool {
    c.is_ascii_punctuation()
}

/// `s.strip(string.punctuation + ' ')`.
pub fn strip_punctuation_and_spaces(s: &str) -> &str {
    s.trim_matches(|c: char| c == ' ' || is_ascii_punctuation(c))
}

/// `s.translate(str.maketrans('', '', string.punctuation))`.
pub fn remove_punctuation(s: &str) -> String {
    s.chars().filter(|&c| !is_ascii_punctuation(c)).collect()
}

struct SentenceRules {
    prefixes: Regex,
    websites: Regex,
    decimal: Regex,
    multiple_dots: Regex,
    single_letter: Regex,
    acronym_then_starter: Regex,
    three_letter_acronym: Regex,
    two_letter_acronym: Regex,
    suffix_then_starter: Regex,
    suffix: Regex,
    letter_period: Regex,
}

const STARTERS: &str = r"(Mr|Mrs|Ms|Dr|Prof|Capt|Cpt|Lt|He\s|She\s|It\s|They\s|Their\s|Our\s|We\s|But\s|However\s|That\s|This\s|Wherever)";

static RULES: LazyLock<SentenceRules> = LazyLock::new(|| {
    let re = |pattern: &str| Regex::new(&pattern.replace(r"\s", PY_SPACE)).expect("static pattern");
    SentenceRules {
        prefixes: re(r"(Mr|St|Mrs|Ms|Dr)[.]"),
        websites: re(r"[.](com|net|org|io|gov|edu|me)"),
        decimal: re(r"([0-9])[.]([0-9])"),
        multiple_dots: re(r"\.{2,}"),
        single_letter: re(r"\s([A-Za-z])[.] "),
        acronym_then_starter: re(&format!(r"([A-Z][.][A-Z][.](?:[A-Z][.])?) {STARTERS}")),
        three_letter_acronym: re(r"([A-Za-z])[.]([A-Za-z])[.]([A-Za-z])[.]"),
        two_letter_acronym: re(r"([A-Za-z])[.]([A-Za-z])[.]"),
        suffix_then_starter: re(&format!(r" (Inc|Ltd|Jr|Sr|Co)[.] {STARTERS}")),
        suffix: re(r" (Inc|Ltd|Jr|Sr|Co)[.]"),
        letter_period: re(r" ([A-Za-z])[.]"),
    }
});

/// IFEval/IFBench's regex sentence splitter (`instructions_util.split_into_sentences`), used by
/// IFBench's sentence-level checkers (IFEval's own sentence count uses Punkt instead).
pub fn split_into_sentences(text: &str) -> Vec<String> {
    let rules = &*RULES;
    let mut text = format!(" {text}  ").replace('\n', " ");
    let mut sub = |regex: &Regex, replacement: &str| {
        text = regex.replace_all(&text, replacement).into_owned();
    };
    sub(&rules.prefixes, "${1}<prd>");
    sub(&rules.websites, "<prd>${1}");
    sub(&rules.decimal, "${1}<prd>${2}");
    text = rules
        .multiple_dots
        .replace_all(&text, |caps: &Captures| {
            format!("{}<stop>", "<prd>".repeat(caps[0].len()))
        })
        .into_owned();
    if text.contains("Ph.D") {
        text = text.replace("Ph.D.", "Ph<prd>D<prd>");
    }
    let mut sub = |regex: &Regex, replacement: &str| {
        text = regex.replace_all(&text, replacement).into_owned();
    };
    sub(&rules.single_letter, " ${1}<prd> ");
    sub(&rules.acronym_then_starter, "${1}<stop> ${2}");
    sub(&rules.three_letter_acronym, "${1}<prd>${2}<prd>${3}<prd>");
    sub(&rules.two_letter_acronym, "${1}<prd>${2}<prd>");
    sub(&rules.suffix_then_starter, " ${1}<stop> ${2}");
    sub(&rules.suffix, " ${1}<prd>");
    sub(&rules.letter_period, " ${1}<prd>");
    let text = text
        .replace(".\u{201d}", "\u{201d}.")
        .replace(".\"", "\".")
        .replace("!\"", "\"!")
        .replace("?\"", "\"?")
        .replace('.', ".<stop>")
        .replace('?', "?<stop>")
        .replace('!', "!<stop>")
        .replace("<prd>", ".");
    let mut sentences: Vec<String> = text.split("<stop>").map(|s| strip(s).to_string()).collect();
    if sentences.last().is_some_and(String::is_empty) {
        sentences.pop();
    }
    sentences
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regex_sentence_splitter_follows_ifeval_util() {
        assert_eq!(
            split_into_sentences("Mr. Smith bought cheapsite.com for 1.5 million dollars, i.e. he paid a lot for it. Did he mind? Adam Jones Jr. thinks he didn't. In any case, this isn't true... Well, with a probability of .9 it isn't."),
            [
                "Mr. Smith bought cheapsite.com for 1.5 million dollars, i.e. he paid a lot for it.",
                "Did he mind?",
                "Adam Jones Jr. thinks he didn't.",
                "In any case, this isn't true...",
                "Well, with a probability of .",
                "9 it isn't.",
            ]
        );
        assert_eq!(split_into_sentences(""), Vec::<String>::new());
        assert_eq!(
            split_into_sentences("He said \"hi.\" Then left!"),
            ["He said \"hi\".", "Then left!"]
        );
    }

    #[test]
    fn punctuation_helpers() {
        assert_eq!(
            strip_punctuation_and_spaces(" ...Hello, world!? "),
            "Hello, world"
        );
        assert_eq!(remove_punctuation("it's a-ok! (really)"), "its aok really");
    }
}
