//! Imports, name resolution, types and op signatures: a parsed recipe becomes a checked [`Plan`]
//! before anything runs. Every problem is reported, each as a diagnostic with a span.

mod eval;
pub mod loader;
pub mod plan;
pub mod signature;
pub mod suggest;
pub mod types;
pub mod value;

use std::path::Path;

pub use eval::resolve_path;
pub use plan::{Plan, PlanInput, PlanNode};
pub use signature::{Catalog, CtorSignature, OpSignature, ParamSpec};
pub use types::{Schema, Type};
pub use value::{NodeId, Value};

use crate::syntax::{parse_value, Diagnostic, SourceMap, Span};
use eval::{Checker, Override};
use loader::Loader;

/// A recipe that did not check: every diagnostic, and the sources to render them against.
#[derive(Debug)]
pub struct CheckFailure {
    pub sources: SourceMap,
    pub diagnostics: Vec<Diagnostic>,
}

impl CheckFailure {
    pub fn render(&self, fancy: bool) -> String {
        crate::syntax::diagnostic::render_all(&self.diagnostics, &self.sources, fancy)
    }

    pub fn error_count(&self) -> usize {
        self.diagnostics.iter().filter(|d| d.is_error()).count()
    }
}

/// Check the recipe at `path`, with `--set name=value` overrides.
pub fn check_file(
    path: &Path,
    overrides: &[(String, String)],
    catalog: &'static dyn Catalog,
) -> Result<Plan, CheckFailure> {
    let mut loader = Loader::new();
    if let Err(message) = loader.load_root(path) {
        let mut sources = SourceMap::new();
        let file = sources.add("<command line>", path.display().to_string());
        let text_len = path.display().to_string().len();
        return Err(CheckFailure {
            sources,
            diagnostics: vec![Diagnostic::error(
                "tulu::check::no-recipe",
                message,
                Span::new(file, 0, text_len),
            )],
        });
    }
    let recipe_path = path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
    run_checker(loader, overrides, catalog, recipe_path)
}

/// Check recipe text as if it were a file named `name` in `base_dir`.
pub fn check_text(
    name: &str,
    text: &str,
    base_dir: &Path,
    overrides: &[(String, String)],
    catalog: &'static dyn Catalog,
) -> Result<Plan, CheckFailure> {
    let mut loader = Loader::new();
    loader.load_root_text(name, text, base_dir);
    run_checker(loader, overrides, catalog, base_dir.join(name))
}

fn run_checker(
    mut loader: Loader,
    overrides: &[(String, String)],
    catalog: &'static dyn Catalog,
    recipe_path: std::path::PathBuf,
) -> Result<Plan, CheckFailure> {
    let mut diagnostics = Vec::new();
    // A parse error in the root leaves an empty module; report it and stop there. (Only the root
    // is loaded yet, so an error here is the root's: no need to parse it a second time.)
    if let Some(d) = loader.parse_errors.pop() {
        return Err(CheckFailure {
            sources: loader.sources,
            diagnostics: vec![d],
        });
    }
    let parsed = parse_overrides(&mut loader.sources, overrides, &mut diagnostics);
    let mut checker = Checker::new(catalog, loader, parsed);
    checker.check_root();
    // Parse errors of imported modules come first: they explain what follows.
    diagnostics.append(&mut checker.loader.parse_errors);
    diagnostics.append(&mut checker.diags);
    let (errors, warnings): (Vec<Diagnostic>, Vec<Diagnostic>) =
        diagnostics.into_iter().partition(Diagnostic::is_error);
    if !errors.is_empty() {
        let mut all = errors;
        dedup_diagnostics(&mut all);
        all.extend(warnings);
        return Err(CheckFailure {
            sources: checker.loader.sources,
            diagnostics: all,
        });
    }
    Ok(Plan {
        sources: checker.loader.sources,
        nodes: checker.nodes,
        recipe_path,
        warnings,
    })
}

/// The same mistake inside a def called twice is one diagnostic.
fn dedup_diagnostics(diags: &mut Vec<Diagnostic>) {
    let mut seen = std::collections::HashSet::new();
    diags.retain(|d| {
        seen.insert((
            d.code,
            d.message.clone(),
            d.primary.span.file,
            d.primary.span.start,
            d.primary.span.end,
        ))
    });
}

/// Each `--set name=value` becomes a small source file of its own, so a bad override is
/// reported like any recipe error, pointing at the text the user typed.
fn parse_overrides(
    sources: &mut SourceMap,
    overrides: &[(String, String)],
    diags: &mut Vec<Diagnostic>,
) -> Vec<Override> {
    let mut out = Vec::new();
    for (name, raw) in overrides {
        let text = format!("--set {name}={raw}");
        let file = sources.add("<command line>", text.clone());
        let name_start = "--set ".len();
        let value_start = name_start + name.len() + 1;
        let name_span = Span::new(file, name_start, name_start + name.len());
        let value_span = Span::new(file, value_start, text.len());
        if out.iter().any(|o: &Override| o.name == *name) {
            diags.push(Diagnostic::error(
                "tulu::check::duplicate-override",
                format!("`{name}` is set twice on the command line"),
                name_span,
            ));
            continue;
        }
        let padded = format!("{}{raw}", " ".repeat(value_start));
        let value = parse_value(file, &padded).ok();
        out.push(Override {
            name: name.clone(),
            name_span,
            value,
            value_span,
            raw: raw.clone(),
            used: false,
        });
    }
    out
}

#[cfg(test)]
mod tests;
