//! Python `str` semantics that the IFEval checkers depend on.
//!
//! IFEval's checkers are written against Python's string methods (`strip`, `split`, `isupper`,
//! `islower`, `lower`) and `re`'s Unicode classes. Rust's standard library differs in small ways
//! (Rust's whitespace set lacks the four ASCII separators U+001C..U+001F; Rust's `\w` also matches
//! combining marks, Python's does not; Rust has no titlecase predicate), so the checkers use
//! these helpers wherever the difference could change a verdict.

use regex::Regex;
use std::sync::LazyLock;

/// Python's `str.isspace()` for one character: Unicode White_Space plus the ASCII file, group,
/// record and unit separators (U+001C..U+001F), which Python counts as whitespace and Rust does not.
pub fn is_space(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

/// Python's `str.strip()` with no argument.
pub fn strip(s: &str) -> &str {
    s.trim_matches(is_space)
}

/// Python's `str.rstrip()` with no argument.
pub fn rstrip(s: &str) -> &str {
    s.trim_end_matches(is_space)
}

/// Python's `str.split()` with no argument: runs of whitespace separate, empty pieces dropped.
pub fn split_whitespace(s: &str) -> impl Iterator<Item = &str> {
    s.split(is_space).filter(|piece| !piece.is_empty())
}

/// True when `s` is empty or made only of whitespace, i.e. Python's `not s.strip()`.
pub fn is_blank(s: &str) -> bool {
    s.chars().all(is_space)
}

/// The titlecase letters (general category Lt). Python's `isupper`/`islower` treat them as
/// neither upper nor lower but as disqualifying both; Rust has no predicate for them.
pub fn is_titlecase(c: char) -> bool {
    matches!(c,
        '\u{01C5}' | '\u{01C8}' | '\u{01CB}' | '\u{01F2}'
        | '\u{1F88}'..='\u{1F8F}'
        | '\u{1F98}'..='\u{1F9F}'
        | '\u{1FA8}'..='\u{1FAF}'
        | '\u{1FBC}' | '\u{1FCC}' | '\u{1FFC}')
}

/// Python's `str.isupper()`: at least one cased character, and no lowercase or titlecase one.
pub fn is_upper(s: &str) -> bool {
    let mut cased = false;
    for c in s.chars() {
        if c.is_lowercase() || is_titlecase(c) {
            return false;
        }
        cased |= c.is_uppercase();
    }
    cased
}

/// Python's `str.islower()`: at least one cased character, and no uppercase or titlecase one.
pub fn is_lower(s: &str) -> bool {
    let mut cased = false;
    for c in s.chars() {
        if c.is_uppercase() || is_titlecase(c) {
            return false;
        }
        cased |= c.is_lowercase();
    }
    cased
}

/// Python's `str.lower()`. Rust's `to_lowercase` applies the same full Unicode mapping, including
/// the context-dependent final sigma.
pub fn lower(s: &str) -> String {
    s.to_lowercase()
}

static WORD_CHAR: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[\p{L}\p{N}_]$").expect("static pattern"));

/// Python's `\w` for one character (letters, numbers, underscore; not combining marks).
pub fn is_word_char(c: char) -> bool {
    if c.is_ascii() {
        return c.is_ascii_alphanumeric() || c == '_';
    }
    let mut buf = [0u8; 4];
    WORD_CHAR.is_match(c.encode_utf8(&mut buf))
}

/// Python's `\s` as a `regex` class: Rust's `\s` lacks U+001C..U+001F.
pub const PY_SPACE: &str = r"[\s\x1c-\x1f]";

/// The pattern of Python's `\w+` (used by `nltk.tokenize.RegexpTokenizer(r"\w+")`).
pub const PY_WORD_RUN: &str = r"[\p{L}\p{N}_]+";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whitespace_matches_python_including_ascii_separators() {
        assert!(is_space('\u{1c}') && is_space('\u{3000}') && is_space('\u{a0}'));
        assert!(
            !is_space('\u{200b}'),
            "zero-width space is not whitespace in Python"
        );
        assert_eq!(strip("\u{1f} x \u{2003}"), "x");
        assert!(is_blank("") && is_blank(" \n\t\u{1e}") && !is_blank(" a "));
        assert_eq!(
            split_whitespace("  a \n b\u{3000}c ").collect::<Vec<_>>(),
            ["a", "b", "c"]
        );
    }

    #[test]
    fn case_predicates_follow_python() {
        assert!(is_upper("HELLO, WORLD 42!"));
        assert!(!is_upper("123 !"), "no cased character");
        assert!(!is_upper("HELLo"));
        assert!(is_upper("ÉCOLE ΑΒΓ"));
        assert!(!is_upper("\u{01C5}A"), "titlecase letters disqualify");
        assert!(is_lower("hello, world 42!"));
        assert!(!is_lower("42"));
        assert!(is_lower("straße ß"));
        assert!(!is_lower("Hello"));
    }

    #[test]
    fn word_chars_exclude_combining_marks() {
        assert!(is_word_char('a') && is_word_char('_') && is_word_char('é') && is_word_char('²'));
        assert!(is_word_char('न'));
        assert!(
            !is_word_char('\u{093F}'),
            "Devanagari vowel sign is a mark, not \\w in Python"
        );
        assert!(!is_word_char('-') && !is_word_char(' '));
    }
}
