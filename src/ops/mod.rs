//! The op registry: one file per op family; each op is a signature (what the checker sees), a
//! version (bumped whenever its output for the same inputs would change) and an execute.
//!
//! An op sees only its params, its inputs (already loaded by the engine) and a context (progress,
//! a scratch directory, its seed, cancellation). It knows nothing about recipes or the CLI.

pub mod call;
pub mod combine;
pub mod contamination_report;
pub mod context;
pub mod ctors;
pub mod decontam;
pub mod dedup;
pub mod dedup_record;
pub mod eval;
pub mod eval_report;
pub mod export;
pub mod filter;
pub mod generate_op;
pub mod generation;
pub mod load;
pub mod model_bundle;
pub mod model_source;
pub mod output;
pub mod pretrain;
pub mod registry;
pub mod render;
pub mod row_ref;
pub mod sample;
pub mod score;
pub mod sft;
pub mod synth;
#[cfg(test)]
mod test_support;
pub mod train_observer;
pub mod training_params;
pub mod verifier_ctors;

pub use call::{Input, OpCall};
pub use context::{OpContext, Progress};
pub use output::Output;
pub use registry::{registry, Registry};

use crate::check::OpSignature;

/// An op: what the checker sees, and how it runs.
pub trait Op: Send + Sync {
    fn signature(&self) -> &OpSignature;

    fn execute(&self, call: &OpCall, ctx: &OpContext) -> anyhow::Result<Output>;

    /// For ops whose effect lies outside the cache (`export` writes a file): whether a cached
    /// run's effect is still in place, given the metadata it recorded. A `false` reruns the op.
    fn effect_in_place(&self, _call: &OpCall, _meta: &serde_json::Value) -> bool {
        true
    }

    /// For ops whose result is a table a script wants without `tulu cat` (a contamination
    /// report): a small JSON object derived from the metadata the op recorded, added as the
    /// node's `details` in `tulu run --json`. Called after the node ran or was served from the
    /// cache.
    fn details(&self, _meta: &serde_json::Value) -> Option<serde_json::Value> {
        None
    }
}
