//! Pulling candidate answers out of a free-form response.
//!
//! The order and the fallbacks follow open-instruct's `MathVerifier`: the last boxed answer and
//! the Minerva "final answer" sentence are both candidates when present; the last `$…$` span is
//! tried only when neither exists, and the whole response only when nothing else was found.

use super::verdict::AnswerSource;

/// One answer extracted from a response, not yet normalized.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    /// The answer text as it appears in the response.
    pub text: String,
    /// Where it was found.
    pub source: AnswerSource,
}

/// The candidates of a response, in the order they are tried.
pub fn candidates(response: &str) -> Vec<Candidate> {
    let mut found = Vec::new();
    if let Some(text) = last_boxed(response) {
        found.push(Candidate {
            text,
            source: AnswerSource::Boxed,
        });
    }
    if let Some(text) = minerva_answer(response) {
        found.push(Candidate {
            text,
            source: AnswerSource::Minerva,
        });
    }
    if found.is_empty() {
        if let Some(text) = last_math_span(response) {
            found.push(Candidate {
                text,
                source: AnswerSource::Dollars,
            });
        }
    }
    if found.is_empty() {
        let whole = response.trim();
        if !whole.is_empty() {
            found.push(Candidate {
                text: whole.to_string(),
                source: AnswerSource::WholeOutput,
            });
        }
    }
    found
}

const BOX_COMMANDS: [&str; 2] = ["\\boxed", "\\fbox"];

/// The argument of the last `\boxed{…}` or `\fbox{…}` in `text`, braces balanced (escaped
/// `\{`/`\}` do not count), or of the last `\boxed 5`-style box, which runs to the next `$`, line
/// break or display-math end. `None` when there is no box, or when the last box is never closed
/// (a truncated response): an earlier box is then not used, as in the reference implementations.
pub fn last_boxed(text: &str) -> Option<String> {
    let mut search_end = text.len();
    loop {
        let (start, command) = BOX_COMMANDS
            .iter()
            .filter_map(|command| text[..search_end].rfind(command).map(|at| (at, *command)))
            .max_by_key(|(at, _)| *at)?;
        let after = start + command.len();
        let rest = &text[after..];
        if rest.starts_with(|c: char| c.is_ascii_alphabetic()) {
            // `\boxedanswer` or similar: a different command that merely starts the same way.
            search_end = start;
            continue;
        }
        return box_argument(rest);
    }
}

fn box_argument(rest: &str) -> Option<String> {
    let trimmed = rest.trim_start_matches([' ', '\t']);
    if trimmed.starts_with('{') {
        return braced_group(trimmed).map(str::to_string);
    }
    // `\boxed 5`: TeX would box one token; models mean "the rest of this math span".
    let end = trimmed
        .find(['$', '\n'])
        .into_iter()
        .chain(trimmed.find("\\]"))
        .chain(trimmed.find("\\)"))
        .min()
        .unwrap_or(trimmed.len());
    let answer = trimmed[..end].trim().trim_end_matches(['.', ',']).trim();
    (!answer.is_empty()).then(|| answer.to_string())
}

/// The content of the brace group that `text` starts with, or `None` if it is never closed.
/// A backslash escapes the next character, so `\{`, `\}` and `\\` never count as braces.
pub(crate) fn braced_group(text: &str) -> Option<&str> {
    debug_assert!(text.starts_with('{'));
    let mut depth = 0usize;
    let mut chars = text.char_indices();
    while let Some((at, c)) = chars.next() {
        match c {
            '\\' => {
                chars.next();
            }
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                if depth == 0 {
                    return Some(&text[1..at]);
                }
            }
            _ => {}
        }
    }
    None
}

const MINERVA_MARKER: &str = "final answer is";
const MINERVA_CLOSING: &str = "I hope it is correct";

/// The answer of the first Minerva-style sentence "Final Answer: The final answer is X. I hope it
/// is correct." — X runs to the closing phrase (within the paragraph) or else to the end of the
/// line, without its last period.
/// The marker is matched case-insensitively and the "Final Answer:" prefix is optional, which is
/// more lenient than lm-eval-harness's regex (that one also needs the closing phrase on the
/// same line or at the very end of the text).
pub fn minerva_answer(text: &str) -> Option<String> {
    let start = find_ascii_case_insensitive(text, MINERVA_MARKER)? + MINERVA_MARKER.len();
    let rest = &text[start..];
    // The answer may span lines (`\text{ square\nunits}`) when the closing phrase ends it
    // within the paragraph; otherwise it is the rest of the line.
    let paragraph = &rest[..rest.find("\n\n").unwrap_or(rest.len())];
    let answer = match paragraph.find(MINERVA_CLOSING) {
        Some(end) => &paragraph[..end],
        None => &rest[..rest.find('\n').unwrap_or(rest.len())],
    };
    let answer = answer.trim().trim_start_matches(':').trim();
    let answer = answer.strip_suffix('.').unwrap_or(answer).trim();
    (!answer.is_empty()).then(|| answer.to_string())
}

fn find_ascii_case_insensitive(haystack: &str, needle: &str) -> Option<usize> {
    let needle = needle.as_bytes();
    haystack
        .as_bytes()
        .windows(needle.len())
        .position(|window| window.eq_ignore_ascii_case(needle))
}

/// The content of the last non-empty math span: `$…$`, `$$…$$`, `\(…\)` or `\[…\]`, the one
/// that ends last. Escaped dollars (`\$`, money in text) are not delimiters, unlike in
/// open-instruct, which splits on every `$` and knows no `\(`/`\[`.
pub fn last_math_span(text: &str) -> Option<String> {
    let mut spans: Vec<(usize, &str)> = dollar_spans(text);
    for (open, close) in [("\\(", "\\)"), ("\\[", "\\]")] {
        let mut from = 0;
        while let Some(start) = text[from..].find(open).map(|at| from + at + open.len()) {
            let Some(length) = text[start..].find(close) else {
                break;
            };
            spans.push((start + length, &text[start..start + length]));
            from = start + length + close.len();
        }
    }
    spans
        .into_iter()
        .filter(|(_, content)| !content.trim().is_empty())
        .max_by_key(|(end, _)| *end)
        .map(|(_, content)| content.trim().to_string())
}

/// `$…$` and `$$…$$` spans as (end offset, content); delimiters pair up in order.
fn dollar_spans(text: &str) -> Vec<(usize, &str)> {
    let bytes = text.as_bytes();
    let mut delimiters: Vec<(usize, usize)> = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'$' => {
                let run = if bytes.get(i + 1) == Some(&b'$') {
                    2
                } else {
                    1
                };
                delimiters.push((i, i + run));
                i += run;
            }
            _ => i += 1,
        }
    }
    delimiters
        .chunks_exact(2)
        .map(|pair| (pair[1].0, &text[pair[0].1..pair[1].0]))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn last_boxed_handles_nested_braces_and_takes_the_last_box() {
        assert_eq!(
            last_boxed(r"first \boxed{1}, then \boxed{\frac{1}{\sqrt{2}}}.").as_deref(),
            Some(r"\frac{1}{\sqrt{2}}")
        );
        assert_eq!(
            last_boxed(r"$\boxed{\{1, 2\}}$").as_deref(),
            Some(r"\{1, 2\}")
        );
        assert_eq!(
            last_boxed(r"\boxed{\begin{pmatrix} 1 \\ 2 \end{pmatrix}}").as_deref(),
            Some(r"\begin{pmatrix} 1 \\ 2 \end{pmatrix}")
        );
    }

    #[test]
    fn last_boxed_accepts_fbox_and_the_unbraced_form() {
        assert_eq!(last_boxed(r"so \fbox{42}").as_deref(), Some("42"));
        assert_eq!(last_boxed(r"$\boxed 5$.").as_deref(), Some("5"));
        assert_eq!(last_boxed("\\boxed 12.\nNext line").as_deref(), Some("12"));
        assert_eq!(last_boxed(r"\[\boxed 7\]").as_deref(), Some("7"));
        assert_eq!(
            last_boxed(r"\boxed{1} and later \fbox{2}").as_deref(),
            Some("2")
        );
    }

    #[test]
    fn last_boxed_is_none_without_a_complete_box() {
        assert_eq!(last_boxed("no box here"), None);
        assert_eq!(last_boxed(""), None);
        assert_eq!(
            last_boxed(r"\boxed{1} then truncated \boxed{\frac{1}{2}"),
            None
        );
        assert_eq!(last_boxed(r"\boxed"), None);
        assert_eq!(last_boxed(r"\boxed{}").as_deref(), Some(""));
        // A longer command name is not a box.
        assert_eq!(
            last_boxed(r"\boxed{3} \boxedwidth{9}").as_deref(),
            Some("3")
        );
    }

    #[test]
    fn last_boxed_survives_unicode_and_odd_input() {
        assert_eq!(last_boxed("π ≈ \\boxed{3.14} ✓").as_deref(), Some("3.14"));
        assert_eq!(last_boxed("\\boxed{é{}}").as_deref(), Some("é{}"));
        assert_eq!(last_boxed("\\boxed{\\}"), None);
        assert_eq!(last_boxed("}}}{{{\\boxed{{{"), None);
    }

    #[test]
    fn minerva_answer_reads_the_final_answer_sentence() {
        let text = "Work.\nFinal Answer: The final answer is $\\frac{2}{3}$. I hope it is correct.";
        assert_eq!(minerva_answer(text).as_deref(), Some("$\\frac{2}{3}$"));
        assert_eq!(
            minerva_answer("Final Answer: The final answer is 24").as_deref(),
            Some("24")
        );
        assert_eq!(
            minerva_answer("the final answer is: 7.\nmore").as_deref(),
            Some("7")
        );
        assert_eq!(minerva_answer("The final answer is"), None);
        let two_lines =
            "Final Answer: The final answer is $90\\text{ square\nunits}$. I hope it is correct.";
        assert_eq!(
            minerva_answer(two_lines).as_deref(),
            Some("$90\\text{ square\nunits}$")
        );
        let unclosed = "Final Answer: The final answer is 5\nmore\n\nI hope it is correct.";
        assert_eq!(minerva_answer(unclosed).as_deref(), Some("5"));
        assert_eq!(minerva_answer("no sentence"), None);
    }

    #[test]
    fn minerva_answer_takes_the_first_sentence() {
        let text = "Final Answer: The final answer is 3. I hope it is correct.\n\nProblem:\n\
                    Final Answer: The final answer is 4. I hope it is correct.";
        assert_eq!(minerva_answer(text).as_deref(), Some("3"));
    }

    #[test]
    fn last_math_span_skips_escaped_dollars_and_empty_spans() {
        assert_eq!(
            last_math_span("it costs \\$5 so $x = 5$ and $y=6$.").as_deref(),
            Some("y=6")
        );
        assert_eq!(
            last_math_span("$$\\frac{1}{2}$$").as_deref(),
            Some("\\frac{1}{2}")
        );
        assert_eq!(last_math_span("only one $ here"), None);
        assert_eq!(last_math_span("$3$ then $ $").as_deref(), Some("3"));
    }

    #[test]
    fn last_math_span_reads_parenthesis_and_bracket_delimiters() {
        assert_eq!(last_math_span("Answer \\[ 9 \\]").as_deref(), Some("9"));
        assert_eq!(last_math_span("$1$ then \\( 2 \\)").as_deref(), Some("2"));
        assert_eq!(last_math_span("\\[ 2 \\] then $3$").as_deref(), Some("3"));
        assert_eq!(last_math_span("\\[ \n 9 \n \\]").as_deref(), Some("9"));
        assert_eq!(last_math_span("\\( unclosed"), None);
    }

    #[test]
    fn candidates_follow_the_open_instruct_order() {
        let both = candidates(
            "$\\boxed{5}$\nFinal Answer: The final answer is $5$. I hope it is correct.",
        );
        let sources: Vec<_> = both.iter().map(|c| c.source).collect();
        assert_eq!(sources, [AnswerSource::Boxed, AnswerSource::Minerva]);

        let dollars = candidates("so $x=3$ and we get $4$");
        assert_eq!(dollars.len(), 1);
        assert_eq!(dollars[0].source, AnswerSource::Dollars);
        assert_eq!(dollars[0].text, "4");

        let whole = candidates("  17  ");
        assert_eq!(whole[0].source, AnswerSource::WholeOutput);
        assert_eq!(whole[0].text, "17");

        assert!(candidates("   ").is_empty());
        assert!(candidates("").is_empty());
    }
}
