//! Scheduling and execution, early cutoff, `plan`/`why`, the lockfile, progress and run records.

pub mod artifacts;
pub mod card;
pub mod lockfile;
pub mod plan_status;
pub mod progress;
pub mod reasons;
pub mod report;
pub mod run;
pub mod session;
pub mod summary;

pub use lockfile::{lock_path, Lockfile};
pub use plan_status::plan_status;
pub use progress::{ProgressMode, RunProgress};
pub use report::{NodeReport, Report, Status};
pub use run::{run, RunOptions};
pub use session::Session;

use crate::cache::{canonical_json_string, Hash};
use crate::check::{Plan, PlanInput};
use lockfile::{LockInput, LockNode, LOCK_VERSION};

/// The lockfile for a run where every node finished.
pub fn lockfile_for(session: &Session, report: &Report) -> Lockfile {
    let plan = session.plan;
    let mut outputs: Vec<Option<Hash>> = vec![None; plan.nodes.len()];
    for (node, r) in plan.nodes.iter().zip(&report.nodes) {
        if r.name == node.name {
            outputs[node.id.0 as usize] = r.output;
        }
    }
    let nodes = plan
        .nodes
        .iter()
        .zip(&report.nodes)
        .filter_map(|(node, r)| {
            let (key, output) = (r.key?, r.output?);
            let inputs = session.input_hashes(node, &outputs);
            Some(LockNode {
                name: node.name.clone(),
                op: node.op.to_string(),
                op_version: node.op_version,
                key: key.to_hex(),
                output: output.to_hex(),
                params: canonical_json_string(&node.params),
                inputs: node
                    .input_labels
                    .iter()
                    .zip(inputs)
                    .filter_map(|(label, h)| {
                        h.map(|h| LockInput {
                            label: label.clone(),
                            hash: h.to_hex(),
                        })
                    })
                    .collect(),
            })
        })
        .collect();
    Lockfile {
        version: LOCK_VERSION,
        recipe: plan
            .recipe_path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        nodes,
    }
}

/// Under `--locked`: every node of the plan must have the key the lockfile recorded, given the
/// lockfile's upstream outputs and the current files. Returns each difference, explained.
pub fn lock_differences(session: &Session, lock: &Lockfile) -> Vec<String> {
    let plan: &Plan = session.plan;
    let mut problems = Vec::new();
    let mut outputs: Vec<Option<Hash>> = vec![None; plan.nodes.len()];
    for node in &plan.nodes {
        let Some(entry) = lock.node(&node.name) else {
            problems.push(format!(
                "`{}` is not in the lockfile (a new node)",
                node.name
            ));
            continue;
        };
        outputs[node.id.0 as usize] = entry.output_hash();
        let inputs = session.input_hashes(node, &outputs);
        let Some(hashes) = inputs.iter().copied().collect::<Option<Vec<Hash>>>() else {
            continue; // an upstream difference is already reported
        };
        let key = session.key(node, &hashes);
        if Some(key) != entry.key_hash() {
            let prev = entry.previous_run();
            let labelled: Vec<(String, Option<Hash>)> =
                node.input_labels.iter().cloned().zip(inputs).collect();
            let reasons = reasons::diff(
                Some(&prev),
                node.op,
                node.op_version,
                &node.params,
                &labelled,
            );
            let why: Vec<String> = reasons.iter().map(reasons::Reason::message).collect();
            problems.push(format!("`{}`: {}", node.name, why.join("; ")));
        }
    }
    for entry in &lock.nodes {
        if plan.find(&entry.name).is_none() {
            problems.push(format!(
                "`{}` is in the lockfile but no longer in the recipe",
                entry.name
            ));
        }
    }
    problems
}

/// The files a plan reads, for messages.
pub fn files_of(plan: &Plan) -> Vec<&str> {
    let mut files: Vec<&str> = plan
        .nodes
        .iter()
        .flat_map(|n| n.inputs.iter())
        .filter_map(|i| match i {
            PlanInput::File { display, .. } => Some(display.as_str()),
            _ => None,
        })
        .collect();
    files.sort();
    files.dedup();
    files
}
