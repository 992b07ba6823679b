//! Scanning training instances against a [`DecontamIndex`]: the Tülu 3 matched-token rule.
//!
//! For one training instance and one eval instance, an eval token is *matched* when it lies
//! inside some `ngram`-token window of the eval instance whose tokens also occur, contiguously and
//! in order, in the training instance. The eval instance is contaminated by the training instance
//! when `matched tokens / eval tokens` is **strictly greater** than `threshold`. Every training
//! instance is checked against every eval instance (no top-k cut-off as a search engine would
//! apply). A hash hit is a candidate only: the tokens themselves are compared before a window
//! counts, so hash collisions cannot create matches.

use rayon::prelude::*;

use super::index::{DecontamIndex, Posting, PostingTable};
use super::scan_result::{ContaminationMatch, EvalSetContamination, ScanResult};
use super::tokenize::{lowercase_equals, tokenize_into};
use crate::text::error::{check_unit_threshold, TextError};
use crate::text::stable_hash::hash_token_sequence;

/// Training instances per parallel work unit; fixed so the split never depends on thread count.
const CHUNK: usize = 256;

/// A confirmed shared window: eval instance, start position, length in tokens.
type Hit = (u32, u32, u32);

#[derive(Default)]
struct ScanScratch {
    spans: Vec<(usize, usize)>,
    hashes: Vec<u64>,
    hits: Vec<Hit>,
}

impl DecontamIndex {
    /// Finds, for every training text, the eval instances it contaminates at `threshold` (in
    /// [0, 1); Tülu 3 uses 0.5), and per eval set the instances contaminated by any of them.
    pub fn scan(&self, train_texts: &[&str], threshold: f64) -> Result<ScanResult, TextError> {
        check_unit_threshold("threshold", threshold, true, false)?;
        let per_chunk: Vec<Vec<ContaminationMatch>> = train_texts
            .par_chunks(CHUNK)
            .enumerate()
            .map(|(chunk_index, chunk)| {
                let mut scratch = ScanScratch::default();
                let mut matches = Vec::new();
                for (offset, text) in chunk.iter().enumerate() {
                    let train_index = chunk_index * CHUNK + offset;
                    self.scan_one(text, train_index, threshold, &mut scratch, &mut matches);
                }
                matches
            })
            .collect();
        let matches: Vec<ContaminationMatch> = per_chunk.into_iter().flatten().collect();

        let mut eval_sets: Vec<EvalSetContamination> = self
            .sets
            .iter()
            .map(|set| EvalSetContamination {
                name: set.name.clone(),
                instances: set.len,
                short_instances: set.short_count,
                empty_instances: set.empty_count,
                contaminated: Vec::new(),
            })
            .collect();
        for m in &matches {
            eval_sets[m.eval_set].contaminated.push(m.eval_index);
        }
        for set in &mut eval_sets {
            set.contaminated.sort_unstable();
            set.contaminated.dedup();
        }
        Ok(ScanResult {
            train_count: train_texts.len(),
            ngram: self.options.ngram,
            threshold,
            matches,
            eval_sets,
        })
    }

    fn scan_one(
        &self,
        text: &str,
        train_index: usize,
        threshold: f64,
        scratch: &mut ScanScratch,
        out: &mut Vec<ContaminationMatch>,
    ) {
        tokenize_into(text, &mut scratch.spans, &mut scratch.hashes);
        scratch.hits.clear();
        self.collect_hits(text, self.options.ngram, &self.ngrams, scratch);
        for &length in &self.short_lengths {
            self.collect_hits(text, length, &self.short_sequences, scratch);
        }
        if scratch.hits.is_empty() {
            return;
        }
        scratch.hits.sort_unstable();
        scratch.hits.dedup();
        for group in scratch.hits.chunk_by(|a, b| a.0 == b.0) {
            let instance = self.instances[group[0].0 as usize];
            let matched = covered_tokens(group);
            let matched_fraction = matched as f64 / f64::from(instance.token_len);
            if matched_fraction > threshold {
                let set = &self.sets[instance.set as usize];
                out.push(ContaminationMatch {
                    train_index,
                    eval_set: instance.set as usize,
                    eval_index: (group[0].0 - set.first_instance) as usize,
                    matched_fraction,
                });
            }
        }
    }

    /// Adds every confirmed `length`-token window of the training text found in `table`.
    fn collect_hits(
        &self,
        text: &str,
        length: usize,
        table: &PostingTable,
        scratch: &mut ScanScratch,
    ) {
        if table.is_empty() || scratch.hashes.len() < length {
            return;
        }
        for (start, window) in scratch.hashes.windows(length).enumerate() {
            for &posting in table.get(hash_token_sequence(window)) {
                if self.window_equals(text, &scratch.spans[start..start + length], posting) {
                    scratch
                        .hits
                        .push((posting.instance, posting.position, length as u32));
                }
            }
        }
    }

    /// Whether the training tokens at `train_spans` equal the eval tokens at `posting`.
    fn window_equals(&self, text: &str, train_spans: &[(usize, usize)], posting: Posting) -> bool {
        let instance = self.instances[posting.instance as usize];
        train_spans.iter().enumerate().all(|(k, &(start, end))| {
            let eval_token = self.instance_token(instance, posting.position as usize + k);
            lowercase_equals(&text[start..end], eval_token)
        })
    }
}

/// Tokens of one eval instance covered by its hits (sorted by position), overlaps counted once.
fn covered_tokens(hits: &[Hit]) -> u32 {
    let mut covered = 0;
    let mut reached = 0;
    for &(_, position, length) in hits {
        let end = position + length;
        covered += end.saturating_sub(position.max(reached));
        reached = reached.max(end);
    }
    covered
}

#[cfg(test)]
#[path = "scan_tests.rs"]
mod tests;
