//! MinHash signatures of shingle sets.
//!
//! Each shingle's 64-bit hash is cut to its top 32 bits `x`. Slot `i` of the `num_perm` slots
//! applies a permutation of the 32-bit space, `πᵢ(x) = g(aᵢ·x + bᵢ mod 2³²)` with `aᵢ` odd (so
//! the affine map is a bijection) and `g(h) = (h ⊕ (h ≫ 16))·0x7feb352d mod 2³²` a fixed
//! non-linear bijection that breaks the affine structure, and keeps the minimum over the
//! document's shingles. The `(aᵢ, bᵢ)` come from a ChaCha8 RNG seeded with `seed`, so signatures
//! are reproducible everywhere. The fraction of equal slots between two signatures estimates the
//! Jaccard similarity of the shingle sets, with standard deviation `√(J(1−J)/num_perm)`.
//!
//! All arithmetic is on 32-bit lanes so the hot loop vectorizes; on x86-64 with AVX2 the same
//! code is compiled a second time for AVX2 and chosen at run time. Integer arithmetic makes both
//! versions give identical signatures.
//!
//! A document without shingles (no tokens at all) gets every slot at `u32::MAX`, so all such
//! documents have estimated similarity 1 with each other — they are all the empty text — and
//! practically 0 with any other document.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::error::TextError;
use super::shingle::{shingle_hashes, ShingleScratch};

/// The largest accepted `num_perm`.
pub const MAX_NUM_PERM: usize = 8192;

/// Computes MinHash signatures over word n-gram shingles of normalized text.
#[derive(Debug, Clone)]
pub struct MinHasher {
    ngram: usize,
    multipliers: Vec<u32>,
    offsets: Vec<u32>,
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
            multipliers.push(rng.random::<u32>() | 1);
            offsets.push(rng.random::<u32>());
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

    /// The signature of `text` (normalized with
    /// [`normalize_for_dedup`](super::normalize_for_dedup) first).
    pub fn signature(&self, text: &str) -> Vec<u32> {
        let mut scratch = ShingleScratch::default();
        let mut out = vec![0; self.num_perm()];
        self.signature_into(text, &mut scratch, &mut out);
        out
    }

    /// Writes the signature of `text` into `out` (length `num_perm`), reusing `scratch`.
    pub(crate) fn signature_into(&self, text: &str, scratch: &mut ShingleScratch, out: &mut [u32]) {
        shingle_hashes(text, self.ngram, scratch);
        out.fill(u32::MAX);
        update_minima(&scratch.shingles, &self.multipliers, &self.offsets, out);
    }
}

fn update_minima(shingles: &[u64], multipliers: &[u32], offsets: &[u32], minima: &mut [u32]) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU supports AVX2, checked just above.
        unsafe { update_minima_avx2(shingles, multipliers, offsets, minima) };
        return;
    }
    update_minima_portable(shingles, multipliers, offsets, minima);
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn update_minima_avx2(shingles: &[u64], multipliers: &[u32], offsets: &[u32], minima: &mut [u32]) {
    update_minima_portable(shingles, multipliers, offsets, minima);
}

#[inline(always)]
fn update_minima_portable(
    shingles: &[u64],
    multipliers: &[u32],
    offsets: &[u32],
    minima: &mut [u32],
) {
    for &shingle in shingles {
        let x = (shingle >> 32) as u32;
        for ((minimum, &a), &b) in minima.iter_mut().zip(multipliers).zip(offsets) {
            let h = a.wrapping_mul(x).wrapping_add(b);
            let h = (h ^ (h >> 16)).wrapping_mul(0x7feb_352d);
            *minimum = (*minimum).min(h);
        }
    }
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
    fn vectorized_and_portable_loops_agree() {
        let hasher = MinHasher::new(5, 100, 5).unwrap();
        let shingles: Vec<u64> = (0..77u64).map(crate::text::stable_hash::mix64).collect();
        let mut portable = vec![u32::MAX; 100];
        update_minima_portable(
            &shingles,
            &hasher.multipliers,
            &hasher.offsets,
            &mut portable,
        );
        let mut dispatched = vec![u32::MAX; 100];
        update_minima(
            &shingles,
            &hasher.multipliers,
            &hasher.offsets,
            &mut dispatched,
        );
        assert_eq!(portable, dispatched);
        assert!(portable.iter().all(|&m| m < u32::MAX));
    }

    #[test]
    fn estimates_are_unbiased_over_many_pairs() {
        // 200 independent pairs at J = 0.5 with 128 permutations: the mean estimate has standard
        // deviation √(0.25/128/200) ≈ 0.0031.
        let hasher = MinHasher::new(5, 128, 9).unwrap();
        let mut total = 0.0;
        for pair in 0..200 {
            let words = distinct_words(&format!("p{pair}w"), 204);
            let a = hasher.signature(&words.join(" "));
            let b = hasher.signature(&words[..104].join(" "));
            total += estimate_jaccard(&a, &b);
        }
        let mean = total / 200.0;
        assert!((mean - 0.5).abs() < 0.0125, "mean estimate {mean}");
    }

    #[test]
    fn estimate_jaccard_edge_cases() {
        assert_eq!(estimate_jaccard(&[], &[]), 0.0);
        assert_eq!(estimate_jaccard(&[1, 2, 3, 4], &[1, 2, 0, 0]), 0.5);
    }
}
