//! `tulu plan`: which nodes are cached and which would run, and why — without running anything.

use super::report::{NodeReport, Report, Status};
use super::session::{Hit, Session};
use crate::cache::Hash;

/// The status of every node, in plan order. A node below one that would run cannot know its key
/// yet (early cutoff may still spare it); it is reported as `run` with the upstream reason.
pub fn plan_status(session: &Session) -> anyhow::Result<Report> {
    let plan = session.plan;
    let mut outputs: Vec<Option<Hash>> = vec![None; plan.nodes.len()];
    let mut report = Report::default();
    for node in &plan.nodes {
        let inputs = session.input_hashes(node, &outputs);
        let known: Option<Vec<Hash>> = inputs.iter().copied().collect();
        let (status, key, output, reasons) = match known {
            None => (Status::Run, None, None, session.reasons(node, &inputs)),
            Some(hashes) => {
                let key = session.key(node, &hashes);
                match session.lookup(node, key)? {
                    Hit::Cached(out) => (Status::Cached, Some(key), Some(out), Vec::new()),
                    Hit::Miss => (Status::Run, Some(key), None, session.reasons(node, &inputs)),
                    Hit::Unusable(reason) => (Status::Run, Some(key), None, vec![reason]),
                }
            }
        };
        outputs[node.id.0 as usize] = output;
        report.nodes.push(NodeReport {
            name: node.name.clone(),
            op: node.op.to_string(),
            key,
            status,
            reasons,
            output,
            duration: None,
            error: None,
            details: None,
        });
    }
    Ok(report)
}
