//! Exact values of scalar expressions: quotients of canonical polynomials.
//!
//! [`exact_value`] turns a parsed expression into a [`Fraction`] of two [`Polynomial`]s, and
//! reports whether the result is *complete*: free of opaque sub-expressions and of radicals whose
//! base could not be factored. Two complete values are equal exactly when their cross products
//! agree; an incomplete pair that differs may still be equal (`\sin^2 x + \cos^2 x` and `1`), which
//! is the numeric fallback's case.

use num_bigint::BigInt;
use num_integer::Integer;
use num_rational::BigRational;
use num_traits::{One, Signed, ToPrimitive, Zero};

use super::ast::{Constant, Function, Node};
use super::budget::Budget;
use super::polynomial::{check_size, Atom, Monomial, Polynomial, TooComplex};
use super::radical::factorize;

/// Largest `n` for which `n!` and `\binom{n}{k}` are computed exactly.
const MAX_FACTORIAL_ARGUMENT: u64 = 500;

/// Why an expression has no exact value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ExactError {
    /// Not a scalar: a tuple, set, matrix, relation, base numeral, …
    NotScalar,
    /// Division by zero, `0^{-1}`.
    Undefined,
    /// The budget or a size limit was exceeded.
    TooComplex,
}

impl From<TooComplex> for ExactError {
    fn from(_: TooComplex) -> Self {
        ExactError::TooComplex
    }
}

/// `numerator / denominator`; a monomial denominator is always folded into the numerator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Fraction {
    numerator: Polynomial,
    denominator: Polynomial,
}

impl std::fmt::Display for Fraction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{{{}}}/{{{}}}", self.numerator, self.denominator)
    }
}

impl Fraction {
    fn polynomial(numerator: Polynomial) -> Self {
        Fraction {
            numerator,
            denominator: Polynomial::constant(BigRational::one()),
        }
    }

    fn constant(value: BigRational) -> Self {
        Self::polynomial(Polynomial::constant(value))
    }

    /// The value when it is a rational number.
    pub(crate) fn as_rational(&self) -> Option<BigRational> {
        let numerator = self.numerator.as_constant()?;
        let denominator = self.denominator.as_constant()?;
        (!denominator.is_zero()).then(|| numerator / denominator)
    }

    fn new(
        numerator: Polynomial,
        denominator: Polynomial,
        budget: &mut Budget,
    ) -> Result<Self, ExactError> {
        if denominator.is_zero() {
            return Err(ExactError::Undefined);
        }
        if let Some((monomial, coefficient)) = denominator.single_term() {
            let (factor, inverse) = monomial.pow(&-BigRational::one())?;
            let scale = factor / coefficient;
            let inverse = Polynomial::term(scale, inverse);
            return Ok(Self::polynomial(numerator.mul(&inverse, budget)?));
        }
        Ok(Fraction {
            numerator,
            denominator,
        })
    }

    fn add(&self, other: &Fraction, budget: &mut Budget) -> Result<Self, ExactError> {
        if self.denominator == other.denominator {
            let numerator = self.numerator.add(&other.numerator, budget)?;
            return Self::new(numerator, self.denominator.clone(), budget);
        }
        let left = self.numerator.mul(&other.denominator, budget)?;
        let right = other.numerator.mul(&self.denominator, budget)?;
        let denominator = self.denominator.mul(&other.denominator, budget)?;
        let numerator = left.add(&right, budget)?;
        Self::new(numerator, denominator, budget)
    }

    fn neg(&self) -> Self {
        Fraction {
            numerator: self.numerator.neg(),
            denominator: self.denominator.clone(),
        }
    }

    fn mul(&self, other: &Fraction, budget: &mut Budget) -> Result<Self, ExactError> {
        let numerator = self.numerator.mul(&other.numerator, budget)?;
        let denominator = self.denominator.mul(&other.denominator, budget)?;
        Self::new(numerator, denominator, budget)
    }

    fn reciprocal(&self, budget: &mut Budget) -> Result<Self, ExactError> {
        Self::new(self.denominator.clone(), self.numerator.clone(), budget)
    }

    fn div(&self, other: &Fraction, budget: &mut Budget) -> Result<Self, ExactError> {
        let reciprocal = other.reciprocal(budget)?;
        self.mul(&reciprocal, budget)
    }

    /// `a/b = c/d` ⇔ `ad = cb`.
    pub(crate) fn equals(&self, other: &Fraction, budget: &mut Budget) -> Result<bool, ExactError> {
        if self.denominator == other.denominator {
            return Ok(self.numerator == other.numerator);
        }
        let left = self.numerator.mul(&other.denominator, budget)?;
        let right = other.numerator.mul(&self.denominator, budget)?;
        Ok(left == right)
    }

    /// Whether `self = k · other` for a non-zero rational `k` (equations `2x + 2y = 2` and
    /// `x + y = 1` describe the same set).
    pub(crate) fn proportional_to(
        &self,
        other: &Fraction,
        budget: &mut Budget,
    ) -> Result<bool, ExactError> {
        let left = self.numerator.mul(&other.denominator, budget)?;
        let right = other.numerator.mul(&self.denominator, budget)?;
        let Some((monomial, left_coefficient)) = left.terms().next() else {
            return Ok(right.is_zero());
        };
        let Some(right_coefficient) = right.coefficient_of(monomial) else {
            return Ok(false);
        };
        let ratio = right_coefficient / left_coefficient;
        Ok(left.scale(&ratio)? == right)
    }
}

/// The exact value of `node` and whether it is complete (see the module docs).
pub(crate) fn exact_value(
    node: &Node,
    budget: &mut Budget,
) -> Result<(Fraction, bool), ExactError> {
    let mut converter = Converter {
        budget,
        complete: true,
    };
    let value = converter.convert(node)?;
    Ok((value, converter.complete))
}

struct Converter<'a> {
    budget: &'a mut Budget,
    complete: bool,
}

impl Converter<'_> {
    fn convert(&mut self, node: &Node) -> Result<Fraction, ExactError> {
        self.budget.spend(1).map_err(TooComplex::from)?;
        match node {
            Node::Number(value) => Ok(Fraction::constant(value.clone())),
            Node::Symbol(name) => Ok(Fraction::polynomial(Polynomial::atom(Atom::Symbol(
                name.clone(),
            )))),
            Node::Constant(constant) => {
                Ok(Fraction::polynomial(Polynomial::atom(match constant {
                    Constant::Pi => Atom::Pi,
                    Constant::E => Atom::E,
                    Constant::ImaginaryUnit => Atom::ImaginaryUnit,
                    Constant::Infinity => Atom::Infinity,
                })))
            }
            Node::Sum(terms) => {
                let mut total = Fraction::constant(BigRational::zero());
                for term in terms {
                    let value = self.convert(term)?;
                    total = total.add(&value, self.budget)?;
                }
                Ok(total)
            }
            Node::Negate(inner) => Ok(self.convert(inner)?.neg()),
            Node::Product(factors) => {
                let mut total = Fraction::constant(BigRational::one());
                for factor in factors {
                    let value = self.convert(factor)?;
                    total = total.mul(&value, self.budget)?;
                }
                Ok(total)
            }
            Node::Quotient(dividend, divisor) => {
                let dividend = self.convert(dividend)?;
                let divisor = self.convert(divisor)?;
                dividend.div(&divisor, self.budget)
            }
            Node::Power(base, exponent) => {
                let base = self.convert(base)?;
                let exponent = self.convert(exponent)?;
                match exponent.as_rational() {
                    Some(power) => self.power(&base, &power),
                    None => Ok(self.opaque("pow", &[base, exponent])),
                }
            }
            Node::Apply(function, arguments) => {
                let arguments = arguments
                    .iter()
                    .map(|argument| self.convert(argument))
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(match exact_application(*function, &arguments) {
                    Some(value) => value,
                    None => self.opaque(function.name(), &arguments),
                })
            }
            Node::Factorial(inner) => {
                let inner = self.convert(inner)?;
                match small_natural(&inner) {
                    Some(n) => Ok(Fraction::constant(self.falling_factorial(n, n)?)),
                    None => Ok(self.opaque("factorial", &[inner])),
                }
            }
            Node::Binomial(n, k) => {
                let n = self.convert(n)?;
                let k = self.convert(k)?;
                match (small_natural(&n), small_natural(&k)) {
                    (Some(n), Some(k)) if k > n => Ok(Fraction::constant(BigRational::zero())),
                    (Some(n), Some(k)) => {
                        let k = k.min(n - k);
                        let numerator = self.falling_factorial(n, k)?;
                        let denominator = self.falling_factorial(k, k)?;
                        Ok(Fraction::constant(numerator / denominator))
                    }
                    _ => Ok(self.opaque("binom", &[n, k])),
                }
            }
            Node::PlusMinus(..)
            | Node::BaseNumeral { .. }
            | Node::Tuple { .. }
            | Node::Set(_)
            | Node::List(_)
            | Node::Union(_)
            | Node::Matrix(_)
            | Node::Relation { .. } => Err(ExactError::NotScalar),
        }
    }

    /// A sub-expression kept as an atom; it makes the value incomplete.
    fn opaque(&mut self, name: &str, arguments: &[Fraction]) -> Fraction {
        self.complete = false;
        let arguments: Vec<String> = arguments.iter().map(Fraction::to_string).collect();
        let key = format!("{name}({})", arguments.join(", "));
        Fraction::polynomial(Polynomial::atom(Atom::Opaque(key)))
    }

    /// `n (n-1) … (n-k+1)`.
    fn falling_factorial(&mut self, n: u64, k: u64) -> Result<BigRational, ExactError> {
        self.budget.spend(k).map_err(TooComplex::from)?;
        let mut product = BigInt::one();
        for factor in (n - k + 1)..=n {
            product *= factor;
        }
        let value = BigRational::from_integer(product);
        check_size(&value)?;
        Ok(value)
    }

    fn power(&mut self, base: &Fraction, power: &BigRational) -> Result<Fraction, ExactError> {
        if power.is_integer() {
            let exponent = power.to_integer();
            let magnitude = exponent.abs().to_u64().ok_or(ExactError::TooComplex)?;
            let base = match exponent.is_negative() {
                true => base.reciprocal(self.budget)?,
                false => base.clone(),
            };
            let numerator = base.numerator.pow(magnitude, self.budget)?;
            let denominator = base.denominator.pow(magnitude, self.budget)?;
            return Fraction::new(numerator, denominator, self.budget);
        }
        // A fractional power of a single term: coefficient and atoms separately.
        if let Some((monomial, coefficient)) = base.numerator.single_term() {
            if base.denominator.as_constant() == Some(BigRational::one())
                && !monomial.contains(|atom| *atom == Atom::ImaginaryUnit)
            {
                if let Some(root) = self.rational_root(coefficient, power)? {
                    let (factor, atoms) = monomial.pow(power)?;
                    let atoms = Polynomial::term(factor, atoms);
                    return Ok(Fraction::polynomial(root.mul(&atoms, self.budget)?));
                }
            }
        }
        if base.numerator.is_zero() {
            return match power.is_positive() {
                true => Ok(Fraction::constant(BigRational::zero())),
                false => Err(ExactError::Undefined),
            };
        }
        let power = Fraction::constant(power.clone());
        Ok(self.opaque("pow", &[base.clone(), power]))
    }

    /// `value^power` for a non-integer rational power, as a polynomial in radicals (and `i` for
    /// square roots of negatives). Odd roots of negatives are real (`\sqrt[3]{-8} = -2`), the
    /// convention of competition mathematics. `None` for other roots of negatives.
    fn rational_root(
        &mut self,
        value: &BigRational,
        power: &BigRational,
    ) -> Result<Option<Polynomial>, ExactError> {
        let numerator_power = power.numer();
        let root_index = power.denom();
        let mut sign = Polynomial::constant(BigRational::one());
        if value.is_negative() {
            if root_index.is_odd() {
                if numerator_power.is_odd() {
                    sign = sign.neg();
                }
            } else if *root_index == BigInt::from(2) {
                let turns = numerator_power.mod_floor(&BigInt::from(4));
                let (factor, i_power) = Monomial::normalized([(
                    Atom::ImaginaryUnit,
                    BigRational::from_integer(turns),
                )])?;
                sign = Polynomial::term(factor, i_power);
            } else {
                return Ok(None);
            }
        }
        let magnitude = value.abs();
        let mut atoms: Vec<(Atom, BigRational)> = Vec::new();
        for (integer, direction) in [(magnitude.numer(), 1), (magnitude.denom(), -1)] {
            let integer = integer.to_biguint().ok_or(ExactError::TooComplex)?;
            let factorization = factorize(&integer, self.budget).map_err(TooComplex::from)?;
            self.complete &= factorization.complete;
            for (prime, exponent) in factorization.factors {
                let exponent = BigRational::from_integer(BigInt::from(exponent) * direction);
                atoms.push((Atom::Radical(prime), exponent * power));
            }
        }
        let (factor, monomial) = Monomial::normalized(atoms)?;
        let root = Polynomial::term(factor, monomial);
        Ok(Some(sign.mul(&root, self.budget)?))
    }
}

/// A natural number small enough for exact factorials.
fn small_natural(value: &Fraction) -> Option<u64> {
    let value = value.as_rational()?;
    if !value.is_integer() || value.is_negative() {
        return None;
    }
    value
        .to_integer()
        .to_u64()
        .filter(|n| *n <= MAX_FACTORIAL_ARGUMENT)
}

/// Exact results of functions at rational arguments (`|−3|`, `⌊7/2⌋`); `None` otherwise.
fn exact_application(function: Function, arguments: &[Fraction]) -> Option<Fraction> {
    let [argument] = arguments else {
        return None;
    };
    let value = argument.as_rational()?;
    Some(Fraction::constant(match function {
        Function::Abs => value.abs(),
        Function::Floor => value.floor(),
        Function::Ceil => value.ceil(),
        Function::Ln if value.is_one() => BigRational::zero(),
        Function::Sin
        | Function::Tan
        | Function::Arcsin
        | Function::Arctan
        | Function::Sinh
        | Function::Tanh
            if value.is_zero() =>
        {
            BigRational::zero()
        }
        Function::Cos | Function::Cosh if value.is_zero() => BigRational::one(),
        _ => return None,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verify::math::parser::parse_answer;

    fn value(text: &str) -> (Fraction, bool) {
        let mut budget = Budget::per_comparison();
        let node = parse_answer(text, &mut budget).unwrap();
        exact_value(&node, &mut budget).unwrap()
    }

    fn same(a: &str, b: &str) -> bool {
        let (a, _) = value(a);
        let (b, _) = value(b);
        a.equals(&b, &mut Budget::per_comparison()).unwrap()
    }

    #[test]
    fn rationals_decimals_and_fractions() {
        assert!(same("\\frac12", "0.5"));
        assert!(same("\\frac{6}{4}", "1.5"));
        assert!(same("-\\frac{2}{3}", "\\frac{-2}{3}"));
        assert!(same("\\frac{1}{-3}", "-\\frac13"));
        assert!(!same("\\frac13", "0.333"));
        assert!(same("2^{10}", "1024"));
        assert!(same("2^{-2}", "0.25"));
    }

    #[test]
    fn radicals() {
        assert!(same("2\\sqrt{3}", "\\sqrt{12}"));
        assert!(same("\\frac{\\sqrt{3}}{3}", "\\frac{1}{\\sqrt3}"));
        assert!(same("\\sqrt{2}\\sqrt{3}", "\\sqrt6"));
        assert!(same("\\sqrt[3]{16}", "2\\sqrt[3]{2}"));
        assert!(same("\\sqrt[3]{-8}", "-2"));
        assert!(same("\\sqrt{-4}", "2i"));
        assert!(same("\\frac{1}{1+\\sqrt2}", "\\sqrt2-1"));
        assert!(same("8^{2/3}", "4"));
        assert!(!same("\\sqrt{2}", "1.41421356"));
        assert!(value("\\sqrt{12}").1);
    }

    #[test]
    fn symbols_pi_and_complex_numbers() {
        assert!(same("x+1", "1+x"));
        assert!(same("(x+1)^2", "x^2+2x+1"));
        assert!(same("\\frac{x}{7}+\\frac{2}{7}", "\\frac{x+2}{7}"));
        assert!(same("\\frac{20000}{\\pi}", "20000\\pi^{-1}"));
        assert!(same("(1+i)^2", "2i"));
        assert!(same("\\frac{1}{i}", "-i"));
        assert!(same("\\frac{x^2-1}{x-1}", "x+1"));
        assert!(!same("x+1", "x+2"));
        assert!(!same("3R^2", "3r^2"));
    }

    #[test]
    fn factorials_binomials_and_functions() {
        assert!(same("5!", "120"));
        assert!(same("\\binom{5}{2}", "10"));
        assert!(same("\\binom{3}{5}", "0"));
        assert!(same("|-3|", "3"));
        let (_, complete) = value("\\sin x");
        assert!(!complete);
        assert!(same("\\sin x", "\\sin x"));
    }

    #[test]
    fn undefined_and_oversized_values_are_errors() {
        let mut budget = Budget::per_comparison();
        for (text, expected) in [
            ("\\frac{1}{0}", ExactError::Undefined),
            ("0^{-1}", ExactError::Undefined),
            ("(1,2)", ExactError::NotScalar),
            ("10^{10^{10}}", ExactError::TooComplex),
            ("(x+1)^{1000}", ExactError::TooComplex),
        ] {
            let node = parse_answer(text, &mut budget).unwrap();
            assert_eq!(
                exact_value(&node, &mut Budget::per_comparison()).unwrap_err(),
                expected,
                "{text}"
            );
        }
    }
}
