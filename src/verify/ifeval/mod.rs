//! IFEval: the 25 verifiable-instruction checkers of Google's IFEval (Zhou et al. 2023), strict
//! and loose, with IFEval's prompt- and instruction-level accuracy — and the IFBench instruction
//! set in the same data schema (see [`ifbench`]).
//!
//! # Using it
//!
//! ```
//! use tulu::verify::ifeval::{InstructionSet, Mode};
//! use serde_json::json;
//!
//! let set = InstructionSet::from_row(
//!     &["punctuation:no_comma", "length_constraints:number_words"],
//!     &[json!(null), json!({"num_words": 5, "relation": "less than"})],
//! )?;
//! let outcome = set.evaluate("prompt", "Short and clean.", Mode::Strict);
//! assert!(outcome.follow_all);
//! # Ok::<(), tulu::verify::ifeval::InstructionError>(())
//! ```
//!
//! Build an [`InstructionSet`] once per row and evaluate every response against it; add the
//! strict and loose outcomes to an [`IfEvalAccumulator`] for IFEval's four headline numbers and
//! the per-category / per-id breakdown. [`read_rows`] reads IFEval-schema JSONL files.
//!
//! # Fidelity to IFEval
//!
//! Each checker reproduces `instruction_following_eval/instructions.py` rule for rule (its doc
//! comment states the rule), including quirks that change scores: keywords are regular
//! expressions matched case-insensitively anywhere (`cat` is in `category`), the postscript
//! marker is not anchored to a line start, `**bold**` counts as one highlight, the n-th paragraph
//! is indexed in the raw `\n\n` split. Python string semantics (`strip`, `split`, `isupper`,
//! `lower`, `\w`, `\s`, `json.loads` incl. `NaN`) are reproduced by [`python_text`] and
//! [`python_json`]. Where IFEval picks a *random* value for a missing kwarg (it does so when it
//! generates prompts), this module reports an error instead, since a random threshold cannot
//! verify anything.
//!
//! Modes: strict checks the response; loose accepts an instruction if any of eight variants
//! follows it (the response, without its first line, without its last line, without both, and
//! each of those with every `*` removed). In both modes a blank response follows nothing.
//!
//! # Crates and how they differ from the Python originals
//!
//! - Sentences: [`punkt`] is a Rust re-implementation of NLTK's Punkt decision procedure with
//!   NLTK's pretrained English parameters (compiled in from `punkt_english.tsv`), matching
//!   NLTK 3.9.1's `sent_tokenize`; no Rust crate implements current Punkt (the `punkt` crate is
//!   unmaintained since 2019).
//! - Words: [`word_tokenize`] reproduces `RegexpTokenizer(r"\w+")` for word counts and
//!   `nltk.word_tokenize` (NLTK 3.9.1 Treebank rules, on `regex` + `fancy-regex`) for capital
//!   words.
//! - Language: `whatlang` instead of `langdetect`; see [`language`] for the differences (no
//!   Swahili, deterministic, undetectable text counts as followed as in IFEval).
//! - Patterns: kwargs IFEval feeds to Python's `re` compile with `regex`; an invalid pattern,
//!   which would crash IFEval, is matched literally ([`python_pattern`]).

pub mod accuracy;
pub mod checks;
pub mod dataset;
pub mod error;
pub mod ifbench;
pub mod instruction_set;
pub mod kwargs;
pub mod language;
pub mod punkt;
pub mod python_json;
pub mod python_pattern;
pub mod python_text;
pub mod registry;
pub mod relation;
pub mod word_tokenize;

#[cfg(test)]
mod reference_tests;

pub use accuracy::{IfEvalAccumulator, IfEvalSummary, ModeAccuracy, Tally};
pub use dataset::{read_rows, DatasetError, IfEvalRow};
pub use error::InstructionError;
pub use instruction_set::{IfEvalOutcome, InstructionSet, InstructionVerdict, Mode, Verdict};
pub use relation::Relation;
