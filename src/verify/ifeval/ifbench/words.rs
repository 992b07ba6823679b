//! IFBench `words:*` checkers.

use super::rule::Rule;
use super::text::{remove_punctuation, split_into_sentences, strip_punctuation_and_spaces};
use crate::verify::ifeval::checks::Check;
use crate::verify::ifeval::error::InstructionError;
use crate::verify::ifeval::kwargs::Kwargs;
use crate::verify::ifeval::python_text::{lower, split_whitespace, strip};
use crate::verify::ifeval::word_tokenize::word_tokenize;
use std::collections::HashMap;

/// `words:alphabet`: consecutive words start with consecutive letters of the alphabet, wrapping
/// from `z` to `a`; the first word must start with a letter.
pub fn alphabet(_: &Kwargs) -> Result<Box<dyn Check>, InstructionError> {
    Ok(Rule::on_response("words:alphabet", |response| {
        let cleaned = remove_punctuation(response);
        let mut words = split_whitespace(strip_punctuation_and_spaces(&cleaned));
        let Some(first) = words.next() else {
            return false;
        };
        let first: String = first.chars().take(1).flat_map(char::to_lowercase).collect();
        let mut expected = match first.as_bytes() {
            [letter @ b'a'..=b'z'] => *letter,
            _ => return false,
        };
        for word in words {
            let word = lower(strip_punctuation_and_spaces(word));
            let Some(initial) = word.chars().next() else {
                continue;
            };
            expected = b'a' + (expected - b'a' + 1) % 26;
            if initial != char::from(expected) {
                return false;
            }
        }
        true
    }))
}

/// `words:vowel`: a single line using at most three distinct vowels (`a e i o u`).
pub fn vowel(_: &Kwargs) -> Result<Box<dyn Check>, InstructionError> {
    Ok(Rule::on_response("words:vowel", |response| {
        let stripped = strip(response);
        if stripped.contains('\n') {
            return false;
        }
        let lowered = lower(stripped);
        let mut seen: Vec<char> = lowered.chars().filter(|c| "aeiou".contains(*c)).collect();
        seen.sort_unstable();
        seen.dedup();
        seen.len() <= 3
    }))
}

fn is_consonant(c: char) -> bool {
    "bcdfghjklmnpqrstvwxyz".contains(c)
}

/// `words:consonants`: every whitespace word has two adjacent consonants.
pub fn consonants(_: &Kwargs) -> Result<Box<dyn Check>, InstructionError> {
    Ok(Rule::on_response("words:consonants", |response| {
        let lowered = lower(response);
        let every_word_has_cluster = split_whitespace(&lowered).all(|word| {
            let chars: Vec<char> = word.chars().collect();
            chars
                .windows(2)
                .any(|pair| is_consonant(pair[0]) && is_consonant(pair[1]))
        });
        every_word_has_cluster
    }))
}

/// `words:palindrome`: at least ten words (punctuation removed, lower-cased) that are
/// palindromes of five or more characters.
pub fn palindrome(_: &Kwargs) -> Result<Box<dyn Check>, InstructionError> {
    Ok(Rule::on_response("words:palindrome", |response| {
        let cleaned = lower(&remove_punctuation(response));
        split_whitespace(&cleaned)
            .filter(|word| {
                let chars: Vec<char> = word.chars().collect();
                chars.len() >= 5 && chars.iter().eq(chars.iter().rev())
            })
            .count()
            >= 10
    }))
}

/// `words:prime_lengths`: every word (punctuation removed) has a prime number of characters.
pub fn prime_lengths(_: &Kwargs) -> Result<Box<dyn Check>, InstructionError> {
    const PRIMES: [usize; 25] = [
        2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53, 59, 61, 67, 71, 73, 79, 83, 89,
        97,
    ];
    Ok(Rule::on_response("words:prime_lengths", |response| {
        split_whitespace(&remove_punctuation(response))
            .all(|word| PRIMES.contains(&word.chars().count()))
    }))
}

/// `words:repeats`: no word (lower-cased, punctuation removed) occurs more than `small_n` times.
pub fn repeats(kwargs: &Kwargs) -> Result<Box<dyn Check>, InstructionError> {
    let limit = usize::try_from(kwargs.int_at_least("small_n", 0)?).unwrap_or(usize::MAX);
    Ok(Rule::on_response("words:repeats", move |response| {
        let cleaned = remove_punctuation(&lower(response));
        let mut counts: HashMap<&str, usize> = HashMap::new();
        for word in split_whitespace(&cleaned) {
            *counts.entry(word).or_default() += 1;
        }
        counts.values().all(|&count| count <= limit)
    }))
}

/// `words:last_first`: each sentence starts with the word the previous one ended with
/// (case-insensitive; regex sentence splitter).
pub fn last_first(_: &Kwargs) -> Result<Box<dyn Check>, InstructionError> {
    Ok(Rule::on_response("words:last_first", |response| {
        let sentences = split_into_sentences(response);
        sentences.windows(2).all(|pair| {
            let trim = |c: char| c == ' ' || c.is_ascii_punctuation();
            let last = split_whitespace(pair[0].trim_end_matches(trim)).last();
            let first = split_whitespace(pair[1].trim_start_matches(trim)).next();
            match (last, first) {
                (Some(last), Some(first)) => lower(last) == lower(first),
                // IFBench raises IndexError here; a crash is not a pass.
                _ => false,
            }
        })
    }))
}

/// `words:paragraph_last_first`: every non-blank line starts and ends with the same word.
pub fn paragraph_last_first(_: &Kwargs) -> Result<Box<dyn Check>, InstructionError> {
    Ok(Rule::on_response(
        "words:paragraph_last_first",
        |response| {
            response.split('\n').all(|line| {
                let line = lower(strip(line));
                if line.is_empty() {
                    return true;
                }
                let words: Vec<&str> =
                    split_whitespace(strip_punctuation_and_spaces(&line)).collect();
                matches!((words.first(), words.last()), (Some(first), Some(last)) if first == last)
            })
        },
    ))
}

/// `words:no_consecutive`: no two adjacent words (lower-cased, punctuation removed) start with
/// the same letter.
pub fn no_consecutive(_: &Kwargs) -> Result<Box<dyn Check>, InstructionError> {
    Ok(Rule::on_response("words:no_consecutive", |response| {
        let cleaned = remove_punctuation(&lower(response));
        let initials: Vec<Option<char>> = split_whitespace(&cleaned)
            .map(|w| w.chars().next())
            .collect();
        initials.windows(2).all(|pair| pair[0] != pair[1])
    }))
}

/// `words:keywords_specific_position`: the `m`-th `nltk.word_tokenize` token of the `n`-th
/// sentence (regex splitter) is exactly `keyword`.
pub fn keywords_specific_position(kwargs: &Kwargs) -> Result<Box<dyn Check>, InstructionError> {
    let keyword = strip(kwargs.string("keyword")?).to_string();
    let n = usize::try_from(kwargs.int_at_least("n", 1)?).unwrap_or(usize::MAX);
    let m = usize::try_from(kwargs.int_at_least("m", 1)?).unwrap_or(usize::MAX);
    Ok(Rule::on_response(
        "words:keywords_specific_position",
        move |response| {
            let sentences = split_into_sentences(response);
            let Some(sentence) = sentences.get(n - 1) else {
                return false;
            };
            word_tokenize(sentence).get(m - 1) == Some(&keyword)
        },
    ))
}

/// `words:words_position`: the second and the second-to-last `nltk.word_tokenize` tokens are
/// both exactly `keyword`.
pub fn words_position(kwargs: &Kwargs) -> Result<Box<dyn Check>, InstructionError> {
    let keyword = strip(kwargs.string("keyword")?).to_string();
    Ok(Rule::on_response("words:words_position", move |response| {
        let words = word_tokenize(response);
        words.len() >= 2 && words[1] == keyword && words[words.len() - 2] == keyword
    }))
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
    fn alphabet_loop_wraps() {
        let check = build(alphabet, json!({}), &[]);
        assert!(check.is_followed("Xylophones yield zesty apples, bananas!", ""));
        assert!(!check.is_followed("Apples bananas dates", ""));
        assert!(!check.is_followed("1 b c", ""));
        assert!(!check.is_followed("", ""));
    }

    #[test]
    fn vowels_consonants_palindromes_primes() {
        let vowel_check = build(vowel, json!({}), &[]);
        assert!(vowel_check.is_followed("a cat sat on a mat", ""));
        assert!(!vowel_check.is_followed("a cat sat\non a mat", ""));
        assert!(!vowel_check.is_followed("quiet audio", ""));
        let consonant_check = build(consonants, json!({}), &[]);
        assert!(consonant_check.is_followed("strong black cats", ""));
        assert!(!consonant_check.is_followed("strong cat", ""));
        let palindrome_check = build(palindrome, json!({}), &[]);
        assert!(palindrome_check.is_followed(
            "level, radar civic kayak refer rotor stats tenet madam racecar",
            ""
        ));
        assert!(!palindrome_check.is_followed(
            "level radar civic kayak refer rotor stats tenet madam noon",
            ""
        ));
        let prime_check = build(prime_lengths, json!({}), &[]);
        assert!(prime_check.is_followed("We are three.", ""));
        assert!(!prime_check.is_followed("A cat", ""));
    }

    #[test]
    fn repeats_and_first_letters() {
        let check = build(repeats, json!({"small_n": 2}), &["small_n"]);
        assert!(check.is_followed("the cat and the dog", ""));
        assert!(!check.is_followed("The cat, the dog, the bird", ""));
        let no_consecutive_check = build(no_consecutive, json!({}), &[]);
        assert!(no_consecutive_check.is_followed("A big cat dozed", ""));
        assert!(!no_consecutive_check.is_followed("A big bad cat", ""));
    }

    #[test]
    fn chained_words() {
        let check = build(last_first, json!({}), &[]);
        assert!(check.is_followed("I like cats. Cats like fish. Fish swim.", ""));
        assert!(!check.is_followed("I like cats. Dogs like fish.", ""));
        let lines = build(paragraph_last_first, json!({}), &[]);
        assert!(lines.is_followed("Go where you go.\n\nStop please stop!", ""));
        assert!(
            !lines.is_followed("Stop, please stop!", ""),
            "inner punctuation stays"
        );
        assert!(!lines.is_followed("Go where you went.", ""));
    }

    #[test]
    fn token_positions() {
        let check = build(words_position, json!({"keyword": "blue"}), &["keyword"]);
        assert!(check.is_followed("The blue sky is blue .", ""));
        assert!(check.is_followed("The blue sky is blue.", ""));
        assert!(!check.is_followed("The sky is blue.", ""));
        let positioned = build(
            keywords_specific_position,
            json!({"keyword": "cat", "n": 2, "m": 3}),
            &["keyword", "n", "m"],
        );
        assert!(!positioned.is_followed("Hello there. I love my cat.", ""));
        assert!(positioned.is_followed("Hello there. I pet cat daily.", ""));
    }
}
