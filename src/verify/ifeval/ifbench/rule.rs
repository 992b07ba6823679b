//! A checker defined by a closure, which is how most IFBench checkers are built here.

use crate::verify::ifeval::checks::Check;

type RuleFn = dyn Fn(&str, &str) -> bool + Send + Sync;

/// An IFBench checker: its id (for `Debug`) and a pure function of (response, prompt).
pub struct Rule {
    id: &'static str,
    check: Box<RuleFn>,
}

impl Rule {
    /// A checker that only looks at the response.
    pub fn on_response(
        id: &'static str,
        check: impl Fn(&str) -> bool + Send + Sync + 'static,
    ) -> Box<dyn Check> {
        Box::new(Rule {
            id,
            check: Box::new(move |response, _prompt| check(response)),
        })
    }
}

impl std::fmt::Debug for Rule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Rule").field("id", &self.id).finish()
    }
}

impl Check for Rule {
    fn is_followed(&self, response: &str, prompt: &str) -> bool {
        (self.check)(response, prompt)
    }
}
