//! What the checker knows about an op or a constructor: its params with types, defaults and
//! allowed ranges, and how its output type follows from its arguments. The op registry (in
//! `ops/`) provides these through [`Catalog`]; the checker never sees how an op executes.

use std::path::Path;

use super::types::Type;
use super::value::Value;

/// A param's default.
#[derive(Debug, Clone, PartialEq)]
pub enum Default {
    /// The caller must give it.
    Required,
    /// Absent unless given; the op sees JSON `null`.
    Absent,
    Value(Value),
}

/// Extra constraints on a param's value, checked before anything runs.
#[derive(Debug, Clone, PartialEq)]
pub enum Constraint {
    /// A number in a range; `None` bounds are open-ended.
    Range {
        min: Option<f64>,
        max: Option<f64>,
        min_exclusive: bool,
        max_exclusive: bool,
    },
    /// A string from a fixed set.
    OneOf(&'static [&'static str]),
}

impl Constraint {
    pub const POSITIVE: Constraint = Constraint::Range {
        min: Some(0.0),
        max: None,
        min_exclusive: true,
        max_exclusive: false,
    };
    pub const NON_NEGATIVE: Constraint = Constraint::Range {
        min: Some(0.0),
        max: None,
        min_exclusive: false,
        max_exclusive: false,
    };
    pub const UNIT: Constraint = Constraint::Range {
        min: Some(0.0),
        max: Some(1.0),
        min_exclusive: false,
        max_exclusive: false,
    };

    pub fn between(min: f64, max: f64) -> Constraint {
        Constraint::Range {
            min: Some(min),
            max: Some(max),
            min_exclusive: false,
            max_exclusive: false,
        }
    }

    /// `Err(message)` when `value` breaks the constraint. Lists are checked element-wise.
    pub fn check(&self, value: &Value) -> Result<(), String> {
        match (self, value) {
            (_, Value::List(items)) => items.iter().try_for_each(|v| self.check(v)),
            (
                Constraint::Range {
                    min,
                    max,
                    min_exclusive,
                    max_exclusive,
                },
                Value::Int(_) | Value::Float(_),
            ) => {
                let x = match value {
                    Value::Int(i) => *i as f64,
                    Value::Float(f) => *f,
                    _ => unreachable!(),
                };
                let below = min.is_some_and(|m| if *min_exclusive { x <= m } else { x < m });
                let above = max.is_some_and(|m| if *max_exclusive { x >= m } else { x > m });
                if below || above {
                    Err(format!(
                        "must be {}, got {}",
                        self.describe(),
                        value.describe()
                    ))
                } else {
                    Ok(())
                }
            }
            (Constraint::OneOf(options), Value::Str(s)) => {
                if options.contains(&s.as_str()) {
                    Ok(())
                } else {
                    Err(format!(
                        "must be {}, got {}",
                        self.describe(),
                        value.describe()
                    ))
                }
            }
            _ => Ok(()),
        }
    }

    pub fn describe(&self) -> String {
        match self {
            Constraint::Range {
                min,
                max,
                min_exclusive,
                max_exclusive,
            } => match (min, max) {
                (Some(lo), Some(hi)) => {
                    let l = if *min_exclusive { "(" } else { "[" };
                    let r = if *max_exclusive { ")" } else { "]" };
                    format!("in {l}{}, {}{r}", num(*lo), num(*hi))
                }
                (Some(lo), None) => {
                    if *min_exclusive {
                        format!("greater than {}", num(*lo))
                    } else {
                        format!("at least {}", num(*lo))
                    }
                }
                (None, Some(hi)) => {
                    if *max_exclusive {
                        format!("less than {}", num(*hi))
                    } else {
                        format!("at most {}", num(*hi))
                    }
                }
                (None, None) => "a number".into(),
            },
            Constraint::OneOf(options) => {
                let quoted: Vec<String> = options.iter().map(|o| format!("\"{o}\"")).collect();
                format!("one of {}", quoted.join(", "))
            }
        }
    }
}

fn num(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e15 {
        format!("{}", x as i64)
    } else {
        format!("{x}")
    }
}

#[derive(Debug, Clone)]
pub struct ParamSpec {
    pub name: &'static str,
    pub ty: Type,
    pub default: Default,
    pub constraint: Option<Constraint>,
    pub doc: &'static str,
}

impl ParamSpec {
    pub fn required(name: &'static str, ty: Type, doc: &'static str) -> ParamSpec {
        ParamSpec {
            name,
            ty,
            default: Default::Required,
            constraint: None,
            doc,
        }
    }

    pub fn optional(name: &'static str, ty: Type, doc: &'static str) -> ParamSpec {
        ParamSpec {
            default: Default::Absent,
            ..ParamSpec::required(name, ty, doc)
        }
    }

    pub fn with_default(
        name: &'static str,
        ty: Type,
        default: Value,
        doc: &'static str,
    ) -> ParamSpec {
        ParamSpec {
            default: Default::Value(default),
            ..ParamSpec::required(name, ty, doc)
        }
    }

    pub fn constrained(mut self, constraint: Constraint) -> ParamSpec {
        self.constraint = Some(constraint);
        self
    }
}

/// Where the checker is, for ops whose output type depends on files (`load` sniffs a schema).
pub struct CheckEnv<'a> {
    /// The directory of the file being checked; relative paths resolve against it.
    pub base_dir: &'a Path,
}

/// The arguments of one call after defaults: one entry per param, in signature order, `None` for
/// an absent optional param.
pub type Args = [(&'static str, Option<Value>)];

/// Finds an argument by name.
pub fn arg<'a>(args: &'a Args, name: &str) -> Option<&'a Value> {
    args.iter()
        .find(|(n, _)| *n == name)
        .and_then(|(_, v)| v.as_ref())
}

/// A problem with a call that only the op can judge (a missing file, an inconsistent pair of
/// params). `param` names the argument to point at, if any.
#[derive(Debug, Clone, PartialEq)]
pub struct ArgProblem {
    pub param: Option<&'static str>,
    pub message: String,
    pub help: Option<String>,
}

impl ArgProblem {
    pub fn at(param: &'static str, message: impl Into<String>) -> ArgProblem {
        ArgProblem {
            param: Some(param),
            message: message.into(),
            help: None,
        }
    }

    pub fn call(message: impl Into<String>) -> ArgProblem {
        ArgProblem {
            param: None,
            message: message.into(),
            help: None,
        }
    }

    pub fn with_help(mut self, help: impl Into<String>) -> ArgProblem {
        self.help = Some(help.into());
        self
    }
}

/// Computes the output type from the arguments, or reports what is wrong with them.
pub type OutputFn = fn(&Args, &CheckEnv) -> Result<Type, ArgProblem>;

/// Fills params whose default depends on other arguments (`load`'s `name` defaults to the file's
/// stem), so that the cache key holds the value the op will use.
pub type CompleteFn = fn(&mut [(&'static str, Option<Value>)]);

/// The checker's view of an op.
#[derive(Debug, Clone)]
pub struct OpSignature {
    pub name: &'static str,
    pub version: u32,
    pub doc: &'static str,
    pub params: Vec<ParamSpec>,
    pub output: OutputFn,
    pub complete: Option<CompleteFn>,
}

/// Cross-param checks of a constructor's arguments.
pub type ValidateFn = fn(&Args) -> Result<(), ArgProblem>;

/// A constructor of values (`llama(…)`, `grpo(…)`, `verifier.math`): checked like an op, but it
/// makes a value, not a node.
#[derive(Debug, Clone)]
pub struct CtorSignature {
    pub name: &'static str,
    pub kind: &'static str,
    pub doc: &'static str,
    pub params: Vec<ParamSpec>,
    /// Cross-param checks, if any.
    pub validate: Option<ValidateFn>,
}

/// Everything callable that is built in.
pub trait Catalog: Sync {
    fn op(&self, name: &str) -> Option<&OpSignature>;
    fn ctor(&self, name: &str) -> Option<&CtorSignature>;
    /// All op and constructor names, for "did you mean" hints.
    fn names(&self) -> Vec<&'static str>;
}

/// Same-typed lists of datasets share a schema: the element type of a list argument.
pub fn list_element_type(value: &Value) -> Type {
    match value.type_of() {
        Type::List(elem) => *elem,
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn range_constraints_describe_themselves() {
        let c = Constraint::UNIT;
        assert!(c.check(&Value::Float(0.5)).is_ok());
        assert_eq!(
            c.check(&Value::Float(1.5)).unwrap_err(),
            "must be in [0, 1], got 1.5"
        );
        assert_eq!(
            Constraint::POSITIVE.check(&Value::Int(0)).unwrap_err(),
            "must be greater than 0, got 0"
        );
        let one_of = Constraint::OneOf(&["dpo", "simpo"]);
        assert_eq!(
            one_of.check(&Value::Str("ipo".into())).unwrap_err(),
            "must be one of \"dpo\", \"simpo\", got \"ipo\""
        );
    }
}
