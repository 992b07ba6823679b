//! Errors from the text algorithms: every one names the parameter or input at fault and what a
//! valid value looks like, because these surface to recipe authors as op failures.

use thiserror::Error;

/// What went wrong in dedup or decontamination.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum TextError {
    /// An n-gram length of zero has no meaning.
    #[error("`ngram` must be at least 1, got {ngram}")]
    InvalidNgram {
        /// The value given.
        ngram: usize,
    },

    /// A threshold outside its allowed range (or NaN).
    #[error("`{name}` must be {expected}, got {value}")]
    InvalidThreshold {
        /// The parameter's name as a user writes it.
        name: &'static str,
        /// The value given.
        value: f64,
        /// The allowed range in words, e.g. "in (0, 1]".
        expected: &'static str,
    },

    /// MinHash needs at least one permutation, and an upper bound keeps signatures affordable.
    #[error("`num_perm` must be between 1 and {max}, got {num_perm}")]
    InvalidNumPerm {
        /// The value given.
        num_perm: usize,
        /// The largest accepted value.
        max: usize,
    },

    /// LSH bands that do not fit in the signature.
    #[error(
        "LSH banding of {bands} bands × {rows} rows needs {needed} permutations but `num_perm` is \
         {num_perm}; choose bands and rows ≥ 1 with bands × rows ≤ num_perm, or leave them unset \
         to derive them from the threshold"
    )]
    InvalidBands {
        /// Bands requested.
        bands: usize,
        /// Rows per band requested.
        rows: usize,
        /// bands × rows (saturating).
        needed: usize,
        /// Permutations available.
        num_perm: usize,
    },

    /// More documents than the 32-bit ids used internally can address.
    #[error("{count} documents is more than the {max} that one call can process; split the input")]
    TooManyDocuments {
        /// Documents given.
        count: usize,
        /// The limit.
        max: usize,
    },

    /// A decontamination index needs something to index.
    #[error("no eval sets given: a decontamination index needs at least one named eval set")]
    NoEvalSets,

    /// Two eval sets under one name would make the report ambiguous.
    #[error("eval set `{name}` is given twice; eval set names must be unique")]
    DuplicateEvalSet {
        /// The repeated name.
        name: String,
    },

    /// An eval set without instances has no contamination fraction.
    #[error("eval set `{name}` has no instances; remove it or check how it was loaded")]
    EmptyEvalSet {
        /// The empty set's name.
        name: String,
    },

    /// The eval side is too large for the index's 32-bit offsets.
    #[error(
        "eval sets hold more than {max} tokens in all, which the decontamination index cannot \
         address; index them in several parts"
    )]
    EvalTooLarge {
        /// The limit.
        max: usize,
    },

    /// Scan results that cannot be combined.
    #[error(
        "cannot merge scan results: {reason}; scan every part against the same index and threshold"
    )]
    MismatchedScans {
        /// What differs.
        reason: String,
    },

    /// A contamination table row whose eval sets differ from the table's columns.
    #[error(
        "training source `{source_name}` was scanned against eval sets {got:?}, but the table's \
         columns are {expected:?}"
    )]
    TableColumnsMismatch {
        /// The row being added.
        source_name: String,
        /// The table's columns.
        expected: Vec<String>,
        /// The scan's eval sets.
        got: Vec<String>,
    },
}

/// Checks a threshold against `lo < value <= hi` or `lo <= value < hi` as `expected` describes;
/// shared so every parameter rejects NaN the same way.
pub(crate) fn check_unit_threshold(
    name: &'static str,
    value: f64,
    lower_inclusive: bool,
    upper_inclusive: bool,
) -> Result<(), TextError> {
    let lower_ok = if lower_inclusive {
        value >= 0.0
    } else {
        value > 0.0
    };
    let upper_ok = if upper_inclusive {
        value <= 1.0
    } else {
        value < 1.0
    };
    if lower_ok && upper_ok {
        return Ok(());
    }
    let expected = match (lower_inclusive, upper_inclusive) {
        (true, true) => "in [0, 1]",
        (true, false) => "in [0, 1)",
        (false, true) => "in (0, 1]",
        (false, false) => "in (0, 1)",
    };
    Err(TextError::InvalidThreshold {
        name,
        value,
        expected,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unit_threshold_bounds_and_nan() {
        assert!(check_unit_threshold("t", 0.0, true, false).is_ok());
        assert!(check_unit_threshold("t", 1.0, true, false).is_err());
        assert!(check_unit_threshold("t", 0.0, false, true).is_err());
        assert!(check_unit_threshold("t", 1.0, false, true).is_ok());
        let err = check_unit_threshold("threshold", f64::NAN, true, true).unwrap_err();
        assert!(err.to_string().contains("`threshold` must be in [0, 1]"));
    }
}
