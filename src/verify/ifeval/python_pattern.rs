//! Kwarg strings that IFEval uses as Python regular expressions.
//!
//! IFEval passes keywords, forbidden words, section splitters and postscript markers straight to
//! `re` (`re.search(keyword, response, flags=re.IGNORECASE)`), so `.` in a keyword matches any
//! character. The same strings compile here with the `regex` crate, whose syntax agrees with
//! Python's for everything such kwargs contain in practice. A string that is not a valid pattern
//! (`[draft`, `(see note`) would make IFEval crash; here it is matched literally instead.

use regex::{Regex, RegexBuilder};

/// A compiled kwarg pattern.
#[derive(Debug, Clone)]
pub struct PythonPattern {
    regex: Regex,
}

impl PythonPattern {
    /// Compiles `prefix + kwarg + suffix`, where `prefix`/`suffix` are trusted pattern text and
    /// `kwarg` is tried first as a pattern, then as a literal.
    pub fn build(
        prefix: &str,
        kwarg: &str,
        suffix: &str,
        case_insensitive: bool,
        multi_line: bool,
    ) -> Self {
        let compile = |middle: &str| {
            RegexBuilder::new(&format!("{prefix}(?:{middle}){suffix}"))
                .case_insensitive(case_insensitive)
                .multi_line(multi_line)
                .build()
        };
        let regex = compile(kwarg)
            .or_else(|_| compile(&regex::escape(kwarg)))
            .unwrap_or_else(|_| {
                // Only reachable if the trusted prefix/suffix were invalid; match nothing.
                Regex::new(r"[^\s\S]").expect("static pattern")
            });
        PythonPattern { regex }
    }

    /// A case-insensitive pattern, as IFEval's keyword checks use.
    pub fn ignore_case(kwarg: &str) -> Self {
        Self::build("", kwarg, "", true, false)
    }

    /// The compiled regex.
    pub fn regex(&self) -> &Regex {
        &self.regex
    }

    /// Whether the pattern matches anywhere.
    pub fn is_match(&self, text: &str) -> bool {
        self.regex.is_match(text)
    }

    /// The number of non-overlapping matches (`len(re.findall(...))`).
    pub fn count(&self, text: &str) -> usize {
        self.regex.find_iter(text).count()
    }
}

#[cfg(test)]
mod tests {
    use super::PythonPattern;

    #[test]
    fn compiles_as_regex_then_falls_back_to_literal() {
        assert!(PythonPattern::ignore_case("col.r").is_match("COLOR"));
        // Python 3.11+ reads `C++` as a possessive `C+`, and so does `regex`.
        assert!(PythonPattern::ignore_case("C++").is_match("I like c a lot"));
        let unclosed = PythonPattern::ignore_case("(see note");
        assert!(unclosed.is_match("a (SEE NOTE) b") && !unclosed.is_match("see note"));
        assert_eq!(
            PythonPattern::ignore_case("[draft").count("[draft] and [Draft]"),
            2
        );
        assert_eq!(
            PythonPattern::ignore_case("the").count("The theme of the Other"),
            4
        );
    }
}
