//! Canonical polynomials over the rationals, with radicals, constants and symbols as atoms.
//!
//! A term is a rational coefficient times a [`Monomial`]: a product of atoms raised to rational
//! exponents, kept in a normal form so that equal values have equal representations:
//!
//! - a radical atom `p^e` (p an integer base, normally a prime) always has `0 < e < 1`; the
//!   integer part of an exponent moves into the coefficient (`√2·√2 = 2`, `√12 = 2·√3`);
//! - `i` has exponent 1 (`i² = -1` moves into the coefficient);
//! - `π`, `e`, `∞`, variables and opaque sub-expressions may have any non-zero rational
//!   exponent, and are treated as independent of each other (variables as positive reals, so
//!   `(x²)^½ = x`).
//!
//! Because square-free radicals of distinct primes are linearly independent over ℚ(i) and `π`,
//! `e` are treated as transcendental, two polynomials are equal exactly when their term maps are.

use std::collections::BTreeMap;
use std::fmt;

use num_bigint::{BigInt, BigUint};
use num_integer::Integer;
use num_rational::BigRational;
use num_traits::{One, Signed, ToPrimitive, Zero};

use super::budget::MAX_EXPANDED_EXPONENT;
use super::budget::{Budget, BudgetExhausted, MAX_INTEGER_BITS, MAX_POLYNOMIAL_TERMS};

/// The exact algebra gave up: the work budget ran out or a value grew past the size limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TooComplex;

impl From<BudgetExhausted> for TooComplex {
    fn from(_: BudgetExhausted) -> Self {
        TooComplex
    }
}

/// An indivisible factor of a monomial.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Atom {
    /// A positive integer base under a fractional exponent.
    Radical(BigUint),
    Pi,
    E,
    Infinity,
    ImaginaryUnit,
    Symbol(String),
    /// A sub-expression the algebra does not simplify (`\sin x`, `2^x`, `\sqrt{2+\sqrt3}`),
    /// identified by the canonical text of its arguments.
    Opaque(String),
}

impl fmt::Display for Atom {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Atom::Radical(base) => write!(f, "√{base}"),
            Atom::Pi => f.write_str("π"),
            Atom::E => f.write_str("e"),
            Atom::Infinity => f.write_str("∞"),
            Atom::ImaginaryUnit => f.write_str("i"),
            Atom::Symbol(name) => f.write_str(name),
            Atom::Opaque(key) => write!(f, "[{key}]"),
        }
    }
}

/// Fails when a rational's numerator or denominator is larger than the size limit.
pub(crate) fn check_size(value: &BigRational) -> Result<(), TooComplex> {
    let bits = value.numer().bits().max(value.denom().bits());
    match bits <= MAX_INTEGER_BITS {
        true => Ok(()),
        false => Err(TooComplex),
    }
}

/// `base^exponent` for an integer exponent of either sign, within the size limit.
pub(crate) fn rational_power(
    base: &BigRational,
    exponent: &BigInt,
) -> Result<BigRational, TooComplex> {
    if exponent.is_zero() {
        return Ok(BigRational::one());
    }
    if base.is_zero() {
        return match exponent.is_positive() {
            true => Ok(BigRational::zero()),
            false => Err(TooComplex),
        };
    }
    let magnitude = exponent.abs().to_u64().ok_or(TooComplex)?;
    let base_bits = base.numer().bits().max(base.denom().bits());
    if base_bits.saturating_sub(1).saturating_mul(magnitude) > MAX_INTEGER_BITS {
        return Err(TooComplex);
    }
    let magnitude = u32::try_from(magnitude).map_err(|_| TooComplex)?;
    let value = base.pow(i32::try_from(magnitude).map_err(|_| TooComplex)?);
    check_size(&value)?;
    Ok(match exponent.is_negative() {
        true => value.recip(),
        false => value,
    })
}

/// A product of atoms with non-zero rational exponents, sorted by atom.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub(crate) struct Monomial {
    factors: Vec<(Atom, BigRational)>,
}

impl Monomial {
    pub(crate) fn one() -> Self {
        Self::default()
    }

    pub(crate) fn is_one(&self) -> bool {
        self.factors.is_empty()
    }

    /// Builds the normal form of `Π atom^exponent`, returning the rational factor that the
    /// normalization moved out (from radicals and powers of `i`).
    pub(crate) fn normalized(
        raw: impl IntoIterator<Item = (Atom, BigRational)>,
    ) -> Result<(BigRational, Monomial), TooComplex> {
        let mut merged: BTreeMap<Atom, BigRational> = BTreeMap::new();
        for (atom, exponent) in raw {
            *merged.entry(atom).or_insert_with(BigRational::zero) += exponent;
        }
        let mut coefficient = BigRational::one();
        let mut factors = Vec::with_capacity(merged.len());
        for (atom, exponent) in merged {
            if exponent.is_zero() {
                continue;
            }
            match atom {
                Atom::Radical(base) => {
                    let whole = exponent.floor();
                    let fraction = &exponent - &whole;
                    if !whole.is_zero() {
                        let base = BigRational::from_integer(BigInt::from(base.clone()));
                        coefficient *= rational_power(&base, &whole.to_integer())?;
                    }
                    if !fraction.is_zero() {
                        factors.push((Atom::Radical(base), fraction));
                    }
                }
                Atom::ImaginaryUnit if exponent.is_integer() => {
                    let turns = exponent.to_integer().mod_floor(&BigInt::from(4));
                    let turns = turns.to_u8().unwrap_or(0);
                    if turns >= 2 {
                        coefficient = -coefficient;
                    }
                    if turns % 2 == 1 {
                        factors.push((Atom::ImaginaryUnit, BigRational::one()));
                    }
                }
                other => factors.push((other, exponent)),
            }
        }
        check_size(&coefficient)?;
        Ok((coefficient, Monomial { factors }))
    }

    pub(crate) fn mul(&self, other: &Monomial) -> Result<(BigRational, Monomial), TooComplex> {
        if self.is_one() {
            return Ok((BigRational::one(), other.clone()));
        }
        if other.is_one() {
            return Ok((BigRational::one(), self.clone()));
        }
        Self::normalized(self.factors.iter().chain(&other.factors).cloned())
    }

    /// Every exponent times `power` (valid for the atoms' positive-real reading; the caller
    /// keeps `i` away from fractional powers).
    pub(crate) fn pow(&self, power: &BigRational) -> Result<(BigRational, Monomial), TooComplex> {
        Self::normalized(
            self.factors
                .iter()
                .map(|(atom, exponent)| (atom.clone(), exponent * power)),
        )
    }

    pub(crate) fn contains(&self, wanted: impl Fn(&Atom) -> bool) -> bool {
        self.factors.iter().any(|(atom, _)| wanted(atom))
    }
}

impl fmt::Display for Monomial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.factors.is_empty() {
            return f.write_str("1");
        }
        for (index, (atom, exponent)) in self.factors.iter().enumerate() {
            if index > 0 {
                f.write_str("·")?;
            }
            match exponent.is_one() {
                true => write!(f, "{atom}")?,
                false => write!(f, "{atom}^({exponent})")?,
            }
        }
        Ok(())
    }
}

/// A sum of terms with non-zero coefficients, keyed by monomial.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct Polynomial {
    terms: BTreeMap<Monomial, BigRational>,
}

impl Polynomial {
    pub(crate) fn zero() -> Self {
        Self::default()
    }

    pub(crate) fn constant(value: BigRational) -> Self {
        Self::term(value, Monomial::one())
    }

    pub(crate) fn term(coefficient: BigRational, monomial: Monomial) -> Self {
        let mut terms = BTreeMap::new();
        if !coefficient.is_zero() {
            terms.insert(monomial, coefficient);
        }
        Self { terms }
    }

    pub(crate) fn atom(atom: Atom) -> Self {
        Self::term(
            BigRational::one(),
            Monomial {
                factors: vec![(atom, BigRational::one())],
            },
        )
    }

    pub(crate) fn is_zero(&self) -> bool {
        self.terms.is_empty()
    }

    pub(crate) fn terms(&self) -> impl Iterator<Item = (&Monomial, &BigRational)> {
        self.terms.iter()
    }

    /// The value when the polynomial is a rational constant.
    pub(crate) fn as_constant(&self) -> Option<BigRational> {
        match self.single_term() {
            None if self.is_zero() => Some(BigRational::zero()),
            Some((monomial, coefficient)) if monomial.is_one() => Some(coefficient.clone()),
            _ => None,
        }
    }

    pub(crate) fn single_term(&self) -> Option<(&Monomial, &BigRational)> {
        match self.terms.len() {
            1 => self.terms.iter().next(),
            _ => None,
        }
    }

    pub(crate) fn coefficient_of(&self, monomial: &Monomial) -> Option<&BigRational> {
        self.terms.get(monomial)
    }

    fn add_term(&mut self, monomial: Monomial, coefficient: BigRational) -> Result<(), TooComplex> {
        if coefficient.is_zero() {
            return Ok(());
        }
        match self.terms.entry(monomial) {
            std::collections::btree_map::Entry::Occupied(mut entry) => {
                let sum = entry.get() + coefficient;
                check_size(&sum)?;
                match sum.is_zero() {
                    true => {
                        entry.remove();
                    }
                    false => *entry.get_mut() = sum,
                }
            }
            std::collections::btree_map::Entry::Vacant(entry) => {
                check_size(&coefficient)?;
                entry.insert(coefficient);
            }
        }
        match self.terms.len() <= MAX_POLYNOMIAL_TERMS {
            true => Ok(()),
            false => Err(TooComplex),
        }
    }

    pub(crate) fn add(
        &self,
        other: &Polynomial,
        budget: &mut Budget,
    ) -> Result<Polynomial, TooComplex> {
        budget.spend(1 + other.terms.len() as u64)?;
        let mut sum = self.clone();
        for (monomial, coefficient) in &other.terms {
            sum.add_term(monomial.clone(), coefficient.clone())?;
        }
        Ok(sum)
    }

    pub(crate) fn neg(&self) -> Polynomial {
        Polynomial {
            terms: self
                .terms
                .iter()
                .map(|(monomial, coefficient)| (monomial.clone(), -coefficient))
                .collect(),
        }
    }

    pub(crate) fn scale(&self, factor: &BigRational) -> Result<Polynomial, TooComplex> {
        if factor.is_zero() {
            return Ok(Polynomial::zero());
        }
        let mut terms = BTreeMap::new();
        for (monomial, coefficient) in &self.terms {
            let scaled = coefficient * factor;
            check_size(&scaled)?;
            terms.insert(monomial.clone(), scaled);
        }
        Ok(Polynomial { terms })
    }

    pub(crate) fn mul(
        &self,
        other: &Polynomial,
        budget: &mut Budget,
    ) -> Result<Polynomial, TooComplex> {
        let pairs = (self.terms.len() as u64).saturating_mul(other.terms.len() as u64);
        budget.spend(1 + pairs)?;
        let mut product = Polynomial::zero();
        for (left_monomial, left_coefficient) in &self.terms {
            for (right_monomial, right_coefficient) in &other.terms {
                let (factor, monomial) = left_monomial.mul(right_monomial)?;
                let coefficient = left_coefficient * right_coefficient * factor;
                product.add_term(monomial, coefficient)?;
            }
        }
        Ok(product)
    }

    /// `self^exponent`; sums are expanded only up to [`MAX_EXPANDED_EXPONENT`].
    pub(crate) fn pow(&self, exponent: u64, budget: &mut Budget) -> Result<Polynomial, TooComplex> {
        if exponent == 0 {
            return Ok(Polynomial::constant(BigRational::one()));
        }
        if let Some((monomial, coefficient)) = self.single_term() {
            let power = BigRational::from_integer(BigInt::from(exponent));
            let (factor, monomial) = monomial.pow(&power)?;
            let coefficient = rational_power(coefficient, &BigInt::from(exponent))? * factor;
            check_size(&coefficient)?;
            return Ok(Polynomial::term(coefficient, monomial));
        }
        if self.is_zero() {
            return Ok(Polynomial::zero());
        }
        if exponent > MAX_EXPANDED_EXPONENT {
            return Err(TooComplex);
        }
        let mut result = Polynomial::constant(BigRational::one());
        let mut square = self.clone();
        let mut remaining = exponent;
        while remaining > 0 {
            if remaining & 1 == 1 {
                result = result.mul(&square, budget)?;
            }
            remaining >>= 1;
            if remaining > 0 {
                square = square.mul(&square, budget)?;
            }
        }
        Ok(result)
    }
}

impl fmt::Display for Polynomial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.terms.is_empty() {
            return f.write_str("0");
        }
        for (index, (monomial, coefficient)) in self.terms.iter().enumerate() {
            if index > 0 {
                f.write_str(" + ")?;
            }
            write!(f, "({coefficient})·{monomial}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(n: i64, d: i64) -> BigRational {
        BigRational::new(n.into(), d.into())
    }

    fn radical(base: u32, exponent: BigRational) -> Polynomial {
        let (factor, monomial) =
            Monomial::normalized([(Atom::Radical(BigUint::from(base)), exponent)]).unwrap();
        Polynomial::term(factor, monomial)
    }

    fn x() -> Polynomial {
        Polynomial::atom(Atom::Symbol("x".into()))
    }

    #[test]
    fn radical_exponents_stay_between_zero_and_one() {
        let mut budget = Budget::per_comparison();
        let root2 = radical(2, q(1, 2));
        assert_eq!(
            root2.mul(&root2, &mut budget).unwrap(),
            Polynomial::constant(q(2, 1))
        );
        // 2^(3/2) = 2·√2 and 2^(-1/2) = √2 / 2.
        assert_eq!(radical(2, q(3, 2)), root2.scale(&q(2, 1)).unwrap());
        assert_eq!(radical(2, q(-1, 2)), root2.scale(&q(1, 2)).unwrap());
    }

    #[test]
    fn powers_of_i_cycle() {
        let mut budget = Budget::per_comparison();
        let i = Polynomial::atom(Atom::ImaginaryUnit);
        assert_eq!(
            i.pow(2, &mut budget).unwrap(),
            Polynomial::constant(q(-1, 1))
        );
        assert_eq!(i.pow(3, &mut budget).unwrap(), i.neg());
        assert_eq!(
            i.pow(4, &mut budget).unwrap(),
            Polynomial::constant(q(1, 1))
        );
    }

    #[test]
    fn expansion_is_canonical() {
        let mut budget = Budget::per_comparison();
        let one = Polynomial::constant(q(1, 1));
        let x_plus_1 = x().add(&one, &mut budget).unwrap();
        let square = x_plus_1.pow(2, &mut budget).unwrap();
        let x2 = x().pow(2, &mut budget).unwrap();
        let expanded = x2
            .add(&x().scale(&q(2, 1)).unwrap(), &mut budget)
            .unwrap()
            .add(&one, &mut budget)
            .unwrap();
        assert_eq!(square, expanded);
        assert!(square.add(&expanded.neg(), &mut budget).unwrap().is_zero());
    }

    #[test]
    fn size_and_budget_limits_refuse_runaway_growth() {
        let mut budget = Budget::per_comparison();
        let two = Polynomial::constant(q(2, 1));
        assert_eq!(two.pow(1_000_000, &mut budget), Err(TooComplex));
        let x_plus_1 = x()
            .add(&Polynomial::constant(q(1, 1)), &mut budget)
            .unwrap();
        assert_eq!(x_plus_1.pow(10_000, &mut budget), Err(TooComplex));
        assert_eq!(x_plus_1.pow(40, &mut Budget::new(50)), Err(TooComplex));
        assert!(rational_power(&q(0, 1), &BigInt::from(-1)).is_err());
    }
}
