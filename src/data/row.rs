//! One row of a dataset: its fields as read (key order kept) and where it came from.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Where a row came from. Every op carries it through, so any row of any derived dataset can be
/// traced back to a source file, its row number, and the license it came under.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Provenance {
    /// The source's name (`load(…, name: "gsm8k")`, by default the file's stem).
    pub source: String,
    /// The row's index in its source (0-based).
    pub index: u64,
    pub license: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Row {
    #[serde(rename = "row")]
    pub fields: Map<String, Value>,
    #[serde(flatten)]
    pub provenance: Provenance,
}

impl Row {
    pub fn new(fields: Map<String, Value>, provenance: Provenance) -> Row {
        Row { fields, provenance }
    }

    pub fn get(&self, field: &str) -> Option<&Value> {
        self.fields.get(field)
    }

    pub fn str_field(&self, field: &str) -> Option<&str> {
        self.fields.get(field).and_then(Value::as_str)
    }
}
