//! Rendered diagnostics for recipe mistakes, snapshot-tested: what went wrong, where, and what to
//! do — exactly as a user sees them on stderr.

use std::path::Path;
use std::process::Command;

fn render(recipe: &str, extra_args: &[&str]) -> String {
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
    std::fs::write(dir.path().join("recipe.tulu"), recipe).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_tulu"))
        .current_dir(dir.path())
        .arg("check")
        .arg("recipe.tulu")
        .args(extra_args)
        .output()
        .unwrap();
    assert!(!out.status.success(), "expected the check to fail");
    let stderr = String::from_utf8(out.stderr).unwrap();
    stderr
        .replace(&dir.path().display().to_string(), "[DIR]")
        .replace(
            &Path::new(&dir.path())
                .canonicalize()
                .unwrap()
                .display()
                .to_string(),
            "[DIR]",
        )
}

macro_rules! snapshot {
    ($name:ident, $recipe:expr) => {
        snapshot!($name, $recipe, &[]);
    };
    ($name:ident, $recipe:expr, $args:expr) => {
        #[test]
        fn $name() {
            insta::assert_snapshot!(render($recipe, $args));
        }
    };
}

snapshot!(missing_value, "let data = load(\"chat.jsonl\")\nlet x =\n");
snapshot!(
    equals_instead_of_colon,
    "let d = load(\"chat.jsonl\")\nlet s = sample(d, n = 3)\n"
);
snapshot!(
    unknown_name,
    "let data = load(\"chat.jsonl\")\nlet s = sample(dta, n: 1)\n"
);
snapshot!(
    unknown_op,
    "let data = load(\"chat.jsonl\") |> dedpu(near: 0.8)\n"
);
snapshot!(
    unknown_argument,
    "let s = load(\"chat.jsonl\") |> sample(nn: 3)\n"
);
snapshot!(
    missing_argument,
    "let s = load(\"chat.jsonl\") |> sample(seed: 3)\n"
);
snapshot!(
    wrong_type,
    "let s = load(\"chat.jsonl\") |> sample(n: \"ten\")\n"
);
snapshot!(
    mixed_schemas,
    "let m = mix([(load(\"chat.jsonl\"), 1.0), (load(\"prompts.jsonl\"), 0.5)])\n"
);
snapshot!(
    out_of_range,
    "let s = load(\"chat.jsonl\") |> sample(n: -1)\n"
);
snapshot!(
    duplicate_binding,
    "let data = load(\"chat.jsonl\")\nlet data = load(\"prompts.jsonl\")\n"
);
snapshot!(
    cycle,
    "let a = sample(b, n: 1)\nlet b = sample(c, n: 1)\nlet c = sample(a, n: 1)\n"
);
snapshot!(
    missing_import,
    "import \"lib/sets.tulu\" as sets\nlet x = sets.a\n"
);
snapshot!(
    unknown_stdlib_module,
    "import \"stdlib/evals.tulu\" as eval\n"
);
snapshot!(missing_file, "let d = load(\"data/train.jsonl\")\n");
snapshot!(
    unknown_override,
    "param seed = 1\nlet d = load(\"chat.jsonl\") |> sample(n: 1, seed: seed)\n",
    &["--set", "sede=2"]
);
snapshot!(
    override_wrong_type,
    "param seed = 1\nlet d = load(\"chat.jsonl\") |> sample(n: 1, seed: seed)\n",
    &["--set", "seed=\"x\""]
);
snapshot!(
    recursive_def,
    "def loop(d: Dataset) -> Dataset {\n    loop(d)\n}\nlet x = loop(load(\"chat.jsonl\"))\n"
);
snapshot!(
    positional_after_named,
    "let s = sample(n: 1, load(\"chat.jsonl\"))\n"
);
snapshot!(mixed_list, "let x = concat([load(\"chat.jsonl\"), 3])\n");
snapshot!(
    int_too_large,
    "let s = load(\"chat.jsonl\") |> sample(n: 99999999999999999999)\n"
);
snapshot!(
    unknown_type,
    "def f(d: Datset<Chat>) -> Dataset {\n    d\n}\nlet x = f(load(\"chat.jsonl\"))\n"
);
snapshot!(op_not_called, "let x = load\n");
snapshot!(bad_escape, "let d = load(\"chat\\q.jsonl\")\n");
snapshot!(
    filter_without_condition,
    "let d = load(\"chat.jsonl\") |> filter(field: \"messages.0.role\")\n"
);
snapshot!(
    several_errors_at_once,
    "let a = lod(\"chat.jsonl\")\nlet b = sample(zz, n: 1)\nlet c = load(\"chat.jsonl\") |> sample(n: 0.5, sed: 1)\n"
);

#[test]
fn nesting_deeper_than_the_limit_is_an_error_not_a_crash() {
    let deep = format!("let x = {}1{}\n", "[".repeat(5000), "]".repeat(5000));
    let out = render(&deep, &[]);
    assert!(
        out.contains("brackets are nested more than 100 deep"),
        "{out}"
    );
}
