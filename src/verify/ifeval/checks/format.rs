//! `detectable_format:*` — bullets, constrained response, highlights, sections, JSON, title.

use super::Check;
use crate::verify::ifeval::error::InstructionError;
use crate::verify::ifeval::kwargs::Kwargs;
use crate::verify::ifeval::python_json;
use crate::verify::ifeval::python_pattern::PythonPattern;
use crate::verify::ifeval::python_text::{is_blank, strip, PY_SPACE};
use regex::Regex;
use std::sync::LazyLock;

static STAR_BULLET: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(&format!(r"(?m)^{PY_SPACE}*\*[^*].*$")).expect("static pattern"));
static DASH_BULLET: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(&format!(r"(?m)^{PY_SPACE}*-.*$")).expect("static pattern"));

/// `detectable_format:number_bullet_lists`: exactly `num_bullets` markdown bullets — lines
/// starting (after optional whitespace) with `*` not followed by another `*`, or with `-`.
/// `**bold**` lines are not bullets; `---` rules are.
#[derive(Debug)]
pub struct NumberBulletLists {
    expected: i64,
}

impl NumberBulletLists {
    /// Kwargs: `num_bullets` (≥ 0).
    pub fn new(kwargs: &Kwargs) -> Result<Self, InstructionError> {
        Ok(NumberBulletLists {
            expected: kwargs.int_at_least("num_bullets", 0)?,
        })
    }
}

impl Check for NumberBulletLists {
    fn is_followed(&self, response: &str, _prompt: &str) -> bool {
        let count =
            STAR_BULLET.find_iter(response).count() + DASH_BULLET.find_iter(response).count();
        i64::try_from(count).is_ok_and(|count| count == self.expected)
    }
}

/// IFEval's fixed options for `detectable_format:constrained_response`.
pub const CONSTRAINED_RESPONSE_OPTIONS: [&str; 3] = [
    "My answer is yes.",
    "My answer is no.",
    "My answer is maybe.",
];

/// `detectable_format:constrained_response`: the response contains one of
/// [`CONSTRAINED_RESPONSE_OPTIONS`] (case-sensitive, anywhere).
#[derive(Debug)]
pub struct ConstrainedResponse;

impl Check for ConstrainedResponse {
    fn is_followed(&self, response: &str, _prompt: &str) -> bool {
        let response = strip(response);
        CONSTRAINED_RESPONSE_OPTIONS
            .iter()
            .any(|option| response.contains(option))
    }
}

static SINGLE_HIGHLIGHT: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\*[^\n*]*\*").expect("static pattern"));
static DOUBLE_HIGHLIGHT: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\*\*[^\n*]*\*\*").expect("static pattern"));

/// `detectable_format:number_highlighted_sections`: at least `num_highlights` non-blank
/// `*highlighted*` spans. As in IFEval, `**bold**` is found by both patterns: once as
/// `**` (blank, not counted) plus once as a double highlight, so it counts once.
#[derive(Debug)]
pub struct NumberHighlightedSections {
    minimum: i64,
}

impl NumberHighlightedSections {
    /// Kwargs: `num_highlights` (≥ 0).
    pub fn new(kwargs: &Kwargs) -> Result<Self, InstructionError> {
        Ok(NumberHighlightedSections {
            minimum: kwargs.int_at_least("num_highlights", 0)?,
        })
    }
}

impl Check for NumberHighlightedSections {
    fn is_followed(&self, response: &str, _prompt: &str) -> bool {
        let singles = SINGLE_HIGHLIGHT
            .find_iter(response)
            .filter(|m| !is_blank(m.as_str().trim_matches('*')))
            .count();
        let doubles = DOUBLE_HIGHLIGHT
            .find_iter(response)
            .filter(|m| {
                let text = m.as_str();
                !is_blank(&text[2..text.len() - 2])
            })
            .count();
        i64::try_from(singles + doubles).unwrap_or(i64::MAX) >= self.minimum
    }
}

/// `detectable_format:multiple_sections`: at least `num_sections` section headers
/// `<section_spliter> <number>` (case-sensitive; the splitter is a pattern).
#[derive(Debug)]
pub struct MultipleSections {
    header: PythonPattern,
    minimum: i64,
}

impl MultipleSections {
    /// Kwargs: `section_spliter` (IFEval's spelling; stripped), `num_sections` (≥ 0).
    pub fn new(kwargs: &Kwargs) -> Result<Self, InstructionError> {
        let splitter = strip(kwargs.string("section_spliter")?);
        if splitter.is_empty() {
            return Err(kwargs.bad("section_spliter", "is empty", "a word such as \"Section\""));
        }
        Ok(MultipleSections {
            header: PythonPattern::build(
                &format!("{PY_SPACE}?"),
                splitter,
                &format!(r"{PY_SPACE}?\d+{PY_SPACE}?"),
                false,
                false,
            ),
            minimum: kwargs.int_at_least("num_sections", 0)?,
        })
    }
}

impl Check for MultipleSections {
    fn is_followed(&self, response: &str, _prompt: &str) -> bool {
        i64::try_from(self.header.count(response)).unwrap_or(i64::MAX) >= self.minimum
    }
}

/// `detectable_format:json_format`: after stripping whitespace and one markdown code fence
/// (```` ```json ````, ```` ```Json ````, ```` ```JSON ```` or bare ```` ``` ````), the response
/// parses with Python's `json.loads`.
#[derive(Debug)]
pub struct JsonFormat;

impl Check for JsonFormat {
    fn is_followed(&self, response: &str, _prompt: &str) -> bool {
        let mut text = strip(response);
        // Python's successive removeprefix calls: each applies to the previous result.
        for fence in ["```json", "```Json", "```JSON", "```"] {
            text = text.strip_prefix(fence).unwrap_or(text);
        }
        text = text.strip_suffix("```").unwrap_or(text);
        python_json::is_valid(strip(text))
    }
}

static TITLE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"<<[^\n]+>>").expect("static pattern"));

/// `detectable_format:title`: a non-blank `<<title>>` on one line.
#[derive(Debug)]
pub struct Title;

impl Check for Title {
    fn is_followed(&self, response: &str, _prompt: &str) -> bool {
        TITLE.find_iter(response).any(|title| {
            let inner = title.as_str().trim_start_matches('<').trim_end_matches('>');
            !is_blank(inner)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    fn kwargs<'a>(value: &'a Value, takes: &[&str]) -> Kwargs<'a> {
        Kwargs::new("detectable_format:test", value, takes).expect("kwargs")
    }

    #[test]
    fn bullet_count_is_exact() {
        let value = json!({"num_bullets": 3});
        let checker = NumberBulletLists::new(&kwargs(&value, &["num_bullets"])).expect("valid");
        assert!(checker.is_followed("* one\n* two\n- three", ""));
        assert!(checker.is_followed("Intro\n  * one\n\t* two\n- three\n**Bold** line", ""));
        assert!(!checker.is_followed("* one\n* two", ""));
        assert!(!checker.is_followed("* one\n* two\n* three\n* four", ""));
        assert!(!checker.is_followed("1. one\n2. two\n3. three", ""));
    }

    #[test]
    fn constrained_response_is_case_sensitive() {
        assert!(ConstrainedResponse.is_followed("Well... My answer is maybe.", ""));
        assert!(!ConstrainedResponse.is_followed("my answer is yes.", ""));
        assert!(!ConstrainedResponse.is_followed("My answer is yes", ""));
    }

    #[test]
    fn highlight_boundaries_and_markdown() {
        let value = json!({"num_highlights": 2});
        let checker =
            NumberHighlightedSections::new(&kwargs(&value, &["num_highlights"])).expect("valid");
        assert!(checker.is_followed("*one* and *two*", ""));
        assert!(!checker.is_followed("*one* and * *", ""));
        assert!(
            !checker.is_followed("**bold** only", ""),
            "bold counts once"
        );
        assert!(checker.is_followed("**bold** and *italic*", ""));
        assert!(!checker.is_followed("*spans\nlines*", ""));
    }

    #[test]
    fn section_headers_are_counted() {
        let value = json!({"section_spliter": " SECTION ", "num_sections": 2});
        let checker = MultipleSections::new(&kwargs(&value, &["section_spliter", "num_sections"]))
            .expect("valid");
        assert!(checker.is_followed("SECTION 1\nfoo\nSECTION 2\nbar", ""));
        assert!(
            !checker.is_followed("SECTION 1\nfoo\nSection 2\nbar", ""),
            "case-sensitive"
        );
        assert!(!checker.is_followed("SECTION one\nSECTION two", ""));
    }

    #[test]
    fn json_inside_code_fences() {
        assert!(JsonFormat.is_followed("```json\n{\"a\": [1, 2]}\n```", ""));
        assert!(JsonFormat.is_followed("  ```JSON\n[1]\n```  ", ""));
        assert!(JsonFormat.is_followed("```\n{\"nan\": NaN}\n```", ""));
        assert!(JsonFormat.is_followed("{\"plain\": true}", ""));
        assert!(!JsonFormat.is_followed("Here it is:\n```json\n{}\n```", ""));
        assert!(!JsonFormat.is_followed("```python\n{}\n```", ""));
        assert!(!JsonFormat.is_followed("```json\n{'a': 1}\n```", ""));
    }

    #[test]
    fn title_needs_non_blank_text() {
        assert!(Title.is_followed("<<Poem of Joy>>\nBody", ""));
        assert!(!Title.is_followed("<< >>\nBody", ""));
        assert!(!Title.is_followed("<<split\nacross>>", ""));
        assert!(Title.is_followed("<<a>> then <<>>", ""));
    }
}
