//! `dedup`: remove duplicate rows, keeping the first of each cluster in input order.
//!
//! Two passes, on the text `on` selects (`"all"`: every message, `"prompt"`: the first user turn
//! or `prompt`), as `docs/curation.md` defines them:
//! 1. exact (`exact: true`, the default): rows whose normalized texts are equal;
//! 2. near (`near: 0.8` turns it on): MinHash over word `ngram`-shingles with LSH banding
//!    (derived from the threshold unless `bands:` and `rows:` are given), confirmed by estimated
//!    Jaccard ≥ `near`; clusters are connected components.
//!
//! The near pass runs on the survivors of the exact pass, so an exact copy of a row that the near
//! pass removes ends up in the same cluster as that row, under the row finally kept. Every
//! cluster is recorded in the output's metadata (see [`DedupRecord`]).

use serde_json::Value as Json;

use super::dedup_record::{
    DedupCluster, DedupRecord, DedupStage, NearSettings, RemovedRow, DEDUP_META_KEY,
};
use super::row_ref::{preview, RowRef};
use super::{Op, OpCall, OpContext, Output};
use crate::check::signature::{arg, ArgProblem, Args, CheckEnv, Constraint, ParamSpec};
use crate::check::{OpSignature, Type, Value};
use crate::data::schema::{text_of, TextPart};
use crate::data::Dataset;
use crate::text::{exact_dedup, LshBands, NearDedup, NearDedupParams, MAX_NUM_PERM};

pub struct Dedup {
    signature: OpSignature,
}

/// Params that only the near-duplicate pass reads.
const NEAR_ONLY: &[&str] = &["ngram", "num_perm", "bands", "rows"];

impl Dedup {
    pub fn new() -> Dedup {
        let defaults = NearDedupParams::default();
        Dedup {
            signature: OpSignature {
                name: "dedup",
                version: 1,
                doc: "Remove exact (normalized text) and, with `near: 0.8`, near-duplicate rows (MinHash LSH); the first row of each cluster is kept",
                params: vec![
                    ParamSpec::required("data", Type::Dataset(None), "the dataset"),
                    ParamSpec::with_default(
                        "on",
                        Type::Str,
                        Value::Str("all".into()),
                        "the text compared: \"all\" (every message) or \"prompt\" (the first user turn)",
                    )
                    .constrained(Constraint::OneOf(&["all", "prompt"])),
                    ParamSpec::with_default(
                        "exact",
                        Type::Bool,
                        Value::Bool(true),
                        "remove rows whose normalized text equals an earlier row's",
                    ),
                    ParamSpec::optional(
                        "near",
                        Type::Float,
                        "also remove near duplicates: the estimated Jaccard similarity at or above which two rows are duplicates (Tülu 3: 0.8)",
                    )
                    .constrained(Constraint::Range {
                        min: Some(0.0),
                        max: Some(1.0),
                        min_exclusive: true,
                        max_exclusive: false,
                    }),
                    ParamSpec::with_default(
                        "ngram",
                        Type::Int,
                        Value::Int(defaults.ngram as i64),
                        "shingle length in words (near pass)",
                    )
                    .constrained(Constraint::POSITIVE),
                    ParamSpec::with_default(
                        "num_perm",
                        Type::Int,
                        Value::Int(defaults.num_perm as i64),
                        "MinHash permutations (near pass)",
                    )
                    .constrained(Constraint::between(1.0, MAX_NUM_PERM as f64)),
                    ParamSpec::optional(
                        "bands",
                        Type::Int,
                        "LSH bands (with `rows`; default: derived from `near` and `num_perm`)",
                    )
                    .constrained(Constraint::POSITIVE),
                    ParamSpec::optional(
                        "rows",
                        Type::Int,
                        "LSH rows per band (with `bands`)",
                    )
                    .constrained(Constraint::POSITIVE),
                    ParamSpec::with_default(
                        "seed",
                        Type::Int,
                        Value::Int(defaults.seed as i64),
                        "seed of the MinHash permutations",
                    )
                    .constrained(Constraint::NON_NEGATIVE),
                ],
                output: output_type,
                complete: None,
            },
        }
    }
}

impl Default for Dedup {
    fn default() -> Self {
        Dedup::new()
    }
}

fn int_arg(args: &Args, name: &str) -> Option<i64> {
    match arg(args, name) {
        Some(Value::Int(i)) => Some(*i),
        _ => None,
    }
}

fn output_type(args: &Args, _env: &CheckEnv) -> Result<Type, ArgProblem> {
    let near = arg(args, "near");
    let exact = !matches!(arg(args, "exact"), Some(Value::Bool(false)));
    if near.is_none() {
        if !exact {
            return Err(ArgProblem::at(
                "exact",
                "with `exact: false` and no `near:`, dedup would remove nothing",
            )
            .with_help("add `near: 0.8` for near-duplicate removal, or drop `exact: false`"));
        }
        let defaults = NearDedupParams::default();
        for &name in NEAR_ONLY {
            let default = match name {
                "ngram" => Some(defaults.ngram as i64),
                "num_perm" => Some(defaults.num_perm as i64),
                _ => None,
            };
            let given = int_arg(args, name);
            if given.is_some() && given != default {
                return Err(ArgProblem::at(
                    name,
                    format!("`{name}` only applies to the near-duplicate pass, which is off"),
                )
                .with_help("add `near: 0.8` (the Jaccard threshold) to turn it on"));
            }
        }
    }
    match (int_arg(args, "bands"), int_arg(args, "rows")) {
        (Some(_), None) => {
            return Err(
                ArgProblem::at("bands", "`bands` needs `rows` too").with_help(
                    "give both `bands:` and `rows:`, or neither to derive them from `near`",
                ),
            )
        }
        (None, Some(_)) => {
            return Err(
                ArgProblem::at("rows", "`rows` needs `bands` too").with_help(
                    "give both `bands:` and `rows:`, or neither to derive them from `near`",
                ),
            )
        }
        (Some(bands), Some(rows)) => {
            let num_perm = int_arg(args, "num_perm").unwrap_or(128);
            if bands.saturating_mul(rows) > num_perm {
                return Err(ArgProblem::at(
                    "bands",
                    format!(
                        "{bands} bands × {rows} rows need {} MinHash slots, but `num_perm` is {num_perm}",
                        bands.saturating_mul(rows)
                    ),
                )
                .with_help("choose bands × rows ≤ num_perm, or raise `num_perm`"));
            }
        }
        (None, None) => {}
    }
    Ok(arg(args, "data")
        .map(Value::type_of)
        .unwrap_or(Type::Dataset(None)))
}

/// The near-duplicate parameters of a call, `None` when the pass is off.
fn near_params(call: &OpCall) -> anyhow::Result<Option<NearDedupParams>> {
    let Some(threshold) = call.opt_f64("near") else {
        return Ok(None);
    };
    let bands = match (call.opt_usize("bands")?, call.opt_usize("rows")?) {
        (Some(bands), Some(rows)) => Some(LshBands { bands, rows }),
        (None, None) => None,
        _ => anyhow::bail!("give both `bands` and `rows`, or neither"),
    };
    Ok(Some(NearDedupParams {
        ngram: call.usize("ngram")?,
        num_perm: call.usize("num_perm")?,
        threshold,
        bands,
        seed: call.u64("seed")?,
    }))
}

/// Where each row ended up: kept (its own root), or removed in favour of `root`.
struct Fate {
    root: Vec<usize>,
    stage: Vec<Option<DedupStage>>,
    jaccard: Vec<f64>,
}

impl Fate {
    fn new(n: usize) -> Fate {
        Fate {
            root: (0..n).collect(),
            stage: vec![None; n],
            jaccard: vec![1.0; n],
        }
    }

    fn remove(&mut self, row: usize, root: usize, stage: DedupStage, jaccard: f64) {
        self.root[row] = root;
        self.stage[row] = Some(stage);
        self.jaccard[row] = jaccard;
    }
}

impl Op for Dedup {
    fn signature(&self) -> &OpSignature {
        &self.signature
    }

    fn execute(&self, call: &OpCall, ctx: &OpContext) -> anyhow::Result<Output> {
        let data = call.dataset("data")?;
        let on = call.str("on")?.to_string();
        let part = if on == "prompt" {
            TextPart::Prompt
        } else {
            TextPart::All
        };
        let exact = call.bool("exact")?;
        let near = near_params(call)?
            .map(NearDedup::new)
            .transpose()
            .map_err(|e| anyhow::anyhow!("dedup: {e}"))?;
        let n = data.rows.len();
        ctx.progress.set_total(n as u64, "rows");
        let texts: Vec<String> = data
            .rows
            .iter()
            .map(|r| text_of(data.schema, &r.fields, part))
            .collect();
        let texts: Vec<&str> = texts.iter().map(String::as_str).collect();

        let mut fate = Fate::new(n);
        let survivors: Vec<usize> = if exact {
            ctx.progress.message("exact pass");
            let result = exact_dedup(&texts);
            for cluster in &result.clusters {
                for removed in &cluster.removed {
                    fate.remove(removed.index, cluster.kept, DedupStage::Exact, 1.0);
                }
            }
            result.kept
        } else {
            (0..n).collect()
        };
        ctx.check_cancelled()?;

        if let Some(near) = &near {
            ctx.progress.message("near-duplicate pass");
            let subset: Vec<&str> = survivors.iter().map(|&i| texts[i]).collect();
            let result = near
                .dedup(&subset)
                .map_err(|e| anyhow::anyhow!("dedup: {e}"))?;
            for cluster in &result.clusters {
                for removed in &cluster.removed {
                    fate.remove(
                        survivors[removed.index],
                        survivors[cluster.kept],
                        DedupStage::Near,
                        removed.jaccard,
                    );
                }
            }
            // An exact copy of a row the near pass removed follows that row to its keeper. Its
            // shingles equal that row's, so its Jaccard with the keeper is the same.
            for row in 0..n {
                let via = fate.root[row];
                if fate.stage[row] == Some(DedupStage::Exact) && fate.root[via] != via {
                    let (root, jaccard) = (fate.root[via], fate.jaccard[via]);
                    fate.remove(row, root, DedupStage::Near, jaccard);
                }
            }
        }
        ctx.check_cancelled()?;

        let record = build_record(&data, &texts, &fate, &on, exact, near.as_ref());
        let kept: Vec<_> = (0..n)
            .filter(|&i| fate.root[i] == i)
            .map(|i| data.rows[i].clone())
            .collect();
        ctx.progress.advance(n as u64);
        let mut out = Dataset::new(data.schema, kept);
        out.meta
            .insert(DEDUP_META_KEY.into(), serde_json::to_value(&record)?);
        Ok(Output::Dataset(out))
    }

    fn details(&self, meta: &Json) -> Option<Json> {
        // The counts only: the clusters can be large and are for `tulu cat --summary`.
        let record = meta.get(DEDUP_META_KEY)?;
        let count = |field: &str| record.get(field).cloned().unwrap_or(Json::Null);
        Some(serde_json::json!({
            "dedup": {
                "input_rows": count("input_rows"),
                "kept_rows": count("kept_rows"),
                "removed_exact": count("removed_exact"),
                "removed_near": count("removed_near"),
                "clusters": record.get("clusters").and_then(Json::as_array).map(Vec::len),
            }
        }))
    }
}

fn build_record(
    data: &Dataset,
    texts: &[&str],
    fate: &Fate,
    on: &str,
    exact: bool,
    near: Option<&NearDedup>,
) -> DedupRecord {
    let n = data.rows.len();
    // Clusters in order of their kept row; rows removed in favour of it in input order.
    let mut cluster_of: Vec<Option<usize>> = vec![None; n];
    let mut clusters: Vec<DedupCluster> = Vec::new();
    let mut removed_rows: Vec<usize> = (0..n).filter(|&i| fate.root[i] != i).collect();
    removed_rows.sort_by_key(|&i| (fate.root[i], i));
    let (mut removed_exact, mut removed_near) = (0, 0);
    for row in removed_rows {
        let root = fate.root[row];
        let slot = *cluster_of[root].get_or_insert_with(|| {
            clusters.push(DedupCluster {
                kept: RowRef::of(root, &data.rows[root]),
                preview: preview(texts[root]),
                removed: Vec::new(),
            });
            clusters.len() - 1
        });
        let stage = fate.stage[row].unwrap_or(DedupStage::Exact);
        match stage {
            DedupStage::Exact => removed_exact += 1,
            DedupStage::Near => removed_near += 1,
        }
        clusters[slot].removed.push(RemovedRow {
            at: RowRef::of(row, &data.rows[row]),
            stage,
            jaccard: fate.jaccard[row],
        });
    }
    DedupRecord {
        on: on.to_string(),
        exact,
        near: near.map(|near| {
            let params = near.params();
            NearSettings {
                threshold: params.threshold,
                ngram: params.ngram,
                num_perm: params.num_perm,
                bands: near.bands().bands,
                rows: near.bands().rows,
                seed: params.seed,
            }
        }),
        input_rows: n,
        kept_rows: n - removed_exact - removed_near,
        removed_exact,
        removed_near,
        clusters,
    }
}

#[cfg(test)]
#[path = "dedup_tests.rs"]
mod tests;
