//! The outcome of a dedup pass, shared by exact and near-duplicate dedup.

use serde::{Deserialize, Serialize};

/// Which inputs survive a dedup pass, and why the others were dropped.
///
/// Indices refer to positions in the slice given to the dedup call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DedupResult {
    /// Indices of the inputs kept, ascending: the first (in input order) of every cluster and
    /// every input without duplicates.
    pub kept: Vec<usize>,
    /// One entry per cluster of two or more duplicates, ascending by the kept index.
    pub clusters: Vec<DuplicateCluster>,
}

/// A group of duplicates: the one kept and the ones removed in its favour.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DuplicateCluster {
    /// The kept input: the lowest index in the cluster.
    pub kept: usize,
    /// The removed inputs, ascending by index.
    pub removed: Vec<RemovedDuplicate>,
}

/// An input removed as a duplicate of its cluster's kept input.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RemovedDuplicate {
    /// Its index in the input.
    pub index: usize,
    /// Estimated Jaccard similarity of its shingle set with the kept input's (1.0 for exact
    /// duplicates). Clusters are connected components, so a removed input can sit below the
    /// threshold relative to the kept one when it joined through an intermediate input.
    pub jaccard: f64,
}

impl DedupResult {
    /// Builds the result from each input's cluster root (its lowest-index member), computing the
    /// similarity of each removed input to its root with `similarity_to_root`.
    pub(crate) fn from_roots(
        roots: &[usize],
        mut similarity_to_root: impl FnMut(usize, usize) -> f64,
    ) -> Self {
        let mut kept = Vec::new();
        let mut cluster_of_root: Vec<Option<usize>> = vec![None; roots.len()];
        let mut clusters: Vec<DuplicateCluster> = Vec::new();
        for (index, &root) in roots.iter().enumerate() {
            if root == index {
                kept.push(index);
                continue;
            }
            let slot = *cluster_of_root[root].get_or_insert_with(|| {
                clusters.push(DuplicateCluster {
                    kept: root,
                    removed: Vec::new(),
                });
                clusters.len() - 1
            });
            clusters[slot].removed.push(RemovedDuplicate {
                index,
                jaccard: similarity_to_root(root, index),
            });
        }
        // Roots precede their members, so clusters were opened in ascending order of `kept`.
        Self { kept, clusters }
    }

    /// How many inputs were removed.
    pub fn removed_count(&self) -> usize {
        self.clusters.iter().map(|c| c.removed.len()).sum()
    }

    /// A keep mask over `input_len` inputs (`true` = kept), convenient for filtering rows.
    pub fn keep_mask(&self, input_len: usize) -> Vec<bool> {
        let mut mask = vec![false; input_len];
        for &i in &self.kept {
            if let Some(slot) = mask.get_mut(i) {
                *slot = true;
            }
        }
        mask
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clusters_follow_roots() {
        // 0 and 3 and 4 together (root 0), 2 with 5 (root 2), 1 alone.
        let roots = [0, 1, 2, 0, 0, 2];
        let result = DedupResult::from_roots(&roots, |root, i| (root * 10 + i) as f64);
        assert_eq!(result.kept, vec![0, 1, 2]);
        assert_eq!(result.clusters.len(), 2);
        assert_eq!(result.clusters[0].kept, 0);
        let removed0: Vec<_> = result.clusters[0].removed.iter().map(|r| r.index).collect();
        assert_eq!(removed0, vec![3, 4]);
        assert_eq!(result.clusters[1].kept, 2);
        assert_eq!(result.clusters[1].removed[0].index, 5);
        assert_eq!(result.clusters[1].removed[0].jaccard, 25.0);
        assert_eq!(result.removed_count(), 3);
        assert_eq!(
            result.keep_mask(6),
            vec![true, true, true, false, false, false]
        );
    }
}
