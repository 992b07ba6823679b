//! The evaluation report's numbers and table: accuracy with a 95% Wilson interval per model ×
//! suite, rendered as markdown with the recipe's names for the models.

use std::fmt::Write;

use serde_json::{json, Value as Json};

/// The 95% Wilson score interval of `k` successes in `n`.
pub fn wilson_interval(k: usize, n: usize) -> (f64, f64) {
    if n == 0 {
        return (0.0, 0.0);
    }
    let (k, n) = (k as f64, n as f64);
    let z = 1.959_963_984_540_054_f64;
    let p = k / n;
    let denom = 1.0 + z * z / n;
    let center = (p + z * z / (2.0 * n)) / denom;
    let half = z * (p * (1.0 - p) / n + z * z / (4.0 * n * n)).sqrt() / denom;
    ((center - half).max(0.0), (center + half).min(1.0))
}

/// The report as a markdown table, models as rows and suites as columns; `model_names` label the
/// rows (the recipe's binding names when `tulu cat` renders it).
pub fn render_eval_markdown(report: &Json, model_names: &[String]) -> String {
    let suites: Vec<String> = report["suites"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|s| s["name"].as_str().unwrap_or("?").to_string())
                .collect()
        })
        .unwrap_or_default();
    let cells = report["cells"].as_array().cloned().unwrap_or_default();
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Evaluation ({}; accuracy, 95% interval, n)\n",
        report["verifier"].as_str().unwrap_or("?")
    );
    let _ = writeln!(out, "| model | {} |", suites.join(" | "));
    let _ = writeln!(out, "|---|{}", "---|".repeat(suites.len()));
    for (m, name) in model_names.iter().enumerate() {
        let mut row = format!("| {name} |");
        for s in 0..suites.len() {
            let cell = cells
                .iter()
                .find(|c| c["model"] == json!(m) && c["suite"] == json!(s));
            match cell {
                Some(c) => {
                    let acc = c["accuracy"].as_f64().unwrap_or(0.0) * 100.0;
                    let lo = c["ci95"][0].as_f64().unwrap_or(0.0) * 100.0;
                    let hi = c["ci95"][1].as_f64().unwrap_or(0.0) * 100.0;
                    let _ = write!(row, " {acc:.1}% [{lo:.1}, {hi:.1}] n={} |", c["n"]);
                }
                None => row.push_str(" – |"),
            }
        }
        let _ = writeln!(out, "{row}");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wilson_intervals_match_known_values() {
        let (lo, hi) = wilson_interval(50, 100);
        assert!(
            (lo - 0.4038).abs() < 1e-3 && (hi - 0.5962).abs() < 1e-3,
            "{lo} {hi}"
        );
        let (lo, hi) = wilson_interval(0, 20);
        assert_eq!(lo, 0.0);
        assert!((hi - 0.1611).abs() < 1e-3, "{hi}");
        assert_eq!(wilson_interval(0, 0), (0.0, 0.0));
    }
}
