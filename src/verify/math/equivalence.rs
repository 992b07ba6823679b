//! Deciding whether two answers are the same: strings first, then structure, then values.
//!
//! 1. The normalized strings are equal (Hendrycks `is_equiv`), or both are plain words equal up
//!    to case.
//! 2. Otherwise both are parsed and compared structurally: tuples and intervals element-wise
//!    with matching bracket types (open and closed ends differ), sets, bare comma lists, unions
//!    and `\pm` alternatives as multisets, matrices element-wise (a column or row vector also
//!    matches a parenthesized tuple), numerals in another base by digits and base.
//!    Relations: a candidate `x = 5` (any chain of `=`) is judged by its last side, as Minerva's
//!    `split("=")[-1]` does; a gold `y = 2x + 3` whose left side is a bare name is judged by its
//!    right side (Hendrycks strips a short left side); two equations match when their sides
//!    differences are proportional; inequalities side by side (or mirrored).
//! 3. Scalars compare by exact value (see [`super::exact`]). Only when the exact algebra cannot
//!    decide — an opaque function, a nested radical, a size limit — and neither answer is
//!    written with a decimal point, the numeric fallback decides (see [`super::numeric`]).
//!    Decimals are exact: `0.333` is not `\frac13`, as in open-instruct (sympy `simplify`).

use std::borrow::Cow;
use std::sync::LazyLock;

use regex::Regex;

use super::ast::{Constant, Node, RelationOp};
use super::budget::{Budget, MAX_NORMALIZED_ANSWER_BYTES, MAX_PARSED_ANSWER_BYTES};
use super::exact::{exact_value, ExactError};
use super::normalize::{is_plain_word, normalize_answer};
use super::numeric::numerically_equal;
use super::parser::parse_answer;

/// Most `\pm` signs expanded in one expression (2^6 alternatives).
const MAX_PLUS_MINUS: usize = 6;

/// An answer normalized and parsed once, so a gold answer can be compared with many responses.
#[derive(Debug, Clone)]
pub(crate) struct PreparedAnswer {
    pub(crate) normalized: String,
    parsed: Option<Node>,
    /// Written with a decimal point: never compared by the numeric fallback.
    has_decimal_point: bool,
}

static DECIMAL_POINT: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"[0-9]\.[0-9]").expect("static regex"));

impl PreparedAnswer {
    pub(crate) fn new(raw: &str) -> Self {
        let normalized = match raw.len() > MAX_NORMALIZED_ANSWER_BYTES {
            true => raw.trim().to_string(),
            false => normalize_answer(raw),
        };
        let parsed = match normalized.is_empty() || normalized.len() > MAX_PARSED_ANSWER_BYTES {
            true => None,
            false => parse_answer(&normalized, &mut Budget::per_comparison()).ok(),
        };
        let has_decimal_point = DECIMAL_POINT.is_match(&normalized);
        Self {
            normalized,
            parsed,
            has_decimal_point,
        }
    }
}

/// Whether a candidate answer equals a gold answer.
pub(crate) fn prepared_answers_match(candidate: &PreparedAnswer, gold: &PreparedAnswer) -> bool {
    let (left, right) = (&candidate.normalized, &gold.normalized);
    if left.is_empty() || right.is_empty() {
        return false;
    }
    if left == right {
        return true;
    }
    if is_plain_word(left) && is_plain_word(right) && left.to_lowercase() == right.to_lowercase() {
        return true;
    }
    let (Some(candidate_node), Some(gold_node)) = (&candidate.parsed, &gold.parsed) else {
        return false;
    };
    let mut comparison = Comparison {
        budget: Budget::per_comparison(),
        numeric_fallback: !candidate.has_decimal_point && !gold.has_decimal_point,
    };
    comparison.nodes_match(candidate_node, gold_node)
}

struct Comparison {
    budget: Budget,
    numeric_fallback: bool,
}

/// A bare name on the left of a gold equation: `x`, `y_1`, `AB`, `f(x)`.
fn is_simple_name(node: &Node) -> bool {
    match node {
        Node::Symbol(_) => true,
        Node::Product(factors) => {
            factors.len() <= 3 && factors.iter().all(|f| matches!(f, Node::Symbol(_)))
        }
        _ => false,
    }
}

/// The value a chain of `=` (or `\in`) arrives at: its last side, or the last side before
/// an `\approx` (`x = 1/3 \approx 0.33` is 1/3), as Minerva's `split("=")[-1]`.
fn chain_value(node: &Node) -> Option<&Node> {
    let Node::Relation { sides, ops } = node else {
        return None;
    };
    let exact_ops = ops
        .iter()
        .position(|op| *op == RelationOp::Approx)
        .unwrap_or(ops.len());
    let assigns = ops[..exact_ops]
        .iter()
        .all(|op| matches!(op, RelationOp::Equal | RelationOp::ElementOf));
    (assigns && exact_ops > 0).then(|| &sides[exact_ops])
}

/// The value of `name = … = value` (or `name \in set`) when the left side is a bare name.
fn assigned_value(node: &Node) -> Option<&Node> {
    let Node::Relation { sides, .. } = node else {
        return None;
    };
    sides.first().filter(|side| is_simple_name(side))?;
    chain_value(node)
}

fn negative_infinity() -> Node {
    Node::Negate(Box::new(Node::Constant(Constant::Infinity)))
}

fn interval(low: Node, high: Node, left_closed: bool, right_closed: bool) -> Node {
    Node::Tuple {
        items: vec![low, high],
        left_closed,
        right_closed,
    }
}

/// Inequalities on one name as interval membership: `-2 \le x < 7` is `x \in [-2, 7)`,
/// `x > 3` is `x \in (3, \infty)`. Other nodes are returned unchanged.
fn interval_form(node: &Node) -> Cow<'_, Node> {
    use RelationOp::{Greater, GreaterEqual, Less, LessEqual};
    let Node::Relation { sides, ops } = node else {
        return Cow::Borrowed(node);
    };
    let member = |name: &Node, set: Node| {
        Cow::Owned(Node::Relation {
            sides: vec![name.clone(), set],
            ops: vec![RelationOp::ElementOf],
        })
    };
    let infinity = || Node::Constant(Constant::Infinity);
    match (sides.as_slice(), ops.as_slice()) {
        ([low, name, high], [first, second])
            if is_simple_name(name)
                && matches!(first, Less | LessEqual)
                && matches!(second, Less | LessEqual) =>
        {
            let set = interval(
                low.clone(),
                high.clone(),
                *first == LessEqual,
                *second == LessEqual,
            );
            member(name, set)
        }
        ([high, name, low], [first, second])
            if is_simple_name(name)
                && matches!(first, Greater | GreaterEqual)
                && matches!(second, Greater | GreaterEqual) =>
        {
            let set = interval(
                low.clone(),
                high.clone(),
                *second == GreaterEqual,
                *first == GreaterEqual,
            );
            member(name, set)
        }
        ([left, right], [op]) if matches!(op, Less | LessEqual | Greater | GreaterEqual) => {
            let (name, bound, op) = match (is_simple_name(left), is_simple_name(right)) {
                (true, _) => (left, right, *op),
                (false, true) => (right, left, op.flipped()),
                _ => return Cow::Borrowed(node),
            };
            let set = match op {
                Less => interval(negative_infinity(), bound.clone(), false, false),
                LessEqual => interval(negative_infinity(), bound.clone(), false, true),
                Greater => interval(bound.clone(), infinity(), false, false),
                _ => interval(bound.clone(), infinity(), true, false),
            };
            member(name, set)
        }
        _ => Cow::Borrowed(node),
    }
}

fn count_plus_minus(node: &Node) -> usize {
    match node {
        Node::PlusMinus(a, b) => 1 + count_plus_minus(a) + count_plus_minus(b),
        Node::Sum(items) | Node::Product(items) | Node::Apply(_, items) => {
            items.iter().map(count_plus_minus).sum()
        }
        Node::Negate(inner) | Node::Factorial(inner) => count_plus_minus(inner),
        Node::Quotient(a, b) | Node::Power(a, b) | Node::Binomial(a, b) => {
            count_plus_minus(a) + count_plus_minus(b)
        }
        _ => 0,
    }
}

/// Every combination of signs of the `\pm` in `items`, each combined by `build`.
fn combinations(items: &[Node], build: &dyn Fn(Vec<Node>) -> Node) -> Vec<Node> {
    let mut partial: Vec<Vec<Node>> = vec![Vec::new()];
    for item in items {
        let choices = sign_alternatives(item);
        partial = partial
            .into_iter()
            .flat_map(|prefix| {
                choices.iter().map(move |choice| {
                    let mut next = prefix.clone();
                    next.push(choice.clone());
                    next
                })
            })
            .collect();
    }
    partial.into_iter().map(build).collect()
}

/// The values a scalar with `\pm` stands for: `1 \pm \sqrt{19}` → `1 + \sqrt{19}`,
/// `1 - \sqrt{19}`.
fn sign_alternatives(node: &Node) -> Vec<Node> {
    let pair = |a: &Node, b: &Node| [a.clone(), b.clone()];
    match node {
        Node::PlusMinus(a, b) => combinations(&pair(a, b), &|mut v| {
            let b = v.pop().expect("two items");
            let a = v.pop().expect("two items");
            Node::List(vec![
                Node::Sum(vec![a.clone(), b.clone()]),
                Node::Sum(vec![a, Node::Negate(Box::new(b))]),
            ])
        })
        .into_iter()
        .flat_map(|both| match both {
            Node::List(items) => items,
            other => vec![other],
        })
        .collect(),
        Node::Sum(items) => combinations(items, &Node::Sum),
        Node::Product(items) => combinations(items, &Node::Product),
        Node::Apply(function, items) => {
            let function = *function;
            combinations(items, &move |v| Node::Apply(function, v))
        }
        Node::Negate(inner) => sign_alternatives(inner)
            .into_iter()
            .map(|n| Node::Negate(Box::new(n)))
            .collect(),
        Node::Factorial(inner) => sign_alternatives(inner)
            .into_iter()
            .map(|n| Node::Factorial(Box::new(n)))
            .collect(),
        Node::Quotient(a, b) => combinations(&pair(a, b), &|mut v| {
            let b = v.pop().expect("two items");
            Node::Quotient(Box::new(v.pop().expect("two items")), Box::new(b))
        }),
        Node::Power(a, b) => combinations(&pair(a, b), &|mut v| {
            let b = v.pop().expect("two items");
            Node::Power(Box::new(v.pop().expect("two items")), Box::new(b))
        }),
        Node::Binomial(a, b) => combinations(&pair(a, b), &|mut v| {
            let b = v.pop().expect("two items");
            Node::Binomial(Box::new(v.pop().expect("two items")), Box::new(b))
        }),
        other => vec![other.clone()],
    }
}

/// Replaces `\pm` by the set of alternatives, inside sets and lists too. `None` when there are
/// too many to expand.
fn expand_plus_minus(node: &Node) -> Option<Node> {
    let expand_items = |items: &[Node]| -> Option<Vec<Node>> {
        let mut expanded = Vec::new();
        for item in items {
            match count_plus_minus(item) {
                0 => expanded.push(item.clone()),
                n if n <= MAX_PLUS_MINUS => expanded.extend(sign_alternatives(item)),
                _ => return None,
            }
        }
        Some(expanded)
    };
    match node {
        Node::Set(items) => Some(Node::Set(expand_items(items)?)),
        Node::List(items) => Some(Node::List(expand_items(items)?)),
        scalar if count_plus_minus(scalar) > 0 => {
            Some(Node::Set(expand_items(std::slice::from_ref(scalar))?))
        }
        other => Some(other.clone()),
    }
}

fn strip_leading_zeros(digits: &str) -> &str {
    let stripped = digits.trim_start_matches('0');
    match stripped.is_empty() {
        true => "0",
        false => stripped,
    }
}

/// The entries of a matrix with one row or one column.
fn vector_entries(rows: &[Vec<Node>]) -> Option<Vec<&Node>> {
    match rows {
        [row] => Some(row.iter().collect()),
        _ if rows.iter().all(|row| row.len() == 1) => {
            Some(rows.iter().map(|row| &row[0]).collect())
        }
        _ => None,
    }
}

impl Comparison {
    fn nodes_match(&mut self, candidate: &Node, gold: &Node) -> bool {
        if self.budget.spend(1).is_err() {
            return false;
        }
        if matches!(candidate, Node::Relation { .. })
            && matches!(gold, Node::Relation { .. })
            && self.relations_match(candidate, gold)
        {
            return true;
        }
        let candidate = interval_form(candidate);
        let gold = interval_form(gold);
        match (candidate.as_ref(), gold.as_ref()) {
            (Node::Relation { .. }, Node::Relation { .. }) => {
                // Both give a value to a name: `z = 3 + 3 = 6` and `z = 6`. The names need not
                // agree, as Hendrycks and Minerva drop a short left side on both answers.
                match (assigned_value(&candidate), assigned_value(&gold)) {
                    (Some(value), Some(gold_value)) => self.nodes_match(value, gold_value),
                    _ => false,
                }
            }
            (Node::Relation { .. }, _) => match chain_value(&candidate) {
                Some(value) => self.nodes_match(value, &gold),
                None => false,
            },
            (_, Node::Relation { .. }) => match assigned_value(&gold) {
                Some(value) => self.nodes_match(&candidate, value),
                None => false,
            },
            _ => self.values_match(&candidate, &gold),
        }
    }

    /// Relations of the same shape: equations with proportional sides, or the same operators
    /// with matching sides (also mirrored: `x > 3` is `3 < x`).
    fn relations_match(&mut self, candidate: &Node, gold: &Node) -> bool {
        let (
            Node::Relation {
                sides: candidate_sides,
                ops: candidate_ops,
            },
            Node::Relation {
                sides: gold_sides,
                ops: gold_ops,
            },
        ) = (candidate, gold)
        else {
            return false;
        };
        if candidate_ops == gold_ops
            && *candidate_ops == [RelationOp::Equal]
            && self.equations_proportional(candidate_sides, gold_sides)
        {
            return true;
        }
        if candidate_ops == gold_ops
            && candidate_sides
                .iter()
                .zip(gold_sides)
                .all(|(c, g)| self.values_match(c, g))
        {
            return true;
        }
        let mirrored: Vec<RelationOp> = gold_ops.iter().rev().map(|op| op.flipped()).collect();
        *candidate_ops == mirrored
            && candidate_sides
                .iter()
                .zip(gold_sides.iter().rev())
                .all(|(c, g)| self.values_match(c, g))
    }

    /// `l₁ = r₁` and `l₂ = r₂` with `l₁ − r₁ = k (l₂ − r₂)` for a rational `k ≠ 0`.
    fn equations_proportional(&mut self, candidate: &[Node], gold: &[Node]) -> bool {
        let difference = |sides: &[Node]| {
            Node::Sum(vec![
                sides[0].clone(),
                Node::Negate(Box::new(sides[1].clone())),
            ])
        };
        let (Ok((left, _)), Ok((right, _))) = (
            exact_value(&difference(candidate), &mut self.budget),
            exact_value(&difference(gold), &mut self.budget),
        ) else {
            return false;
        };
        left.proportional_to(&right, &mut self.budget)
            .unwrap_or(false)
    }

    fn values_match(&mut self, candidate: &Node, gold: &Node) -> bool {
        if self.budget.spend(1).is_err() {
            return false;
        }
        let (Some(candidate), Some(gold)) = (expand_plus_minus(candidate), expand_plus_minus(gold))
        else {
            return false;
        };
        match (&candidate, &gold) {
            (Node::Set(a) | Node::List(a), Node::Set(b) | Node::List(b)) => {
                self.multiset_match(a, b)
            }
            (Node::Union(a), Node::Union(b)) => self.multiset_match(a, b),
            (
                Node::Tuple {
                    items: a,
                    left_closed: a_left,
                    right_closed: a_right,
                },
                Node::Tuple {
                    items: b,
                    left_closed: b_left,
                    right_closed: b_right,
                },
            ) => {
                a_left == b_left
                    && a_right == b_right
                    && a.len() == b.len()
                    && a.iter().zip(b).all(|(x, y)| self.nodes_match(x, y))
            }
            (Node::Matrix(a), Node::Matrix(b)) => {
                a.len() == b.len()
                    && a.iter().zip(b).all(|(row_a, row_b)| {
                        row_a.len() == row_b.len()
                            && row_a.iter().zip(row_b).all(|(x, y)| self.nodes_match(x, y))
                    })
            }
            (
                Node::Matrix(rows),
                Node::Tuple {
                    items,
                    left_closed: false,
                    right_closed: false,
                },
            ) => self.vector_matches_tuple(rows, items, false),
            (
                Node::Tuple {
                    items,
                    left_closed: false,
                    right_closed: false,
                },
                Node::Matrix(rows),
            ) => self.vector_matches_tuple(rows, items, true),
            (
                Node::BaseNumeral {
                    digits: a,
                    base: a_base,
                },
                Node::BaseNumeral {
                    digits: b,
                    base: b_base,
                },
            ) => {
                a_base.trim() == b_base.trim()
                    && strip_leading_zeros(a).eq_ignore_ascii_case(strip_leading_zeros(b))
            }
            (a, b) if a.is_scalar() && b.is_scalar() => self.scalars_equal(a, b),
            _ => false,
        }
    }

    fn vector_matches_tuple(
        &mut self,
        rows: &[Vec<Node>],
        items: &[Node],
        tuple_is_candidate: bool,
    ) -> bool {
        let Some(entries) = vector_entries(rows) else {
            return false;
        };
        entries.len() == items.len()
            && entries
                .iter()
                .zip(items)
                .all(|(entry, item)| match tuple_is_candidate {
                    true => self.nodes_match(item, entry),
                    false => self.nodes_match(entry, item),
                })
    }

    /// Same length, and each candidate item matches a distinct gold item.
    fn multiset_match(&mut self, candidate: &[Node], gold: &[Node]) -> bool {
        if candidate.len() != gold.len() {
            return false;
        }
        let mut used = vec![false; gold.len()];
        candidate.iter().all(|item| {
            let found = (0..gold.len()).find(|&j| !used[j] && self.nodes_match(item, &gold[j]));
            if let Some(j) = found {
                used[j] = true;
            }
            found.is_some()
        })
    }

    fn scalars_equal(&mut self, a: &Node, b: &Node) -> bool {
        let left = exact_value(a, &mut self.budget);
        let right = exact_value(b, &mut self.budget);
        match (&left, &right) {
            (Ok((x, x_complete)), Ok((y, y_complete))) => match x.equals(y, &mut self.budget) {
                Ok(true) => return true,
                Ok(false) if *x_complete && *y_complete => return false,
                _ => {}
            },
            (Err(ExactError::TooComplex), Ok(_) | Err(ExactError::TooComplex))
            | (Ok(_), Err(ExactError::TooComplex)) => {}
            _ => return false,
        }
        self.numeric_fallback && numerically_equal(a, b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matches(candidate: &str, gold: &str) -> bool {
        prepared_answers_match(&PreparedAnswer::new(candidate), &PreparedAnswer::new(gold))
    }

    #[test]
    fn equal_strings_and_words() {
        assert!(matches("\\text{Evelyn}", "Evelyn"));
        assert!(matches("East", "east"));
        assert!(!matches("west", "east"));
        assert!(matches("\\text{(C)}", "C"));
        assert!(!matches("", ""));
        assert!(!matches("5", ""));
    }

    #[test]
    fn numbers_fractions_and_radicals_by_value() {
        assert!(matches("0.5", "\\frac12"));
        assert!(matches("1/2", "\\dfrac{1}{2}"));
        assert!(matches("26.00", "26"));
        assert!(matches("\\sqrt{12}", "2\\sqrt{3}"));
        assert!(matches("137.5", "137\\frac{1}{2}"));
        assert!(matches("\\frac{9}{5}", "1\\frac{4}{5}"));
        assert!(!matches("0.333", "\\frac13"));
        assert!(!matches("3.14", "\\pi"));
        assert!(!matches("25", "26"));
    }

    #[test]
    fn tuples_intervals_sets_and_unions() {
        assert!(matches(
            "(3, \\frac{\\pi}{2})",
            "\\left( 3, \\frac{\\pi}{2} \\right)"
        ));
        assert!(!matches("(\\frac{\\pi}{2}, 3)", "(3, \\frac{\\pi}{2})"));
        assert!(matches("(3,4]", "(3, 4]"));
        assert!(!matches("(3,4)", "(3,4]"));
        assert!(!matches("[3,4]", "(3,4]"));
        assert!(matches("1, -2", "-2,1"));
        assert!(matches(
            "\\{-2, 1-\\sqrt5, 1+\\sqrt5\\}",
            "\\{1\\pm\\sqrt{5},-2\\}"
        ));
        assert!(matches("1+\\sqrt{19}, 1-\\sqrt{19}", "1 \\pm \\sqrt{19}"));
        assert!(!matches("1+\\sqrt{19}", "1 \\pm \\sqrt{19}"));
        assert!(matches(
            "(3,\\infty)\\cup(-\\infty,2)",
            "(-\\infty, 2) \\cup (3, \\infty)"
        ));
        assert!(!matches(
            "(-\\infty, 2] \\cup (3, \\infty)",
            "(-\\infty, 2) \\cup (3, \\infty)"
        ));
        assert!(matches("x \\in [-2,7]", "[-2, 7]"));
    }

    #[test]
    fn matrices_and_vectors() {
        let gold = "\\begin{pmatrix} -1/3 \\\\ 2/3 \\\\ 5/3 \\end{pmatrix}";
        assert!(matches(
            "\\begin{pmatrix}-\\frac13\\\\\\frac23\\\\\\frac53\\end{pmatrix}",
            gold
        ));
        assert!(matches("(-\\frac13, \\frac23, \\frac53)", gold));
        assert!(!matches("(-\\frac13, \\frac23, \\frac43)", gold));
        assert!(!matches("\\begin{pmatrix} 1 & 2 \\end{pmatrix}", gold));
    }

    #[test]
    fn relations() {
        assert!(matches("x = 5", "5"));
        assert!(matches("5", "x=5"));
        assert!(matches("y = 3 + 2x", "y = 2x + 3"));
        assert!(matches("2x+3", "y = 2x + 3"));
        assert!(matches("10x - 14y + 22z + 8 = 0", "5x - 7y + 11z + 4 = 0"));
        assert!(!matches("0", "5x - 7y + 11z + 4 = 0"));
        assert!(matches("2+3=5", "5"));
        assert!(matches("x > 3", "3 < x"));
        assert!(!matches("x \\ge 3", "x > 3"));
        assert!(matches("x > 3", "(3, \\infty)"));
        assert!(matches("(-\\infty, 2]", "x \\le 2"));
        assert!(matches("-2 \\le x \\le 7", "x \\in [-2,7]"));
        assert!(matches("7 > x \\ge -2", "[-2, 7)"));
        assert!(!matches("-2 < x \\le 7", "[-2,7]"));
        assert!(matches("x = 5+5+1 = 11", "x = 11"));
        assert!(matches("z = 3+3 = 6", "z = 1+5 = 6"));
        assert!(matches("a = 5", "x = 5"));
        assert!(!matches("a = 4", "x = 5"));
        assert!(matches("x = \\frac13 \\approx 0.33", "\\frac{1}{3}"));
        assert!(!matches("x = 0.5 \\approx 1", "1"));
    }

    #[test]
    fn symbolic_expressions() {
        assert!(matches("1+x", "x+1"));
        assert!(matches("(a+5)(b+2)", "ab+2a+5b+10"));
        assert!(matches(
            "\\frac{11+9a}{20}",
            "\\frac{9a}{20}+\\frac{11}{20}"
        ));
        assert!(matches("-2+7i", "7i-2"));
        assert!(matches("\\cot x", "\\frac{\\cos x}{\\sin x}"));
        assert!(matches("\\sin^2 x + \\cos^2 x", "1"));
        assert!(!matches("x+1", "x-1"));
        assert!(!matches("\\sin x", "\\cos x"));
    }

    #[test]
    fn forms_seen_in_model_outputs() {
        for (candidate, gold) in [
            ("\\frac{1}{1-i}", "\\frac{1+i}{2}"),
            ("(x-1)^2+(y+2)^2=9", "x^2 - 2x + y^2 + 4y - 4 = 0"),
            ("x=2 \\text{ or } x=3", "2, 3"),
            ("\\$ 5.50", "5.5"),
            ("-\\frac{7}{2}", "-3\\frac{1}{2}"),
            ("\\left(-\\frac{1}{2}, \\frac{1}{2}\\right)", "(-0.5,0.5)"),
            ("\\textbf{(A)}", "A"),
            ("y=\\frac{1}{2}x+3", "y = 0.5x + 3"),
            ("\\frac{2}{\\sqrt{2}}", "\\sqrt2"),
            ("1.5\\times 10^{3}", "1500"),
            ("\\dfrac{3}{4}\\text{ inches}", "0.75"),
            ("\\cotx", "\\cot x"),
            (
                "\\begin{pmatrix}-1&0\\\\0&-1\\end{pmatrix}",
                "\\begin{pmatrix}-1&0\\0&-1\\end{pmatrix}",
            ),
        ] {
            assert!(
                matches(candidate, gold),
                "{candidate:?} should match {gold:?}"
            );
        }
        for (candidate, gold) in [
            ("\\frac{x+1}{x-1}", "\\frac{x-1}{x+1}"),
            ("\\sqrt{50}", "5\\sqrt{3}"),
            ("\\frac{\\pi}{4}", "45^\\circ"),
            ("(-\\infty, \\infty)", "\\mathbb{R}"),
            ("13.28719723183391", "\\frac{3840}{289}"),
            ("0,4", "0"),
        ] {
            assert!(
                !matches(candidate, gold),
                "{candidate:?} should not match {gold:?}"
            );
        }
    }

    #[test]
    fn base_numerals_compare_by_digits() {
        assert!(matches("4210_5", "4210_{5}"));
        assert!(matches("04210_{5}", "4210_5"));
        assert!(!matches("4210_6", "4210_5"));
        assert!(!matches("555", "4210_5"));
        assert!(matches("11", "11_{10}"));
    }

    #[test]
    fn decimals_never_use_the_numeric_fallback() {
        assert!(!matches("0.8414709848", "\\sin 1"));
        assert!(matches("\\sin 1", "\\sin 1"));
    }

    #[test]
    fn hostile_inputs_end_quickly_as_mismatches() {
        assert!(!matches("(x+1)^{40}(x-1)^{40}", "(x^2-1)^{39}"));
        assert!(!matches("10^{10^{10}}", "10^{10^{10}}+1"));
        assert!(matches(&"9".repeat(2000), &"9".repeat(2000)));
        let long_sum = (0..150)
            .map(|k| format!("x_{{{k}}}"))
            .collect::<Vec<_>>()
            .join("+");
        assert!(matches(&long_sum, &long_sum));
        let product = (0..20).map(|k| format!("(x_{k}+1)")).collect::<String>();
        assert!(!matches(&product, "1"));
        let pm = "1".to_string() + &"\\pm 1".repeat(30);
        assert!(!matches(&pm, "1"));
    }
}
