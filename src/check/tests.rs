//! Checker behaviour on whole recipes: naming, pipes, defs, imports, params and overrides.

use std::path::Path;

use super::{check_text, CheckFailure, Plan};
use crate::ops::registry;

fn data_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("chat.jsonl"),
        "{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}, {\"role\": \"assistant\", \"content\": \"hello\"}]}\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("prompts.jsonl"),
        "{\"prompt\": \"2+2?\", \"ground_truth\": \"4\"}\n",
    )
    .unwrap();
    dir
}

fn check(dir: &Path, src: &str, overrides: &[(&str, &str)]) -> Result<Plan, CheckFailure> {
    let overrides: Vec<(String, String)> = overrides
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    check_text("recipe.tulu", src, dir, &overrides, registry())
}

fn ok(dir: &Path, src: &str) -> Plan {
    match check(dir, src, &[]) {
        Ok(p) => p,
        Err(f) => panic!("{}", f.render(false)),
    }
}

fn codes(f: &CheckFailure) -> Vec<&'static str> {
    f.diagnostics.iter().map(|d| d.code).collect()
}

#[test]
fn pipes_name_the_last_stage_after_the_binding_and_intermediates_after_their_op() {
    let dir = data_dir();
    let plan = ok(
        dir.path(),
        "let data = load(\"chat.jsonl\") |> sample(n: 1, seed: 3) |> filter(min_chars: 1)",
    );
    let names: Vec<&str> = plan.nodes.iter().map(|n| n.name.as_str()).collect();
    assert_eq!(names, ["data/load", "data/sample", "data"]);
    assert_eq!(plan.nodes[2].op, "filter");
    assert_eq!(plan.nodes[1].params["n"], serde_json::json!(1));
    assert_eq!(
        plan.nodes[1].params["data"],
        serde_json::json!({"$input": 0})
    );
}

#[test]
fn forward_references_work_and_identical_calls_are_one_node() {
    let dir = data_dir();
    let plan = ok(
        dir.path(),
        "let b = sample(a, n: 0.5)\nlet a = load(\"chat.jsonl\")\nlet c = load(\"chat.jsonl\")",
    );
    assert_eq!(plan.nodes.len(), 2);
    let load = plan.find("a").unwrap();
    assert_eq!(load.aliases, vec!["c".to_string()]);
}

#[test]
fn params_take_overrides_and_ints_widen_to_floats() {
    let dir = data_dir();
    let src = "param frac = 0.5\nparam seed = 1\nlet s = load(\"chat.jsonl\") |> sample(n: frac, seed: seed)";
    let plan = check(dir.path(), src, &[("seed", "9")]).unwrap();
    assert_eq!(plan.find("s").unwrap().params["seed"], serde_json::json!(9));
    let err = check(dir.path(), src, &[("seed", "\"x\"")]).unwrap_err();
    assert_eq!(codes(&err), ["tulu::check::type-mismatch"]);
    let err = check(dir.path(), src, &[("sed", "1")]).unwrap_err();
    assert_eq!(codes(&err), ["tulu::check::unknown-param"]);
    assert!(err.render(false).contains("did you mean `seed`?"));
}

#[test]
fn defs_expand_with_names_from_the_calling_binding() {
    let dir = data_dir();
    let src = r#"
def curate(raw: Dataset<Chat>, frac: Float = 0.5) -> Record {
    let half = sample(raw, n: frac)
    let long = filter(half, min_chars: 2)
    {half: half, long: long}
}
let raw = load("chat.jsonl")
let c = curate(raw)
let d = curate(raw, frac: 1)
let longest = c.long
"#;
    let plan = ok(dir.path(), src);
    let names: Vec<&str> = plan.nodes.iter().map(|n| n.name.as_str()).collect();
    assert_eq!(names, ["raw", "c.half", "c.long", "d.half", "d.long"]);
    assert_eq!(plan.find("longest").unwrap().name, "c.long");
    assert_eq!(
        plan.find("d.half").unwrap().params["n"],
        serde_json::json!(1.0)
    );
}

#[test]
fn several_mistakes_are_reported_together() {
    let dir = data_dir();
    let src = "let a = lod(\"chat.jsonl\")\nlet b = sample(zz, n: 1)\nlet c = load(\"chat.jsonl\") |> sample(m: 3)";
    let err = check(dir.path(), src, &[]).unwrap_err();
    assert_eq!(
        codes(&err),
        [
            "tulu::check::unknown-op",
            "tulu::check::unknown-name",
            "tulu::check::unknown-arg"
        ]
    );
}

#[test]
fn cycles_and_schema_mismatches_are_errors() {
    let dir = data_dir();
    let err = check(
        dir.path(),
        "let a = sample(b, n: 1)\nlet b = sample(a, n: 1)",
        &[],
    )
    .unwrap_err();
    assert_eq!(codes(&err), ["tulu::check::cycle"]);
    let err = check(
        dir.path(),
        "let m = mix([(load(\"chat.jsonl\"), 1.0), (load(\"prompts.jsonl\"), 2)])",
        &[],
    )
    .unwrap_err();
    assert_eq!(codes(&err), ["tulu::check::bad-args"]);
    assert!(
        err.render(false).contains("mixes Chat and Prompt"),
        "{}",
        err.render(false)
    );
}

#[test]
fn relative_imports_resolve_against_the_importing_file() {
    let dir = data_dir();
    std::fs::create_dir(dir.path().join("lib")).unwrap();
    std::fs::copy(
        dir.path().join("chat.jsonl"),
        dir.path().join("lib/chat.jsonl"),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("lib/sets.tulu"),
        "param frac = 0.25\nlet chats = load(\"chat.jsonl\", name: \"lib_chats\")\nlet unused = load(\"missing.jsonl\")\n",
    )
    .unwrap();
    let src = "import \"lib/sets.tulu\" as sets\nlet s = sample(sets.chats, n: sets.frac)";
    let plan = check(dir.path(), src, &[("sets.frac", "0.75")]).unwrap();
    let names: Vec<&str> = plan.nodes.iter().map(|n| n.name.as_str()).collect();
    // `sets.unused` is never used, so its missing file is not an error and it is not planned.
    assert_eq!(names, ["sets.chats", "s"]);
    assert_eq!(plan.find("s").unwrap().params["n"], serde_json::json!(0.75));
}

#[test]
fn work_that_doubles_at_each_level_is_stopped_with_one_error() {
    // Found while fuzzing for slow inputs: 32 short lines used to take hours (defs expand at each
    // call) or all memory (each list holds two copies of the one before).
    let dir = data_dir();
    let mut defs = String::from("def f0(d: Dataset<Chat>) -> Dataset<Chat> { d }\n");
    for i in 1..=32 {
        defs.push_str(&format!(
            "def f{i}(d: Dataset<Chat>) -> Dataset<Chat> {{ f{}(f{}(d)) }}\n",
            i - 1,
            i - 1
        ));
    }
    defs.push_str("let x = f32(load(\"chat.jsonl\"))\nlet y = load(\"chat.jsonl\")\n");
    let err = check(dir.path(), &defs, &[]).unwrap_err();
    assert_eq!(codes(&err), ["tulu::check::too-large"]);

    let mut lists = String::from("let a0 = 1\n");
    for i in 1..=40 {
        lists.push_str(&format!("let a{i} = [a{}, a{}]\n", i - 1, i - 1));
    }
    let err = check(dir.path(), &lists, &[]).unwrap_err();
    assert_eq!(codes(&err), ["tulu::check::too-large"]);
    assert!(err
        .render(false)
        .contains("a def that calls another def twice"));

    let mut params = String::from("param p0 = [1]\n");
    for i in 1..=40 {
        params.push_str(&format!("param p{i} = p{} ++ p{}\n", i - 1, i - 1));
    }
    let err = check(dir.path(), &params, &[]).unwrap_err();
    assert_eq!(codes(&err), ["tulu::check::too-large"]);
}

#[test]
fn a_recipe_of_ten_thousand_nodes_is_within_the_work_budget() {
    let dir = data_dir();
    let mut src = String::from("let n0 = load(\"chat.jsonl\")\n");
    for i in 1..10_000 {
        src.push_str(&format!(
            "let n{i} = n{} |> sample(n: 0.5, seed: {i})\n",
            i - 1
        ));
    }
    assert_eq!(ok(dir.path(), &src).nodes.len(), 10_000);
}
