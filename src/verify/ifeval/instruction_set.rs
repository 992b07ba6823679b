//! A row's instructions, built once, and their evaluation in strict and loose mode.

use super::checks::Check;
use super::error::InstructionError;
use super::python_text::{is_blank, strip};
use super::registry;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::borrow::Cow;

/// IFEval's two evaluation modes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// The response as given.
    Strict,
    /// An instruction is followed if any of eight variants of the response follows it: the
    /// response, without its first line, without its last line, without both, and each of those
    /// with every `*` removed.
    Loose,
}

/// The result for one instruction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// The response follows the instruction.
    Followed,
    /// The response does not follow the instruction.
    NotFollowed,
    /// The instruction cannot be checked by this implementation (see
    /// [`InstructionSet::from_row_lenient`]).
    Unsupported,
}

/// One instruction's id and verdict.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstructionVerdict {
    /// The instruction id as given in the row.
    pub id: String,
    /// Its verdict.
    pub verdict: Verdict,
}

/// The outcome of checking one response against one row's instructions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IfEvalOutcome {
    /// True when every instruction was checked and followed (IFEval's
    /// `follow_all_instructions`). An unsupported instruction makes it false, so a reward built
    /// on it never pays for something that was not verified.
    pub follow_all: bool,
    /// Per-instruction verdicts, in the row's order.
    pub per_instruction: Vec<InstructionVerdict>,
}

impl IfEvalOutcome {
    /// True when no instruction was [`Verdict::Unsupported`].
    pub fn is_fully_checked(&self) -> bool {
        self.per_instruction
            .iter()
            .all(|v| v.verdict != Verdict::Unsupported)
    }
}

/// One instruction of a row: its id, and its checker or why there is none.
#[derive(Debug)]
struct Instruction {
    id: String,
    checker: Result<Box<dyn Check>, String>,
}

/// The checkers for one data row (`instruction_id_list` + `kwargs`), built once and reusable
/// for any number of responses (e.g. all samples of a prompt in RLVR).
#[derive(Debug)]
pub struct InstructionSet {
    instructions: Vec<Instruction>,
}

impl InstructionSet {
    /// Builds the checkers of a row. `kwargs` holds one JSON object (or `null`) per id, as in
    /// IFEval's data files; `null` kwargs mean "not given". Fails on an unknown id, on an id that
    /// cannot be checked, on a bad kwarg, or on a kwargs list of the wrong length.
    pub fn from_row<S: AsRef<str>>(
        instruction_ids: &[S],
        kwargs: &[Value],
    ) -> Result<Self, InstructionError> {
        Self::build(instruction_ids, kwargs, false)
    }

    /// Like [`InstructionSet::from_row`], but an id that is unknown, or known and not checkable
    /// (an IFBench checker not implemented here, a language the detector cannot identify),
    /// becomes an instruction whose verdict is always [`Verdict::Unsupported`], so a whole data
    /// set can be loaded. Bad kwargs of checkable instructions are still errors.
    pub fn from_row_lenient<S: AsRef<str>>(
        instruction_ids: &[S],
        kwargs: &[Value],
    ) -> Result<Self, InstructionError> {
        Self::build(instruction_ids, kwargs, true)
    }

    fn build<S: AsRef<str>>(
        instruction_ids: &[S],
        kwargs: &[Value],
        lenient: bool,
    ) -> Result<Self, InstructionError> {
        if instruction_ids.len() != kwargs.len() {
            return Err(InstructionError::MalformedRow {
                problem: format!(
                    "{} instruction ids but {} kwargs objects; there must be one per id",
                    instruction_ids.len(),
                    kwargs.len()
                ),
            });
        }
        let mut instructions = Vec::with_capacity(instruction_ids.len());
        for (id, kwargs) in instruction_ids.iter().zip(kwargs) {
            let id = id.as_ref();
            let checker = match registry::build(id, kwargs) {
                Ok(checker) => Ok(checker),
                Err(
                    error @ (InstructionError::UnknownInstruction { .. }
                    | InstructionError::Unsupported { .. }),
                ) if lenient => Err(error.to_string()),
                Err(error) => return Err(error),
            };
            instructions.push(Instruction {
                id: id.to_string(),
                checker,
            });
        }
        Ok(InstructionSet { instructions })
    }

    /// The instruction ids, in order.
    pub fn ids(&self) -> impl Iterator<Item = &str> {
        self.instructions.iter().map(|i| i.id.as_str())
    }

    /// The number of instructions.
    pub fn len(&self) -> usize {
        self.instructions.len()
    }

    /// True for a row without instructions.
    pub fn is_empty(&self) -> bool {
        self.instructions.is_empty()
    }

    /// Why each unsupported instruction cannot be checked, as `(id, reason)`.
    pub fn unsupported(&self) -> impl Iterator<Item = (&str, &str)> {
        self.instructions.iter().filter_map(|i| match &i.checker {
            Ok(_) => None,
            Err(reason) => Some((i.id.as_str(), reason.as_str())),
        })
    }

    /// Checks `response` (to `prompt`) against every instruction.
    pub fn evaluate(&self, prompt: &str, response: &str, mode: Mode) -> IfEvalOutcome {
        let variants = match mode {
            Mode::Strict => vec![Cow::Borrowed(response)],
            Mode::Loose => loose_variants(response),
        };
        self.outcome(prompt, &variants)
    }

    /// Strict and loose outcomes together (what an IFEval report needs).
    pub fn evaluate_both(&self, prompt: &str, response: &str) -> (IfEvalOutcome, IfEvalOutcome) {
        (
            self.evaluate(prompt, response, Mode::Strict),
            self.evaluate(prompt, response, Mode::Loose),
        )
    }

    fn outcome(&self, prompt: &str, variants: &[Cow<'_, str>]) -> IfEvalOutcome {
        let per_instruction: Vec<InstructionVerdict> = self
            .instructions
            .iter()
            .map(|instruction| {
                let verdict = match &instruction.checker {
                    Err(_) => Verdict::Unsupported,
                    Ok(checker) => {
                        // IFEval: a blank response (or variant) follows nothing.
                        let followed = variants.iter().any(|variant| {
                            !is_blank(variant) && checker.is_followed(variant, prompt)
                        });
                        if followed {
                            Verdict::Followed
                        } else {
                            Verdict::NotFollowed
                        }
                    }
                };
                InstructionVerdict {
                    id: instruction.id.clone(),
                    verdict,
                }
            })
            .collect();
        IfEvalOutcome {
            follow_all: per_instruction
                .iter()
                .all(|v| v.verdict == Verdict::Followed),
            per_instruction,
        }
    }
}

/// IFEval's eight loose-mode variants, in its order, without duplicates (checkers are pure, so
/// a repeated variant cannot change a verdict).
pub fn loose_variants(response: &str) -> Vec<Cow<'_, str>> {
    let first_newline = response.find('\n');
    let last_newline = response.rfind('\n');
    let remove_first = first_newline.map_or("", |at| strip(&response[at + 1..]));
    let remove_last = last_newline.map_or("", |at| strip(&response[..at]));
    let remove_both = match (first_newline, last_newline) {
        (Some(first), Some(last)) if first < last => strip(&response[first + 1..last]),
        _ => "",
    };
    let without_stars = |text: &str| -> String { text.replace('*', "") };
    let candidates: [Cow<'_, str>; 8] = [
        Cow::Borrowed(response),
        Cow::Owned(without_stars(response)),
        Cow::Borrowed(remove_first),
        Cow::Borrowed(remove_last),
        Cow::Borrowed(remove_both),
        Cow::Owned(without_stars(remove_first)),
        Cow::Owned(without_stars(remove_last)),
        Cow::Owned(without_stars(remove_both)),
    ];
    let mut variants: Vec<Cow<'_, str>> = Vec::with_capacity(8);
    for candidate in candidates {
        if !variants.iter().any(|seen| seen == &candidate) {
            variants.push(candidate);
        }
    }
    variants
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn loose_variants_follow_ifeval() {
        let variants = loose_variants("Sure! Here:\n*Answer* body\nThanks");
        let variants: Vec<&str> = variants.iter().map(|v| v.as_ref()).collect();
        assert_eq!(
            variants,
            [
                "Sure! Here:\n*Answer* body\nThanks",
                "Sure! Here:\nAnswer body\nThanks",
                "*Answer* body\nThanks",
                "Sure! Here:\n*Answer* body",
                "*Answer* body",
                "Answer body\nThanks",
                "Sure! Here:\nAnswer body",
                "Answer body",
            ]
        );
        let single: Vec<String> = loose_variants("one line")
            .into_iter()
            .map(|v| v.into_owned())
            .collect();
        assert_eq!(single, ["one line", ""]);
    }

    #[test]
    fn strict_and_loose_differ_where_ifeval_says() {
        let set = InstructionSet::from_row(
            &["startend:quotation", "detectable_format:json_format"],
            &[Value::Null, Value::Null],
        )
        .expect("valid");
        // A chatty first line breaks strict mode; loose drops it.
        let response = "Here is the JSON you asked for:\n\"{\\\"a\\\": 1}\"";
        let (strict, loose) = set.evaluate_both("", response);
        assert!(!strict.follow_all);
        assert!(loose.follow_all, "{loose:?}");
    }

    #[test]
    fn markdown_stars_only_pass_loose() {
        let set = InstructionSet::from_row(
            &["startend:end_checker"],
            &[json!({"end_phrase": "Any other questions?"})],
        )
        .expect("valid");
        let response = "Done.\n**Any other questions?**";
        assert_eq!(
            set.evaluate("", response, Mode::Strict).per_instruction[0].verdict,
            Verdict::NotFollowed
        );
        assert_eq!(
            set.evaluate("", response, Mode::Loose).per_instruction[0].verdict,
            Verdict::Followed
        );
    }

    #[test]
    fn blank_responses_follow_nothing() {
        let set =
            InstructionSet::from_row(&["punctuation:no_comma"], &[Value::Null]).expect("valid");
        for response in ["", "  \n\t ", "\n\n"] {
            for mode in [Mode::Strict, Mode::Loose] {
                let outcome = set.evaluate("", response, mode);
                assert!(!outcome.follow_all, "{response:?} {mode:?}");
            }
        }
        assert!(set.evaluate("", "fine", Mode::Strict).follow_all);
    }

    #[test]
    fn unknown_ids_are_errors_strictly_and_unsupported_leniently() {
        let ids = ["punctuation:no_comma", "made:up"];
        let kwargs = [Value::Null, Value::Null];
        assert!(matches!(
            InstructionSet::from_row(&ids, &kwargs),
            Err(InstructionError::UnknownInstruction { .. })
        ));
        let set = InstructionSet::from_row_lenient(&ids, &kwargs).expect("lenient");
        let outcome = set.evaluate("", "no commas", Mode::Strict);
        assert!(!outcome.follow_all && !outcome.is_fully_checked());
        assert_eq!(outcome.per_instruction[0].verdict, Verdict::Followed);
        assert_eq!(outcome.per_instruction[1].verdict, Verdict::Unsupported);
        assert_eq!(set.unsupported().count(), 1);
    }

    #[test]
    fn row_shape_errors() {
        assert!(matches!(
            InstructionSet::from_row(&["punctuation:no_comma"], &[]),
            Err(InstructionError::MalformedRow { .. })
        ));
        let empty = InstructionSet::from_row::<&str>(&[], &[]).expect("empty row");
        assert!(
            empty.evaluate("", "x", Mode::Strict).follow_all,
            "all([]) is True"
        );
    }
}
