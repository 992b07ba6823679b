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
            for (key, value) in &meta {
                if matches!(key.as_str(), "schema" | "rows" | "sources" | "mix") {
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
