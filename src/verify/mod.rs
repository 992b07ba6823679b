//! Verifiers: GSM8K, MATH "flex", IFEval instruction checkers.

pub mod gsm8k;
pub mod ifeval;
pub mod math;
