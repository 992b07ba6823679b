//! Finding and parsing the files of a recipe: the recipe itself, its relative imports, and the
//! `stdlib/…` modules embedded in the binary (so a recipe anywhere can import them).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::syntax::ast::Module;
use crate::syntax::{parse, Diagnostic, FileId, SourceMap, Span};

/// The modules shipped inside the binary, by import path.
pub const STDLIB: &[(&str, &str)] = &[("stdlib/eval.tulu", include_str!("../../stdlib/eval.tulu"))];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ModuleId(pub u32);

#[derive(Debug)]
pub struct LoadedModule {
    pub file: FileId,
    pub ast: std::rc::Rc<Module>,
    /// Relative paths in this module (imports, files it loads) resolve against this directory.
    /// Embedded stdlib modules resolve against the recipe's directory.
    pub base_dir: PathBuf,
}

/// Where a module came from: a canonical file path or an embedded stdlib name.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum ModuleKey {
    File(PathBuf),
    Stdlib(&'static str),
}

#[derive(Default)]
pub struct Loader {
    pub sources: SourceMap,
    pub modules: Vec<LoadedModule>,
    by_key: HashMap<ModuleKey, ModuleId>,
    /// `import … as alias` in a module → the imported module.
    pub imports: HashMap<(ModuleId, String), ModuleId>,
    /// Imports that failed (already reported): uses of their alias are not reported again.
    pub failed_imports: std::collections::HashSet<(ModuleId, String)>,
    /// Parse errors of loaded files; such a file is kept as an empty module.
    pub parse_errors: Vec<Diagnostic>,
}

impl Loader {
    pub fn new() -> Loader {
        Loader::default()
    }

    pub fn module(&self, id: ModuleId) -> &LoadedModule {
        &self.modules[id.0 as usize]
    }

    /// Load the root recipe from a file.
    pub fn load_root(&mut self, path: &Path) -> Result<ModuleId, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read recipe {}: {e}", path.display()))?;
        let canonical = path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
        let base_dir = canonical
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("."));
        let display = path.display().to_string();
        Ok(self.add_module(ModuleKey::File(canonical), display, text, base_dir))
    }

    /// Load the root recipe from text (tests, `tulu check -`).
    pub fn load_root_text(&mut self, name: &str, text: &str, base_dir: &Path) -> ModuleId {
        let key = ModuleKey::File(base_dir.join(name));
        self.add_module(
            key,
            name.to_string(),
            text.to_string(),
            base_dir.to_path_buf(),
        )
    }

    /// Resolve `import "path"` written in module `from`. Errors point at the path's span.
    pub fn import(
        &mut self,
        from: ModuleId,
        path: &str,
        span: Span,
    ) -> Result<ModuleId, Diagnostic> {
        if let Some(name) = path.strip_prefix("stdlib/").map(|_| path) {
            let Some((key, text)) = STDLIB.iter().find(|(k, _)| *k == name) else {
                let names: Vec<&str> = STDLIB.iter().map(|(k, _)| *k).collect();
                let mut d = Diagnostic::error(
                    "tulu::check::unknown-stdlib",
                    format!("there is no standard library module `{name}`"),
                    span,
                );
                d = match super::suggest::did_you_mean(name, names.iter().copied()) {
                    Some(hint) => d.with_help(hint),
                    None => d.with_help(format!("the standard library has: {}", names.join(", "))),
                };
                return Err(d);
            };
            let base_dir = self.module(ModuleId(0)).base_dir.clone();
            return Ok(self.add_module(
                ModuleKey::Stdlib(key),
                key.to_string(),
                text.to_string(),
                base_dir,
            ));
        }
        let base = self.module(from).base_dir.clone();
        let full = base.join(path);
        let canonical = full.canonicalize().map_err(|e| {
            Diagnostic::error(
                "tulu::check::import-not-found",
                format!("cannot read the imported module `{path}`: {e}"),
                span,
            )
            .with_label(format!("looked in {}", base.display()))
            .with_help("import paths are relative to the importing file; standard modules start with `stdlib/`")
        })?;
        let text = std::fs::read_to_string(&canonical).map_err(|e| {
            Diagnostic::error(
                "tulu::check::import-not-found",
                format!("cannot read the imported module `{path}`: {e}"),
                span,
            )
        })?;
        let dir = canonical
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| base.clone());
        Ok(self.add_module(
            ModuleKey::File(canonical),
            full.display().to_string(),
            text,
            dir,
        ))
    }

    fn add_module(
        &mut self,
        key: ModuleKey,
        display: String,
        text: String,
        base_dir: PathBuf,
    ) -> ModuleId {
        if let Some(id) = self.by_key.get(&key) {
            return *id;
        }
        let file = self.sources.add(display, text);
        let text = self.sources.get(file).text.clone();
        let ast = match parse(file, &text) {
            Ok(ast) => ast,
            Err(d) => {
                // Keep a placeholder so ids stay aligned, and report the parse error.
                self.parse_errors.push(d);
                self.modules.push(LoadedModule {
                    file,
                    ast: std::rc::Rc::new(Module {
                        items: vec![],
                        span: Span::new(file, 0, 0),
                    }),
                    base_dir,
                });
                let id = ModuleId(self.modules.len() as u32 - 1);
                self.by_key.insert(key, id);
                return id;
            }
        };
        self.modules.push(LoadedModule {
            file,
            ast: std::rc::Rc::new(ast),
            base_dir,
        });
        let id = ModuleId(self.modules.len() as u32 - 1);
        self.by_key.insert(key, id);
        id
    }
}

impl Loader {
    /// Resolve every import reachable from `root`, depth first, reporting missing modules and
    /// import cycles. Parse errors of imported modules are reported too.
    pub fn load_imports(&mut self, root: ModuleId) -> Vec<Diagnostic> {
        let mut diags = Vec::new();
        let mut stack = vec![root];
        let mut done = std::collections::HashSet::new();
        self.visit(root, &mut stack, &mut done, &mut diags);
        diags
    }

    fn visit(
        &mut self,
        id: ModuleId,
        stack: &mut Vec<ModuleId>,
        done: &mut std::collections::HashSet<ModuleId>,
        diags: &mut Vec<Diagnostic>,
    ) {
        if !done.insert(id) {
            return;
        }
        let imports: Vec<(String, String, Span)> = self
            .module(id)
            .ast
            .items
            .iter()
            .filter_map(|item| match item {
                crate::syntax::ast::Item::Import(i) => {
                    Some((i.path.clone(), i.alias.name.clone(), i.path_span))
                }
                _ => None,
            })
            .collect();
        for (path, alias, span) in imports {
            match self.import(id, &path, span) {
                Ok(target) => {
                    if stack.contains(&target) {
                        diags.push(
                            Diagnostic::error(
                                "tulu::check::import-cycle",
                                format!("importing `{path}` here makes a cycle of imports"),
                                span,
                            )
                            .with_help(
                                "move what both modules need into a third module that both import",
                            ),
                        );
                        continue;
                    }
                    self.imports.insert((id, alias), target);
                    stack.push(target);
                    self.visit(target, stack, done, diags);
                    stack.pop();
                }
                Err(d) => {
                    self.failed_imports.insert((id, alias));
                    diags.push(d)
                }
            }
        }
    }
}
