//! What `decontam` records in its output's metadata (under `"decontam"`): the contamination table
//! the Tülu 3 paper prints — per training source × eval set, the share of the eval set's instances
//! that the source's prompts contain — with the rows removed, and how that is shown to a person
//! (`tulu cat --summary`, data cards) and to scripts (`tulu run --json` details).

use std::fmt::Write as _;

use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value as Json};

use super::row_ref::RowRef;

/// The metadata key.
pub const DECONTAM_META_KEY: &str = "decontam";

/// The name of the table's last row, which counts every training row together.
pub const ALL_SOURCES: &str = "all sources";

/// Rows of the contaminating-rows listing `tulu cat --summary` prints before cutting it short.
const LISTED_ROWS: usize = 20;

/// One eval set (a column of the table): the eval rows of one provenance source.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvalSetInfo {
    pub name: String,
    pub license: String,
    pub instances: usize,
    /// Instances with fewer tokens than the n-gram length: never matched under the default
    /// `short_eval: "ignore"`.
    pub short_instances: usize,
    /// Instances without any token: never matched.
    pub empty_instances: usize,
}

/// One row of the table: a training source, or all of them together.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SourceContamination {
    pub source: String,
    /// Training rows of this source in the op's input.
    pub rows: usize,
    /// Of those, the rows whose prompt contaminates at least one eval instance.
    pub contaminating_rows: usize,
    /// Rows of this source the op removed.
    pub removed_rows: usize,
    /// Per eval set (table column order): its instances contaminated by this source's rows.
    pub contaminated: Vec<usize>,
    /// The eval sets of which this source contaminates more than `dataset_threshold`.
    pub flagged: Vec<String>,
}

/// An eval instance a training row contaminates.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvalMatch {
    pub eval_set: String,
    /// The eval row's index in its source (its provenance index).
    pub eval_index: u64,
    /// Fraction of the eval instance's tokens inside n-grams the training prompt shares.
    pub matched: f64,
}

/// A training row whose prompt contaminates at least one eval instance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContaminatingRow {
    #[serde(flatten)]
    pub at: RowRef,
    /// Whether the op removed it (always under `drop_rows`; under `drop_dataset` when its source
    /// is flagged; never under `report`).
    pub removed: bool,
    /// The start of its prompt.
    pub preview: String,
    pub matches: Vec<EvalMatch>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContaminationReport {
    /// `drop_rows`, `drop_dataset` or `report`.
    pub mode: String,
    pub ngram: usize,
    pub threshold: f64,
    pub dataset_threshold: f64,
    /// `ignore` or `whole_sequence`.
    pub short_eval: String,
    pub input_rows: usize,
    pub kept_rows: usize,
    /// The table's columns.
    pub eval_sets: Vec<EvalSetInfo>,
    /// One row per training source, by name.
    pub sources: Vec<SourceContamination>,
    /// Every training row together.
    pub total: SourceContamination,
    /// Ascending by input position.
    pub contaminating_rows: Vec<ContaminatingRow>,
}

fn percent(count: usize, of: usize) -> f64 {
    if of == 0 {
        0.0
    } else {
        count as f64 * 100.0 / of as f64
    }
}

impl ContaminationReport {
    /// Rows the op removed.
    pub fn removed(&self) -> usize {
        self.input_rows - self.kept_rows
    }

    fn eval_names(&self) -> Vec<&str> {
        self.eval_sets.iter().map(|e| e.name.as_str()).collect()
    }

    /// The table as Markdown; a cell in bold is above the dataset threshold.
    pub fn render_table(&self) -> String {
        let mut out = String::from("| training source | rows | contaminating | removed |");
        for eval in &self.eval_sets {
            let _ = write!(out, " {} |", escape_cell(&eval.name));
        }
        out.push_str("\n|---|---:|---:|---:|");
        out.push_str(&"---:|".repeat(self.eval_sets.len()));
        out.push('\n');
        let mut rows: Vec<&SourceContamination> = self.sources.iter().collect();
        if self.sources.len() != 1 {
            rows.push(&self.total);
        }
        for row in rows {
            let _ = write!(
                out,
                "| {} | {} | {} | {} |",
                escape_cell(&row.source),
                row.rows,
                row.contaminating_rows,
                row.removed_rows
            );
            for (eval, &count) in self.eval_sets.iter().zip(&row.contaminated) {
                let cell = format!("{:.2}%", percent(count, eval.instances));
                if row.flagged.contains(&eval.name) {
                    let _ = write!(out, " **{cell}** |");
                } else {
                    let _ = write!(out, " {cell} |");
                }
            }
            out.push('\n');
        }
        let _ = writeln!(
            out,
            "\nPercentages: eval instances whose tokens lie more than {:.0}% in {}-grams of one training prompt; **bold**: above the {}% dataset rule.",
            self.threshold * 100.0,
            self.ngram,
            self.dataset_threshold * 100.0
        );
        out
    }

    /// The flagged (source, eval set, percent) cells, sources in table order.
    pub fn flagged_cells(&self) -> Vec<(&str, &str, f64)> {
        let mut cells = Vec::new();
        for source in &self.sources {
            for (eval, &count) in self.eval_sets.iter().zip(&source.contaminated) {
                if source.flagged.contains(&eval.name) {
                    cells.push((
                        source.source.as_str(),
                        eval.name.as_str(),
                        percent(count, eval.instances),
                    ));
                }
            }
        }
        cells
    }

    /// What was done, in one line.
    pub fn headline(&self) -> String {
        let action = match self.mode.as_str() {
            "drop_rows" => "contaminating rows dropped",
            "drop_dataset" => "flagged sources dropped",
            _ => "report only, nothing dropped",
        };
        format!(
            "{} → {} rows, {} removed ({action}); prompts against {}; {}-grams, matched fraction > {}, dataset rule > {}%",
            self.input_rows,
            self.kept_rows,
            self.removed(),
            self.eval_names().join(", "),
            self.ngram,
            self.threshold,
            self.dataset_threshold * 100.0
        )
    }

    /// The eval sets, with sizes, licenses and blind spots.
    pub fn eval_set_lines(&self) -> String {
        let mut out = String::new();
        for eval in &self.eval_sets {
            let _ = write!(
                out,
                "  - {}: {} instances, {}",
                eval.name, eval.instances, eval.license
            );
            let unmatched = if self.short_eval == "ignore" {
                eval.short_instances + eval.empty_instances
            } else {
                eval.empty_instances
            };
            if unmatched > 0 {
                let _ = write!(
                    out,
                    " ({unmatched} shorter than {} tokens, which cannot match)",
                    self.ngram
                );
            }
            out.push('\n');
        }
        out
    }

    /// For `tulu cat --summary`: the headline, eval sets, table, flags and contaminating rows.
    pub fn render_summary(&self) -> String {
        let mut out = format!("decontamination: {}\n", self.headline());
        out.push_str("eval sets:\n");
        out.push_str(&self.eval_set_lines());
        out.push('\n');
        out.push_str(&self.render_table());
        let flagged = self.flagged_cells();
        if flagged.is_empty() {
            let _ = writeln!(
                out,
                "\nno training source contaminates more than {}% of an eval set",
                self.dataset_threshold * 100.0
            );
        } else {
            let cells: Vec<String> = flagged
                .iter()
                .map(|(source, eval, pct)| format!("{source} × {eval} ({pct:.2}%)"))
                .collect();
            let _ = writeln!(out, "\nflagged: {}", cells.join(", "));
        }
        if self.contaminating_rows.is_empty() {
            out.push_str("no contaminating rows\n");
            return out;
        }
        let _ = writeln!(
            out,
            "contaminating rows ({}):",
            self.contaminating_rows.len()
        );
        for row in self.contaminating_rows.iter().take(LISTED_ROWS) {
            let matches: Vec<String> = row
                .matches
                .iter()
                .map(|m| {
                    format!(
                        "{}#{} ({:.0}%)",
                        m.eval_set,
                        m.eval_index,
                        m.matched * 100.0
                    )
                })
                .collect();
            let _ = writeln!(
                out,
                "  - {} (row {}, {}): {} — \"{}\"",
                row.at.label(),
                row.at.row,
                if row.removed { "removed" } else { "kept" },
                matches.join(", "),
                row.preview
            );
        }
        let more = self.contaminating_rows.len().saturating_sub(LISTED_ROWS);
        if more > 0 {
            let _ = writeln!(
                out,
                "  … and {more} more (all are in the artifact's metadata)"
            );
        }
        out
    }

    /// A short note for a data card's lineage table.
    pub fn card_note(&self) -> String {
        let mut note = format!(
            "{}; against {}",
            match self.mode.as_str() {
                "drop_rows" => "contaminating rows dropped",
                "drop_dataset" => "flagged sources dropped",
                _ => "report only",
            },
            self.eval_names().join(", ")
        );
        let flagged = self.flagged_cells();
        if !flagged.is_empty() {
            let cells: Vec<String> = flagged
                .iter()
                .map(|(source, eval, pct)| format!("{source} × {eval} {pct:.2}%"))
                .collect();
            let _ = write!(note, "; flagged {}", cells.join(", "));
        }
        note
    }

    fn row_json(&self, row: &SourceContamination) -> Json {
        let mut eval = Map::new();
        for (set, &count) in self.eval_sets.iter().zip(&row.contaminated) {
            eval.insert(
                set.name.clone(),
                json!({"contaminated": count, "percent": percent(count, set.instances)}),
            );
        }
        json!({
            "source": row.source,
            "rows": row.rows,
            "contaminating_rows": row.contaminating_rows,
            "removed_rows": row.removed_rows,
            "flagged": row.flagged,
            "eval": eval,
        })
    }

    /// The `details` of `tulu run --json`: the table with percentages spelled out.
    pub fn details(&self) -> Json {
        json!({
            "contamination": {
                "mode": self.mode,
                "ngram": self.ngram,
                "threshold": self.threshold,
                "dataset_threshold": self.dataset_threshold,
                "input_rows": self.input_rows,
                "kept_rows": self.kept_rows,
                "eval_sets": self.eval_sets.iter().map(|e| json!({"name": e.name, "instances": e.instances})).collect::<Vec<_>>(),
                "sources": self.sources.iter().map(|s| self.row_json(s)).collect::<Vec<_>>(),
                "total": self.row_json(&self.total),
            }
        })
    }
}

fn escape_cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source(
        name: &str,
        rows: usize,
        contaminated: Vec<usize>,
        flagged: &[&str],
    ) -> SourceContamination {
        SourceContamination {
            source: name.into(),
            rows,
            contaminating_rows: contaminated.iter().sum(),
            removed_rows: contaminated.iter().sum(),
            contaminated,
            flagged: flagged.iter().map(|s| s.to_string()).collect(),
        }
    }

    fn report() -> ContaminationReport {
        ContaminationReport {
            mode: "drop_rows".into(),
            ngram: 8,
            threshold: 0.5,
            dataset_threshold: 0.02,
            short_eval: "ignore".into(),
            input_rows: 30,
            kept_rows: 25,
            eval_sets: vec![
                EvalSetInfo {
                    name: "gsm8k_test".into(),
                    license: "MIT".into(),
                    instances: 1319,
                    short_instances: 0,
                    empty_instances: 0,
                },
                EvalSetInfo {
                    name: "humaneval".into(),
                    license: "MIT".into(),
                    instances: 164,
                    short_instances: 2,
                    empty_instances: 0,
                },
            ],
            sources: vec![
                source("code", 10, vec![0, 4], &["humaneval"]),
                source("math", 20, vec![1, 0], &[]),
            ],
            total: source(ALL_SOURCES, 30, vec![1, 4], &["humaneval"]),
            contaminating_rows: vec![ContaminatingRow {
                at: RowRef {
                    row: 3,
                    source: "math".into(),
                    index: 3,
                },
                removed: true,
                preview: "Janet's ducks".into(),
                matches: vec![EvalMatch {
                    eval_set: "gsm8k_test".into(),
                    eval_index: 0,
                    matched: 1.0,
                }],
            }],
        }
    }

    #[test]
    fn table_marks_flagged_cells_and_adds_a_total_row() {
        let table = report().render_table();
        assert!(
            table.starts_with(
                "| training source | rows | contaminating | removed | gsm8k_test | humaneval |\n"
            ),
            "{table}"
        );
        assert!(
            table.contains("| code | 10 | 4 | 4 | 0.00% | **2.44%** |"),
            "{table}"
        );
        assert!(
            table.contains("| math | 20 | 1 | 1 | 0.08% | 0.00% |"),
            "{table}"
        );
        assert!(
            table.contains("| all sources | 30 | 5 | 5 | 0.08% | **2.44%** |"),
            "{table}"
        );
    }

    #[test]
    fn summary_and_details() {
        let r = report();
        let summary = r.render_summary();
        assert!(
            summary.contains("flagged: code × humaneval (2.44%)"),
            "{summary}"
        );
        assert!(
            summary.contains("math#3 (row 3, removed): gsm8k_test#0 (100%)"),
            "{summary}"
        );
        assert!(
            summary.contains("humaneval: 164 instances, MIT (2 shorter than 8 tokens"),
            "{summary}"
        );
        let details = r.details();
        let code = &details["contamination"]["sources"][0];
        assert_eq!(code["source"], "code");
        assert_eq!(code["eval"]["humaneval"]["contaminated"], 4);
        assert_eq!(code["flagged"], json!(["humaneval"]));
        let back: ContaminationReport =
            serde_json::from_value(serde_json::to_value(&r).unwrap()).unwrap();
        assert_eq!(back, r);
    }
}
