//! `tulu`: a declarative, checked, incremental and reproducible dataflow engine for LLM
//! post-training. See `docs/` and the README for the user-facing story; the module layout
//! follows the one-way data flow `syntax → check → graph → engine → ops`.

pub mod assets;
pub mod cache;
pub mod check;
pub mod data;
pub mod engine;
pub mod graph;
pub mod model;
pub mod ops;
pub mod syntax;
pub mod text;
pub mod train;
pub mod verify;
