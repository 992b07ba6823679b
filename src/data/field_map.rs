//! `load(…, fields: {prompt: "doc.question", ground_truth: "doc.answer | gsm8k_answer"})`: build
//! rows from files whose layout is not one of tulu's schemas, such as the evaluation harness files
//! the asset script fetches. Each target field names a path into the source row (object keys and
//! list indices separated by dots) and, after `|`, optional transforms applied in order.

use serde_json::{Map, Value};

/// A transform applied to a picked value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transform {
    /// The text after the last `####` (GSM8K's final-answer marker), trimmed, commas removed.
    Gsm8kAnswer,
    /// The content of the last `\boxed{…}` (MATH solutions).
    LastBoxed,
    /// Surrounding whitespace removed.
    Trim,
    /// Any JSON value as its string form (numbers become strings).
    ToString,
}

pub const TRANSFORMS: &[(&str, Transform)] = &[
    ("gsm8k_answer", Transform::Gsm8kAnswer),
    ("last_boxed", Transform::LastBoxed),
    ("trim", Transform::Trim),
    ("string", Transform::ToString),
];

#[derive(Debug, Clone, PartialEq)]
pub struct FieldRule {
    pub target: String,
    pub source: FieldSource,
}

/// Where a target field's value comes from.
#[derive(Debug, Clone, PartialEq)]
pub enum FieldSource {
    /// A path into the source row, then transforms.
    Path {
        path: Vec<String>,
        transforms: Vec<Transform>,
    },
    /// An object built from nested rules: `{ground_truth: {instruction_id_list: "ids", kwargs: "kwargs"}}`.
    Object(Vec<FieldRule>),
}

/// Parse `{target: "path | transform"}` rules (a nested record builds an object); the error says
/// which rule is wrong and why.
pub fn parse_rules(spec: &Map<String, Value>) -> Result<Vec<FieldRule>, String> {
    parse_rules_at(spec, "fields")
}

fn parse_rules_at(spec: &Map<String, Value>, prefix: &str) -> Result<Vec<FieldRule>, String> {
    let mut rules = Vec::new();
    for (target, value) in spec {
        let at = format!("{prefix}.{target}");
        let source = match value {
            Value::String(text) => parse_source(text, &at)?,
            Value::Object(nested) => FieldSource::Object(parse_rules_at(nested, &at)?),
            _ => {
                return Err(format!(
                    "`{at}` must be a string path such as \"doc.question\", or a record of them"
                ))
            }
        };
        rules.push(FieldRule {
            target: target.clone(),
            source,
        });
    }
    Ok(rules)
}

fn parse_source(text: &str, at: &str) -> Result<FieldSource, String> {
    let mut parts = text.split('|').map(str::trim);
    let path_text = parts.next().unwrap_or_default();
    if path_text.is_empty() {
        return Err(format!("`{at}` has an empty path"));
    }
    let path = parse_path(path_text).map_err(|m| format!("`{at}`: {m}"))?;
    let mut transforms = Vec::new();
    for name in parts {
        let t = TRANSFORMS
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, t)| *t)
            .ok_or_else(|| {
                let known: Vec<&str> = TRANSFORMS.iter().map(|(n, _)| *n).collect();
                format!(
                    "`{at}`: unknown transform `{name}`; the transforms are {}",
                    known.join(", ")
                )
            })?;
        transforms.push(t);
    }
    Ok(FieldSource::Path { path, transforms })
}

/// The value at a dotted path (object keys and list indices) in a row.
pub fn pick<'a>(row: &'a Map<String, Value>, path: &[String]) -> Option<&'a Value> {
    let (first, rest) = path.split_first()?;
    let mut cur = row.get(first)?;
    for seg in rest {
        cur = match cur {
            Value::Object(m) => m.get(seg)?,
            Value::Array(a) => a.get(seg.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(cur)
}

/// Splits `a.b.0` into its segments.
pub fn parse_path(text: &str) -> Result<Vec<String>, String> {
    let path: Vec<String> = text.split('.').map(str::to_string).collect();
    if text.is_empty() || path.iter().any(String::is_empty) {
        return Err(format!("`{text}` is not a field path (write keys and list indices separated by dots, such as \"messages.0.content\")"));
    }
    Ok(path)
}

/// Apply the rules to one source row. Errors name the target field and the missing path.
pub fn apply(
    rules: &[FieldRule],
    source: &Map<String, Value>,
) -> Result<Map<String, Value>, (String, String)> {
    let mut out = Map::new();
    for rule in rules {
        let value = match &rule.source {
            FieldSource::Object(nested) => Value::Object(
                apply(nested, source).map_err(|(t, m)| (format!("{}.{t}", rule.target), m))?,
            ),
            FieldSource::Path { path, transforms } => {
                let Some(found) = pick(source, path) else {
                    let depth = (1..=path.len())
                        .find(|d| pick(source, &path[..*d]).is_none())
                        .unwrap_or(path.len());
                    return Err((
                        rule.target.clone(),
                        format!("the source row has no `{}`", path[..depth].join(".")),
                    ));
                };
                let mut value = found.clone();
                for t in transforms {
                    value = transform(*t, value).map_err(|m| (rule.target.clone(), m))?;
                }
                value
            }
        };
        out.insert(rule.target.clone(), value);
    }
    Ok(out)
}

fn transform(t: Transform, value: Value) -> Result<Value, String> {
    let as_text = |v: &Value| -> String {
        match v {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        }
    };
    Ok(match t {
        Transform::ToString => Value::String(as_text(&value)),
        Transform::Trim => Value::String(as_text(&value).trim().to_string()),
        Transform::Gsm8kAnswer => {
            let text = as_text(&value);
            let answer = text
                .rsplit_once("####")
                .map(|(_, a)| a)
                .ok_or_else(|| "has no `####` final-answer marker".to_string())?;
            Value::String(answer.trim().replace(',', ""))
        }
        Transform::LastBoxed => {
            let text = as_text(&value);
            let boxed = crate::verify::math::last_boxed(&text)
                .ok_or_else(|| "has no \\boxed{…} answer".to_string())?;
            Value::String(boxed)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn picks_nested_paths_and_applies_transforms() {
        let spec = json!({"prompt": "doc.question", "ground_truth": "doc.answer | gsm8k_answer", "id": "doc.id | string"});
        let rules = parse_rules(spec.as_object().unwrap()).unwrap();
        let row =
            json!({"doc": {"question": "Q?", "answer": "so 1,234 eggs\n#### 1,234", "id": 7}});
        let out = apply(&rules, row.as_object().unwrap()).unwrap();
        assert_eq!(
            Value::Object(out),
            json!({"prompt": "Q?", "ground_truth": "1234", "id": "7"})
        );
    }

    #[test]
    fn nested_records_build_objects() {
        let spec = json!({"ground_truth": {"ids": "instruction_id_list", "kwargs": "kwargs"}});
        let rules = parse_rules(spec.as_object().unwrap()).unwrap();
        let row = json!({"instruction_id_list": ["a"], "kwargs": [{"n": 1}]});
        let out = apply(&rules, row.as_object().unwrap()).unwrap();
        assert_eq!(
            Value::Object(out),
            json!({"ground_truth": {"ids": ["a"], "kwargs": [{"n": 1}]}})
        );
    }

    #[test]
    fn reports_the_missing_path_and_unknown_transforms() {
        let rules = parse_rules(json!({"prompt": "doc.problem"}).as_object().unwrap()).unwrap();
        let err = apply(&rules, json!({"doc": {}}).as_object().unwrap()).unwrap_err();
        assert_eq!(
            err,
            (
                "prompt".to_string(),
                "the source row has no `doc.problem`".to_string()
            )
        );
        let bad = parse_rules(json!({"x": "a | shout"}).as_object().unwrap()).unwrap_err();
        assert!(bad.contains("unknown transform `shout`"), "{bad}");
    }
}
