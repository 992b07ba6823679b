//! What an op produces. The engine turns it into a manifest in the blob store; the manifest's
//! hash is the node's output hash.

use std::path::PathBuf;

use serde_json::Value;

use crate::data::Dataset;

pub enum Output {
    Dataset(Dataset),
    /// A directory the op wrote under its work dir: a model (`kind: "model"`) or a report
    /// (`kind: "report"`), with metadata for `tulu cat --summary`.
    Dir {
        kind: &'static str,
        dir: PathBuf,
        meta: Value,
    },
    /// Only metadata, for ops whose effect lies elsewhere (`export`).
    Record {
        kind: &'static str,
        meta: Value,
    },
}
