//! MinHash signatures of shingle sets.
//!
//! Each of the `num_perm` slots applies a random permutation of the 64-bit shingle-hash space,
//! `x ↦ a·x + b (mod 2⁶⁴)` with `a` odd (odd `a` makes the map a bijection), and keeps the minimum
//! over the document's shingles; the slot stores the top 32 bits of that minimum. The `(a, b)`
//! pairs come from a ChaCha8 RNG seeded with `seed`, so signatures are reproducible everywhere.
//! The fraction of equal slots between two signatures estimates the Jaccard similarity of the
//! shingle sets, with standard deviation `√(J(1−J)/num_perm)`.
//!
//! A document without shingles (no tokens at all) gets every slot at `u32::MAX`, so all such
//! documents have estimated similarity 1 with each other — they are all the empty text — and
//! practically 0 with any other document.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::error::TextError;
use super::normalize::normalize_for_dedup;
use super::shingle::shingle_hashes;

/// The largest accepted `num_perm`.
pub const MAX_NUM_PERM: usize = 8192;

/// Computes MinHash signatures over word n-gram shingles of normalized text.
#[derive(Debug, Clone)]
pub struct MinHasher {
    ngram: usize,
    multipliers: Vec<u64>,
    offsets: Vec<u64>,
}

impl MinHasher {
    /// A hasher with `num_perm` permutations drawn from `seed`, over word `ngram`-shingles.
    pub fn new(ngram: usize, num_perm: usize, seed: u64) -> Result<Self, TextError> {
        if ngram == 0 {
            return Err(TextError::InvalidNgram { ngram });
        }
        if num_perm == 0 || num_perm > MAX_NUM_PERM {
            return Err(TextError::InvalidNumPerm {
                num_perm,
                max: MAX_NUM_PERM,
            });
        }
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut multipliers = Vec::with_capacity(num_perm);
        let mut offsets = Vec::with_capacity(num_perm);
        for _ in 0..num_perm {
            multipliers.push(rng.random::<u64>() | 1);
            offsets.push(rng.random::<u64>());
        }
        Ok(Self {
            ngram,
            multipliers,
            offsets,
        })
    }

    /// Slots per signature.
    pub fn num_perm(&self) -> usize {
        self.multipliers.len()
    }

    /// Shingle length in words.
    pub fn ngram(&self) -> usize {
        self.ngram
    }

    /// The signature of `text` (normalized with [`normalize_for_dedup`] first).
    pub fn signature(&self, text: &str) -> Vec<u32> {
        let mut scratch = SignatureScratch::default();
        let mut out = vec![0; self.num_perm()];
        self.signature_into(text, &mut scratch, &mut out);
        out
    }

    /// Writes the signature of `text` into `out` (length `num_perm`), reusing `scratch`.
    pub(crate) fn signature_into(
        &self,
        text: &str,
        scratch: &mut SignatureScratch,
        out: &mut [u32],
    ) {
        let normalized = normalize_for_dedup(text);
        shingle_hashes(
            &normalized,
            self.ngram,
            &mut scratch.token_hashes,
            &mut scratch.shingles,
        );
        scratch.minima.clear();
        scratch.minima.resize(self.num_perm(), u64::MAX);
        for &shingle in &scratch.shingles {
            for ((minimum, &a), &b) in scratch
                .minima
                .iter_mut()
                .zip(&self.multipliers)
                .zip(&self.offsets)
            {
                *minimum = (*minimum).min(a.wrapping_mul(shingle).wrapping_add(b));
            }
        }
        for (slot, &minimum) in out.iter_mut().zip(&scratch.minima) {
            *slot = (minimum >> 32) as u32;
        }
    }
}

/// Buffers reused across signatures on one thread.
#[derive(Default)]
pub(crate) struct SignatureScratch {
    token_hashes: Vec<u64>,
    shingles: Vec<u64>,
    minima: Vec<u64>,
}

/// The fraction of equal slots: the MinHash estimate of Jaccard similarity. Signatures of
/// different lengths compare over the shorter length; two empty signatures give 0.
pub fn estimate_jaccard(a: &[u32], b: &[u32]) -> f64 {
    let len = a.len().min(b.len());
    if len == 0 {
        return 0.0;
    }
    let equal = a.iter().zip(b).filter(|(x, y)| x == y).count();
    equal as f64 / len as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `n` distinct words, so every shingle of the document is distinct.
    fn distinct_words(prefix: &str, n: usize) -> Vec<String> {
        (0..n).map(|i| format!("{prefix}{i}")).collect()
    }

    #[test]
    fn rejects_bad_parameters() {
        assert!(matches!(
            MinHasher::new(0, 128, 1),
            Err(TextError::InvalidNgram { .. })
        ));
        assert!(matches!(
            MinHasher::new(5, 0, 1),
            Err(TextError::InvalidNumPerm { .. })
        ));
        assert!(MinHasher::new(5, MAX_NUM_PERM + 1, 1).is_err());
    }

    #[test]
    fn identical_after_normalization_means_identical_signature() {
        let hasher = MinHasher::new(5, 64, 7).unwrap();
        let a = hasher.signature("The quick brown fox jumps over the lazy dog.");
        let b = hasher.signature("the QUICK brown fox  jumps over the lazy dog .");
        assert_eq!(a, b);
        assert_eq!(estimate_jaccard(&a, &b), 1.0);
    }

    #[test]
    fn seed_decides_permutations() {
        let text = "one two three four five six seven";
        let a = MinHasher::new(5, 32, 1).unwrap().signature(text);
        let b = MinHasher::new(5, 32, 1).unwrap().signature(text);
        let c = MinHasher::new(5, 32, 2).unwrap().signature(text);
        assert_eq!(a, b);
        assert_ne!(a, c);
    }

    #[test]
    fn empty_documents_match_each_other_only() {
        let hasher = MinHasher::new(5, 64, 7).unwrap();
        let empty = hasher.signature("");
        assert!(empty.iter().all(|&s| s == u32::MAX));
        assert_eq!(estimate_jaccard(&empty, &hasher.signature(" \n ")), 1.0);
        assert!(estimate_jaccard(&empty, &hasher.signature("word")) < 0.05);
    }

    #[test]
    fn estimate_tracks_true_jaccard() {
        // Document A has 200 distinct shingles; B is A's first k+4 words, so its shingles are a
        // subset of A's and J = (k)/(200) exactly.
        let hasher = MinHasher::new(5, 1024, 11).unwrap();
        let words = distinct_words("w", 204);
        let a = hasher.signature(&words.join(" "));
        for (shared, expected) in [(180, 0.9), (150, 0.75), (100, 0.5), (40, 0.2)] {
            let b = hasher.signature(&words[..shared + 4].join(" "));
            let estimate = estimate_jaccard(&a, &b);
            let sd = (expected * (1.0 - expected) / 1024.0_f64).sqrt();
            assert!(
                (estimate - expected).abs() < 4.0 * sd,
                "J={expected}: estimate {estimate}"
            );
        }
    }

    #[test]
    fn estimate_jaccard_edge_cases() {
        assert_eq!(estimate_jaccard(&[], &[]), 0.0);
        assert_eq!(estimate_jaccard(&[1, 2, 3, 4], &[1, 2, 0, 0]), 0.5);
    }
}
