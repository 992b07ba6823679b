//! `synth.arithmetic`: word problems with integer answers, made from templates and a seeded RNG.
//! Each row is a `Prompt` row (`prompt`, `ground_truth`, `dataset: "gsm8k"` so the GSM8K
//! verifier checks it) plus a worked `solution` that `render` turns into SFT targets.

use rand::Rng;
use rand_chacha::ChaCha8Rng;
use serde_json::{json, Map, Value as Json};

use super::{Op, OpCall, OpContext, Output};
use crate::check::signature::{ArgProblem, Args, CheckEnv, Constraint, ParamSpec};
use crate::check::{OpSignature, Schema, Type, Value};
use crate::data::{Dataset, Provenance, Row};

pub struct Arithmetic {
    signature: OpSignature,
}

impl Arithmetic {
    pub fn new() -> Arithmetic {
        Arithmetic {
            signature: OpSignature {
                name: "synth.arithmetic",
                version: 1,
                doc: "Arithmetic word problems with integer answers and worked solutions",
                params: vec![
                    ParamSpec::required("n", Type::Int, "how many problems")
                        .constrained(Constraint::between(1.0, 10_000_000.0)),
                    ParamSpec::with_default("seed", Type::Int, Value::Int(0), "the generator seed"),
                    ParamSpec::with_default(
                        "max_value",
                        Type::Int,
                        Value::Int(50),
                        "operands are drawn from 1..=max_value",
                    )
                    .constrained(Constraint::between(2.0, 1_000_000.0)),
                    ParamSpec::with_default(
                        "steps",
                        Type::Int,
                        Value::Int(2),
                        "at most this many operations per problem (1 or 2)",
                    )
                    .constrained(Constraint::between(1.0, 2.0)),
                ],
                output: |_: &Args, _: &CheckEnv| -> Result<Type, ArgProblem> {
                    Ok(Type::Dataset(Some(Schema::Prompt)))
                },
                complete: None,
            },
        }
    }
}

impl Default for Arithmetic {
    fn default() -> Self {
        Arithmetic::new()
    }
}

const NAMES: &[&str] = &[
    "Ana", "Ben", "Chen", "Dara", "Eli", "Farah", "Gus", "Hana", "Ivan", "June", "Kofi", "Lena",
    "Mo", "Nia", "Omar", "Pia",
];
const THINGS: &[&str] = &[
    "apples", "marbles", "stickers", "books", "coins", "pencils", "shells", "cards", "stamps",
    "cookies",
];

/// One generated problem.
struct Problem {
    prompt: String,
    solution: String,
    answer: i64,
}

fn pick<'a>(rng: &mut ChaCha8Rng, items: &'a [&'a str]) -> &'a str {
    items[rng.random_range(0..items.len())]
}

fn one_step(rng: &mut ChaCha8Rng, max: i64) -> Problem {
    let name = pick(rng, NAMES);
    let thing = pick(rng, THINGS);
    let a = rng.random_range(1..=max);
    let b = rng.random_range(1..=max);
    match rng.random_range(0..3) {
        0 => Problem {
            prompt: format!(
                "{name} has {a} {thing} and gets {b} more. How many {thing} does {name} have now?"
            ),
            solution: format!(
                "{name} has {a} + {b} = {} {thing}. The answer is {}.",
                a + b,
                a + b
            ),
            answer: a + b,
        },
        1 => {
            let (big, small) = (a.max(b), a.min(b));
            Problem {
                prompt: format!(
                    "{name} has {big} {thing} and gives away {small}. How many {thing} are left?"
                ),
                solution: format!(
                    "{name} has {big} - {small} = {} {thing} left. The answer is {}.",
                    big - small,
                    big - small
                ),
                answer: big - small,
            }
        }
        _ => {
            let bags = rng.random_range(2..=12.min(max.max(2)));
            Problem {
                prompt: format!("{name} has {bags} bags with {a} {thing} in each bag. How many {thing} does {name} have?"),
                solution: format!("{name} has {bags} * {a} = {} {thing}. The answer is {}.", bags * a, bags * a),
                answer: bags * a,
            }
        }
    }
}

fn two_steps(rng: &mut ChaCha8Rng, max: i64) -> Problem {
    let name = pick(rng, NAMES);
    let friend = pick(rng, NAMES);
    let thing = pick(rng, THINGS);
    let a = rng.random_range(1..=max);
    let b = rng.random_range(1..=max);
    let total = a + b;
    let c = rng.random_range(1..=total);
    Problem {
        prompt: format!(
            "{name} has {a} {thing}. {friend} gives {name} {b} more, and then {name} uses {c} of them. How many {thing} does {name} have now?"
        ),
        solution: format!(
            "{name} starts with {a} + {b} = {total} {thing}. After using {c}, {name} has {total} - {c} = {} {thing}. The answer is {}.",
            total - c,
            total - c
        ),
        answer: total - c,
    }
}

impl Op for Arithmetic {
    fn signature(&self) -> &OpSignature {
        &self.signature
    }

    fn execute(&self, call: &OpCall, ctx: &OpContext) -> anyhow::Result<Output> {
        let n = call.usize("n")?;
        let max = call.i64("max_value")?;
        let steps = call.i64("steps")?;
        let mut rng = ctx.rng();
        ctx.progress.set_total(n as u64, "problems");
        let mut rows = Vec::with_capacity(n);
        for index in 0..n {
            let problem = if steps >= 2 && rng.random_bool(0.4) {
                two_steps(&mut rng, max)
            } else {
                one_step(&mut rng, max)
            };
            let mut fields = Map::new();
            fields.insert("prompt".into(), Json::String(problem.prompt));
            fields.insert(
                "ground_truth".into(),
                Json::String(problem.answer.to_string()),
            );
            fields.insert("dataset".into(), json!("gsm8k"));
            fields.insert("solution".into(), Json::String(problem.solution));
            rows.push(Row::new(
                fields,
                Provenance {
                    source: "synth.arithmetic".into(),
                    index: index as u64,
                    license: "CC0-1.0".into(),
                },
            ));
        }
        ctx.progress.advance(n as u64);
        Ok(Output::Dataset(Dataset::new(Schema::Prompt, rows)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn solutions_end_with_the_answer_and_answers_are_non_negative() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        for _ in 0..500 {
            for p in [one_step(&mut rng, 50), two_steps(&mut rng, 50)] {
                assert!(p.answer >= 0);
                assert!(
                    p.solution
                        .ends_with(&format!("The answer is {}.", p.answer)),
                    "{}",
                    p.solution
                );
            }
        }
    }
}
