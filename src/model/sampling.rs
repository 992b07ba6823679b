//! Choosing the next token from a row of logits: greedy, or sampled with temperature, top-k and
//! top-p (nucleus) filtering, from a seeded ChaCha stream.
//!
//! Order of operations (that of HF `generate` and vLLM): divide by the temperature, keep the
//! `top_k` most likely tokens, keep the smallest set of the most likely remaining tokens whose
//! probability reaches `top_p`, renormalise, draw. Ties are broken by the lower token id, and a
//! draw consumes exactly one `f64` from the stream, so a seed fixes every choice.

use super::llama_error::{LlamaError, LlamaResult};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

/// How the next token is chosen.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SamplingParams {
    /// 0 means greedy (argmax); otherwise logits are divided by it before sampling.
    pub temperature: f32,
    /// Keep only the `k` most likely tokens (`None`: no limit).
    pub top_k: Option<usize>,
    /// Keep the most likely tokens whose cumulative probability reaches `p` (`None` or 1: all).
    pub top_p: Option<f32>,
}

impl Default for SamplingParams {
    fn default() -> Self {
        Self::greedy()
    }
}

impl SamplingParams {
    /// Always the most likely token.
    pub fn greedy() -> Self {
        Self {
            temperature: 0.0,
            top_k: None,
            top_p: None,
        }
    }

    /// Plain sampling at `temperature`, no filtering.
    pub fn with_temperature(temperature: f32) -> Self {
        Self {
            temperature,
            top_k: None,
            top_p: None,
        }
    }

    pub fn is_greedy(&self) -> bool {
        self.temperature == 0.0
    }

    /// Rejects settings that have no meaning (negative temperature, `top_k` 0, `top_p` outside
    /// (0, 1]).
    pub fn validate(&self) -> LlamaResult<()> {
        if !(self.temperature.is_finite() && self.temperature >= 0.0) {
            return Err(LlamaError::InvalidInput(format!(
                "temperature must be 0 (greedy) or positive, got {}",
                self.temperature
            )));
        }
        if self.top_k == Some(0) {
            return Err(LlamaError::InvalidInput(
                "top_k must be at least 1 (or unset for no limit)".into(),
            ));
        }
        if let Some(p) = self.top_p {
            if !(p > 0.0 && p <= 1.0) {
                return Err(LlamaError::InvalidInput(format!(
                    "top_p must be in (0, 1], got {p}"
                )));
            }
        }
        Ok(())
    }
}

/// The index of the largest logit (lowest index among ties; NaN never wins).
pub fn argmax(logits: &[f32]) -> u32 {
    let mut best = 0;
    let mut best_value = f32::NEG_INFINITY;
    for (i, &v) in logits.iter().enumerate() {
        if v > best_value {
            best = i;
            best_value = v;
        }
    }
    best as u32
}

/// `log softmax(logits)[token]`, computed in f64.
pub fn log_prob_of(logits: &[f32], token: u32) -> f32 {
    let max = logits.iter().fold(f32::NEG_INFINITY, |m, &v| m.max(v)) as f64;
    let sum: f64 = logits.iter().map(|&v| (v as f64 - max).exp()).sum();
    (logits[token as usize] as f64 - max - sum.ln()) as f32
}

/// Draws tokens for one sequence.
#[derive(Debug, Clone)]
pub struct TokenSampler {
    params: SamplingParams,
    rng: ChaCha8Rng,
}

impl TokenSampler {
    /// A sampler on stream `stream` of the ChaCha8 generator seeded with `seed`: sequences of one
    /// batch use their index as the stream, so each has its own reproducible draws.
    pub fn new(params: SamplingParams, seed: u64, stream: u64) -> LlamaResult<Self> {
        params.validate()?;
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        rng.set_stream(stream);
        Ok(Self { params, rng })
    }

    /// The next token for a row of logits (which must not be empty).
    pub fn sample(&mut self, logits: &[f32]) -> u32 {
        if self.params.is_greedy() || logits.len() <= 1 {
            return argmax(logits);
        }
        let inv_temperature = 1.0 / self.params.temperature as f64;
        // Candidates as (token, scaled logit), most likely first, ties by token id.
        let mut candidates: Vec<(u32, f64)> = logits
            .iter()
            .enumerate()
            .filter(|(_, v)| !v.is_nan())
            .map(|(i, &v)| (i as u32, v as f64 * inv_temperature))
            .collect();
        if candidates.is_empty() {
            return 0;
        }
        let by_likelihood =
            |a: &(u32, f64), b: &(u32, f64)| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0));
        if let Some(k) = self.params.top_k {
            if k < candidates.len() {
                candidates.select_nth_unstable_by(k - 1, by_likelihood);
                candidates.truncate(k);
            }
        }
        candidates.sort_unstable_by(by_likelihood);
        let max = candidates[0].1;
        let mut probs: Vec<f64> = candidates.iter().map(|&(_, v)| (v - max).exp()).collect();
        let total: f64 = probs.iter().sum();
        probs.iter_mut().for_each(|p| *p /= total);
        if let Some(top_p) = self.params.top_p {
            let mut cumulative = 0.0;
            let mut keep = probs.len();
            for (i, p) in probs.iter().enumerate() {
                cumulative += p;
                if cumulative >= top_p as f64 {
                    keep = i + 1;
                    break;
                }
            }
            probs.truncate(keep);
        }
        let kept_total: f64 = probs.iter().sum();
        let mut draw = self.rng.random::<f64>() * kept_total;
        for (i, p) in probs.iter().enumerate() {
            if draw < *p {
                return candidates[i].0;
            }
            draw -= p;
        }
        // Rounding left the draw just past the last kept token.
        candidates[probs.len() - 1].0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOGITS: [f32; 6] = [1.0, 3.0, 2.9, -1.0, 0.5, 3.0];

    fn draws(params: SamplingParams, seed: u64, n: usize) -> Vec<u32> {
        let mut sampler = TokenSampler::new(params, seed, 0).unwrap();
        (0..n).map(|_| sampler.sample(&LOGITS)).collect()
    }

    #[test]
    fn greedy_takes_the_first_of_tied_maxima() {
        assert_eq!(draws(SamplingParams::greedy(), 1, 3), vec![1, 1, 1]);
        assert_eq!(argmax(&[f32::NAN, -1.0, 2.0]), 2);
    }

    #[test]
    fn sampling_is_deterministic_per_seed_and_differs_across_seeds_and_streams() {
        let params = SamplingParams::with_temperature(1.0);
        assert_eq!(draws(params, 5, 50), draws(params, 5, 50));
        assert_ne!(draws(params, 5, 50), draws(params, 6, 50));
        let mut other_stream = TokenSampler::new(params, 5, 1).unwrap();
        let other: Vec<u32> = (0..50).map(|_| other_stream.sample(&LOGITS)).collect();
        assert_ne!(draws(params, 5, 50), other);
    }

    #[test]
    fn top_k_and_top_p_restrict_the_candidates() {
        let top2 = SamplingParams {
            top_k: Some(2),
            ..SamplingParams::with_temperature(1.0)
        };
        assert!(draws(top2, 3, 200).iter().all(|&t| t == 1 || t == 5));
        // Tokens 1 and 5 hold ~62% of the mass; 2 brings it past 80%.
        let nucleus = SamplingParams {
            top_p: Some(0.8),
            ..SamplingParams::with_temperature(1.0)
        };
        let seen = draws(nucleus, 3, 300);
        assert!(seen.iter().all(|&t| [1, 2, 5].contains(&t)), "{seen:?}");
        assert!([1, 2, 5].iter().all(|t| seen.contains(t)));
        // A tiny p keeps only the most likely token.
        let tiny = SamplingParams {
            top_p: Some(1e-6),
            ..SamplingParams::with_temperature(1.0)
        };
        assert!(draws(tiny, 3, 20).iter().all(|&t| t == 1));
    }

    #[test]
    fn low_temperature_concentrates_and_high_temperature_spreads() {
        let cold = draws(SamplingParams::with_temperature(0.005), 9, 200);
        assert!(cold.iter().all(|&t| t == 1 || t == 5));
        let hot = draws(SamplingParams::with_temperature(50.0), 9, 300);
        assert!((0..6).all(|t| hot.contains(&t)));
    }

    #[test]
    fn invalid_settings_are_rejected() {
        for params in [
            SamplingParams::with_temperature(-1.0),
            SamplingParams::with_temperature(f32::NAN),
            SamplingParams {
                top_k: Some(0),
                ..SamplingParams::with_temperature(1.0)
            },
            SamplingParams {
                top_p: Some(1.5),
                ..SamplingParams::with_temperature(1.0)
            },
        ] {
            assert!(TokenSampler::new(params, 0, 0).is_err(), "{params:?}");
        }
    }

    #[test]
    fn log_prob_matches_a_direct_softmax() {
        let lp = log_prob_of(&[0.0, (2.0f32).ln()], 1);
        assert!((lp - (2.0f32 / 3.0).ln()).abs() < 1e-6);
    }
}
