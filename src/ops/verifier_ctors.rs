//! The verifier constructors a recipe uses as values: `verifier.gsm8k`, `verifier.math`,
//! `verifier.ifeval(mode: …)`, `verifier.auto(ifeval_mode: …)`. A bare name means the
//! constructor with its defaults. Ops read the value with `verify::Verifier::from_json`.

use crate::check::signature::{Constraint, ParamSpec};
use crate::check::{CtorSignature, Type, Value};
use crate::verify::verifier::{AUTO_CTOR, GSM8K_CTOR, IFEVAL_CTOR, MATH_CTOR, MODE_NAMES};

/// The type kind of verifier values.
pub const VERIFIER_KIND: &str = "Verifier";

pub fn signatures() -> Vec<CtorSignature> {
    let mode = |name: &'static str, doc: &'static str| {
        ParamSpec::with_default(name, Type::Str, Value::Str("strict".into()), doc)
            .constrained(Constraint::OneOf(MODE_NAMES))
    };
    let verifier = |name, doc, params| CtorSignature {
        name,
        kind: VERIFIER_KIND,
        doc,
        params,
        validate: None,
    };
    vec![
        verifier(
            GSM8K_CTOR,
            "GSM8K: the response's last number equals the gold number",
            vec![],
        ),
        verifier(
            MATH_CTOR,
            "MATH \"flex\": the last \\boxed{}, Minerva \"final answer is\" or last $…$ answer \
             is equivalent to the gold answer",
            vec![],
        ),
        verifier(
            IFEVAL_CTOR,
            "IFEval: the response follows every instruction of the row",
            vec![mode(
                "mode",
                "\"strict\" checks the response as written; \"loose\" also accepts it without \
                 its first or last line or its `*` markup",
            )],
        ),
        verifier(
            AUTO_CTOR,
            "Per row, the verifier its `dataset` field names: gsm8k, math or ifeval",
            vec![mode("ifeval_mode", "the IFEval mode for ifeval rows")],
        ),
    ]
}
