//! Sentence splitting as NLTK's Punkt tokenizer does it with its pretrained English model.
//!
//! IFEval counts sentences with `nltk.data.load("tokenizers/punkt/english.pickle").tokenize`.
//! This is a re-implementation of Punkt's *decision* phase (Kiss & Strunk 2006, as NLTK 3.9.1
//! runs it — the release lm-evaluation-harness requires and open-instruct's IFEval numbers were
//! computed with; NLTK 3.10 later added curly quotes to the punctuation sets and moved to the
//! third-party `regex` engine, whose `\w` also matches combining marks): candidate contexts found without look-behind, first-pass type annotation,
//! collocation / orthographic / sentence-starter heuristics, closing-punctuation realignment),
//! driven by NLTK's own English parameters, which ship in `punkt_english.tsv`. Training is not
//! implemented: the parameters are fixed.
//!
//! Where NLTK's Python regexes use Unicode classes, the scanners here use the Python definitions
//! from [`super::python_text`], so the splits match NLTK's on non-ASCII text too.

use super::python_text::{is_blank, is_space, is_word_char, lower, rstrip};
use regex::Regex;
use std::collections::{HashMap, HashSet};
use std::ops::Range;
use std::sync::LazyLock;

const ORTHO_BEG_UC: u8 = 1 << 1;
const ORTHO_MID_UC: u8 = 1 << 2;
const ORTHO_UNK_UC: u8 = 1 << 3;
const ORTHO_BEG_LC: u8 = 1 << 4;
const ORTHO_MID_LC: u8 = 1 << 5;
const ORTHO_UNK_LC: u8 = 1 << 6;
const ORTHO_UC: u8 = ORTHO_BEG_UC | ORTHO_MID_UC | ORTHO_UNK_UC;
const ORTHO_LC: u8 = ORTHO_BEG_LC | ORTHO_MID_LC | ORTHO_UNK_LC;

const NUMBER_TYPE: &str = "##number##";

/// The learned parameters of a Punkt model.
#[derive(Debug, Default)]
struct PunktParameters {
    abbrev_types: HashSet<String>,
    collocations: HashSet<(String, String)>,
    sent_starters: HashSet<String>,
    ortho_context: HashMap<String, u8>,
}

impl PunktParameters {
    /// Parses the section format of `punkt_english.tsv`. The file is compiled in, so a malformed
    /// line is a build defect; it is skipped rather than allowed to panic at run time, and the
    /// unit tests check that every section is populated.
    fn parse(source: &str) -> Self {
        let mut params = PunktParameters::default();
        let mut section = "";
        for line in source.lines() {
            if let Some(name) = line.strip_prefix('@') {
                section = name;
                continue;
            }
            match section {
                "abbrev_types" => {
                    params.abbrev_types.insert(line.to_string());
                }
                "sent_starters" => {
                    params.sent_starters.insert(line.to_string());
                }
                "collocations" => {
                    if let Some((first, second)) = line.split_once('\t') {
                        params
                            .collocations
                            .insert((first.to_string(), second.to_string()));
                    }
                }
                "ortho_context" => {
                    if let Some((typ, flags)) = line.rsplit_once('\t') {
                        if let Ok(flags) = flags.parse::<u8>() {
                            params.ortho_context.insert(typ.to_string(), flags);
                        }
                    }
                }
                _ => {} // the header comment
            }
        }
        params
    }

    fn ortho(&self, typ: &str) -> u8 {
        self.ortho_context.get(typ).copied().unwrap_or(0)
    }
}

static ENGLISH: LazyLock<PunktParameters> =
    LazyLock::new(|| PunktParameters::parse(include_str!("punkt_english.tsv")));

static NUMERIC: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^-?[\.,]?\d[\d,\.-]*\.?$").expect("static pattern"));

/// Characters that end a sentence candidate.
fn is_sent_end(c: char) -> bool {
    matches!(c, '.' | '?' | '!')
}

/// Punkt's "characters that cannot appear within words" (`_re_non_word_chars`).
fn is_non_word(c: char) -> bool {
    matches!(
        c,
        ')' | '"' | ';' | '}' | ']' | '*' | ':' | '@' | '\'' | '(' | '{' | '[' | '?' | '!'
    )
}

/// Characters that may not start a word token (`_re_word_start` excludes them).
fn cannot_start_word(c: char) -> bool {
    matches!(
        c,
        '(' | '"'
            | '`'
            | '{'
            | '['
            | ':'
            | ';'
            | '&'
            | '#'
            | '*'
            | '@'
            | ')'
            | '}'
            | ']'
            | '-'
            | ','
    )
}

/// Closing punctuation that realignment moves back onto the sentence it follows.
fn is_closing(c: char) -> bool {
    matches!(c, '"' | '\'' | ')' | ']' | '}')
}

/// Length in chars of Punkt's multi-character punctuation (`--…`, `..…`, `. . .`) at `at`.
fn multi_char_punct_len(chars: &[char], at: usize) -> Option<usize> {
    let run = |c: char| chars[at..].iter().take_while(|&&x| x == c).count();
    match chars.get(at) {
        Some('-') if run('-') >= 2 => Some(run('-')),
        Some('.') if run('.') >= 2 => Some(run('.')),
        Some('.') => {
            // `(?:\.\s){2,}\.`, greedy with backtracking.
            let mut pairs = 0;
            while chars.get(at + 2 * pairs) == Some(&'.')
                && chars.get(at + 2 * pairs + 1).is_some_and(|&c| is_space(c))
            {
                pairs += 1;
            }
            if pairs >= 2 && chars.get(at + 2 * pairs) == Some(&'.') {
                Some(2 * pairs + 1)
            } else if pairs >= 3 {
                Some(2 * pairs - 1)
            } else {
                None
            }
        }
        _ => None,
    }
}

/// Whether a word token that started earlier ends before position `at`.
fn word_ends_at(chars: &[char], at: usize) -> bool {
    let Some(&c) = chars.get(at) else {
        return true;
    };
    if is_space(c) || is_non_word(c) || multi_char_punct_len(chars, at).is_some() {
        return true;
    }
    c == ',' && {
        match chars.get(at + 1) {
            None => true,
            Some(&next) => {
                is_space(next) || is_non_word(next) || multi_char_punct_len(chars, at + 1).is_some()
            }
        }
    }
}

/// Punkt's word tokenizer for one line (`PunktLanguageVars.word_tokenize`).
fn word_tokenize_line(line: &str) -> Vec<String> {
    let chars: Vec<char> = line.chars().collect();
    let mut tokens = Vec::new();
    let mut at = 0;
    while at < chars.len() {
        let c = chars[at];
        if is_space(c) {
            at += 1;
            continue;
        }
        let len = if let Some(len) = multi_char_punct_len(&chars, at) {
            len
        } else if !cannot_start_word(c) {
            let mut end = at + 1;
            while !word_ends_at(&chars, end) {
                end += 1;
            }
            end - at
        } else {
            1
        };
        tokens.push(chars[at..at + len].iter().collect());
        at += len;
    }
    tokens
}

/// A token with the annotations Punkt's decision phase uses.
#[derive(Debug)]
struct Token {
    text: String,
    typ: String,
    period_final: bool,
    sentbreak: bool,
    abbr: bool,
    ellipsis: bool,
}

#[derive(Debug, PartialEq, Eq)]
enum OrthoVerdict {
    SentenceStarter,
    NotStarter,
    Unknown,
}

impl Token {
    fn new(text: String) -> Self {
        let lowered = lower(&text);
        let typ = if NUMERIC.is_match(&lowered) {
            NUMBER_TYPE.to_string()
        } else {
            lowered
        };
        let period_final = text.ends_with('.');
        Token {
            text,
            typ,
            period_final,
            sentbreak: false,
            abbr: false,
            ellipsis: false,
        }
    }

    fn type_no_period(&self) -> &str {
        if self.typ.chars().count() > 1 && self.typ.ends_with('.') {
            &self.typ[..self.typ.len() - 1]
        } else {
            &self.typ
        }
    }

    fn type_no_sentperiod(&self) -> &str {
        if self.sentbreak {
            self.type_no_period()
        } else {
            &self.typ
        }
    }

    fn first_char(&self) -> Option<char> {
        self.text.chars().next()
    }

    fn first_upper(&self) -> bool {
        self.first_char().is_some_and(char::is_uppercase)
    }

    fn first_lower(&self) -> bool {
        self.first_char().is_some_and(char::is_lowercase)
    }

    fn is_ellipsis(&self) -> bool {
        self.text.len() >= 2 && self.text.chars().all(|c| c == '.')
    }

    /// `[^\W\d]\.$`: one non-digit word character followed by a period.
    fn is_initial(&self) -> bool {
        let mut chars = self.text.chars();
        match (chars.next(), chars.next(), chars.next()) {
            (Some(first), Some('.'), None) => is_word_char(first) && !is_decimal_digit(first),
            _ => false,
        }
    }

    fn first_pass(&mut self, params: &PunktParameters) {
        if self.text.chars().count() == 1 && self.text.chars().all(is_sent_end) {
            self.sentbreak = true;
        } else if self.is_ellipsis() {
            self.ellipsis = true;
        } else if self.period_final && !self.text.ends_with("..") {
            let stem = lower(&self.text[..self.text.len() - 1]);
            let last_hyphen_part = stem.rsplit('-').next().unwrap_or("");
            if params.abbrev_types.contains(&stem) || params.abbrev_types.contains(last_hyphen_part)
            {
                self.abbr = true;
            } else {
                self.sentbreak = true;
            }
        }
    }
}

fn is_decimal_digit(c: char) -> bool {
    static DIGIT: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"^\d$").expect("static pattern"));
    let mut buf = [0u8; 4];
    c.is_ascii_digit() || (!c.is_ascii() && DIGIT.is_match(c.encode_utf8(&mut buf)))
}

fn ortho_heuristic(params: &PunktParameters, token: &Token) -> OrthoVerdict {
    if matches!(token.text.as_str(), ";" | ":" | "," | "." | "!" | "?") {
        return OrthoVerdict::NotStarter;
    }
    let context = params.ortho(token.type_no_sentperiod());
    if token.first_upper() && context & ORTHO_LC != 0 && context & ORTHO_MID_UC == 0 {
        return OrthoVerdict::SentenceStarter;
    }
    if token.first_lower() && (context & ORTHO_UC != 0 || context & ORTHO_BEG_LC == 0) {
        return OrthoVerdict::NotStarter;
    }
    OrthoVerdict::Unknown
}

/// Punkt's second pass over one pair of neighbouring tokens, updating the first.
fn second_pass(params: &PunktParameters, first: &mut Token, next: &Token) {
    if !first.period_final {
        return;
    }
    let typ = first.type_no_period().to_string();
    let next_typ = next.type_no_sentperiod();
    let is_initial = first.is_initial();

    if params
        .collocations
        .contains(&(typ.clone(), next_typ.to_string()))
    {
        first.sentbreak = false;
        first.abbr = true;
        return;
    }
    if (first.abbr || first.ellipsis) && !is_initial {
        if ortho_heuristic(params, next) == OrthoVerdict::SentenceStarter {
            first.sentbreak = true;
            return;
        }
        if next.first_upper() && params.sent_starters.contains(next_typ) {
            first.sentbreak = true;
            return;
        }
    }
    if is_initial || typ == NUMBER_TYPE {
        let verdict = ortho_heuristic(params, next);
        if verdict == OrthoVerdict::NotStarter {
            first.sentbreak = false;
            first.abbr = true;
            return;
        }
        if verdict == OrthoVerdict::Unknown
            && is_initial
            && next.first_upper()
            && params.ortho(next_typ) & ORTHO_LC == 0
        {
            first.sentbreak = false;
            first.abbr = true;
        }
    }
}

/// Whether a candidate context holds a sentence break followed by more text.
fn context_contains_sentbreak(params: &PunktParameters, context: &str) -> bool {
    let mut tokens: Vec<Token> = context
        .split('\n')
        .filter(|line| !is_blank(line))
        .flat_map(word_tokenize_line)
        .map(Token::new)
        .collect();
    for token in &mut tokens {
        token.first_pass(params);
    }
    for index in 0..tokens.len().saturating_sub(1) {
        let (head, tail) = tokens.split_at_mut(index + 1);
        second_pass(params, &mut head[index], &tail[0]);
        if head[index].sentbreak {
            return true;
        }
    }
    false
}

/// A sentence-end character followed by non-word punctuation or by whitespace and a token.
struct EndCandidate {
    /// Byte offset of the `.`, `?` or `!`.
    at: usize,
    /// Byte offset just past the end character.
    end: usize,
    /// Byte offset where the following token starts, when whitespace separates it.
    next_token_start: Option<usize>,
    /// Byte offset just past the lookahead text (`after_tok`).
    after_end: usize,
}

fn end_candidates(text: &str) -> Vec<EndCandidate> {
    let mut candidates = Vec::new();
    for (at, c) in text.char_indices() {
        if !is_sent_end(c) {
            continue;
        }
        let end = at + c.len_utf8();
        let rest = &text[end..];
        let Some(next) = rest.chars().next() else {
            continue;
        };
        if is_non_word(next) {
            candidates.push(EndCandidate {
                at,
                end,
                next_token_start: None,
                after_end: end + next.len_utf8(),
            });
        } else if is_space(next) {
            let space_len = rest.len() - rest.trim_start_matches(is_space).len();
            let after_space = &rest[space_len..];
            if after_space.is_empty() {
                continue;
            }
            let token_len = after_space.find(is_space).unwrap_or(after_space.len());
            candidates.push(EndCandidate {
                at,
                end,
                next_token_start: Some(end + space_len),
                after_end: end + space_len + token_len,
            });
        }
    }
    candidates
}

/// `PunktSentenceTokenizer._match_potential_end_contexts`: each candidate with the word before it,
/// dropping a candidate whose word overlaps the next candidate's word (so `acting!!!` yields only
/// its last `!`).
fn candidates_with_context(text: &str) -> Vec<(EndCandidate, String)> {
    let mut out = Vec::new();
    let mut previous: Option<(EndCandidate, Range<usize>)> = None;
    let mut previous_slice = 0..0;
    for candidate in end_candidates(text) {
        let before = &text[previous_slice.end..candidate.at];
        // NLTK's helper returns 0 both for "no whitespace" and "whitespace at index 0".
        let last_space = before
            .char_indices()
            .rev()
            .find(|&(_, c)| matches!(c, ' ' | '\t' | '\n' | '\r' | '\x0b' | '\x0c'))
            .map_or(0, |(index, _)| index);
        let word_start = if last_space != 0 {
            previous_slice.end + last_space + 1
        } else {
            previous_slice.start
        };
        let word = word_start..candidate.at;
        if let Some((match_, slice)) = previous.take() {
            if slice.end <= word.start {
                let context = format!(
                    "{}{}",
                    &text[slice.clone()],
                    &text[match_.at..match_.after_end]
                );
                out.push((match_, context));
            }
        }
        previous_slice = word.clone();
        previous = Some((candidate, word));
    }
    if let Some((match_, slice)) = previous {
        let context = format!("{}{}", &text[slice], &text[match_.at..match_.after_end]);
        out.push((match_, context));
    }
    out
}

/// Sentence spans (byte ranges) as `PunktSentenceTokenizer.span_tokenize` returns them.
pub fn sentence_spans(text: &str) -> Vec<Range<usize>> {
    let params = &*ENGLISH;
    let mut slices = Vec::new();
    let mut last_break = 0;
    for (candidate, context) in candidates_with_context(text) {
        if context_contains_sentbreak(params, &context) {
            slices.push(last_break..candidate.end);
            last_break = candidate.next_token_start.unwrap_or(candidate.end);
        }
    }
    slices.push(last_break..rstrip(text).len());
    realign_boundaries(text, slices)
}

/// Length of the closing-punctuation prefix that realignment moves onto the previous sentence,
/// and the length of the whole match (including trailing whitespace), if the pattern matches.
fn realignment(sentence: &str) -> Option<(usize, usize)> {
    let closing_len: usize = sentence
        .chars()
        .take_while(|&c| is_closing(c))
        .map(char::len_utf8)
        .sum();
    if closing_len == 0 {
        return None;
    }
    let rest = &sentence[closing_len..];
    let matched = match rest.chars().next() {
        None => closing_len,
        Some(c) if is_space(c) => {
            closing_len + rest.len() - rest.trim_start_matches(is_space).len()
        }
        Some(_) if rest.starts_with("--") => closing_len,
        Some(_) => return None,
    };
    let kept = rstrip(&sentence[..matched]).len();
    Some((kept, matched))
}

fn realign_boundaries(text: &str, slices: Vec<Range<usize>>) -> Vec<Range<usize>> {
    let slice_text = |range: &Range<usize>| -> &str {
        if range.start < range.end {
            &text[range.clone()]
        } else {
            ""
        }
    };
    let mut out = Vec::new();
    let mut realign = 0;
    for (index, slice) in slices.iter().enumerate() {
        let sentence = slice.start + realign..slice.end;
        match slices.get(index + 1) {
            None => {
                if !slice_text(&sentence).is_empty() {
                    out.push(sentence);
                }
            }
            Some(next) => match realignment(slice_text(next)) {
                Some((kept, matched)) => {
                    out.push(sentence.start..next.start + kept);
                    realign = matched;
                }
                None => {
                    realign = 0;
                    if !slice_text(&sentence).is_empty() {
                        out.push(sentence);
                    }
                }
            },
        }
    }
    out
}

/// The sentences of `text` as NLTK's English Punkt tokenizer splits them.
pub fn sentences(text: &str) -> Vec<&str> {
    sentence_spans(text)
        .into_iter()
        .map(|range| {
            if range.start < range.end {
                &text[range]
            } else {
                ""
            }
        })
        .collect()
}

/// IFEval's `count_sentences`.
pub fn count_sentences(text: &str) -> usize {
    sentence_spans(text).len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn english_parameters_are_complete() {
        let params = &*ENGLISH;
        assert_eq!(params.abbrev_types.len(), 156);
        assert_eq!(params.collocations.len(), 37);
        assert_eq!(params.sent_starters.len(), 39);
        assert_eq!(params.ortho_context.len(), 20366);
        assert!(params.abbrev_types.contains("dr") && params.abbrev_types.contains("u.s"));
        assert!(params
            .collocations
            .contains(&("##number##".into(), "international".into())));
    }

    #[test]
    fn word_tokenizer_splits_punctuation_but_keeps_periods() {
        assert_eq!(
            word_tokenize_line("Hello, U.S.A. (really)... e-mail--fine 3,000 don't!"),
            [
                "Hello", ",", "U.S.A.", "(", "really", ")", "...", "e-mail", "--", "fine", "3,000",
                "don", "'t", "!"
            ]
        );
        assert_eq!(word_tokenize_line("a . . . b"), ["a", ". . .", "b"]);
    }

    // Expected splits below were produced by NLTK 3.10 `sent_tokenize` with its English model.
    #[test]
    fn splits_like_nltk_on_abbreviations_numbers_and_initials() {
        assert_eq!(
            sentences("Dr. Smith went to Washington. He arrived at 3 p.m. on Monday! Really? 1. First item. 2. second item."),
            ["Dr. Smith went to Washington.", "He arrived at 3 p.m. on Monday!", "Really?", "1.", "First item.", "2. second item."]
        );
    }

    #[test]
    fn realigns_closing_quotes_and_brackets() {
        assert_eq!(
            sentences("He said \"stop.\" Then he left. (It was late.) The end"),
            [
                "He said \"stop.\"",
                "Then he left.",
                "(It was late.)",
                "The end"
            ]
        );
    }

    #[test]
    fn empty_and_blank_text_have_no_sentences() {
        assert_eq!(count_sentences(""), 0);
        assert_eq!(count_sentences(" \n\t "), 0);
        assert_eq!(count_sentences("no terminal punctuation"), 1);
    }
}
