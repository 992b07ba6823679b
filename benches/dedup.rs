//! Near-duplicate dedup throughput: 50,000 generated ~100-word documents, of which about 10% are
//! edited copies (1–8 word edits) and 5% case/spacing variants of earlier documents.
//! Target: ≥ 50,000 docs/s on the 2-core machine.
//!
//! `TULU_DEDUP_CORPUS=/path/corpus.jsonl cargo bench --bench dedup` also writes the corpus (one
//! JSON string per line) for the datasketch peer: `python3 benches/peers/datasketch_dedup.py
//! /path/corpus.jsonl`.

use std::io::Write;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use tulu::text::{exact_dedup, near_dedup, NearDedupParams};

const DOCS: usize = 50_000;
const VOCABULARY: usize = 30_000;

/// Pronounceable pseudo-words, so tokens look like text rather than numbers.
fn vocabulary(rng: &mut ChaCha8Rng) -> Vec<String> {
    const ONSETS: [&str; 16] = [
        "b", "c", "d", "f", "g", "h", "l", "m", "n", "p", "r", "s", "t", "v", "st", "tr",
    ];
    const VOWELS: [&str; 6] = ["a", "e", "i", "o", "u", "ea"];
    let mut words = std::collections::BTreeSet::new();
    while words.len() < VOCABULARY {
        let syllables = rng.random_range(1..=4);
        let word: String = (0..syllables)
            .map(|_| {
                format!(
                    "{}{}",
                    ONSETS[rng.random_range(0..ONSETS.len())],
                    VOWELS[rng.random_range(0..VOWELS.len())]
                )
            })
            .collect();
        words.insert(word);
    }
    let mut words: Vec<String> = words.into_iter().collect();
    // Shuffle so that frequency rank does not follow alphabetical order.
    for i in (1..words.len()).rev() {
        words.swap(i, rng.random_range(0..=i));
    }
    words
}

/// A word with a Zipf-like (log-uniform rank) frequency.
fn zipf_word<'a>(rng: &mut ChaCha8Rng, vocabulary: &'a [String]) -> &'a str {
    let rank = (rng.random::<f64>() * (vocabulary.len() as f64).ln()).exp() as usize - 1;
    &vocabulary[rank.min(vocabulary.len() - 1)]
}

fn original(rng: &mut ChaCha8Rng, vocabulary: &[String]) -> String {
    let words = rng.random_range(80..=120);
    let mut doc = String::new();
    let mut sentence_start = true;
    for i in 0..words {
        let word = zipf_word(rng, vocabulary);
        if i > 0 {
            doc.push(' ');
        }
        if sentence_start {
            let mut chars = word.chars();
            if let Some(first) = chars.next() {
                doc.extend(first.to_uppercase());
                doc.push_str(chars.as_str());
            }
        } else {
            doc.push_str(word);
        }
        sentence_start = rng.random_bool(0.08);
        if sentence_start {
            doc.push(if rng.random_bool(0.8) { '.' } else { '?' });
        } else if rng.random_bool(0.05) {
            doc.push(',');
        }
    }
    doc.push('.');
    doc
}

fn edited_copy(rng: &mut ChaCha8Rng, source: &str, vocabulary: &[String]) -> String {
    let mut words: Vec<String> = source.split(' ').map(str::to_string).collect();
    for _ in 0..rng.random_range(1..=8) {
        let at = rng.random_range(0..words.len());
        match rng.random_range(0..3) {
            0 => words[at] = zipf_word(rng, vocabulary).to_string(),
            1 if words.len() > 10 => {
                words.remove(at);
            }
            _ => words.insert(at, zipf_word(rng, vocabulary).to_string()),
        }
    }
    words.join(" ")
}

fn variant(rng: &mut ChaCha8Rng, source: &str) -> String {
    if rng.random_bool(0.5) {
        source.to_uppercase()
    } else {
        source.replace(". ", ".\n\n").replace(", ", " ,  ")
    }
}

fn corpus() -> Vec<String> {
    let mut rng = ChaCha8Rng::seed_from_u64(2024);
    let vocabulary = vocabulary(&mut rng);
    let mut docs: Vec<String> = Vec::with_capacity(DOCS);
    while docs.len() < DOCS {
        let roll = rng.random::<f64>();
        let doc = if docs.len() > 100 && roll < 0.10 {
            let source = &docs[rng.random_range(0..docs.len())];
            edited_copy(&mut rng, source, &vocabulary)
        } else if docs.len() > 100 && roll < 0.15 {
            let source = &docs[rng.random_range(0..docs.len())];
            variant(&mut rng, source)
        } else {
            original(&mut rng, &vocabulary)
        };
        docs.push(doc);
    }
    docs
}

fn write_corpus_if_asked(docs: &[String]) {
    let Some(path) = std::env::var_os("TULU_DEDUP_CORPUS") else {
        return;
    };
    let file = std::fs::File::create(&path).expect("create the corpus file");
    let mut out = std::io::BufWriter::new(file);
    for doc in docs {
        serde_json::to_writer(&mut out, doc).expect("write the corpus");
        out.write_all(b"\n").expect("write the corpus");
    }
    out.flush().expect("write the corpus");
    eprintln!(
        "wrote {} documents to {}",
        docs.len(),
        path.to_string_lossy()
    );
}

fn bench_dedup(c: &mut Criterion) {
    let docs = corpus();
    write_corpus_if_asked(&docs);
    let refs: Vec<&str> = docs.iter().map(String::as_str).collect();
    let params = NearDedupParams::default();
    let result = near_dedup(&refs, &params).expect("default parameters are valid");
    let exact = exact_dedup(&refs);
    eprintln!(
        "{} documents, {} words on average: near dedup removes {} in {} clusters; exact dedup removes {}",
        refs.len(),
        refs.iter().map(|d| d.split_whitespace().count()).sum::<usize>() / refs.len(),
        result.removed_count(),
        result.clusters.len(),
        exact.removed_count()
    );

    let mut group = c.benchmark_group("dedup");
    group.sample_size(10);
    group.throughput(Throughput::Elements(refs.len() as u64));
    group.bench_function("near_minhash_lsh_50k", |b| {
        b.iter(|| near_dedup(&refs, &params).expect("valid parameters"))
    });
    // datasketch is single-threaded: this is the like-for-like figure.
    let one_thread = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .expect("a one-thread pool");
    group.bench_function("near_minhash_lsh_50k_1_thread", |b| {
        b.iter(|| one_thread.install(|| near_dedup(&refs, &params).expect("valid parameters")))
    });
    group.bench_function("exact_normalized_50k", |b| b.iter(|| exact_dedup(&refs)));
    group.finish();
}

criterion_group!(benches, bench_dedup);
criterion_main!(benches);
