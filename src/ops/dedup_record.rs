//! What `dedup` records in its output's metadata (under `"dedup"`): the settings, the counts, and
//! every cluster of duplicates — the row kept and the rows removed in its favour, each with its
//! provenance and estimated Jaccard similarity — and how that is shown to a person.

use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use super::row_ref::RowRef;

/// The metadata key.
pub const DEDUP_META_KEY: &str = "dedup";

/// The near-duplicate settings in effect (banding resolved).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NearSettings {
    pub threshold: f64,
    pub ngram: usize,
    pub num_perm: usize,
    pub bands: usize,
    pub rows: usize,
    pub seed: u64,
}

/// Which pass removed a row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DedupStage {
    /// Its normalized text equals the kept row's.
    Exact,
    /// Its estimated Jaccard similarity with the kept row (directly, or through a chain of
    /// near-duplicates, or through an exact copy of such a row) reached the threshold.
    Near,
}

impl DedupStage {
    pub fn as_str(self) -> &'static str {
        match self {
            DedupStage::Exact => "exact",
            DedupStage::Near => "near",
        }
    }
}

/// A row removed as a duplicate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RemovedRow {
    #[serde(flatten)]
    pub at: RowRef,
    pub stage: DedupStage,
    /// Estimated Jaccard similarity of its shingles with the kept row's (1.0 for exact copies).
    pub jaccard: f64,
}

/// One kept row and the rows removed in its favour.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DedupCluster {
    pub kept: RowRef,
    /// The start of the kept row's text.
    pub preview: String,
    /// Ascending by input position.
    pub removed: Vec<RemovedRow>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DedupRecord {
    /// The text compared: `"all"` or `"prompt"`.
    pub on: String,
    pub exact: bool,
    /// `None` when near-duplicate detection was off.
    pub near: Option<NearSettings>,
    pub input_rows: usize,
    pub kept_rows: usize,
    pub removed_exact: usize,
    pub removed_near: usize,
    /// Ascending by the kept row's input position.
    pub clusters: Vec<DedupCluster>,
}

impl DedupRecord {
    pub fn removed(&self) -> usize {
        self.removed_exact + self.removed_near
    }

    /// One line: what was compared and what was removed.
    pub fn headline(&self) -> String {
        let mut line = format!("{} → {} rows; ", self.input_rows, self.kept_rows);
        if self.exact {
            let _ = write!(line, "exact duplicates removed: {}", self.removed_exact);
        } else {
            line.push_str("exact pass off");
        }
        match &self.near {
            Some(near) => {
                let _ = write!(
                    line,
                    ", near duplicates removed: {} (Jaccard ≥ {}, word {}-grams, {} permutations, {} bands × {} rows, seed {})",
                    self.removed_near,
                    near.threshold,
                    near.ngram,
                    near.num_perm,
                    near.bands,
                    near.rows,
                    near.seed
                );
            }
            None => line.push_str(", near-duplicate pass off"),
        }
        let _ = write!(line, "; compared {}", compared(&self.on));
        line
    }

    /// For `tulu cat --summary`: the headline and the `top` largest clusters.
    pub fn render_summary(&self, top: usize) -> String {
        let mut out = format!("dedup: {}\n", self.headline());
        if self.clusters.is_empty() {
            out.push_str("  no duplicates found\n");
            return out;
        }
        let mut order: Vec<&DedupCluster> = self.clusters.iter().collect();
        // Largest first; ties in input order, so the listing is stable.
        order.sort_by(|a, b| {
            b.removed
                .len()
                .cmp(&a.removed.len())
                .then(a.kept.row.cmp(&b.kept.row))
        });
        let shown = order.len().min(top);
        let _ = writeln!(
            out,
            "  {} clusters; the {shown} largest (kept row, then the rows removed for it):",
            self.clusters.len()
        );
        for cluster in order.into_iter().take(top) {
            let _ = writeln!(
                out,
                "  - kept {} (row {}), {} removed: \"{}\"",
                cluster.kept.label(),
                cluster.kept.row,
                cluster.removed.len(),
                cluster.preview
            );
            const LISTED: usize = 8;
            let listed: Vec<String> = cluster
                .removed
                .iter()
                .take(LISTED)
                .map(|r| match r.stage {
                    DedupStage::Exact => format!("{} (row {}, exact)", r.at.label(), r.at.row),
                    DedupStage::Near => format!(
                        "{} (row {}, near, J≈{:.2})",
                        r.at.label(),
                        r.at.row,
                        r.jaccard
                    ),
                })
                .collect();
            let more = cluster.removed.len().saturating_sub(LISTED);
            let _ = write!(out, "      {}", listed.join(", "));
            if more > 0 {
                let _ = write!(out, ", and {more} more");
            }
            out.push('\n');
        }
        out
    }

    /// A short note for a data card's lineage table.
    pub fn card_note(&self) -> String {
        let mut note = String::new();
        if self.exact {
            let _ = write!(note, "exact duplicates: {}", self.removed_exact);
        }
        if let Some(near) = &self.near {
            if !note.is_empty() {
                note.push_str(", ");
            }
            let _ = write!(
                note,
                "near duplicates: {} (MinHash, Jaccard ≥ {}, {}-grams)",
                self.removed_near, near.threshold, near.ngram
            );
        }
        let _ = write!(
            note,
            " ({} clusters); compared {}",
            self.clusters.len(),
            compared(&self.on)
        );
        note
    }
}

fn compared(on: &str) -> &'static str {
    if on == "prompt" {
        "prompts"
    } else {
        "all text"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(row: usize) -> RowRef {
        RowRef {
            row,
            source: "s".into(),
            index: row as u64,
        }
    }

    #[test]
    fn summary_lists_the_largest_clusters_first() {
        let record = DedupRecord {
            on: "all".into(),
            exact: true,
            near: Some(NearSettings {
                threshold: 0.8,
                ngram: 5,
                num_perm: 128,
                bands: 9,
                rows: 13,
                seed: 0,
            }),
            input_rows: 6,
            kept_rows: 3,
            removed_exact: 1,
            removed_near: 2,
            clusters: vec![
                DedupCluster {
                    kept: at(0),
                    preview: "first".into(),
                    removed: vec![RemovedRow {
                        at: at(3),
                        stage: DedupStage::Exact,
                        jaccard: 1.0,
                    }],
                },
                DedupCluster {
                    kept: at(1),
                    preview: "second".into(),
                    removed: vec![
                        RemovedRow {
                            at: at(4),
                            stage: DedupStage::Near,
                            jaccard: 0.875,
                        },
                        RemovedRow {
                            at: at(5),
                            stage: DedupStage::Near,
                            jaccard: 0.8125,
                        },
                    ],
                },
            ],
        };
        let text = record.render_summary(10);
        let second = text.find("kept s#1").unwrap();
        let first = text.find("kept s#0").unwrap();
        assert!(second < first, "{text}");
        assert!(text.contains("s#4 (row 4, near, J≈0.88)"), "{text}");
        assert!(text.contains("s#3 (row 3, exact)"), "{text}");
        assert!(
            text.contains(
                "6 → 3 rows; exact duplicates removed: 1, near duplicates removed: 2 (Jaccard ≥ 0.8"
            ),
            "{text}"
        );
        let json = serde_json::to_value(&record).unwrap();
        assert_eq!(json["clusters"][0]["removed"][0]["source"], "s");
        assert_eq!(json["clusters"][0]["removed"][0]["stage"], "exact");
        let back: DedupRecord = serde_json::from_value(json).unwrap();
        assert_eq!(back, record);
    }
}
