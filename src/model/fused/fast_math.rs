//! A branch-free `exp` that the compiler vectorises. The softmax, SiLU and log-softmax kernels
//! evaluate millions of exponentials per training step; libm's `expf` is a scalar call that keeps
//! those loops from vectorising and measured as one of the largest costs of a step.

const LOG2_E: f32 = std::f32::consts::LOG2_E;
const LN2_HI: f32 = 0.693_359_4;
const LN2_LO: f32 = -2.121_944_4e-4;
/// 1.5 · 2²³: adding it rounds a float of magnitude below 2²² to the nearest integer.
const ROUND_MAGIC: f32 = 12_582_912.0;

/// `e^x` with a relative error below 2·10⁻⁷ for `x` in [-87, 88]; larger inputs saturate at e^88.3. Inputs below -87.3 give a tiny
/// positive number (≈1e-38) rather than 0: callers that need exact zeros (masked attention
/// entries) write them explicitly. NaN propagates.
#[inline(always)]
pub(crate) fn exp(x: f32) -> f32 {
    let x = x.clamp(-87.3, 88.3);
    // x = n·ln2 + r with |r| ≤ ln2/2, so e^x = 2^n · e^r.
    let shifted = x * LOG2_E + ROUND_MAGIC;
    let n = shifted - ROUND_MAGIC;
    let r = x - n * LN2_HI - n * LN2_LO;
    // Cephes' minimax polynomial for e^r on [-ln2/2, ln2/2].
    let mut p = 1.987_569_1e-4_f32;
    p = p * r + 1.398_199_9e-3;
    p = p * r + 8.333_452e-3;
    p = p * r + 4.166_579_6e-2;
    p = p * r + 1.666_666_5e-1;
    p = p * r + 0.5;
    let e_r = p * r * r + r + 1.0;
    let two_n = f32::from_bits(((n as i32 + 127) << 23) as u32);
    e_r * two_n
}

/// Runs `f` compiled for the widest vector unit the CPU has (AVX-512 or AVX2+FMA on x86-64),
/// falling back to the baseline target. The crate is built for generic x86-64 (SSE2), so without
/// this the kernels' elementwise loops (`exp` above all) run 4 lanes wide instead of 16. `f` must
/// be `#[inline(always)]` so that its body is compiled inside the feature-enabled function.
#[inline(always)]
pub(crate) fn vectorized<R>(f: impl FnOnce() -> R) -> R {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx512f") {
            // SAFETY: the CPU supports the features the function is compiled for.
            return unsafe { with_avx512(f) };
        }
        if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
        {
            // SAFETY: as above.
            return unsafe { with_avx2(f) };
        }
    }
    f()
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx2,fma")]
unsafe fn with_avx512<R>(f: impl FnOnce() -> R) -> R {
    f()
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn with_avx2<R>(f: impl FnOnce() -> R) -> R {
    f()
}

/// The logistic function 1 / (1 + e^-x).
#[inline(always)]
pub(crate) fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + exp(-x))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exp_matches_std_across_the_range() {
        let mut worst = 0.0f64;
        let mut x = -87.0f32;
        while x < 88.0 {
            let want = (x as f64).exp();
            let got = exp(x) as f64;
            worst = worst.max(((got - want) / want).abs());
            x += 0.013;
        }
        assert!(worst < 3e-7, "worst relative error {worst}");
    }

    #[test]
    fn exp_handles_extremes() {
        assert!(exp(-1000.0) < 1e-37);
        assert!(exp(f32::NEG_INFINITY) < 1e-37);
        assert!(exp(f32::NAN).is_nan());
        assert!((exp(0.0) - 1.0).abs() < 1e-7);
        assert!((sigmoid(0.0) - 0.5).abs() < 1e-7);
        assert!(sigmoid(-200.0) < 1e-30 && sigmoid(200.0) == 1.0);
    }
}
