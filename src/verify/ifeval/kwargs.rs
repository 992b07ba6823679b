//! Typed access to one instruction's kwargs object.
//!
//! Real data files pad every kwargs object with every kwarg name of the benchmark, set to `null`
//! where an instruction does not use it, so `null` and "absent" both mean "not given". Where
//! IFEval would pick a *random* value for a missing or out-of-range kwarg (it does that when it
//! generates prompts), a verifier cannot: such kwargs are errors here, naming the instruction,
//! the kwarg and what is allowed.

use super::error::InstructionError;
use super::relation::Relation;
use serde_json::{Map, Value};

/// One instruction's kwargs, checked against the names the instruction takes.
#[derive(Debug)]
pub struct Kwargs<'a> {
    id: &'a str,
    map: Option<&'a Map<String, Value>>,
}

impl<'a> Kwargs<'a> {
    /// Wraps `value` (an object, or `null` for "no kwargs"), rejecting any non-null kwarg that
    /// is not in `takes`.
    pub fn new(id: &'a str, value: &'a Value, takes: &[&str]) -> Result<Self, InstructionError> {
        let map = match value {
            Value::Null => None,
            Value::Object(map) => Some(map),
            other => {
                return Err(InstructionError::MalformedRow {
                    problem: format!(
                        "the kwargs of `{id}` must be a JSON object or null, not {}",
                        json_kind(other)
                    ),
                })
            }
        };
        if let Some(map) = map {
            for (name, value) in map {
                if !value.is_null() && !takes.contains(&name.as_str()) {
                    return Err(InstructionError::UnexpectedKwarg {
                        id: id.to_string(),
                        kwarg: name.clone(),
                        allowed: if takes.is_empty() {
                            "no kwargs".to_string()
                        } else {
                            takes
                                .iter()
                                .map(|t| format!("`{t}`"))
                                .collect::<Vec<_>>()
                                .join(", ")
                        },
                    });
                }
            }
        }
        Ok(Kwargs { id, map })
    }

    /// The instruction id these kwargs belong to.
    pub fn id(&self) -> &str {
        self.id
    }

    fn get(&self, name: &str) -> Option<&'a Value> {
        self.map
            .and_then(|map| map.get(name))
            .filter(|value| !value.is_null())
    }

    /// An error about kwarg `name`.
    pub fn bad(&self, name: &str, problem: impl Into<String>, allowed: &str) -> InstructionError {
        InstructionError::BadKwarg {
            id: self.id.to_string(),
            kwarg: name.to_string(),
            problem: problem.into(),
            allowed: allowed.to_string(),
        }
    }

    /// An optional integer (JSON integers, or floats with no fractional part).
    pub fn optional_int(&self, name: &str) -> Result<Option<i64>, InstructionError> {
        let Some(value) = self.get(name) else {
            return Ok(None);
        };
        let integer = value.as_i64().or_else(|| {
            value
                .as_f64()
                .filter(|f| f.fract() == 0.0 && f.abs() < 9.0e15)
                .map(|f| f as i64)
        });
        match integer {
            Some(n) => Ok(Some(n)),
            None => Err(self.bad(name, format!("is {value}"), "an integer")),
        }
    }

    /// A required integer of any sign.
    pub fn int(&self, name: &str) -> Result<i64, InstructionError> {
        self.optional_int(name)?
            .ok_or_else(|| self.bad(name, "is missing", "an integer"))
    }

    /// A required integer ≥ `min`.
    pub fn int_at_least(&self, name: &str, min: i64) -> Result<i64, InstructionError> {
        let allowed = format!("an integer >= {min}");
        match self.optional_int(name)? {
            None => Err(self.bad(name, "is missing", &allowed)),
            Some(n) if n < min => Err(self.bad(name, format!("is {n}"), &allowed)),
            Some(n) => Ok(n),
        }
    }

    /// An optional string.
    pub fn optional_string(&self, name: &str) -> Result<Option<&'a str>, InstructionError> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::String(text)) => Ok(Some(text)),
            Some(other) => Err(self.bad(name, format!("is {}", json_kind(other)), "a string")),
        }
    }

    /// A required string.
    pub fn string(&self, name: &str) -> Result<&'a str, InstructionError> {
        self.optional_string(name)?
            .ok_or_else(|| self.bad(name, "is missing", "a string"))
    }

    /// A required, non-empty list of strings.
    pub fn string_list(&self, name: &str) -> Result<Vec<&'a str>, InstructionError> {
        const ALLOWED: &str = "a non-empty list of strings";
        let Some(value) = self.get(name) else {
            return Err(self.bad(name, "is missing", ALLOWED));
        };
        let Value::Array(items) = value else {
            return Err(self.bad(name, format!("is {}", json_kind(value)), ALLOWED));
        };
        if items.is_empty() {
            return Err(self.bad(name, "is empty", ALLOWED));
        }
        items
            .iter()
            .map(|item| {
                item.as_str()
                    .ok_or_else(|| self.bad(name, format!("holds {}", json_kind(item)), ALLOWED))
            })
            .collect()
    }

    /// A required relation (`"less than"` / `"at least"`).
    pub fn relation(&self, name: &str) -> Result<Relation, InstructionError> {
        let text = self
            .optional_string(name)
            .map_err(|_| self.bad(name, "is not a string", Relation::ALLOWED))?
            .ok_or_else(|| self.bad(name, "is missing", Relation::ALLOWED))?;
        Relation::parse(text)
            .ok_or_else(|| self.bad(name, format!("is {text:?}"), Relation::ALLOWED))
    }
}

/// A short name for a JSON value's kind, for messages.
pub fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn nulls_mean_not_given_and_unknown_kwargs_are_rejected() {
        let value = json!({"num_words": 300, "relation": "at least", "keywords": null});
        let kwargs = Kwargs::new(
            "length_constraints:number_words",
            &value,
            &["num_words", "relation"],
        )
        .expect("valid");
        assert_eq!(kwargs.int("num_words"), Ok(300));
        assert_eq!(kwargs.relation("relation"), Ok(Relation::AtLeast));

        let value = json!({"num_words": 300, "keywords": ["x"]});
        let error = Kwargs::new(
            "length_constraints:number_words",
            &value,
            &["num_words", "relation"],
        )
        .expect_err("keywords is not taken");
        assert!(error.to_string().contains("`keywords`"), "{error}");
    }

    #[test]
    fn errors_name_the_kwarg_and_what_is_allowed() {
        let value = json!({"relation": "at most", "n": 2.5, "m": -1, "list": []});
        let kwargs = Kwargs::new("x", &value, &["relation", "n", "m", "list"]).expect("valid");
        let message = kwargs.relation("relation").expect_err("bad").to_string();
        assert!(
            message.contains("at most") && message.contains("less than"),
            "{message}"
        );
        assert!(kwargs.int("n").is_err());
        assert!(kwargs
            .int_at_least("m", 0)
            .expect_err("negative")
            .to_string()
            .contains(">= 0"));
        assert!(kwargs.string_list("list").is_err());
        assert!(kwargs
            .int("absent")
            .expect_err("missing")
            .to_string()
            .contains("is missing"));
        assert_eq!(
            Kwargs::new("x", &json!({"n": 3.0}), &["n"])
                .expect("valid")
                .int("n"),
            Ok(3)
        );
    }

    #[test]
    fn non_object_kwargs_are_a_malformed_row() {
        assert!(matches!(
            Kwargs::new("x", &json!([1]), &[]),
            Err(InstructionError::MalformedRow { .. })
        ));
        assert!(Kwargs::new("x", &Value::Null, &[]).is_ok());
    }
}
