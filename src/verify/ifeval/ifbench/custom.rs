//! IFBench `custom:*` checkers (one fixed task each).

use super::rule::Rule;
use super::text::{remove_punctuation, split_into_sentences, strip_punctuation_and_spaces};
use crate::verify::ifeval::checks::Check;
use crate::verify::ifeval::error::InstructionError;
use crate::verify::ifeval::kwargs::Kwargs;
use crate::verify::ifeval::python_csv::read_records;
use crate::verify::ifeval::python_text::{is_space, is_word_char, lower, split_whitespace, strip};
use regex::Regex;
use std::sync::LazyLock;
use unicode_normalization::UnicodeNormalization;

static DIGIT_RUN: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"\d+").expect("static pattern"));

/// `custom:multiples`: the numbers in the response are exactly 14, 21, 28, 35, 42, 49.
pub fn multiples(_: &Kwargs) -> Result<Box<dyn Check>, InstructionError> {
    Ok(Rule::on_response("custom:multiples", |response| {
        let spaced = response.replace(',', ", ");
        DIGIT_RUN
            .find_iter(&spaced)
            .map(|m| m.as_str())
            .eq(["14", "21", "28", "35", "42", "49"])
    }))
}

static QUESTION_SPLIT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\n*(?:Question \d+[\.|\):;]?[\s\x1c-\x1f]*)").expect("static pattern")
});
static OPTION_LINE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[A-Ea-e][\.|\)][\s\x1c-\x1f]*\w+").expect("static pattern"));

/// `custom:mcq_count_length`: the response starts with `Question`, holds exactly four questions
/// with five options (`A.`–`E.` / `a)`–`e)`) each, and each question's text is longer than the
/// previous one's.
pub fn mcq_count_length(_: &Kwargs) -> Result<Box<dyn Check>, InstructionError> {
    Ok(Rule::on_response("custom:mcq_count_length", |response| {
        // IFBench: `value[value.find('Question'):] != value` — a missing `Question` slices off all
        // but the last character.
        let starts_right = match response.find("Question") {
            Some(at) => at == 0,
            None => response.chars().count() == 1,
        };
        if !starts_right {
            return false;
        }
        let questions: Vec<&str> = QUESTION_SPLIT
            .split(response)
            .map(strip)
            .filter(|q| !q.is_empty())
            .collect();
        if questions.len() != 4 {
            return false;
        }
        let mut lengths = Vec::new();
        for question in questions {
            let mut text = String::new();
            let mut options = 0;
            let mut in_options = false;
            for line in question.split('\n') {
                if OPTION_LINE.is_match(strip(line)) {
                    options += 1;
                    in_options = true;
                } else if !in_options {
                    text.push(' ');
                    text.push_str(strip(line));
                }
            }
            if options != 5 {
                return false;
            }
            lengths.push(strip(&text).chars().count());
        }
        lengths.windows(2).all(|pair| pair[0] < pair[1])
    }))
}

/// NFKD, then drop everything that is not ASCII (Python's `.encode('ASCII', 'ignore')`).
fn ascii_fold(text: &str) -> String {
    text.nfkd().filter(char::is_ascii).collect()
}

/// `custom:reverse_newline`: from the first line mentioning `Zimbabwe`, at least 52 lines in
/// reverse alphabetical order (accents folded).
pub fn reverse_newline(_: &Kwargs) -> Result<Box<dyn Check>, InstructionError> {
    Ok(Rule::on_response("custom:reverse_newline", |response| {
        let lines: Vec<&str> = response
            .split('\n')
            .map(strip_punctuation_and_spaces)
            .filter(|line| !line.is_empty())
            .collect();
        let Some(start) = lines.iter().position(|line| line.contains("Zimbabwe")) else {
            return false;
        };
        let folded: Vec<String> = lines[start..].iter().map(|l| ascii_fold(l)).collect();
        folded.len() >= 52 && folded.windows(2).all(|pair| pair[0] >= pair[1])
    }))
}

/// `custom:word_reverse`: the response, lower-cased and without punctuation, read word by word
/// backwards, contains `bald eagle`.
pub fn word_reverse(_: &Kwargs) -> Result<Box<dyn Check>, InstructionError> {
    Ok(Rule::on_response("custom:word_reverse", |response| {
        let cleaned = remove_punctuation(strip(&lower(response)));
        let mut words: Vec<&str> = split_whitespace(&cleaned).collect();
        words.reverse();
        let reversed = words.join(" ");
        reversed.contains("bald eagle") && split_into_sentences(&reversed).contains(&reversed)
    }))
}

/// `custom:character_reverse`: contains `elgae dlab` (any case).
pub fn character_reverse(_: &Kwargs) -> Result<Box<dyn Check>, InstructionError> {
    Ok(Rule::on_response("custom:character_reverse", |response| {
        lower(response).contains("elgae dlab")
    }))
}

/// `custom:sentence_alphabet`: 26 sentences starting with `a`, `b`, … `z` in order.
pub fn sentence_alphabet(_: &Kwargs) -> Result<Box<dyn Check>, InstructionError> {
    Ok(Rule::on_response("custom:sentence_alphabet", |response| {
        let sentences = split_into_sentences(response);
        sentences.len() == 26
            && sentences.iter().zip('a'..='z').all(|(sentence, letter)| {
                split_whitespace(sentence)
                    .next()
                    .and_then(|word| lower(word).chars().next())
                    == Some(letter)
            })
    }))
}

const CAPITALS_BY_LATITUDE: [&str; 27] = [
    "Reykjavik",
    "Helsinki",
    "Oslo",
    "Tallinn",
    "Stockholm",
    "Riga",
    "Moscow",
    "Copenhagen",
    "Vilnius",
    "Minsk",
    "Dublin",
    "Berlin",
    "Amsterdam",
    "Warsaw",
    "London",
    "Brussels",
    "Prague",
    "Luxembourg",
    "Paris",
    "Vienna",
    "Bratislava",
    "Budapest",
    "Vaduz",
    "Chisinau",
    "Bern",
    "Ljubljana",
    "Zagreb",
];

/// `custom:european_capitals_sort`: exactly IFBench's 27 capitals, comma-separated, north to
/// south (accents folded).
pub fn european_capitals_sort(_: &Kwargs) -> Result<Box<dyn Check>, InstructionError> {
    Ok(Rule::on_response(
        "custom:european_capitals_sort",
        |response| {
            let folded = ascii_fold(response);
            let capitals: Vec<&str> = folded.split(',').filter(|c| !strip(c).is_empty()).collect();
            capitals.len() == CAPITALS_BY_LATITUDE.len()
                && capitals
                    .iter()
                    .zip(CAPITALS_BY_LATITUDE)
                    .all(|(given, expected)| strip(given) == expected)
        },
    ))
}

static ISO_DATE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^([0-9]{4})-([0-9]{2})-([0-9]{2})$").expect("static pattern"));

/// `custom:date_format_list`: comma-separated `YYYY-MM-DD` dates with years 1769–1821, months up
/// to 12 and days within the month (IFBench's bounds: it lets month and day 0 through).
pub fn date_format_list(_: &Kwargs) -> Result<Box<dyn Check>, InstructionError> {
    Ok(Rule::on_response("custom:date_format_list", |response| {
        strip(response).split(',').all(|date| {
            let Some(parts) = ISO_DATE.captures(strip(date)) else {
                return false;
            };
            let number = |i: usize| parts[i].parse::<u32>().unwrap_or(u32::MAX);
            let (year, month, day) = (number(1), number(2), number(3));
            let max_day = match month {
                1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
                4 | 6 | 9 | 11 => 30,
                2 => 29,
                _ => u32::MAX,
            };
            (1769..=1821).contains(&year) && month <= 12 && day <= max_day
        })
    }))
}

/// `custom:csv_city`: CSV (comma-delimited, read by Python's `csv.reader`) of exactly eight
/// records, the header `ID,Country,City,Year,Count` and seven rows of five fields. A blank line
/// is a record of its own, so it breaks the count.
pub fn csv_city(_: &Kwargs) -> Result<Box<dyn Check>, InstructionError> {
    Ok(Rule::on_response("custom:csv_city", |response| {
        let Ok(records) = read_records(response, ',') else {
            return false;
        };
        records.len() == 8
            && records[0] == ["ID", "Country", "City", "Year", "Count"]
            && records[1..].iter().all(|row| row.len() == 5)
    }))
}

static PRODUCT_HEADER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r#"^(?:ProductID|"ProductID"),[ \t]*(?:Category|"Category"),[ \t]*(?:Brand|"Brand"),[ \t]*(?:Price|"Price"),[ \t]*(?:Stock|"Stock")$"#,
    )
    .expect("static pattern")
});

/// `custom:csv_special_character`: the first line is the header `ProductID, Category, Brand,
/// Price, Stock` (names optionally quoted), and the text, with every `"` tripled as IFBench does
/// before parsing, reads as fifteen comma-delimited records; scanning the fourteen rows in order,
/// the first that has a field matching `".*[^\d\w\s].*"` makes the response pass, and a row of
/// other than five fields before it makes it fail (rows after it are not looked at).
pub fn csv_special_character(_: &Kwargs) -> Result<Box<dyn Check>, InstructionError> {
    Ok(Rule::on_response(
        "custom:csv_special_character",
        |response| {
            let header = strip(response.split('\n').next().unwrap_or(""));
            if !PRODUCT_HEADER.is_match(header) {
                return false;
            }
            let Ok(records) = read_records(&response.replace('"', "\"\"\""), ',') else {
                return false;
            };
            if records.len() != 15 {
                return false;
            }
            for row in &records[1..] {
                if row.len() != 5 {
                    return false;
                }
                if row.iter().any(|field| quoted_special_character(field)) {
                    return true;
                }
            }
            false
        },
    ))
}

/// Python's `re.match(r'".*[^\d\w\s].*"', field)`: from the start, a quote, then on the same
/// line a character that is neither a word character nor whitespace, and a quote after it.
fn quoted_special_character(field: &str) -> bool {
    let Some(rest) = field.strip_prefix('"') else {
        return false;
    };
    let line = rest.split('\n').next().unwrap_or("");
    let Some(last_quote) = line.rfind('"') else {
        return false;
    };
    line[..last_quote]
        .chars()
        .any(|c| !is_word_char(c) && !is_space(c))
}

static STUDENT_HEADER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r#"^(?:StudentID|"StudentID")\t *(?:Subject|"Subject")\t *(?:Grade|"Grade")\t *(?:Semester|"Semester")\t *(?:Score|"Score")$"#,
    )
    .expect("static pattern")
});

/// `custom:csv_quotes`: the first line is the tab-separated header `StudentID Subject Grade
/// Semester Score` (names optionally quoted), and the text, with every `"` tripled as IFBench
/// does, reads as four tab-delimited records of five fields, every field (whitespace stripped)
/// starting and ending with a quote. An empty field fails (IFBench indexes into it and crashes).
pub fn csv_quotes(_: &Kwargs) -> Result<Box<dyn Check>, InstructionError> {
    Ok(Rule::on_response("custom:csv_quotes", |response| {
        let header = strip(response.split('\n').next().unwrap_or(""));
        if !STUDENT_HEADER.is_match(header) {
            return false;
        }
        let Ok(records) = read_records(&response.replace('"', "\"\"\""), '\t') else {
            return false;
        };
        records.len() == 4
            && records.iter().all(|row| {
                row.len() == 5
                    && row.iter().all(|field| {
                        let field = strip(field);
                        field.starts_with('"') && field.ends_with('"')
                    })
            })
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn build(builder: fn(&Kwargs) -> Result<Box<dyn Check>, InstructionError>) -> Box<dyn Check> {
        let kwargs = json!({});
        builder(&Kwargs::new("ifbench:test", &kwargs, &[]).expect("kwargs")).expect("valid")
    }

    #[test]
    fn multiples_of_seven() {
        let check = build(multiples);
        assert!(check.is_followed("14,21,28,35,42,49", ""));
        assert!(!check.is_followed("7, 14, 21, 28, 35, 42, 49", ""));
    }

    #[test]
    fn multiple_choice_questions() {
        let question = |n: usize, text: &str| {
            format!("Question {n}: {text}\nA. one\nB. two\nC. three\nD. four\nE. five\n")
        };
        let good = [
            question(1, "Why?"),
            question(2, "Why not?"),
            question(3, "Why is that?"),
            question(4, "Why is that so?"),
        ]
        .concat();
        let check = build(mcq_count_length);
        assert!(check.is_followed(&good, ""));
        assert!(!check.is_followed(&format!("Intro\n{good}"), ""));
        let shrinking = [
            question(1, "Why is that so?"),
            question(2, "Why?"),
            question(3, "A b"),
            question(4, "C"),
        ]
        .concat();
        assert!(!check.is_followed(&shrinking, ""));
    }

    #[test]
    fn reversals() {
        assert!(build(word_reverse).is_followed("Eagle bald the saw I.", ""));
        assert!(!build(word_reverse).is_followed("I saw the bald eagle.", ""));
        assert!(build(character_reverse).is_followed("ELGAE DLAB", ""));
        let mut lines: Vec<String> = (0..60).map(|i| format!("Country {i:03}")).collect();
        lines.sort_unstable_by(|a, b| b.cmp(a));
        lines[0] = "Zimbabwe".to_string();
        assert!(build(reverse_newline).is_followed(&lines.join("\n"), ""));
        lines.swap(10, 11);
        assert!(!build(reverse_newline).is_followed(&lines.join("\n"), ""));
    }

    #[test]
    fn alphabet_sentences_capitals_dates() {
        let sentences: String = ('a'..='z').map(|c| format!("{c}x word. ")).collect();
        assert!(build(sentence_alphabet).is_followed(&sentences, ""));
        assert!(!build(sentence_alphabet).is_followed("a. b. c.", ""));
        let capitals = CAPITALS_BY_LATITUDE
            .join(", ")
            .replace("Reykjavik", "Reykjavík");
        assert!(build(european_capitals_sort).is_followed(&capitals, ""));
        assert!(!build(european_capitals_sort).is_followed("Oslo, Helsinki", ""));
        assert!(build(date_format_list).is_followed("1776-07-04, 1789-02-29", ""));
        assert!(!build(date_format_list).is_followed("1776-07-04, 1822-01-01", ""));
        assert!(!build(date_format_list).is_followed("1776-04-31", ""));
        assert!(!build(date_format_list).is_followed("July 4, 1776", ""));
    }
}
