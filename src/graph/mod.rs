//! The DAG of a checked plan (petgraph): dependents, topological order, and DOT / Mermaid export
//! for `tulu graph`.

use std::collections::BTreeSet;
use std::fmt::Write;

use petgraph::graph::{DiGraph, NodeIndex};
use petgraph::visit::{Dfs, EdgeRef};
use petgraph::Direction;

use crate::check::value::NodeId;
use crate::check::{Plan, PlanInput, Type};

/// The plan as a graph: one graph node per plan node (same index), an edge from each input to
/// its consumer, labelled with the param the input is passed as.
pub struct PlanGraph {
    pub graph: DiGraph<NodeId, String>,
}

impl PlanGraph {
    pub fn new(plan: &Plan) -> PlanGraph {
        let mut graph = DiGraph::with_capacity(plan.nodes.len(), plan.nodes.len());
        for node in &plan.nodes {
            graph.add_node(node.id);
        }
        for node in &plan.nodes {
            for (input, label) in node.inputs.iter().zip(&node.input_labels) {
                if let PlanInput::Node(from) = input {
                    graph.add_edge(
                        NodeIndex::new(from.0 as usize),
                        NodeIndex::new(node.id.0 as usize),
                        label.clone(),
                    );
                }
            }
        }
        PlanGraph { graph }
    }

    /// Nodes in an order where every node follows its inputs.
    pub fn topological(&self) -> Vec<NodeId> {
        match petgraph::algo::toposort(&self.graph, None) {
            Ok(order) => order.into_iter().map(|i| self.graph[i]).collect(),
            // The checker rejects cycles; a plan is built inputs-first, so creation order works.
            Err(_) => self.graph.node_weights().copied().collect(),
        }
    }

    /// Every node that (transitively) reads `id`'s output.
    pub fn descendants(&self, id: NodeId) -> BTreeSet<NodeId> {
        let mut out = BTreeSet::new();
        let mut dfs = Dfs::new(&self.graph, NodeIndex::new(id.0 as usize));
        while let Some(n) = dfs.next(&self.graph) {
            if n.index() != id.0 as usize {
                out.insert(self.graph[n]);
            }
        }
        out
    }

    /// Direct consumers of `id`.
    pub fn dependents(&self, id: NodeId) -> Vec<NodeId> {
        self.graph
            .edges_directed(NodeIndex::new(id.0 as usize), Direction::Outgoing)
            .map(|e| self.graph[e.target()])
            .collect()
    }
}

fn shape(t: &Type) -> &'static str {
    match t {
        Type::Dataset(_) => "folder",
        Type::Model => "box3d",
        Type::Report => "note",
        _ => "box",
    }
}

fn dot_escape(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}

/// Graphviz DOT: `tulu graph recipe.tulu --format dot | dot -Tsvg > plan.svg`.
pub fn to_dot(plan: &Plan) -> String {
    let mut out = String::from(
        "digraph tulu {\n  rankdir=LR;\n  node [fontname=\"Helvetica\", fontsize=11];\n",
    );
    let mut files: Vec<(String, String)> = Vec::new();
    for node in &plan.nodes {
        let _ = writeln!(
            out,
            "  n{} [label=\"{}\\n{} : {}\", shape={}];",
            node.id.0,
            dot_escape(&node.name),
            dot_escape(node.op),
            dot_escape(&node.output_type.to_string()),
            shape(&node.output_type)
        );
    }
    for node in &plan.nodes {
        for (input, label) in node.inputs.iter().zip(&node.input_labels) {
            match input {
                PlanInput::Node(from) => {
                    let _ = writeln!(
                        out,
                        "  n{} -> n{} [label=\"{}\"];",
                        from.0,
                        node.id.0,
                        dot_escape(label)
                    );
                }
                PlanInput::File { display, .. } => {
                    let id = match files.iter().position(|(d, _)| d == display) {
                        Some(i) => files[i].1.clone(),
                        None => {
                            let id = format!("f{}", files.len());
                            files.push((display.clone(), id.clone()));
                            let _ = writeln!(
                                out,
                                "  {id} [label=\"{}\", shape=note, style=dashed];",
                                dot_escape(display)
                            );
                            id
                        }
                    };
                    let _ = writeln!(
                        out,
                        "  {id} -> n{} [label=\"{}\"];",
                        node.id.0,
                        dot_escape(label)
                    );
                }
            }
        }
    }
    out.push_str("}\n");
    out
}

fn mermaid_escape(s: &str) -> String {
    s.replace('"', "#quot;")
}

/// Mermaid `flowchart`, for Markdown that renders it (GitHub, docs sites).
pub fn to_mermaid(plan: &Plan) -> String {
    let mut out = String::from("flowchart LR\n");
    let mut files: Vec<String> = Vec::new();
    for node in &plan.nodes {
        let label = format!(
            "{}<br/><i>{}</i>",
            mermaid_escape(&node.name),
            mermaid_escape(node.op)
        );
        let (open, close) = match node.output_type {
            Type::Dataset(_) => ("[(", ")]"),
            Type::Model => ("[[", "]]"),
            Type::Report => ("[/", "/]"),
            _ => ("[", "]"),
        };
        let _ = writeln!(out, "  n{}{open}\"{label}\"{close}", node.id.0);
    }
    for node in &plan.nodes {
        for (input, label) in node.inputs.iter().zip(&node.input_labels) {
            match input {
                PlanInput::Node(from) => {
                    let _ = writeln!(
                        out,
                        "  n{} -->|{}| n{}",
                        from.0,
                        mermaid_escape(label),
                        node.id.0
                    );
                }
                PlanInput::File { display, .. } => {
                    let i = match files.iter().position(|d| d == display) {
                        Some(i) => i,
                        None => {
                            files.push(display.clone());
                            let _ = writeln!(
                                out,
                                "  f{}>\"{}\"]",
                                files.len() - 1,
                                mermaid_escape(display)
                            );
                            files.len() - 1
                        }
                    };
                    let _ = writeln!(out, "  f{i} -.->|{}| n{}", mermaid_escape(label), node.id.0);
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::check_text;
    use crate::ops::registry;

    fn plan() -> (tempfile::TempDir, Plan) {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("t.jsonl"), "{\"text\": \"a b c\"}\n").unwrap();
        let src = "let raw = load(\"t.jsonl\")\nlet a = sample(raw, n: 1)\nlet b = filter(raw, min_words: 2)\nlet both = concat([a, b])";
        let plan = check_text("r.tulu", src, dir.path(), &[], registry()).unwrap();
        (dir, plan)
    }

    #[test]
    fn descendants_and_topological_order() {
        let (_dir, plan) = plan();
        let g = PlanGraph::new(&plan);
        let raw = plan.find("raw").unwrap().id;
        let names: Vec<&str> = g
            .descendants(raw)
            .iter()
            .map(|id| plan.node(*id).name.as_str())
            .collect();
        assert_eq!(names, ["a", "b", "both"]);
        let order = g.topological();
        let pos = |n: &str| {
            order
                .iter()
                .position(|id| plan.node(*id).name == n)
                .unwrap()
        };
        assert!(pos("raw") < pos("a") && pos("a") < pos("both") && pos("b") < pos("both"));
    }

    #[test]
    fn exports_dot_and_mermaid_with_files_and_edge_labels() {
        let (_dir, plan) = plan();
        let dot = to_dot(&plan);
        assert!(
            dot.contains("f0 [label=\"t.jsonl\", shape=note, style=dashed];"),
            "{dot}"
        );
        assert!(dot.contains("-> n3 [label=\"datasets[1]\"];"), "{dot}");
        let mermaid = to_mermaid(&plan);
        assert!(mermaid.starts_with("flowchart LR\n"));
        assert!(mermaid.contains("f0 -.->|path| n0"), "{mermaid}");
    }
}
