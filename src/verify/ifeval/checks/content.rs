//! `detectable_content:*` — placeholders and postscripts.

use super::Check;
use crate::verify::ifeval::error::InstructionError;
use crate::verify::ifeval::kwargs::Kwargs;
use crate::verify::ifeval::python_pattern::PythonPattern;
use crate::verify::ifeval::python_text::{lower, strip, PY_SPACE};
use regex::Regex;
use std::sync::LazyLock;

static PLACEHOLDER: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\[.*?\]").expect("static pattern"));

/// `detectable_content:number_placeholders`: at least `num_placeholders` square-bracket
/// placeholders (`[name]`, shortest match within a line; `[]` counts).
#[derive(Debug)]
pub struct NumberPlaceholders {
    minimum: i64,
}

impl NumberPlaceholders {
    /// Kwargs: `num_placeholders` (≥ 0).
    pub fn new(kwargs: &Kwargs) -> Result<Self, InstructionError> {
        Ok(NumberPlaceholders {
            minimum: kwargs.int_at_least("num_placeholders", 0)?,
        })
    }
}

impl Check for NumberPlaceholders {
    fn is_followed(&self, response: &str, _prompt: &str) -> bool {
        let count = PLACEHOLDER.find_iter(response).count();
        i64::try_from(count).unwrap_or(i64::MAX) >= self.minimum
    }
}

/// `detectable_content:postscript`: the lower-cased response contains the marker anywhere (IFEval
/// does not anchor it to a line start). `P.S.` and `P.P.S` get IFEval's tolerant patterns
/// (`p. s.`, `p.p. s`); any other marker is used as a pattern.
#[derive(Debug)]
pub struct Postscript {
    pattern: PythonPattern,
}

impl Postscript {
    /// Kwargs: `postscript_marker` (string, stripped).
    pub fn new(kwargs: &Kwargs) -> Result<Self, InstructionError> {
        let marker = strip(kwargs.string("postscript_marker")?);
        let space = PY_SPACE;
        let pattern = match marker {
            "P.P.S" => PythonPattern::build(
                &format!(r"{space}*p\.{space}?p\.{space}?s"),
                "",
                ".*$",
                false,
                true,
            ),
            "P.S." => {
                PythonPattern::build(&format!(r"{space}*p\.{space}?s\."), "", ".*$", false, true)
            }
            other => PythonPattern::build(&format!("{space}*"), &lower(other), ".*$", false, true),
        };
        Ok(Postscript { pattern })
    }
}

impl Check for Postscript {
    fn is_followed(&self, response: &str, _prompt: &str) -> bool {
        self.pattern.is_match(&lower(response))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn postscript(marker: &str) -> Postscript {
        let value = json!({ "postscript_marker": marker });
        let kw = Kwargs::new(
            "detectable_content:postscript",
            &value,
            &["postscript_marker"],
        )
        .expect("kwargs");
        Postscript::new(&kw).expect("valid")
    }

    #[test]
    fn placeholder_boundaries() {
        let value = json!({"num_placeholders": 2});
        let kw = Kwargs::new("p", &value, &["num_placeholders"]).expect("kwargs");
        let checker = NumberPlaceholders::new(&kw).expect("valid");
        assert!(checker.is_followed("Dear [name], at [address].", ""));
        assert!(!checker.is_followed("Dear [name], at the address.", ""));
        assert!(
            checker.is_followed("[] and [ ]", ""),
            "empty brackets count"
        );
        assert!(
            !checker.is_followed("[a\nb] [c", ""),
            "a placeholder does not span lines"
        );
    }

    #[test]
    fn postscript_markers() {
        let ps = postscript("P.S.");
        assert!(ps.is_followed("Body.\n\nP.S. See you.", ""));
        assert!(ps.is_followed("Body.\np. s. lower case", ""));
        assert!(!ps.is_followed("Body. PS see you", ""));
        let pps = postscript("P.P.S");
        assert!(pps.is_followed("Body.\nP.P.S more", ""));
        assert!(pps.is_followed("Body.\nP. P. S more", ""));
        assert!(!pps.is_followed("Body.\nP.S. more", ""));
        let custom = postscript("Note:");
        assert!(custom.is_followed("Body.\nNOTE: fine", ""));
        assert!(!custom.is_followed("Body.", ""));
    }
}
