//! Planted-contamination tests: eval questions embedded verbatim or edited inside training
//! prompts, with the matched fraction known exactly.

use super::super::index::{DecontamOptions, EvalSet, ShortEvalPolicy};
use super::*;

const QUESTIONS: [&str; 4] = [
    "Janet's ducks lay 16 eggs per day. She eats three for breakfast every morning and bakes \
     muffins for her friends every day with four. She sells the remainder at the farmers' market \
     daily for $2 per fresh duck egg. How much in dollars does she make every day at the farmers' \
     market?",
    "A robe takes 2 bolts of blue fiber and half that much white fiber. How many bolts in total \
     does it take?",
    "Josh decides to try flipping a house. He buys a house for $80,000 and then puts in $50,000 \
     in repairs. This increased the value of the house by 150%. How much profit did he make?",
    "James decides to run 3 sprints 3 times a week. He runs 60 meters each sprint. How many total \
     meters does he run a week?",
];

fn gsm_index(options: DecontamOptions) -> DecontamIndex {
    DecontamIndex::build(
        &[EvalSet {
            name: "gsm8k",
            texts: &QUESTIONS,
        }],
        options,
    )
    .unwrap()
}

/// The decontamination tokens of `text`; joined by spaces they form a text with those tokens.
fn tokens(text: &str) -> Vec<String> {
    super::super::decontam_tokens(text)
}

#[test]
fn verbatim_and_edited_questions_are_found_nothing_else() {
    let index = gsm_index(DecontamOptions::default());
    let robe_tokens = tokens(QUESTIONS[1]);
    let robe_len = robe_tokens.len();
    assert_eq!(robe_len, 22);
    // Replace token 11: tokens 0..=10 and 12..=21 each still lie in a shared 8-gram.
    let mut edited = robe_tokens.clone();
    edited[11] = "replaced".to_string();
    let train = [
        "Write a poem about autumn leaves falling on a quiet street.".to_string(),
        format!(
            "Solve the following problem step by step.\n\n{}\n\nPut the answer last.",
            QUESTIONS[0]
        ),
        format!("Problem: {} Explain.", edited.join(" ")),
        // Same tokens as question 3 after tokenization: case and delimiters differ.
        QUESTIONS[2]
            .to_uppercase()
            .replace(". ", " -- ")
            .replace(' ', "\n"),
        // The first 8 of question 4's 25 tokens only: 8/25 ≤ 0.5.
        tokens(QUESTIONS[3])[..8].join(" "),
        "How many total meters does he run a week? Count them.".to_string(),
    ];
    let train: Vec<&str> = train.iter().map(String::as_str).collect();
    let result = index.scan(&train, 0.5).unwrap();

    let found: Vec<(usize, usize)> = result
        .matches
        .iter()
        .map(|m| (m.train_index, m.eval_index))
        .collect();
    assert_eq!(found, vec![(1, 0), (2, 1), (3, 2)]);
    assert_eq!(result.matches[0].matched_fraction, 1.0);
    assert_eq!(result.matches[1].matched_fraction, 21.0 / 22.0);
    assert_eq!(result.matches[2].matched_fraction, 1.0);
    assert_eq!(result.contaminated_train_indices(), vec![1, 2, 3]);
    let gsm = result.eval_set("gsm8k").unwrap();
    assert_eq!(gsm.contaminated, vec![0, 1, 2]);
    assert_eq!(gsm.contaminated_fraction(), 0.75);
    assert_eq!(result.train_count, 6);
}

#[test]
fn threshold_must_be_strictly_exceeded() {
    let index = gsm_index(DecontamOptions::default());
    let sprint = tokens(QUESTIONS[3]);
    assert_eq!(sprint.len(), 25);
    let eval = [
        "t0 t1 t2 t3 t4 t5 t6 t7 t8 t9 t10 t11 t12 t13 t14 t15",
        "unrelated filler text",
    ];
    let index16 = DecontamIndex::build(
        &[EvalSet {
            name: "sixteen",
            texts: &eval,
        }],
        DecontamOptions::default(),
    )
    .unwrap();
    let half = "prefix t0 t1 t2 t3 t4 t5 t6 t7 suffix"; // 8 of 16 tokens = 0.5
    let over = "prefix t0 t1 t2 t3 t4 t5 t6 t7 t8 suffix"; // 9 of 16
    let result = index16.scan(&[half, over], 0.5).unwrap();
    assert_eq!(result.contaminated_train_indices(), vec![1]);
    assert_eq!(result.matches[0].matched_fraction, 9.0 / 16.0);
    // At a lower threshold exactly half is enough.
    let result = index16.scan(&[half], 0.49).unwrap();
    assert_eq!(result.matches[0].matched_fraction, 0.5);
    // Threshold 0: any shared n-gram contaminates; the sprint prefix is 8 tokens = one 8-gram.
    let prefix = sprint[..8].join(" ");
    assert_eq!(index.scan(&[&prefix], 0.0).unwrap().matches.len(), 1);
    assert_eq!(
        index
            .scan(&[&sprint[..7].join(" ")], 0.0)
            .unwrap()
            .matches
            .len(),
        0
    );
}

#[test]
fn matched_tokens_from_separate_windows_add_up() {
    // 24 eval tokens; the training text holds tokens 0..8 and 16..24 apart: 16/24 matched.
    let eval_tokens: Vec<String> = (0..24).map(|i| format!("e{i}")).collect();
    let eval = eval_tokens.join(" ");
    let index = DecontamIndex::build(
        &[EvalSet {
            name: "e",
            texts: &[&eval],
        }],
        DecontamOptions::default(),
    )
    .unwrap();
    let train = format!(
        "{} middle words here {}",
        eval_tokens[..8].join(" "),
        eval_tokens[16..].join(" ")
    );
    let result = index.scan(&[&train], 0.5).unwrap();
    assert_eq!(result.matches[0].matched_fraction, 16.0 / 24.0);
    // Overlapping windows count each token once: tokens 0..12 = 12/24, not above 0.5.
    let overlapping = eval_tokens[..12].join(" ");
    assert!(index.scan(&[&overlapping], 0.5).unwrap().matches.is_empty());
    assert_eq!(
        index.scan(&[&overlapping], 0.4).unwrap().matches[0].matched_fraction,
        0.5
    );
}

#[test]
fn several_eval_sets_and_several_matches_per_prompt() {
    let humaneval = [
        "def add(a, b):\n    \"\"\"Return the sum of a and b, both integers given as input.\"\"\"\n",
        "Write a function that returns the largest prime factor of a positive integer n",
    ];
    let index = DecontamIndex::build(
        &[
            EvalSet {
                name: "gsm8k",
                texts: &QUESTIONS,
            },
            EvalSet {
                name: "humaneval",
                texts: &humaneval,
            },
        ],
        DecontamOptions::default(),
    )
    .unwrap();
    let both = format!("{}\n\nAlso: {}", QUESTIONS[3], humaneval[1]);
    let result = index.scan(&["nothing to see", &both], 0.5).unwrap();
    let found: Vec<(usize, usize, usize)> = result
        .matches
        .iter()
        .map(|m| (m.train_index, m.eval_set, m.eval_index))
        .collect();
    assert_eq!(found, vec![(1, 0, 3), (1, 1, 1)]);
    assert_eq!(
        result.eval_set("gsm8k").unwrap().contaminated_fraction(),
        0.25
    );
    assert_eq!(
        result
            .eval_set("humaneval")
            .unwrap()
            .contaminated_fraction(),
        0.5
    );
    assert_eq!(result.matches_for(1).len(), 2);
}

#[test]
fn every_contaminating_instance_is_reported() {
    // 300 training prompts carry the same question: all of them, not a top-k, are found.
    let index = gsm_index(DecontamOptions::default());
    let copies: Vec<String> = (0..300)
        .map(|i| format!("Variant {i}: {}", QUESTIONS[1]))
        .collect();
    let train: Vec<&str> = copies.iter().map(String::as_str).collect();
    let result = index.scan(&train, 0.5).unwrap();
    assert_eq!(
        result.contaminated_train_indices(),
        (0..300).collect::<Vec<_>>()
    );
}

#[test]
fn short_eval_instances_follow_the_policy() {
    let eval = ["What is 2+2?", "Name the capital of France please"];
    let sets = [EvalSet {
        name: "short",
        texts: &eval,
    }];
    let train = ["Quick quiz. What is 2+2? And more.", "what is"];
    let ignore = DecontamIndex::build(&sets, DecontamOptions::default()).unwrap();
    let result = ignore.scan(&train, 0.5).unwrap();
    assert!(result.matches.is_empty());
    assert_eq!(result.eval_sets[0].short_instances, 2);

    let whole = DecontamIndex::build(
        &sets,
        DecontamOptions {
            ngram: 8,
            short_eval: ShortEvalPolicy::WholeSequence,
        },
    )
    .unwrap();
    let result = whole.scan(&train, 0.5).unwrap();
    assert_eq!(result.contaminated_train_indices(), vec![0]);
    assert_eq!(result.matches[0].eval_index, 0);
    assert_eq!(result.matches[0].matched_fraction, 1.0);
}

#[test]
fn empty_and_delimiter_only_texts() {
    let eval = ["", "...", QUESTIONS[1]];
    let index = DecontamIndex::build(
        &[EvalSet {
            name: "mixed",
            texts: &eval,
        }],
        DecontamOptions {
            ngram: 8,
            short_eval: ShortEvalPolicy::WholeSequence,
        },
    )
    .unwrap();
    let result = index.scan(&["", "   ", QUESTIONS[1]], 0.5).unwrap();
    assert_eq!(result.contaminated_train_indices(), vec![2]);
    assert_eq!(result.eval_sets[0].empty_instances, 2);
    assert_eq!(result.eval_sets[0].contaminated_fraction(), 1.0 / 3.0);
    assert!(index.scan(&[], 0.5).unwrap().matches.is_empty());
}

#[test]
fn hash_collisions_cannot_create_matches() {
    // Point the hash of a training window at an eval window with different tokens, as a
    // collision would: the token comparison must reject it.
    let mut index = gsm_index(DecontamOptions::default());
    let train = "alpha beta gamma delta epsilon zeta eta theta";
    let mut spans = Vec::new();
    let mut hashes = Vec::new();
    super::super::tokenize::tokenize_into(train, &mut spans, &mut hashes);
    let colliding_key = hash_token_sequence(&hashes);
    index.ngrams = PostingTable::from_entries(vec![(
        colliding_key,
        Posting {
            instance: 1,
            position: 0,
        },
    )]);
    let result = index.scan(&[train], 0.0).unwrap();
    assert!(result.matches.is_empty());
    // The same posting under the robe question's own first window is confirmed.
    let robe = tokens(QUESTIONS[1])[..8].join(" ");
    super::super::tokenize::tokenize_into(&robe, &mut spans, &mut hashes);
    index.ngrams = PostingTable::from_entries(vec![(
        hash_token_sequence(&hashes),
        Posting {
            instance: 1,
            position: 0,
        },
    )]);
    assert_eq!(index.scan(&[&robe], 0.0).unwrap().matches.len(), 1);
}

#[test]
fn rejects_invalid_threshold() {
    let index = gsm_index(DecontamOptions::default());
    for bad in [1.0, -0.1, f64::NAN] {
        assert!(index.scan(&["x"], bad).is_err(), "{bad} accepted");
    }
}

#[test]
fn results_do_not_depend_on_thread_count() {
    let index = gsm_index(DecontamOptions::default());
    let train: Vec<String> = (0..2000)
        .map(|i| match i % 7 {
            0 => format!("{i} {}", QUESTIONS[i % 4]),
            3 => tokens(QUESTIONS[i % 4])[..(i % 20)].join(" "),
            _ => format!("Filler prompt number {i} about nothing in particular at all."),
        })
        .collect();
    let train: Vec<&str> = train.iter().map(String::as_str).collect();
    let run = |threads| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(|| index.scan(&train, 0.5).unwrap())
    };
    let single = run(1);
    assert_eq!(single, run(3));
    assert!(single.matches.len() > 2000 / 7);
}
