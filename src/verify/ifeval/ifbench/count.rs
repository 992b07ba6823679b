//! IFBench `count:*` checkers.

use super::rule::Rule;
use super::text::{remove_punctuation, strip_punctuation_and_spaces};
use crate::verify::ifeval::checks::Check;
use crate::verify::ifeval::error::InstructionError;
use crate::verify::ifeval::kwargs::Kwargs;
use crate::verify::ifeval::python_text::{lower, split_whitespace, strip};
use crate::verify::ifeval::word_tokenize::count_words;
use regex::Regex;
use std::collections::HashSet;
use std::sync::LazyLock;

fn usize_kwarg(kwargs: &Kwargs, name: &str, min: i64) -> Result<usize, InstructionError> {
    let value = kwargs.int_at_least(name, min)?;
    Ok(usize::try_from(value).unwrap_or(usize::MAX))
}

/// `count:word_count_range`: `min_words <= \w+ word count <= max_words`.
pub fn word_count_range(kwargs: &Kwargs) -> Result<Box<dyn Check>, InstructionError> {
    let min = usize_kwarg(kwargs, "min_words", 0)?;
    let max = usize_kwarg(kwargs, "max_words", 0)?;
    Ok(Rule::on_response(
        "count:word_count_range",
        move |response| (min..=max).contains(&count_words(response)),
    ))
}

/// Distinct lower-cased whitespace tokens, stripped of ASCII punctuation and spaces.
pub fn unique_word_count(response: &str) -> usize {
    let lowered = lower(response);
    split_whitespace(&lowered)
        .map(strip_punctuation_and_spaces)
        .collect::<HashSet<_>>()
        .len()
}

/// `count:unique_word_count`: at least `N` distinct words.
pub fn unique_words(kwargs: &Kwargs) -> Result<Box<dyn Check>, InstructionError> {
    let n = usize_kwarg(kwargs, "N", 0)?;
    Ok(Rule::on_response(
        "count:unique_word_count",
        move |response| unique_word_count(response) >= n,
    ))
}

const CONJUNCTIONS: [&str; 7] = ["and", "but", "for", "nor", "or", "so", "yet"];

/// Distinct raw tokens (as written, e.g. `And,` and `and` differ) that are coordinating
/// conjunctions once stripped and lower-cased — IFBench counts the raw tokens.
pub fn distinct_conjunction_tokens(response: &str) -> usize {
    split_whitespace(response)
        .filter(|word| CONJUNCTIONS.contains(&lower(strip_punctuation_and_spaces(word)).as_str()))
        .collect::<HashSet<_>>()
        .len()
}

/// `count:conjunctions`: at least `small_n` distinct conjunction tokens.
pub fn conjunctions(kwargs: &Kwargs) -> Result<Box<dyn Check>, InstructionError> {
    let n = usize_kwarg(kwargs, "small_n", 0)?;
    Ok(Rule::on_response("count:conjunctions", move |response| {
        distinct_conjunction_tokens(response) >= n
    }))
}

/// IFBench's fixed list of person names.
pub const PERSON_NAMES: [&str; 50] = [
    "Emma",
    "Liam",
    "Sophia",
    "Jackson",
    "Olivia",
    "Noah",
    "Ava",
    "Lucas",
    "Isabella",
    "Mason",
    "Mia",
    "Ethan",
    "Charlotte",
    "Alexander",
    "Amelia",
    "Benjamin",
    "Harper",
    "Leo",
    "Zoe",
    "Daniel",
    "Chloe",
    "Samuel",
    "Lily",
    "Matthew",
    "Grace",
    "Owen",
    "Abigail",
    "Gabriel",
    "Ella",
    "Jacob",
    "Scarlett",
    "Nathan",
    "Victoria",
    "Elijah",
    "Layla",
    "Nicholas",
    "Audrey",
    "David",
    "Hannah",
    "Christopher",
    "Penelope",
    "Thomas",
    "Nora",
    "Andrew",
    "Aria",
    "Joseph",
    "Claire",
    "Ryan",
    "Stella",
    "Jonathan",
];

/// `count:person_names`: at least `N` of [`PERSON_NAMES`] occur (as case-sensitive substrings).
pub fn person_names(kwargs: &Kwargs) -> Result<Box<dyn Check>, InstructionError> {
    let n = usize_kwarg(kwargs, "N", 0)?;
    Ok(Rule::on_response("count:person_names", move |response| {
        PERSON_NAMES
            .iter()
            .filter(|name| response.contains(*name))
            .count()
            >= n
    }))
}

static DIGIT_RUN: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"\d+").expect("static pattern"));

/// `count:numbers`: exactly `N` digit runs once ASCII punctuation is removed (`3.14` is one).
pub fn numbers(kwargs: &Kwargs) -> Result<Box<dyn Check>, InstructionError> {
    let n = usize_kwarg(kwargs, "N", 0)?;
    Ok(Rule::on_response("count:numbers", move |response| {
        DIGIT_RUN.find_iter(&remove_punctuation(response)).count() == n
    }))
}

/// `count:punctuation`: uses `?!`, `!?` or `‽`, and — after removing one `?!` (else one `!?`) —
/// still every one of `. , ! ? ; :`.
pub fn punctuation(_: &Kwargs) -> Result<Box<dyn Check>, InstructionError> {
    Ok(Rule::on_response("count:punctuation", |response| {
        if !(response.contains("!?") || response.contains("?!") || response.contains('‽')) {
            return false;
        }
        let mut rest = response.replacen("?!", "", 1);
        if rest.len() == response.len() {
            rest = response.replacen("!?", "", 1);
        }
        ['.', ',', '!', '?', ';', ':']
            .iter()
            .all(|mark| rest.contains(*mark))
    }))
}

const PRONOUNS: [&str; 31] = [
    "i",
    "me",
    "my",
    "mine",
    "myself",
    "we",
    "us",
    "our",
    "ours",
    "ourselves",
    "you",
    "your",
    "yours",
    "yourself",
    "yourselves",
    "he",
    "him",
    "his",
    "himself",
    "she",
    "her",
    "hers",
    "herself",
    "it",
    "its",
    "itself",
    "they",
    "them",
    "their",
    "theirs",
    "themselves",
];

/// `count:pronouns`: at least `N` personal pronouns (`/` splits `she/her`; punctuation removed,
/// so `it's` reads as `its`).
pub fn pronouns(kwargs: &Kwargs) -> Result<Box<dyn Check>, InstructionError> {
    let n = usize_kwarg(kwargs, "N", 0)?;
    Ok(Rule::on_response("count:pronouns", move |response| {
        let cleaned = remove_punctuation(&lower(&response.replace('/', " ")));
        split_whitespace(&cleaned)
            .filter(|word| PRONOUNS.contains(word))
            .count()
            >= n
    }))
}

fn is_japanese(word: &str) -> bool {
    word.chars()
        .any(|c| matches!(c, '\u{3040}'..='\u{30ff}' | '\u{4e00}'..='\u{9fff}'))
}

/// `count:words_japanese`: every `N`-th whitespace word (stripped of punctuation; digits exempt)
/// contains Japanese script.
pub fn words_japanese(kwargs: &Kwargs) -> Result<Box<dyn Check>, InstructionError> {
    let n = usize_kwarg(kwargs, "N", 1)?;
    Ok(Rule::on_response("count:words_japanese", move |response| {
        split_whitespace(response).enumerate().all(|(index, word)| {
            let word = strip_punctuation_and_spaces(word);
            (index + 1) % n != 0
                || word.is_empty()
                || word.chars().all(char::is_numeric)
                || is_japanese(word)
        })
    }))
}

/// `count:keywords_multiple`: `keyword1`..`keyword5` occur exactly 1, 2, 3, 5 and 7 times
/// (case-insensitive substring counts).
pub fn keywords_multiple(kwargs: &Kwargs) -> Result<Box<dyn Check>, InstructionError> {
    let mut keywords = Vec::new();
    for (name, count) in [
        ("keyword1", 1),
        ("keyword2", 2),
        ("keyword3", 3),
        ("keyword4", 5),
        ("keyword5", 7),
    ] {
        let keyword = lower(strip(kwargs.string(name)?));
        if keyword.is_empty() {
            return Err(kwargs.bad(name, "is empty", "a non-empty keyword"));
        }
        keywords.push((keyword, count));
    }
    Ok(Rule::on_response(
        "count:keywords_multiple",
        move |response| {
            let lowered = lower(response);
            keywords
                .iter()
                .all(|(keyword, count)| lowered.matches(keyword.as_str()).count() == *count)
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    fn build(
        builder: fn(&Kwargs) -> Result<Box<dyn Check>, InstructionError>,
        kwargs: Value,
        takes: &[&str],
    ) -> Box<dyn Check> {
        builder(&Kwargs::new("ifbench:test", &kwargs, takes).expect("kwargs")).expect("valid")
    }

    #[test]
    fn word_count_range_is_inclusive() {
        let check = build(
            word_count_range,
            json!({"min_words": 2, "max_words": 3}),
            &["min_words", "max_words"],
        );
        assert!(!check.is_followed("one", ""));
        assert!(check.is_followed("one two", ""));
        assert!(check.is_followed("one two three", ""));
        assert!(!check.is_followed("one two three four", ""));
    }

    #[test]
    fn unique_words_and_conjunctions() {
        assert_eq!(unique_word_count("The the THE, cat. Cat!"), 2);
        assert_eq!(
            distinct_conjunction_tokens("and And, but but or nor yet so for"),
            8
        );
        let check = build(conjunctions, json!({"small_n": 3}), &["small_n"]);
        assert!(check.is_followed("tea and toast, but not jam or honey", ""));
        assert!(!check.is_followed("tea and toast and jam", ""));
    }

    #[test]
    fn names_numbers_pronouns() {
        let names = build(person_names, json!({"N": 2}), &["N"]);
        assert!(names.is_followed("Emma met Noah.", ""));
        assert!(!names.is_followed("Emma met emma.", ""));
        let numbers_check = build(numbers, json!({"N": 3}), &["N"]);
        assert!(
            numbers_check.is_followed("1, 22 and 3.14", ""),
            "3.14 reads as 314"
        );
        assert!(!numbers_check.is_followed("1, 22, 3 and 4", ""));
        let pronoun_check = build(pronouns, json!({"N": 3}), &["N"]);
        assert!(pronoun_check.is_followed("She/her said it's mine", ""));
        assert!(!pronoun_check.is_followed("The cat sat.", ""));
    }

    #[test]
    fn punctuation_cover() {
        let check = build(punctuation, json!({}), &[]);
        assert!(check.is_followed("Really?! Yes. No, maybe; fine: ok!?", ""));
        assert!(
            !check.is_followed("Really?! Yes. No, maybe; fine: ok", ""),
            "needs a separate !"
        );
        assert!(!check.is_followed("Really? Yes! No, maybe; fine: ok.", ""));
    }

    #[test]
    fn japanese_every_nth_word() {
        let check = build(words_japanese, json!({"N": 2}), &["N"]);
        assert!(check.is_followed("I 私は like 猫 42 3", ""));
        assert!(!check.is_followed("I like cats", ""));
    }

    #[test]
    fn keywords_multiple_counts_exactly() {
        let kwargs = json!({"keyword1": "a1", "keyword2": "b2", "keyword3": "c3", "keyword4": "d4", "keyword5": "e5"});
        let check = build(
            keywords_multiple,
            kwargs,
            &["keyword1", "keyword2", "keyword3", "keyword4", "keyword5"],
        );
        let text = "a1 b2 b2 c3 c3 C3 d4 d4 d4 d4 d4 e5 e5 e5 e5 e5 e5 e5";
        assert!(check.is_followed(text, ""));
        assert!(!check.is_followed(&format!("{text} a1"), ""));
    }
}
