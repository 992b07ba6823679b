//! The work allowance of one answer comparison.
//!
//! Verifiers run inside RL loops on untrusted model output, so no input may hang a worker or
//! exhaust its memory. A wall-clock timeout would make rewards depend on machine load and break
//! the project's determinism rule, so the bound is a deterministic step count instead: every
//! costly operation (a term product, a trial division, a token) spends steps, and a comparison
//! that runs out gives up and counts as "not equal".

/// Steps one comparison of a candidate answer with a gold answer may spend.
pub(crate) const STEPS_PER_COMPARISON: u64 = 200_000;

/// Answers longer than this (after normalization) are compared as strings only, never parsed:
/// real final answers are short, and parsing a whole essay would only waste the budget.
pub(crate) const MAX_PARSED_ANSWER_BYTES: usize = 1_000;

/// Candidate answers longer than this are not normalized at all (only compared verbatim): the
/// whole-response fallback would otherwise run every normalization pass over an essay that
/// cannot equal a final answer anyway.
pub(crate) const MAX_NORMALIZED_ANSWER_BYTES: usize = 8_192;

/// Nesting depth of grammar levels the parser accepts (one bracket pair costs about five);
/// deeper input is rejected before it can overflow the stack.
pub(crate) const MAX_NESTING_DEPTH: usize = 200;

/// Largest integer (in bits) the exact algebra builds; larger ones count as too complex.
pub(crate) const MAX_INTEGER_BITS: u64 = 4_096;

/// Most terms one polynomial may hold.
pub(crate) const MAX_POLYNOMIAL_TERMS: usize = 256;

/// Largest integer exponent to which a sum is expanded, `(a+b)^n`.
pub(crate) const MAX_EXPANDED_EXPONENT: u64 = 40;

/// The budget ran out: the comparison is abandoned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct BudgetExhausted;

/// A deterministic, decreasing step counter.
#[derive(Debug, Clone)]
pub(crate) struct Budget {
    remaining: u64,
}

impl Budget {
    pub(crate) fn new(steps: u64) -> Self {
        Self { remaining: steps }
    }

    /// The allowance of one comparison.
    pub(crate) fn per_comparison() -> Self {
        Self::new(STEPS_PER_COMPARISON)
    }

    /// Takes `steps` from the allowance, or reports that it is spent.
    pub(crate) fn spend(&mut self, steps: u64) -> Result<(), BudgetExhausted> {
        if steps > self.remaining {
            self.remaining = 0;
            return Err(BudgetExhausted);
        }
        self.remaining -= steps;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spending_past_the_allowance_fails_and_stays_failed() {
        let mut budget = Budget::new(10);
        assert!(budget.spend(4).is_ok());
        assert!(budget.spend(6).is_ok());
        assert_eq!(budget.spend(1), Err(BudgetExhausted));
        assert_eq!(budget.spend(0), Ok(()));
        let mut budget = Budget::new(3);
        assert_eq!(budget.spend(5), Err(BudgetExhausted));
        assert_eq!(budget.spend(1), Err(BudgetExhausted));
    }
}
