//! The instruction ids this module knows, the kwargs each takes, and how each checker is built.

use super::checks::case::{CapitalWordFrequency, EnglishCapital, EnglishLowercase};
use super::checks::combination::{RepeatPrompt, TwoResponses};
use super::checks::content::{NumberPlaceholders, Postscript};
use super::checks::format::{
    ConstrainedResponse, JsonFormat, MultipleSections, NumberBulletLists,
    NumberHighlightedSections, Title,
};
use super::checks::keywords::{
    ForbiddenWords, KeywordFrequency, KeywordsExistence, LetterFrequency,
};
use super::checks::language::ResponseLanguageCheck;
use super::checks::length::{
    NthParagraphFirstWord, NumberParagraphs, NumberSentences, NumberWords,
};
use super::checks::punctuation::NoComma;
use super::checks::startend::{EndChecker, Quotation};
use super::checks::Check;
use super::error::InstructionError;
use super::ifbench;
use super::kwargs::Kwargs;
use serde_json::Value;

/// Builds a checker from validated kwargs.
pub type BuildCheck = fn(&Kwargs) -> Result<Box<dyn Check>, InstructionError>;

/// One instruction id: its name, the kwargs it takes (IFEval's spelling) and its builder.
#[derive(Debug, Clone, Copy)]
pub struct InstructionSpec {
    /// The id, e.g. `keywords:frequency`.
    pub id: &'static str,
    /// The kwargs it takes.
    pub takes: &'static [&'static str],
    /// Its checker's constructor.
    pub build: BuildCheck,
}

fn boxed<C: Check + 'static>(check: C) -> Box<dyn Check> {
    Box::new(check)
}

/// IFEval's 25 instructions.
pub const IFEVAL_INSTRUCTIONS: &[InstructionSpec] = &[
    InstructionSpec {
        id: "keywords:existence",
        takes: &["keywords"],
        build: |kw| KeywordsExistence::new(kw).map(boxed),
    },
    InstructionSpec {
        id: "keywords:frequency",
        takes: &["keyword", "frequency", "relation"],
        build: |kw| KeywordFrequency::new(kw).map(boxed),
    },
    InstructionSpec {
        id: "keywords:forbidden_words",
        takes: &["forbidden_words"],
        build: |kw| ForbiddenWords::new(kw).map(boxed),
    },
    InstructionSpec {
        id: "keywords:letter_frequency",
        takes: &["letter", "let_frequency", "let_relation"],
        build: |kw| LetterFrequency::new(kw).map(boxed),
    },
    InstructionSpec {
        id: "language:response_language",
        takes: &["language"],
        build: |kw| ResponseLanguageCheck::new(kw).map(boxed),
    },
    InstructionSpec {
        id: "length_constraints:number_sentences",
        takes: &["num_sentences", "relation"],
        build: |kw| NumberSentences::new(kw).map(boxed),
    },
    InstructionSpec {
        id: "length_constraints:number_paragraphs",
        takes: &["num_paragraphs"],
        build: |kw| NumberParagraphs::new(kw).map(boxed),
    },
    InstructionSpec {
        id: "length_constraints:number_words",
        takes: &["num_words", "relation"],
        build: |kw| NumberWords::new(kw).map(boxed),
    },
    InstructionSpec {
        id: "length_constraints:nth_paragraph_first_word",
        takes: &["num_paragraphs", "nth_paragraph", "first_word"],
        build: |kw| NthParagraphFirstWord::new(kw).map(boxed),
    },
    InstructionSpec {
        id: "detectable_content:number_placeholders",
        takes: &["num_placeholders"],
        build: |kw| NumberPlaceholders::new(kw).map(boxed),
    },
    InstructionSpec {
        id: "detectable_content:postscript",
        takes: &["postscript_marker"],
        build: |kw| Postscript::new(kw).map(boxed),
    },
    InstructionSpec {
        id: "detectable_format:number_bullet_lists",
        takes: &["num_bullets"],
        build: |kw| NumberBulletLists::new(kw).map(boxed),
    },
    InstructionSpec {
        id: "detectable_format:constrained_response",
        takes: &[],
        build: |_| Ok(boxed(ConstrainedResponse)),
    },
    InstructionSpec {
        id: "detectable_format:number_highlighted_sections",
        takes: &["num_highlights"],
        build: |kw| NumberHighlightedSections::new(kw).map(boxed),
    },
    InstructionSpec {
        id: "detectable_format:multiple_sections",
        takes: &["section_spliter", "num_sections"],
        build: |kw| MultipleSections::new(kw).map(boxed),
    },
    InstructionSpec {
        id: "detectable_format:json_format",
        takes: &[],
        build: |_| Ok(boxed(JsonFormat)),
    },
    InstructionSpec {
        id: "detectable_format:title",
        takes: &[],
        build: |_| Ok(boxed(Title)),
    },
    InstructionSpec {
        id: "combination:two_responses",
        takes: &[],
        build: |_| Ok(boxed(TwoResponses)),
    },
    InstructionSpec {
        id: "combination:repeat_prompt",
        takes: &["prompt_to_repeat"],
        build: |kw| RepeatPrompt::new(kw).map(boxed),
    },
    InstructionSpec {
        id: "startend:end_checker",
        takes: &["end_phrase"],
        build: |kw| EndChecker::new(kw).map(boxed),
    },
    InstructionSpec {
        id: "startend:quotation",
        takes: &[],
        build: |_| Ok(boxed(Quotation)),
    },
    InstructionSpec {
        id: "change_case:capital_word_frequency",
        takes: &["capital_frequency", "capital_relation"],
        build: |kw| CapitalWordFrequency::new(kw).map(boxed),
    },
    InstructionSpec {
        id: "change_case:english_capital",
        takes: &[],
        build: |_| Ok(boxed(EnglishCapital)),
    },
    InstructionSpec {
        id: "change_case:english_lowercase",
        takes: &[],
        build: |_| Ok(boxed(EnglishLowercase)),
    },
    InstructionSpec {
        id: "punctuation:no_comma",
        takes: &[],
        build: |_| Ok(boxed(NoComma)),
    },
];

/// The spec for `id`, among IFEval's instructions and the implemented IFBench ones.
pub fn spec(id: &str) -> Option<&'static InstructionSpec> {
    IFEVAL_INSTRUCTIONS
        .iter()
        .chain(ifbench::IMPLEMENTED)
        .find(|spec| spec.id == id)
}

/// Builds the checker for `id` from its kwargs object (or `null`).
pub fn build(id: &str, kwargs: &Value) -> Result<Box<dyn Check>, InstructionError> {
    if let Some(spec) = spec(id) {
        let kwargs = Kwargs::new(id, kwargs, spec.takes)?;
        return (spec.build)(&kwargs);
    }
    if ifbench::ALL_IDS.contains(&id) {
        return Err(InstructionError::Unsupported {
            id: id.to_string(),
            reason: "this IFBench checker is not implemented".to_string(),
        });
    }
    Err(unknown(id))
}

fn unknown(id: &str) -> InstructionError {
    let candidates = IFEVAL_INSTRUCTIONS
        .iter()
        .map(|spec| spec.id)
        .chain(ifbench::ALL_IDS.iter().copied());
    let suggestion = candidates
        .map(|known| (strsim::jaro_winkler(id, known), known))
        .filter(|(score, _)| *score > 0.85)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, known)| format!("; did you mean `{known}`?"))
        .unwrap_or_default();
    InstructionError::UnknownInstruction {
        id: id.to_string(),
        suggestion,
        known: IFEVAL_INSTRUCTIONS
            .iter()
            .map(|spec| spec.id)
            .collect::<Vec<_>>()
            .join(", "),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn all_25_ifeval_ids_are_registered_once() {
        assert_eq!(IFEVAL_INSTRUCTIONS.len(), 25);
        let mut ids: Vec<_> = IFEVAL_INSTRUCTIONS.iter().map(|s| s.id).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), 25);
    }

    #[test]
    fn unknown_ids_get_a_suggestion() {
        let error = build("keywords:frequncy", &Value::Null).expect_err("unknown");
        let message = error.to_string();
        assert!(
            message.contains("did you mean `keywords:frequency`"),
            "{message}"
        );
        assert!(matches!(error, InstructionError::UnknownInstruction { .. }));
    }

    #[test]
    fn bad_kwargs_name_id_kwarg_and_allowed_values() {
        let error = build(
            "keywords:frequency",
            &json!({"keyword": "x", "frequency": 2, "relation": "exactly"}),
        )
        .expect_err("bad relation");
        let message = error.to_string();
        assert!(
            message.contains("keywords:frequency")
                && message.contains("`relation`")
                && message.contains("\"at least\""),
            "{message}"
        );
    }
}
