//! IFBench `sentence:*` and `ratio:*` checkers (sentences come from the regex splitter).

use super::rule::Rule;
use super::text::{remove_punctuation, split_into_sentences};
use crate::verify::ifeval::checks::Check;
use crate::verify::ifeval::error::InstructionError;
use crate::verify::ifeval::kwargs::Kwargs;
use crate::verify::ifeval::python_text::{lower, split_whitespace, strip};
use std::collections::HashSet;

/// The alliteration score of one sentence: each run of adjacent words sharing a first
/// character scores its length (2 for a pair, +1 per further word).
fn alliteration_score(sentence: &str) -> i64 {
    let lowered = lower(sentence);
    let initials: Vec<char> = split_whitespace(&lowered)
        .map(|word| word.trim_start_matches(|c: char| c == ' ' || c.is_ascii_punctuation()))
        .filter_map(|word| word.chars().next())
        .collect();
    let mut score = 0;
    let mut in_run = false;
    for pair in initials.windows(2) {
        if pair[0] == pair[1] {
            score += if in_run { 1 } else { 2 };
            in_run = true;
        } else {
            in_run = false;
        }
    }
    score
}

/// `sentence:alliteration_increment`: each sentence's alliteration score is strictly greater
/// than the previous sentence's.
pub fn alliteration_increment(_: &Kwargs) -> Result<Box<dyn Check>, InstructionError> {
    Ok(Rule::on_response(
        "sentence:alliteration_increment",
        |response| {
            let mut previous = -1;
            for sentence in split_into_sentences(response) {
                let score = alliteration_score(&sentence);
                if score <= previous {
                    return false;
                }
                previous = score;
            }
            true
        },
    ))
}

/// `sentence:keyword`: the `N`-th sentence contains `word` (case-insensitive substring;
/// `N = 0` means the last sentence, as Python's index `-1` does).
pub fn keyword(kwargs: &Kwargs) -> Result<Box<dyn Check>, InstructionError> {
    let word = lower(kwargs.string("word")?);
    if word.is_empty() {
        return Err(kwargs.bad("word", "is empty", "a non-empty keyword"));
    }
    let position = usize::try_from(kwargs.int_at_least("N", 0)?).unwrap_or(usize::MAX);
    Ok(Rule::on_response("sentence:keyword", move |response| {
        let sentences = split_into_sentences(response);
        if sentences.len() < position {
            return false;
        }
        let sentence = match position {
            0 => sentences.last(),
            n => sentences.get(n - 1),
        };
        sentence.is_some_and(|sentence| lower(sentence).contains(&word))
    }))
}

fn word_count_without_punctuation(sentence: &str) -> usize {
    split_whitespace(strip(&remove_punctuation(sentence))).count()
}

/// `sentence:increment`: each sentence has exactly `small_n` more words than the previous one.
pub fn increment(kwargs: &Kwargs) -> Result<Box<dyn Check>, InstructionError> {
    let step = usize::try_from(kwargs.int_at_least("small_n", 0)?).unwrap_or(usize::MAX);
    Ok(Rule::on_response("sentence:increment", move |response| {
        let counts: Vec<usize> = split_into_sentences(response)
            .iter()
            .map(|s| word_count_without_punctuation(s))
            .collect();
        // IFBench raises IndexError on a response without sentences; a crash is not a pass.
        !counts.is_empty()
            && counts
                .windows(2)
                .all(|pair| pair[1] == pair[0].saturating_add(step))
    }))
}

fn ending_counts(response: &str) -> (usize, usize, usize) {
    let sentences = split_into_sentences(response);
    let count = |end: char| sentences.iter().filter(|s| s.ends_with(end)).count();
    (count('.'), count('?'), count('!'))
}

/// `ratio:sentence_type`: twice as many sentences end with `.` as with `?`.
pub fn sentence_type(_: &Kwargs) -> Result<Box<dyn Check>, InstructionError> {
    Ok(Rule::on_response("ratio:sentence_type", |response| {
        let (declarative, interrogative, _) = ending_counts(response);
        declarative == 2 * interrogative
    }))
}

/// `ratio:sentence_balance`: as many sentences end with `.` as with `?` and with `!`.
pub fn sentence_balance(_: &Kwargs) -> Result<Box<dyn Check>, InstructionError> {
    Ok(Rule::on_response("ratio:sentence_balance", |response| {
        let (declarative, interrogative, exclamatory) = ending_counts(response);
        declarative == interrogative && interrogative == exclamatory
    }))
}

/// `ratio:sentence_words`: exactly three sentences, all of the same length in characters.
pub fn sentence_words(_: &Kwargs) -> Result<Box<dyn Check>, InstructionError> {
    Ok(Rule::on_response("ratio:sentence_words", |response| {
        let sentences = split_into_sentences(response);
        sentences.len() == 3 && {
            let length = |s: &String| strip(s).chars().count();
            let first = length(&sentences[0]);
            sentences.iter().all(|s| length(s) == first)
        }
    }))
}

fn char_trigrams(text: &str) -> HashSet<[char; 3]> {
    let chars: Vec<char> = text.chars().collect();
    chars.windows(3).map(|w| [w[0], w[1], w[2]]).collect()
}

/// `ratio:overlap`: the share of the response's distinct character trigrams that also occur in
/// `reference_text` is within ±2 points of `percentage`.
pub fn overlap(kwargs: &Kwargs) -> Result<Box<dyn Check>, InstructionError> {
    let reference = char_trigrams(kwargs.string("reference_text")?);
    let percentage = kwargs.int("percentage")? as f64;
    Ok(Rule::on_response("ratio:overlap", move |response| {
        let trigrams = char_trigrams(response);
        if trigrams.is_empty() {
            // IFBench divides by zero here; a crash is not a pass.
            return false;
        }
        let shared = trigrams.intersection(&reference).count() as f64;
        let share = shared / trigrams.len() as f64 * 100.0;
        percentage - 2.0 <= share && share <= percentage + 2.0
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
    fn alliteration_scores_runs() {
        assert_eq!(alliteration_score("big bad bears bite"), 4);
        assert_eq!(alliteration_score("no runs here"), 0);
        let check = build(alliteration_increment, json!({}), &[]);
        assert!(check.is_followed("Cats chase mice. Big bad bears bite.", ""));
        assert!(!check.is_followed("Big bad bears bite. Cats chase mice.", ""));
    }

    #[test]
    fn keyword_in_nth_sentence() {
        let check = build(keyword, json!({"word": "Owl", "N": 2}), &["word", "N"]);
        assert!(check.is_followed("Hello. The owl hoots. Bye.", ""));
        assert!(!check.is_followed("The owl. Hello.", ""));
        assert!(!check.is_followed("Just one owl.", ""));
    }

    #[test]
    fn increments_and_ratios() {
        let check = build(increment, json!({"small_n": 1}), &["small_n"]);
        assert!(check.is_followed("I run. I run fast. I run very fast.", ""));
        assert!(!check.is_followed("I run. I run fast. I run.", ""));
        let type_check = build(sentence_type, json!({}), &[]);
        assert!(type_check.is_followed(
            "Cats sleep. Dogs bark. Why? Birds sing. Fish swim. How?",
            ""
        ));
        assert!(!type_check.is_followed("Cats sleep. Why? How?", ""));
        assert!(
            !type_check.is_followed("A. B. C? D. E. F?", ""),
            "single letters are initials"
        );
        let balance = build(sentence_balance, json!({}), &[]);
        assert!(balance.is_followed("Cats sleep. Why? Wow!", ""));
        assert!(!balance.is_followed("Cats sleep. Why? Wow! Dogs bark.", ""));
        let same_length = build(sentence_words, json!({}), &[]);
        assert!(same_length.is_followed("Abc. Def. Ghi.", ""));
        assert!(!same_length.is_followed("Abc. Defg. Hij.", ""));
    }

    #[test]
    fn trigram_overlap_window() {
        let check = build(
            overlap,
            json!({"reference_text": "abcdef", "percentage": 50}),
            &["reference_text", "percentage"],
        );
        assert!(
            check.is_followed("abcdxy", ""),
            "abc, bcd shared of abc, bcd, cdx, dxy: 50%"
        );
        assert!(!check.is_followed("abcxyz", ""), "1 of 4 shared: 25%");
        assert!(!check.is_followed("ab", ""), "no trigrams");
    }
}
