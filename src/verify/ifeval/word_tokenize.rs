//! Word tokenization and word counting as IFEval does them.
//!
//! IFEval uses two different notions of "word":
//! - `length_constraints:number_words` counts `nltk.tokenize.RegexpTokenizer(r"\w+")` tokens,
//!   i.e. runs of Python word characters ([`count_words`]);
//! - `change_case:capital_word_frequency` counts the tokens of `nltk.word_tokenize` that are
//!   all-capitals ([`word_tokenize`]): Punkt sentences, then NLTK's improved Treebank tokenizer,
//!   which splits contractions (`DON'T` → `DO`, `N'T`), punctuation and quotes.
//!
//! The Treebank tokenizer is a fixed sequence of regex substitutions; it is reproduced here rule
//! for rule and in the same order, as NLTK 3.9.1 has it (see [`super::punkt`] for why 3.9.1).
//! The two rules that need look-ahead run on `fancy-regex`, the rest on `regex`.

use super::punkt;
use super::python_text::{split_whitespace, PY_SPACE, PY_WORD_RUN};
use regex::Regex;
use std::borrow::Cow;
use std::sync::LazyLock;

static WORD_RUN: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(PY_WORD_RUN).expect("static pattern"));

/// IFEval's `count_words`: the number of `\w+` runs (Python's definition of `\w`).
pub fn count_words(text: &str) -> usize {
    WORD_RUN.find_iter(text).count()
}

enum Pattern {
    Plain(Regex),
    LookAround(fancy_regex::Regex),
}

struct Substitution {
    pattern: Pattern,
    replacement: &'static str,
}

impl Substitution {
    fn plain(pattern: &str, replacement: &'static str) -> Self {
        Substitution {
            pattern: Pattern::Plain(Regex::new(pattern).expect("static pattern")),
            replacement,
        }
    }

    fn look_around(pattern: &str, replacement: &'static str) -> Self {
        Substitution {
            pattern: Pattern::LookAround(fancy_regex::Regex::new(pattern).expect("static pattern")),
            replacement,
        }
    }

    fn apply<'t>(&self, text: &'t str) -> Cow<'t, str> {
        match &self.pattern {
            Pattern::Plain(regex) => regex.replace_all(text, self.replacement),
            // These patterns cannot backtrack catastrophically; should the engine still give up,
            // the rule is skipped rather than the whole verification failing.
            Pattern::LookAround(regex) => regex
                .try_replacen(text, 0, self.replacement)
                .unwrap_or(Cow::Borrowed(text)),
        }
    }
}

struct TreebankRules {
    before_padding: Vec<Substitution>,
    after_padding: Vec<Substitution>,
}

static RULES: LazyLock<TreebankRules> = LazyLock::new(|| {
    let before_padding = vec![
        // Starting quotes.
        Substitution::plain(r"([«“‘„]|[`]+)", " ${1} "),
        Substitution::plain(r#"^""#, "``"),
        Substitution::plain(r"(``)", " ${1} "),
        Substitution::plain(r#"([ (\[{<])("|'{2})"#, "${1} `` "),
        Substitution::look_around(r"(?i)(')(?!re|ve|ll|m|t|s|d|n)(\w)\b", "${1} ${2}"),
        // Punctuation.
        Substitution::plain(
            &format!(r#"([^.])(\.)([\])}}>"'»”’ ]*){PY_SPACE}*$"#),
            "${1} ${2} ${3} ",
        ),
        Substitution::plain(r"([:,])([^\d])", " ${1} ${2}"),
        Substitution::plain(r"([:,])$", " ${1} "),
        Substitution::plain(r"\.{2,}", " ${0} "),
        Substitution::plain(r"[;@#$%&]", " ${0} "),
        Substitution::plain(
            &format!(r#"([^.])(\.)([\])}}>"']*){PY_SPACE}*$"#),
            "${1} ${2}${3} ",
        ),
        Substitution::plain(r"[?!]", " ${0} "),
        Substitution::plain(r"([^'])' ", "${1} ' "),
        Substitution::plain(r"[*]", " ${0} "),
        // Parentheses and brackets, then double dashes.
        Substitution::plain(r"[\]\[(){}<>]", " ${0} "),
        Substitution::plain(r"--", " -- "),
    ];
    let after_padding = vec![
        // Ending quotes.
        Substitution::plain(r"([»”’])", " ${1} "),
        Substitution::plain(r"''", " '' "),
        Substitution::plain(r#"""#, " '' "),
        Substitution::plain(&format!("{PY_SPACE}+"), " "),
        Substitution::plain(r"([^' ])('[sS]|'[mM]|'[dD]|') ", "${1} ${2} "),
        Substitution::plain(r"([^' ])('ll|'LL|'re|'RE|'ve|'VE|n't|N'T) ", "${1} ${2} "),
        // Contractions (Robert MacIntyre's list).
        Substitution::plain(r"(?i)\b(can)(not)\b", " ${1} ${2} "),
        Substitution::plain(r"(?i)\b(d)('ye)\b", " ${1} ${2} "),
        Substitution::plain(r"(?i)\b(gim)(me)\b", " ${1} ${2} "),
        Substitution::plain(r"(?i)\b(gon)(na)\b", " ${1} ${2} "),
        Substitution::plain(r"(?i)\b(got)(ta)\b", " ${1} ${2} "),
        Substitution::plain(r"(?i)\b(lem)(me)\b", " ${1} ${2} "),
        Substitution::plain(r"(?i)\b(more)('n)\b", " ${1} ${2} "),
        Substitution::look_around(r"(?i)\b(wan)(na)(?=\s)", " ${1} ${2} "),
        Substitution::plain(r"(?i) ('t)(is)\b", " ${1} ${2} "),
        Substitution::plain(r"(?i) ('t)(was)\b", " ${1} ${2} "),
    ];
    TreebankRules {
        before_padding,
        after_padding,
    }
});

/// `NLTKWordTokenizer().tokenize` for one sentence.
fn treebank_tokenize(sentence: &str, tokens: &mut Vec<String>) {
    let rules = &*RULES;
    let mut text = sentence.to_string();
    for rule in &rules.before_padding {
        if let Cow::Owned(changed) = rule.apply(&text) {
            text = changed;
        }
    }
    let mut text = format!(" {text} ");
    for rule in &rules.after_padding {
        if let Cow::Owned(changed) = rule.apply(&text) {
            text = changed;
        }
    }
    tokens.extend(split_whitespace(&text).map(str::to_string));
}

/// `nltk.word_tokenize(text)`: Punkt sentences, each tokenized by NLTK's Treebank rules.
pub fn word_tokenize(text: &str) -> Vec<String> {
    let mut tokens = Vec::new();
    for sentence in punkt::sentences(text) {
        treebank_tokenize(sentence, &mut tokens);
    }
    tokens
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_python_word_runs() {
        assert_eq!(count_words(""), 0);
        assert_eq!(count_words("Hello, world! It's 2024 — e-mail_me"), 7);
        assert_eq!(count_words("naïve café ünïcödé"), 3);
        // Python's \w excludes combining marks, so a Devanagari vowel sign splits a word.
        assert_eq!(count_words("हिन्दी"), 3);
    }

    // Expected tokens produced by NLTK 3.10 `word_tokenize`.
    #[test]
    fn tokenizes_like_nltk() {
        assert_eq!(
            word_tokenize("Hello, WORLD! It's U.S.A. don't e-mail NASA's (test) \"quoted\" end."),
            [
                "Hello", ",", "WORLD", "!", "It", "'s", "U.S.A.", "do", "n't", "e-mail", "NASA",
                "'s", "(", "test", ")", "``", "quoted", "''", "end", "."
            ]
        );
        assert_eq!(
            word_tokenize("I CANNOT go. 'Tis wanna gonna"),
            ["I", "CAN", "NOT", "go", ".", "'T", "is", "wan", "na", "gon", "na"]
        );
    }
}
