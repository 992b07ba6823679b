//! `decontam` on planted data: eval questions embedded in longer prompts (verbatim and lightly
//! edited) are found and removed; partial overlaps, eval text in responses, and clean rows are
//! not; the per-source table and the dataset rule come out as counted by hand.

use serde_json::json;

use super::Decontam;
use crate::check::Schema;
use crate::data::Dataset;
use crate::ops::contamination_report::{ContaminationReport, ALL_SOURCES, DECONTAM_META_KEY};
use crate::ops::test_support::{chat, concat, dataset, output_dataset, prompts, run_op};
use crate::ops::Op;

const MATH_EVAL: [&str; 4] = [
    "Maria buys three notebooks for 4 dollars each and a backpack that costs twice as much as all the notebooks together. How much does she spend in total?",
    "A train leaves the station at 9 am traveling at 60 miles per hour, and a second train leaves the same station two hours later at 80 miles per hour. At what time does the second train catch up?",
    "The sum of three consecutive even integers is 138. What is the largest of the three integers?",
    "A rectangular garden is 12 meters long and 7 meters wide. A path 1 meter wide runs around the outside of the garden. What is the area of the path?",
];

const CODE_EVAL: &str = "def running_max(values: list) -> list:\n    \"\"\" Return a list where each element is the largest value seen so far in the input list.\n    >>> running_max([1, 3, 2, 5])\n    [1, 3, 3, 5]\n    \"\"\"\n";

/// 50 math eval questions: the four above and 46 fillers sharing no words with anything.
fn math_eval() -> Dataset {
    let fillers: Vec<String> = (0..46)
        .map(|i| {
            (0..20)
                .map(|k| format!("m{i}x{k}"))
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect();
    let mut all: Vec<&str> = MATH_EVAL.to_vec();
    all.extend(fillers.iter().map(String::as_str));
    prompts("math_eval", &all)
}

/// 10 code eval prompts: the one above and 9 fillers.
fn code_eval() -> Dataset {
    let fillers: Vec<String> = (0..9)
        .map(|i| {
            format!(
                "def f{i}(x):\n    \"\"\" {} \"\"\"\n",
                (0..15)
                    .map(|k| format!("c{i}y{k}"))
                    .collect::<Vec<_>>()
                    .join(" ")
            )
        })
        .collect();
    let mut all = vec![CODE_EVAL];
    all.extend(fillers.iter().map(String::as_str));
    prompts("code_eval", &all)
}

/// Three training sources, as chat rows (row numbers in the comments are input positions).
fn training() -> Dataset {
    let forum = dataset(
        Schema::Chat,
        "forum_math",
        vec![
            // 0: verbatim, inside a longer prompt.
            chat(
                &format!("Please solve the following problem and explain each step. {} Give the final answer as a number.", MATH_EVAL[0]),
                "Three notebooks cost 12 dollars, the backpack 24, so 36 dollars.",
            ),
            // 1: lightly edited — one word replaced in the middle.
            chat(
                &format!("Can you help with my homework? {}", MATH_EVAL[1].replace("same station", "same platform")),
                "The first train is 120 miles ahead and the gap closes at 20 mph: 6 hours, so at 5 pm.",
            ),
            // 2: only the last 8 of the question's 17 tokens — 47% matched, not more than half.
            chat(
                "Three consecutive odd numbers add up to 51; what is the largest of the three integers?",
                "15, 17 and 19, so 19.",
            ),
            // 3: the eval question appears only in the response; prompts are what is compared.
            chat(
                "Give me an example of a word problem about area.",
                MATH_EVAL[3],
            ),
            // 4: clean.
            chat("What is 15% of 80?", "12."),
        ],
    );
    let synthetic = dataset(
        Schema::Chat,
        "synthetic_math",
        vec![
            // 5: verbatim — 1 of 50 eval questions is 2%, which is not *more* than 2%.
            chat(MATH_EVAL[2], "44 + 46 + 48 = 138, so 48."),
            // 6: clean.
            chat("Factor x^2 - 5x + 6.", "(x - 2)(x - 3)."),
        ],
    );
    let code = dataset(
        Schema::Chat,
        "code_help",
        vec![
            // 7: the eval function's signature and docstring, pasted whole.
            chat(
                &format!("Complete this function:\n{CODE_EVAL}"),
                "    best = None\n    ...",
            ),
            // 8: clean.
            chat(
                "How do I reverse a list in Python?",
                "Use `items[::-1]` or `items.reverse()`.",
            ),
        ],
    );
    concat(vec![forum, synthetic, code])
}

fn decontam(
    params: serde_json::Value,
    data: Dataset,
    evals: Vec<Dataset>,
) -> anyhow::Result<(Dataset, ContaminationReport)> {
    let mut params = params;
    params["data"] = json!({"$input": 0});
    params["against"] = json!((1..=evals.len())
        .map(|i| json!({"$input": i}))
        .collect::<Vec<_>>());
    let mut inputs = vec![data];
    inputs.extend(evals);
    let out = output_dataset(run_op(&Decontam::new(), params, inputs)?);
    let report = serde_json::from_value(out.meta[DECONTAM_META_KEY].clone())?;
    Ok((out, report))
}

fn positions(out: &Dataset, of: &Dataset) -> Vec<usize> {
    out.rows
        .iter()
        .map(|r| of.rows.iter().position(|o| o == r).unwrap())
        .collect()
}

#[test]
fn embedded_eval_questions_are_found_and_only_they_are_removed() {
    let data = training();
    let (out, report) = decontam(json!({}), data.clone(), vec![math_eval(), code_eval()]).unwrap();
    assert_eq!(positions(&out, &data), vec![2, 3, 4, 6, 8]);
    // Row, source, and the eval instances it contaminates.
    let found: Vec<String> = report
        .contaminating_rows
        .iter()
        .map(|r| {
            let matches: Vec<String> = r
                .matches
                .iter()
                .map(|m| format!("{}#{}", m.eval_set, m.eval_index))
                .collect();
            format!("{} {}: {}", r.at.row, r.at.source, matches.join(", "))
        })
        .collect();
    assert_eq!(
        found,
        vec![
            "0 forum_math: math_eval#0",
            "1 forum_math: math_eval#1",
            "5 synthetic_math: math_eval#2",
            "7 code_help: code_eval#0",
        ]
    );
    assert_eq!(report.contaminating_rows[0].matches[0].matched, 1.0);
    let edited = report.contaminating_rows[1].matches[0].matched;
    assert!(
        edited > 0.9 && edited < 1.0,
        "one replaced word leaves {edited}"
    );
    assert!(report.contaminating_rows.iter().all(|r| r.removed));
    assert_eq!((report.input_rows, report.kept_rows), (9, 5));
}

#[test]
fn the_table_counts_per_source_and_flags_above_the_dataset_rule() {
    let (_, report) = decontam(json!({}), training(), vec![math_eval(), code_eval()]).unwrap();
    let names: Vec<&str> = report.eval_sets.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(names, vec!["math_eval", "code_eval"]);
    assert_eq!(report.eval_sets[0].instances, 50);
    assert_eq!(report.eval_sets[1].license, "MIT");
    // Source: rows, contaminating rows, removed rows, contaminated instances per eval set,
    // flagged eval sets.
    let rows: Vec<String> = report
        .sources
        .iter()
        .map(|s| {
            format!(
                "{}: {} {} {} {:?} {:?}",
                s.source, s.rows, s.contaminating_rows, s.removed_rows, s.contaminated, s.flagged
            )
        })
        .collect();
    assert_eq!(
        rows,
        vec![
            "code_help: 2 1 1 [0, 1] [\"code_eval\"]",
            "forum_math: 5 2 2 [2, 0] [\"math_eval\"]",
            // 1 of 50 is exactly 2%: not more than the rule.
            "synthetic_math: 2 1 1 [1, 0] []",
        ]
    );
    assert_eq!(report.total.source, ALL_SOURCES);
    assert_eq!(report.total.contaminated, vec![3, 1]);
    assert_eq!(report.total.flagged, vec!["math_eval", "code_eval"]);
    let table = report.render_table();
    assert!(
        table.contains("| forum_math | 5 | 2 | 2 | **4.00%** | 0.00% |"),
        "{table}"
    );
    assert!(
        table.contains("| synthetic_math | 2 | 1 | 1 | 2.00% | 0.00% |"),
        "{table}"
    );
    assert!(
        table.contains("| code_help | 2 | 1 | 1 | 0.00% | **10.00%** |"),
        "{table}"
    );
}

#[test]
fn drop_dataset_removes_flagged_sources_whole_and_keeps_the_others() {
    let data = training();
    let (out, report) = decontam(
        json!({"mode": "drop_dataset"}),
        data.clone(),
        vec![math_eval(), code_eval()],
    )
    .unwrap();
    // forum_math and code_help are flagged; synthetic_math (at exactly 2%) stays whole, its
    // contaminating row included.
    assert_eq!(positions(&out, &data), vec![5, 6]);
    let removed: Vec<(&str, usize)> = report
        .sources
        .iter()
        .map(|s| (s.source.as_str(), s.removed_rows))
        .collect();
    assert_eq!(
        removed,
        vec![("code_help", 2), ("forum_math", 5), ("synthetic_math", 0)]
    );
    let synthetic = report
        .contaminating_rows
        .iter()
        .find(|r| r.at.row == 5)
        .unwrap();
    assert!(!synthetic.removed);
}

#[test]
fn report_mode_removes_nothing_and_a_lower_dataset_threshold_flags_more() {
    let data = training();
    let (out, report) = decontam(
        json!({"mode": "report", "dataset_threshold": 0.01}),
        data.clone(),
        vec![math_eval(), code_eval()],
    )
    .unwrap();
    assert_eq!(out.rows, data.rows);
    assert_eq!(report.kept_rows, 9);
    let synthetic = report
        .sources
        .iter()
        .find(|s| s.source == "synthetic_math")
        .unwrap();
    assert_eq!(synthetic.flagged, vec!["math_eval"]);
    assert_eq!(synthetic.removed_rows, 0);
}

#[test]
fn a_stricter_threshold_and_longer_ngrams_change_what_matches() {
    // With 20-grams, the one-word edit of row 1 leaves the parts around it (21 and 17 of the
    // question's 39 tokens): only the first still forms 20-grams, 21/39 = 0.54 matched — above
    // 0.5, below 0.8.
    let data = training();
    let (_, loose) = decontam(json!({"ngram": 20}), data.clone(), vec![math_eval()]).unwrap();
    assert!(loose.contaminating_rows.iter().any(|r| r.at.row == 1));
    let (_, strict) = decontam(
        json!({"ngram": 20, "threshold": 0.8}),
        data,
        vec![math_eval()],
    )
    .unwrap();
    assert!(!strict.contaminating_rows.iter().any(|r| r.at.row == 1));
    assert!(strict.contaminating_rows.iter().any(|r| r.at.row == 0));
}

#[test]
fn short_eval_instances_match_only_under_whole_sequence() {
    let eval = prompts("tiny_eval", &["Reverse a string.", "Sort three numbers."]);
    let data = dataset(
        Schema::Chat,
        "s",
        vec![chat(
            "In Python, reverse a string without slicing.",
            "Use a loop.",
        )],
    );
    let (out, report) = decontam(json!({}), data.clone(), vec![eval.clone()]).unwrap();
    assert_eq!(out.rows.len(), 1);
    assert_eq!(report.eval_sets[0].short_instances, 2);
    let (out, report) =
        decontam(json!({"short_eval": "whole_sequence"}), data, vec![eval]).unwrap();
    assert!(out.rows.is_empty());
    assert_eq!(report.contaminating_rows[0].matches[0].eval_index, 0);
}

#[test]
fn eval_sets_are_named_by_provenance_and_a_name_in_two_lists_is_refused() {
    // One `against` dataset with two sources gives two columns.
    let both = concat(vec![math_eval(), code_eval()]);
    let (_, report) = decontam(json!({}), training(), vec![both]).unwrap();
    let names: Vec<&str> = report.eval_sets.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(names, vec!["math_eval", "code_eval"]);

    let err = decontam(
        json!({}),
        training(),
        vec![math_eval(), concat(vec![code_eval(), math_eval()])],
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("eval set `math_eval` has rows in both `against[0]` and `against[1]`"),
        "{err}"
    );

    let err = decontam(json!({}), training(), vec![prompts("empty", &[])])
        .unwrap_err()
        .to_string();
    assert!(err.contains("`against[0]` has no rows"), "{err}");
}

#[test]
fn details_carry_the_table_for_run_json() {
    let data = training();
    let mut params = json!({"data": {"$input": 0}, "against": [{"$input": 1}]});
    params["mode"] = json!("drop_rows");
    let out = output_dataset(run_op(&Decontam::new(), params, vec![data, math_eval()]).unwrap());
    let meta = out.manifest_meta();
    let details = Decontam::new().details(&meta).unwrap();
    let forum = &details["contamination"]["sources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["source"] == "forum_math")
        .unwrap()
        .clone();
    assert_eq!(forum["eval"]["math_eval"]["contaminated"], 2);
    assert_eq!(forum["eval"]["math_eval"]["percent"], 4.0);
    assert_eq!(details["contamination"]["total"]["removed_rows"], 3);
}
