//! The engine, driven through the built binary: incremental reruns, early cutoff, formatting that
//! changes no key, corruption recovery, crash safety, concurrent runs, the lockfile.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value;

struct Project {
    dir: tempfile::TempDir,
}

impl Project {
    fn new(recipe: &str) -> Project {
        let dir = tempfile::tempdir().unwrap();
        let mut rows = String::new();
        for i in 0..200 {
            rows.push_str(&format!(
                "{{\"messages\": [{{\"role\": \"user\", \"content\": \"question {i} {}\"}}, {{\"role\": \"assistant\", \"content\": \"answer {i}\"}}], \"lang\": \"{}\"}}\n",
                "word ".repeat(i % 9),
                if i % 3 == 0 { "fr" } else { "en" }
            ));
        }
        std::fs::write(dir.path().join("chat.jsonl"), rows).unwrap();
        let p = Project { dir };
        p.write_recipe(recipe);
        p
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    fn write_recipe(&self, recipe: &str) {
        std::fs::write(self.path("recipe.tulu"), recipe).unwrap();
    }

    fn tulu(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_tulu"))
            .current_dir(self.dir.path())
            .args(args)
            .output()
            .unwrap()
    }

    /// `tulu run --json`: node name → status, and the exit status.
    fn run(&self, extra: &[&str]) -> (BTreeMap<String, String>, Value) {
        let mut args = vec!["run", "recipe.tulu", "--json", "-q"];
        args.extend_from_slice(extra);
        let out = self.tulu(&args);
        assert!(
            out.status.success(),
            "tulu run failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let json: Value = serde_json::from_slice(&out.stdout).unwrap();
        (statuses(&json), json)
    }

    fn plan(&self) -> Value {
        let out = self.tulu(&["plan", "recipe.tulu", "--json"]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    }

    fn objects(&self) -> Vec<PathBuf> {
        let mut out = Vec::new();
        for shard in std::fs::read_dir(self.path(".tulu/objects")).unwrap() {
            for f in std::fs::read_dir(shard.unwrap().path()).unwrap() {
                out.push(f.unwrap().path());
            }
        }
        out
    }
}

fn statuses(json: &Value) -> BTreeMap<String, String> {
    json["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| {
            (
                n["name"].as_str().unwrap().to_string(),
                n["status"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn names_with(s: &BTreeMap<String, String>, status: &str) -> Vec<String> {
    s.iter()
        .filter(|(_, v)| *v == status)
        .map(|(k, _)| k.clone())
        .collect()
}

const RECIPE: &str = r#"
param frac = 0.5
param min_words = 4
let raw = load("chat.jsonl", license: "MIT")
let half = raw |> sample(n: frac, seed: 1)
let wordy = raw |> filter(min_words: min_words)
let english = raw |> filter(field: "lang", equals: "en")
let both = mix([(half, 1.0), (wordy, 30)], seed: 3)
let saved = export(both, "out/mixed.jsonl")
"#;

#[test]
fn first_run_runs_everything_and_the_second_nothing() {
    let p = Project::new(RECIPE);
    let (first, json) = p.run(&[]);
    assert!(first.values().all(|s| s == "ran"), "{first:?}");
    assert_eq!(first.len(), 6);
    for node in json["nodes"].as_array().unwrap() {
        assert_eq!(node["key"].as_str().unwrap().len(), 64);
        assert_eq!(node["output_hash"].as_str().unwrap().len(), 64);
    }
    let (second, _) = p.run(&[]);
    assert!(second.values().all(|s| s == "cached"), "{second:?}");
    assert!(p.path("out/mixed.jsonl").exists());
    assert!(p.path("recipe.lock").exists());
}

#[test]
fn editing_one_param_reruns_exactly_that_node_and_its_descendants() {
    let p = Project::new(RECIPE);
    p.run(&[]);
    p.write_recipe(&RECIPE.replace("param frac = 0.5", "param frac = 0.25"));
    let plan = p.plan();
    let half = plan["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["name"] == "half")
        .unwrap();
    assert_eq!(half["status"], "run");
    assert_eq!(half["reasons"][0]["kind"], "param_changed");
    assert_eq!(half["reasons"][0]["param"], "n");
    assert_eq!(half["reasons"][0]["from"], 0.5);
    assert_eq!(half["reasons"][0]["to"], 0.25);
    let (s, _) = p.run(&[]);
    assert_eq!(names_with(&s, "ran"), ["both", "half", "saved"]);
    assert_eq!(names_with(&s, "cached"), ["english", "raw", "wordy"]);
}

#[test]
fn an_edit_whose_output_is_unchanged_stops_there() {
    let p = Project::new(RECIPE);
    p.run(&[]);
    // Every row has at least 4 words (2 to 10 in the question, 2 in the answer), so lowering
    // min_words from 4 to 3 changes `wordy`'s key but not the rows it keeps.
    p.write_recipe(&RECIPE.replace("param min_words = 4", "param min_words = 3"));
    let (s, json) = p.run(&[]);
    assert_eq!(s["wordy"], "ran");
    let wordy = json["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["name"] == "wordy")
        .unwrap();
    assert_eq!(
        wordy["reasons"][0]["message"],
        "param `min_words` changed 4 → 3"
    );
    // `wordy` produced the same rows, so `both` and `saved` are cut off: served from the cache.
    assert_eq!(s["both"], "cached");
    assert_eq!(s["saved"], "cached");
}

#[test]
fn comments_and_formatting_change_no_key() {
    let p = Project::new(RECIPE);
    let (_, before) = p.run(&[]);
    let reformatted = "# a comment on top\n".to_string()
        + &RECIPE
            .replace(
                "let half = raw |> sample(n: frac, seed: 1)",
                "let half = raw\n    |> sample(  seed: 1, n: frac ) # why: half of it",
            )
            .replace("\n", "\n\n");
    p.write_recipe(&reformatted);
    let (after_statuses, after) = p.run(&[]);
    assert!(
        after_statuses.values().all(|s| s == "cached"),
        "{after_statuses:?}"
    );
    let keys = |j: &Value| -> Vec<Value> {
        j["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n["key"].clone())
            .collect()
    };
    assert_eq!(keys(&before), keys(&after));
    // `tulu fmt` output is itself a recipe with the same keys.
    let out = p.tulu(&["fmt", "recipe.tulu"]);
    assert!(out.status.success());
    let (s, _) = p.run(&[]);
    assert!(s.values().all(|s| s == "cached"), "{s:?}");
    let out = p.tulu(&["fmt", "--check", "recipe.tulu"]);
    assert!(out.status.success(), "fmt is not idempotent");
}

#[test]
fn a_corrupted_blob_is_detected_evicted_and_recomputed() {
    let p = Project::new(RECIPE);
    let (_, first) = p.run(&[]);
    // Flip a byte in every stored object: the next run must notice, not serve them.
    for object in p.objects() {
        let mut bytes = std::fs::read(&object).unwrap();
        let mid = bytes.len() / 2;
        bytes[mid] ^= 0x55;
        std::fs::write(&object, bytes).unwrap();
    }
    let (s, second) = p.run(&[]);
    assert!(
        s.values().all(|s| s == "ran"),
        "corrupt outputs were served: {s:?}"
    );
    let hashes = |j: &Value| -> Vec<Value> {
        j["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n["output_hash"].clone())
            .collect()
    };
    assert_eq!(
        hashes(&first),
        hashes(&second),
        "recomputation is deterministic"
    );
    let (s, _) = p.run(&[]);
    assert!(s.values().all(|s| s == "cached"));
}

#[test]
fn corruption_found_while_reading_an_input_recomputes_its_producer() {
    let p = Project::new(RECIPE);
    let (_, first) = p.run(&[]);
    let raw = first["nodes"][0]["output_hash"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(first["nodes"][0]["name"], "raw");
    // Damage the rows file of `raw`, then change a param downstream so that `half` reads `raw`.
    let manifest =
        std::fs::read_to_string(p.path(&format!(".tulu/objects/{}/{}", &raw[..2], &raw[2..])))
            .unwrap();
    let rows_hash = serde_json::from_str::<Value>(&manifest).unwrap()["files"]["rows.jsonl"]
        ["hash"]
        .as_str()
        .unwrap()
        .to_string();
    let rows_path = p.path(&format!(
        ".tulu/objects/{}/{}",
        &rows_hash[..2],
        &rows_hash[2..]
    ));
    let mut bytes = std::fs::read(&rows_path).unwrap();
    bytes[10] ^= 0x01;
    std::fs::write(&rows_path, bytes).unwrap();
    p.write_recipe(&RECIPE.replace("param frac = 0.5", "param frac = 0.4"));
    let (s, _) = p.run(&[]);
    assert_eq!(s["raw"], "ran", "{s:?}");
    assert_eq!(s["half"], "ran");
}

#[test]
fn a_failing_node_stops_only_its_descendants() {
    let p = Project::new(&RECIPE.replace("sample(n: frac, seed: 1)", "sample(n: 5000, seed: 1)"));
    let out = p.tulu(&["run", "recipe.tulu", "--json", "-q"]);
    assert!(!out.status.success());
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    let s = statuses(&json);
    assert_eq!(s["half"], "failed");
    assert_eq!(s["both"], "skipped");
    assert_eq!(s["saved"], "skipped");
    assert_eq!(s["wordy"], "ran");
    assert_eq!(s["english"], "ran");
    let stderr = String::from_utf8_lossy(&p.tulu(&["run", "recipe.tulu"]).stderr).to_string();
    assert!(
        stderr.contains("failed: `half` (sample): asked for 5000 rows but the dataset has 200"),
        "{stderr}"
    );
    // What finished stays cached.
    let (s, _) = Project::rerun_fixed(&p);
    assert_eq!(s["wordy"], "cached");
    assert_eq!(s["english"], "cached");
}

impl Project {
    fn rerun_fixed(p: &Project) -> (BTreeMap<String, String>, Value) {
        p.write_recipe(RECIPE);
        p.run(&[])
    }
}

#[test]
fn a_killed_run_leaves_a_cache_the_next_run_completes() {
    // A file big enough that loading it takes a while, so the kill lands mid-node.
    let p =
        Project::new("let big = load(\"big.jsonl\")\nlet some = big |> sample(n: 10, seed: 1)\n");
    let mut rows = String::new();
    for i in 0..300_000 {
        rows.push_str(&format!(
            "{{\"text\": \"document number {i} with some words in it\"}}\n"
        ));
    }
    std::fs::write(p.path("big.jsonl"), rows).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_tulu"))
        .current_dir(p.dir.path())
        .args(["run", "recipe.tulu"])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    for line in BufReader::new(stderr).lines() {
        if line.unwrap().contains("start big") {
            break;
        }
    }
    unsafe {
        libc::kill(child.id() as i32, libc::SIGKILL);
    }
    child.wait().unwrap();
    let (s, _) = p.run(&[]);
    assert!(s.values().all(|v| v == "ran" || v == "cached"), "{s:?}");
    let (s, _) = p.run(&[]);
    assert!(s.values().all(|v| v == "cached"), "{s:?}");
}

#[test]
fn two_concurrent_runs_on_one_cache_both_finish() {
    let p = Project::new(RECIPE);
    let spawn = || {
        Command::new(env!("CARGO_BIN_EXE_tulu"))
            .current_dir(p.dir.path())
            .args(["run", "recipe.tulu", "--json", "-q"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let a = spawn();
    let b = spawn();
    let (a, b) = (a.wait_with_output().unwrap(), b.wait_with_output().unwrap());
    assert!(a.status.success(), "{}", String::from_utf8_lossy(&a.stderr));
    assert!(b.status.success(), "{}", String::from_utf8_lossy(&b.stderr));
    let sa = statuses(&serde_json::from_slice(&a.stdout).unwrap());
    let sb = statuses(&serde_json::from_slice(&b.stdout).unwrap());
    // One ran the recipe; the other waited for the lock and then found everything cached (or,
    // if it won the race, the roles are swapped).
    let all = |s: &BTreeMap<String, String>, v: &str| s.values().all(|x| x == v);
    assert!(
        (all(&sa, "ran") && all(&sb, "cached")) || (all(&sa, "cached") && all(&sb, "ran")),
        "{sa:?} {sb:?}"
    );
}

#[test]
fn no_wait_fails_clearly_while_another_run_holds_the_cache() {
    let p = Project::new("let big = load(\"big.jsonl\")\n");
    let mut rows = String::new();
    for i in 0..300_000 {
        rows.push_str(&format!("{{\"text\": \"document {i}\"}}\n"));
    }
    std::fs::write(p.path("big.jsonl"), rows).unwrap();
    let mut holder = Command::new(env!("CARGO_BIN_EXE_tulu"))
        .current_dir(p.dir.path())
        .args(["run", "recipe.tulu"])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = holder.stderr.take().unwrap();
    let mut lines = BufReader::new(stderr).lines();
    for line in lines.by_ref() {
        if line.unwrap().contains("start big") {
            break;
        }
    }
    let out = p.tulu(&["run", "recipe.tulu", "--no-wait"]);
    holder.kill().ok();
    holder.wait().ok();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("is in use by"), "{err}");
    assert!(err.contains("tulu run recipe.tulu"), "{err}");
}

#[test]
fn locked_refuses_a_changed_plan() {
    let p = Project::new(RECIPE);
    p.run(&[]);
    let (s, _) = p.run(&["--locked"]);
    assert!(s.values().all(|v| v == "cached"));
    p.write_recipe(&RECIPE.replace("seed: 3", "seed: 4"));
    let out = p.tulu(&["run", "recipe.tulu", "--locked"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--locked: the plan differs from"), "{err}");
    assert!(err.contains("`both`: param `seed` changed 3 → 4"), "{err}");
}

#[test]
fn a_removed_export_is_written_again() {
    let p = Project::new(RECIPE);
    p.run(&[]);
    std::fs::remove_file(p.path("out/mixed.jsonl")).unwrap();
    let (s, json) = p.run(&[]);
    assert_eq!(s["saved"], "ran");
    let saved = json["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["name"] == "saved")
        .unwrap();
    assert_eq!(saved["reasons"][0]["kind"], "effect_missing");
    assert!(p.path("out/mixed.jsonl").exists());
}

#[test]
fn reruns_from_an_empty_cache_reproduce_every_output() {
    let p = Project::new(RECIPE);
    let (_, first) = p.run(&[]);
    std::fs::remove_dir_all(p.path(".tulu")).unwrap();
    let (_, second) = p.run(&["--locked"]);
    let hashes = |j: &Value| -> Vec<Value> {
        j["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n["output_hash"].clone())
            .collect()
    };
    assert_eq!(hashes(&first), hashes(&second));
}

#[test]
fn gc_keeps_what_the_lockfile_uses_and_lists_the_rest() {
    let p = Project::new(RECIPE);
    p.run(&[]);
    p.write_recipe(&RECIPE.replace("param frac = 0.5", "param frac = 0.3"));
    p.run(&[]);
    let dry = p.tulu(&["gc", "recipe.tulu", "--keep-runs", "0", "--dry-run"]);
    assert!(
        dry.status.success(),
        "{}",
        String::from_utf8_lossy(&dry.stderr)
    );
    let listing = String::from_utf8_lossy(&dry.stdout);
    assert!(listing.contains("would remove"), "{listing}");
    assert!(listing.contains("half (sample)"), "{listing}");
    let before = p.objects().len();
    assert_eq!(p.objects().len(), before, "a dry run removes nothing");
    let real = p.tulu(&["gc", "recipe.tulu", "--keep-runs", "0"]);
    assert!(real.status.success());
    assert!(p.objects().len() < before);
    let (s, _) = p.run(&[]);
    assert!(
        s.values().all(|v| v == "cached"),
        "gc removed something the lockfile uses: {s:?}"
    );
}

#[test]
fn malformed_data_is_reported_with_file_line_and_field_and_nothing_is_cached() {
    let p = Project::new("let d = load(\"bad.jsonl\", schema: \"chat\")\n");
    std::fs::write(
        p.path("bad.jsonl"),
        "{\"messages\": [{\"role\": \"user\", \"content\": \"q\"}, {\"role\": \"assistant\", \"content\": \"a\"}]}\n{\"messages\": [{\"role\": \"user\"}]}\n",
    )
    .unwrap();
    let out = p.tulu(&["run", "recipe.tulu"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("bad.jsonl:2: field `messages[0].content`: missing"),
        "{err}"
    );
    assert!(!Path::new(&p.path("recipe.lock")).exists());
}
