//! String normalization of a final answer, applied to both sides before any comparison.
//!
//! The rules are those of the Hendrycks MATH `strip_string` and the Minerva
//! `normalize_final_answer` (Lewkowycz et al. 2022, appendix D), applied to LaTeX *commands and
//! words* rather than to raw substrings. The reference versions delete substrings such as `ft`
//! and `an ` anywhere, which is how MATH-500's pre-normalized `answer` field came to hold
//! `\le(3,…\right)` for `\left(3,…\right)` and `\iny` for `\infty`; here `\left` is removed as a
//! command and unit words only when they trail a value.

use std::borrow::Cow;
use std::sync::LazyLock;

use regex::Regex;
use unicode_normalization::UnicodeNormalization;

use super::extract;

/// The canonical string form of one answer: math delimiters, boxes, spacing and sizing
/// commands, `\text{}` wrappers, units after a value, degrees, currency, percent signs,
/// thousands separators and trailing periods removed; `\dfrac`/`\tfrac` spelled `\frac`;
/// unicode math symbols spelled as LaTeX commands; whitespace dropped except where it separates
/// a command from a following letter (`\cot x`).
pub fn normalize_answer(raw: &str) -> String {
    let text = spell_unicode_as_latex(raw);
    let text = text.replace(['`'], "").replace("**", "");
    let text = unescape_doubled_backslashes(&text);
    let text = first_math_span(&text);
    let text = match text.contains("\\boxed") || text.contains("\\fbox") {
        true => extract::last_boxed(&text).unwrap_or(text),
        false => text,
    };
    // `,\!` is LaTeX's thousands separator (Minerva deletes it): `10,\!080`.
    let text = rewrite_commands(&text.replace(",\\!", ""));
    let text = DEGREES.replace_all(&text, "");
    let text = text.replace("\\$", "").replace("\\%", "");
    let text = text.replace(['$', '%'], "").replace("{,}", "");
    let text = CONJUNCTION.replace_all(&text, ",");
    let text = remove_trailing_units(&text);
    let text = unwrap_text_commands(&text);
    // `32, 349` is a list of two numbers; `32,349` one number.
    let comma_then_space = text.contains(", ") || text.contains(",\n");
    let text = collapse_whitespace(&text);
    let text = strip_outer_punctuation(&text);
    let text = LEADING_DOT.replace_all(&text, "${1}0.${2}");
    let text = match !comma_then_space && THOUSANDS.is_match(&text) {
        true => text.replace(',', ""),
        false => text.into_owned(),
    };
    match CHOICE_LETTER.captures(&text) {
        Some(letter) => letter[1].to_string(),
        None => text,
    }
}

/// True when the normalized answer is a word or phrase (`east`, `Evelyn`), not mathematics.
pub(crate) fn is_plain_word(normalized: &str) -> bool {
    normalized.chars().count() >= 2 && normalized.chars().all(|c| c.is_alphabetic())
}

static DEGREES: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\^\s*\{\s*\\circ\s*\}|\^\s*\\circ|\\circ|\\degree").expect("static regex")
});
static CONJUNCTION: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r",?\s*\\text\s*\{\s*(?:and|or)\s*\}\s*,?").expect("static regex"));
static LEADING_DOT: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(^|[^0-9A-Za-z}\\])\.([0-9])").expect("static regex"));
static THOUSANDS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^[-+]?[0-9]{1,3}(?:,[0-9]{3})+(?:\.[0-9]+)?$").expect("static regex")
});
static CHOICE_LETTER: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^\(([A-Z])\)$").expect("static regex"));

/// Trailing `\text{…}` (or `\textbf`, `\textit`, `\mathrm`) words after a value (hendrycks
/// `remove_right_units` drops everything after `\text{ `), with an optional `^2`/`^3`.
static TRAILING_TEXT_UNIT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"^(?s)(.*[^\s])\s*\\(?:text|textbf|textit|mathrm)\s*\{\s*[A-Za-z][A-Za-z\s.]*\}(?:\s*\^\s*\{?\s*[23]\s*\}?)?\s*$",
    )
    .expect("static regex")
});

/// Unit and counting words that may follow a value: the Minerva list plus common units. Single
/// letters (`m`, `g`) are left out: they are as likely to be variables.
const UNIT_WORDS: &str = "units?|sq\\.?\\s*units?|square\\s+units?|cubic\\s+units?|square|cubic|\
    cm|centimeters?|mm|millimeters?|km|kilometers?|meters?|metres?|in|inch|inches|ft|feet|foot|\
    yards?|yds?|miles?|mph|hours?|hrs?|minutes?|mins?|seconds?|secs?|days?|weeks?|months?|years?|\
    dollars?|cents?|pounds?|lbs?|ounces?|oz|grams?|kg|kilograms?|liters?|litres?|ml|gallons?|\
    degrees?|radians?|ways|points?|students?|people|persons?|integers?|digits?|multiples?|edges?|\
    meals?|percent|percentage|pct|sq";

static TRAILING_UNIT_WORD: LazyLock<Regex> = LazyLock::new(|| {
    let pattern = format!(
        r"^(?s)(.*(?:[0-9}}\)\]]|[^\s]\s))\s*(?:{UNIT_WORDS})(?:\s*\^\s*\{{?\s*[23]\s*\}}?)?\.?\s*$"
    );
    Regex::new(&pattern).expect("static regex")
});

fn remove_trailing_units(text: &str) -> String {
    let mut current = text.trim().to_string();
    loop {
        let next = if let Some(caps) = TRAILING_TEXT_UNIT.captures(&current) {
            caps[1].to_string()
        } else if let Some(caps) = TRAILING_UNIT_WORD.captures(&current) {
            caps[1].trim_end().to_string()
        } else {
            return current;
        };
        if next.trim().is_empty() || next == current {
            return current;
        }
        current = next;
    }
}

/// Unicode math symbols as LaTeX, superscript digits as `^{…}`, then NFKC (full-width digits,
/// non-breaking spaces, `½`).
fn spell_unicode_as_latex(raw: &str) -> String {
    if raw.is_ascii() {
        return raw.to_string();
    }
    let mut out = String::with_capacity(raw.len() + 8);
    let mut chars = raw.chars().peekable();
    while let Some(c) = chars.next() {
        if let Some(digit) = superscript_value(c) {
            out.push_str("^{");
            out.push(digit);
            while let Some(next) = chars.peek().copied().and_then(superscript_value) {
                out.push(next);
                chars.next();
            }
            out.push('}');
            continue;
        }
        match latex_for_symbol(c) {
            Some(latex) => out.push_str(latex),
            None => out.push(c),
        }
    }
    out.nfkc().collect::<String>().replace('\u{2044}', "/")
}

fn superscript_value(c: char) -> Option<char> {
    Some(match c {
        '⁰' => '0',
        '¹' => '1',
        '²' => '2',
        '³' => '3',
        '⁴' => '4',
        '⁵' => '5',
        '⁶' => '6',
        '⁷' => '7',
        '⁸' => '8',
        '⁹' => '9',
        '⁻' => '-',
        _ => return None,
    })
}

fn latex_for_symbol(c: char) -> Option<&'static str> {
    Some(match c {
        '−' | '–' | '—' | '‐' => "-",
        '×' => "\\times ",
        '·' | '⋅' | '∙' => "\\cdot ",
        '÷' => "\\div ",
        '∞' => "\\infty ",
        '√' => "\\sqrt",
        '≤' | '⩽' => "\\le ",
        '≥' | '⩾' => "\\ge ",
        '≠' => "\\ne ",
        '±' => "\\pm ",
        '∓' => "\\mp ",
        '∪' => "\\cup ",
        '∈' => "\\in ",
        '°' => "^\\circ ",
        '∅' => "\\emptyset ",
        'π' => "\\pi ",
        'α' => "\\alpha ",
        'β' => "\\beta ",
        'γ' => "\\gamma ",
        'δ' => "\\delta ",
        'ε' => "\\epsilon ",
        'θ' => "\\theta ",
        'λ' => "\\lambda ",
        'μ' => "\\mu ",
        'σ' => "\\sigma ",
        'φ' | 'ϕ' => "\\phi ",
        'ω' => "\\omega ",
        '\u{2009}' | '\u{202f}' | '\u{200b}' => " ",
        _ => return None,
    })
}

/// `\\frac` (a JSON-style doubled backslash) is `\frac`; a real row break is never directly
/// followed by a letter. A run of three (`\\\frac`, a row break then a command) is kept.
fn unescape_doubled_backslashes(text: &str) -> Cow<'_, str> {
    if !text.contains("\\\\") {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find('\\') {
        out.push_str(&rest[..start]);
        let run = rest[start..].len() - rest[start..].trim_start_matches('\\').len();
        let after = &rest[start + run..];
        let keep = match run == 2 && after.starts_with(|c: char| c.is_ascii_alphabetic()) {
            true => 1,
            false => run,
        };
        out.push_str(&"\\".repeat(keep));
        rest = after;
    }
    out.push_str(rest);
    Cow::Owned(out)
}

/// Minerva keeps the first `$…$` span of a final answer; without a complete span the dollars
/// are only removed later. Escaped dollars (`\$`) are money, not math.
fn first_math_span(text: &str) -> String {
    let text = text.trim();
    let text = strip_delimiter_pair(text, "\\[", "\\]")
        .or_else(|| strip_delimiter_pair(text, "\\(", "\\)"))
        .unwrap_or(text);
    let bytes = text.as_bytes();
    let mut dollars = Vec::new();
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
                dollars.push((i, i + run));
                i += run;
            }
            _ => i += 1,
        }
    }
    match dollars.as_slice() {
        [open, close, ..] => text[open.1..close.0].to_string(),
        _ => text.to_string(),
    }
}

fn strip_delimiter_pair<'a>(text: &'a str, open: &str, close: &str) -> Option<&'a str> {
    text.strip_prefix(open)?.strip_suffix(close).map(str::trim)
}

/// What to do with one control word.
enum CommandRewrite {
    /// Spacing and sizing commands: replaced by a space (so neighbours do not merge).
    Drop,
    /// `\left.` / `\right.`: dropped together with the invisible delimiter.
    DropWithDot,
    /// Another spelling of the same thing.
    Rename(&'static str),
}

fn command_rewrite(name: &str) -> Option<CommandRewrite> {
    use CommandRewrite::*;
    Some(match name {
        "left" | "right" => DropWithDot,
        "quad" | "qquad" | "displaystyle" | "textstyle" | "scriptstyle" | "big" | "Big"
        | "bigg" | "Bigg" | "bigl" | "bigr" | "Bigl" | "Bigr" | "biggl" | "biggr" | "Biggl"
        | "Biggr" | "middle" | "limits" | "nolimits" | "hfill" | "noindent" | "hspace"
        | "enspace" | "thinspace" | "medspace" | "thickspace" | "negthinspace" | "mathord" => Drop,
        "dfrac" | "tfrac" | "cfrac" => Rename("\\frac"),
        "dbinom" | "tbinom" => Rename("\\binom"),
        "leq" | "leqslant" => Rename("\\le"),
        "geq" | "geqslant" => Rename("\\ge"),
        "neq" => Rename("\\ne"),
        "lt" => Rename("<"),
        "gt" => Rename(">"),
        "mbox" | "textrm" | "textnormal" | "textup" | "textsf" | "texttt" | "hbox" => {
            Rename("\\text")
        }
        "lbrace" => Rename("\\{"),
        "rbrace" => Rename("\\}"),
        "lbrack" => Rename("["),
        "rbrack" => Rename("]"),
        "langle" => Rename("("),
        "rangle" => Rename(")"),
        "lvert" | "rvert" | "vert" => Rename("|"),
        "ast" => Rename("*"),
        "colon" => Rename(":"),
        "infin" => Rename("\\infty"),
        "varnothing" => Rename("\\emptyset"),
        "dots" | "ldots" | "cdots" => Rename("\\dots"),
        _ => return None,
    })
}

/// Applies [`command_rewrite`] to every control word, and drops the control symbols for spacing
/// (`\!`, `\,`, `\;`, `\:`, `\ `, `\>`) and `~`.
fn rewrite_commands(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(['\\', '~']) {
        out.push_str(&rest[..at]);
        if rest[at..].starts_with('~') {
            out.push(' ');
            rest = &rest[at + 1..];
            continue;
        }
        let after = &rest[at + 1..];
        let name_len = after
            .find(|c: char| !c.is_ascii_alphabetic())
            .unwrap_or(after.len());
        if name_len == 0 {
            // A control symbol: `\!`, `\{`, `\\`, … (or a trailing lone backslash).
            let Some(symbol) = after.chars().next() else {
                rest = after;
                continue;
            };
            match symbol {
                '!' | ',' | ';' | ':' | ' ' | '>' | '\n' | '\t' => out.push(' '),
                _ => {
                    out.push('\\');
                    out.push(symbol);
                }
            }
            rest = &after[symbol.len_utf8()..];
            continue;
        }
        let name = &after[..name_len];
        let mut next = &after[name_len..];
        match command_rewrite(name) {
            Some(CommandRewrite::Drop) => out.push(' '),
            Some(CommandRewrite::DropWithDot) => {
                out.push(' ');
                let trimmed = next.trim_start();
                if let Some(stripped) = trimmed.strip_prefix('.') {
                    next = stripped;
                }
            }
            Some(CommandRewrite::Rename(spelling)) => {
                out.push_str(spelling);
                if spelling.starts_with('\\')
                    && spelling[1..].chars().all(|c| c.is_ascii_alphabetic())
                {
                    // Keep a following letter from merging into the renamed command.
                    out.push(' ');
                }
            }
            None => {
                out.push('\\');
                out.push_str(name);
                if next.starts_with(|c: char| c.is_ascii_alphabetic()) {
                    out.push(' ');
                }
            }
        }
        rest = next;
    }
    out.push_str(rest);
    out
}

const TEXT_WRAPPERS: [&str; 12] = [
    "text",
    "textbf",
    "textit",
    "emph",
    "mathrm",
    "mathbf",
    "mathit",
    "mathsf",
    "boldsymbol",
    "bm",
    "mathtt",
    "mathnormal",
];

/// `\text{east}` → `east`, `\mathbf{v}` → `v`, innermost first.
fn unwrap_text_commands(text: &str) -> String {
    let mut current = text.to_string();
    // Each pass removes at least one wrapper; the input length bounds the passes.
    for _ in 0..current.len() {
        let Some((start, content_start)) = find_text_wrapper(&current) else {
            break;
        };
        let Some(content) = extract::braced_group(&current[content_start..]) else {
            break;
        };
        let end = content_start + content.len() + 2;
        let replaced = format!(" {} ", content.trim());
        current.replace_range(start..end, &replaced);
    }
    current
}

/// The byte offset of the first `\text`-like command whose argument is a braced group, and the
/// offset of that group's `{`.
fn find_text_wrapper(text: &str) -> Option<(usize, usize)> {
    let mut search_from = 0;
    while let Some(found) = text[search_from..].find('\\') {
        let start = search_from + found;
        let after = &text[start + 1..];
        let name_len = after
            .find(|c: char| !c.is_ascii_alphabetic())
            .unwrap_or(after.len());
        let name = &after[..name_len];
        if TEXT_WRAPPERS.contains(&name) {
            let rest = &after[name_len..];
            let spaces = rest.len() - rest.trim_start().len();
            if rest.trim_start().starts_with('{') {
                return Some((start, start + 1 + name_len + spaces));
            }
        }
        let skipped = match name_len {
            0 => after.chars().next().map_or(0, char::len_utf8),
            _ => name_len,
        };
        search_from = start + 1 + skipped;
        if search_from >= text.len() {
            return None;
        }
    }
    None
}

/// Drops whitespace, except one space between a control word and a letter that follows it.
fn collapse_whitespace(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut in_control_word = false;
    let mut pending_space = false;
    let mut previous_was_backslash = false;
    for c in text.chars() {
        if c.is_whitespace() {
            pending_space |= in_control_word;
            in_control_word = false;
            previous_was_backslash = false;
            continue;
        }
        if pending_space && c.is_ascii_alphabetic() {
            out.push(' ');
        }
        pending_space = false;
        if previous_was_backslash {
            in_control_word = c.is_ascii_alphabetic();
            previous_was_backslash = false;
        } else if c == '\\' {
            previous_was_backslash = true;
            in_control_word = false;
        } else if !c.is_ascii_alphabetic() {
            in_control_word = false;
        }
        out.push(c);
    }
    out
}

/// Trailing periods, commas and row breaks; a leading colon.
fn strip_outer_punctuation(text: &str) -> String {
    let mut current = text.trim();
    loop {
        let before = current;
        current = current.trim_start_matches(':').trim();
        if let Some(stripped) = current.strip_suffix("\\\\") {
            current = stripped.trim_end();
        }
        if current.ends_with(['.', ',', ';', ':']) && !current.ends_with("\\.") {
            current = current[..current.len() - 1].trim_end();
        }
        if current == before {
            return current.to_string();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(s: &str) -> String {
        normalize_answer(s)
    }

    #[test]
    fn spaces_are_dropped_but_commands_keep_their_letters_apart() {
        assert_eq!(n(" 2 \\sqrt{ 3 } "), "2\\sqrt{3}");
        assert_eq!(n("\\cot x"), "\\cot x");
        assert_eq!(n("\\pi\\,r^2"), "\\pi r^2");
        assert_eq!(n("\\frac 34"), "\\frac34");
    }

    #[test]
    fn left_right_and_spacing_commands_go_as_commands() {
        assert_eq!(
            n("\\left( 3, \\frac{\\pi}{2} \\right)"),
            "(3,\\frac{\\pi}{2})"
        );
        assert_eq!(n("\\left.\\frac{1}{2}\\right|"), "\\frac{1}{2}|");
        assert_eq!(n("(-\\infty, 0]"), "(-\\infty,0]");
        assert_eq!(n("10,\\!080"), "10080");
        assert_eq!(n("11,\\! 111,\\! 111,\\! 100"), "11111111100");
    }

    #[test]
    fn frac_spellings_are_unified() {
        assert_eq!(n("\\dfrac{17}{50}"), "\\frac{17}{50}");
        assert_eq!(n("\\tfrac12"), "\\frac12");
        assert_eq!(n("\\dbinom{5}{2}"), "\\binom{5}{2}");
    }

    #[test]
    fn degrees_dollars_and_percent_are_removed() {
        assert_eq!(n("106^\\circ"), "106");
        assert_eq!(n("30^{\\circ}"), "30");
        assert_eq!(n("45°"), "45");
        assert_eq!(n("\\$18.90"), "18.90");
        assert_eq!(n("\\$32,\\!348"), "32348");
        assert_eq!(n("50\\%"), "50");
        assert_eq!(n("12%"), "12");
    }

    #[test]
    fn units_after_a_value_are_removed() {
        assert_eq!(n("15\\mbox{ cm}^2"), "15");
        assert_eq!(n("864 \\mbox{ inches}^2"), "864");
        assert_eq!(n("5.4 \\text{ cents}"), "5.4");
        assert_eq!(n("90\\text{ square\nunits}"), "90");
        assert_eq!(n("\\frac{270}7\\text{ degrees}"), "\\frac{270}7");
        assert_eq!(n("12 square units"), "12");
        assert_eq!(n("3\\pi cm"), "3\\pi");
        assert_eq!(n("20 feet."), "20");
        // Not units: the whole answer is text, or a letter that may be a variable.
        assert_eq!(n("\\text{Evelyn}"), "Evelyn");
        assert_eq!(n("2m"), "2m");
        assert_eq!(n("\\frac{1}{3} \\textbf{meters}"), "\\frac{1}{3}");
        assert_eq!(n("5\\,\\mathrm{cm}"), "5");
        assert_eq!(n("28 pct"), "28");
        assert_eq!(n("2\\mathbf{v}"), "2v");
    }

    #[test]
    fn text_wrappers_math_delimiters_and_boxes_are_unwrapped() {
        assert_eq!(n("\\text{(B)}"), "B");
        assert_eq!(n("$\\boxed{\\frac{1}{2}}$"), "\\frac{1}{2}");
        assert_eq!(n("$x = 5$, or equivalently $y$"), "x=5");
        assert_eq!(n("\\[ 7 \\]"), "7");
        assert_eq!(n("\\mathbf{v}"), "v");
        assert_eq!(n("\\textbf{\\text{east}}"), "east");
        assert_eq!(n("1\\text{ and }2"), "1,2");
    }

    #[test]
    fn numbers_get_leading_zeros_and_lose_thousands_separators() {
        assert_eq!(n(".35625"), "0.35625");
        assert_eq!(n("-.5"), "-0.5");
        assert_eq!(n("58,500"), "58500");
        assert_eq!(n("1,234.5"), "1234.5");
        assert_eq!(n("10{,}000"), "10000");
        assert_eq!(n("1,2"), "1,2");
        assert_eq!(n("32, 349"), "32,349");
        assert_eq!(n("14{,}916"), "14916");
        assert_eq!(n("5."), "5");
    }

    #[test]
    fn unicode_math_is_spelled_as_latex() {
        assert_eq!(n("2π"), "2\\pi");
        assert_eq!(n("x² − 1"), "x^{2}-1");
        assert_eq!(n("３"), "3");
        assert_eq!(n("½"), "1/2");
        assert_eq!(n("√2"), "\\sqrt2");
        assert_eq!(n("(−∞, 2]"), "(-\\infty,2]");
        assert_eq!(n("θ"), "\\theta");
    }

    #[test]
    fn markdown_and_doubled_backslashes_are_cleaned() {
        assert_eq!(n("**42**"), "42");
        assert_eq!(n("`7`"), "7");
        assert_eq!(n("\\\\frac{1}{2}"), "\\frac{1}{2}");
        assert_eq!(n("1\\\\\\frac12"), "1\\\\\\frac12");
    }

    #[test]
    fn degenerate_inputs_do_not_panic() {
        for s in [
            "", " ", "\\", "$", "$$", "\\boxed{", "\\text{", "\\left", "{}", "}{", "\\\\", "~",
            "é", "\\text", "\\mbox{", "^\\circ", "\\(", "\\[\\]", ",", ".", "\u{0}",
        ] {
            let _ = n(s);
        }
    }

    #[test]
    fn plain_words_are_recognised() {
        assert!(is_plain_word("east"));
        assert!(is_plain_word("Evelyn"));
        assert!(!is_plain_word("x"));
        assert!(!is_plain_word("2x"));
        assert!(!is_plain_word("p-q"));
    }
}
