//! Every checker (IFEval's 25 and the implemented IFBench ones) on hostile responses, in both
//! modes: no panic, and a blank response follows nothing.

use super::ifbench;
use super::instruction_set::{InstructionSet, Mode, Verdict};
use super::registry::{InstructionSpec, IFEVAL_INSTRUCTIONS};
use serde_json::{json, Map, Value};

/// Plausible kwargs for any instruction, by kwarg name.
fn kwargs_for(spec: &InstructionSpec) -> Value {
    let mut map = Map::new();
    for name in spec.takes {
        let value = match *name {
            "keywords" | "forbidden_words" => json!(["cat", "über"]),
            "keyword" | "word" | "first_word" | "keyword1" | "keyword2" | "keyword3"
            | "keyword4" | "keyword5" => json!("cat"),
            "relation" | "let_relation" | "capital_relation" => json!("at least"),
            "letter" => json!("e"),
            "language" => json!("en"),
            "postscript_marker" => json!("P.S."),
            "section_spliter" => json!("Section"),
            "prompt_to_repeat" | "reference_text" => json!("Write a poem about cats"),
            "end_phrase" => json!("Any other questions?"),
            "options" => json!("yes/no/maybe"),
            "sep" => json!("..."),
            "num_paragraphs" => json!(3),
            "nth_paragraph" | "n" | "m" | "n_start" => json!(1),
            "max_words" | "n_end" => json!(40),
            "percentage" => json!(50),
            _ => json!(2),
        };
        map.insert(name.to_string(), value);
    }
    Value::Object(map)
}

const HOSTILE: &[&str] = &[
    "",
    " ",
    "\n",
    "\n\n\n",
    "\r\n\r\n",
    "\u{1c}\u{1d}\u{1e}\u{1f}",
    "*",
    "******",
    "***",
    "\"",
    "<<>>",
    "[",
    "```",
    "```json",
    "{",
    "((((((((((",
    "))))]]]]}}}}",
    "'\"'\"'\"'\"",
    "...",
    ". . . .",
    "?!‽",
    "e\u{301}\u{301}\u{301}",
    "👩‍👩‍👧‍👦 family 🇺🇳",
    "مرحبا بالعالم",
    "\u{202e}reversed\u{202c}",
    "\u{0}\u{7f}\u{feff}",
    "İıŞşĞğ ǅ ß ﬁ",
    "Question",
    "Zimbabwe",
    "P.S.",
    "SECTION 1",
    "1.\n2.\n3.",
    "a\n\n\n\n b\n  c",
];

#[test]
fn no_checker_panics_and_blank_follows_nothing() {
    let long = "word, another. ".repeat(5_000);
    let nested = format!("{}{}", "[".repeat(50_000), "]".repeat(50_000));
    let mut responses: Vec<&str> = HOSTILE.to_vec();
    responses.push(&long);
    responses.push(&nested);
    for spec in IFEVAL_INSTRUCTIONS.iter().chain(ifbench::IMPLEMENTED) {
        let kwargs = kwargs_for(spec);
        let set = InstructionSet::from_row(&[spec.id], std::slice::from_ref(&kwargs))
            .unwrap_or_else(|error| panic!("{}: {error}", spec.id));
        for response in &responses {
            for mode in [Mode::Strict, Mode::Loose] {
                let outcome = set.evaluate("Write a poem about cats", response, mode);
                assert_eq!(outcome.per_instruction.len(), 1);
                if response.chars().all(super::python_text::is_space) {
                    assert_eq!(
                        outcome.per_instruction[0].verdict,
                        Verdict::NotFollowed,
                        "{} on {response:?}",
                        spec.id
                    );
                }
            }
        }
    }
}

#[test]
fn missing_kwargs_are_errors_not_random_thresholds() {
    for spec in IFEVAL_INSTRUCTIONS.iter().chain(ifbench::IMPLEMENTED) {
        if spec.takes.is_empty() {
            continue;
        }
        let error = InstructionSet::from_row(&[spec.id], &[Value::Null])
            .expect_err(&format!("{} without kwargs", spec.id));
        assert_eq!(error.instruction_id(), Some(spec.id), "{error}");
    }
}
