//! `tulu cat --summary`: an artifact described for a person — a dataset's schema, rows per
//! source with licenses, and what its op recorded (mix counts, filter counts, dedup clusters, a
//! loss curve); a model's files and metadata; a report's markdown.

use std::fmt::Write;

use serde_json::Value as Json;

use super::artifacts::ArtifactStore;
use crate::cache::{Hash, Manifest};

const REPORT_MARKDOWN: &str = "report.md";

pub fn render(store: &ArtifactStore, hash: Hash, manifest: &Manifest) -> anyhow::Result<String> {
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
                writeln!(
                    out,
                    "\n{key}:\n{}",
                    indent(&serde_json::to_string_pretty(value)?)
                )?;
            }
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
            if !meta.is_empty() {
                writeln!(out, "\n{}", serde_json::to_string_pretty(&manifest.meta)?)?;
            }
        }
    }
    Ok(out.trim_end().to_string())
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

fn indent(text: &str) -> String {
    text.lines()
        .map(|l| format!("  {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}
