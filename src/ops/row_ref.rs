//! How curation ops point at rows in what they record: the row's position in the op's input and
//! its provenance, so a person can find it in the upstream artifact (`tulu cat RECIPE NODE`) or in
//! the original file (source name and row index) — plus a short preview of its text.

use serde::{Deserialize, Serialize};

use crate::data::Row;

/// A row of an op's input.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RowRef {
    /// 0-based position in the op's input dataset.
    pub row: usize,
    /// The row's provenance: its source's name …
    pub source: String,
    /// … and its 0-based index in that source.
    pub index: u64,
}

impl RowRef {
    pub fn of(position: usize, row: &Row) -> RowRef {
        RowRef {
            row: position,
            source: row.provenance.source.clone(),
            index: row.provenance.index,
        }
    }

    /// `source#index`, the way the summaries print a row.
    pub fn label(&self) -> String {
        format!("{}#{}", self.source, self.index)
    }
}

/// Characters a preview keeps.
pub const PREVIEW_CHARS: usize = 72;

/// The start of `text` on one line: whitespace runs collapsed, cut at [`PREVIEW_CHARS`]
/// characters with `…` when longer.
pub fn preview(text: &str) -> String {
    let mut out = String::new();
    let mut count = 0;
    for (i, word) in text.split_whitespace().enumerate() {
        let needed = word.chars().count() + usize::from(i > 0);
        if count + needed > PREVIEW_CHARS {
            let room = PREVIEW_CHARS.saturating_sub(count + usize::from(i > 0));
            if i > 0 && room > 0 {
                out.push(' ');
            }
            out.extend(word.chars().take(room));
            out.push('…');
            return out;
        }
        if i > 0 {
            out.push(' ');
        }
        out.push_str(word);
        count += needed;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn previews_collapse_whitespace_and_cut_long_text() {
        assert_eq!(preview("  What is\n\n 2 + 2?  "), "What is 2 + 2?");
        let long = "word ".repeat(40);
        let cut = preview(&long);
        assert!(cut.ends_with('…'), "{cut}");
        assert_eq!(cut.chars().count(), PREVIEW_CHARS + 1);
        let unbroken = "x".repeat(200);
        assert_eq!(preview(&unbroken).chars().count(), PREVIEW_CHARS + 1);
        assert_eq!(preview(""), "");
    }
}
