//! Every built-in op and constructor, by name.

use std::sync::LazyLock;

use super::Op;
use crate::check::{Catalog, CtorSignature, OpSignature};

pub struct Registry {
    ops: Vec<Box<dyn Op>>,
    ctors: Vec<CtorSignature>,
}

impl Registry {
    fn builtin() -> Registry {
        let ops: Vec<Box<dyn Op>> = vec![
            Box::new(super::load::Load::new()),
            Box::new(super::filter::Filter::new()),
            Box::new(super::sample::Sample::new()),
            Box::new(super::combine::Concat::new()),
            Box::new(super::combine::Mix::new()),
            Box::new(super::export::Export::new()),
            Box::new(super::synth::Arithmetic::new()),
            Box::new(super::render::Render::new()),
            Box::new(super::model_source::ModelSource::new()),
            Box::new(super::pretrain::Pretrain::new()),
            Box::new(super::sft::Sft::new()),
            Box::new(super::generate_op::Generate::new()),
            Box::new(super::eval::Eval::new()),
            Box::new(super::score::Score::new()),
            Box::new(super::dedup::Dedup::new()),
            Box::new(super::decontam::Decontam::new()),
        ];
        let mut ctors = Vec::new();
        ctors.extend(super::ctors::signatures());
        ctors.extend(super::verifier_ctors::signatures());
        Registry { ops, ctors }
    }

    pub fn get(&self, name: &str) -> Option<&dyn Op> {
        self.ops
            .iter()
            .find(|op| op.signature().name == name)
            .map(|op| op.as_ref())
    }

    pub fn ops(&self) -> impl Iterator<Item = &dyn Op> {
        self.ops.iter().map(|op| op.as_ref())
    }

    pub fn ctors(&self) -> &[CtorSignature] {
        &self.ctors
    }
}

impl Catalog for Registry {
    fn op(&self, name: &str) -> Option<&OpSignature> {
        self.get(name).map(|op| op.signature())
    }

    fn ctor(&self, name: &str) -> Option<&CtorSignature> {
        self.ctors.iter().find(|c| c.name == name)
    }

    fn names(&self) -> Vec<&'static str> {
        let mut names: Vec<&'static str> = self.ops.iter().map(|op| op.signature().name).collect();
        names.extend(self.ctors.iter().map(|c| c.name));
        names
    }
}

static REGISTRY: LazyLock<Registry> = LazyLock::new(Registry::builtin);

/// The program-wide registry.
pub fn registry() -> &'static Registry {
    &REGISTRY
}
