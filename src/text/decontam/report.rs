//! The training-source × eval-set contamination table of a decontamination pass.

use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use super::scan_result::ScanResult;
use crate::text::error::TextError;

/// Tülu 3's dataset-level rule: a training source is contaminated with respect to an eval set
/// when more than 2% of the eval set's instances are contaminated by it.
pub const TULU3_DATASET_THRESHOLD: f64 = 0.02;

/// One training source's row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContaminationRow {
    /// The training source's name.
    pub source: String,
    /// Training instances scanned.
    pub train_instances: usize,
    /// Training instances that contaminate at least one eval instance.
    pub contaminated_train_instances: usize,
    /// Per eval set (in column order): the fraction of its instances contaminated by this source.
    pub eval_fractions: Vec<f64>,
}

/// Contamination fractions for several training sources against the same eval sets.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContaminationTable {
    /// Column names: the eval sets, in index order.
    pub eval_sets: Vec<String>,
    /// One row per training source, in the order added.
    pub rows: Vec<ContaminationRow>,
}

impl ContaminationTable {
    /// An empty table with the given eval set columns.
    pub fn new(eval_sets: Vec<String>) -> Self {
        Self {
            eval_sets,
            rows: Vec::new(),
        }
    }

    /// Adds the row of training source `source` from its scan, which must cover the table's eval
    /// sets in the same order.
    pub fn add(&mut self, source: &str, scan: &ScanResult) -> Result<(), TextError> {
        let got: Vec<String> = scan.eval_sets.iter().map(|s| s.name.clone()).collect();
        if got != self.eval_sets {
            return Err(TextError::TableColumnsMismatch {
                source_name: source.to_string(),
                expected: self.eval_sets.clone(),
                got,
            });
        }
        self.rows.push(ContaminationRow {
            source: source.to_string(),
            train_instances: scan.train_count,
            contaminated_train_instances: scan.contaminated_train_indices().len(),
            eval_fractions: scan
                .eval_sets
                .iter()
                .map(|s| s.contaminated_fraction())
                .collect(),
        });
        Ok(())
    }

    /// The (source, eval set) cells whose fraction exceeds `dataset_threshold` (strictly), in row
    /// then column order; with [`TULU3_DATASET_THRESHOLD`] these are the sources Tülu 3 would drop
    /// or clean.
    pub fn contaminated_cells(&self, dataset_threshold: f64) -> Vec<(&str, &str)> {
        let mut cells = Vec::new();
        for row in &self.rows {
            for (eval, &fraction) in self.eval_sets.iter().zip(&row.eval_fractions) {
                if fraction > dataset_threshold {
                    cells.push((row.source.as_str(), eval.as_str()));
                }
            }
        }
        cells
    }

    /// A Markdown table: percentages of each eval set contaminated, plus the contaminated
    /// training instances per source.
    pub fn to_markdown(&self) -> String {
        let mut out = String::from("| training source | contaminated rows |");
        for eval in &self.eval_sets {
            let _ = write!(out, " {} |", escape_markdown_cell(eval));
        }
        out.push_str("\n|---|---:|");
        out.push_str(&"---:|".repeat(self.eval_sets.len()));
        out.push('\n');
        for row in &self.rows {
            let _ = write!(
                out,
                "| {} | {} / {} |",
                escape_markdown_cell(&row.source),
                row.contaminated_train_instances,
                row.train_instances
            );
            for fraction in &row.eval_fractions {
                let _ = write!(out, " {:.2}% |", fraction * 100.0);
            }
            out.push('\n');
        }
        out
    }

    /// Tab-separated values, fractions with four decimals (open-instruct's
    /// `contamination_results.tsv` layout: one row per source, one column per eval set).
    pub fn to_tsv(&self) -> String {
        let mut out = String::from("source");
        for eval in &self.eval_sets {
            let _ = write!(out, "\t{}", eval.replace(['\t', '\n'], " "));
        }
        out.push('\n');
        for row in &self.rows {
            out.push_str(&row.source.replace(['\t', '\n'], " "));
            for fraction in &row.eval_fractions {
                let _ = write!(out, "\t{fraction:.4}");
            }
            out.push('\n');
        }
        out
    }
}

fn escape_markdown_cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

#[cfg(test)]
mod tests {
    use super::super::{DecontamIndex, DecontamOptions, EvalSet};
    use super::*;

    fn scans() -> (ScanResult, ScanResult, ScanResult) {
        let a: Vec<String> = (0..100)
            .map(|i| format!("eval question number {i} asks how many apples fit in box {i}"))
            .collect();
        let a: Vec<&str> = a.iter().map(String::as_str).collect();
        let b = ["write a function that reverses a linked list in place and returns it"];
        let index = DecontamIndex::build(
            &[
                EvalSet {
                    name: "apples",
                    texts: &a,
                },
                EvalSet {
                    name: "code",
                    texts: &b,
                },
            ],
            DecontamOptions::default(),
        )
        .unwrap();
        // Source "leaky" carries 3 of 100 apple questions (3% > 2%); "mild" 2 (2%, not more).
        let leaky = index.scan(&[a[1], a[2], a[3], "hello"], 0.5).unwrap();
        let mild = index.scan(&[a[5], "filler", a[6]], 0.5).unwrap();
        let other = DecontamIndex::build(
            &[EvalSet {
                name: "apples",
                texts: &a,
            }],
            DecontamOptions::default(),
        )
        .unwrap()
        .scan(&["x"], 0.5)
        .unwrap();
        (leaky, mild, other)
    }

    #[test]
    fn table_rows_and_dataset_rule() {
        let (leaky, mild, other) = scans();
        let mut table = ContaminationTable::new(vec!["apples".into(), "code".into()]);
        table.add("leaky", &leaky).unwrap();
        table.add("mild", &mild).unwrap();
        assert!(table.add("other", &other).is_err());
        assert_eq!(table.rows[0].eval_fractions, vec![0.03, 0.0]);
        assert_eq!(table.rows[0].contaminated_train_instances, 3);
        assert_eq!(table.rows[1].eval_fractions, vec![0.02, 0.0]);
        assert_eq!(
            table.contaminated_cells(TULU3_DATASET_THRESHOLD),
            vec![("leaky", "apples")]
        );
        assert_eq!(
            table.to_tsv(),
            "source\tapples\tcode\nleaky\t0.0300\t0.0000\nmild\t0.0200\t0.0000\n"
        );
        let markdown = table.to_markdown();
        assert!(markdown.starts_with("| training source | contaminated rows | apples | code |\n"));
        assert!(markdown.contains("| leaky | 3 / 4 | 3.00% | 0.00% |"));
    }
}
