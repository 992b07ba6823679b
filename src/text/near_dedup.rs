//! Near-duplicate dedup: MinHash over word n-gram shingles, LSH banding for candidate pairs,
//! confirmation by estimated Jaccard, clusters by union-find, first row of each cluster kept.
//!
//! The steps, for inputs `0..n`:
//! 1. Every input gets a [`MinHasher`] signature of its normalized text's shingles (in parallel
//!    over fixed chunks of inputs; each signature depends only on its own text).
//! 2. For each of the `bands` bands, inputs whose band slots are all equal fall in one bucket.
//! 3. Within a bucket, a pair not already in one cluster is confirmed when its estimated Jaccard
//!    similarity (over all `num_perm` slots) is **≥ `threshold`**; confirmed pairs are merged.
//! 4. Clusters are the connected components of confirmed pairs. Each keeps its lowest index;
//!    the others are removed, each reported with its estimated Jaccard to the kept input.
//!
//! Components do not depend on the order in which pairs are examined, and every sort has a total
//! order, so the result is identical for any thread count.

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::dedup_result::DedupResult;
use super::error::{check_unit_threshold, TextError};
use super::lsh_bands::LshBands;
use super::minhash::{estimate_jaccard, MinHasher};
use super::shingle::ShingleScratch;
use super::stable_hash::mix64;
use super::union_find::UnionFind;

/// Inputs per parallel work unit; fixed so the work split never depends on the thread count.
const CHUNK: usize = 512;

/// Parameters of near-duplicate dedup.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NearDedupParams {
    /// Shingle length in words (default 5).
    pub ngram: usize,
    /// MinHash permutations (default 128).
    pub num_perm: usize,
    /// Estimated Jaccard similarity at or above which a candidate pair is a duplicate (default
    /// 0.8), in (0, 1].
    pub threshold: f64,
    /// LSH banding; `None` (default) derives it from `threshold` and `num_perm` with
    /// [`LshBands::optimal`].
    pub bands: Option<LshBands>,
    /// Seed of the permutations (default 0).
    pub seed: u64,
}

impl Default for NearDedupParams {
    fn default() -> Self {
        Self {
            ngram: 5,
            num_perm: 128,
            threshold: 0.8,
            bands: None,
            seed: 0,
        }
    }
}

/// A validated near-dedup configuration, reusable across inputs.
#[derive(Debug, Clone)]
pub struct NearDedup {
    params: NearDedupParams,
    hasher: MinHasher,
    bands: LshBands,
}

impl NearDedup {
    /// Checks `params` and prepares the permutations and banding.
    pub fn new(params: NearDedupParams) -> Result<Self, TextError> {
        check_unit_threshold("threshold", params.threshold, false, true)?;
        let hasher = MinHasher::new(params.ngram, params.num_perm, params.seed)?;
        let bands = match params.bands {
            Some(bands) => bands,
            None => LshBands::optimal(params.threshold, params.num_perm)?,
        };
        bands.validate(params.num_perm)?;
        Ok(Self {
            params,
            hasher,
            bands,
        })
    }

    /// The parameters as given.
    pub fn params(&self) -> &NearDedupParams {
        &self.params
    }

    /// The banding in use (given or derived).
    pub fn bands(&self) -> LshBands {
        self.bands
    }

    /// Finds near-duplicate clusters in `texts`; see the module docs for the exact procedure.
    pub fn dedup(&self, texts: &[&str]) -> Result<DedupResult, TextError> {
        let max = u32::MAX as usize;
        if texts.len() > max {
            return Err(TextError::TooManyDocuments {
                count: texts.len(),
                max,
            });
        }
        let num_perm = self.hasher.num_perm();
        let signatures = self.signatures(texts);
        let signature = |i: u32| &signatures[i as usize * num_perm..][..num_perm];

        let mut clusters = UnionFind::new(texts.len());
        for band in 0..self.bands.bands {
            let slots = band * self.bands.rows..(band + 1) * self.bands.rows;
            let mut keyed: Vec<(u64, u32)> = (0..texts.len() as u32)
                .into_par_iter()
                .with_min_len(CHUNK)
                .map(|i| (band_key(&signature(i)[slots.clone()]), i))
                .collect();
            keyed.par_sort_unstable();
            for bucket in keyed.chunk_by(|a, b| a.0 == b.0).filter(|b| b.len() > 1) {
                for (j, &(_, later)) in bucket.iter().enumerate().skip(1) {
                    for &(_, earlier) in &bucket[..j] {
                        if clusters.find(earlier) != clusters.find(later)
                            && estimate_jaccard(signature(earlier), signature(later))
                                >= self.params.threshold
                        {
                            clusters.union(earlier, later);
                        }
                    }
                }
            }
        }
        let roots = clusters.roots();
        Ok(DedupResult::from_roots(&roots, |root, index| {
            estimate_jaccard(signature(root as u32), signature(index as u32))
        }))
    }

    /// All signatures, input after input, `num_perm` slots each.
    fn signatures(&self, texts: &[&str]) -> Vec<u32> {
        let num_perm = self.hasher.num_perm();
        let mut signatures = vec![0u32; texts.len() * num_perm];
        signatures
            .par_chunks_mut(CHUNK * num_perm)
            .zip(texts.par_chunks(CHUNK))
            .for_each(|(out, chunk)| {
                let mut scratch = ShingleScratch::default();
                for (text, slot) in chunk.iter().zip(out.chunks_mut(num_perm)) {
                    self.hasher.signature_into(text, &mut scratch, slot);
                }
            });
        signatures
    }
}

/// Near-duplicate dedup of `texts` with `params`; see [`NearDedup`].
pub fn near_dedup(texts: &[&str], params: &NearDedupParams) -> Result<DedupResult, TextError> {
    NearDedup::new(params.clone())?.dedup(texts)
}

/// The bucket key of one band's slots. Distinct bands may collide; confirmation by Jaccard makes a
/// collision cost only a comparison.
fn band_key(slots: &[u32]) -> u64 {
    let mut h = 0x243f_6a88_85a3_08d3_u64;
    for &s in slots {
        h = (h.rotate_left(23) ^ u64::from(s)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }
    mix64(h)
}

#[cfg(test)]
#[path = "near_dedup_tests.rs"]
mod tests;
