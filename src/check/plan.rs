//! The checked plan: every node with its op, resolved params and inputs — what the graph and the
//! engine work from. Nothing here refers to syntax except spans, kept for messages.

use std::path::PathBuf;

use serde_json::Value as Json;

use super::types::Type;
pub use super::value::NodeId;
use crate::syntax::{SourceMap, Span};

/// Something a node reads: another node's artifact, or a file on disk identified by content.
#[derive(Debug, Clone, PartialEq)]
pub enum PlanInput {
    Node(NodeId),
    File {
        /// Absolute path.
        path: PathBuf,
        /// As the recipe wrote it.
        display: String,
    },
}

#[derive(Debug, Clone)]
pub struct PlanNode {
    pub id: NodeId,
    /// The qualified binding name (`sft`, `eval.gsm8k_test`, `t.dpo`, `data/dedup`).
    pub name: String,
    /// Other names the same node was bound to (identical calls are one node).
    pub aliases: Vec<String>,
    pub op: &'static str,
    pub op_version: u32,
    /// Every param, defaults filled in; inputs appear as `{"$input": i}`.
    pub params: Json,
    pub inputs: Vec<PlanInput>,
    /// For each input, where it came from in the params (`data`, `against[1]`), for messages.
    pub input_labels: Vec<String>,
    pub output_type: Type,
    pub span: Span,
}

#[derive(Debug)]
pub struct Plan {
    pub sources: SourceMap,
    /// Topologically ordered: every node comes after its inputs.
    pub nodes: Vec<PlanNode>,
    /// The recipe file (absolute), for the lockfile and the default cache location.
    pub recipe_path: PathBuf,
    /// Non-fatal diagnostics.
    pub warnings: Vec<crate::syntax::Diagnostic>,
}

impl Plan {
    pub fn node(&self, id: NodeId) -> &PlanNode {
        &self.nodes[id.0 as usize]
    }

    /// A node by name or alias.
    pub fn find(&self, name: &str) -> Option<&PlanNode> {
        self.nodes.iter().find(|n| n.name == name).or_else(|| {
            self.nodes
                .iter()
                .find(|n| n.aliases.iter().any(|a| a == name))
        })
    }

    pub fn node_inputs(&self, id: NodeId) -> impl Iterator<Item = NodeId> + '_ {
        self.node(id).inputs.iter().filter_map(|i| match i {
            PlanInput::Node(n) => Some(*n),
            PlanInput::File { .. } => None,
        })
    }
}
