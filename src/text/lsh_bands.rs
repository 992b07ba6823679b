//! LSH banding: split a MinHash signature into `bands` bands of `rows` slots; two documents become
//! a candidate pair when all slots of at least one band agree. For documents of Jaccard
//! similarity `s` that happens with probability `1 − (1 − sʳ)ᵇ`, an S-curve around the threshold.
//!
//! [`LshBands::optimal`] picks `(b, r)` the way datasketch's `MinHashLSH` does: over all `b ≥ 1`,
//! `r ≥ 1` with `b·r ≤ num_perm`, minimize `½·FP + ½·FN`, where
//! `FP = ∫₀ᵗ 1 − (1 − sʳ)ᵇ ds` (pairs below the threshold that would become candidates) and
//! `FN = ∫ₜ¹ (1 − sʳ)ᵇ ds` (pairs above it that would be missed); ties keep the first found,
//! scanning `b` then `r` upwards. For threshold 0.8 and 128 permutations this gives 9 bands of
//! 13 rows (117 slots banded; all 128 still count in the Jaccard estimate).

use serde::{Deserialize, Serialize};

use super::error::{check_unit_threshold, TextError};
use super::minhash::MAX_NUM_PERM;

/// How a signature is cut into bands for candidate generation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct LshBands {
    /// Number of bands.
    pub bands: usize,
    /// Signature slots per band.
    pub rows: usize,
}

impl LshBands {
    /// The banding minimizing the equally weighted false-positive and false-negative areas for
    /// `threshold` in (0, 1] and `num_perm` permutations; see the module docs.
    pub fn optimal(threshold: f64, num_perm: usize) -> Result<Self, TextError> {
        check_unit_threshold("threshold", threshold, false, true)?;
        if num_perm == 0 || num_perm > MAX_NUM_PERM {
            return Err(TextError::InvalidNumPerm {
                num_perm,
                max: MAX_NUM_PERM,
            });
        }
        let mut best = Self { bands: 1, rows: 1 };
        let mut best_error = f64::INFINITY;
        for bands in 1..=num_perm {
            for rows in 1..=num_perm / bands {
                let candidate = Self { bands, rows };
                let false_positive =
                    integrate(|s| candidate.candidate_probability(s), 0.0, threshold);
                let false_negative =
                    integrate(|s| 1.0 - candidate.candidate_probability(s), threshold, 1.0);
                let error = 0.5 * false_positive + 0.5 * false_negative;
                if error < best_error {
                    best_error = error;
                    best = candidate;
                }
            }
        }
        Ok(best)
    }

    /// Checks that the bands fit in a signature of `num_perm` slots.
    pub fn validate(&self, num_perm: usize) -> Result<(), TextError> {
        let needed = self.bands.saturating_mul(self.rows);
        if self.bands == 0 || self.rows == 0 || needed > num_perm {
            return Err(TextError::InvalidBands {
                bands: self.bands,
                rows: self.rows,
                needed,
                num_perm,
            });
        }
        Ok(())
    }

    /// Probability that two documents of Jaccard similarity `jaccard` share at least one band.
    pub fn candidate_probability(&self, jaccard: f64) -> f64 {
        let rows = i32::try_from(self.rows).unwrap_or(i32::MAX);
        let bands = i32::try_from(self.bands).unwrap_or(i32::MAX);
        1.0 - (1.0 - jaccard.powi(rows)).powi(bands)
    }
}

/// Adaptive Simpson quadrature; the integrands are smooth polynomials on [0, 1], for which this
/// reaches ~1e-12 absolute error in a few hundred evaluations.
const MAX_DEPTH: u32 = 40;

fn integrate(f: impl Fn(f64) -> f64, a: f64, b: f64) -> f64 {
    const TOLERANCE: f64 = 1e-12;
    if b <= a {
        return 0.0;
    }
    let fa = f(a);
    let fb = f(b);
    let m = 0.5 * (a + b);
    let fm = f(m);
    let whole = (b - a) / 6.0 * (fa + 4.0 * fm + fb);
    simpson_step(&f, [a, m, b], [fa, fm, fb], whole, TOLERANCE, MAX_DEPTH)
}

fn simpson_step(
    f: &impl Fn(f64) -> f64,
    [a, m, b]: [f64; 3],
    [fa, fm, fb]: [f64; 3],
    whole: f64,
    tolerance: f64,
    depth: u32,
) -> f64 {
    let left_mid = 0.5 * (a + m);
    let right_mid = 0.5 * (m + b);
    let f_left_mid = f(left_mid);
    let f_right_mid = f(right_mid);
    let left = (m - a) / 6.0 * (fa + 4.0 * f_left_mid + fm);
    let right = (b - m) / 6.0 * (fm + 4.0 * f_right_mid + fb);
    let delta = left + right - whole;
    // On the first four levels the few samples can all miss a narrow S-curve step and agree by
    // accident, so those levels always split.
    let split_enough = depth <= MAX_DEPTH - 4;
    if depth == 0 || (split_enough && delta.abs() <= 15.0 * tolerance) {
        return left + right + delta / 15.0;
    }
    simpson_step(
        f,
        [a, left_mid, m],
        [fa, f_left_mid, fm],
        left,
        tolerance / 2.0,
        depth - 1,
    ) + simpson_step(
        f,
        [m, right_mid, b],
        [fm, f_right_mid, fb],
        right,
        tolerance / 2.0,
        depth - 1,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `(threshold, num_perm, bands, rows)` as datasketch 2.0's `_optimal_param` returns them.
    const DATASKETCH_CHOICES: &[(f64, usize, usize, usize)] = &[
        (0.5, 16, 5, 3),
        (0.6, 16, 4, 4),
        (0.7, 16, 3, 5),
        (0.75, 16, 2, 6),
        (0.8, 16, 2, 8),
        (0.9, 16, 1, 15),
        (0.95, 16, 1, 16),
        (0.5, 32, 8, 4),
        (0.75, 32, 4, 8),
        (0.9, 32, 2, 16),
        (0.95, 32, 1, 32),
        (0.5, 64, 14, 4),
        (0.6, 64, 10, 6),
        (0.7, 64, 8, 8),
        (0.75, 64, 7, 9),
        (0.8, 64, 5, 11),
        (0.85, 64, 4, 15),
        (0.9, 64, 3, 21),
        (0.95, 64, 2, 32),
        (0.5, 100, 20, 5),
        (0.8, 100, 8, 12),
        (0.95, 100, 3, 33),
        (0.5, 128, 25, 5),
        (0.6, 128, 18, 7),
        (0.7, 128, 14, 9),
        (0.75, 128, 11, 11),
        (0.8, 128, 9, 13),
        (0.85, 128, 8, 16),
        (0.9, 128, 5, 25),
        (0.95, 128, 3, 42),
        (0.7, 200, 20, 10),
        (0.8, 200, 14, 14),
        (0.5, 256, 42, 6),
        (0.8, 256, 17, 15),
        (0.9, 256, 9, 28),
        (0.95, 256, 5, 51),
    ];

    #[test]
    fn matches_datasketch_choices() {
        for &(threshold, num_perm, bands, rows) in DATASKETCH_CHOICES {
            assert_eq!(
                LshBands::optimal(threshold, num_perm).unwrap(),
                LshBands { bands, rows },
                "threshold {threshold}, num_perm {num_perm}"
            );
        }
    }

    #[test]
    fn rejects_bad_parameters() {
        assert!(LshBands::optimal(0.0, 128).is_err());
        assert!(LshBands::optimal(1.5, 128).is_err());
        assert!(LshBands::optimal(f64::NAN, 128).is_err());
        assert!(LshBands::optimal(0.8, 0).is_err());
        assert!(LshBands { bands: 9, rows: 13 }.validate(128).is_ok());
        assert!(LshBands { bands: 9, rows: 15 }.validate(128).is_err());
        assert!(LshBands { bands: 0, rows: 1 }.validate(128).is_err());
        assert!(LshBands {
            bands: usize::MAX,
            rows: 2
        }
        .validate(128)
        .is_err());
    }

    #[test]
    fn quadrature_is_accurate() {
        // ∫₀¹ x⁹ dx = 0.1; a steep S-curve integrates to the closed form of its polynomial.
        assert!((integrate(|x| x.powi(9), 0.0, 1.0) - 0.1).abs() < 1e-12);
        let bands = LshBands { bands: 1, rows: 20 };
        let exact = 0.9_f64.powi(21) / 21.0;
        assert!((integrate(|s| bands.candidate_probability(s), 0.0, 0.9) - exact).abs() < 1e-12);
    }

    #[test]
    fn candidate_probability_is_an_s_curve() {
        let bands = LshBands { bands: 9, rows: 13 };
        assert!(bands.candidate_probability(0.5) < 0.01);
        assert!(bands.candidate_probability(0.95) > 0.99);
        assert_eq!(bands.candidate_probability(0.0), 0.0);
        assert_eq!(bands.candidate_probability(1.0), 1.0);
    }
}
