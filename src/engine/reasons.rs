//! Why a node runs: the typed reasons `tulu plan` and `tulu run` report — a new node, a param
//! changed from → to, an upstream output changed, an op version bumped, a missing blob.

use serde_json::{json, Map, Value as Json};

use crate::cache::Hash;
use crate::check::value::describe_json;

#[derive(Debug, Clone, PartialEq)]
pub enum Reason {
    /// No earlier run of a node with this name.
    NewNode,
    OpChanged {
        from: String,
        to: String,
    },
    OpVersionBumped {
        from: u32,
        to: u32,
    },
    ParamChanged {
        param: String,
        from: Json,
        to: Json,
    },
    /// An input's content differs from the last run (an upstream output or a file).
    InputChanged {
        input: String,
    },
    /// An upstream node will run first; this one may still be cut off early if that node's
    /// output turns out unchanged.
    InputWillRun {
        input: String,
    },
    /// The cached output's blob is gone (gc, or deleted by hand).
    OutputMissing,
    /// The cached output failed its hash check; it was evicted.
    OutputCorrupt,
    /// The op's effect outside the cache (an exported file) is missing or changed.
    EffectMissing,
    /// Not in the cache, and nothing above explains it (the cache was cleared, or this exact
    /// configuration ran under another name).
    NotCached,
}

impl Reason {
    pub fn kind(&self) -> &'static str {
        match self {
            Reason::NewNode => "new_node",
            Reason::OpChanged { .. } => "op_changed",
            Reason::OpVersionBumped { .. } => "op_version_bumped",
            Reason::ParamChanged { .. } => "param_changed",
            Reason::InputChanged { .. } => "input_changed",
            Reason::InputWillRun { .. } => "input_will_run",
            Reason::OutputMissing => "output_missing",
            Reason::OutputCorrupt => "output_corrupt",
            Reason::EffectMissing => "effect_missing",
            Reason::NotCached => "not_cached",
        }
    }

    pub fn message(&self) -> String {
        match self {
            Reason::NewNode => "new node".into(),
            Reason::OpChanged { from, to } => format!("op changed {from} → {to}"),
            Reason::OpVersionBumped { from, to } => format!("op version bumped {from} → {to}"),
            Reason::ParamChanged { param, from, to } => format!(
                "param `{param}` changed {} → {}",
                describe_json(from),
                describe_json(to)
            ),
            Reason::InputChanged { input } => format!("input `{input}` changed"),
            Reason::InputWillRun { input } => format!("input `{input}` will be recomputed"),
            Reason::OutputMissing => "cached output missing from the blob store".into(),
            Reason::OutputCorrupt => "cached output was corrupt and has been evicted".into(),
            Reason::EffectMissing => "its output file is missing or was changed".into(),
            Reason::NotCached => "not in the cache".into(),
        }
    }

    pub fn to_json(&self) -> Json {
        let mut obj = Map::new();
        obj.insert("kind".into(), json!(self.kind()));
        match self {
            Reason::OpChanged { from, to } => {
                obj.insert("from".into(), json!(from));
                obj.insert("to".into(), json!(to));
            }
            Reason::OpVersionBumped { from, to } => {
                obj.insert("from".into(), json!(from));
                obj.insert("to".into(), json!(to));
            }
            Reason::ParamChanged { param, from, to } => {
                obj.insert("param".into(), json!(param));
                obj.insert("from".into(), from.clone());
                obj.insert("to".into(), to.clone());
            }
            Reason::InputChanged { input } | Reason::InputWillRun { input } => {
                obj.insert("input".into(), json!(input));
            }
            _ => {}
        }
        obj.insert("message".into(), json!(self.message()));
        Json::Object(obj)
    }
}

/// What an earlier run recorded about a node, to explain what changed since.
#[derive(Debug, Clone)]
pub struct PreviousRun {
    pub op: String,
    pub op_version: u32,
    pub params: Json,
    pub inputs: Vec<(String, Hash)>,
}

/// The reasons a node whose key is not cached must run, by comparing with its previous run.
/// `inputs` holds each current input's label and its hash, `None` when the upstream node has yet
/// to run.
pub fn diff(
    previous: Option<&PreviousRun>,
    op: &str,
    op_version: u32,
    params: &Json,
    inputs: &[(String, Option<Hash>)],
) -> Vec<Reason> {
    let mut reasons = Vec::new();
    let Some(prev) = previous else {
        reasons.push(Reason::NewNode);
        return reasons;
    };
    if prev.op != op {
        reasons.push(Reason::OpChanged {
            from: prev.op.clone(),
            to: op.to_string(),
        });
        return reasons;
    }
    if prev.op_version != op_version {
        reasons.push(Reason::OpVersionBumped {
            from: prev.op_version,
            to: op_version,
        });
    }
    let empty = Map::new();
    let now = params.as_object().unwrap_or(&empty);
    let before = prev.params.as_object().unwrap_or(&empty);
    let mut names: Vec<&String> = now.keys().chain(before.keys()).collect();
    names.sort();
    names.dedup();
    for name in names {
        let a = before.get(name.as_str()).unwrap_or(&Json::Null);
        let b = now.get(name.as_str()).unwrap_or(&Json::Null);
        if !same_value(a, b) {
            reasons.push(Reason::ParamChanged {
                param: name.clone(),
                from: a.clone(),
                to: b.clone(),
            });
        }
    }
    for (label, hash) in inputs {
        match hash {
            None => reasons.push(Reason::InputWillRun {
                input: label.clone(),
            }),
            Some(h) => {
                let before = prev.inputs.iter().find(|(l, _)| l == label).map(|(_, h)| h);
                if before != Some(h) {
                    reasons.push(Reason::InputChanged {
                        input: label.clone(),
                    });
                }
            }
        }
    }
    if reasons.is_empty() {
        reasons.push(Reason::NotCached);
    }
    reasons
}

/// Numbers compare by value, so a param that only changed spelling is not reported.
fn same_value(a: &Json, b: &Json) -> bool {
    match (a, b) {
        (Json::Number(x), Json::Number(y)) => x.as_f64() == y.as_f64() && x.is_f64() == y.is_f64(),
        (Json::Array(x), Json::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| same_value(p, q))
        }
        (Json::Object(x), Json::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| same_value(v, w)))
        }
        _ => a == b,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_param_and_input_changes() {
        let prev = PreviousRun {
            op: "dpo".into(),
            op_version: 1,
            params: json!({"beta": 0.1, "data": {"$input": 0}}),
            inputs: vec![("data".into(), Hash::of(b"a"))],
        };
        let reasons = diff(
            Some(&prev),
            "dpo",
            2,
            &json!({"beta": 5.0, "data": {"$input": 0}}),
            &[("data".into(), Some(Hash::of(b"b")))],
        );
        let messages: Vec<String> = reasons.iter().map(Reason::message).collect();
        assert_eq!(
            messages,
            [
                "op version bumped 1 → 2",
                "param `beta` changed 0.1 → 5.0",
                "input `data` changed"
            ]
        );
        assert_eq!(diff(None, "dpo", 1, &json!({}), &[]), vec![Reason::NewNode]);
    }
}
