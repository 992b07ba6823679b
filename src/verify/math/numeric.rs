//! The numeric fallback: evaluating both answers in complex floating point.
//!
//! Used only where the exact algebra cannot decide (see [`super::equivalence`]): expressions with
//! functions (`\sin^2 x + \cos^2 x`), nested radicals (`\sqrt{2+\sqrt3}`), or values past the
//! exact size limits. Variables take fixed pseudo-random values derived from their names, at
//! several sample points, so the result is deterministic; values must agree to a relative
//! tolerance of [`RELATIVE_TOLERANCE`] at every point.

use num_complex::Complex64;
use num_traits::ToPrimitive;

use super::ast::{Constant, Function, Node};

/// Relative agreement required at every sample point.
pub(crate) const RELATIVE_TOLERANCE: f64 = 1e-9;
/// Sample points per comparison.
const SAMPLES: u64 = 3;

/// Whether `a` and `b` agree numerically at every sample point (and evaluate at all).
pub(crate) fn numerically_equal(a: &Node, b: &Node) -> bool {
    (0..SAMPLES).all(|sample| match (evaluate(a, sample), evaluate(b, sample)) {
        (Some(x), Some(y)) => close(x, y),
        _ => false,
    })
}

fn close(x: Complex64, y: Complex64) -> bool {
    let scale = x.norm().max(y.norm()).max(1.0);
    (x - y).norm() <= RELATIVE_TOLERANCE * scale
}

/// The value of a variable at one sample point: in [0.5, 2.5), from an FNV-1a hash of its name.
fn variable_value(name: &str, sample: u64) -> f64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in name.bytes().chain(sample.to_le_bytes()) {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    0.5 + (hash >> 11) as f64 / (1u64 << 53) as f64 * 2.0
}

fn finite(value: Complex64) -> Option<Complex64> {
    (value.re.is_finite() && value.im.is_finite()).then_some(value)
}

fn real_integer(value: Complex64) -> Option<f64> {
    let rounded = value.re.round();
    (value.im.abs() < 1e-12 && (value.re - rounded).abs() < 1e-9).then_some(rounded)
}

/// The exact rational value of an exponent written as a literal (`3`, `-2`, `\frac{2}{3}`),
/// so that odd roots of negatives can be taken as real roots, like the exact algebra does.
fn literal_rational(node: &Node) -> Option<(i64, i64)> {
    match node {
        Node::Number(value) => Some((value.numer().to_i64()?, value.denom().to_i64()?)),
        Node::Negate(inner) => literal_rational(inner).map(|(n, d)| (-n, d)),
        Node::Quotient(n, d) => {
            let (a, b) = literal_rational(n)?;
            let (c, e) = literal_rational(d)?;
            let numerator = a.checked_mul(e)?;
            let denominator = b.checked_mul(c)?;
            (denominator != 0).then_some((numerator, denominator))
        }
        _ => None,
    }
}

/// The value of `node` at one sample point; `None` for non-scalars, infinities and domain
/// errors.
pub(crate) fn evaluate(node: &Node, sample: u64) -> Option<Complex64> {
    let value = match node {
        Node::Number(value) => Complex64::new(value.to_f64()?, 0.0),
        Node::Symbol(name) => Complex64::new(variable_value(name, sample), 0.0),
        Node::Constant(Constant::Pi) => Complex64::new(std::f64::consts::PI, 0.0),
        Node::Constant(Constant::E) => Complex64::new(std::f64::consts::E, 0.0),
        Node::Constant(Constant::ImaginaryUnit) => Complex64::new(0.0, 1.0),
        Node::Constant(Constant::Infinity) => return None,
        Node::Sum(terms) => terms
            .iter()
            .map(|term| evaluate(term, sample))
            .sum::<Option<Complex64>>()?,
        Node::Negate(inner) => -evaluate(inner, sample)?,
        Node::Product(factors) => factors
            .iter()
            .map(|factor| evaluate(factor, sample))
            .product::<Option<Complex64>>()?,
        Node::Quotient(dividend, divisor) => {
            let divisor = evaluate(divisor, sample)?;
            if divisor.norm() < 1e-300 {
                return None;
            }
            evaluate(dividend, sample)? / divisor
        }
        Node::Power(base, exponent) => power(base, exponent, sample)?,
        Node::Apply(function, arguments) => apply(*function, arguments, sample)?,
        Node::Factorial(inner) => {
            let n = real_integer(evaluate(inner, sample)?)?;
            if !(0.0..=170.0).contains(&n) {
                return None;
            }
            Complex64::new((1..=n as u64).map(|k| k as f64).product(), 0.0)
        }
        Node::Binomial(n, k) => {
            let n = real_integer(evaluate(n, sample)?)?;
            let k = real_integer(evaluate(k, sample)?)?;
            if !(0.0..=1_000.0).contains(&k) {
                return None;
            }
            let value: f64 = (0..k as u64)
                .map(|j| (n - j as f64) / (j as f64 + 1.0))
                .product();
            Complex64::new(value, 0.0)
        }
        Node::PlusMinus(..)
        | Node::BaseNumeral { .. }
        | Node::Tuple { .. }
        | Node::Set(_)
        | Node::List(_)
        | Node::Union(_)
        | Node::Matrix(_)
        | Node::Relation { .. } => return None,
    };
    finite(value)
}

fn power(base: &Node, exponent: &Node, sample: u64) -> Option<Complex64> {
    let base_value = evaluate(base, sample)?;
    if let Some((numerator, denominator)) = literal_rational(exponent) {
        let is_real = base_value.im.abs() < 1e-300;
        if is_real && base_value.re < 0.0 && denominator % 2 != 0 {
            // The real odd root, as in the exact algebra: (-8)^(1/3) = -2.
            let magnitude = (-base_value.re).powf(numerator as f64 / denominator as f64);
            let sign = if numerator % 2 == 0 { 1.0 } else { -1.0 };
            return Some(Complex64::new(sign * magnitude, 0.0));
        }
        if denominator == 1 && numerator.abs() <= 64 {
            if base_value.norm() < 1e-300 && numerator < 0 {
                return None;
            }
            return Some(base_value.powi(numerator as i32));
        }
    }
    let exponent_value = evaluate(exponent, sample)?;
    if base_value.norm() < 1e-300 {
        return (exponent_value.re > 0.0).then_some(Complex64::new(0.0, 0.0));
    }
    Some(base_value.powc(exponent_value))
}

fn apply(function: Function, arguments: &[Node], sample: u64) -> Option<Complex64> {
    let x = evaluate(arguments.first()?, sample)?;
    let reciprocal = |value: Complex64| (value.norm() > 1e-300).then(|| value.inv());
    Some(match function {
        Function::Sin => x.sin(),
        Function::Cos => x.cos(),
        Function::Tan => x.tan(),
        Function::Cot => reciprocal(x.tan())?,
        Function::Sec => reciprocal(x.cos())?,
        Function::Csc => reciprocal(x.sin())?,
        Function::Arcsin => x.asin(),
        Function::Arccos => x.acos(),
        Function::Arctan => x.atan(),
        Function::Sinh => x.sinh(),
        Function::Cosh => x.cosh(),
        Function::Tanh => x.tanh(),
        Function::Ln => {
            if x.norm() < 1e-300 {
                return None;
            }
            x.ln()
        }
        Function::LogBase => {
            let base = evaluate(arguments.get(1)?, sample)?;
            let denominator = base.ln();
            if x.norm() < 1e-300 || denominator.norm() < 1e-300 {
                return None;
            }
            x.ln() / denominator
        }
        Function::Abs => Complex64::new(x.norm(), 0.0),
        Function::Floor if x.im.abs() < 1e-12 => Complex64::new(x.re.floor(), 0.0),
        Function::Ceil if x.im.abs() < 1e-12 => Complex64::new(x.re.ceil(), 0.0),
        Function::Floor | Function::Ceil => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verify::math::budget::Budget;
    use crate::verify::math::parser::parse_answer;

    fn node(text: &str) -> Node {
        parse_answer(text, &mut Budget::per_comparison()).unwrap()
    }

    fn agree(a: &str, b: &str) -> bool {
        numerically_equal(&node(a), &node(b))
    }

    #[test]
    fn identities_the_exact_algebra_cannot_see() {
        assert!(agree("\\sin^2 x+\\cos^2 x", "1"));
        assert!(agree("\\sqrt{2+\\sqrt{3}}", "\\frac{\\sqrt6+\\sqrt2}{2}"));
        assert!(agree("\\log_2 8", "3"));
        assert!(agree("\\cos\\frac{\\pi}{3}", "\\frac12"));
        assert!(agree("e^{i\\pi}", "-1"));
        assert!(agree("\\sqrt[3]{-27}", "-3"));
    }

    #[test]
    fn different_values_disagree() {
        assert!(!agree("\\sin x", "\\cos x"));
        assert!(!agree("x", "y"));
        assert!(!agree("\\pi", "3.14159"));
        assert!(!agree("\\frac{1}{0}", "\\frac{1}{0}"));
        assert!(!agree("\\infty", "\\infty"));
        assert!(!agree("(1,2)", "(1,2)"));
    }

    #[test]
    fn variables_are_deterministic_and_distinct() {
        assert_eq!(variable_value("x", 0), variable_value("x", 0));
        assert_ne!(variable_value("x", 0), variable_value("y", 0));
        assert_ne!(variable_value("x", 0), variable_value("x", 1));
        for sample in 0..SAMPLES {
            let value = variable_value("theta", sample);
            assert!((0.5..2.5).contains(&value));
        }
    }
}
