//! `decontam`: remove training rows that leak eval sets, with the Tülu 3 rule, and record the
//! contamination table.
//!
//! Only prompts are compared (the first user turn, or `prompt`), on both sides. An eval instance
//! is contaminated by a training row when more than `threshold` of its tokens lie in `ngram`-grams
//! the row's prompt shares with it (`docs/curation.md` has the exact rule). The eval sets are the
//! eval rows of each provenance source among the `against` datasets, so `eval.math_test` (a concat
//! of seven subject files) gives seven columns. A training *source* (provenance source within
//! `data`) is flagged for an eval set when it contaminates more than `dataset_threshold` of the
//! set's instances.
//!
//! Modes: `drop_rows` removes every contaminating row; `drop_dataset` removes every row of each
//! flagged source and keeps the other sources whole (their contamination is below the rule and
//! shows in the table); `report` removes nothing. The table is recorded either way
//! ([`ContaminationReport`]).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use anyhow::{anyhow, bail};
use serde::Deserialize;
use serde_json::Value as Json;

use super::call::dataset_of;
use super::contamination_report::{
    ContaminatingRow, ContaminationReport, EvalMatch, EvalSetInfo, SourceContamination,
    ALL_SOURCES, DECONTAM_META_KEY,
};
use super::row_ref::{preview, RowRef};
use super::{Op, OpCall, OpContext, Output};
use crate::check::signature::{arg, ArgProblem, Args, CheckEnv, Constraint, ParamSpec};
use crate::check::{OpSignature, Type, Value};
use crate::data::schema::{text_of, TextPart};
use crate::data::Dataset;
use crate::text::{
    ContaminationRow, ContaminationTable, DecontamIndex, DecontamOptions, EvalSet, ScanResult,
    ShortEvalPolicy, TULU3_DATASET_THRESHOLD,
};

pub struct Decontam {
    signature: OpSignature,
}

const MODES: &[&str] = &["drop_rows", "drop_dataset", "report"];

impl Decontam {
    pub fn new() -> Decontam {
        let defaults = DecontamOptions::default();
        Decontam {
            signature: OpSignature {
                name: "decontam",
                version: 1,
                doc: "Remove training rows whose prompts leak eval sets (Tülu 3 n-gram rule) and record the source × eval-set contamination table",
                params: vec![
                    ParamSpec::required("data", Type::Dataset(None), "the training dataset"),
                    ParamSpec::required(
                        "against",
                        Type::list(Type::Dataset(None)),
                        "the eval datasets, e.g. [eval.gsm8k_test, eval.math500, eval.humaneval]",
                    ),
                    ParamSpec::with_default(
                        "ngram",
                        Type::Int,
                        Value::Int(defaults.ngram as i64),
                        "n-gram length in tokens",
                    )
                    .constrained(Constraint::POSITIVE),
                    ParamSpec::with_default(
                        "threshold",
                        Type::Float,
                        Value::Float(0.5),
                        "an eval instance is contaminated when more than this fraction of its tokens lie in shared n-grams",
                    )
                    .constrained(Constraint::Range {
                        min: Some(0.0),
                        max: Some(1.0),
                        min_exclusive: false,
                        max_exclusive: true,
                    }),
                    ParamSpec::with_default(
                        "dataset_threshold",
                        Type::Float,
                        Value::Float(TULU3_DATASET_THRESHOLD),
                        "a training source is flagged when it contaminates more than this fraction of an eval set",
                    )
                    .constrained(Constraint::UNIT),
                    ParamSpec::with_default(
                        "mode",
                        Type::Str,
                        Value::Str("drop_rows".into()),
                        "\"drop_rows\" (remove contaminating rows), \"drop_dataset\" (remove flagged sources whole) or \"report\" (remove nothing)",
                    )
                    .constrained(Constraint::OneOf(MODES)),
                    ParamSpec::with_default(
                        "short_eval",
                        Type::Str,
                        Value::Str("ignore".into()),
                        "eval instances shorter than `ngram` tokens: \"ignore\" (never matched, as in Tülu 3) or \"whole_sequence\" (matched when a prompt contains all of it)",
                    )
                    .constrained(Constraint::OneOf(&["ignore", "whole_sequence"])),
                ],
                output: output_type,
                complete: None,
            },
        }
    }
}

impl Default for Decontam {
    fn default() -> Self {
        Decontam::new()
    }
}

fn output_type(args: &Args, _env: &CheckEnv) -> Result<Type, ArgProblem> {
    let data = arg(args, "data");
    if let Some(Value::List(items)) = arg(args, "against") {
        if items.is_empty() {
            return Err(ArgProblem::at(
                "against",
                "the list of eval sets is empty, so nothing would be checked",
            )
            .with_help("name the eval sets, e.g. `against: [eval.gsm8k_test, eval.math500]` with `import \"stdlib/eval.tulu\" as eval`"));
        }
        for (i, item) in items.iter().enumerate() {
            let Value::Node(id, _) = item else { continue };
            if let Some(Value::Node(data_id, _)) = data {
                if data_id == id {
                    return Err(ArgProblem::at(
                        "against",
                        format!(
                            "`against[{i}]` is the training data itself; every row would match"
                        ),
                    )
                    .with_help("pass the eval sets here, not the data being cleaned"));
                }
            }
            if let Some(first) = items[..i]
                .iter()
                .position(|earlier| matches!(earlier, Value::Node(e, _) if e == id))
            {
                return Err(ArgProblem::at(
                    "against",
                    format!("`against[{i}]` repeats `against[{first}]`"),
                )
                .with_help("list each eval set once"));
            }
        }
    }
    Ok(data.map(Value::type_of).unwrap_or(Type::Dataset(None)))
}

/// The eval rows of one provenance source: a column of the table.
struct EvalColumn {
    name: String,
    license: String,
    /// Which `against` entry it came from, for messages.
    from: usize,
    texts: Vec<String>,
    /// Each instance's provenance index.
    indices: Vec<u64>,
}

fn eval_columns(call: &OpCall) -> anyhow::Result<Vec<EvalColumn>> {
    let items = call
        .param("against")
        .as_array()
        .ok_or_else(|| anyhow!("param `against` is not a list"))?;
    let mut columns: Vec<EvalColumn> = Vec::new();
    let mut by_name: HashMap<String, usize> = HashMap::new();
    for (i, item) in items.iter().enumerate() {
        let eval = dataset_of(call.input_at(item)?)?;
        if eval.rows.is_empty() {
            bail!("`against[{i}]` has no rows, so there is nothing to check against; check how it was loaded or filtered");
        }
        for row in &eval.rows {
            let name = &row.provenance.source;
            let column = match by_name.get(name) {
                Some(&c) => c,
                None => {
                    columns.push(EvalColumn {
                        name: name.clone(),
                        license: row.provenance.license.clone(),
                        from: i,
                        texts: Vec::new(),
                        indices: Vec::new(),
                    });
                    by_name.insert(name.clone(), columns.len() - 1);
                    columns.len() - 1
                }
            };
            let column = &mut columns[column];
            if column.from != i {
                bail!(
                    "eval set `{name}` has rows in both `against[{}]` and `against[{i}]`; the table would count them as one set",
                    column.from
                );
            }
            column
                .texts
                .push(text_of(eval.schema, &row.fields, TextPart::Prompt));
            column.indices.push(row.provenance.index);
        }
    }
    Ok(columns)
}

/// Per training source, the training rows and their contamination.
struct SourceRows {
    rows: usize,
    contaminating: usize,
    /// Per eval set, the instances its rows contaminate.
    contaminated: Vec<BTreeSet<usize>>,
}

impl Op for Decontam {
    fn signature(&self) -> &OpSignature {
        &self.signature
    }

    fn execute(&self, call: &OpCall, ctx: &OpContext) -> anyhow::Result<Output> {
        let data = call.dataset("data")?;
        let mode = call.str("mode")?.to_string();
        let threshold = call.f64("threshold")?;
        let dataset_threshold = call.f64("dataset_threshold")?;
        let short_eval_name = call.str("short_eval")?.to_string();
        let options = DecontamOptions {
            ngram: call.usize("ngram")?,
            short_eval: if short_eval_name == "whole_sequence" {
                ShortEvalPolicy::WholeSequence
            } else {
                ShortEvalPolicy::Ignore
            },
        };
        ctx.progress.set_total(data.rows.len() as u64, "rows");

        ctx.progress.message("indexing eval sets");
        let columns = eval_columns(call)?;
        let text_refs: Vec<Vec<&str>> = columns
            .iter()
            .map(|c| c.texts.iter().map(String::as_str).collect())
            .collect();
        let sets: Vec<EvalSet> = columns
            .iter()
            .zip(&text_refs)
            .map(|(c, texts)| EvalSet {
                name: &c.name,
                texts,
            })
            .collect();
        let index = DecontamIndex::build(&sets, options).map_err(|e| anyhow!("decontam: {e}"))?;
        ctx.check_cancelled()?;

        ctx.progress.message("scanning prompts");
        let prompts: Vec<String> = data
            .rows
            .iter()
            .map(|r| text_of(data.schema, &r.fields, TextPart::Prompt))
            .collect();
        let prompt_refs: Vec<&str> = prompts.iter().map(String::as_str).collect();
        let scan = index
            .scan(&prompt_refs, threshold)
            .map_err(|e| anyhow!("decontam: {e}"))?;
        ctx.check_cancelled()?;

        let (report, removed) = build_report(
            &data,
            &prompts,
            &columns,
            &scan,
            Settings {
                mode: &mode,
                ngram: options.ngram,
                threshold,
                dataset_threshold,
                short_eval: &short_eval_name,
            },
        );
        let kept: Vec<_> = data
            .rows
            .iter()
            .zip(&removed)
            .filter(|(_, &removed)| !removed)
            .map(|(row, _)| row.clone())
            .collect();
        ctx.progress.advance(data.rows.len() as u64);
        let mut out = Dataset::new(data.schema, kept);
        out.meta
            .insert(DECONTAM_META_KEY.into(), serde_json::to_value(&report)?);
        Ok(Output::Dataset(out))
    }

    fn details(&self, meta: &Json) -> Option<Json> {
        let report = ContaminationReport::deserialize(meta.get(DECONTAM_META_KEY)?).ok()?;
        Some(report.details())
    }
}

struct Settings<'a> {
    mode: &'a str,
    ngram: usize,
    threshold: f64,
    dataset_threshold: f64,
    short_eval: &'a str,
}

/// The report, and for each training row whether the mode removes it.
fn build_report(
    data: &Dataset,
    prompts: &[String],
    columns: &[EvalColumn],
    scan: &ScanResult,
    settings: Settings,
) -> (ContaminationReport, Vec<bool>) {
    let eval_names: Vec<String> = columns.iter().map(|c| c.name.clone()).collect();
    let mut per_source: BTreeMap<&str, SourceRows> = BTreeMap::new();
    for row in &data.rows {
        per_source
            .entry(row.provenance.source.as_str())
            .or_insert_with(|| SourceRows {
                rows: 0,
                contaminating: 0,
                contaminated: vec![BTreeSet::new(); columns.len()],
            })
            .rows += 1;
    }
    let contaminating = scan.contaminated_train_indices();
    for &train in &contaminating {
        let Some(source) = per_source.get_mut(data.rows[train].provenance.source.as_str()) else {
            continue;
        };
        source.contaminating += 1;
        for m in scan.matches_for(train) {
            source.contaminated[m.eval_set].insert(m.eval_index);
        }
    }

    // The dataset rule, applied per source with the library's table so that "more than" means
    // the same everywhere.
    let mut table = ContaminationTable::new(eval_names.clone());
    for (name, rows) in &per_source {
        table.rows.push(ContaminationRow {
            source: name.to_string(),
            train_instances: rows.rows,
            contaminated_train_instances: rows.contaminating,
            eval_fractions: rows
                .contaminated
                .iter()
                .zip(columns)
                .map(|(set, column)| set.len() as f64 / column.texts.len() as f64)
                .collect(),
        });
    }
    let flagged_of = |table: &ContaminationTable, source: &str| -> Vec<String> {
        table
            .contaminated_cells(settings.dataset_threshold)
            .into_iter()
            .filter(|(s, _)| *s == source)
            .map(|(_, eval)| eval.to_string())
            .collect()
    };
    let flagged_sources: BTreeSet<String> = table
        .contaminated_cells(settings.dataset_threshold)
        .into_iter()
        .map(|(s, _)| s.to_string())
        .collect();
    let removed: Vec<bool> = match settings.mode {
        "drop_rows" => scan.clean_train_mask().iter().map(|clean| !clean).collect(),
        "drop_dataset" => data
            .rows
            .iter()
            .map(|row| flagged_sources.contains(&row.provenance.source))
            .collect(),
        _ => vec![false; data.rows.len()],
    };
    let mut removed_per_source: BTreeMap<&str, usize> = BTreeMap::new();
    for (row, _) in data.rows.iter().zip(&removed).filter(|(_, &r)| r) {
        *removed_per_source
            .entry(row.provenance.source.as_str())
            .or_default() += 1;
    }

    let sources: Vec<SourceContamination> = per_source
        .iter()
        .map(|(name, rows)| SourceContamination {
            source: name.to_string(),
            rows: rows.rows,
            contaminating_rows: rows.contaminating,
            removed_rows: removed_per_source.get(name).copied().unwrap_or(0),
            contaminated: rows.contaminated.iter().map(BTreeSet::len).collect(),
            flagged: flagged_of(&table, name),
        })
        .collect();

    let mut total_table = ContaminationTable::new(eval_names);
    let total_fractions: Vec<f64> = scan
        .eval_sets
        .iter()
        .map(|s| s.contaminated_fraction())
        .collect();
    total_table.rows.push(ContaminationRow {
        source: ALL_SOURCES.into(),
        train_instances: data.rows.len(),
        contaminated_train_instances: contaminating.len(),
        eval_fractions: total_fractions,
    });
    let removed_total: usize = removed_per_source.values().sum();
    let total = SourceContamination {
        source: ALL_SOURCES.into(),
        rows: data.rows.len(),
        contaminating_rows: contaminating.len(),
        removed_rows: removed_total,
        contaminated: scan
            .eval_sets
            .iter()
            .map(|s| s.contaminated.len())
            .collect(),
        flagged: flagged_of(&total_table, ALL_SOURCES),
    };

    let contaminating_rows = contaminating
        .iter()
        .map(|&train| ContaminatingRow {
            at: RowRef::of(train, &data.rows[train]),
            removed: removed[train],
            preview: preview(&prompts[train]),
            matches: scan
                .matches_for(train)
                .iter()
                .map(|m| EvalMatch {
                    eval_set: columns[m.eval_set].name.clone(),
                    eval_index: columns[m.eval_set].indices[m.eval_index],
                    matched: m.matched_fraction,
                })
                .collect(),
        })
        .collect();

    let report = ContaminationReport {
        mode: settings.mode.to_string(),
        ngram: settings.ngram,
        threshold: settings.threshold,
        dataset_threshold: settings.dataset_threshold,
        short_eval: settings.short_eval.to_string(),
        input_rows: data.rows.len(),
        kept_rows: data.rows.len() - removed_total,
        eval_sets: columns
            .iter()
            .zip(&scan.eval_sets)
            .map(|(column, set)| EvalSetInfo {
                name: column.name.clone(),
                license: column.license.clone(),
                instances: set.instances,
                short_instances: set.short_instances,
                empty_instances: set.empty_instances,
            })
            .collect(),
        sources,
        total,
        contaminating_rows,
    };
    (report, removed)
}

#[cfg(test)]
#[path = "decontam_tests.rs"]
mod tests;
