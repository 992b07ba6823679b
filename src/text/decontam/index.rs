//! The n-gram index over the eval side: every n-gram of every eval instance, keyed by hash, with
//! the instance's lowercased tokens kept so that each hash hit can be confirmed token by token.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::tokenize::{lowercase, tokenize_into};
use crate::text::error::TextError;
use crate::text::stable_hash::{hash_token_sequence, PassThroughBuild};

/// One named eval set: the texts to protect (e.g. GSM8K's test questions).
#[derive(Debug, Clone, Copy)]
pub struct EvalSet<'a> {
    /// The name used in reports, unique within an index.
    pub name: &'a str,
    /// One text per eval instance.
    pub texts: &'a [&'a str],
}

/// What to do with an eval instance that has fewer tokens than `ngram` (it has no n-gram).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ShortEvalPolicy {
    /// The reference behaviour (open-instruct builds no n-gram from it, so its match score is 0):
    /// such an instance is never contaminated. Reports count these instances so the blind spot
    /// is visible.
    #[default]
    Ignore,
    /// Treat the whole instance as its one n-gram: it is contaminated (matched fraction 1) by any
    /// training instance that contains its full token sequence contiguously. Instances with no
    /// tokens at all are still never contaminated.
    WholeSequence,
}

/// How the index is built.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DecontamOptions {
    /// N-gram length in tokens (default 8).
    pub ngram: usize,
    /// Handling of eval instances shorter than `ngram` (default [`ShortEvalPolicy::Ignore`]).
    pub short_eval: ShortEvalPolicy,
}

impl Default for DecontamOptions {
    fn default() -> Self {
        Self {
            ngram: 8,
            short_eval: ShortEvalPolicy::Ignore,
        }
    }
}

/// An eval set as indexed.
#[derive(Debug, Clone)]
pub(crate) struct IndexedEvalSet {
    pub(crate) name: String,
    /// Global id of its first instance; its instances are consecutive.
    pub(crate) first_instance: u32,
    pub(crate) len: usize,
    /// Instances with at least one but fewer than `ngram` tokens.
    pub(crate) short_count: usize,
    /// Instances without tokens.
    pub(crate) empty_count: usize,
}

/// An eval instance as indexed.
#[derive(Debug, Clone, Copy)]
pub(crate) struct IndexedInstance {
    pub(crate) set: u32,
    /// First token in `DecontamIndex::token_spans`.
    pub(crate) token_start: u32,
    pub(crate) token_len: u32,
}

/// Where a key occurs: the instance and the token position its n-gram starts at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Posting {
    pub(crate) instance: u32,
    pub(crate) position: u32,
}

/// A hash table from sequence hash to the postings that share it, behind a one-bit-per-key
/// filter: almost every training window has no match, and the filter (about 32 bits per key,
/// small enough to stay in cache) rejects ~97% of those with one memory access instead of a
/// hash-table probe.
#[derive(Debug)]
pub(crate) struct PostingTable {
    filter: Vec<u64>,
    /// `filter.len() * 64 - 1`; the filter length is a power of two.
    filter_mask: u64,
    ranges: HashMap<u64, (u32, u32), PassThroughBuild>,
    postings: Vec<Posting>,
}

/// Filter bits per distinct key, rounded up to a power of two in total.
const FILTER_BITS_PER_KEY: usize = 32;
/// The filter never exceeds 2²⁶ bits (8 MiB).
const MAX_FILTER_BITS: usize = 1 << 26;

impl Default for PostingTable {
    fn default() -> Self {
        Self::from_entries(Vec::new())
    }
}

impl PostingTable {
    pub(crate) fn from_entries(mut entries: Vec<(u64, Posting)>) -> Self {
        entries.sort_unstable();
        let mut ranges =
            HashMap::with_capacity_and_hasher(entries.len(), PassThroughBuild::default());
        let mut postings = Vec::with_capacity(entries.len());
        for group in entries.chunk_by(|a, b| a.0 == b.0) {
            let start = postings.len() as u32;
            postings.extend(group.iter().map(|&(_, posting)| posting));
            ranges.insert(group[0].0, (start, group.len() as u32));
        }
        let filter_bits = (ranges.len().saturating_mul(FILTER_BITS_PER_KEY))
            .clamp(64, MAX_FILTER_BITS)
            .next_power_of_two();
        let mut table = Self {
            filter: vec![0; filter_bits / 64],
            filter_mask: filter_bits as u64 - 1,
            ranges,
            postings,
        };
        let keys: Vec<u64> = table.ranges.keys().copied().collect();
        for key in keys {
            let bit = table.filter_bit(key);
            table.filter[(bit / 64) as usize] |= 1 << (bit % 64);
        }
        table
    }

    /// The filter bit of `key`, taken from bits the hash table does not use for its buckets.
    #[inline]
    fn filter_bit(&self, key: u64) -> u64 {
        key.rotate_right(32) & self.filter_mask
    }

    #[inline]
    pub(crate) fn get(&self, key: u64) -> &[Posting] {
        let bit = self.filter_bit(key);
        if self.filter[(bit / 64) as usize] & (1 << (bit % 64)) == 0 {
            return &[];
        }
        match self.ranges.get(&key) {
            Some(&(start, len)) => &self.postings[start as usize..][..len as usize],
            None => &[],
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.postings.is_empty()
    }
}

/// The eval side of decontamination, built once and scanned against any number of training
/// sources with [`DecontamIndex::scan`].
#[derive(Debug)]
pub struct DecontamIndex {
    pub(crate) options: DecontamOptions,
    pub(crate) sets: Vec<IndexedEvalSet>,
    pub(crate) instances: Vec<IndexedInstance>,
    /// Every eval token lowercased, back to back; `token_spans` index into it.
    pub(crate) arena: String,
    pub(crate) token_spans: Vec<(u32, u32)>,
    /// Keys of all `ngram`-token windows.
    pub(crate) ngrams: PostingTable,
    /// Under [`ShortEvalPolicy::WholeSequence`], keys of whole short instances (position 0).
    pub(crate) short_sequences: PostingTable,
    /// The distinct token counts of the instances in `short_sequences`, ascending.
    pub(crate) short_lengths: Vec<usize>,
}

impl DecontamIndex {
    /// Indexes `eval_sets`. Names must be unique and every set non-empty.
    pub fn build(eval_sets: &[EvalSet<'_>], options: DecontamOptions) -> Result<Self, TextError> {
        let ngram = options.ngram;
        if ngram == 0 {
            return Err(TextError::InvalidNgram { ngram });
        }
        if eval_sets.is_empty() {
            return Err(TextError::NoEvalSets);
        }
        for (i, set) in eval_sets.iter().enumerate() {
            if eval_sets[..i]
                .iter()
                .any(|earlier| earlier.name == set.name)
            {
                return Err(TextError::DuplicateEvalSet {
                    name: set.name.to_string(),
                });
            }
            if set.texts.is_empty() {
                return Err(TextError::EmptyEvalSet {
                    name: set.name.to_string(),
                });
            }
        }

        let too_large = || TextError::EvalTooLarge {
            max: u32::MAX as usize,
        };
        let mut index = Self {
            options,
            sets: Vec::with_capacity(eval_sets.len()),
            instances: Vec::new(),
            arena: String::new(),
            token_spans: Vec::new(),
            ngrams: PostingTable::default(),
            short_sequences: PostingTable::default(),
            short_lengths: Vec::new(),
        };
        let mut ngram_entries = Vec::new();
        let mut short_entries = Vec::new();
        let mut spans = Vec::new();
        let mut hashes = Vec::new();
        for (set_id, set) in eval_sets.iter().enumerate() {
            let mut indexed = IndexedEvalSet {
                name: set.name.to_string(),
                first_instance: u32::try_from(index.instances.len()).map_err(|_| too_large())?,
                len: set.texts.len(),
                short_count: 0,
                empty_count: 0,
            };
            for text in set.texts {
                let instance = u32::try_from(index.instances.len()).map_err(|_| too_large())?;
                tokenize_into(text, &mut spans, &mut hashes);
                let token_start =
                    u32::try_from(index.token_spans.len()).map_err(|_| too_large())?;
                let token_len = u32::try_from(spans.len()).map_err(|_| too_large())?;
                for &(start, end) in &spans {
                    let lowered_start = index.arena.len();
                    index.arena.push_str(&lowercase(&text[start..end]));
                    let lowered_end = index.arena.len();
                    let span = u32::try_from(lowered_start)
                        .and_then(|s| Ok((s, u32::try_from(lowered_end)?)))
                        .map_err(|_| too_large())?;
                    index.token_spans.push(span);
                }
                index.instances.push(IndexedInstance {
                    set: set_id as u32,
                    token_start,
                    token_len,
                });
                if hashes.is_empty() {
                    indexed.empty_count += 1;
                } else if hashes.len() < ngram {
                    indexed.short_count += 1;
                    if options.short_eval == ShortEvalPolicy::WholeSequence {
                        let posting = Posting {
                            instance,
                            position: 0,
                        };
                        short_entries.push((hash_token_sequence(&hashes), posting));
                        index.short_lengths.push(hashes.len());
                    }
                } else {
                    for (position, window) in hashes.windows(ngram).enumerate() {
                        let posting = Posting {
                            instance,
                            position: position as u32,
                        };
                        ngram_entries.push((hash_token_sequence(window), posting));
                    }
                }
            }
            index.sets.push(indexed);
        }
        index.short_lengths.sort_unstable();
        index.short_lengths.dedup();
        index.ngrams = PostingTable::from_entries(ngram_entries);
        index.short_sequences = PostingTable::from_entries(short_entries);
        Ok(index)
    }

    /// The options the index was built with.
    pub fn options(&self) -> DecontamOptions {
        self.options
    }

    /// The eval set names, in the order given to [`DecontamIndex::build`].
    pub fn eval_set_names(&self) -> Vec<String> {
        self.sets.iter().map(|s| s.name.clone()).collect()
    }

    /// The `offset`-th lowercased token of `instance`.
    pub(crate) fn instance_token(&self, instance: IndexedInstance, offset: usize) -> &str {
        let (start, end) = self.token_spans[instance.token_start as usize + offset];
        &self.arena[start as usize..end as usize]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_bad_input() {
        let texts = ["a b c"];
        let set = EvalSet {
            name: "x",
            texts: &texts,
        };
        assert_eq!(
            DecontamIndex::build(&[], DecontamOptions::default()).unwrap_err(),
            TextError::NoEvalSets
        );
        assert!(matches!(
            DecontamIndex::build(&[set, set], DecontamOptions::default()),
            Err(TextError::DuplicateEvalSet { .. })
        ));
        let empty = EvalSet {
            name: "empty",
            texts: &[],
        };
        let err = DecontamIndex::build(&[set, empty], DecontamOptions::default()).unwrap_err();
        assert!(err.to_string().contains("`empty` has no instances"));
        let zero = DecontamOptions {
            ngram: 0,
            ..DecontamOptions::default()
        };
        assert!(matches!(
            DecontamIndex::build(&[set], zero),
            Err(TextError::InvalidNgram { .. })
        ));
    }

    #[test]
    fn indexes_every_window_and_counts_short_instances() {
        let first = ["one two three four", "Five six"];
        let second = ["", "seven eight nine"];
        let options = DecontamOptions {
            ngram: 3,
            short_eval: ShortEvalPolicy::WholeSequence,
        };
        let index = DecontamIndex::build(
            &[
                EvalSet {
                    name: "first",
                    texts: &first,
                },
                EvalSet {
                    name: "second",
                    texts: &second,
                },
            ],
            options,
        )
        .unwrap();
        assert_eq!(index.eval_set_names(), vec!["first", "second"]);
        assert_eq!(index.instances.len(), 4);
        assert_eq!(index.ngrams.postings.len(), 2 + 1);
        assert_eq!(index.sets[0].short_count, 1);
        assert_eq!(index.sets[1].empty_count, 1);
        assert_eq!(index.short_lengths, vec![2]);
        assert_eq!(index.instance_token(index.instances[1], 0), "five");
        assert_eq!(index.sets[1].first_instance, 2);
    }
}
