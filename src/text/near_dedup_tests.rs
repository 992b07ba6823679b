//! Planted-duplicate tests: inputs built so that the true Jaccard similarity of every pair is
//! known exactly, then checked against what near dedup keeps and removes.

use super::*;

/// `len` words unique to `tag`, so shingles never collide across documents with other tags and
/// every shingle within the document is distinct.
fn words(tag: &str, len: usize) -> Vec<String> {
    (0..len).map(|i| format!("{tag}x{i}")).collect()
}

/// A document of 204 distinct words (200 shingles of 5 words) and a truncated copy of it that
/// keeps `shared` of those shingles: the copy's shingles are a subset, so J = shared / 200.
fn pair_at(tag: &str, shared: usize) -> (String, String) {
    let w = words(tag, 204);
    (w.join(" "), w[..shared + 4].join(" "))
}

fn refs(texts: &[String]) -> Vec<&str> {
    texts.iter().map(String::as_str).collect()
}

fn removed_indices(result: &DedupResult) -> Vec<usize> {
    let mut removed: Vec<usize> = result
        .clusters
        .iter()
        .flat_map(|c| c.removed.iter().map(|r| r.index))
        .collect();
    removed.sort_unstable();
    removed
}

/// 2048 permutations put the estimate's standard deviation near 0.008, and 256 bands of 8 rows
/// make pairs down to J ≈ 0.6 candidates almost surely, so the outcome at 0.8 is decided by
/// the Jaccard confirmation alone, several standard deviations from the threshold.
fn sharp_params() -> NearDedupParams {
    NearDedupParams {
        num_perm: 2048,
        bands: Some(LshBands {
            bands: 256,
            rows: 8,
        }),
        seed: 3,
        ..NearDedupParams::default()
    }
}

#[test]
fn planted_pairs_at_known_similarity() {
    let mut texts = Vec::new();
    let mut expected_removed = Vec::new();
    for (tag, shared, removed) in [
        ("a", 180, true),  // J = 0.90
        ("b", 170, true),  // J = 0.85
        ("c", 150, false), // J = 0.75
        ("d", 100, false), // J = 0.50
    ] {
        let (original, copy) = pair_at(tag, shared);
        texts.push(original);
        texts.push(copy);
        if removed {
            expected_removed.push(texts.len() - 1);
        }
    }
    // An exact copy differing only in case and spacing, and an unrelated document.
    texts.push(texts[0].to_uppercase().replace(' ', "  \n"));
    expected_removed.push(texts.len() - 1);
    texts.push(words("e", 100).join(" "));

    let result = near_dedup(&refs(&texts), &sharp_params()).unwrap();
    assert_eq!(removed_indices(&result), expected_removed);
    assert_eq!(result.kept, vec![0, 2, 4, 5, 6, 7, 9]);

    let cluster_a = &result.clusters[0];
    assert_eq!(cluster_a.kept, 0);
    assert_eq!(cluster_a.removed.len(), 2);
    assert!((cluster_a.removed[0].jaccard - 0.9).abs() < 0.04);
    assert_eq!(cluster_a.removed[1].jaccard, 1.0);
    let cluster_b = &result.clusters[1];
    assert_eq!(cluster_b.kept, 2);
    assert!((cluster_b.removed[0].jaccard - 0.85).abs() < 0.04);
}

#[test]
fn default_banding_removal_rates_follow_the_s_curve() {
    // With the defaults (128 permutations, 9 bands × 13 rows) a pair at J = 0.9 becomes a
    // candidate with probability 1 − (1 − 0.9¹³)⁹ ≈ 0.93 and then passes confirmation almost
    // surely; a pair at J = 0.5 essentially never does.
    let params = NearDedupParams::default();
    let mut texts = Vec::new();
    for i in 0..150 {
        let (original, copy) = pair_at(&format!("p{i}"), 180);
        texts.push(original);
        texts.push(copy);
    }
    for i in 0..100 {
        let (original, copy) = pair_at(&format!("q{i}"), 100);
        texts.push(original);
        texts.push(copy);
    }
    let result = near_dedup(&refs(&texts), &params).unwrap();
    let removed = removed_indices(&result);
    let high = removed.iter().filter(|&&i| i < 300).count();
    let low = removed.len() - high;
    assert!(
        (125..=148).contains(&high),
        "{high}/150 pairs at J=0.9 removed"
    );
    assert_eq!(low, 0, "pairs at J=0.5 removed");
    assert!(
        removed.iter().all(|i| i % 2 == 1),
        "an original was removed"
    );
}

#[test]
fn threshold_is_inclusive_on_the_estimate() {
    // With 128 permutations estimates are multiples of 1/128: a threshold equal to a pair's
    // estimate merges it, one half-step above does not. One row per band makes the pair a
    // candidate whenever any slot agrees, so only the confirmation decides.
    let (original, copy) = pair_at("t", 150);
    let hasher = MinHasher::new(5, 128, 0).unwrap();
    let estimate = estimate_jaccard(&hasher.signature(&original), &hasher.signature(&copy));
    assert!((0.6..0.9).contains(&estimate), "estimate {estimate}");
    let texts = [original, copy];
    let with_threshold = |threshold| NearDedupParams {
        threshold,
        bands: Some(LshBands {
            bands: 128,
            rows: 1,
        }),
        ..NearDedupParams::default()
    };
    let at = near_dedup(&refs(&texts), &with_threshold(estimate)).unwrap();
    assert_eq!(at.kept, vec![0]);
    assert_eq!(at.clusters[0].removed[0].jaccard, estimate);
    let above = near_dedup(&refs(&texts), &with_threshold(estimate + 1.0 / 256.0)).unwrap();
    assert_eq!(above.kept, vec![0, 1]);
}

#[test]
fn clusters_are_connected_components_kept_first() {
    // A ~ B and B ~ C (J ≈ 0.86) but A ≁ C (J ≈ 0.74): all three form one cluster, A kept, and C
    // reports its similarity to A, below the threshold.
    let w = words("chain", 234);
    let a = w[0..204].join(" ");
    let b = w[15..219].join(" ");
    let c = w[30..234].join(" ");
    let texts = [c.clone(), a, b, c];
    let result = near_dedup(&refs(&texts), &sharp_params()).unwrap();
    assert_eq!(result.kept, vec![0]);
    let removed = &result.clusters[0].removed;
    assert_eq!(removed.len(), 3);
    // Index 1 (A) joined index 0 (C) only through index 2 (B).
    assert!((removed[0].jaccard - 170.0 / 230.0).abs() < 0.04);
    assert!((removed[1].jaccard - 185.0 / 215.0).abs() < 0.04);
    assert_eq!(removed[2].jaccard, 1.0);
}

#[test]
fn short_and_empty_documents() {
    let texts = [
        "Hello world",    // 2 tokens < ngram: one shingle of all tokens
        "hello   WORLD",  // identical tokens: duplicate
        "hello world !",  // different token sequence: not a duplicate
        "",               // no tokens
        "  \n",           // no tokens: duplicate of the empty document
        "x1 x2 x3 x4 x5", // exactly ngram tokens
        "x1 x2 x3 x4 x5 x6",
    ];
    let result = near_dedup(&texts, &NearDedupParams::default()).unwrap();
    assert_eq!(result.kept, vec![0, 2, 3, 5, 6]);
    assert_eq!(removed_indices(&result), vec![1, 4]);
}

#[test]
fn results_do_not_depend_on_thread_count() {
    let mut texts = Vec::new();
    for i in 0..600 {
        let (original, copy) = pair_at(&format!("d{}", i % 400), 150 + i % 50);
        texts.push(original);
        texts.push(copy);
    }
    let inputs = refs(&texts);
    let params = NearDedupParams::default();
    let run = |threads| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(|| near_dedup(&inputs, &params).unwrap())
    };
    let single = run(1);
    assert_eq!(single, run(4));
    assert_eq!(single, near_dedup(&inputs, &params).unwrap());
    // Originals repeated from i = 400 on are exact duplicates and always go.
    assert!(single.removed_count() >= 200);
}

#[test]
fn rejects_invalid_parameters() {
    let bad = [
        NearDedupParams {
            threshold: 0.0,
            ..NearDedupParams::default()
        },
        NearDedupParams {
            threshold: f64::NAN,
            ..NearDedupParams::default()
        },
        NearDedupParams {
            ngram: 0,
            ..NearDedupParams::default()
        },
        NearDedupParams {
            num_perm: 0,
            ..NearDedupParams::default()
        },
        NearDedupParams {
            bands: Some(LshBands { bands: 20, rows: 7 }),
            ..NearDedupParams::default()
        },
    ];
    for params in bad {
        assert!(near_dedup(&["a"], &params).is_err(), "{params:?} accepted");
    }
    let err = NearDedup::new(NearDedupParams {
        bands: Some(LshBands { bands: 20, rows: 7 }),
        ..NearDedupParams::default()
    })
    .unwrap_err();
    assert!(err.to_string().contains("20 bands × 7 rows needs 140"));
}

#[test]
fn default_banding_is_datasketchs() {
    let dedup = NearDedup::new(NearDedupParams::default()).unwrap();
    assert_eq!(dedup.bands(), LshBands { bands: 9, rows: 13 });
    assert!(near_dedup(&[], &NearDedupParams::default())
        .unwrap()
        .kept
        .is_empty());
}
