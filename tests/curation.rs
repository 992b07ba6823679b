//! `dedup` and `decontam` driven through the built binary: the contamination table in
//! `tulu run --json` details (fresh and cached), `tulu cat --summary`, data cards with the
//! lineage of removals, provenance carried through, and identical outputs from an empty cache.

use std::collections::BTreeMap;
use std::process::{Command, Output};

use serde_json::Value;

const EVAL_QUESTIONS: [&str; 4] = [
    "A farmer plants 14 rows of corn with 23 plants in each row, and a storm flattens one sixth of the plants. How many plants are still standing?",
    "Lena saves 12 dollars every week and spends a third of her savings on a concert ticket after 9 weeks. How much money does she have left?",
    "A cyclist rides uphill at 9 km per hour and downhill at 27 km per hour along the same 18 km road. What is the average speed for the round trip?",
    "Write a function that returns the second largest distinct number in a list, or None when there is no such number.",
];

fn chat(user: &str, assistant: &str) -> String {
    serde_json::json!({"messages": [{"role": "user", "content": user}, {"role": "assistant", "content": assistant}]})
        .to_string()
}

struct Project {
    dir: tempfile::TempDir,
}

const RECIPE: &str = r#"
let forum = load("forum.jsonl", license: "CC-BY-4.0")
let scraped = load("scraped.jsonl")
let evalset = load("eval.jsonl", name: "toy_eval", license: "MIT")
let train = concat([forum, scraped])
let deduped = train |> dedup(near: 0.8)
let clean = deduped |> decontam(against: [evalset])
let short = clean |> filter(max_words: 40, on: "prompt")
let saved = export(short, "out/short.jsonl")
"#;

impl Project {
    fn new() -> Project {
        let dir = tempfile::tempdir().unwrap();
        let write = |name: &str, lines: Vec<String>| {
            std::fs::write(dir.path().join(name), lines.join("\n") + "\n").unwrap()
        };
        let long_answer = "step ".repeat(60);
        write(
            "forum.jsonl",
            vec![
                // 0: an eval question embedded in a longer prompt.
                chat(
                    &format!("Help me with this one, please. {}", EVAL_QUESTIONS[0]),
                    "14 × 23 = 322; a sixth is 53.67, so the numbers do not divide evenly.",
                ),
                // 1: clean.
                chat("What is 7 times 8?", "56."),
                // 2: an exact duplicate of row 1 up to case and spacing.
                chat("what is 7  times 8?", "56."),
                // 3: clean, with a long prompt (the filter drops it).
                chat(
                    &format!("Explain long division: {long_answer}"),
                    "See the steps.",
                ),
            ],
        );
        write(
            "scraped.jsonl",
            vec![
                // 0: an eval question with one word changed.
                chat(
                    &EVAL_QUESTIONS[1].replace("concert ticket", "theater ticket"),
                    "108 saved, 36 spent, 72 left.",
                ),
                // 1: clean.
                chat("Name a prime number between 20 and 30.", "23 or 29."),
                // 2: the code eval question, verbatim.
                chat(EVAL_QUESTIONS[3], "def second_largest(xs): ..."),
            ],
        );
        let eval: Vec<String> = EVAL_QUESTIONS
            .iter()
            .map(|q| serde_json::json!({"prompt": q, "ground_truth": "0"}).to_string())
            .collect();
        write("eval.jsonl", eval);
        std::fs::write(dir.path().join("recipe.tulu"), RECIPE).unwrap();
        Project { dir }
    }

    fn tulu(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_tulu"))
            .current_dir(self.dir.path())
            .args(args)
            .output()
            .unwrap()
    }

    fn stdout(&self, args: &[&str]) -> String {
        let out = self.tulu(args);
        assert!(
            out.status.success(),
            "tulu {args:?} failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    /// `tulu run --json`, node name → node JSON.
    fn run(&self) -> BTreeMap<String, Value> {
        let json: Value =
            serde_json::from_str(&self.stdout(&["run", "recipe.tulu", "--json", "-q"])).unwrap();
        json["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| (n["name"].as_str().unwrap().to_string(), n.clone()))
            .collect()
    }
}

fn rows(jsonl: &str) -> Vec<Value> {
    jsonl
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn run_json_carries_the_contamination_table_fresh_and_cached() {
    let p = Project::new();
    for expected_status in ["ran", "cached"] {
        let nodes = p.run();
        let clean = &nodes["clean"];
        assert_eq!(clean["status"], expected_status);
        // The existing fields are all still there.
        for field in ["name", "op", "key", "status", "reasons", "output_hash"] {
            assert!(clean.get(field).is_some(), "missing {field}: {clean}");
        }
        let table = &clean["details"]["contamination"];
        assert_eq!(table["eval_sets"][0]["name"], "toy_eval");
        assert_eq!(table["eval_sets"][0]["instances"], 4);
        let sources: Vec<(String, u64, u64)> = table["sources"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| {
                (
                    s["source"].as_str().unwrap().to_string(),
                    s["eval"]["toy_eval"]["contaminated"].as_u64().unwrap(),
                    s["removed_rows"].as_u64().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            sources,
            vec![("forum".to_string(), 1, 1), ("scraped".to_string(), 2, 2)]
        );
        assert_eq!(table["total"]["eval"]["toy_eval"]["percent"], 75.0);
        assert_eq!(table["sources"][1]["flagged"][0], "toy_eval");

        let dedup = &nodes["deduped"]["details"]["dedup"];
        assert_eq!(dedup["removed_exact"], 1);
        assert_eq!(dedup["kept_rows"], 6);
        assert!(nodes["train"].get("details").is_none());
        assert!(nodes["short"].get("details").is_none());
    }
}

#[test]
fn contaminating_rows_are_removed_and_the_rest_keep_their_provenance() {
    let p = Project::new();
    p.run();
    let clean = rows(&p.stdout(&["cat", "recipe.tulu", "clean", "--provenance"]));
    let kept: Vec<(String, u64)> = clean
        .iter()
        .map(|r| {
            (
                r["_provenance"]["source"].as_str().unwrap().to_string(),
                r["_provenance"]["index"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        kept,
        vec![
            ("forum".to_string(), 1),
            ("forum".to_string(), 3),
            ("scraped".to_string(), 1)
        ]
    );
    assert_eq!(clean[0]["_provenance"]["license"], "CC-BY-4.0");
    assert_eq!(clean[2]["_provenance"]["license"], "unknown");
}

#[test]
fn summary_shows_the_table_and_the_clusters() {
    let p = Project::new();
    p.run();
    let summary = p.stdout(&["cat", "recipe.tulu", "clean", "--summary"]);
    assert!(
        summary.contains("| forum | 3 | 1 | 1 | **25.00%** |"),
        "{summary}"
    );
    assert!(
        summary.contains("| scraped | 3 | 2 | 2 | **50.00%** |"),
        "{summary}"
    );
    assert!(
        summary.contains("forum#0 (row 0, removed): toy_eval#0 (100%)"),
        "{summary}"
    );
    assert!(
        summary.contains("scraped#2 (row 5, removed): toy_eval#3 (100%)"),
        "{summary}"
    );
    let dedup = p.stdout(&["cat", "recipe.tulu", "deduped", "--summary"]);
    assert!(
        dedup.contains("kept forum#1 (row 1), 1 removed: \"What is 7 times 8? 56.\""),
        "{dedup}"
    );
    assert!(dedup.contains("forum#2 (row 2, exact)"), "{dedup}");
}

#[test]
fn the_card_lists_sources_licenses_and_every_step_with_its_removals() {
    let p = Project::new();
    let before = p.tulu(&["cat", "recipe.tulu", "short", "--card"]);
    assert!(!before.status.success());
    let message = String::from_utf8_lossy(&before.stderr);
    assert!(
        message.contains("`short` is not in the cache in its current form; run `tulu run recipe.tulu short` first"),
        "{message}"
    );

    p.run();
    let card = p.stdout(&["cat", "recipe.tulu", "short", "--card"]);
    assert!(card.starts_with("# Data card: `short`\n"), "{card}");
    assert!(card.contains("| forum | CC-BY-4.0 | 1 |"), "{card}");
    assert!(card.contains("| scraped | unknown | 1 |"), "{card}");
    assert!(card.contains("| CC-BY-4.0 | forum | 1 |"), "{card}");
    assert!(
        card.contains("**Warning:** 1 row comes from sources without a declared license (scraped)"),
        "{card}"
    );
    assert!(
        card.contains("| `deduped` | dedup | 7 | 6 | −1 | exact duplicates: 1"),
        "{card}"
    );
    assert!(card.contains("removed forum 1 |"), "{card}");
    assert!(
        card.contains(
            "| `clean` | decontam | 6 | 3 | −3 | contaminating rows dropped; against toy_eval"
        ),
        "{card}"
    );
    assert!(card.contains("removed forum 1, scraped 2 |"), "{card}");
    assert!(
        card.contains(
            "| `short` | filter | 3 | 2 | −1 | max_words: 40, on: \"prompt\"; removed forum 1 |"
        ),
        "{card}"
    );
    assert!(card.contains("## Decontamination: `clean`"), "{card}");
    // The eval set is named in the decontamination step, not walked as lineage.
    assert!(!card.contains("| `evalset` |"), "{card}");

    let report = p.tulu(&["cat", "recipe.tulu", "saved", "--card"]);
    assert!(!report.status.success());
    assert!(
        String::from_utf8_lossy(&report.stderr).contains("`--card` describes datasets"),
        "{}",
        String::from_utf8_lossy(&report.stderr)
    );
}

#[test]
fn outputs_are_identical_from_an_empty_cache() {
    // `saved` records the absolute path it wrote, which differs between the two directories.
    let hashes = |p: &Project| -> BTreeMap<String, String> {
        p.run()
            .into_iter()
            .filter(|(name, _)| name != "saved")
            .map(|(name, n)| (name, n["output_hash"].as_str().unwrap().to_string()))
            .collect()
    };
    let first = hashes(&Project::new());
    let second = hashes(&Project::new());
    assert_eq!(first, second);
    assert_eq!(first.len(), 7);
}

#[test]
fn the_card_explains_sampling_and_mixing_per_source() {
    let p = Project::new();
    std::fs::write(
        p.dir.path().join("mix.tulu"),
        r#"
let forum = load("forum.jsonl", license: "CC-BY-4.0")
let scraped = load("scraped.jsonl", license: "MIT")
let half = forum |> sample(n: 0.5, seed: 1)
let mixed = mix([(half, 3), (scraped, 2)], seed: 2)
let twice = concat([mixed, mixed])
"#,
    )
    .unwrap();
    p.stdout(&["run", "mix.tulu", "-q"]);
    let card = p.stdout(&["cat", "mix.tulu", "mixed", "--card"]);
    assert!(
        card.contains(
            "| `half` | sample | 4 | 2 | −2 | n: 0.5, seed: 1, replace: false; removed forum 2 |"
        ),
        "{card}"
    );
    // Three rows asked of a two-row source: upsampled.
    assert!(
        card.contains("| `mixed` | mix | 5 | 5 | 0 | forum: 3 of 2 → 3, scraped: 2 of 3 → 2; removed scraped 1; added forum 1 |"),
        "{card}"
    );
    assert!(card.contains("| CC-BY-4.0 | forum | 3 |"), "{card}");
    assert!(card.contains("| MIT | scraped | 2 |"), "{card}");
    assert!(!card.contains("Warning"), "{card}");
    // A dataset read twice counts twice.
    let card = p.stdout(&["cat", "mix.tulu", "twice", "--card"]);
    assert!(
        card.contains("| `twice` | concat | 10 | 10 | 0 |  |"),
        "{card}"
    );
}
