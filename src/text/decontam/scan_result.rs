//! What a decontamination scan found: the contaminating training instances and, per eval set, how
//! much of it is contaminated.

use serde::{Deserialize, Serialize};

use crate::text::error::TextError;

/// One training instance contaminating one eval instance.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ContaminationMatch {
    /// Index of the training instance in the scanned input.
    pub train_index: usize,
    /// Index of the eval set in the index's order.
    pub eval_set: usize,
    /// Index of the eval instance within its set.
    pub eval_index: usize,
    /// Fraction of the eval instance's tokens lying in n-grams shared with the training instance;
    /// greater than the scan threshold.
    pub matched_fraction: f64,
}

/// Contamination of one eval set by the scanned training instances.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvalSetContamination {
    /// The eval set's name.
    pub name: String,
    /// Its number of instances.
    pub instances: usize,
    /// Instances with at least one but fewer than `ngram` tokens: under
    /// [`ShortEvalPolicy::Ignore`](super::ShortEvalPolicy::Ignore) these can never be contaminated.
    pub short_instances: usize,
    /// Instances with no token at all; never contaminated.
    pub empty_instances: usize,
    /// Indices (within the set) of the instances contaminated by at least one training instance,
    /// ascending.
    pub contaminated: Vec<usize>,
}

impl EvalSetContamination {
    /// Contaminated instances over all instances (short and empty ones included, as in the
    /// reference).
    pub fn contaminated_fraction(&self) -> f64 {
        if self.instances == 0 {
            return 0.0;
        }
        self.contaminated.len() as f64 / self.instances as f64
    }
}

/// The outcome of [`DecontamIndex::scan`](super::DecontamIndex::scan).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScanResult {
    /// Number of training instances scanned.
    pub train_count: usize,
    /// N-gram length of the index.
    pub ngram: usize,
    /// The matched-fraction threshold of the scan.
    pub threshold: f64,
    /// Every contaminating (training, eval) pair, ascending by training index, then eval set, then
    /// eval index.
    pub matches: Vec<ContaminationMatch>,
    /// One entry per eval set, in the index's order.
    pub eval_sets: Vec<EvalSetContamination>,
}

impl ScanResult {
    /// The training instances that contaminate at least one eval instance, ascending.
    pub fn contaminated_train_indices(&self) -> Vec<usize> {
        let mut indices: Vec<usize> = self.matches.iter().map(|m| m.train_index).collect();
        indices.dedup();
        indices
    }

    /// `true` for each training instance that contaminates nothing: the rows to keep.
    pub fn clean_train_mask(&self) -> Vec<bool> {
        let mut mask = vec![true; self.train_count];
        for m in &self.matches {
            if let Some(slot) = mask.get_mut(m.train_index) {
                *slot = false;
            }
        }
        mask
    }

    /// The matches of training instance `train_index`.
    pub fn matches_for(&self, train_index: usize) -> &[ContaminationMatch] {
        let start = self
            .matches
            .partition_point(|m| m.train_index < train_index);
        let end = self
            .matches
            .partition_point(|m| m.train_index <= train_index);
        &self.matches[start..end]
    }

    /// The contamination of the eval set named `name`.
    pub fn eval_set(&self, name: &str) -> Option<&EvalSetContamination> {
        self.eval_sets.iter().find(|s| s.name == name)
    }

    /// Combines the scans of consecutive parts of one training source: `next`'s training indices
    /// are shifted by `self.train_count`, and eval instances contaminated in either count.
    pub fn merge(mut self, next: ScanResult) -> Result<ScanResult, TextError> {
        let names = |r: &ScanResult| r.eval_sets.iter().map(|s| s.name.clone()).collect();
        let (left, right): (Vec<String>, Vec<String>) = (names(&self), names(&next));
        let reason = if left != right {
            Some(format!("eval sets differ ({left:?} vs {right:?})"))
        } else if self.ngram != next.ngram {
            Some(format!(
                "n-gram lengths differ ({} vs {})",
                self.ngram, next.ngram
            ))
        } else if self.threshold.to_bits() != next.threshold.to_bits() {
            Some(format!(
                "thresholds differ ({} vs {})",
                self.threshold, next.threshold
            ))
        } else if self
            .eval_sets
            .iter()
            .zip(&next.eval_sets)
            .any(|(a, b)| a.instances != b.instances)
        {
            Some("eval set sizes differ".to_string())
        } else {
            None
        };
        if let Some(reason) = reason {
            return Err(TextError::MismatchedScans { reason });
        }
        let offset = self.train_count;
        self.matches
            .extend(next.matches.into_iter().map(|m| ContaminationMatch {
                train_index: m.train_index + offset,
                ..m
            }));
        for (mine, theirs) in self.eval_sets.iter_mut().zip(next.eval_sets) {
            mine.contaminated.extend(theirs.contaminated);
            mine.contaminated.sort_unstable();
            mine.contaminated.dedup();
        }
        self.train_count += next.train_count;
        Ok(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(
        train_count: usize,
        matches: &[(usize, usize)],
        contaminated: &[usize],
    ) -> ScanResult {
        ScanResult {
            train_count,
            ngram: 8,
            threshold: 0.5,
            matches: matches
                .iter()
                .map(|&(train_index, eval_index)| ContaminationMatch {
                    train_index,
                    eval_set: 0,
                    eval_index,
                    matched_fraction: 1.0,
                })
                .collect(),
            eval_sets: vec![EvalSetContamination {
                name: "gsm8k".into(),
                instances: 4,
                short_instances: 0,
                empty_instances: 0,
                contaminated: contaminated.to_vec(),
            }],
        }
    }

    #[test]
    fn queries() {
        let r = result(5, &[(1, 0), (1, 2), (3, 2)], &[0, 2]);
        assert_eq!(r.contaminated_train_indices(), vec![1, 3]);
        assert_eq!(r.clean_train_mask(), vec![true, false, true, false, true]);
        assert_eq!(r.matches_for(1).len(), 2);
        assert!(r.matches_for(2).is_empty());
        assert_eq!(r.eval_set("gsm8k").unwrap().contaminated_fraction(), 0.5);
        assert!(r.eval_set("math").is_none());
    }

    #[test]
    fn merge_offsets_and_unions() {
        let merged = result(5, &[(1, 0)], &[0])
            .merge(result(3, &[(0, 0), (2, 3)], &[0, 3]))
            .unwrap();
        assert_eq!(merged.train_count, 8);
        assert_eq!(merged.contaminated_train_indices(), vec![1, 5, 7]);
        assert_eq!(merged.eval_sets[0].contaminated, vec![0, 3]);
    }

    #[test]
    fn merge_rejects_different_scans() {
        let mut other = result(3, &[], &[]);
        other.threshold = 0.6;
        let err = result(5, &[], &[]).merge(other).unwrap_err();
        assert!(err.to_string().contains("thresholds differ"));
        let mut other = result(3, &[], &[]);
        other.eval_sets[0].name = "math".into();
        assert!(result(5, &[], &[]).merge(other).is_err());
    }
}
