//! Data cards: `tulu cat RECIPE NODE --card` describes a dataset node for a person — its sources
//! and licenses with row counts, and every step of its lineage (load, filter, sample, mix,
//! concat, dedup, decontam, …) with the rows each one took in, gave out and removed per source,
//! plus the contamination tables of the decontamination steps.
//!
//! The lineage is the node's ancestry in the plan, followed through the inputs that feed rows
//! (a `decontam`'s eval sets are named in its table, not walked); every step's facts come from
//! the metadata its artifact recorded in the cache, so the card needs every step cached.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use anyhow::{anyhow, bail};
use serde::Deserialize;
use serde_json::{Map, Value as Json};

use super::plan_status::plan_status;
use super::session::Session;
use crate::check::value::describe_json;
use crate::check::{NodeId, PlanInput, PlanNode, Type};
use crate::ops::contamination_report::{ContaminationReport, DECONTAM_META_KEY};
use crate::ops::dedup_record::{DedupRecord, DEDUP_META_KEY};

/// Rows per source, as a dataset manifest records them.
type SourceRows = BTreeMap<String, (String, u64)>;

/// Whether input `label` of an `op` node contributes rows to its output (as opposed to a set it
/// is compared against).
fn feeds_rows(op: &str, label: &str) -> bool {
    !(op == "decontam" && label.starts_with("against"))
}

/// One step of the lineage, with what its artifact recorded.
struct Step<'p> {
    node: &'p PlanNode,
    meta: Map<String, Json>,
    /// The steps whose rows it read, each with how many times it read them
    /// (`concat([a, a])` reads `a` twice).
    inputs: Vec<(NodeId, u64)>,
}

/// How many times each input (by position) appears in the node's row-feeding params.
fn input_uses(node: &PlanNode) -> BTreeMap<usize, u64> {
    fn count(value: &Json, uses: &mut BTreeMap<usize, u64>) {
        match value {
            Json::Object(map) => match map.get("$input").and_then(Json::as_u64) {
                Some(i) => *uses.entry(i as usize).or_default() += 1,
                None => map.values().for_each(|v| count(v, uses)),
            },
            Json::Array(items) => items.iter().for_each(|v| count(v, uses)),
            _ => {}
        }
    }
    let mut uses = BTreeMap::new();
    if let Some(params) = node.params.as_object() {
        for (name, value) in params {
            if feeds_rows(node.op, name) {
                count(value, &mut uses);
            }
        }
    }
    uses
}

fn sources_of(meta: &Map<String, Json>) -> SourceRows {
    let mut out = SourceRows::new();
    if let Some(Json::Object(sources)) = meta.get("sources") {
        for (name, info) in sources {
            out.insert(
                name.clone(),
                (
                    info.get("license")
                        .and_then(Json::as_str)
                        .unwrap_or("unknown")
                        .to_string(),
                    info.get("rows").and_then(Json::as_u64).unwrap_or(0),
                ),
            );
        }
    }
    out
}

fn rows_of(meta: &Map<String, Json>) -> u64 {
    meta.get("rows").and_then(Json::as_u64).unwrap_or(0)
}

/// The card of dataset node `target`, as Markdown. Fails, saying what to run, when a step of its
/// lineage is not cached in its current form.
pub fn data_card(session: &Session, target: &PlanNode) -> anyhow::Result<String> {
    let plan = session.plan;
    if !matches!(target.output_type, Type::Dataset(_)) {
        bail!(
            "`{}` is a {}, not a dataset; `--card` describes datasets (use `--summary` for other artifacts)",
            target.name,
            target.output_type
        );
    }
    let status = plan_status(session)?;
    let rerun = |name: &str| {
        anyhow!(
            "`{name}` (in the lineage of `{}`) is not in the cache in its current form; run `tulu run {} {}` first",
            target.name,
            plan.recipe_path.display(),
            target.name
        )
    };

    // The lineage, walked from the target through row-feeding inputs; listed in plan order,
    // which is topological.
    let mut lineage: BTreeSet<NodeId> = BTreeSet::new();
    let mut stack = vec![target.id];
    while let Some(id) = stack.pop() {
        if !lineage.insert(id) {
            continue;
        }
        let node = plan.node(id);
        for (input, label) in node.inputs.iter().zip(&node.input_labels) {
            if let PlanInput::Node(up) = input {
                if matches!(plan.node(*up).output_type, Type::Dataset(_))
                    && feeds_rows(node.op, label)
                {
                    stack.push(*up);
                }
            }
        }
    }
    let mut steps: Vec<Step> = Vec::new();
    for node in plan.nodes.iter().filter(|n| lineage.contains(&n.id)) {
        let output = status.nodes[node.id.0 as usize]
            .output
            .ok_or_else(|| rerun(&node.name))?;
        let manifest = session
            .store
            .manifest(output)
            .map_err(|_| rerun(&node.name))?;
        let uses = input_uses(node);
        let inputs = node
            .inputs
            .iter()
            .zip(&node.input_labels)
            .enumerate()
            .filter_map(|(i, (input, label))| match input {
                PlanInput::Node(up) if lineage.contains(up) && feeds_rows(node.op, label) => {
                    Some((*up, uses.get(&i).copied().unwrap_or(1)))
                }
                _ => None,
            })
            .collect();
        steps.push(Step {
            node,
            meta: manifest.meta.as_object().cloned().unwrap_or_default(),
            inputs,
        });
    }
    let Some(last) = steps.last().filter(|s| s.node.id == target.id) else {
        return Err(rerun(&target.name));
    };
    let recipe = plan
        .recipe_path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let output = status.nodes[target.id.0 as usize].output;

    let mut out = format!("# Data card: `{}`\n\n", target.name);
    let _ = writeln!(
        out,
        "Dataset `{}` of `{recipe}`: {} rows, schema `{}`, output `{}`.\n",
        target.name,
        rows_of(&last.meta),
        last.meta
            .get("schema")
            .and_then(Json::as_str)
            .unwrap_or("?"),
        output.map(|h| h.to_hex()).unwrap_or_default()
    );
    render_sources(&mut out, &sources_of(&last.meta));
    render_lineage(&mut out, &steps);
    for step in &steps {
        if let Some(report) = step
            .meta
            .get(DECONTAM_META_KEY)
            .and_then(|v| ContaminationReport::deserialize(v).ok())
        {
            let _ = writeln!(out, "\n## Decontamination: `{}`\n", step.node.name);
            let _ = writeln!(out, "{}\n", report.headline());
            out.push_str("Eval sets:\n");
            out.push_str(&report.eval_set_lines());
            out.push('\n');
            out.push_str(&report.render_table());
        }
    }
    Ok(out.trim_end().to_string())
}

fn render_sources(out: &mut String, sources: &SourceRows) {
    out.push_str("## Sources\n\n| source | license | rows |\n|---|---|---:|\n");
    for (name, (license, rows)) in sources {
        let _ = writeln!(out, "| {} | {} | {rows} |", cell(name), cell(license));
    }
    let mut licenses: BTreeMap<&str, (Vec<&str>, u64)> = BTreeMap::new();
    for (name, (license, rows)) in sources {
        let entry = licenses.entry(license.as_str()).or_default();
        entry.0.push(name);
        entry.1 += rows;
    }
    out.push_str("\n## Licenses\n\n| license | sources | rows |\n|---|---|---:|\n");
    for (license, (names, rows)) in &licenses {
        let _ = writeln!(
            out,
            "| {} | {} | {rows} |",
            cell(license),
            cell(&names.join(", "))
        );
    }
    if let Some((names, rows)) = licenses.get("unknown") {
        let rows = if *rows == 1 {
            "1 row comes".to_string()
        } else {
            format!("{rows} rows come")
        };
        let _ = writeln!(
            out,
            "\n**Warning:** {rows} from sources without a declared license ({}); give their `load` a `license:`.",
            names.join(", ")
        );
    }
}

fn render_lineage(out: &mut String, steps: &[Step]) {
    out.push_str(
        "\n## Lineage\n\n| step | op | rows in | rows out | change | what it did |\n|---|---|---:|---:|---:|---|\n",
    );
    for step in steps {
        let node = step.node;
        let rows_out = rows_of(&step.meta);
        let upstream: Vec<(&Step, u64)> = step
            .inputs
            .iter()
            .filter_map(|(id, uses)| steps.iter().find(|s| s.node.id == *id).map(|s| (s, *uses)))
            .collect();
        let (rows_in, change) = if upstream.is_empty() {
            (String::new(), String::new())
        } else {
            let rows_in: u64 = upstream
                .iter()
                .map(|(s, uses)| rows_of(&s.meta) * uses)
                .sum();
            let change = rows_out as i64 - rows_in as i64;
            (rows_in.to_string(), signed(change))
        };
        let mut what = step_note(step);
        if !upstream.is_empty() {
            let delta = source_delta(&upstream, &step.meta);
            if !delta.is_empty() {
                if !what.is_empty() {
                    what.push_str("; ");
                }
                what.push_str(&delta);
            }
        }
        let _ = writeln!(
            out,
            "| `{}` | {} | {rows_in} | {rows_out} | {change} | {} |",
            node.name,
            node.op,
            cell(&what)
        );
    }
}

fn signed(n: i64) -> String {
    match n {
        0 => "0".into(),
        n if n > 0 => format!("+{n}"),
        n => format!("−{}", n.unsigned_abs()),
    }
}

/// Per source, rows removed (or added, by upsampling) relative to the step's inputs.
fn source_delta(upstream: &[(&Step, u64)], meta: &Map<String, Json>) -> String {
    let mut before: BTreeMap<String, i64> = BTreeMap::new();
    for (step, uses) in upstream {
        for (name, (_, rows)) in sources_of(&step.meta) {
            *before.entry(name).or_default() += (rows * uses) as i64;
        }
    }
    let after = sources_of(meta);
    let mut names: BTreeSet<&String> = before.keys().collect();
    names.extend(after.keys());
    let (mut removed, mut added) = (Vec::new(), Vec::new());
    for name in names {
        let b = before.get(name).copied().unwrap_or(0);
        let a = after.get(name).map(|(_, r)| *r as i64).unwrap_or(0);
        match a - b {
            0 => {}
            d if d < 0 => removed.push(format!("{name} {}", -d)),
            d => added.push(format!("{name} {d}")),
        }
    }
    let mut parts = Vec::new();
    if !removed.is_empty() {
        parts.push(format!("removed {}", removed.join(", ")));
    }
    if !added.is_empty() {
        parts.push(format!("added {}", added.join(", ")));
    }
    parts.join("; ")
}

/// What the step did, from its op's metadata, else from its params.
fn step_note(step: &Step) -> String {
    let node = step.node;
    match node.op {
        "load" => {
            let file = node.inputs.iter().find_map(|i| match i {
                PlanInput::File { display, .. } => Some(display.as_str()),
                _ => None,
            });
            let sources: Vec<String> = sources_of(&step.meta)
                .into_iter()
                .map(|(name, (license, _))| format!("`{name}` ({license})"))
                .collect();
            format!("{} as {}", file.unwrap_or("?"), sources.join(", "))
        }
        "dedup" => step
            .meta
            .get(DEDUP_META_KEY)
            .and_then(|v| DedupRecord::deserialize(v).ok())
            .map(|r| r.card_note())
            .unwrap_or_default(),
        "decontam" => step
            .meta
            .get(DECONTAM_META_KEY)
            .and_then(|v| ContaminationReport::deserialize(v).ok())
            .map(|r| r.card_note())
            .unwrap_or_default(),
        "mix" => mix_note(step.meta.get("mix")),
        _ => params_note(&node.params),
    }
}

fn mix_note(mix: Option<&Json>) -> String {
    let Some(Json::Array(parts)) = mix else {
        return String::new();
    };
    parts
        .iter()
        .map(|p| {
            let names = p
                .get("names")
                .and_then(Json::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(Json::as_str)
                        .collect::<Vec<_>>()
                        .join("+")
                })
                .unwrap_or_default();
            format!(
                "{names}: {} of {} → {}",
                p.get("requested").map(describe_json).unwrap_or_default(),
                p.get("available").map(describe_json).unwrap_or_default(),
                p.get("selected").map(describe_json).unwrap_or_default()
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The params a step was given, inputs left out: `n: 0.5, seed: 1`.
fn params_note(params: &Json) -> String {
    let Some(map) = params.as_object() else {
        return String::new();
    };
    map.iter()
        .filter(|(_, v)| !v.is_null() && !mentions_input(v))
        .map(|(k, v)| format!("{k}: {}", describe_json(v)))
        .collect::<Vec<_>>()
        .join(", ")
}

fn mentions_input(v: &Json) -> bool {
    match v {
        Json::Object(m) => m.contains_key("$input") || m.values().any(mentions_input),
        Json::Array(items) => items.iter().any(mentions_input),
        _ => false,
    }
}

fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}
