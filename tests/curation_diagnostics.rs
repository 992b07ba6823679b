//! Rendered diagnostics for mistakes in `dedup` and `decontam` calls, snapshot-tested: caught by
//! `tulu check` before anything runs, pointing at the argument at fault.

use std::process::Command;

fn render(recipe: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("chat.jsonl"),
        "{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}, {\"role\": \"assistant\", \"content\": \"hello\"}]}\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("eval.jsonl"),
        "{\"prompt\": \"2+2?\", \"ground_truth\": \"4\"}\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("recipe.tulu"), recipe).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_tulu"))
        .current_dir(dir.path())
        .args(["check", "recipe.tulu"])
        .output()
        .unwrap();
    assert!(!out.status.success(), "expected the check to fail");
    let stderr = String::from_utf8(out.stderr).unwrap();
    let canonical = dir.path().canonicalize().unwrap();
    stderr
        .replace(&canonical.display().to_string(), "[DIR]")
        .replace(&dir.path().display().to_string(), "[DIR]")
}

macro_rules! snapshot {
    ($name:ident, $recipe:expr) => {
        #[test]
        fn $name() {
            insta::assert_snapshot!(render($recipe));
        }
    };
}

snapshot!(
    dedup_that_removes_nothing,
    "let d = load(\"chat.jsonl\") |> dedup(exact: false)\n"
);
snapshot!(
    dedup_near_param_without_near,
    "let d = load(\"chat.jsonl\") |> dedup(ngram: 3)\n"
);
snapshot!(
    dedup_bands_without_rows,
    "let d = load(\"chat.jsonl\") |> dedup(near: 0.8, bands: 16)\n"
);
snapshot!(
    dedup_bands_exceed_permutations,
    "let d = load(\"chat.jsonl\") |> dedup(near: 0.8, num_perm: 64, bands: 20, rows: 4)\n"
);
snapshot!(
    dedup_threshold_out_of_range,
    "let d = load(\"chat.jsonl\") |> dedup(near: 80)\n"
);
snapshot!(
    decontam_against_nothing,
    "let d = load(\"chat.jsonl\") |> decontam(against: [])\n"
);
snapshot!(
    decontam_against_itself,
    "let d = load(\"chat.jsonl\")\nlet c = decontam(d, against: [load(\"eval.jsonl\"), d])\n"
);
snapshot!(
    decontam_repeated_eval_set,
    "let e = load(\"eval.jsonl\")\nlet c = load(\"chat.jsonl\") |> decontam(against: [e, e])\n"
);
snapshot!(
    decontam_unknown_mode,
    "let c = load(\"chat.jsonl\") |> decontam(against: [load(\"eval.jsonl\")], mode: \"drop\")\n"
);
snapshot!(
    decontam_threshold_of_one,
    "let c = load(\"chat.jsonl\") |> decontam(against: [load(\"eval.jsonl\")], threshold: 1.0)\n"
);
