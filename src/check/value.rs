//! Values computed while checking a recipe. Literals, params and constructor values are known
//! here; artifacts are references to plan nodes that produce them. A node's params are lowered to
//! JSON, with every artifact reference replaced by its position in the node's input list — that JSON
//! is what the cache key and the lockfile see.

use std::path::PathBuf;

use serde_json::{json, Map, Value as Json};

use super::types::Type;

/// What a node reads: another node's artifact or a file.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum InputRef {
    Node(NodeId),
    File(PathBuf),
}

/// Index of a node in the plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeId(pub u32);

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Int(i64),
    Float(f64),
    Str(String),
    Bool(bool),
    List(Vec<Value>),
    Tuple(Vec<Value>),
    Record(Vec<(String, Value)>),
    /// The artifact a plan node produces, with the node's output type.
    Node(NodeId, Type),
    /// A file an op reads (a `File` param), resolved to an absolute path.
    File {
        path: PathBuf,
        display: String,
    },
    /// A constructed value: `llama(dim: 128)`, `grpo(samples: 8)`, `verifier.math`.
    Ctor(Ctor),
    /// The result of an expression that already failed to check; absorbs further errors.
    Poison,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Ctor {
    /// The type kind, e.g. `Verifier`.
    pub kind: &'static str,
    /// The qualified constructor name, e.g. `verifier.math`.
    pub name: String,
    /// Every argument, defaults filled in, in signature order.
    pub args: Vec<(String, Value)>,
}

impl Value {
    pub fn type_of(&self) -> Type {
        match self {
            Value::Int(_) => Type::Int,
            Value::Float(_) => Type::Float,
            Value::Str(_) => Type::Str,
            Value::Bool(_) => Type::Bool,
            Value::List(items) => {
                let mut elem = Type::Unknown;
                for item in items {
                    elem = elem.join(&item.type_of()).unwrap_or(Type::Unknown);
                }
                Type::list(elem)
            }
            Value::Tuple(items) => Type::Tuple(items.iter().map(Value::type_of).collect()),
            Value::Record(fields) => Type::Record(
                fields
                    .iter()
                    .map(|(n, v)| (n.clone(), v.type_of()))
                    .collect(),
            ),
            Value::Node(_, t) => t.clone(),
            Value::File { .. } => Type::File,
            Value::Ctor(c) => Type::Value(c.kind),
            Value::Poison => Type::Unknown,
        }
    }

    /// How many values this one is made of (itself included), counted only up to `cap`: what a
    /// copy of it costs the checker.
    pub fn size_up_to(&self, cap: usize) -> usize {
        let mut count = 0;
        let mut todo = vec![self];
        while let Some(v) = todo.pop() {
            count += 1;
            if count >= cap {
                return cap;
            }
            match v {
                Value::List(items) | Value::Tuple(items) => todo.extend(items),
                Value::Record(fields) => todo.extend(fields.iter().map(|(_, v)| v)),
                Value::Ctor(c) => todo.extend(c.args.iter().map(|(_, v)| v)),
                _ => {}
            }
        }
        count
    }

    pub fn is_poison(&self) -> bool {
        match self {
            Value::Poison => true,
            Value::List(items) | Value::Tuple(items) => items.iter().any(Value::is_poison),
            Value::Record(fields) => fields.iter().any(|(_, v)| v.is_poison()),
            Value::Ctor(c) => c.args.iter().any(|(_, v)| v.is_poison()),
            _ => false,
        }
    }

    /// Every input this value refers to, in order of appearance (duplicates kept), each with a
    /// label saying where it sits (`against[1]`), given the label of `self`.
    pub fn collect_inputs(&self, label: &str, out: &mut Vec<(InputRef, String, Option<String>)>) {
        match self {
            Value::Node(id, _) => out.push((InputRef::Node(*id), label.to_string(), None)),
            Value::File { path, display } => out.push((
                InputRef::File(path.clone()),
                label.to_string(),
                Some(display.clone()),
            )),
            Value::List(items) | Value::Tuple(items) => items
                .iter()
                .enumerate()
                .for_each(|(i, v)| v.collect_inputs(&format!("{label}[{i}]"), out)),
            Value::Record(fields) => fields
                .iter()
                .for_each(|(n, v)| v.collect_inputs(&format!("{label}.{n}"), out)),
            Value::Ctor(c) => c
                .args
                .iter()
                .for_each(|(n, v)| v.collect_inputs(&format!("{label}.{n}"), out)),
            _ => {}
        }
    }

    /// Lower to JSON. `input_index` maps an input to its position in the consuming node's inputs.
    pub fn to_json(&self, input_index: &dyn Fn(&InputRef) -> usize) -> Json {
        match self {
            Value::Int(i) => json!(i),
            Value::Float(f) => json!(f),
            Value::Str(s) => json!(s),
            Value::Bool(b) => json!(b),
            Value::List(items) | Value::Tuple(items) => {
                Json::Array(items.iter().map(|v| v.to_json(input_index)).collect())
            }
            Value::Record(fields) => {
                let mut map = Map::new();
                for (n, v) in fields {
                    map.insert(n.clone(), v.to_json(input_index));
                }
                Json::Object(map)
            }
            Value::Node(id, _) => json!({ "$input": input_index(&InputRef::Node(*id)) }),
            Value::File { path, .. } => {
                json!({ "$input": input_index(&InputRef::File(path.clone())) })
            }
            Value::Ctor(c) => {
                let mut args = Map::new();
                for (n, v) in &c.args {
                    args.insert(n.clone(), v.to_json(input_index));
                }
                json!({ "$ctor": c.name, "args": Json::Object(args) })
            }
            Value::Poison => Json::Null,
        }
    }

    /// A short rendering for messages: `0.8`, `"chat"`, `[1, 2]`, `<node 3>`.
    pub fn describe(&self) -> String {
        match self {
            Value::Int(i) => i.to_string(),
            Value::Float(f) => format_float(*f),
            Value::Str(s) => format!("{s:?}"),
            Value::Bool(b) => b.to_string(),
            Value::List(items) => format!(
                "[{}]",
                items
                    .iter()
                    .map(Value::describe)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Value::Tuple(items) => format!(
                "({})",
                items
                    .iter()
                    .map(Value::describe)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Value::Record(fields) => format!(
                "{{{}}}",
                fields
                    .iter()
                    .map(|(n, v)| format!("{n}: {}", v.describe()))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Value::Node(_, t) => format!("a {t}"),
            Value::File { display, .. } => format!("{display:?}"),
            Value::Ctor(c) => c.name.clone(),
            Value::Poison => "?".into(),
        }
    }
}

/// Floats print with a decimal point or exponent so they never read as integers.
pub fn format_float(f: f64) -> String {
    let s = format!("{f:?}");
    if s.contains(['.', 'e', 'E']) || !f.is_finite() {
        s
    } else {
        format!("{s}.0")
    }
}

/// A JSON param value, rendered the way a recipe writes it (for `tulu plan` reasons).
pub fn describe_json(v: &Json) -> String {
    match v {
        Json::Null => "none".into(),
        Json::Bool(b) => b.to_string(),
        Json::Number(n) => {
            if let Some(f) = n.as_f64().filter(|_| n.is_f64()) {
                format_float(f)
            } else {
                n.to_string()
            }
        }
        Json::String(s) => format!("{s:?}"),
        Json::Array(items) => format!(
            "[{}]",
            items
                .iter()
                .map(describe_json)
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Json::Object(map) => {
            if let Some(i) = map.get("$input") {
                return format!("input #{i}");
            }
            if let (Some(Json::String(name)), Some(Json::Object(args))) =
                (map.get("$ctor"), map.get("args"))
            {
                let inner: Vec<String> = args
                    .iter()
                    .map(|(k, v)| format!("{k}: {}", describe_json(v)))
                    .collect();
                return format!("{name}({})", inner.join(", "));
            }
            format!(
                "{{{}}}",
                map.iter()
                    .map(|(k, v)| format!("{k}: {}", describe_json(v)))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        }
    }
}
