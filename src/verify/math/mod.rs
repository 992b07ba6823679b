//! The MATH "flex" verifier: is a free-form response's final answer equal to the gold answer?
//!
//! # What it does
//!
//! 1. **Extraction** ([`candidates`]), in open-instruct `MathVerifier` order: the argument of
//!    the last `\boxed{…}` / `\fbox{…}` / `\boxed 5`; the Minerva sentence "Final Answer: The
//!    final answer is … I hope it is correct."; only when neither exists, the last math span
//!    (`$…$`, `$$…$$`, `\(…\)`, `\[…\]`);
//!    only when nothing was found, the whole response. The response is correct when *any*
//!    candidate matches.
//! 2. **Normalization** ([`normalize_answer`]): the Hendrycks `strip_string` and Minerva
//!    `normalize_final_answer` rules — `\left`/`\right`, spacing commands, `\dfrac`/`\tfrac`,
//!    `\text{}` wrappers, trailing units, `^\circ`, `\$`, `\%`, thousands separators, trailing
//!    periods, leading zeros (`.5`), `(B)` → `B` — applied to commands and whole words.
//! 3. **Equivalence** (`equivalence`): equal strings, or equal structure and values — exact
//!    rational arithmetic with canonical polynomials over radicals, `π`, `e`, `i` and variables,
//!    a numeric fallback only where the exact form cannot decide; tuples, intervals, sets,
//!    unions, matrices and relations compared element-wise.
//!
//! Every comparison has a deterministic work budget (no wall clock, so rewards do not depend
//! on machine load) and depth and size limits; hostile input ends as "not equal", never as a
//! hang, a stack overflow or a panic.
//!
//! # Reference behaviour matched
//!
//! - open-instruct `ground_truth_utils.MathVerifier` (the Tülu 3 RLVR "flex" verifier):
//!   candidate order and fallbacks; a match by either string equality after normalization
//!   (`hendrycks_is_equiv`) or mathematical equality (`is_equiv`, sympy `simplify(a - b) == 0`).
//! - lm-eval-harness `minerva_math` (`last_boxed_only_string`, `get_unnormalized_answer`,
//!   `normalize_final_answer`) and `hendrycks_math` (`strip_string`).
//! - Qwen2.5-Math / DeepSeek-Math graders: element-wise tuples, intervals and matrices,
//!   `x = 5` against `5`, equations compared as equations, choice letters.
//!
//! # Deliberate differences
//!
//! - Normalization works on commands and words, not substrings: Minerva deletes `ft` inside
//!   `\left` and `\infty` (producing MATH-500's `\le(…` and `\iny`) and `a ` inside words.
//! - `\fbox{}` is accepted (open-instruct finds it but then fails to unwrap it), escaped braces
//!   do not count when matching the box's braces, `\$` is not a math delimiter, and the
//!   last-math-span fallback also reads `\(…\)` and `\[…\]`.
//! - The Minerva sentence is found case-insensitively and without requiring the closing
//!   phrase on the same line.
//! - `i` is the imaginary unit (`(1+i)^2 = 2i`), `e` is Euler's number, odd roots of negative
//!   numbers are real (`\sqrt[3]{-8} = -2`); sympy's `parse_latex` treats `i` and `e` as plain
//!   symbols and takes principal complex roots.
//! - An integer followed by a fraction of integers is a mixed number (`137\frac{1}{2}` =
//!   137.5), as MATH writes them; sympy reads a product.
//! - Bare comma lists (`1, -2`) and `\pm` expressions are compared as multisets of solutions;
//!   the references compare those strings only.
//! - A column or row vector matches a parenthesized tuple of the same entries.
//! - Inequalities on one name are intervals (`-2 \le x < 7` = `[-2, 7)`, `x > 3` =
//!   `(3, \infty)`); in a chain `x = 1/3 \approx 0.33` the value is the last side before the
//!   `\approx`; two assignments `a = 5`, `x = 5` compare their values (both references drop a
//!   short left side).
//! - Tolerated spellings from normalized datasets: `\cotx` (a function run into its letter),
//!   matrix rows split by a single backslash (`\begin{pmatrix}1\2\end{pmatrix}`), numerals with
//!   subscript 10.
//! - The first Minerva sentence counts, as in the references, so a response that states an
//!   answer and later "corrects" it is judged by the first; the last box counts.
//! - Decimals are exact (`0.333 ≠ 1/3`), as with sympy; the Qwen grader accepts a relative
//!   error of 1e-4 and percentages scaled by 100. The numeric fallback (relative tolerance
//!   1e-9, fixed sample points for variables) applies only to answers without a decimal point,
//!   and only when the exact algebra cannot decide (functions such as `\sin`, nested radicals,
//!   size limits).
//! - Variables are positive reals for power rules (`\sqrt{x^2} = x`).
//! - No wall-clock timeout (open-instruct uses a 5 s `SIGALRM`); a step budget instead.

mod ast;
mod budget;
mod equivalence;
mod exact;
mod extract;
mod lexer;
mod normalize;
mod numeric;
mod parser;
mod polynomial;
mod radical;
mod verdict;

#[cfg(test)]
mod dataset_tests;
#[cfg(test)]
mod robustness_tests;

use thiserror::Error;

pub use extract::{candidates, last_boxed, last_math_span, minerva_answer, Candidate};
pub use normalize::normalize_answer;
pub(crate) use parser::decimal_value;
pub use verdict::{AnswerSource, Verdict};

use equivalence::{prepared_answers_match, PreparedAnswer};

/// Why a gold answer cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum MathVerifyError {
    /// The gold answer is empty (or its box is).
    #[error(
        "the MATH gold answer is empty; pass the final answer (for MATH, the content of the \
         solution's last \\boxed{{}}, see `math::last_boxed`)"
    )]
    EmptyGold,
    /// The gold text contains `\boxed` but its last box is never closed.
    #[error(
        "the MATH gold answer {excerpt:?} has a \\boxed whose braces are never closed; fix the \
         gold solution or pass the bare answer"
    )]
    UnclosedBox {
        /// The end of the gold text, for locating the problem.
        excerpt: String,
    },
}

/// A gold answer prepared once (normalized and parsed), for verifying many responses.
#[derive(Debug, Clone)]
pub struct MathGold {
    answer: String,
    prepared: PreparedAnswer,
}

impl MathGold {
    /// Prepares `gold`: a bare final answer (`\frac{1}{2}`), or text containing a `\boxed{}`
    /// (such as a MATH solution), whose last box is then the answer.
    pub fn new(gold: &str) -> Result<Self, MathVerifyError> {
        let answer = if gold.contains("\\boxed") || gold.contains("\\fbox") {
            last_boxed(gold).ok_or_else(|| MathVerifyError::UnclosedBox {
                excerpt: excerpt_of_end(gold),
            })?
        } else {
            gold.to_string()
        };
        let prepared = PreparedAnswer::new(&answer);
        if prepared.normalized.is_empty() {
            return Err(MathVerifyError::EmptyGold);
        }
        Ok(Self { answer, prepared })
    }

    /// The gold answer as given (the box's content when the gold held a box).
    pub fn answer(&self) -> &str {
        &self.answer
    }

    /// Judges one response.
    pub fn verify(&self, response: &str) -> Verdict {
        let found = candidates(response);
        for candidate in &found {
            if prepared_answers_match(&PreparedAnswer::new(&candidate.text), &self.prepared) {
                return Verdict {
                    correct: true,
                    extracted: Some(candidate.text.clone()),
                    matched_by: Some(candidate.source),
                };
            }
        }
        Verdict {
            correct: false,
            extracted: found.into_iter().next().map(|candidate| candidate.text),
            matched_by: None,
        }
    }
}

fn excerpt_of_end(text: &str) -> String {
    let start = text
        .char_indices()
        .rev()
        .nth(79)
        .map_or(0, |(index, _)| index);
    text[start..].to_string()
}

/// Judges `response` against `gold` (see [`MathGold::new`] for the forms `gold` may take).
pub fn verify(response: &str, gold: &str) -> Result<Verdict, MathVerifyError> {
    Ok(MathGold::new(gold)?.verify(response))
}

/// Whether two bare answers are equivalent (normalized strings equal, or equal values and
/// structure). Symmetric except for relations: a candidate `x = 5` is judged by its last side.
pub fn answers_match(candidate: &str, gold: &str) -> bool {
    prepared_answers_match(&PreparedAnswer::new(candidate), &PreparedAnswer::new(gold))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn correct(response: &str, gold: &str) -> bool {
        verify(response, gold).unwrap().correct
    }

    #[test]
    fn boxed_answers_match_by_value() {
        let verdict = verify("So $x = \\boxed{\\dfrac{1}{2}}$.", "0.5").unwrap();
        assert!(verdict.correct);
        assert_eq!(verdict.extracted.as_deref(), Some("\\dfrac{1}{2}"));
        assert_eq!(verdict.matched_by, Some(AnswerSource::Boxed));
        assert!(correct("\\boxed{2\\sqrt{3}}", "\\sqrt{12}"));
        assert!(correct("\\fbox{42}", "42"));
        assert!(correct("$\\boxed 7$", "7"));
        assert!(!correct("\\boxed{8}", "7"));
    }

    #[test]
    fn minerva_dollars_and_whole_output() {
        let minerva =
            "We get 3.\nFinal Answer: The final answer is $\\frac{2}{3}$. I hope it is correct.";
        let verdict = verify(minerva, "\\frac23").unwrap();
        assert_eq!(verdict.matched_by, Some(AnswerSource::Minerva));
        let verdict = verify("the area is $12\\pi$", "12\\pi").unwrap();
        assert_eq!(verdict.matched_by, Some(AnswerSource::Dollars));
        let verdict = verify("12", "12").unwrap();
        assert_eq!(verdict.matched_by, Some(AnswerSource::WholeOutput));
        // The last `$…$` span is only a fallback: a wrong box is not rescued by it.
        assert!(!correct("\\boxed{5} but really $6$", "6"));
    }

    #[test]
    fn any_candidate_may_match() {
        let response = "\\boxed{5}\nFinal Answer: The final answer is 6. I hope it is correct.";
        let verdict = verify(response, "6").unwrap();
        assert!(verdict.correct);
        assert_eq!(verdict.matched_by, Some(AnswerSource::Minerva));
    }

    #[test]
    fn incorrect_verdicts_report_the_first_candidate() {
        let verdict = verify("\\boxed{5}", "6").unwrap();
        assert_eq!(
            verdict,
            Verdict {
                correct: false,
                extracted: Some("5".into()),
                matched_by: None
            }
        );
        let verdict = verify("", "6").unwrap();
        assert_eq!(verdict.extracted, None);
        assert!(!verdict.correct);
        assert_eq!(verdict.reward(10.0), 0.0);
    }

    #[test]
    fn gold_may_be_a_solution_with_a_box() {
        let gold = MathGold::new("We find $\\boxed{\\frac{3}{4}}$.").unwrap();
        assert_eq!(gold.answer(), "\\frac{3}{4}");
        assert!(gold.verify("\\boxed{0.75}").correct);
        assert_eq!(gold.verify("\\boxed{0.75}").reward(10.0), 10.0);
    }

    #[test]
    fn unusable_gold_answers_are_errors() {
        assert_eq!(
            verify("\\boxed{1}", "").unwrap_err(),
            MathVerifyError::EmptyGold
        );
        assert_eq!(
            verify("\\boxed{1}", "  $ $ ").unwrap_err(),
            MathVerifyError::EmptyGold
        );
        assert_eq!(
            verify("\\boxed{1}", "\\boxed{}").unwrap_err(),
            MathVerifyError::EmptyGold
        );
        let error = verify("\\boxed{1}", "so \\boxed{\\frac{1}{2}").unwrap_err();
        assert!(matches!(error, MathVerifyError::UnclosedBox { .. }));
        assert!(error.to_string().contains("never closed"));
    }

    #[test]
    fn markdown_unicode_and_thinking_responses() {
        assert!(correct("**Answer:** $\\boxed{\\pi}$", "\\pi"));
        assert!(correct("The answer is $\\boxed{½}$", "\\frac12"));
        assert!(correct("<think>maybe 4</think> so $\\boxed{5}$", "5"));
        assert!(correct(
            "Final Answer: The final answer is **18**. I hope it is correct.",
            "18"
        ));
        assert!(correct("答案是 $\\boxed{3}$。", "3"));
        assert!(correct("\\boxed{−5}", "-5"));
    }

    #[test]
    fn answer_source_names_are_stable() {
        let names: Vec<_> = [
            AnswerSource::Boxed,
            AnswerSource::Minerva,
            AnswerSource::Dollars,
            AnswerSource::WholeOutput,
            AnswerSource::LastNumber,
        ]
        .iter()
        .map(|source| source.as_str())
        .collect();
        assert_eq!(
            names,
            ["boxed", "minerva", "dollars", "whole", "last_number"]
        );
        for source in [AnswerSource::WholeOutput, AnswerSource::LastNumber] {
            let json = serde_json::to_string(&source).unwrap();
            assert_eq!(json, format!("\"{}\"", source.as_str()));
        }
    }
}
