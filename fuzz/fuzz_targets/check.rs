//! Parse and check any text against the real op registry, in a directory holding a few small
//! data files (one per schema) and an importable module, then render every diagnostic and, for
//! a recipe that checks, its graph. Nothing may panic.
//!
//! Comment lines `#set name=value` in the input become `--set` overrides, so the fuzzer reaches
//! the override paths without changing what the recipe text means.

#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use tempfile::TempDir;
use tulu::check::check_text;
use tulu::graph::{to_dot, to_mermaid, PlanGraph};
use tulu::ops::registry;
use tulu::syntax::diagnostic::render_all;

static RECIPE_DIR: LazyLock<TempDir> = LazyLock::new(|| {
    let dir = tempfile::tempdir().expect("a temp dir");
    let files = [
        (
            "chat.jsonl",
            "{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}, {\"role\": \"assistant\", \"content\": \"hello there\"}], \"lang\": \"en\"}\n",
        ),
        (
            "prompts.jsonl",
            "{\"prompt\": \"2+2?\", \"ground_truth\": \"4\", \"dataset\": \"gsm8k\"}\n",
        ),
        (
            "pref.jsonl",
            "{\"prompt\": \"pick\", \"chosen\": \"good\", \"rejected\": \"bad\"}\n",
        ),
        ("text.jsonl", "{\"text\": \"plain text\"}\n"),
        (
            "lib.tulu",
            "param n = 2\nlet chat = load(\"chat.jsonl\")\ndef few(d: Dataset<Chat>, k: Int = 1) -> Dataset<Chat> {\n    let s = sample(d, n: k, seed: n)\n    s\n}\n",
        ),
    ];
    for (name, content) in files {
        std::fs::write(dir.path().join(name), content).expect("write a fixture");
    }
    dir
});

fn overrides(text: &str) -> Vec<(String, String)> {
    text.lines()
        .filter_map(|l| l.strip_prefix("#set "))
        .filter_map(|s| s.split_once('='))
        .map(|(k, v)| (k.trim().to_string(), v.to_string()))
        .collect()
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let dir = RECIPE_DIR.path();
    match check_text("recipe.tulu", text, dir, &overrides(text), registry()) {
        Ok(plan) => {
            let _ = render_all(&plan.warnings, &plan.sources, false);
            // The engine relies on these: ids are positions, and inputs come first.
            for (index, node) in plan.nodes.iter().enumerate() {
                assert_eq!(node.id.0 as usize, index, "node ids are positions");
                for input in plan.node_inputs(node.id) {
                    assert!(input < node.id, "`{}` comes before its input", node.name);
                }
            }
            let graph = PlanGraph::new(&plan);
            assert_eq!(graph.topological().len(), plan.nodes.len());
            let _ = to_dot(&plan);
            let _ = to_mermaid(&plan);
        }
        Err(failure) => {
            assert!(
                failure.error_count() > 0,
                "a failed check reported no error"
            );
            let _ = failure.render(false);
        }
    }
});
