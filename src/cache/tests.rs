//! Tests of the [`Cache`] facade, gc, and crash safety across processes.

use std::collections::HashSet;
use std::fs;
use std::path::Path;
use std::time::Duration;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::json;

use super::index::tests::sample_record;
use super::test_support::{kill_child, spawn_self, wait_for_line};
use super::*;

fn open(dir: &Path) -> Cache {
    Cache::open_with(dir, LockPolicy::NoWait, |_| {
        panic!("the cache should be free")
    })
    .unwrap()
}

#[test]
fn cache_can_be_shared_across_threads() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Cache>();
}

#[test]
fn first_open_creates_the_layout() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join(".tulu");
    let cache = open(&dir);
    assert_eq!(cache.dir(), dir);
    assert_eq!(
        fs::read_to_string(dir.join("VERSION")).unwrap(),
        "tulu-cache 1\n"
    );
    assert!(fs::read_to_string(dir.join("CACHEDIR.TAG"))
        .unwrap()
        .starts_with("Signature: 8a477f597d28d172789f06886806bc55"));
    assert_eq!(fs::read_to_string(dir.join(".gitignore")).unwrap(), "*\n");
    for sub in ["objects", "tmp", "index", "lock", "lock.holder"] {
        assert!(dir.join(sub).exists(), "{sub} missing");
    }
    drop(cache);
    // Reopening an existing cache works and keeps its content.
    let cache = open(&dir);
    let hash = cache.blobs().put_bytes(b"x").unwrap();
    drop(cache);
    assert_eq!(open(&dir).blobs().get_bytes(hash).unwrap(), b"x");
}

#[test]
fn a_second_open_waits_or_fails_with_the_holder() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join(".tulu");
    let held = open(&dir);
    let error = Cache::open_with(&dir, LockPolicy::NoWait, |_| {}).unwrap_err();
    assert!(error.to_string().contains("is in use by `"), "{error}");

    let (sender, seen) = std::sync::mpsc::channel();
    let waiter_dir = dir.clone();
    let waiter = std::thread::spawn(move || {
        Cache::open_with(&waiter_dir, LockPolicy::Wait, |holder| {
            sender.send(waiting_message(&waiter_dir, holder)).unwrap();
        })
        .map(|cache| cache.blobs().contains(Hash::of(b"held")))
    });
    let message = seen.recv_timeout(Duration::from_secs(5)).unwrap();
    assert!(
        message.starts_with(&format!(
            "waiting for the cache at {}: held by `",
            dir.display()
        )),
        "{message}"
    );
    held.blobs().put_bytes(b"held").unwrap();
    drop(held);
    assert!(
        waiter.join().unwrap().unwrap(),
        "the waiter sees the holder's writes"
    );
}

#[test]
fn foreign_directories_and_other_formats_are_refused() {
    let root = tempfile::tempdir().unwrap();
    let home_like = root.path().join("home");
    fs::create_dir_all(&home_like).unwrap();
    fs::write(home_like.join("thesis.tex"), b"precious").unwrap();
    let error = Cache::open(&home_like, LockPolicy::NoWait).unwrap_err();
    assert!(matches!(error, CacheError::NotACache { .. }), "{error}");
    assert!(error.to_string().contains("choose another --cache-dir"));
    let names: Vec<_> = fs::read_dir(&home_like)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, ["thesis.tex"], "nothing was written into it");

    let future = root.path().join("future");
    drop(open(&future));
    fs::write(future.join("VERSION"), "tulu-cache 2\n").unwrap();
    let error = Cache::open(&future, LockPolicy::NoWait).unwrap_err();
    assert!(
        matches!(&error, CacheError::UnsupportedVersion { found, expected: 1, .. } if found == "tulu-cache 2"),
        "{error}"
    );
    assert!(
        error.to_string().contains("delete that directory"),
        "{error}"
    );
}

#[test]
fn interrupted_initialization_is_completed() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join(".tulu");
    fs::create_dir_all(dir.join("tmp")).unwrap();
    fs::write(dir.join("lock"), b"").unwrap();
    fs::write(dir.join("CACHEDIR.TAG"), b"Signature").unwrap();
    fs::write(dir.join("tmp").join("write-1-2-3"), b"VERS").unwrap();
    let cache = open(&dir);
    assert_eq!(
        fs::read_to_string(dir.join("VERSION")).unwrap(),
        "tulu-cache 1\n"
    );
    assert_eq!(fs::read_dir(dir.join("tmp")).unwrap().count(), 0);
    drop(cache);
}

#[test]
fn records_need_their_blob_first_and_vanished_blobs_are_misses() {
    let root = tempfile::tempdir().unwrap();
    let cache = open(&root.path().join(".tulu"));
    let key = node_key("sft", 3, br#"{"lr":0.000005}"#, &[Hash::of(b"base")]);
    let absent_output = sample_record(Hash::of(b"not stored"), "sft");
    assert!(matches!(
        cache.put_record(key, &absent_output),
        Err(CacheError::RecordWithoutBlob { .. })
    ));
    assert_eq!(cache.cached_output(key).unwrap(), None);

    let output = cache.blobs().put_bytes(b"model bytes").unwrap();
    let record = sample_record(output, "sft");
    cache.put_record(key, &record).unwrap();
    assert_eq!(cache.cached_output(key).unwrap(), Some(record));

    cache.blobs().evict(output).unwrap();
    assert_eq!(cache.cached_output(key).unwrap(), None);
    assert_eq!(
        cache.index().record(key).unwrap(),
        None,
        "the dangling record was dropped"
    );
}

/// A cache with: dataset blob `data` (node "data"), model manifest `model` with two files (node
/// "sft"), an older model sharing one file (node "sft_old"), and an orphan blob from node "old".
struct GcFixture {
    _root: tempfile::TempDir,
    cache: Cache,
    data: Hash,
    model: Hash,
    old_model: Hash,
    orphan: Hash,
    weights: Hash,
    shared_config: Hash,
    old_weights: Hash,
}

fn gc_fixture() -> GcFixture {
    let root = tempfile::tempdir().unwrap();
    let cache = open(&root.path().join(".tulu"));
    let blobs = cache.blobs();
    let data = blobs.put_bytes(b"{\"prompt\":\"1+1\"}\n").unwrap();
    let orphan = blobs.put_bytes(b"stale output").unwrap();

    let model_dir = root.path().join("model");
    fs::create_dir_all(&model_dir).unwrap();
    fs::write(model_dir.join("config.json"), b"{\"dim\":8}").unwrap();
    fs::write(model_dir.join("model.safetensors"), vec![1u8; 4096]).unwrap();
    let model = blobs.put_dir(&model_dir, "model", json!({})).unwrap();
    fs::write(model_dir.join("model.safetensors"), vec![2u8; 2048]).unwrap();
    let old_model = blobs
        .put_dir(&model_dir, "model", json!({"old": true}))
        .unwrap();

    let record = |output: Hash, name: &str, op: &str| {
        let mut record = sample_record(output, name);
        record.op = op.into();
        let key = node_key(op, 1, name.as_bytes(), &[]);
        cache.put_record(key, &record).unwrap();
        key
    };
    let data_key = record(data, "data", "load");
    let model_key = record(model, "sft", "sft");
    let old_key = record(old_model, "sft_old", "sft");
    let orphan_key = record(orphan, "old", "render");
    let node = |name: &str, key: Hash, output: Hash| RunNode {
        node_name: name.into(),
        key,
        output_hash: output,
    };
    cache
        .index()
        .append_run(
            "r.tulu",
            1,
            2,
            vec![
                node("old", orphan_key, orphan),
                node("sft_old", old_key, old_model),
            ],
        )
        .unwrap();
    cache
        .index()
        .append_run(
            "r.tulu",
            3,
            4,
            vec![node("data", data_key, data), node("sft", model_key, model)],
        )
        .unwrap();

    GcFixture {
        weights: Hash::of(&[1u8; 4096]),
        shared_config: Hash::of(b"{\"dim\":8}"),
        old_weights: Hash::of(&[2u8; 2048]),
        _root: root,
        cache,
        data,
        model,
        old_model,
        orphan,
    }
}

fn all_blobs(cache: &Cache) -> Vec<Hash> {
    cache
        .blobs()
        .list()
        .unwrap()
        .into_iter()
        .map(|entry| entry.hash)
        .collect()
}

#[test]
fn gc_dry_run_reports_without_removing() {
    let fixture = gc_fixture();
    let cache = &fixture.cache;
    let before = all_blobs(cache);
    let records_before = cache.index().records().unwrap();
    let roots = HashSet::from([fixture.data, fixture.model]);
    let report = cache.gc(&roots, true).unwrap();

    assert!(report.dry_run);
    let mut removed: Vec<(Hash, Option<&str>, Option<&str>)> = report
        .removed_blobs
        .iter()
        .map(|blob| (blob.hash, blob.node_name.as_deref(), blob.file.as_deref()))
        .collect();
    removed.sort();
    let mut expected = vec![
        (fixture.orphan, Some("old"), None),
        (fixture.old_model, Some("sft_old"), None),
        (
            fixture.old_weights,
            Some("sft_old"),
            Some("model.safetensors"),
        ),
    ];
    expected.sort();
    assert_eq!(removed, expected);
    let removed_bytes: u64 = report.removed_blobs.iter().map(|blob| blob.size).sum();
    assert_eq!(report.removed_bytes, removed_bytes);
    assert_eq!(report.kept_blobs, 4); // data, the model manifest and its two files
    let mut removed_nodes: Vec<&str> = report
        .removed_records
        .iter()
        .map(|r| r.node_name.as_str())
        .collect();
    removed_nodes.sort();
    assert_eq!(removed_nodes, ["old", "sft_old"]);
    assert_eq!(report.removed_runs, [1]);

    assert_eq!(all_blobs(cache), before, "a dry run removes nothing");
    assert_eq!(cache.index().records().unwrap(), records_before);
    assert_eq!(cache.index().runs().unwrap().len(), 2);
}

#[test]
fn gc_keeps_roots_and_their_files_and_removes_the_rest() {
    let fixture = gc_fixture();
    let cache = &fixture.cache;
    let roots = HashSet::from([fixture.data, fixture.model, Hash::of(b"never stored")]);
    let report = cache.gc(&roots, false).unwrap();
    assert!(!report.dry_run);
    assert_eq!(report.missing_roots, [Hash::of(b"never stored")]);

    let mut kept = all_blobs(cache);
    kept.sort();
    let mut expected = vec![
        fixture.data,
        fixture.model,
        fixture.weights,
        fixture.shared_config,
    ];
    expected.sort();
    assert_eq!(kept, expected);
    for hash in &kept {
        cache.blobs().verify(*hash).unwrap();
    }
    let out = fixture._root.path().join("restored");
    cache.blobs().materialize(fixture.model, &out).unwrap();
    assert_eq!(
        fs::read(out.join("model.safetensors")).unwrap(),
        vec![1u8; 4096]
    );

    let mut nodes: Vec<String> = cache
        .index()
        .records()
        .unwrap()
        .into_iter()
        .map(|(_, r)| r.node_name)
        .collect();
    nodes.sort();
    assert_eq!(nodes, ["data", "sft"]);
    let runs: Vec<u64> = cache
        .index()
        .runs()
        .unwrap()
        .iter()
        .map(|run| run.id)
        .collect();
    assert_eq!(runs, [2]);

    // A second gc with the same roots finds nothing more.
    let again = cache.gc(&roots, false).unwrap();
    assert!(again.removed_blobs.is_empty() && again.removed_records.is_empty());
    assert_eq!(again.kept_blobs, 4);
}

#[test]
fn gc_with_no_roots_empties_the_cache() {
    let fixture = gc_fixture();
    let report = fixture.cache.gc(&HashSet::new(), false).unwrap();
    assert_eq!(report.kept_blobs, 0);
    assert_eq!(report.removed_blobs.len(), 7);
    assert!(all_blobs(&fixture.cache).is_empty());
    assert!(fixture.cache.index().records().unwrap().is_empty());
    assert!(fixture.cache.index().runs().unwrap().is_empty());
}

#[test]
fn gc_drops_undecodable_records() {
    let fixture = gc_fixture();
    let index = fixture.cache.index();
    index
        .records
        .insert(Hash::of(b"garbled").as_bytes(), &b"{oops"[..])
        .unwrap();
    let roots = HashSet::from([fixture.data, fixture.model]);
    let dry = fixture.cache.gc(&roots, true).unwrap();
    assert_eq!(dry.removed_bad_entries, 1);
    assert!(index
        .records
        .contains_key(Hash::of(b"garbled").as_bytes())
        .unwrap());
    fixture.cache.gc(&roots, false).unwrap();
    assert!(!index
        .records
        .contains_key(Hash::of(b"garbled").as_bytes())
        .unwrap());
}

// --- crash safety -------------------------------------------------------------------------------

const CRASH_DIR_VAR: &str = "TULU_TEST_CRASH_CACHE_DIR";
const CRASH_ROUND_VAR: &str = "TULU_TEST_CRASH_ROUND";

/// Body of the child process of `sigkill_while_writing_leaves_a_usable_cache`: writes blobs,
/// manifests, records and runs until it is killed. Does nothing when run as an ordinary test.
#[test]
fn child_process_writes_until_killed() {
    let (Ok(dir), Ok(round)) = (std::env::var(CRASH_DIR_VAR), std::env::var(CRASH_ROUND_VAR))
    else {
        return;
    };
    let dir = Path::new(&dir);
    let cache = Cache::open(dir, LockPolicy::Wait).unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(round.parse().unwrap());
    let scratch = dir.parent().unwrap().join(format!("scratch-{round}"));
    fs::create_dir_all(&scratch).unwrap();
    println!("READY");
    // Bounded, so a child that is never killed cannot fill the disk or memory.
    for step in 0u64..400 {
        // Every fourth write is up to 1 MiB, so that kills often land inside a write.
        let size = if step % 4 == 0 {
            rng.random_range(1..1 << 20)
        } else {
            rng.random_range(0..4096)
        };
        let mut content = vec![0u8; size];
        rng.fill(&mut content[..]);
        let output = if step % 5 == 0 {
            fs::write(scratch.join("weights.bin"), &content).unwrap();
            cache
                .blobs()
                .put_dir(&scratch, "model", json!({"step": step}))
                .unwrap()
        } else {
            cache.blobs().put_bytes(&content).unwrap()
        };
        let key = node_key("crash", 1, &step.to_le_bytes(), &[]);
        cache
            .put_record(key, &sample_record(output, &format!("node{step}")))
            .unwrap();
        let node = RunNode {
            node_name: format!("node{step}"),
            key,
            output_hash: output,
        };
        if step % 7 == 0 {
            cache
                .index()
                .append_run("crash.tulu", step, step, vec![node])
                .unwrap();
        }
    }
    println!("FINISHED");
    std::thread::sleep(Duration::from_secs(20));
}

#[test]
fn sigkill_while_writing_leaves_a_usable_cache() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join(".tulu");
    let mut survived_records = 0;
    for (round, delay_ms) in [(1u64, 40u64), (2, 150), (3, 7)] {
        let round_text = round.to_string();
        let mut child = spawn_self(
            "cache::tests::child_process_writes_until_killed",
            &[
                (CRASH_DIR_VAR, dir.as_os_str()),
                (CRASH_ROUND_VAR, round_text.as_ref()),
            ],
        );
        wait_for_line(&mut child, "READY");
        std::thread::sleep(Duration::from_millis(delay_ms));
        kill_child(child.id());
        let status = child.wait();
        assert!(!status.success(), "the child was killed, not finished");

        // The kernel released the lock; the stale sidecar does not block; debris is cleaned.
        let cache = open(&dir);
        assert_eq!(
            fs::read_dir(dir.join("tmp")).unwrap().count(),
            0,
            "temp debris was removed"
        );
        let records = cache.index().records().unwrap();
        for (key, record) in &records {
            cache
                .blobs()
                .verify(record.output_hash)
                .unwrap_or_else(|error| panic!("record {key} names a bad blob: {error}"));
            if let Ok(manifest) = cache.blobs().get_manifest(record.output_hash) {
                for entry in manifest.files.values() {
                    cache.blobs().verify(entry.hash).unwrap();
                }
            }
        }
        for blob in cache.blobs().list().unwrap() {
            cache.blobs().verify(blob.hash).unwrap();
        }
        for run in cache.index().runs().unwrap() {
            assert!(!run.nodes.is_empty());
        }
        assert!(
            records.len() >= survived_records,
            "flushed records were lost"
        );
        survived_records = records.len();

        // And it still works.
        let hash = cache
            .blobs()
            .put_bytes(format!("after round {round}").as_bytes())
            .unwrap();
        cache
            .put_record(
                Hash::of(&round.to_le_bytes()),
                &sample_record(hash, "after"),
            )
            .unwrap();
    }
    assert!(
        survived_records > 0,
        "the children got some records written before being killed"
    );
}
