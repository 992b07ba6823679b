//! The parsed form of an answer: scalar expressions and the structures built from them.

use num_rational::BigRational;

/// Comparison operators of a relation (`x = 5`, `0 < x \le 3`, `x \in [1, 2]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RelationOp {
    Equal,
    NotEqual,
    Less,
    LessEqual,
    Greater,
    GreaterEqual,
    ElementOf,
    /// `\approx`: what follows is an approximation, never the answer.
    Approx,
}

impl RelationOp {
    /// The operator seen from the other side: `a < b` is `b > a`.
    pub(crate) fn flipped(self) -> Self {
        match self {
            RelationOp::Less => RelationOp::Greater,
            RelationOp::LessEqual => RelationOp::GreaterEqual,
            RelationOp::Greater => RelationOp::Less,
            RelationOp::GreaterEqual => RelationOp::LessEqual,
            other => other,
        }
    }
}

/// Named constants with a fixed meaning.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Constant {
    Pi,
    /// Euler's number, written `e` (or `\exp`).
    E,
    /// `i`, with `i^2 = -1`.
    ImaginaryUnit,
    Infinity,
}

/// Functions the parser knows by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Function {
    Sin,
    Cos,
    Tan,
    Cot,
    Sec,
    Csc,
    Arcsin,
    Arccos,
    Arctan,
    Sinh,
    Cosh,
    Tanh,
    /// Natural logarithm (`\ln`, and `\log` without a base).
    Ln,
    /// `\log_b x`: arguments `[x, b]`.
    LogBase,
    Abs,
    Floor,
    Ceil,
}

impl Function {
    pub(crate) fn from_command(name: &str) -> Option<Self> {
        Some(match name {
            "sin" => Function::Sin,
            "cos" => Function::Cos,
            "tan" | "tg" => Function::Tan,
            "cot" | "ctg" => Function::Cot,
            "sec" => Function::Sec,
            "csc" | "cosec" => Function::Csc,
            "arcsin" | "asin" => Function::Arcsin,
            "arccos" | "acos" => Function::Arccos,
            "arctan" | "atan" => Function::Arctan,
            "sinh" => Function::Sinh,
            "cosh" => Function::Cosh,
            "tanh" => Function::Tanh,
            "ln" | "log" => Function::Ln,
            _ => return None,
        })
    }

    pub(crate) fn name(self) -> &'static str {
        match self {
            Function::Sin => "sin",
            Function::Cos => "cos",
            Function::Tan => "tan",
            Function::Cot => "cot",
            Function::Sec => "sec",
            Function::Csc => "csc",
            Function::Arcsin => "arcsin",
            Function::Arccos => "arccos",
            Function::Arctan => "arctan",
            Function::Sinh => "sinh",
            Function::Cosh => "cosh",
            Function::Tanh => "tanh",
            Function::Ln => "ln",
            Function::LogBase => "log",
            Function::Abs => "abs",
            Function::Floor => "floor",
            Function::Ceil => "ceil",
        }
    }
}

/// One parsed answer or sub-expression.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Node {
    /// An exact number: integers, decimals, repeating decimals, mixed numbers.
    Number(BigRational),
    /// A variable: `x`, `x_1`, `theta`, `A'`.
    Symbol(String),
    Constant(Constant),
    Sum(Vec<Node>),
    Negate(Box<Node>),
    /// `a \pm b`; a leading `\pm b` is `0 \pm b`.
    PlusMinus(Box<Node>, Box<Node>),
    Product(Vec<Node>),
    Quotient(Box<Node>, Box<Node>),
    Power(Box<Node>, Box<Node>),
    Apply(Function, Vec<Node>),
    Factorial(Box<Node>),
    Binomial(Box<Node>, Box<Node>),
    /// A numeral in another base, `204_5`: compared by digits and base, never by value, because
    /// the question asked for that base.
    BaseNumeral {
        digits: String,
        base: String,
    },
    /// Ordered: a point, a vector or an interval. `(a, b)`, `[a, b]`, `(a, b]`, `[a, b)`.
    Tuple {
        items: Vec<Node>,
        left_closed: bool,
        right_closed: bool,
    },
    /// `\{a, b\}`: unordered.
    Set(Vec<Node>),
    /// A bare comma-separated list `a, b` (all solutions): unordered.
    List(Vec<Node>),
    /// `A \cup B`: unordered.
    Union(Vec<Node>),
    Matrix(Vec<Vec<Node>>),
    /// `sides[0] ops[0] sides[1] ops[1] …`.
    Relation {
        sides: Vec<Node>,
        ops: Vec<RelationOp>,
    },
}

impl Node {
    pub(crate) fn is_scalar(&self) -> bool {
        matches!(
            self,
            Node::Number(_)
                | Node::Symbol(_)
                | Node::Constant(_)
                | Node::Sum(_)
                | Node::Negate(_)
                | Node::PlusMinus(..)
                | Node::Product(_)
                | Node::Quotient(..)
                | Node::Power(..)
                | Node::Apply(..)
                | Node::Factorial(_)
                | Node::Binomial(..)
        )
    }
}
