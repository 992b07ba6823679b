//! IFEval's comparison relations.

use serde::{Deserialize, Serialize};

/// How an observed count is compared with a threshold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Relation {
    /// `"less than"`: observed < threshold.
    #[serde(rename = "less than")]
    LessThan,
    /// `"at least"`: observed >= threshold.
    #[serde(rename = "at least")]
    AtLeast,
}

impl Relation {
    /// The spellings IFEval accepts, for error messages.
    pub const ALLOWED: &'static str = "\"less than\" or \"at least\"";

    /// Parses IFEval's spelling (exact, as IFEval compares it).
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "less than" => Some(Relation::LessThan),
            "at least" => Some(Relation::AtLeast),
            _ => None,
        }
    }

    /// Whether `observed` satisfies the relation to `threshold`.
    pub fn holds(self, observed: i64, threshold: i64) -> bool {
        match self {
            Relation::LessThan => observed < threshold,
            Relation::AtLeast => observed >= threshold,
        }
    }

    /// [`Relation::holds`] for a count.
    pub fn holds_for_count(self, observed: usize, threshold: i64) -> bool {
        self.holds(i64::try_from(observed).unwrap_or(i64::MAX), threshold)
    }
}

#[cfg(test)]
mod tests {
    use super::Relation;

    #[test]
    fn boundaries_are_exact() {
        assert!(Relation::LessThan.holds(2, 3));
        assert!(!Relation::LessThan.holds(3, 3));
        assert!(Relation::AtLeast.holds(3, 3));
        assert!(!Relation::AtLeast.holds(2, 3));
        assert_eq!(Relation::parse("at least"), Some(Relation::AtLeast));
        assert_eq!(Relation::parse("At least"), None);
        assert_eq!(Relation::parse("at most"), None);
    }
}
