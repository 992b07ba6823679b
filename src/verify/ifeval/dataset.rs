//! Reading IFEval-schema JSONL files (IFEval's `input_data.jsonl`, IFBench's `IFBench_test.jsonl`).
//!
//! Each line is an object with `key` (integer or string), `prompt`, `instruction_id_list` and
//! `kwargs` (one object per id; real files pad every object with `null` for unused kwargs).

use super::error::InstructionError;
use super::instruction_set::InstructionSet;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::io::BufRead;
use std::path::{Path, PathBuf};
use thiserror::Error;

/// One prompt with its verifiable instructions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IfEvalRow {
    /// The row's key (IFEval uses integers, IFBench strings).
    pub key: Value,
    /// The prompt shown to the model.
    pub prompt: String,
    /// Instruction ids, e.g. `keywords:frequency`.
    pub instruction_id_list: Vec<String>,
    /// One kwargs object (or null) per id.
    pub kwargs: Vec<Value>,
}

impl IfEvalRow {
    /// The row's checkers; see [`InstructionSet::from_row`].
    pub fn instructions(&self) -> Result<InstructionSet, InstructionError> {
        InstructionSet::from_row(&self.instruction_id_list, &self.kwargs)
    }

    /// The row's checkers, unknown / unimplemented ids becoming unsupported; see
    /// [`InstructionSet::from_row_lenient`].
    pub fn instructions_lenient(&self) -> Result<InstructionSet, InstructionError> {
        InstructionSet::from_row_lenient(&self.instruction_id_list, &self.kwargs)
    }
}

/// A data file that could not be read.
#[derive(Debug, Error)]
pub enum DatasetError {
    /// The file could not be opened or read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A line is not a row of the IFEval schema.
    #[error("{path}:{line}: not an IFEval row ({message}); each line needs `key`, `prompt`, `instruction_id_list` and `kwargs`")]
    BadRow {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// What the JSON parser said.
        message: String,
    },
}

/// Reads every row of a JSONL file; blank lines are skipped.
pub fn read_rows(path: &Path) -> Result<Vec<IfEvalRow>, DatasetError> {
    let io_error = |source| DatasetError::Io {
        path: path.to_path_buf(),
        source,
    };
    let file = std::fs::File::open(path).map_err(io_error)?;
    let mut rows = Vec::new();
    for (index, line) in std::io::BufReader::new(file).lines().enumerate() {
        let line = line.map_err(io_error)?;
        if line.trim().is_empty() {
            continue;
        }
        let row = serde_json::from_str(&line).map_err(|error| DatasetError::BadRow {
            path: path.to_path_buf(),
            line: index + 1,
            message: error.to_string(),
        })?;
        rows.push(row);
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn reads_rows_and_reports_bad_lines_with_their_number() {
        let mut file = tempfile::NamedTempFile::new().expect("temp file");
        writeln!(
            file,
            r#"{{"key": 1, "prompt": "p", "instruction_id_list": ["punctuation:no_comma"], "kwargs": [{{}}]}}"#
        )
        .expect("write");
        writeln!(file).expect("write");
        let rows = read_rows(file.path()).expect("valid file");
        assert_eq!(rows.len(), 1);
        assert!(rows[0].instructions().is_ok());

        writeln!(file, r#"{{"key": 2, "prompt": "p"}}"#).expect("write");
        let error = read_rows(file.path()).expect_err("missing fields");
        assert!(error.to_string().contains(":3:"), "{error}");
    }
}
