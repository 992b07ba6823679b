//! `tulu cat --summary`: an artifact described for a person — a dataset's schema, rows per
//! source with licenses, and what its op recorded (mix counts, filter counts, dedup clusters, a
//! loss curve); a model's files and metadata; a report's markdown.

use std::fmt::Write;

use serde::Deserialize;
use serde_json::Value as Json;

use super::artifacts::ArtifactStore;
use crate::cache::{Hash, Manifest};
use crate::ops::contamination_report::{ContaminationReport, DECONTAM_META_KEY};
use crate::ops::dedup_record::{DedupRecord, DEDUP_META_KEY};

/// Dedup clusters `tulu cat --summary` lists, largest first.
const TOP_CLUSTERS: usize = 10;

const REPORT_MARKDOWN: &str = "report.md";

/// The node whose artifact is shown: its params, and the names of the plan nodes its inputs
/// come from (a report that compares models labels them with their binding names).
pub struct NodeContext<'a> {
    pub params: &'a Json,
    pub input_names: Vec<String>,
}

impl NodeContext<'_> {
    /// The binding name of the artifact an `{"$input": i}` param value refers to.
    fn name_of(&self, reference: &Json) -> Option<String> {
        let i = reference.get("$input")?.as_u64()? as usize;
        self.input_names.get(i).cloned()
    }
}

pub fn render(
    store: &ArtifactStore,
    hash: Hash,
    manifest: &Manifest,
    node: &NodeContext,
) -> anyhow::Result<String> {
    let mut out = String::new();
    let meta = manifest.meta.as_object().cloned().unwrap_or_default();
    match manifest.kind.as_str() {
        "dataset" => {
            let schema = meta.get("schema").and_then(Json::as_str).unwrap_or("?");
            let rows = meta.get("rows").and_then(Json::as_u64).unwrap_or(0);
            writeln!(
                out,
                "dataset {}  schema {schema}  {rows} rows",
                hash.short()
            )?;
            if let Some(Json::Object(sources)) = meta.get("sources") {
                writeln!(out, "\nsources:")?;
                let width = sources.keys().map(|k| k.len()).max().unwrap_or(6).max(6);
                writeln!(
                    out,
                    "  {:<width$}  {:<16}  {:>10}",
                    "source", "license", "rows"
                )?;
                for (name, info) in sources {
                    writeln!(
                        out,
                        "  {:<width$}  {:<16}  {:>10}",
                        name,
                        info.get("license").and_then(Json::as_str).unwrap_or("?"),
                        info.get("rows").and_then(Json::as_u64).unwrap_or(0)
                    )?;
                }
            }
            if let Some(Json::Array(mix)) = meta.get("mix") {
                writeln!(out, "\nmix (resolved):")?;
                writeln!(
                    out,
                    "  {:<30} {:>10} {:>10} {:>10}",
                    "source", "requested", "available", "selected"
                )?;
                for m in mix {
                    let names = m
                        .get("names")
                        .and_then(Json::as_array)
                        .map(|a| {
                            a.iter()
                                .filter_map(Json::as_str)
                                .collect::<Vec<_>>()
                                .join(",")
                        })
                        .unwrap_or_default();
                    writeln!(
                        out,
                        "  {:<30} {:>10} {:>10} {:>10}",
                        names,
                        m.get("requested")
                            .map(|v| v.to_string())
                            .unwrap_or_default(),
                        m.get("available")
                            .map(|v| v.to_string())
                            .unwrap_or_default(),
                        m.get("selected").map(|v| v.to_string()).unwrap_or_default()
                    )?;
                }
            }
            if let Some(score) = meta.get("score") {
                render_score(&mut out, score)?;
            }
            for (key, value) in &meta {
                if matches!(
                    key.as_str(),
                    "schema" | "rows" | "sources" | "mix" | "score"
                ) {
                    continue;
                }
                if let Some(rendered) = render_curation(key, value) {
                    write!(out, "\n{rendered}")?;
                    continue;
                }
                writeln!(
                    out,
                    "\n{key}:\n{}",
                    indent(&serde_json::to_string_pretty(value)?)
                )?;
            }
        }
        "report" if meta.get("format").and_then(Json::as_str) == Some("eval") => {
            let bytes = store
                .cache()
                .blobs()
                .manifest_file_bytes(hash, manifest, "report.json")?;
            let report: Json = serde_json::from_slice(&bytes)?;
            let models = node.params.get("models").and_then(Json::as_array);
            let count = report.get("models").and_then(Json::as_u64).unwrap_or(0) as usize;
            let names: Vec<String> = (0..count)
                .map(|m| {
                    models
                        .and_then(|list| list.get(m))
                        .and_then(|r| node.name_of(r))
                        .unwrap_or_else(|| format!("model #{m}"))
                })
                .collect();
            out.push_str(&crate::ops::eval_report::render_eval_markdown(
                &report, &names,
            ));
        }
        "report" => {
            if manifest.file(REPORT_MARKDOWN).is_some() {
                let bytes =
                    store
                        .cache()
                        .blobs()
                        .manifest_file_bytes(hash, manifest, REPORT_MARKDOWN)?;
                out.push_str(&String::from_utf8_lossy(&bytes));
            } else {
                writeln!(
                    out,
                    "report {}\n{}",
                    hash.short(),
                    serde_json::to_string_pretty(&manifest.meta)?
                )?;
            }
        }
        kind => {
            writeln!(
                out,
                "{kind} {}  {} files, {} bytes",
                hash.short(),
                manifest.files.len(),
                manifest.total_size()
            )?;
            for (path, entry) in &manifest.files {
                writeln!(
                    out,
                    "  {path:<32} {:>12} bytes  {}",
                    entry.size,
                    entry.hash.short()
                )?;
            }
            let mut rest = meta.clone();
            if let Some(Json::Object(training)) = rest.remove("training") {
                write_training(&mut out, &training)?;
            }
            if !rest.is_empty() {
                writeln!(
                    out,
                    "\n{}",
                    serde_json::to_string_pretty(&Json::Object(rest))?
                )?;
            }
        }
    }
    Ok(out.trim_end().to_string())
}

/// A model's training record: the settings it reports, and the loss curve as a sparkline.
fn write_training(out: &mut String, training: &serde_json::Map<String, Json>) -> std::fmt::Result {
    let kind = training
        .get("kind")
        .and_then(Json::as_str)
        .unwrap_or("training");
    writeln!(out, "\n{kind}:")?;
    for (key, value) in training {
        if matches!(key.as_str(), "kind" | "loss_curve" | "summary") {
            continue;
        }
        writeln!(out, "  {key}: {value}")?;
    }
    let losses: Vec<f64> = training
        .get("loss_curve")
        .and_then(Json::as_array)
        .map(|c| {
            c.iter()
                .filter_map(|p| p.get("loss").and_then(Json::as_f64))
                .collect()
        })
        .unwrap_or_default();
    if let (Some(first), Some(last)) = (losses.first(), losses.last()) {
        let steps = training
            .get("summary")
            .and_then(|s| s.get("steps"))
            .and_then(Json::as_u64)
            .unwrap_or(losses.len() as u64);
        writeln!(out, "  loss: {first:.4} → {last:.4} over {steps} steps")?;
        writeln!(out, "  {}", sparkline(&losses, 60))?;
    }
    Ok(())
}

/// The accuracy `score` recorded: overall, per task, and IFEval's four numbers.
fn render_score(out: &mut String, score: &Json) -> std::fmt::Result {
    let count = |v: &Json, key: &str| v.get(key).and_then(Json::as_u64).unwrap_or(0);
    let percent = |v: Option<&Json>| match v.and_then(Json::as_f64) {
        Some(x) => format!("{:.1}%", 100.0 * x),
        None => "-".to_string(),
    };
    let verifier = score.get("verifier").and_then(Json::as_str).unwrap_or("?");
    writeln!(out, "\nscore (verifier {verifier}):")?;
    writeln!(
        out,
        "  {:<10} {:>8} {:>8} {:>9}",
        "task", "rows", "correct", "accuracy"
    )?;
    let mut line = |name: &str, v: &Json| {
        writeln!(
            out,
            "  {:<10} {:>8} {:>8} {:>9}",
            name,
            count(v, "rows"),
            count(v, "correct"),
            percent(v.get("accuracy"))
        )
    };
    if let Some(Json::Object(per_task)) = score.get("per_task") {
        if per_task.len() > 1 {
            for (task, v) in per_task {
                line(task, v)?;
            }
        }
    }
    line("all", score)?;
    if let Some(ifeval) = score.get("ifeval") {
        writeln!(out, "\n  IFEval        {:>8} {:>8}", "strict", "loose")?;
        for (level, strict, loose) in [
            (
                "prompt",
                "prompt_level_strict_acc",
                "prompt_level_loose_acc",
            ),
            (
                "instruction",
                "inst_level_strict_acc",
                "inst_level_loose_acc",
            ),
        ] {
            writeln!(
                out,
                "  {level:<13} {:>8} {:>8}",
                percent(ifeval.get(strict)),
                percent(ifeval.get(loose))
            )?;
        }
        writeln!(
            out,
            "  {} prompts, {} instructions checked",
            count(ifeval, "prompts"),
            count(ifeval, "instructions")
        )?;
        if let Some(Json::Object(unsupported)) = ifeval.get("unsupported") {
            if !unsupported.is_empty() {
                let total: u64 = unsupported.values().filter_map(Json::as_u64).sum();
                let ids: Vec<&str> = unsupported.keys().map(String::as_str).collect();
                writeln!(
                    out,
                    "  {total} instructions could not be checked: {}\n  the {} prompts holding \
                     them are left out of the prompt-level accuracy and count as incorrect above",
                    ids.join(", "),
                    count(ifeval, "prompts_not_fully_checked")
                )?;
            }
        }
    }
    Ok(())
}

/// `▇▆▅▃▂▁`: values resampled to at most `width` columns.
fn sparkline(values: &[f64], width: usize) -> String {
    const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    let finite: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
    if finite.is_empty() {
        return String::new();
    }
    let (lo, hi) = finite
        .iter()
        .fold((f64::MAX, f64::MIN), |(a, b), v| (a.min(*v), b.max(*v)));
    let columns = width.min(finite.len()).max(1);
    (0..columns)
        .map(|c| {
            let start = c * finite.len() / columns;
            let end = ((c + 1) * finite.len() / columns).max(start + 1);
            let mean = finite[start..end].iter().sum::<f64>() / (end - start) as f64;
            let t = if hi > lo {
                (mean - lo) / (hi - lo)
            } else {
                0.0
            };
            BARS[((t * 7.0).round() as usize).min(7)]
        })
        .collect()
}

/// The records of `dedup` and `decontam`, rendered; `None` for other keys (or a record this
/// build cannot read, which is then shown as JSON).
fn render_curation(key: &str, value: &Json) -> Option<String> {
    match key {
        DEDUP_META_KEY => DedupRecord::deserialize(value)
            .ok()
            .map(|r| r.render_summary(TOP_CLUSTERS)),
        DECONTAM_META_KEY => ContaminationReport::deserialize(value)
            .ok()
            .map(|r| r.render_summary()),
        _ => None,
    }
}

fn indent(text: &str) -> String {
    text.lines()
        .map(|l| format!("  {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}
