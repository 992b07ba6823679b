//! The types a recipe's values have. Artifacts (datasets, models, reports) are produced by nodes;
//! everything else is a value known when the recipe is checked.

use std::fmt;

/// The row schema of a dataset: what each row holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Schema {
    /// `{"messages": [{"role", "content"}, …]}` (tulu-3-sft-mixture)
    Chat,
    /// `{"prompt" | "messages", "chosen", "rejected"}`
    Pref,
    /// `{"prompt", "ground_truth", "dataset"}`: a prompt with a verifiable answer
    Prompt,
    /// `{"text"}`
    Text,
}

impl Schema {
    pub const ALL: [Schema; 4] = [Schema::Chat, Schema::Pref, Schema::Prompt, Schema::Text];

    pub fn name(self) -> &'static str {
        match self {
            Schema::Chat => "Chat",
            Schema::Pref => "Pref",
            Schema::Prompt => "Prompt",
            Schema::Text => "Text",
        }
    }

    /// The lower-case spelling used in op params (`schema: "chat"`) and artifacts.
    pub fn key(self) -> &'static str {
        match self {
            Schema::Chat => "chat",
            Schema::Pref => "pref",
            Schema::Prompt => "prompt",
            Schema::Text => "text",
        }
    }

    pub fn from_name(name: &str) -> Option<Schema> {
        Schema::ALL
            .into_iter()
            .find(|s| s.name() == name || s.key() == name)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Type {
    Int,
    Float,
    Str,
    Bool,
    List(Box<Type>),
    Tuple(Vec<Type>),
    /// Fields in declaration order.
    Record(Vec<(String, Type)>),
    /// A dataset whose rows follow `schema`; `None` accepts any schema (in a signature) or means
    /// "not known" (an empty list's element).
    Dataset(Option<Schema>),
    Model,
    Report,
    /// A file (or directory) the op reads, written as a path relative to the recipe (or
    /// `asset:<package>/<path>` for a fetched asset). Its content, not its path, goes into the
    /// cache key; a directory's content is every file in it, by relative path.
    File,
    /// A value built by a constructor such as `llama(…)`, `grpo(…)` or `verifier.math`; the
    /// string names its kind (`Arch`, `Algo`, `Verifier`, `Schedule`, …).
    Value(&'static str),
    /// Int or Float; used where an int means a count and a float a fraction.
    Number,
    /// Any literal value (strings, numbers, booleans, lists and records of them).
    Literal,
    /// The type of `[]` before anything tells what it holds.
    Unknown,
}

impl Type {
    pub fn list(t: Type) -> Type {
        Type::List(Box::new(t))
    }

    /// Whether a value of type `self` may be passed where `expected` is declared.
    pub fn fits(&self, expected: &Type) -> bool {
        use Type::*;
        match (self, expected) {
            (Unknown, _) => true,
            (Int, Float) | (Int, Number) | (Float, Number) | (Str, File) => true,
            (t, Literal) => t.is_literal(),
            (Dataset(_), Dataset(None)) => true,
            (Dataset(None), Dataset(Some(_))) => true,
            (Dataset(Some(a)), Dataset(Some(b))) => a == b,
            (List(a), List(b)) => a.fits(b),
            (Tuple(a), Tuple(b)) => a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.fits(y)),
            (Record(a), Record(b)) => b.iter().all(|(name, bt)| {
                a.iter()
                    .find(|(n, _)| n == name)
                    .is_some_and(|(_, at)| at.fits(bt))
            }),
            (Value(a), Value(b)) => a == b,
            (a, b) => a == b,
        }
    }

    /// True for values that are plain data (no artifacts, no constructed values).
    pub fn is_literal(&self) -> bool {
        use Type::*;
        match self {
            Int | Float | Str | Bool | Number | Literal | Unknown => true,
            List(t) => t.is_literal(),
            Tuple(ts) => ts.iter().all(Type::is_literal),
            Record(fs) => fs.iter().all(|(_, t)| t.is_literal()),
            _ => false,
        }
    }

    /// The smallest type both fit into, for list elements.
    pub fn join(&self, other: &Type) -> Option<Type> {
        use Type::*;
        if self.fits(other) {
            return Some(match (self, other) {
                (Unknown, t) | (t, Unknown) => t.clone(),
                _ => other.clone(),
            });
        }
        if other.fits(self) {
            return Some(self.clone());
        }
        match (self, other) {
            (Dataset(_), Dataset(_)) => Some(Dataset(None)),
            (Tuple(a), Tuple(b)) if a.len() == b.len() => a
                .iter()
                .zip(b)
                .map(|(x, y)| x.join(y))
                .collect::<Option<Vec<_>>>()
                .map(Tuple),
            (List(a), List(b)) => a.join(b).map(Type::list),
            _ => None,
        }
    }
}

impl fmt::Display for Type {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use Type::*;
        match self {
            Int => f.write_str("Int"),
            Float => f.write_str("Float"),
            Str => f.write_str("Str"),
            Bool => f.write_str("Bool"),
            List(t) => write!(f, "List<{t}>"),
            Tuple(ts) => {
                f.write_str("(")?;
                for (i, t) in ts.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{t}")?;
                }
                f.write_str(")")
            }
            Record(fs) => {
                f.write_str("{")?;
                for (i, (n, t)) in fs.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{n}: {t}")?;
                }
                f.write_str("}")
            }
            Dataset(Some(s)) => write!(f, "Dataset<{}>", s.name()),
            Dataset(None) => f.write_str("Dataset"),
            Model => f.write_str("Model"),
            File => f.write_str("File"),
            Report => f.write_str("Report"),
            Value(kind) => f.write_str(kind),
            Number => f.write_str("Int or Float"),
            Literal => f.write_str("a literal value"),
            Unknown => f.write_str("?"),
        }
    }
}

/// Names of the types a recipe can write in `param x: T` and `def f(x: T)`.
pub const TYPE_NAMES: &[&str] = &[
    "Int", "Float", "Str", "Bool", "List", "Record", "Dataset", "Model", "Report", "Verifier",
    "Algo", "Arch", "Schedule", "Judge",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn datasets_fit_generic_and_exact_schemas() {
        let chat = Type::Dataset(Some(Schema::Chat));
        assert!(chat.fits(&Type::Dataset(None)));
        assert!(!chat.fits(&Type::Dataset(Some(Schema::Pref))));
        assert!(Type::Int.fits(&Type::Float));
        assert!(!Type::Float.fits(&Type::Int));
        assert!(Type::list(Type::Int).fits(&Type::Literal));
        assert!(!Type::Model.fits(&Type::Literal));
    }

    #[test]
    fn join_widens_numbers_and_schemas() {
        assert_eq!(Type::Int.join(&Type::Float), Some(Type::Float));
        assert_eq!(
            Type::Dataset(Some(Schema::Chat)).join(&Type::Dataset(Some(Schema::Text))),
            Some(Type::Dataset(None))
        );
        assert_eq!(Type::Str.join(&Type::Int), None);
    }
}
