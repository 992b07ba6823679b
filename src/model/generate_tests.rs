//! Tests of batched, cached generation.

use super::generate::{generate, greedy_decode_uncached, FinishReason, GenerationConfig};
use super::llama::Llama;
use super::llama_tests::tiny_config;
use super::sampling::SamplingParams;
use candle_core::Device;
use std::ops::ControlFlow;

/// A random model with enough weight scale that its predictions vary with the context.
fn model(kv_heads: usize) -> Llama {
    let config = tiny_config(false, kv_heads);
    let weights = Llama::init_random(&config, 21, &Device::Cpu)
        .unwrap()
        .to_tensors()
        .unwrap()
        .into_iter()
        .map(|(name, w)| {
            let w = if name.ends_with("norm.weight") {
                w
            } else {
                (w * 20.0).unwrap()
            };
            (name, w)
        })
        .collect();
    Llama::from_tensors(config, weights, &Device::Cpu).unwrap()
}

fn prompts() -> Vec<Vec<u32>> {
    vec![vec![3, 14, 15, 9], vec![2, 6], vec![5, 3, 5, 8, 9, 7, 9]]
}

fn run(
    model: &Llama,
    prompts: &[Vec<u32>],
    config: &GenerationConfig,
) -> Vec<super::generate::Generation> {
    generate(model, prompts, config, &mut |_| ControlFlow::Continue(())).unwrap()
}

#[test]
fn cached_batched_greedy_equals_uncached_decoding_token_for_token() {
    for kv_heads in [2, 4] {
        let model = model(kv_heads);
        let config = GenerationConfig::greedy(12, vec![]);
        let batched = run(&model, &prompts(), &config);
        for (prompt, generation) in prompts().iter().zip(&batched) {
            let reference = greedy_decode_uncached(&model, prompt, 12, &[]).unwrap();
            assert_eq!(generation.tokens, reference, "prompt {prompt:?}");
            assert_eq!(generation.finish_reason, FinishReason::MaxNewTokens);
            assert_eq!(generation.log_probs.len(), 12);
            assert!(generation
                .log_probs
                .iter()
                .all(|&lp| lp <= 0.0 && lp.is_finite()));
        }
        // The generated tokens are not trivially constant.
        let distinct: std::collections::BTreeSet<_> =
            batched.iter().flat_map(|g| g.tokens.clone()).collect();
        assert!(distinct.len() > 3, "{distinct:?}");
    }
}

#[test]
fn sampling_is_deterministic_per_seed_and_differs_across_seeds() {
    let model = model(2);
    let mut config = GenerationConfig {
        max_new_tokens: 10,
        sampling: SamplingParams {
            temperature: 1.5,
            top_k: Some(40),
            top_p: Some(0.95),
        },
        stop_token_ids: vec![],
        seed: 1,
    };
    let first = run(&model, &prompts(), &config);
    let again = run(&model, &prompts(), &config);
    assert_eq!(first, again);
    config.seed = 2;
    let other = run(&model, &prompts(), &config);
    assert_ne!(
        first.iter().map(|g| &g.tokens).collect::<Vec<_>>(),
        other.iter().map(|g| &g.tokens).collect::<Vec<_>>()
    );
}

#[test]
fn generation_stops_at_stop_tokens_and_at_max_tokens() {
    let model = model(2);
    let free = run(&model, &prompts(), &GenerationConfig::greedy(8, vec![]));
    // Stop on the third token the first prompt would generate.
    let stop = free[0].tokens[2];
    let stopped = run(&model, &prompts(), &GenerationConfig::greedy(8, vec![stop]));
    let first_stop = free[0].tokens.iter().position(|&t| t == stop).unwrap();
    assert_eq!(stopped[0].tokens, free[0].tokens[..=first_stop].to_vec());
    assert_eq!(stopped[0].finish_reason, FinishReason::StopToken(stop));
    // Every other sequence either stopped on the same token or ran to the limit, and what it
    // generated before stopping is unchanged by its neighbour finishing early.
    for (s, f) in stopped.iter().zip(&free) {
        match s.finish_reason {
            FinishReason::StopToken(t) => assert_eq!(t, stop),
            FinishReason::MaxNewTokens => assert_eq!(s.tokens.len(), 8),
            FinishReason::Cancelled => panic!("not cancelled"),
        }
        assert_eq!(s.tokens, f.tokens[..s.tokens.len()].to_vec());
    }
    let none = run(&model, &prompts(), &GenerationConfig::greedy(0, vec![]));
    assert!(none.iter().all(|g| g.tokens.is_empty()));
}

#[test]
fn progress_counts_tokens_and_can_cancel() {
    let model = model(2);
    let mut reports = Vec::new();
    let config = GenerationConfig::greedy(5, vec![]);
    generate(&model, &prompts(), &config, &mut |p| {
        reports.push(*p);
        ControlFlow::Continue(())
    })
    .unwrap();
    assert_eq!(reports.len(), 5);
    assert_eq!(reports.last().unwrap().generated_tokens, 15);
    assert_eq!(reports.last().unwrap().finished_sequences, 3);
    let cancelled = generate(&model, &prompts(), &config, &mut |p| {
        if p.generated_tokens >= 6 {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    })
    .unwrap();
    assert!(cancelled
        .iter()
        .all(|g| g.tokens.len() == 2 && g.finish_reason == FinishReason::Cancelled));
}

#[test]
fn bad_generation_requests_are_errors() {
    let model = model(2);
    let config = GenerationConfig::greedy(3, vec![]);
    let mut go_on = |_: &_| ControlFlow::Continue(());
    assert!(generate(&model, &[vec![]], &config, &mut go_on).is_err());
    assert!(generate(&model, &[vec![1, 999]], &config, &mut go_on).is_err());
    let mut hot = config.clone();
    hot.sampling.temperature = -1.0;
    assert!(generate(&model, &[vec![1]], &hot, &mut go_on).is_err());
    assert!(generate(&model, &[], &config, &mut go_on)
        .unwrap()
        .is_empty());
}
