//! Hostile and random input: the verifiers must return (never panic, hang or overflow the
//! stack) whatever the response and gold answer hold.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::{answers_match, verify};

const PIECES: [&str; 62] = [
    "\\frac",
    "{",
    "}",
    "\\sqrt",
    "[",
    "]",
    "(",
    ")",
    "^",
    "_",
    "1",
    "23",
    "0.5",
    ".",
    "x",
    "y",
    "i",
    "e",
    "\\pi",
    "\\pm",
    ",",
    "=",
    "<",
    "\\le",
    "\\cup",
    "\\infty",
    "\\boxed{",
    "$",
    "\\left(",
    "\\right)",
    "\\begin{pmatrix}",
    "\\end{pmatrix}",
    "&",
    "\\\\",
    "\\{",
    "\\}",
    "|",
    "!",
    "\\sin",
    "\\log_",
    "\\text{",
    " cm",
    "\\%",
    "-",
    "+",
    "*",
    "/",
    "\\cdot",
    "é",
    "π",
    "²",
    "\\overline{",
    "\\binom",
    "\\",
    "\\dfrac",
    "10^{10^{10}}",
    "(x+1)^{40}",
    " ",
    "\n",
    "Final Answer: The final answer is ",
    "\\approx",
    "\\fbox",
];

fn random_text(rng: &mut ChaCha8Rng) -> String {
    let length = rng.random_range(0..40);
    (0..length)
        .map(|_| PIECES[rng.random_range(0..PIECES.len())])
        .collect()
}

#[test]
fn random_latex_never_panics() {
    let mut rng = ChaCha8Rng::seed_from_u64(20_240_607);
    for _ in 0..3_000 {
        let candidate = random_text(&mut rng);
        let gold = random_text(&mut rng);
        let _ = answers_match(&candidate, &gold);
        let _ = verify(&candidate, &gold);
        let _ = crate::verify::gsm8k::verify(&candidate, &gold);
        // An answer always matches itself (when it is not empty after normalization).
        if let Ok(verdict) = verify(&format!("\\boxed{{{gold}}}"), &gold) {
            let _ = verdict;
        }
    }
}

#[test]
fn pathological_inputs_end_as_mismatches() {
    let cases: Vec<(String, String)> = vec![
        ("{".repeat(100_000), "1".into()),
        ("\\boxed{".repeat(20_000), "1".into()),
        (
            format!("\\boxed{{{}1{}}}", "{".repeat(5_000), "}".repeat(5_000)),
            "2".into(),
        ),
        ("$".repeat(50_000), "1".into()),
        ("(".repeat(50_000), "(".repeat(49_999)),
        ("\\frac".repeat(5_000), "1".into()),
        ("\\sqrt".repeat(5_000) + "2", "2".into()),
        ("x^".repeat(300) + "x", "x".into()),
        ("2^{".repeat(100) + "2" + &"}".repeat(100), "4".into()),
        (format!("\\boxed{{{}}}", "9".repeat(100_000)), "1".into()),
        ("1+".repeat(100_000) + "1", "1".into()),
        (
            "Final Answer: The final answer is ".repeat(10_000),
            "1".into(),
        ),
        (format!("\\boxed{{{}}}", "(x+y+z+1)".repeat(12)), "1".into()),
        ("\\boxed{\\sqrt{10^{400}+1}}".into(), "10^{200}".into()),
        ("\\boxed{1000!}".into(), "1".into()),
        ("\\boxed{\\binom{10^{9}}{10^{8}}}".into(), "1".into()),
        ("\\boxed{(1+\\sqrt{2})^{10000}}".into(), "1".into()),
        ("\\boxed{2^{2^{2^{2^{2^{2}}}}}}".into(), "2".into()),
        (
            "\\boxed{99999999999999999999999999999999999989^{1/2}}".into(),
            "1".into(),
        ),
    ];
    for (response, gold) in &cases {
        let verdict = verify(response, gold).expect("usable gold");
        assert!(
            !verdict.correct,
            "{:?}…",
            &response[..response.len().min(40)]
        );
    }
}

#[test]
fn answers_match_themselves() {
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let mut checked = 0;
    for _ in 0..2_000 {
        let text = random_text(&mut rng);
        // Only answers that survive normalization as something.
        if super::normalize_answer(&text).is_empty() || text.contains('$') {
            continue;
        }
        if text.contains("\\boxed") || text.contains("\\fbox") || text.contains("Final Answer") {
            continue;
        }
        assert!(
            answers_match(&text, &text),
            "{text:?} does not match itself"
        );
        checked += 1;
    }
    assert!(checked > 500);
}
