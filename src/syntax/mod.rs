//! Recipe source → AST with spans, and the canonical formatter (`tulu fmt`).

pub mod ast;
pub mod comments;
pub mod diagnostic;
pub mod format;
pub mod parser;
pub mod source;

pub use diagnostic::{Diagnostic, Severity};
pub use parser::{parse, parse_value};
pub use source::{FileId, SourceFile, SourceMap, Span};
