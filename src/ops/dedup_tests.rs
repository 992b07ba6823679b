//! `dedup` on planted data: exact copies after normalization, near copies at known Jaccard
//! similarity, chains through both passes, prompt-only comparison — the planted rows and nothing
//! else are removed, and every removal is recorded with its provenance.

use std::collections::HashSet;

use serde_json::json;

use super::Dedup;
use crate::check::Schema;
use crate::data::Dataset;
use crate::ops::dedup_record::{DedupRecord, DedupStage, DEDUP_META_KEY};
use crate::ops::test_support::{chat, dataset, output_dataset, run_op, texts};
use crate::text::{dedup_tokens, normalize_for_dedup};

fn dedup(params: serde_json::Value, data: Dataset) -> (Dataset, DedupRecord) {
    let mut params = params;
    params["data"] = json!({"$input": 0});
    let out = output_dataset(run_op(&Dedup::new(), params, vec![data]).unwrap());
    let record: DedupRecord = serde_json::from_value(out.meta[DEDUP_META_KEY].clone()).unwrap();
    (out, record)
}

fn kept_indices(out: &Dataset) -> Vec<u64> {
    out.rows.iter().map(|r| r.provenance.index).collect()
}

/// The true Jaccard similarity of two texts' word 5-gram shingle sets.
fn jaccard(a: &str, b: &str) -> f64 {
    let shingles = |t: &str| -> HashSet<Vec<String>> {
        let normalized = normalize_for_dedup(t);
        let tokens: Vec<String> = dedup_tokens(&normalized)
            .into_iter()
            .map(str::to_string)
            .collect();
        tokens.windows(5).map(<[String]>::to_vec).collect()
    };
    let (a, b) = (shingles(a), shingles(b));
    a.intersection(&b).count() as f64 / a.union(&b).count() as f64
}

/// A document of `len` words no other document shares.
fn document(id: usize, len: usize) -> Vec<String> {
    (0..len).map(|k| format!("d{id}w{k}")).collect()
}

/// `words` with the words at `positions` replaced by fresh ones.
fn edited(words: &[String], positions: &[usize]) -> String {
    let mut out = words.to_vec();
    for &p in positions {
        out[p] = format!("edit{p}");
    }
    out.join(" ")
}

#[test]
fn exact_copies_after_normalization_are_removed_and_recorded() {
    let data = texts(
        "forum",
        &[
            "How many apples are left if Tom eats 3 of 10?",
            "Write a haiku about autumn rain.",
            "how many apples are LEFT if tom   eats 3 of 10?\n",
            "How many apples are left if Tom eats 4 of 10?",
            "Write a haiku about autumn rain.",
            "Write\u{200B} a haiku about ａｕｔｕｍｎ rain.",
        ],
    );
    let (out, record) = dedup(json!({}), data.clone());
    assert_eq!(kept_indices(&out), vec![0, 1, 3]);
    // Kept rows are carried through unchanged, provenance included.
    assert_eq!(
        out.rows,
        vec![
            data.rows[0].clone(),
            data.rows[1].clone(),
            data.rows[3].clone()
        ]
    );
    assert_eq!((record.removed_exact, record.removed_near), (3, 0));
    assert_eq!((record.input_rows, record.kept_rows), (6, 3));
    assert!(record.near.is_none());
    assert_eq!(record.clusters.len(), 2);
    let first = &record.clusters[0];
    assert_eq!((first.kept.row, first.kept.source.as_str()), (0, "forum"));
    assert_eq!(
        first.preview,
        "How many apples are left if Tom eats 3 of 10?"
    );
    let removed: Vec<(usize, DedupStage, f64)> = record.clusters[1]
        .removed
        .iter()
        .map(|r| (r.at.row, r.stage, r.jaccard))
        .collect();
    assert_eq!(
        removed,
        vec![(4, DedupStage::Exact, 1.0), (5, DedupStage::Exact, 1.0)]
    );
}

#[test]
fn near_copies_at_known_jaccard_are_removed_and_nothing_else() {
    let mut rows: Vec<String> = Vec::new();
    let mut planted: Vec<(usize, usize, f64)> = Vec::new(); // (copy row, original row, true J)
    let mut far: Vec<usize> = Vec::new();
    for id in 0..6 {
        let words = document(id, 200);
        let original = rows.len();
        rows.push(words.join(" "));
        // One word replaced: 191 of 201 shingles shared, J = 0.950.
        let copy = edited(&words, &[100]);
        planted.push((rows.len(), original, jaccard(&rows[original], &copy)));
        rows.push(copy);
        // Two words replaced far apart: J = 186/206 = 0.903.
        let copy = edited(&words, &[40, 160]);
        planted.push((rows.len(), original, jaccard(&rows[original], &copy)));
        rows.push(copy);
        // Ten words replaced, every 20th: J = 146/246 = 0.593, well below 0.8.
        let far_copy = edited(&words, &(0..10).map(|k| 10 + 20 * k).collect::<Vec<_>>());
        assert!(jaccard(&rows[original], &far_copy) < 0.6);
        far.push(rows.len());
        rows.push(far_copy);
    }
    assert!((planted[0].2 - 0.950).abs() < 1e-3 && (planted[1].2 - 0.903).abs() < 1e-3);
    let refs: Vec<&str> = rows.iter().map(String::as_str).collect();
    let (out, record) = dedup(json!({"near": 0.8}), texts("web", &refs));

    let planted_rows: HashSet<usize> = planted.iter().map(|p| p.0).collect();
    let expected_kept: Vec<u64> = (0..rows.len())
        .filter(|i| !planted_rows.contains(i))
        .map(|i| i as u64)
        .collect();
    assert_eq!(kept_indices(&out), expected_kept);
    assert_eq!((record.removed_exact, record.removed_near), (0, 12));
    let near = record.near.as_ref().unwrap();
    assert_eq!(
        (near.bands, near.rows, near.num_perm, near.ngram),
        (9, 13, 128, 5)
    );
    for (copy, original, true_jaccard) in planted {
        let cluster = record
            .clusters
            .iter()
            .find(|c| c.kept.row == original)
            .unwrap_or_else(|| panic!("no cluster kept row {original}"));
        let removed = cluster.removed.iter().find(|r| r.at.row == copy).unwrap();
        assert_eq!(removed.stage, DedupStage::Near);
        assert_eq!(removed.at.index, copy as u64);
        // Four standard deviations of the 128-permutation estimate at J = 0.9.
        assert!(
            (removed.jaccard - true_jaccard).abs() < 0.11,
            "row {copy}: estimated {} vs true {true_jaccard}",
            removed.jaccard
        );
    }
}

#[test]
fn exact_copies_of_a_near_duplicate_join_the_row_finally_kept() {
    let words = document(0, 120);
    let original = words.join(" ");
    let near_copy = edited(&words, &[60]);
    let rows = [
        original.clone(),
        near_copy.clone(),
        near_copy.to_uppercase(),
        "an unrelated short row".to_string(),
    ];
    let refs: Vec<&str> = rows.iter().map(String::as_str).collect();
    let (out, record) = dedup(json!({"near": 0.8}), texts("s", &refs));
    assert_eq!(kept_indices(&out), vec![0, 3]);
    assert_eq!(record.clusters.len(), 1);
    let cluster = &record.clusters[0];
    assert_eq!(cluster.kept.row, 0);
    let removed: Vec<(usize, DedupStage)> = cluster
        .removed
        .iter()
        .map(|r| (r.at.row, r.stage))
        .collect();
    assert_eq!(removed, vec![(1, DedupStage::Near), (2, DedupStage::Near)]);
    // Same shingles as row 1, so the same estimate.
    assert_eq!(cluster.removed[0].jaccard, cluster.removed[1].jaccard);
    assert!(cluster.removed[0].jaccard < 1.0);
    assert_eq!((record.removed_exact, record.removed_near), (0, 2));
}

#[test]
fn prompt_mode_compares_only_the_first_user_turn() {
    let data = dataset(
        Schema::Chat,
        "chats",
        vec![
            chat("Name three primary colors.", "Red, yellow and blue."),
            chat(
                "Name three primary colors.",
                "In light: red, green and blue.",
            ),
            chat("Name three secondary colors.", "Orange, green and purple."),
        ],
    );
    let (out, _) = dedup(json!({}), data.clone());
    assert_eq!(kept_indices(&out), vec![0, 1, 2], "responses differ");
    let (out, record) = dedup(json!({"on": "prompt"}), data);
    assert_eq!(kept_indices(&out), vec![0, 2]);
    assert_eq!(record.on, "prompt");
    assert_eq!(record.clusters[0].removed[0].at.row, 1);
}

#[test]
fn without_the_exact_pass_copies_go_through_the_near_pass() {
    let words = document(3, 50).join(" ");
    let data = texts("s", &[&words, "something else entirely", &words]);
    let (out, record) = dedup(json!({"exact": false, "near": 0.9}), data);
    assert_eq!(kept_indices(&out), vec![0, 1]);
    let removed = &record.clusters[0].removed[0];
    assert_eq!(
        (removed.at.row, removed.stage, removed.jaccard),
        (2, DedupStage::Near, 1.0)
    );
    assert!(!record.exact);
}

#[test]
fn explicit_banding_is_used_and_recorded() {
    let words = document(4, 80);
    let rows = [words.join(" "), edited(&words, &[40])];
    let refs: Vec<&str> = rows.iter().map(String::as_str).collect();
    let (out, record) = dedup(
        json!({"near": 0.8, "bands": 32, "rows": 4, "num_perm": 128, "seed": 7}),
        texts("s", &refs),
    );
    assert_eq!(kept_indices(&out), vec![0]);
    let near = record.near.unwrap();
    assert_eq!((near.bands, near.rows, near.seed), (32, 4, 7));
}

#[test]
fn same_input_same_output() {
    let mut rows: Vec<String> = (0..40).map(|i| document(i, 30).join(" ")).collect();
    for i in 0..10 {
        rows.push(edited(&document(i, 30), &[15]));
        rows.push(rows[i].to_lowercase());
    }
    let refs: Vec<&str> = rows.iter().map(String::as_str).collect();
    let first = dedup(json!({"near": 0.7}), texts("s", &refs));
    let second = dedup(json!({"near": 0.7}), texts("s", &refs));
    assert_eq!(first, second);
    assert!(first.1.removed() >= 10);
}

#[test]
fn an_empty_dataset_stays_empty() {
    let (out, record) = dedup(json!({"near": 0.8}), texts("s", &[]));
    assert!(out.rows.is_empty());
    assert!(record.clusters.is_empty());
}
