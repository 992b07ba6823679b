//! Rows and schemas (chat, preference, prompt with ground truth, text), readers and writers,
//! provenance. The on-disk format of a dataset artifact is documented in `docs/artifacts.md`.

pub mod dataset;
pub mod error;
pub mod field_map;
pub mod reader;
pub mod row;
pub mod schema;

pub use dataset::Dataset;
pub use error::DataError;
pub use row::{Provenance, Row};
