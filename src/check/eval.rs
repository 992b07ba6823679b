//! The checker proper: evaluates a recipe's bindings to values, turning every op call into a plan
//! node, and reports every problem it finds (not only the first) as a diagnostic with a span.
//!
//! Semantics worth knowing:
//! - Top-level names of a module may be used before they are defined (the recipe is a graph, not
//!   a script); a binding that depends on itself is an error.
//! - Every binding of the root recipe becomes part of the plan; bindings of imported modules are
//!   checked and planned only when something uses them, so a large library module costs nothing.
//! - A `def` is expanded at each call; its bindings are named after the binding that called it
//!   (`let t = tulu3(…)` creates `t.sft`, `t.dpo`, …).
//! - Two calls of the same op with the same params and inputs are one node.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use super::loader::{Loader, ModuleId};
use super::plan::{PlanInput, PlanNode};
use super::signature::{Args, Catalog, CheckEnv, CtorSignature, Default, OpSignature, ParamSpec};
use super::suggest::did_you_mean;
use super::types::{Schema, Type, TYPE_NAMES};
use super::value::{Ctor, InputRef, NodeId, Value};
use crate::syntax::ast::{Binding, Def, Expr, ExprKind, Ident, Item, TypeExpr};
use crate::syntax::{Diagnostic, Span};

/// A `--set name=value` from the command line, already parsed.
pub struct Override {
    pub name: String,
    pub name_span: Span,
    /// `None` when the text is not a value of the language (then it can only be a string).
    pub value: Option<Expr>,
    pub value_span: Span,
    pub raw: String,
    pub used: bool,
}

/// Names a module defines at top level.
struct ModuleScope {
    /// `""` for the root, `"eval."` for a module imported as `eval`.
    prefix: String,
    lets: HashMap<String, Rc<Binding>>,
    params: HashMap<String, usize>,
    defs: HashMap<String, Rc<Def>>,
    values: HashMap<String, Slot>,
}

enum Slot {
    InProgress,
    Done(Value),
}

/// The scope of one expansion of a `def`.
struct Frame {
    prefix: String,
    params: HashMap<String, Value>,
    lets: HashMap<String, Rc<Binding>>,
    values: HashMap<String, Slot>,
}

#[derive(Clone, Copy)]
struct Env {
    module: ModuleId,
    frame: Option<usize>,
}

/// How nodes created while evaluating one binding are named: the binding's qualified name for
/// the value it ends with, `name/op` for intermediate ones.
struct Names {
    base: String,
    counts: HashMap<String, usize>,
}

impl Names {
    fn new(base: String) -> Names {
        Names {
            base,
            counts: HashMap::new(),
        }
    }

    fn intermediate(&mut self, op: &str) -> String {
        let short = op.rsplit('.').next().unwrap_or(op);
        let n = self.counts.entry(short.to_string()).or_insert(0);
        *n += 1;
        if *n == 1 {
            format!("{}/{short}", self.base)
        } else {
            format!("{}/{short}#{n}", self.base)
        }
    }
}

/// Arguments bound to params (signature order), and where each given one was written.
type BoundArgs = (
    Vec<(&'static str, Option<Value>)>,
    HashMap<&'static str, Span>,
);

enum Callable {
    Op(&'static OpSignature),
    Ctor(&'static CtorSignature),
    Def(ModuleId, Rc<Def>),
}

struct EvaluatedArg {
    name: Option<Ident>,
    value: Value,
    span: Span,
}

/// The most work checking one recipe may take, in evaluation steps plus values copied. Checking a
/// 10,000-node recipe takes about 100,000; a def that calls another def twice, or a list built from
/// another one twice (`[a, a]`), doubles the work at each level, and 30 such lines would otherwise
/// take hours and all memory before anything is reported.
pub const MAX_CHECK_STEPS: usize = 2_000_000;

pub struct Checker {
    catalog: &'static dyn Catalog,
    /// Work done so far, against [`MAX_CHECK_STEPS`].
    steps: usize,
    pub loader: Loader,
    pub diags: Vec<Diagnostic>,
    pub nodes: Vec<PlanNode>,
    structural: HashMap<blake3::Hash, NodeId>,
    overrides: Vec<Override>,
    scopes: HashMap<ModuleId, ModuleScope>,
    frames: Vec<Frame>,
    def_stack: Vec<(ModuleId, String)>,
    binding_stack: Vec<String>,
}

impl Checker {
    /// `catalog` is the program-wide registry of ops and constructors.
    pub fn new(catalog: &'static dyn Catalog, loader: Loader, overrides: Vec<Override>) -> Checker {
        Checker {
            catalog,
            steps: 0,
            loader,
            diags: Vec::new(),
            nodes: Vec::new(),
            structural: HashMap::new(),
            overrides,
            scopes: HashMap::new(),
            frames: Vec::new(),
            def_stack: Vec::new(),
            binding_stack: Vec::new(),
        }
    }

    /// Check the root module (id 0) and everything it uses.
    pub fn check_root(&mut self) {
        let root = ModuleId(0);
        let mut diags = self.loader.load_imports(root);
        self.diags.append(&mut diags);
        self.build_scopes(root);
        self.check_overrides_exist();
        let ast = self.loader.module(root).ast.clone();
        let env = Env {
            module: root,
            frame: None,
        };
        for item in &ast.items {
            match item {
                Item::Param(p) => {
                    self.module_param(root, &p.name.name);
                }
                Item::Let(b) => {
                    self.module_let(env, &b.name.name);
                }
                _ => {}
            }
        }
    }

    // ---- scopes --------------------------------------------------------------------------------

    /// Index every module's top-level names, reporting duplicates; prefixes follow the import
    /// aliases from the root.
    fn build_scopes(&mut self, root: ModuleId) {
        let mut queue = vec![(root, String::new())];
        while let Some((id, prefix)) = queue.pop() {
            if self.scopes.contains_key(&id) {
                continue;
            }
            let ast = self.loader.module(id).ast.clone();
            let mut scope = ModuleScope {
                prefix: prefix.clone(),
                lets: HashMap::new(),
                params: HashMap::new(),
                defs: HashMap::new(),
                values: HashMap::new(),
            };
            let mut seen: HashMap<String, Span> = HashMap::new();
            for (index, item) in ast.items.iter().enumerate() {
                let name = match item {
                    Item::Import(i) => &i.alias,
                    Item::Param(p) => &p.name,
                    Item::Let(b) => &b.name,
                    Item::Def(d) => &d.name,
                };
                if let Some(first) = seen.get(&name.name) {
                    self.diags.push(
                        Diagnostic::error(
                            "tulu::check::duplicate-name",
                            format!("`{}` is defined more than once", name.name),
                            name.span,
                        )
                        .with_label("defined again here")
                        .with_secondary(*first, "first defined here")
                        .with_help("rename one of them; every name in a recipe names one thing"),
                    );
                    continue;
                }
                seen.insert(name.name.clone(), name.span);
                match item {
                    Item::Import(i) => {
                        if let Some(target) = self.loader.imports.get(&(id, i.alias.name.clone())) {
                            queue.push((*target, format!("{prefix}{}.", i.alias.name)));
                        }
                    }
                    Item::Param(p) => {
                        scope.params.insert(p.name.name.clone(), index);
                    }
                    Item::Let(b) => {
                        scope.lets.insert(b.name.name.clone(), Rc::new(b.clone()));
                    }
                    Item::Def(d) => {
                        scope.defs.insert(d.name.name.clone(), Rc::new(d.clone()));
                    }
                }
            }
            self.scopes.insert(id, scope);
        }
    }

    fn check_overrides_exist(&mut self) {
        let mut known = Vec::new();
        for scope in self.scopes.values() {
            for name in scope.params.keys() {
                known.push(format!("{}{name}", scope.prefix));
            }
        }
        known.sort();
        for o in &self.overrides {
            if !known.contains(&o.name) {
                let mut d = Diagnostic::error(
                    "tulu::check::unknown-param",
                    format!(
                        "`--set {}`: the recipe has no param named `{}`",
                        o.name, o.name
                    ),
                    o.name_span,
                );
                d = match did_you_mean(&o.name, known.iter().map(String::as_str)) {
                    Some(hint) => d.with_help(hint),
                    None if known.is_empty() => d.with_help("this recipe declares no params"),
                    None => d.with_help(format!("the recipe's params are: {}", known.join(", "))),
                };
                self.diags.push(d);
            }
        }
    }

    // ---- names ---------------------------------------------------------------------------------

    /// The value of a top-level `let` of a module (or of a def frame), evaluating it on first use.
    fn module_let(&mut self, env: Env, name: &str) -> Option<Value> {
        let (binding, qualified) = match env.frame {
            Some(f) => {
                let frame = &self.frames[f];
                match frame.values.get(name) {
                    Some(Slot::Done(v)) => return Some(v.clone()),
                    Some(Slot::InProgress) => {
                        return Some(
                            self.cycle_error(name, frame.lets.get(name).map(|b| b.name.span)),
                        )
                    }
                    None => {}
                }
                let b = frame.lets.get(name)?.clone();
                (b, format!("{}{name}", frame.prefix))
            }
            None => {
                let scope = &self.scopes[&env.module];
                match scope.values.get(name) {
                    Some(Slot::Done(v)) => return Some(v.clone()),
                    Some(Slot::InProgress) => {
                        let span = scope.lets.get(name).map(|b| b.name.span);
                        return Some(self.cycle_error(name, span));
                    }
                    None => {}
                }
                let b = scope.lets.get(name)?.clone();
                (b, format!("{}{name}", scope.prefix))
            }
        };
        self.set_slot(env, name, Slot::InProgress);
        self.binding_stack.push(name.to_string());
        let value = self.eval_binding(env, &binding, qualified);
        self.binding_stack.pop();
        self.set_slot(env, name, Slot::Done(value.clone()));
        Some(value)
    }

    fn set_slot(&mut self, env: Env, name: &str, slot: Slot) {
        match env.frame {
            Some(f) => {
                self.frames[f].values.insert(name.to_string(), slot);
            }
            None => {
                if let Some(scope) = self.scopes.get_mut(&env.module) {
                    scope.values.insert(name.to_string(), slot);
                }
            }
        }
    }

    fn cycle_error(&mut self, name: &str, span: Option<Span>) -> Value {
        let start = self
            .binding_stack
            .iter()
            .position(|n| n == name)
            .unwrap_or(0);
        let mut chain: Vec<&str> = self.binding_stack[start..]
            .iter()
            .map(String::as_str)
            .collect();
        chain.push(name);
        if let Some(span) = span {
            self.diags.push(
                Diagnostic::error(
                    "tulu::check::cycle",
                    format!("`{name}` depends on itself: {}", chain.join(" → ")),
                    span,
                )
                .with_help(
                    "a recipe is a graph without cycles; break the loop by renaming one use",
                ),
            );
        }
        Value::Poison
    }

    fn eval_binding(&mut self, env: Env, binding: &Binding, qualified: String) -> Value {
        let first_new = self.nodes.len();
        let mut names = Names::new(qualified.clone());
        let value = self.eval(env, &binding.value, &mut names);
        if let Value::Node(id, _) = &value {
            if id.0 as usize >= first_new {
                let node = &mut self.nodes[id.0 as usize];
                node.name = qualified;
                node.span = binding.span;
            } else {
                let node = &mut self.nodes[id.0 as usize];
                if node.name != qualified && !node.aliases.contains(&qualified) {
                    node.aliases.push(qualified);
                }
            }
        }
        value
    }

    fn module_param(&mut self, module: ModuleId, name: &str) -> Option<Value> {
        let scope = self.scopes.get(&module)?;
        if let Some(Slot::Done(v)) = scope.values.get(name) {
            return Some(v.clone());
        }
        let index = *scope.params.get(name)?;
        let qualified = format!("{}{name}", scope.prefix);
        let ast = self.loader.module(module).ast.clone();
        let Item::Param(decl) = &ast.items[index] else {
            return None;
        };
        self.set_slot(
            Env {
                module,
                frame: None,
            },
            name,
            Slot::InProgress,
        );
        let declared = decl.ty.as_ref().and_then(|t| self.resolve_type(t));
        let env = Env {
            module,
            frame: None,
        };
        let override_index = self.overrides.iter().position(|o| o.name == qualified);
        let value = match override_index {
            Some(i) => {
                self.overrides[i].used = true;
                let expr = self.overrides[i].value.clone();
                let raw = self.overrides[i].raw.clone();
                let value_span = self.overrides[i].value_span;
                let default_type = declared.clone().unwrap_or_else(|| {
                    let mut names = Names::new(qualified.clone());
                    self.eval(env, &decl.default, &mut names).type_of()
                });
                self.override_value(expr.as_ref(), value_span, &raw, &default_type)
            }
            None => {
                let mut names = Names::new(qualified.clone());
                let v = self.eval(env, &decl.default, &mut names);
                if !v.type_of().is_literal() && !v.is_poison() {
                    self.diags.push(
                        Diagnostic::error(
                            "tulu::check::param-not-literal",
                            format!(
                                "param `{name}` must be a plain value (number, string, bool, list or record), not {}",
                                v.type_of()
                            ),
                            decl.default.span,
                        )
                        .with_help("use `let` for datasets, models and other pipeline values"),
                    );
                    Value::Poison
                } else {
                    v
                }
            }
        };
        let value = match (&declared, value) {
            (Some(t), v) if !v.is_poison() => {
                self.coerce(v, t, decl.default.span, &format!("param `{name}`"))
            }
            (_, v) => v,
        };
        self.set_slot(env, name, Slot::Done(value.clone()));
        Some(value)
    }

    /// A `--set` value: a literal, or — for a string param — any text.
    fn override_value(
        &mut self,
        expr: Option<&Expr>,
        span: Span,
        raw: &str,
        expected: &Type,
    ) -> Value {
        let literal = expr.and_then(literal_value);
        match literal {
            Some(v) if v.type_of().fits(expected) => coerce_number(v, expected),
            _ if matches!(expected, Type::Str) => Value::Str(raw.to_string()),
            Some(v) => {
                self.diags.push(
                    Diagnostic::error(
                        "tulu::check::type-mismatch",
                        format!(
                            "this param is {expected}, but the value given is {}",
                            v.type_of()
                        ),
                        span,
                    )
                    .with_label(format!("{}", v.type_of())),
                );
                Value::Poison
            }
            None => {
                self.diags.push(
                    Diagnostic::error(
                        "tulu::check::override-not-literal",
                        "a `--set` value must be a literal: a number, a quoted string, true/false, or a list or record of those",
                        span,
                    ),
                );
                Value::Poison
            }
        }
    }

    /// Resolve a plain name in `env`.
    fn lookup(&mut self, env: Env, ident: &Ident) -> Value {
        let name = ident.name.as_str();
        if let Some(f) = env.frame {
            if let Some(v) = self.frames[f].params.get(name) {
                return v.clone();
            }
            if self.frames[f].lets.contains_key(name) {
                return self.module_let(env, name).unwrap_or(Value::Poison);
            }
        }
        let module_env = Env {
            module: env.module,
            frame: None,
        };
        let scope = &self.scopes[&env.module];
        if scope.lets.contains_key(name) {
            return self.module_let(module_env, name).unwrap_or(Value::Poison);
        }
        if scope.params.contains_key(name) {
            return self.module_param(env.module, name).unwrap_or(Value::Poison);
        }
        if scope.defs.contains_key(name) {
            self.diags.push(Diagnostic::error(
                "tulu::check::def-not-called",
                format!("`{name}` is a def; call it with arguments: `{name}(…)`"),
                ident.span,
            ));
            return Value::Poison;
        }
        if self
            .loader
            .imports
            .contains_key(&(env.module, name.to_string()))
        {
            self.diags.push(
                Diagnostic::error(
                    "tulu::check::module-as-value",
                    format!("`{name}` is an imported module, not a value"),
                    ident.span,
                )
                .with_help(format!("use one of its names: `{name}.something`")),
            );
            return Value::Poison;
        }
        if let Some(ctor) = self.catalog.ctor(name) {
            return self.apply_ctor(env, ctor, vec![], ident.span);
        }
        if self.catalog.op(name).is_some() {
            self.diags.push(Diagnostic::error(
                "tulu::check::op-not-called",
                format!("`{name}` is an op; call it with its arguments: `{name}(…)`"),
                ident.span,
            ));
            return Value::Poison;
        }
        let candidates = self.visible_names(env);
        let mut d = Diagnostic::error(
            "tulu::check::unknown-name",
            format!("cannot find `{name}` in this recipe"),
            ident.span,
        )
        .with_label("not defined");
        if let Some(hint) = did_you_mean(name, candidates.iter().map(String::as_str)) {
            d = d.with_help(hint);
        } else {
            d = d.with_help(
                "define it with `let`, declare it with `param`, or import the module that has it",
            );
        }
        self.diags.push(d);
        Value::Poison
    }

    fn visible_names(&self, env: Env) -> Vec<String> {
        let mut names: Vec<String> = Vec::new();
        if let Some(f) = env.frame {
            names.extend(self.frames[f].params.keys().cloned());
            names.extend(self.frames[f].lets.keys().cloned());
        }
        let scope = &self.scopes[&env.module];
        names.extend(scope.lets.keys().cloned());
        names.extend(scope.params.keys().cloned());
        names.extend(scope.defs.keys().cloned());
        names.extend(
            self.loader
                .imports
                .keys()
                .filter(|(m, _)| *m == env.module)
                .map(|(_, a)| a.clone()),
        );
        names.extend(self.catalog.names().into_iter().map(String::from));
        names.sort();
        names.dedup();
        names
    }

    // ---- expressions ---------------------------------------------------------------------------

    /// Counts `work` against [`MAX_CHECK_STEPS`]; false once the budget is spent (reported once,
    /// at `span`).
    fn charge(&mut self, work: usize, span: Span) -> bool {
        if self.steps > MAX_CHECK_STEPS {
            return false;
        }
        self.steps += work;
        if self.steps <= MAX_CHECK_STEPS {
            return true;
        }
        self.diags.push(
            Diagnostic::error(
                "tulu::check::too-large",
                format!("checking this recipe takes more than {MAX_CHECK_STEPS} steps"),
                span,
            )
            .with_label("the limit was reached here")
            .with_help(
                "something doubles at each level: a def that calls another def twice, or a value \
                 built from another one twice (`[a, a]`, `a ++ a`); build it from fewer, larger steps",
            ),
        );
        false
    }

    fn eval(&mut self, env: Env, e: &Expr, names: &mut Names) -> Value {
        if !self.charge(1, e.span) {
            return Value::Poison;
        }
        let value = self.eval_kind(env, e, names);
        // A name or field copies a value computed before; copies are where work can double.
        if matches!(e.kind, ExprKind::Name(_) | ExprKind::Field(..)) {
            let left = (MAX_CHECK_STEPS + 1).saturating_sub(self.steps);
            if !self.charge(value.size_up_to(left), e.span) {
                return Value::Poison;
            }
        }
        value
    }

    fn eval_kind(&mut self, env: Env, e: &Expr, names: &mut Names) -> Value {
        match &e.kind {
            ExprKind::Int { value, .. } => Value::Int(*value),
            ExprKind::Float { value, .. } => Value::Float(*value),
            ExprKind::Str(s) => Value::Str(s.clone()),
            ExprKind::Bool(b) => Value::Bool(*b),
            ExprKind::Paren(inner) => self.eval(env, inner, names),
            ExprKind::Name(ident) => self.lookup(env, ident),
            ExprKind::List(items) => {
                let values: Vec<Value> = items.iter().map(|x| self.eval(env, x, names)).collect();
                self.check_list(&values, items);
                Value::List(values)
            }
            ExprKind::Tuple(items) => {
                Value::Tuple(items.iter().map(|x| self.eval(env, x, names)).collect())
            }
            ExprKind::Record(fields) => {
                let mut out: Vec<(String, Value)> = Vec::new();
                for (name, value) in fields {
                    if out.iter().any(|(n, _)| *n == name.name) {
                        self.diags.push(Diagnostic::error(
                            "tulu::check::duplicate-field",
                            format!("field `{}` appears twice in this record", name.name),
                            name.span,
                        ));
                        continue;
                    }
                    let v = self.eval(env, value, names);
                    out.push((name.name.clone(), v));
                }
                Value::Record(out)
            }
            ExprKind::Neg(inner) => match self.eval(env, inner, names) {
                Value::Int(i) => Value::Int(i.saturating_neg()),
                Value::Float(f) => Value::Float(-f),
                Value::Poison => Value::Poison,
                other => {
                    self.diags.push(Diagnostic::error(
                        "tulu::check::type-mismatch",
                        format!("only numbers can be negated, not {}", other.type_of()),
                        e.span,
                    ));
                    Value::Poison
                }
            },
            ExprKind::Concat(lhs, rhs) => {
                let l = self.eval(env, lhs, names);
                let r = self.eval(env, rhs, names);
                match (l, r) {
                    (Value::List(mut a), Value::List(b)) => {
                        let joined = Value::List(a.clone())
                            .type_of()
                            .join(&Value::List(b.clone()).type_of());
                        if joined.is_none() {
                            self.diags.push(Diagnostic::error(
                                "tulu::check::type-mismatch",
                                format!(
                                    "cannot join a {} and a {} with `++`",
                                    Value::List(a.clone()).type_of(),
                                    Value::List(b.clone()).type_of()
                                ),
                                e.span,
                            ));
                            return Value::Poison;
                        }
                        a.extend(b);
                        Value::List(a)
                    }
                    (Value::Poison, _) | (_, Value::Poison) => Value::Poison,
                    (a, b) => {
                        let bad = if matches!(a, Value::List(_)) {
                            (rhs, b)
                        } else {
                            (lhs, a)
                        };
                        self.diags.push(
                            Diagnostic::error(
                                "tulu::check::type-mismatch",
                                format!("`++` joins lists, but this is {}", bad.1.type_of()),
                                bad.0.span,
                            )
                            .with_help("wrap a single value in brackets: `[x]`"),
                        );
                        Value::Poison
                    }
                }
            }
            ExprKind::Field(base, field) => self.eval_field(env, base, field, e.span, names),
            ExprKind::Call { callee, args } => {
                let Some(callable) = self.resolve_callable(env, callee) else {
                    // Still check the arguments, to report their problems too.
                    for a in args {
                        self.eval(env, &a.value, names);
                    }
                    return Value::Poison;
                };
                let evaluated = args
                    .iter()
                    .map(|a| EvaluatedArg {
                        name: a.name.clone(),
                        value: self.eval(env, &a.value, names),
                        span: a.span,
                    })
                    .collect();
                self.apply(env, callable, evaluated, e.span, names)
            }
            ExprKind::Pipe { lhs, rhs } => {
                let input = self.eval(env, lhs, names);
                let first = EvaluatedArg {
                    name: None,
                    value: input,
                    span: lhs.span,
                };
                match &rhs.kind {
                    ExprKind::Call { callee, args } => {
                        let Some(callable) = self.resolve_callable(env, callee) else {
                            return Value::Poison;
                        };
                        let mut evaluated = vec![first];
                        evaluated.extend(args.iter().map(|a| EvaluatedArg {
                            name: a.name.clone(),
                            value: self.eval(env, &a.value, names),
                            span: a.span,
                        }));
                        self.apply(env, callable, evaluated, rhs.span, names)
                    }
                    ExprKind::Name(_) | ExprKind::Field(..) => {
                        let Some(callable) = self.resolve_callable(env, rhs) else {
                            return Value::Poison;
                        };
                        self.apply(env, callable, vec![first], rhs.span, names)
                    }
                    _ => {
                        self.diags.push(
                            Diagnostic::error(
                                "tulu::check::pipe-target",
                                "the right side of `|>` must be a call, such as `dedup(near: 0.8)`",
                                rhs.span,
                            )
                            .with_help("`x |> f(a: 1)` means `f(x, a: 1)`"),
                        );
                        Value::Poison
                    }
                }
            }
        }
    }

    fn check_list(&mut self, values: &[Value], items: &[Expr]) {
        let mut elem = Type::Unknown;
        for (v, x) in values.iter().zip(items) {
            if v.is_poison() {
                continue;
            }
            match elem.join(&v.type_of()) {
                Some(t) => elem = t,
                None => {
                    self.diags.push(
                        Diagnostic::error(
                            "tulu::check::mixed-list",
                            format!(
                                "the elements of a list must have one type: this is {}, the ones before are {elem}",
                                v.type_of()
                            ),
                            x.span,
                        )
                        .with_help("use a tuple `(a, b)` or a record `{a: …, b: …}` to group different things"),
                    );
                    return;
                }
            }
        }
    }

    fn eval_field(
        &mut self,
        env: Env,
        base: &Expr,
        field: &Ident,
        span: Span,
        names: &mut Names,
    ) -> Value {
        // `alias.name`: a member of an imported module.
        if let ExprKind::Name(ns) = &base.kind {
            if self
                .loader
                .failed_imports
                .contains(&(env.module, ns.name.clone()))
            {
                return Value::Poison;
            }
            if let Some(target) = self.import_target(env, &ns.name) {
                return self.module_member(target, &ns.name, field);
            }
            if !self.is_local_name(env, &ns.name) {
                let qualified = format!("{}.{}", ns.name, field.name);
                if let Some(ctor) = self.catalog.ctor(&qualified) {
                    return self.apply_ctor(env, ctor, vec![], span);
                }
                if self.catalog.op(&qualified).is_some() {
                    self.diags.push(Diagnostic::error(
                        "tulu::check::op-not-called",
                        format!(
                            "`{qualified}` is an op; call it with its arguments: `{qualified}(…)`"
                        ),
                        span,
                    ));
                    return Value::Poison;
                }
                let in_namespace: Vec<&str> = self
                    .catalog
                    .names()
                    .into_iter()
                    .filter_map(|n| n.strip_prefix(&format!("{}.", ns.name)))
                    .collect();
                if !in_namespace.is_empty() {
                    let mut d = Diagnostic::error(
                        "tulu::check::unknown-name",
                        format!("`{}` has no member `{}`", ns.name, field.name),
                        field.span,
                    );
                    d = match did_you_mean(&field.name, in_namespace.iter().copied()) {
                        Some(h) => d.with_help(h),
                        None => {
                            d.with_help(format!("`{}` has: {}", ns.name, in_namespace.join(", ")))
                        }
                    };
                    self.diags.push(d);
                    return Value::Poison;
                }
            }
        }
        let value = self.eval(env, base, names);
        match &value {
            Value::Record(fields) => match fields.iter().find(|(n, _)| *n == field.name) {
                Some((_, v)) => v.clone(),
                None => {
                    let mut d = Diagnostic::error(
                        "tulu::check::unknown-field",
                        format!("this record has no field `{}`", field.name),
                        field.span,
                    );
                    let available: Vec<&str> = fields.iter().map(|(n, _)| n.as_str()).collect();
                    d = match did_you_mean(&field.name, available.iter().copied()) {
                        Some(h) => d.with_help(h),
                        None => d.with_help(format!("its fields are: {}", available.join(", "))),
                    };
                    self.diags.push(d);
                    Value::Poison
                }
            },
            Value::Ctor(c) => match c.args.iter().find(|(n, _)| *n == field.name) {
                Some((_, v)) => v.clone(),
                None => {
                    self.diags.push(Diagnostic::error(
                        "tulu::check::unknown-field",
                        format!("`{}` has no field `{}`", c.name, field.name),
                        field.span,
                    ));
                    Value::Poison
                }
            },
            Value::Poison => Value::Poison,
            other => {
                self.diags.push(Diagnostic::error(
                    "tulu::check::unknown-field",
                    format!("a {} has no field `{}`", other.type_of(), field.name),
                    field.span,
                ));
                Value::Poison
            }
        }
    }

    fn is_local_name(&self, env: Env, name: &str) -> bool {
        if let Some(f) = env.frame {
            let frame = &self.frames[f];
            if frame.params.contains_key(name) || frame.lets.contains_key(name) {
                return true;
            }
        }
        let scope = &self.scopes[&env.module];
        scope.lets.contains_key(name)
            || scope.params.contains_key(name)
            || scope.defs.contains_key(name)
    }

    fn import_target(&self, env: Env, alias: &str) -> Option<ModuleId> {
        if let Some(f) = env.frame {
            let frame = &self.frames[f];
            if frame.params.contains_key(alias) || frame.lets.contains_key(alias) {
                return None;
            }
        }
        self.loader
            .imports
            .get(&(env.module, alias.to_string()))
            .copied()
    }

    fn module_member(&mut self, module: ModuleId, alias: &str, field: &Ident) -> Value {
        let env = Env {
            module,
            frame: None,
        };
        let scope = &self.scopes[&module];
        if scope.lets.contains_key(&field.name) {
            return self.module_let(env, &field.name).unwrap_or(Value::Poison);
        }
        if scope.params.contains_key(&field.name) {
            return self
                .module_param(module, &field.name)
                .unwrap_or(Value::Poison);
        }
        if scope.defs.contains_key(&field.name) {
            self.diags.push(Diagnostic::error(
                "tulu::check::def-not-called",
                format!("`{alias}.{}` is a def; call it with arguments", field.name),
                field.span,
            ));
            return Value::Poison;
        }
        let mut members: Vec<&str> = scope
            .lets
            .keys()
            .chain(scope.params.keys())
            .chain(scope.defs.keys())
            .map(String::as_str)
            .collect();
        members.sort();
        let mut d = Diagnostic::error(
            "tulu::check::unknown-name",
            format!("module `{alias}` has no `{}`", field.name),
            field.span,
        );
        d = match did_you_mean(&field.name, members.iter().copied()) {
            Some(h) => d.with_help(h),
            None => d.with_help(format!("`{alias}` defines: {}", members.join(", "))),
        };
        self.diags.push(d);
        Value::Poison
    }

    fn resolve_callable(&mut self, env: Env, callee: &Expr) -> Option<Callable> {
        match &callee.kind {
            ExprKind::Name(ident) => {
                let name = ident.name.as_str();
                if self.is_local_name(env, name) {
                    let scope = &self.scopes[&env.module];
                    if let Some(def) = scope.defs.get(name) {
                        return Some(Callable::Def(env.module, def.clone()));
                    }
                    let value = self.lookup(env, ident);
                    if !value.is_poison() {
                        self.diags.push(Diagnostic::error(
                            "tulu::check::not-callable",
                            format!(
                                "`{name}` is {}, not something that can be called",
                                describe_type(&value.type_of())
                            ),
                            ident.span,
                        ));
                    }
                    return None;
                }
                if let Some(op) = self.catalog.op(name) {
                    return Some(Callable::Op(op));
                }
                if let Some(ctor) = self.catalog.ctor(name) {
                    return Some(Callable::Ctor(ctor));
                }
                self.unknown_callable(env, name, ident.span);
                None
            }
            ExprKind::Field(base, field) => {
                if let ExprKind::Name(ns) = &base.kind {
                    if self
                        .loader
                        .failed_imports
                        .contains(&(env.module, ns.name.clone()))
                    {
                        return None;
                    }
                    if let Some(target) = self.import_target(env, &ns.name) {
                        if let Some(def) = self.scopes[&target].defs.get(&field.name) {
                            return Some(Callable::Def(target, def.clone()));
                        }
                        let value = self.module_member(target, &ns.name, field);
                        if !value.is_poison() {
                            self.diags.push(Diagnostic::error(
                                "tulu::check::not-callable",
                                format!(
                                    "`{}.{}` is {}, not something that can be called",
                                    ns.name,
                                    field.name,
                                    describe_type(&value.type_of())
                                ),
                                callee.span,
                            ));
                        }
                        return None;
                    }
                    if !self.is_local_name(env, &ns.name) {
                        let qualified = format!("{}.{}", ns.name, field.name);
                        if let Some(op) = self.catalog.op(&qualified) {
                            return Some(Callable::Op(op));
                        }
                        if let Some(ctor) = self.catalog.ctor(&qualified) {
                            return Some(Callable::Ctor(ctor));
                        }
                        self.unknown_callable(env, &qualified, callee.span);
                        return None;
                    }
                }
                self.diags.push(Diagnostic::error(
                    "tulu::check::not-callable",
                    "only ops, constructors and defs can be called",
                    callee.span,
                ));
                None
            }
            _ => {
                self.diags.push(Diagnostic::error(
                    "tulu::check::not-callable",
                    "only ops, constructors and defs can be called",
                    callee.span,
                ));
                None
            }
        }
    }

    fn unknown_callable(&mut self, env: Env, name: &str, span: Span) {
        let mut candidates: Vec<String> =
            self.catalog.names().into_iter().map(String::from).collect();
        candidates.extend(self.scopes[&env.module].defs.keys().cloned());
        let mut d = Diagnostic::error(
            "tulu::check::unknown-op",
            format!("there is no op, constructor or def named `{name}`"),
            span,
        )
        .with_label("unknown");
        if let Some(hint) = did_you_mean(name, candidates.iter().map(String::as_str)) {
            d = d.with_help(hint);
        } else {
            d = d.with_help("`tulu ops` lists every built-in op with its params");
        }
        self.diags.push(d);
    }

    // ---- calls ---------------------------------------------------------------------------------

    fn apply(
        &mut self,
        env: Env,
        callable: Callable,
        args: Vec<EvaluatedArg>,
        span: Span,
        names: &mut Names,
    ) -> Value {
        match callable {
            Callable::Op(op) => self.apply_op(env, op, args, span, names),
            Callable::Ctor(ctor) => self.apply_ctor(env, ctor, args, span),
            Callable::Def(module, def) => self.apply_def(module, &def, args, span, names),
        }
    }

    /// Match arguments to params: positional ones in order, then named ones. Reports unknown,
    /// repeated, missing and mistyped arguments. Returns `None` when the call cannot be checked
    /// further.
    fn bind_args(
        &mut self,
        callee: &str,
        params: &[ParamSpec],
        args: Vec<EvaluatedArg>,
        call_span: Span,
        module_base: &Path,
    ) -> Option<BoundArgs> {
        let mut given: Vec<Option<(Value, Span)>> = vec![None; params.len()];
        // A misspelt name already reported as "did you mean `x`" need not also be reported missing.
        let mut suggested: Vec<&str> = Vec::new();
        // A misplaced positional argument was probably meant for a missing param: one error.
        let mut misplaced = false;
        let mut ok = true;
        let mut seen_named = false;
        for (position, arg) in args.into_iter().enumerate() {
            let index = match &arg.name {
                None => {
                    if seen_named {
                        misplaced = true;
                        self.diags.push(
                            Diagnostic::error(
                                "tulu::check::positional-after-named",
                                "a positional argument cannot follow named ones",
                                arg.span,
                            )
                            .with_help("name this argument, or move it before the named ones"),
                        );
                        ok = false;
                        continue;
                    }
                    if position >= params.len() {
                        self.diags.push(
                            Diagnostic::error(
                                "tulu::check::too-many-args",
                                format!("`{callee}` takes at most {} arguments", params.len()),
                                arg.span,
                            )
                            .with_label("one too many"),
                        );
                        ok = false;
                        continue;
                    }
                    position
                }
                Some(name) => {
                    seen_named = true;
                    match params.iter().position(|p| p.name == name.name) {
                        Some(i) => i,
                        None => {
                            let mut d = Diagnostic::error(
                                "tulu::check::unknown-arg",
                                format!("`{callee}` has no param named `{}`", name.name),
                                name.span,
                            )
                            .with_label("unknown param");
                            let names: Vec<&str> = params.iter().map(|p| p.name).collect();
                            d = match super::suggest::closest(&name.name, names.iter().copied()) {
                                Some(close) => {
                                    suggested.push(close);
                                    d.with_help(format!("did you mean `{close}`?"))
                                }
                                None if names.is_empty() => {
                                    d.with_help(format!("`{callee}` takes no arguments"))
                                }
                                None => {
                                    d.with_help(format!("its params are: {}", names.join(", ")))
                                }
                            };
                            self.diags.push(d);
                            ok = false;
                            continue;
                        }
                    }
                }
            };
            if let Some((_, first)) = &given[index] {
                self.diags.push(
                    Diagnostic::error(
                        "tulu::check::duplicate-arg",
                        format!("`{}` is given twice", params[index].name),
                        arg.span,
                    )
                    .with_secondary(*first, "first given here"),
                );
                ok = false;
                continue;
            }
            given[index] = Some((arg.value, arg.span));
        }
        let mut bound = Vec::with_capacity(params.len());
        let mut spans = HashMap::new();
        for (spec, given) in params.iter().zip(given) {
            match given {
                Some((value, span)) => {
                    spans.insert(spec.name, span);
                    if value.is_poison() {
                        ok = false;
                        bound.push((spec.name, Some(Value::Poison)));
                        continue;
                    }
                    let value = self.coerce_arg(value, spec, span, callee, module_base);
                    if value.is_poison() {
                        ok = false;
                    }
                    bound.push((spec.name, Some(value)));
                }
                None => match &spec.default {
                    Default::Required if misplaced || suggested.contains(&spec.name) => {
                        ok = false;
                        bound.push((spec.name, None));
                    }
                    Default::Required => {
                        self.diags.push(
                            Diagnostic::error(
                                "tulu::check::missing-arg",
                                format!("`{callee}` needs `{}` ({})", spec.name, spec.ty),
                                call_span,
                            )
                            .with_help(if spec.doc.is_empty() {
                                format!("add `{}: …`", spec.name)
                            } else {
                                format!("add `{}: …` — {}", spec.name, spec.doc)
                            }),
                        );
                        ok = false;
                        bound.push((spec.name, None));
                    }
                    Default::Absent => bound.push((spec.name, None)),
                    Default::Value(v) => bound.push((spec.name, Some(v.clone()))),
                },
            }
        }
        ok.then_some((bound, spans))
    }

    /// Type-check one argument against its param, converting where the language does (an Int
    /// where a Float is expected, a path string where a File is).
    fn coerce_arg(
        &mut self,
        value: Value,
        spec: &ParamSpec,
        span: Span,
        callee: &str,
        base: &Path,
    ) -> Value {
        let what = format!("`{callee}`'s `{}`", spec.name);
        if spec.ty == Type::File {
            return match value {
                Value::Str(path) => self.resolve_file(&path, base, span),
                other => {
                    self.type_error(&what, &spec.ty, &other, span);
                    Value::Poison
                }
            };
        }
        let value = self.coerce(value, &spec.ty, span, &what);
        if let (Some(constraint), false) = (&spec.constraint, value.is_poison()) {
            if let Err(message) = constraint.check(&value) {
                self.diags.push(
                    Diagnostic::error(
                        "tulu::check::out-of-range",
                        format!("{what} {message}"),
                        span,
                    )
                    .with_label(value.describe()),
                );
                return Value::Poison;
            }
        }
        value
    }

    fn coerce(&mut self, value: Value, expected: &Type, span: Span, what: &str) -> Value {
        if value.is_poison() {
            return value;
        }
        if !value.type_of().fits(expected) {
            self.type_error(what, expected, &value, span);
            return Value::Poison;
        }
        coerce_number(value, expected)
    }

    fn type_error(&mut self, what: &str, expected: &Type, value: &Value, span: Span) {
        let got = value.type_of();
        let mut d = Diagnostic::error(
            "tulu::check::type-mismatch",
            format!(
                "{what} expects {}, but this is {}",
                describe_type(expected),
                describe_type(&got)
            ),
            span,
        )
        .with_label(format!("{got}"));
        if let (Type::Dataset(Some(want)), Type::Dataset(Some(have))) = (expected, &got) {
            d = d.with_help(schema_help(*have, *want));
        } else if matches!(expected, Type::Int) && matches!(got, Type::Float) {
            d = d.with_help("write a whole number here");
        }
        self.diags.push(d);
    }

    fn resolve_file(&mut self, path: &str, base: &Path, span: Span) -> Value {
        match resolve_path(path, base) {
            Ok(abs) => {
                if abs.is_file() || abs.is_dir() {
                    Value::File {
                        path: abs,
                        display: path.to_string(),
                    }
                } else {
                    let mut d = Diagnostic::error(
                        "tulu::check::file-not-found",
                        format!("there is no file at `{path}`"),
                        span,
                    )
                    .with_label(format!("looked for {}", abs.display()));
                    if path.starts_with("asset:") {
                        d = d.with_help("fetch the real assets first: `scripts/fetch-assets`");
                    } else {
                        d = d.with_help(format!("paths are relative to {}", base.display()));
                    }
                    self.diags.push(d);
                    Value::Poison
                }
            }
            Err(message) => {
                self.diags
                    .push(Diagnostic::error("tulu::check::bad-path", message, span));
                Value::Poison
            }
        }
    }

    fn apply_op(
        &mut self,
        env: Env,
        op: &'static OpSignature,
        args: Vec<EvaluatedArg>,
        span: Span,
        names: &mut Names,
    ) -> Value {
        let base = self.loader.module(env.module).base_dir.clone();
        let Some((mut bound, spans)) = self.bind_args(op.name, &op.params, args, span, &base)
        else {
            return Value::Poison;
        };
        if let Some(complete) = op.complete {
            complete(&mut bound);
        }
        let env = CheckEnv { base_dir: &base };
        let output_type = match (op.output)(&bound, &env) {
            Ok(t) => t,
            Err(problem) => {
                let at = problem
                    .param
                    .and_then(|p| spans.get(p).copied())
                    .unwrap_or(span);
                let mut d = Diagnostic::error(
                    "tulu::check::bad-args",
                    format!("`{}`: {}", op.name, problem.message),
                    at,
                );
                if let Some(h) = problem.help {
                    d = d.with_help(h);
                }
                self.diags.push(d);
                return Value::Poison;
            }
        };
        let id = self.add_node(op, &bound, output_type.clone(), span, names);
        Value::Node(id, output_type)
    }

    fn apply_ctor(
        &mut self,
        env: Env,
        ctor: &CtorSignature,
        args: Vec<EvaluatedArg>,
        span: Span,
    ) -> Value {
        let base = self.loader.module(env.module).base_dir.clone();
        let Some((bound, spans)) = self.bind_args(ctor.name, &ctor.params, args, span, &base)
        else {
            return Value::Poison;
        };
        if let Some(validate) = ctor.validate {
            if let Err(problem) = validate(&bound) {
                let at = problem
                    .param
                    .and_then(|p| spans.get(p).copied())
                    .unwrap_or(span);
                let mut d = Diagnostic::error(
                    "tulu::check::bad-args",
                    format!("`{}`: {}", ctor.name, problem.message),
                    at,
                );
                if let Some(h) = problem.help {
                    d = d.with_help(h);
                }
                self.diags.push(d);
                return Value::Poison;
            }
        }
        Value::Ctor(Ctor {
            kind: ctor.kind,
            name: ctor.name.to_string(),
            args: bound
                .into_iter()
                .filter_map(|(n, v)| v.map(|v| (n.to_string(), v)))
                .collect(),
        })
    }

    fn add_node(
        &mut self,
        op: &'static OpSignature,
        args: &Args,
        output_type: Type,
        span: Span,
        names: &mut Names,
    ) -> NodeId {
        let mut collected = Vec::new();
        for (name, value) in args {
            if let Some(v) = value {
                v.collect_inputs(name, &mut collected);
            }
        }
        let mut inputs: Vec<InputRef> = Vec::new();
        let mut plan_inputs = Vec::new();
        let mut labels = Vec::new();
        for (input, label, display) in collected {
            if inputs.contains(&input) {
                continue;
            }
            plan_inputs.push(match &input {
                InputRef::Node(id) => PlanInput::Node(*id),
                InputRef::File(path) => PlanInput::File {
                    path: path.clone(),
                    display: display.unwrap_or_else(|| path.display().to_string()),
                },
            });
            inputs.push(input);
            labels.push(label);
        }
        let index_of = |r: &InputRef| inputs.iter().position(|x| x == r).unwrap_or(0);
        let mut params = serde_json::Map::new();
        for (name, value) in args {
            let json = value
                .as_ref()
                .map(|v| v.to_json(&index_of))
                .unwrap_or(serde_json::Value::Null);
            params.insert(name.to_string(), json);
        }
        let params = serde_json::Value::Object(params);

        let mut hasher = blake3::Hasher::new();
        hasher.update(op.name.as_bytes());
        hasher.update(&op.version.to_le_bytes());
        hasher.update(params.to_string().as_bytes());
        for input in &inputs {
            match input {
                InputRef::Node(id) => hasher.update(&id.0.to_le_bytes()),
                InputRef::File(p) => hasher.update(p.to_string_lossy().as_bytes()),
            };
            hasher.update(b"\0");
        }
        let structural = hasher.finalize();
        if let Some(existing) = self.structural.get(&structural) {
            return *existing;
        }
        let id = NodeId(self.nodes.len() as u32);
        self.nodes.push(PlanNode {
            id,
            name: names.intermediate(op.name),
            aliases: Vec::new(),
            op: op.name,
            op_version: op.version,
            params,
            inputs: plan_inputs,
            input_labels: labels,
            output_type,
            span,
        });
        self.structural.insert(structural, id);
        id
    }

    fn apply_def(
        &mut self,
        module: ModuleId,
        def: &Def,
        args: Vec<EvaluatedArg>,
        span: Span,
        names: &mut Names,
    ) -> Value {
        let def_key = (module, def.name.name.clone());
        if self.def_stack.contains(&def_key) {
            self.diags.push(
                Diagnostic::error(
                    "tulu::check::recursive-def",
                    format!(
                        "`{}` calls itself; a def is expanded at each call, so this never ends",
                        def.name.name
                    ),
                    span,
                )
                .with_secondary(def.name.span, "defined here"),
            );
            return Value::Poison;
        }
        // Bind arguments to the def's params.
        let mut values: Vec<Option<(Value, Span)>> = vec![None; def.params.len()];
        let mut ok = true;
        for (position, arg) in args.into_iter().enumerate() {
            let index = match &arg.name {
                None if position < def.params.len() => position,
                None => {
                    self.diags.push(Diagnostic::error(
                        "tulu::check::too-many-args",
                        format!("`{}` takes {} arguments", def.name.name, def.params.len()),
                        arg.span,
                    ));
                    ok = false;
                    continue;
                }
                Some(name) => match def.params.iter().position(|p| p.name.name == name.name) {
                    Some(i) => i,
                    None => {
                        let names: Vec<&str> =
                            def.params.iter().map(|p| p.name.name.as_str()).collect();
                        let mut d = Diagnostic::error(
                            "tulu::check::unknown-arg",
                            format!("`{}` has no param named `{}`", def.name.name, name.name),
                            name.span,
                        );
                        d = match did_you_mean(&name.name, names.iter().copied()) {
                            Some(h) => d.with_help(h),
                            None => d.with_help(format!("its params are: {}", names.join(", "))),
                        };
                        self.diags.push(d);
                        ok = false;
                        continue;
                    }
                },
            };
            if values[index].is_some() {
                self.diags.push(Diagnostic::error(
                    "tulu::check::duplicate-arg",
                    format!("`{}` is given twice", def.params[index].name.name),
                    arg.span,
                ));
                ok = false;
                continue;
            }
            values[index] = Some((arg.value, arg.span));
        }
        let mut params = HashMap::new();
        for (p, given) in def.params.iter().zip(values) {
            let expected = self.resolve_type(&p.ty);
            let value = match given {
                Some((v, span)) => match &expected {
                    Some(t) => {
                        let what = format!("`{}`'s `{}`", def.name.name, p.name.name);
                        self.coerce(v, t, span, &what)
                    }
                    None => Value::Poison,
                },
                None => match &p.default {
                    Some(default) => {
                        let env = Env {
                            module,
                            frame: None,
                        };
                        let mut inner = Names::new(names.base.clone());
                        let v = self.eval(env, default, &mut inner);
                        match &expected {
                            Some(t) => self.coerce(
                                v,
                                t,
                                default.span,
                                &format!("the default of `{}`", p.name.name),
                            ),
                            None => Value::Poison,
                        }
                    }
                    None => {
                        self.diags.push(
                            Diagnostic::error(
                                "tulu::check::missing-arg",
                                format!(
                                    "`{}` needs `{}` ({})",
                                    def.name.name,
                                    p.name.name,
                                    type_expr_text(&p.ty)
                                ),
                                span,
                            )
                            .with_secondary(p.span, "declared here"),
                        );
                        ok = false;
                        Value::Poison
                    }
                },
            };
            if value.is_poison() {
                ok = false;
            }
            params.insert(p.name.name.clone(), value);
        }
        if !ok {
            return Value::Poison;
        }
        let prefix = format!("{}.", names.base);
        let lets: HashMap<String, Rc<Binding>> = def
            .body
            .iter()
            .map(|b| (b.name.name.clone(), Rc::new(b.clone())))
            .collect();
        self.frames.push(Frame {
            prefix,
            params,
            lets,
            values: HashMap::new(),
        });
        self.def_stack.push(def_key);
        let frame = self.frames.len() - 1;
        let env = Env {
            module,
            frame: Some(frame),
        };
        for b in &def.body {
            self.module_let(env, &b.name.name);
        }
        let result = self.eval(env, &def.result, names);
        self.def_stack.pop();
        self.frames.pop();
        match def.ret.as_ref().and_then(|t| self.resolve_type(t)) {
            Some(t) if !result.is_poison() => {
                let what = format!("the result of `{}`", def.name.name);
                self.coerce(result, &t, def.result.span, &what)
            }
            _ => result,
        }
    }

    /// The type a type expression names, or `None` after reporting why not.
    fn resolve_type(&mut self, t: &TypeExpr) -> Option<Type> {
        let name = t.name.name.as_str();
        let arity = |expected: usize, this: &mut Self| -> bool {
            if t.args.len() > expected {
                this.diags.push(Diagnostic::error(
                    "tulu::check::bad-type",
                    format!(
                        "`{name}` takes {expected} type argument{}",
                        if expected == 1 { "" } else { "s" }
                    ),
                    t.span,
                ));
                false
            } else {
                true
            }
        };
        let ty = match name {
            "Int" | "Float" | "Str" | "Bool" | "Model" | "Report" | "File" | "Record" => {
                if !arity(0, self) {
                    return None;
                }
                match name {
                    "Int" => Type::Int,
                    "Float" => Type::Float,
                    "Str" => Type::Str,
                    "Bool" => Type::Bool,
                    "Model" => Type::Model,
                    "Report" => Type::Report,
                    "File" => Type::File,
                    _ => Type::Record(vec![]),
                }
            }
            "Dataset" => {
                if !arity(1, self) {
                    return None;
                }
                match t.args.first() {
                    None => Type::Dataset(None),
                    Some(arg) => match Schema::from_name(&arg.name.name) {
                        Some(s) if arg.args.is_empty() => Type::Dataset(Some(s)),
                        _ => {
                            self.diags.push(
                                Diagnostic::error(
                                    "tulu::check::bad-type",
                                    format!("`{}` is not a dataset schema", arg.name.name),
                                    arg.span,
                                )
                                .with_help("the schemas are Chat, Pref, Prompt and Text"),
                            );
                            return None;
                        }
                    },
                }
            }
            "List" => {
                if t.args.len() != 1 {
                    self.diags.push(Diagnostic::error(
                        "tulu::check::bad-type",
                        "`List` takes one type argument, as in `List<Model>`",
                        t.span,
                    ));
                    return None;
                }
                Type::list(self.resolve_type(&t.args[0])?)
            }
            _ => {
                if let Some(kind) = TYPE_NAMES.iter().find(|k| **k == name) {
                    Type::Value(kind)
                } else {
                    let mut d = Diagnostic::error(
                        "tulu::check::bad-type",
                        format!("there is no type named `{name}`"),
                        t.name.span,
                    );
                    d = match did_you_mean(name, TYPE_NAMES.iter().copied()) {
                        Some(h) => d.with_help(h),
                        None => d.with_help(format!("the types are: {}", TYPE_NAMES.join(", "))),
                    };
                    self.diags.push(d);
                    return None;
                }
            }
        };
        Some(ty)
    }
}

/// Int → Float where a Float is expected, so `lr: 1` and `lr: 1.0` mean (and key) the same.
fn coerce_number(value: Value, expected: &Type) -> Value {
    match (value, expected) {
        (Value::Int(i), Type::Float) => Value::Float(i as f64),
        (Value::List(items), Type::List(elem)) => {
            Value::List(items.into_iter().map(|v| coerce_number(v, elem)).collect())
        }
        (Value::Tuple(items), Type::Tuple(types)) if items.len() == types.len() => Value::Tuple(
            items
                .into_iter()
                .zip(types)
                .map(|(v, t)| coerce_number(v, t))
                .collect(),
        ),
        (v, _) => v,
    }
}

/// A literal expression's value, without evaluating names or calls.
fn literal_value(e: &Expr) -> Option<Value> {
    Some(match &e.kind {
        ExprKind::Int { value, .. } => Value::Int(*value),
        ExprKind::Float { value, .. } => Value::Float(*value),
        ExprKind::Str(s) => Value::Str(s.clone()),
        ExprKind::Bool(b) => Value::Bool(*b),
        ExprKind::Paren(inner) => literal_value(inner)?,
        ExprKind::List(items) => {
            Value::List(items.iter().map(literal_value).collect::<Option<_>>()?)
        }
        ExprKind::Tuple(items) => {
            Value::Tuple(items.iter().map(literal_value).collect::<Option<_>>()?)
        }
        ExprKind::Record(fields) => Value::Record(
            fields
                .iter()
                .map(|(n, v)| literal_value(v).map(|v| (n.name.clone(), v)))
                .collect::<Option<_>>()?,
        ),
        ExprKind::Neg(inner) => match literal_value(inner)? {
            Value::Int(i) => Value::Int(i.saturating_neg()),
            Value::Float(f) => Value::Float(-f),
            _ => return None,
        },
        _ => return None,
    })
}

/// `asset:<package>/<path>` → the fetched asset; anything else relative to `base`.
pub fn resolve_path(path: &str, base: &Path) -> Result<PathBuf, String> {
    if path.is_empty() {
        return Err("the path is empty".into());
    }
    if let Some(rest) = path.strip_prefix("asset:") {
        let rest = rest.trim_start_matches('/');
        if rest.split('/').any(|c| c == "..") {
            return Err(format!(
                "asset paths cannot leave the assets directory: `{path}`"
            ));
        }
        return Ok(crate::assets::assets_dir().join(rest));
    }
    let p = Path::new(path);
    Ok(if p.is_absolute() {
        p.to_path_buf()
    } else {
        base.join(p)
    })
}

fn describe_type(t: &Type) -> String {
    match t {
        Type::Int => "an Int".into(),
        Type::Unknown => "an empty list".into(),
        Type::Number => "a number".into(),
        Type::Literal => "a literal value".into(),
        other => {
            let s = other.to_string();
            let article = if s.starts_with(['A', 'E', 'I', 'O', 'U']) {
                "an"
            } else {
                "a"
            };
            format!("{article} {s}")
        }
    }
}

fn schema_help(have: Schema, want: Schema) -> String {
    match (have, want) {
        (Schema::Prompt, Schema::Chat) => {
            "turn prompts into chats first, e.g. with `generate(model, prompts)` or `render(…)`"
                .into()
        }
        (Schema::Chat, Schema::Pref) | (Schema::Prompt, Schema::Pref) => {
            "build preference pairs with `preferences(…)` first".into()
        }
        _ => format!(
            "this op reads {} rows; the dataset holds {} rows",
            want.name(),
            have.name()
        ),
    }
}

fn type_expr_text(t: &TypeExpr) -> String {
    if t.args.is_empty() {
        t.name.name.clone()
    } else {
        format!(
            "{}<{}>",
            t.name.name,
            t.args
                .iter()
                .map(type_expr_text)
                .collect::<Vec<_>>()
                .join(", ")
        )
    }
}
