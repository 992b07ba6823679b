//! IFEval verification throughput: rows with a realistic mix of IFEval instructions (every one of
//! the 25 ids, one to three per row as in IFEval's data) checked against ~300-word markdown
//! responses, in strict mode, loose mode, and both (what an IFEval report needs per response).
//! Also: building the checkers of a row, and the sentence splitter alone.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{json, Value};
use std::hint::black_box;
use tulu::verify::ifeval::{punkt, InstructionSet, Mode};

const SENTENCES: &[&str] = &[
    "The committee reviewed the proposal in detail before the final vote.",
    "Dr. Smith noted that the results were consistent with earlier studies.",
    "However, several members raised concerns about the budget, the timeline, and the staffing plan.",
    "What would happen if the funding were cut by 20% next year?",
    "In the U.S. alone, more than 3.5 million households could be affected.",
    "Researchers at the university have spent years collecting this data.",
    "It is important to remember that correlation does not imply causation!",
    "The final report, which runs to 48 pages, will be published in March.",
    "Local businesses welcomed the decision, although some remained skeptical.",
    "Each recommendation includes a clear owner, a deadline, and a measurable outcome.",
    "NASA's latest mission data was also cited as supporting evidence.",
    "Critics argue that the model's assumptions are too optimistic.",
    "Nevertheless, the board approved the plan by a wide margin.",
    "Public feedback will be collected through an online survey and three town halls.",
    "The next review is scheduled for the second quarter of 2025.",
];

/// A ~300-word response with paragraphs, and sometimes bullets, highlights, a title or a P.S.
fn response(rng: &mut ChaCha8Rng) -> String {
    let mut text = String::new();
    if rng.random_bool(0.3) {
        text.push_str("<<Committee Review Summary>>\n\n");
    }
    let mut words = 0;
    let mut in_paragraph = 0;
    while words < 300 {
        let sentence = SENTENCES.choose(rng).expect("non-empty");
        if rng.random_bool(0.08) {
            text.push_str(&format!("* {sentence}\n"));
        } else if rng.random_bool(0.08) {
            text.push_str(&format!("*{sentence}* "));
        } else {
            text.push_str(sentence);
            text.push(' ');
        }
        words += sentence.split_whitespace().count();
        in_paragraph += 1;
        if in_paragraph == 5 {
            text.push_str("\n\n");
            in_paragraph = 0;
        }
    }
    if rng.random_bool(0.3) {
        text.push_str("\n\nP.S. Let me know if you need the full report.");
    }
    text
}

/// Every IFEval instruction id with kwargs typical of IFEval's data.
fn instruction_pool() -> Vec<(&'static str, Value)> {
    vec![
        (
            "keywords:existence",
            json!({"keywords": ["budget", "timeline"]}),
        ),
        (
            "keywords:frequency",
            json!({"keyword": "plan", "frequency": 3, "relation": "at least"}),
        ),
        (
            "keywords:forbidden_words",
            json!({"forbidden_words": ["cheap", "guarantee"]}),
        ),
        (
            "keywords:letter_frequency",
            json!({"letter": "q", "let_frequency": 5, "let_relation": "less than"}),
        ),
        ("language:response_language", json!({"language": "en"})),
        (
            "length_constraints:number_sentences",
            json!({"num_sentences": 12, "relation": "at least"}),
        ),
        (
            "length_constraints:number_paragraphs",
            json!({"num_paragraphs": 4}),
        ),
        (
            "length_constraints:number_words",
            json!({"num_words": 250, "relation": "at least"}),
        ),
        (
            "length_constraints:nth_paragraph_first_word",
            json!({"num_paragraphs": 4, "nth_paragraph": 2, "first_word": "the"}),
        ),
        (
            "detectable_content:number_placeholders",
            json!({"num_placeholders": 2}),
        ),
        (
            "detectable_content:postscript",
            json!({"postscript_marker": "P.S."}),
        ),
        (
            "detectable_format:number_bullet_lists",
            json!({"num_bullets": 3}),
        ),
        ("detectable_format:constrained_response", Value::Null),
        (
            "detectable_format:number_highlighted_sections",
            json!({"num_highlights": 2}),
        ),
        (
            "detectable_format:multiple_sections",
            json!({"section_spliter": "Section", "num_sections": 3}),
        ),
        ("detectable_format:json_format", Value::Null),
        ("detectable_format:title", Value::Null),
        ("combination:two_responses", Value::Null),
        (
            "combination:repeat_prompt",
            json!({"prompt_to_repeat": "Summarize the committee review."}),
        ),
        (
            "startend:end_checker",
            json!({"end_phrase": "Any other questions?"}),
        ),
        ("startend:quotation", Value::Null),
        (
            "change_case:capital_word_frequency",
            json!({"capital_frequency": 3, "capital_relation": "at least"}),
        ),
        ("change_case:english_capital", Value::Null),
        ("change_case:english_lowercase", Value::Null),
        ("punctuation:no_comma", Value::Null),
    ]
}

struct Case {
    instructions: InstructionSet,
    response: String,
}

fn cases(count: usize) -> Vec<Case> {
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let pool = instruction_pool();
    (0..count)
        .map(|index| {
            // Every id appears; rows carry one to three instructions, as in IFEval.
            let mut chosen = vec![pool[index % pool.len()].clone()];
            for _ in 0..rng.random_range(0..=2) {
                chosen.push(pool.choose(&mut rng).expect("non-empty").clone());
            }
            let (ids, kwargs): (Vec<&str>, Vec<Value>) = chosen.into_iter().unzip();
            Case {
                instructions: InstructionSet::from_row(&ids, &kwargs).expect("valid row"),
                response: response(&mut rng),
            }
        })
        .collect()
}

fn verification_throughput(c: &mut Criterion) {
    let cases = cases(100);
    let mut group = c.benchmark_group("ifeval_verify");
    group.throughput(Throughput::Elements(cases.len() as u64));
    for mode in [Mode::Strict, Mode::Loose] {
        group.bench_with_input(
            BenchmarkId::new("mode", format!("{mode:?}")),
            &mode,
            |b, &mode| {
                b.iter(|| {
                    for case in &cases {
                        black_box(case.instructions.evaluate("prompt", &case.response, mode));
                    }
                })
            },
        );
    }
    group.bench_function("strict_and_loose", |b| {
        b.iter(|| {
            for case in &cases {
                black_box(case.instructions.evaluate_both("prompt", &case.response));
            }
        })
    });
    group.finish();

    let pool = instruction_pool();
    let (ids, kwargs): (Vec<&str>, Vec<Value>) = pool.into_iter().unzip();
    c.bench_function("ifeval_build_all_25_checkers", |b| {
        b.iter(|| black_box(InstructionSet::from_row(&ids, &kwargs).expect("valid")))
    });

    let text = &cases[0].response;
    c.bench_function("punkt_sentences_300_words", |b| {
        b.iter(|| black_box(punkt::count_sentences(text)))
    });
}

criterion_group!(benches, verification_throughput);
criterion_main!(benches);
