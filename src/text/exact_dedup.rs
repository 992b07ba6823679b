//! Exact deduplication: inputs whose [`normalize_for_dedup`] forms are equal are duplicates; the
//! first in input order is kept.

use std::collections::HashMap;

use rayon::prelude::*;

use super::dedup_result::DedupResult;
use super::normalize::normalize_for_dedup;

/// Inputs per parallel work unit; fixed so the work split never depends on the thread count.
const CHUNK: usize = 1024;

/// Removes exact duplicates after normalization. Every removed input reports Jaccard 1.0.
///
/// Compares the normalized texts themselves (not hashes of them), so no two different texts are
/// ever merged; memory is about the size of the normalized input.
pub fn exact_dedup(texts: &[&str]) -> DedupResult {
    let normalized: Vec<String> = texts
        .par_chunks(CHUNK)
        .flat_map_iter(|chunk| chunk.iter().map(|t| normalize_for_dedup(t)))
        .collect();
    let mut first_seen: HashMap<&str, usize> = HashMap::with_capacity(normalized.len());
    let roots: Vec<usize> = normalized
        .iter()
        .enumerate()
        .map(|(i, n)| *first_seen.entry(n.as_str()).or_insert(i))
        .collect();
    DedupResult::from_roots(&roots, |_, _| 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_first_of_each_normalized_text() {
        let texts = [
            "Hello  World",
            "something else",
            "hello world",
            "HELLO\nWORLD ",
            "Something else!",
            "",
            " \t ",
        ];
        let result = exact_dedup(&texts);
        assert_eq!(result.kept, vec![0, 1, 4, 5]);
        assert_eq!(result.clusters.len(), 2);
        assert_eq!(result.clusters[0].kept, 0);
        let removed: Vec<_> = result.clusters[0].removed.iter().map(|r| r.index).collect();
        assert_eq!(removed, vec![2, 3]);
        assert!(result.clusters[0].removed.iter().all(|r| r.jaccard == 1.0));
        // Empty and blank inputs normalize to the same empty text.
        assert_eq!(result.clusters[1].kept, 5);
        assert_eq!(result.clusters[1].removed[0].index, 6);
    }

    #[test]
    fn no_input_no_output() {
        let result = exact_dedup(&[]);
        assert!(result.kept.is_empty() && result.clusters.is_empty());
    }

    #[test]
    fn result_independent_of_thread_count() {
        let texts: Vec<String> = (0..5000).map(|i| format!("Doc {}", i % 1234)).collect();
        let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
        let one = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .unwrap()
            .install(|| exact_dedup(&refs));
        let many = rayon::ThreadPoolBuilder::new()
            .num_threads(3)
            .build()
            .unwrap()
            .install(|| exact_dedup(&refs));
        assert_eq!(one, many);
        assert_eq!(one.kept, (0..1234).collect::<Vec<_>>());
    }
}
