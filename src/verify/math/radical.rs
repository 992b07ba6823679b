//! Integer factorization for simplifying radicals (`\sqrt{12}` = `2\sqrt{3}`).
//!
//! Trial division only: answers hold small numbers, and the work is bounded by the budget. A
//! cofactor that trial division cannot split or prove prime is kept whole and the factorization
//! is marked incomplete, which tells the caller that the canonical form may not be unique.

use num_bigint::BigUint;
use num_traits::{One, ToPrimitive, Zero};

use super::budget::{Budget, BudgetExhausted};

/// Trial divisors go up to this bound for integers that fit in 64 bits; the remaining cofactor
/// is then prime whenever it is below the bound squared.
const TRIAL_LIMIT_SMALL: u64 = 1 << 16;
/// The bound for larger integers, where each division is a bignum operation.
const TRIAL_LIMIT_LARGE: u32 = 1_000;
/// Budget steps charged per this many trial divisions.
const DIVISIONS_PER_STEP: u64 = 16;

/// `n = Π base^exponent`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Factorization {
    /// Bases in increasing order; all prime when `complete`.
    pub(crate) factors: Vec<(BigUint, u64)>,
    /// False when a base may be composite.
    pub(crate) complete: bool,
}

/// Factors `n` (≥ 1).
pub(crate) fn factorize(
    n: &BigUint,
    budget: &mut Budget,
) -> Result<Factorization, BudgetExhausted> {
    match n.to_u64() {
        Some(small) => factorize_u64(small, budget),
        None => factorize_big(n, budget),
    }
}

fn factorize_u64(mut n: u64, budget: &mut Budget) -> Result<Factorization, BudgetExhausted> {
    let mut factors = Vec::new();
    let mut divisions = 0u64;
    let mut divisor = 2u64;
    while divisor <= TRIAL_LIMIT_SMALL && divisor.saturating_mul(divisor) <= n {
        divisions += 1;
        if divisions.is_multiple_of(DIVISIONS_PER_STEP) {
            budget.spend(1)?;
        }
        if n.is_multiple_of(divisor) {
            let mut exponent = 0;
            while n.is_multiple_of(divisor) {
                n /= divisor;
                exponent += 1;
            }
            factors.push((BigUint::from(divisor), exponent));
        }
        divisor += if divisor == 2 { 1 } else { 2 };
    }
    let proven = divisor.saturating_mul(divisor) > n;
    Ok(finish(factors, BigUint::from(n), proven))
}

fn factorize_big(n: &BigUint, budget: &mut Budget) -> Result<Factorization, BudgetExhausted> {
    let mut n = n.clone();
    let mut factors = Vec::new();
    let mut divisor = 2u32;
    while divisor <= TRIAL_LIMIT_LARGE {
        budget.spend(1)?;
        if (&n % divisor).is_zero() {
            let mut exponent = 0;
            while (&n % divisor).is_zero() {
                n /= divisor;
                exponent += 1;
            }
            factors.push((BigUint::from(divisor), exponent));
        }
        divisor += if divisor == 2 { 1 } else { 2 };
    }
    let bound = BigUint::from(divisor) * BigUint::from(divisor);
    let proven = n < bound;
    Ok(finish(factors, n, proven))
}

/// Adds the cofactor left by trial division; an unproven one is split as a perfect square or
/// cube when it is one, and kept whole otherwise.
fn finish(
    mut factors: Vec<(BigUint, u64)>,
    cofactor: BigUint,
    proven_prime: bool,
) -> Factorization {
    if cofactor.is_one() {
        return Factorization {
            factors,
            complete: true,
        };
    }
    if proven_prime {
        factors.push((cofactor, 1));
        return Factorization {
            factors,
            complete: true,
        };
    }
    let (base, exponent) = [2u32, 3]
        .into_iter()
        .find_map(|k| {
            let root = cofactor.nth_root(k);
            (root.pow(k) == cofactor).then_some((root, u64::from(k)))
        })
        .unwrap_or((cofactor, 1));
    factors.push((base, exponent));
    Factorization {
        factors,
        complete: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn factor(n: u64) -> Factorization {
        factorize(&BigUint::from(n), &mut Budget::per_comparison()).unwrap()
    }

    fn pairs(f: &Factorization) -> Vec<(u64, u64)> {
        f.factors
            .iter()
            .map(|(b, e)| (b.to_u64().unwrap(), *e))
            .collect()
    }

    #[test]
    fn small_numbers_factor_completely() {
        assert_eq!(pairs(&factor(1)), vec![]);
        assert_eq!(pairs(&factor(2)), vec![(2, 1)]);
        assert_eq!(pairs(&factor(12)), vec![(2, 2), (3, 1)]);
        assert_eq!(pairs(&factor(97)), vec![(97, 1)]);
        assert_eq!(pairs(&factor(1_000_000)), vec![(2, 6), (5, 6)]);
        assert!(factor(4_294_967_291).complete); // the largest prime below 2^32
    }

    #[test]
    fn large_cofactors_are_kept_whole_and_marked_incomplete() {
        // 4294967291 · 4294967279: two primes above the trial bound.
        let f = factor(4_294_967_291 * 4_294_967_279);
        assert!(!f.complete);
        assert_eq!(f.factors.len(), 1);
        // A perfect square of such a prime is recognised as a square.
        let p = BigUint::from(4_294_967_291u64);
        let f = factorize(&(&p * &p), &mut Budget::per_comparison()).unwrap();
        assert_eq!(f.factors, vec![(p, 2)]);
    }

    #[test]
    fn bignums_are_factored_by_small_primes() {
        let n = BigUint::from(2u32).pow(100) * BigUint::from(3u32);
        let f = factorize(&n, &mut Budget::per_comparison()).unwrap();
        assert!(f.complete);
        assert_eq!(
            f.factors,
            vec![(BigUint::from(2u32), 100), (BigUint::from(3u32), 1)]
        );
    }

    #[test]
    fn factoring_respects_the_budget() {
        let prime = BigUint::from(4_294_967_291u64);
        assert!(factorize(&prime, &mut Budget::new(10)).is_err());
    }
}
