//! Errors in data files: which file, which line, which field, and what is wrong.

use std::fmt;
use std::path::PathBuf;

#[derive(Debug, Clone, PartialEq)]
pub struct DataError {
    pub file: PathBuf,
    /// 1-based line (JSONL) or element number (JSON arrays); 0 when the whole file is at fault.
    pub line: usize,
    /// The field at fault, as a path such as `messages[2].role`.
    pub field: Option<String>,
    pub message: String,
}

impl DataError {
    pub fn file(file: impl Into<PathBuf>, message: impl Into<String>) -> DataError {
        DataError {
            file: file.into(),
            line: 0,
            field: None,
            message: message.into(),
        }
    }
}

impl fmt::Display for DataError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if self.line > 0 {
            write!(f, ":{}", self.line)?;
        }
        match &self.field {
            Some(field) => write!(f, ": field `{field}`: {}", self.message),
            None => write!(f, ": {}", self.message),
        }
    }
}

impl std::error::Error for DataError {}
