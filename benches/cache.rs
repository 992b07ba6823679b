//! Hot paths of the cache: keys, blob writes and verified reads, the file-hash index, record
//! writes and lookups, materialize, gc marking.

use std::collections::HashSet;
use std::fs;
use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use serde_json::json;
use tulu::cache::{canonical_json, node_key, Cache, Hash, LockPolicy, RunRecord};

fn open_cache(root: &std::path::Path) -> Cache {
    Cache::open(&root.join(".tulu"), LockPolicy::NoWait).expect("a fresh cache opens")
}

fn pseudo_random_bytes(len: usize, seed: u64) -> Vec<u8> {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect()
}

fn keys(c: &mut Criterion) {
    let params = json!({
        "lr": 5e-7, "beta": 5.0, "loss": "dpo_norm", "epochs": 1, "max_len": 2048,
        "batch_size": 128, "warmup_ratio": 0.03, "seed": 7, "schedule": "linear",
        "lora": {"rank": 16, "alpha": 32, "dropout": 0.05, "targets": ["q", "k", "v", "o"]},
    });
    c.bench_function("cache/canonical_json (12-key params)", |b| {
        b.iter(|| canonical_json(black_box(&params)))
    });
    let bytes = canonical_json(&params);
    let inputs = [Hash::of(b"sft"), Hash::of(b"prefs")];
    c.bench_function("cache/node_key", |b| {
        b.iter(|| node_key(black_box("dpo"), 1, black_box(&bytes), black_box(&inputs)))
    });
}

fn blobs(c: &mut Criterion) {
    let root = tempfile::tempdir().unwrap();
    let cache = open_cache(root.path());
    let mut group = c.benchmark_group("cache/blobs");
    for size in [4 << 10, 1 << 20] {
        group.throughput(Throughput::Bytes(size as u64));
        let label = if size < 1 << 20 { "4KiB" } else { "1MiB" };

        // A new blob: hash, temp write, two fsyncs, rename. Evicted outside the timing so the
        // bench does not fill the disk.
        let mut seed = 0u64;
        group.bench_function(format!("put_bytes new {label}"), |b| {
            b.iter_custom(|iterations| {
                let mut total = Duration::ZERO;
                for _ in 0..iterations {
                    seed += 1;
                    let content = pseudo_random_bytes(size, seed);
                    let start = Instant::now();
                    let hash = cache.blobs().put_bytes(&content).unwrap();
                    total += start.elapsed();
                    cache.blobs().evict(hash).unwrap();
                }
                total
            })
        });

        let content = pseudo_random_bytes(size, 1_000_000);
        let hash = cache.blobs().put_bytes(&content).unwrap();
        group.bench_function(format!("put_bytes existing {label}"), |b| {
            b.iter(|| cache.blobs().put_bytes(black_box(&content)).unwrap())
        });
        group.bench_function(format!("get_bytes verified {label}"), |b| {
            b.iter(|| cache.blobs().get_bytes(black_box(hash)).unwrap())
        });
    }
    group.finish();
}

fn large_files(c: &mut Criterion) {
    let root = tempfile::tempdir().unwrap();
    let cache = open_cache(root.path());
    let size = 64usize << 20;
    let path = root.path().join("weights.bin");
    fs::write(&path, pseudo_random_bytes(size, 42)).unwrap();
    let stored = cache.blobs().put_file(&path).unwrap();

    let mut group = c.benchmark_group("cache/64MiB");
    group.sample_size(10);
    group.throughput(Throughput::Bytes(size as u64));
    group.bench_function("verify (path_verified)", |b| {
        b.iter(|| cache.blobs().path_verified(black_box(stored)).unwrap())
    });
    group.bench_function("put_file existing (hash + copy, temp dropped)", |b| {
        b.iter(|| cache.blobs().put_file(black_box(&path)).unwrap())
    });
    // The file-hash index only remembers files whose last change is over 2 s old.
    std::thread::sleep(Duration::from_millis(2100));
    cache.hash_file_cached(&path).unwrap();
    group.bench_function("hash_file_cached hit", |b| {
        b.iter(|| cache.hash_file_cached(black_box(&path)).unwrap())
    });
    group.finish();
}

fn index(c: &mut Criterion) {
    let root = tempfile::tempdir().unwrap();
    let cache = open_cache(root.path());
    let output = cache.blobs().put_bytes(b"output").unwrap();
    let record = RunRecord {
        output_hash: output,
        op: "sft".into(),
        op_version: 1,
        params: json!({"lr": 5e-6, "epochs": 2}),
        inputs: vec![
            ("model".into(), Hash::of(b"m")),
            ("data".into(), Hash::of(b"d")),
        ],
        node_name: "sft".into(),
        duration_ms: 10,
        created_unix: 0,
        hits: 0,
        last_used_unix: 0,
    };
    let mut counter = 0u64;
    c.bench_function("cache/put_record (insert + flush)", |b| {
        b.iter(|| {
            counter += 1;
            cache
                .put_record(Hash::of(&counter.to_le_bytes()), &record)
                .unwrap()
        })
    });
    let key = Hash::of(&1u64.to_le_bytes());
    c.bench_function("cache/cached_output hit", |b| {
        b.iter(|| cache.cached_output(black_box(key)).unwrap().unwrap())
    });
}

fn artifacts(c: &mut Criterion) {
    let root = tempfile::tempdir().unwrap();
    let cache = open_cache(root.path());
    let model = root.path().join("model");
    fs::create_dir_all(&model).unwrap();
    fs::write(model.join("config.json"), b"{\"dim\":128}").unwrap();
    fs::write(
        model.join("tokenizer.json"),
        pseudo_random_bytes(2 << 20, 1),
    )
    .unwrap();
    fs::write(
        model.join("model.safetensors"),
        pseudo_random_bytes(16 << 20, 2),
    )
    .unwrap();
    let manifest = cache.blobs().put_dir(&model, "model", json!({})).unwrap();

    let mut group = c.benchmark_group("cache/artifacts");
    group.sample_size(10);
    group.bench_function("materialize 18MiB model (verify + hard link)", |b| {
        b.iter_batched(
            || tempfile::tempdir_in(root.path()).unwrap(),
            |destination| {
                cache
                    .blobs()
                    .materialize(manifest, &destination.path().join("m"))
                    .unwrap();
                destination
            },
            BatchSize::PerIteration,
        )
    });

    // 1000 small outputs, half of them roots.
    let mut roots = HashSet::new();
    for index in 0..1000u32 {
        let hash = cache.blobs().put_bytes(&index.to_le_bytes()).unwrap();
        if index % 2 == 0 {
            roots.insert(hash);
        }
    }
    roots.insert(manifest);
    group.bench_function("gc dry run, 1004 blobs", |b| {
        b.iter(|| cache.gc(black_box(&roots), true).unwrap())
    });
    group.finish();
}

criterion_group!(benches, keys, blobs, large_files, index, artifacts);
criterion_main!(benches);
