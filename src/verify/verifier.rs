//! Verifiers as recipe values: `verifier.gsm8k`, `verifier.math`, `verifier.ifeval(mode: …)`
//! and `verifier.auto`, which reach ops as `{"$ctor": "verifier.math", "args": {…}}`.
//!
//! ```
//! use tulu::verify::Verifier;
//! use serde_json::json;
//!
//! let verifier = Verifier::from_json(&json!({"$ctor": "verifier.auto", "args": {}}))?;
//! let row = json!({"prompt": "2+2?", "ground_truth": "4", "dataset": "gsm8k"});
//! let gold = verifier.prepare(row.as_object().unwrap())?;
//! assert_eq!(gold.score("2 + 2 = 4").reward, 1.0);
//! assert!(!gold.score("it is 5").correct);
//! # Ok::<(), anyhow::Error>(())
//! ```

use anyhow::{anyhow, bail, Result};
use serde_json::{Map, Value};

use super::ifeval::Mode;
use super::prepared::PreparedGold;
use super::task::Task;

pub const GSM8K_CTOR: &str = "verifier.gsm8k";
pub const MATH_CTOR: &str = "verifier.math";
pub const IFEVAL_CTOR: &str = "verifier.ifeval";
pub const AUTO_CTOR: &str = "verifier.auto";

/// The spellings of [`Mode`] in recipes.
pub const MODE_NAMES: &[&str] = &["strict", "loose"];

/// A verifier as a recipe names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verifier {
    /// GSM8K: the last number of the response equals the gold number.
    Gsm8k,
    /// MATH "flex": an extracted final answer is equivalent to the gold answer.
    Math,
    /// IFEval: every instruction of the row is followed, in `mode`.
    IfEval { mode: Mode },
    /// Per row, the verifier its `dataset` field names (`gsm8k`, `math`, `ifeval`, any case),
    /// as open-instruct's RLVR data is dispatched; IFEval rows are checked in `ifeval_mode`.
    Auto { ifeval_mode: Mode },
}

impl Verifier {
    /// The verifier a constructor value names: `{"$ctor": "verifier.ifeval", "args": {"mode":
    /// "loose"}}`. Absent args take their defaults (`mode` and `ifeval_mode`: strict).
    pub fn from_json(ctor: &Value) -> Result<Verifier> {
        let no_args = Map::new();
        let (name, args) = match ctor {
            Value::Object(map) => match (map.get("$ctor"), map.get("args")) {
                (Some(Value::String(name)), Some(Value::Object(args))) => (name.as_str(), args),
                (Some(Value::String(name)), None | Some(Value::Null)) => (name.as_str(), &no_args),
                _ => bail!(
                    "expected a verifier value {{\"$ctor\": \"verifier.…\", \"args\": {{…}}}}, \
                     found {ctor}"
                ),
            },
            _ => bail!("expected a verifier value such as `verifier.math`, found {ctor}"),
        };
        let mode_arg = |arg: &str| -> Result<Mode> {
            match args.get(arg) {
                None | Some(Value::Null) => Ok(Mode::Strict),
                Some(Value::String(mode)) => mode_from_name(mode.as_str()).ok_or_else(|| {
                    anyhow!("`{name}`: `{arg}` must be \"strict\" or \"loose\", got {mode:?}")
                }),
                Some(other) => {
                    bail!("`{name}`: `{arg}` must be \"strict\" or \"loose\", got {other}")
                }
            }
        };
        let allowed: &[&str] = match name {
            GSM8K_CTOR | MATH_CTOR => &[],
            IFEVAL_CTOR => &["mode"],
            AUTO_CTOR => &["ifeval_mode"],
            other => bail!(
                "`{other}` is not a verifier; the verifiers are {GSM8K_CTOR}, {MATH_CTOR}, \
                 {IFEVAL_CTOR}(mode: \"strict\" | \"loose\") and {AUTO_CTOR}"
            ),
        };
        if let Some(unknown) = args.keys().find(|k| !allowed.contains(&k.as_str())) {
            bail!("`{name}` has no argument `{unknown}`");
        }
        Ok(match name {
            GSM8K_CTOR => Verifier::Gsm8k,
            MATH_CTOR => Verifier::Math,
            IFEVAL_CTOR => Verifier::IfEval {
                mode: mode_arg("mode")?,
            },
            _ => Verifier::Auto {
                ifeval_mode: mode_arg("ifeval_mode")?,
            },
        })
    }

    /// The constructor value for this verifier (the inverse of [`Verifier::from_json`]).
    pub fn to_json(&self) -> Value {
        let (name, args) = match self {
            Verifier::Gsm8k => (GSM8K_CTOR, Map::new()),
            Verifier::Math => (MATH_CTOR, Map::new()),
            Verifier::IfEval { mode } => (IFEVAL_CTOR, mode_args("mode", *mode)),
            Verifier::Auto { ifeval_mode } => (AUTO_CTOR, mode_args("ifeval_mode", *ifeval_mode)),
        };
        serde_json::json!({"$ctor": name, "args": args})
    }

    /// A short name for reports: `gsm8k`, `math`, `ifeval(loose)`, `auto(ifeval: strict)`.
    pub fn name(&self) -> String {
        match self {
            Verifier::Gsm8k => "gsm8k".into(),
            Verifier::Math => "math".into(),
            Verifier::IfEval { mode } => format!("ifeval({})", mode_name(*mode)),
            Verifier::Auto { ifeval_mode } => format!("auto(ifeval: {})", mode_name(*ifeval_mode)),
        }
    }

    /// The task `row` is verified as, and the IFEval mode if it is IFEval.
    pub fn task_of(&self, row: &Map<String, Value>) -> Result<(Task, Mode)> {
        match self {
            Verifier::Gsm8k => Ok((Task::Gsm8k, Mode::Strict)),
            Verifier::Math => Ok((Task::Math, Mode::Strict)),
            Verifier::IfEval { mode } => Ok((Task::IfEval, *mode)),
            Verifier::Auto { ifeval_mode } => {
                let known = Task::ALL.map(Task::name).join(", ");
                match row.get("dataset") {
                    Some(Value::String(dataset)) => Task::from_dataset(dataset)
                        .map(|task| (task, *ifeval_mode))
                        .ok_or_else(|| {
                            anyhow!(
                                "field `dataset` is {dataset:?}, which no verifier checks \
                                 (`verifier.auto` knows {known}); drop such rows first, e.g. \
                                 `filter(field: \"dataset\", one_of: [\"gsm8k\", \"math\", \
                                 \"ifeval\"])`, or score them with a verifier chosen explicitly"
                            )
                        }),
                    None | Some(Value::Null) => bail!(
                        "the row has no `dataset` field, which `verifier.auto` dispatches on \
                         ({known}); set it when loading (`load(…, set: {{dataset: \"gsm8k\"}})`) \
                         or choose the verifier explicitly (`verifier.gsm8k`, `verifier.math`, \
                         `verifier.ifeval`)"
                    ),
                    Some(other) => {
                        bail!("field `dataset` is {other}, not a string naming the task ({known})")
                    }
                }
            }
        }
    }

    /// Prepares a row's gold once — parses the gold answer, or builds the IFEval instruction
    /// set — for scoring any number of responses against it (RLVR samples many per prompt).
    /// `row` is a Prompt-schema row: `prompt` (a string or messages), `ground_truth`, `dataset`.
    /// The error names the field at fault and what to do; the caller adds where the row is.
    pub fn prepare(&self, row: &Map<String, Value>) -> Result<PreparedGold> {
        let (task, mode) = self.task_of(row)?;
        PreparedGold::new(task, mode, row)
    }
}

fn mode_args(name: &str, mode: Mode) -> Map<String, Value> {
    let mut args = Map::new();
    args.insert(name.into(), Value::String(mode_name(mode).into()));
    args
}

/// `strict` or `loose`.
pub fn mode_name(mode: Mode) -> &'static str {
    match mode {
        Mode::Strict => "strict",
        Mode::Loose => "loose",
    }
}

fn mode_from_name(name: &str) -> Option<Mode> {
    match name {
        "strict" => Some(Mode::Strict),
        "loose" => Some(Mode::Loose),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn constructor_values_round_trip() {
        for verifier in [
            Verifier::Gsm8k,
            Verifier::Math,
            Verifier::IfEval { mode: Mode::Loose },
            Verifier::Auto {
                ifeval_mode: Mode::Strict,
            },
        ] {
            assert_eq!(Verifier::from_json(&verifier.to_json()).unwrap(), verifier);
        }
        assert_eq!(
            Verifier::from_json(&json!({"$ctor": "verifier.ifeval", "args": {}})).unwrap(),
            Verifier::IfEval { mode: Mode::Strict }
        );
        assert_eq!(
            Verifier::from_json(&json!({"$ctor": "verifier.math"})).unwrap(),
            Verifier::Math
        );
        assert_eq!(
            Verifier::IfEval { mode: Mode::Loose }.name(),
            "ifeval(loose)"
        );
        assert_eq!(Verifier::Math.name(), "math");
    }

    #[test]
    fn bad_constructor_values_are_errors() {
        let cases = [
            (json!("verifier.math"), "such as `verifier.math`"),
            (
                json!({"$ctor": "verifier.code", "args": {}}),
                "not a verifier",
            ),
            (
                json!({"$ctor": "verifier.ifeval", "args": {"mode": "lax"}}),
                "\"lax\"",
            ),
            (
                json!({"$ctor": "verifier.ifeval", "args": {"mode": 1}}),
                "got 1",
            ),
            (
                json!({"$ctor": "verifier.math", "args": {"mode": "strict"}}),
                "no argument `mode`",
            ),
            (json!({"args": {}}), "expected a verifier value"),
        ];
        for (value, expected) in cases {
            let error = Verifier::from_json(&value).unwrap_err().to_string();
            assert!(error.contains(expected), "{value}: {error}");
        }
    }

    #[test]
    fn auto_dispatches_on_the_dataset_field() {
        let auto = Verifier::Auto {
            ifeval_mode: Mode::Loose,
        };
        let row = |v: Value| v.as_object().cloned().unwrap();
        assert_eq!(
            auto.task_of(&row(json!({"dataset": "MATH"}))).unwrap().0,
            Task::Math
        );
        assert_eq!(
            auto.task_of(&row(json!({"dataset": "ifeval"}))).unwrap(),
            (Task::IfEval, Mode::Loose)
        );
        let error = auto
            .task_of(&row(json!({"dataset": "humaneval"})))
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("\"humaneval\"") && error.contains("filter(field: \"dataset\""),
            "{error}"
        );
        let error = auto.task_of(&row(json!({}))).unwrap_err().to_string();
        assert!(error.contains("no `dataset` field"), "{error}");
        let error = auto
            .task_of(&row(json!({"dataset": 3})))
            .unwrap_err()
            .to_string();
        assert!(error.contains("not a string"), "{error}");
    }
}
