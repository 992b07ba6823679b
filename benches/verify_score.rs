//! The shared verifier API and the `score` op: preparing a row's gold from a Prompt row
//! (including open-instruct's Python-literal IFEval constraints), scoring RLVR-style (one
//! prepared gold, 16 responses), and the `score` op on 1,200 mixed GSM8K / MATH / IFEval rows
//! with one thread and with every core.

use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use serde_json::{json, Map, Value};
use std::hint::black_box;
use tulu::check::Schema;
use tulu::data::{Dataset, Provenance, Row};
use tulu::ops::context::NoProgress;
use tulu::ops::score::Score;
use tulu::ops::{Input, Op, OpCall, OpContext};
use tulu::verify::Verifier;

const PARAGRAPH: &str = "the committee reviewed the proposal in detail before the final vote and \
    several members raised concerns about the budget and the timeline while researchers at the \
    university have spent years collecting this data so the board approved the plan by a wide \
    margin and public feedback will be collected through an online survey and three town halls";

fn gsm8k_row(i: usize) -> Value {
    json!({
        "prompt": format!("Janet has {i} ducks; each lays 3 eggs. How many eggs?"),
        "ground_truth": (3 * i).to_string(),
        "dataset": "gsm8k",
        "response": format!(
            "Each of the {i} ducks lays 3 eggs, so she gets {i} * 3 = {} eggs a day. \
             She eats 0 of them. The answer is {}.", 3 * i, 3 * i + i % 2
        ),
    })
}

fn math_row(i: usize) -> Value {
    json!({
        "prompt": "Simplify the fraction.",
        "ground_truth": format!("\\frac{{{}}}{{{}}}", i + 1, 2 * (i + 1)),
        "dataset": "math",
        "response": format!(
            "We cancel the common factor $ {} $ and get $\\boxed{{\\dfrac{{1}}{{{}}}}}$.",
            i + 1, 2 + i % 2
        ),
    })
}

fn ifeval_row(i: usize) -> Value {
    let words = 60 + i % 40;
    json!({
        "prompt": "Describe the meeting in lowercase, without commas, in fewer than 90 words.",
        "ground_truth": format!(
            "[{{'instruction_id': ['change_case:english_lowercase', 'punctuation:no_comma', \
             'length_constraints:number_words'], 'kwargs': [{{'N': None}}, {{}}, \
             {{'num_words': 90, 'relation': 'less than'}}]}}]"
        ),
        "dataset": "ifeval",
        "response": PARAGRAPH.split(' ').cycle().take(words).collect::<Vec<_>>().join(" "),
    })
}

fn fields(value: Value) -> Map<String, Value> {
    value.as_object().cloned().expect("an object")
}

fn bench_prepare_and_score(c: &mut Criterion) {
    let auto = Verifier::from_json(&json!({"$ctor": "verifier.auto", "args": {}})).expect("auto");
    let mut group = c.benchmark_group("verifier");
    for (task, row) in [
        ("gsm8k", gsm8k_row(7)),
        ("math", math_row(7)),
        ("ifeval", ifeval_row(7)),
    ] {
        let row = fields(row);
        let response = row["response"].as_str().expect("response").to_string();
        group.throughput(Throughput::Elements(1));
        group.bench_with_input(BenchmarkId::new("prepare", task), &row, |b, row| {
            b.iter(|| auto.prepare(black_box(row)).expect("prepares"))
        });
        // RLVR: one prepared gold, 16 sampled responses.
        let gold = auto.prepare(&row).expect("prepares");
        group.throughput(Throughput::Elements(16));
        group.bench_with_input(BenchmarkId::new("score_16", task), &response, |b, r| {
            b.iter(|| {
                for _ in 0..16 {
                    black_box(gold.score(black_box(r)));
                }
            })
        });
    }
    group.finish();
}

fn bench_score_op(c: &mut Criterion) {
    const ROWS_PER_TASK: usize = 400;
    let rows: Vec<Row> = (0..ROWS_PER_TASK)
        .flat_map(|i| [gsm8k_row(i), math_row(i), ifeval_row(i)])
        .enumerate()
        .map(|(index, value)| {
            Row::new(
                fields(value),
                Provenance {
                    source: "bench".into(),
                    index: index as u64,
                    license: "MIT".into(),
                },
            )
        })
        .collect();
    let total = rows.len() as u64;
    let call = OpCall {
        params: json!({
            "data": {"$input": 0},
            "verifier": {"$ctor": "verifier.auto", "args": {"ifeval_mode": "strict"}},
            "response": "response",
        }),
        inputs: vec![Input::Dataset(Arc::new(Dataset::new(Schema::Prompt, rows)))],
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let cancel = AtomicBool::new(false);
    let ctx = OpContext {
        work_dir: dir.path().to_path_buf(),
        recipe_dir: dir.path().to_path_buf(),
        seed: 0,
        progress: &NoProgress,
        cancel: &cancel,
    };
    let op = Score::new();
    let mut group = c.benchmark_group("score_op");
    group.throughput(Throughput::Elements(total));
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    for threads in [1, cores] {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .expect("thread pool");
        group.bench_function(BenchmarkId::new("mixed_1200_rows_threads", threads), |b| {
            b.iter(|| pool.install(|| op.execute(&call, &ctx).expect("scores")))
        });
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(10)
        .warm_up_time(std::time::Duration::from_millis(500))
        .measurement_time(std::time::Duration::from_secs(2));
    targets = bench_prepare_and_score, bench_score_op
}
criterion_main!(benches);
