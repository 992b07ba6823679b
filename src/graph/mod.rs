//! The DAG of a checked plan: topological order, DOT and Mermaid export.
