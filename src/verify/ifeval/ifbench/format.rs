//! IFBench `format:*` checkers.

use super::emoji::is_emoji;
use super::rule::Rule;
use super::text::{remove_punctuation, split_into_sentences, strip_punctuation_and_spaces};
use crate::verify::ifeval::checks::Check;
use crate::verify::ifeval::error::InstructionError;
use crate::verify::ifeval::kwargs::Kwargs;
use crate::verify::ifeval::python_text::{
    is_blank, is_lower, is_space, is_upper, lower, split_whitespace, strip,
};
use crate::verify::ifeval::word_tokenize::word_tokenize;
use regex::Regex;
use std::sync::LazyLock;

/// `format:parentheses`: brackets `()[]{}` nested at least five deep, closed properly (a
/// mismatched closer resets the count).
pub fn parentheses(_: &Kwargs) -> Result<Box<dyn Check>, InstructionError> {
    Ok(Rule::on_response("format:parentheses", |response| {
        let mut open: Vec<char> = Vec::new();
        let mut max_depth = 0;
        for c in response.chars() {
            match c {
                '(' | '[' | '{' => {
                    open.push(c);
                    max_depth = max_depth.max(open.len());
                }
                ')' | ']' | '}' => {
                    let matches = matches!(
                        (open.last(), c),
                        (Some('('), ')') | (Some('['), ']') | (Some('{'), '}')
                    );
                    if matches {
                        open.pop();
                        if max_depth >= 5 && open.len() < max_depth {
                            return true;
                        }
                    } else {
                        open.clear();
                        max_depth = 0;
                    }
                }
                _ => {}
            }
        }
        false
    }))
}

/// `format:quotes`: quotation marks (`"` and `'`, alternating) nested at least three deep.
pub fn quotes(_: &Kwargs) -> Result<Box<dyn Check>, InstructionError> {
    Ok(Rule::on_response("format:quotes", |response| {
        let mut open: Vec<char> = Vec::new();
        let mut reached = 0usize;
        for c in response.chars() {
            if open.last() == Some(&c) {
                open.pop();
                if reached - open.len() >= 3 {
                    return true;
                }
            } else if c == '"' || c == '\'' {
                open.push(c);
                reached = reached.max(open.len());
            }
        }
        false
    }))
}

static STRICT_OPTIONS: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^\W*[aA]\W*[bB]\W*[cC]\W*").expect("static pattern"));

/// `format:options`: the response is one of the `options` (split on `/`, else on `or`, else on
/// `,`). Lettered options (`a), b), c)`) must match exactly; others ignore case and surrounding
/// punctuation.
pub fn options(kwargs: &Kwargs) -> Result<Box<dyn Check>, InstructionError> {
    let text = kwargs.string("options")?;
    let strict = STRICT_OPTIONS.is_match(text);
    let separator = if text.contains('/') {
        "/"
    } else if text.contains("or") {
        "or"
    } else {
        ","
    };
    let choices: Vec<String> = text
        .split(separator)
        .map(|o| strip(o).to_string())
        .collect();
    Ok(Rule::on_response("format:options", move |response| {
        if strict {
            return choices.iter().any(|choice| choice == response);
        }
        let answer = lower(strip_punctuation_and_spaces(response));
        choices
            .iter()
            .any(|choice| lower(strip_punctuation_and_spaces(choice)) == answer)
    }))
}

/// `format:newline`: one word per line (punctuation removed; blank lines ignored).
pub fn newline(_: &Kwargs) -> Result<Box<dyn Check>, InstructionError> {
    Ok(Rule::on_response("format:newline", |response| {
        let cleaned = remove_punctuation(response);
        let stripped = strip(&cleaned);
        let lines = stripped.split('\n').filter(|line| !line.is_empty()).count();
        lines == split_whitespace(stripped).count()
    }))
}

fn indentation(line: &str) -> usize {
    line.len() - line.trim_start_matches(' ').len()
}

/// `format:line_indent`: each line is indented (with spaces) strictly more than the previous.
/// Blank lines are dropped the way IFBench drops them — by removing from the list while
/// iterating it, which skips the line after each removed one.
pub fn line_indent(_: &Kwargs) -> Result<Box<dyn Check>, InstructionError> {
    Ok(Rule::on_response("format:line_indent", |response| {
        let mut lines: Vec<&str> = response.split('\n').collect();
        let mut cursor = 0;
        while cursor < lines.len() {
            let line = lines[cursor];
            cursor += 1;
            if is_blank(line) {
                if let Some(first) = lines.iter().position(|l| *l == line) {
                    lines.remove(first);
                }
            }
        }
        lines
            .windows(2)
            .all(|pair| indentation(pair[1]) > indentation(pair[0]))
    }))
}

/// `format:quote_unquote`: no empty quotation (`""` once whitespace is removed and curly quotes
/// are made straight), and the text does not end on a quotation mark (ignoring trailing digits
/// and other punctuation).
pub fn quote_unquote(_: &Kwargs) -> Result<Box<dyn Check>, InstructionError> {
    Ok(Rule::on_response("format:quote_unquote", |response| {
        let straight = response
            .replace(['\u{201c}', '\u{201d}'], "\"")
            .replace("'\"'", "");
        let compact: String = straight.chars().filter(|&c| !is_space(c)).collect();
        if compact.contains("\"\"") {
            return false;
        }
        let trimmed = compact
            .trim_matches(|c: char| c.is_ascii_digit() || (c.is_ascii_punctuation() && c != '"'));
        // IFBench indexes the last character of a possibly empty string; a crash is not a pass.
        trimmed.chars().next_back().is_some_and(|last| last != '"')
    }))
}

/// `format:list`: the bullet marker `sep` occurs at least twice.
pub fn list(kwargs: &Kwargs) -> Result<Box<dyn Check>, InstructionError> {
    let separator = kwargs.string("sep")?.to_string();
    if separator.is_empty() {
        return Err(kwargs.bad("sep", "is empty", "a bullet marker such as \"...\""));
    }
    Ok(Rule::on_response("format:list", move |response| {
        response.matches(separator.as_str()).count() >= 2
    }))
}

/// `format:thesis`: an `<i>…</i>` (or `<em>…</em>`) thesis with non-blank text inside and
/// non-blank text after it. (Like IFBench, the thesis text is taken from the 4th character
/// after the opening tag and the text after from 4 characters past the closing tag.)
pub fn thesis(_: &Kwargs) -> Result<Box<dyn Check>, InstructionError> {
    Ok(Rule::on_response("format:thesis", |response| {
        let Some(start) = response.find("<i>").or_else(|| response.find("<em>")) else {
            return false;
        };
        let rest = &response[start..];
        let Some(end) = rest.find("</i>").or_else(|| rest.find("</em>")) else {
            return false;
        };
        let inner = rest.get(3..end).unwrap_or("");
        let after = rest.get(end + 4..).unwrap_or("");
        !is_blank(inner) && !is_blank(after)
    }))
}

/// `format:sub-bullets`: every segment after a `*` contains a `-`.
pub fn sub_bullets(_: &Kwargs) -> Result<Box<dyn Check>, InstructionError> {
    Ok(Rule::on_response("format:sub-bullets", |response| {
        response
            .split('*')
            .skip(1)
            .all(|segment| segment.contains('-'))
    }))
}

/// `format:no_bullets_bullets`: at least two sentences of prose, then at least two `*` bullet
/// lines and nothing else. As in IFBench, a blank prose line ends the prose part (so prose after
/// it fails).
pub fn no_bullets_bullets(_: &Kwargs) -> Result<Box<dyn Check>, InstructionError> {
    Ok(Rule::on_response("format:no_bullets_bullets", |response| {
        let mut prose_open = true;
        let mut sentences = 0;
        let mut bullets = 0;
        for line in response.split('\n') {
            let line = strip(line);
            if line.starts_with('*') {
                prose_open = false;
                if sentences < 2 {
                    return false;
                }
                bullets += 1;
            } else if prose_open {
                let found = split_into_sentences(line).len();
                sentences += found;
                prose_open = found > 0;
            } else {
                return false;
            }
        }
        bullets >= 2
    }))
}

/// `format:title_case`: no `nltk.word_tokenize` token starts lower-case and continues all
/// upper- or all lower-case (so `the` fails, `The` and `a` pass).
pub fn title_case(_: &Kwargs) -> Result<Box<dyn Check>, InstructionError> {
    Ok(Rule::on_response("format:title_case", |response| {
        word_tokenize(response).iter().all(|word| {
            let mut chars = word.chars();
            let first = chars.next().map(String::from).unwrap_or_default();
            let rest = chars.as_str();
            if is_upper(&first) && is_lower(rest) {
                return true;
            }
            !(is_lower(&first) && (is_upper(rest) || is_lower(rest)))
        })
    }))
}

/// `format:output_template`: contains `My Answer:`, `My Conclusion:` and `Future Outlook:`.
pub fn output_template(_: &Kwargs) -> Result<Box<dyn Check>, InstructionError> {
    Ok(Rule::on_response("format:output_template", |response| {
        ["My Answer:", "My Conclusion:", "Future Outlook:"]
            .iter()
            .all(|part| response.contains(part))
    }))
}

/// `format:no_whitespace`: no whitespace character at all.
pub fn no_whitespace(_: &Kwargs) -> Result<Box<dyn Check>, InstructionError> {
    Ok(Rule::on_response("format:no_whitespace", |response| {
        !response.chars().any(is_space)
    }))
}

/// `format:emoji`: every sentence (IFBench's regex splitter) ends with an emoji — its last or
/// second-to-last character once ASCII punctuation is removed and whitespace stripped — or the
/// next sentence starts with one. A sentence with nothing left fails.
pub fn emoji(_: &Kwargs) -> Result<Box<dyn Check>, InstructionError> {
    Ok(Rule::on_response("format:emoji", |response| {
        let sentences = split_into_sentences(response);
        for (i, sentence) in sentences.iter().enumerate() {
            let cleaned = remove_punctuation(sentence);
            let chars: Vec<char> = strip(&cleaned).chars().collect();
            let Some(&last) = chars.last() else {
                return false;
            };
            let second_last = chars.len().checked_sub(2).map_or(last, |at| chars[at]);
            if is_emoji(last) || is_emoji(second_last) {
                continue;
            }
            let Some(next) = sentences.get(i + 1) else {
                return false;
            };
            let next = remove_punctuation(next);
            if !strip(&next).chars().next().is_some_and(is_emoji) {
                return false;
            }
        }
        true
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    fn build(
        builder: fn(&Kwargs) -> Result<Box<dyn Check>, InstructionError>,
        kwargs: Value,
        takes: &[&str],
    ) -> Box<dyn Check> {
        builder(&Kwargs::new("ifbench:test", &kwargs, takes).expect("kwargs")).expect("valid")
    }

    #[test]
    fn nesting() {
        let check = build(parentheses, json!({}), &[]);
        assert!(check.is_followed("(a [b {c (d [e] d) c} b] a)", ""));
        assert!(!check.is_followed("(a [b {c (d) c} b] a)", ""));
        let quote_check = build(quotes, json!({}), &[]);
        assert!(quote_check.is_followed("He said \"she said 'they said \"hi\"' ok\" fine", ""));
        assert!(!quote_check.is_followed("He said \"she said 'hi' ok\"", ""));
    }

    #[test]
    fn options_matching() {
        let check = build(options, json!({"options": "yes/no/maybe"}), &["options"]);
        assert!(check.is_followed(" Yes. ", ""));
        assert!(!check.is_followed("Yes, definitely", ""));
        let lettered = build(options, json!({"options": "a), b), c), d)"}), &["options"]);
        assert!(lettered.is_followed("b)", ""));
        assert!(!lettered.is_followed("B)", ""));
    }

    #[test]
    fn lines_and_indentation() {
        let check = build(newline, json!({}), &[]);
        assert!(check.is_followed("One\nword,\n\nper\nline.", ""));
        assert!(!check.is_followed("Two words\nhere", ""));
        let stairs = build(line_indent, json!({}), &[]);
        assert!(stairs.is_followed("a\n b\n  c", ""));
        assert!(!stairs.is_followed("a\n b\n c", ""));
        // IFBench's remove-while-iterating keeps the second of two adjacent blank lines.
        assert!(stairs.is_followed("a\n\n b\n  c", ""));
        assert!(!stairs.is_followed("a\n\n\n b\n  c", ""));
    }

    #[test]
    fn quotes_and_markers() {
        let check = build(quote_unquote, json!({}), &[]);
        assert!(check.is_followed("He said \"hi\" to me.", ""));
        assert!(!check.is_followed("He said \"\" to me.", ""));
        assert!(!check.is_followed("He said \"hi.\"", ""));
        let markers = build(list, json!({"sep": "SEPARATOR"}), &["sep"]);
        assert!(markers.is_followed("SEPARATOR a SEPARATOR b", ""));
        assert!(!markers.is_followed("SEPARATOR a", ""));
    }

    #[test]
    fn thesis_and_bullets() {
        let check = build(thesis, json!({}), &[]);
        assert!(check.is_followed("<i>Cats rule.</i> Because they do.", ""));
        assert!(!check.is_followed("<i>Cats rule.</i>", ""));
        assert!(!check.is_followed("No thesis here.", ""));
        let subs = build(sub_bullets, json!({}), &[]);
        assert!(subs.is_followed("* a\n - x\n* b\n - y", ""));
        assert!(!subs.is_followed("* a\n* b\n - y", ""));
        let mixed = build(no_bullets_bullets, json!({}), &[]);
        assert!(mixed.is_followed("First sentence. Second one.\n* a\n* b", ""));
        assert!(!mixed.is_followed("Only one sentence.\n* a\n* b", ""));
        assert!(!mixed.is_followed("First. Second.\n* a\nprose again", ""));
    }

    #[test]
    fn title_case_and_templates() {
        let check = build(title_case, json!({}), &[]);
        assert!(check.is_followed("The Quick Brown Fox", ""));
        assert!(!check.is_followed("The quick Brown Fox", ""));
        let template = build(output_template, json!({}), &[]);
        assert!(template.is_followed("My Answer: x My Conclusion: y Future Outlook: z", ""));
        assert!(!template.is_followed("My Answer: x", ""));
        let compact = build(no_whitespace, json!({}), &[]);
        assert!(compact.is_followed("no_spaces_here", ""));
        assert!(!compact.is_followed("a b", ""));
    }
}
