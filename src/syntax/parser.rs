//! Recipe text → AST. The grammar is `grammar/tulu.pest`; this file turns its parse tree into the
//! AST and turns pest's errors into diagnostics a person can act on. It never panics: nesting
//! depth and literal sizes are bounded before and during the walk.

use pest::iterators::Pair;
use pest::Parser as _;

use super::ast::*;
use super::diagnostic::Diagnostic;
use super::source::{FileId, Span};

#[derive(pest_derive::Parser)]
#[grammar = "../grammar/tulu.pest"]
struct TuluGrammar;

/// Deeper nesting than this is rejected before parsing: the parser and every later pass recurse on
/// nesting, and no real recipe comes near it.
pub const MAX_NESTING: usize = 100;

/// Parse one file. `file` is the id the spans will carry.
pub fn parse(file: FileId, text: &str) -> Result<Module, Diagnostic> {
    check_nesting(file, text)?;
    let mut pairs =
        TuluGrammar::parse(Rule::recipe, text).map_err(|e| parse_error(file, text, e))?;
    let recipe = pairs
        .next()
        .expect("the recipe rule always yields one pair");
    let span = span_of(file, &recipe);
    let mut builder = Builder::new(file, text);
    let mut items = Vec::new();
    for pair in recipe.into_inner() {
        match pair.as_rule() {
            Rule::import => items.push(Item::Import(builder.import(pair)?)),
            Rule::param_decl => items.push(Item::Param(builder.param(pair)?)),
            Rule::binding => items.push(Item::Let(builder.binding(pair)?)),
            Rule::def => items.push(Item::Def(builder.def(pair)?)),
            Rule::EOI => {}
            other => unreachable!("unexpected top-level rule {other:?}"),
        }
    }
    Ok(Module { items, span })
}

/// Parse a single value (used for `--set name=value`).
pub fn parse_value(file: FileId, text: &str) -> Result<Expr, Diagnostic> {
    check_nesting(file, text)?;
    let mut pairs =
        TuluGrammar::parse(Rule::single_value, text).map_err(|e| parse_error(file, text, e))?;
    let single = pairs
        .next()
        .expect("the single_value rule always yields one pair");
    let expr = single
        .into_inner()
        .next()
        .expect("single_value holds an expression");
    Builder::new(file, text).expr(expr)
}

fn span_of(file: FileId, pair: &Pair<Rule>) -> Span {
    let s = pair.as_span();
    Span::new(file, s.start(), s.end())
}

/// Rejects nesting deeper than [`MAX_NESTING`] brackets, skipping strings and comments. The angle
/// brackets of types (`List<List<Int>>`) count too; the `>` of `|>` and `->` closes nothing.
fn check_nesting(file: FileId, text: &str) -> Result<(), Diagnostic> {
    let mut depth = 0usize;
    let mut in_string = false;
    let mut in_comment = false;
    let mut escaped = false;
    let mut previous = '\0';
    for (i, c) in text.char_indices() {
        let after = std::mem::replace(&mut previous, c);
        if in_comment {
            in_comment = c != '\n';
            continue;
        }
        if in_string {
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') | (false, '\n') => in_string = false,
                _ => {}
            }
            continue;
        }
        match c {
            '#' => in_comment = true,
            '"' => in_string = true,
            '(' | '[' | '{' | '<' => {
                depth += 1;
                if depth > MAX_NESTING {
                    return Err(Diagnostic::error(
                        "tulu::syntax::too-deep",
                        format!("brackets are nested more than {MAX_NESTING} deep"),
                        Span::new(file, i, i + 1),
                    )
                    .with_help("split the expression into several `let` bindings"));
                }
            }
            '>' if after == '|' || after == '-' => {}
            ')' | ']' | '}' | '>' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    Ok(())
}

struct Builder<'t> {
    file: FileId,
    depth: usize,
    text: &'t str,
    /// Comment byte ranges, to keep them out of node spans.
    comments: Vec<(usize, usize)>,
}

impl<'t> Builder<'t> {
    fn new(file: FileId, text: &'t str) -> Builder<'t> {
        let comments = super::comments::extract(text)
            .into_iter()
            .map(|c| (c.start, c.end))
            .collect();
        Builder {
            file,
            depth: 0,
            text,
            comments,
        }
    }

    /// A node's span without the whitespace and comments pest's implicit skipping leaves at
    /// the end of rules that end in a repetition.
    fn span(&self, pair: &Pair<Rule>) -> Span {
        let s = pair.as_span();
        let start = s.start();
        let mut end = s.end();
        loop {
            let trimmed = self.text[start..end].trim_end();
            end = start + trimmed.len();
            match self
                .comments
                .iter()
                .find(|(cs, ce)| *cs < end && end <= *ce)
            {
                Some((cs, _)) if *cs >= start => end = *cs,
                _ => break,
            }
        }
        Span::new(self.file, start, end)
    }

    fn ident(&self, pair: Pair<Rule>) -> Ident {
        debug_assert_eq!(pair.as_rule(), Rule::ident);
        Ident {
            name: pair.as_str().to_string(),
            span: self.span(&pair),
        }
    }

    fn import(&mut self, pair: Pair<Rule>) -> Result<Import, Diagnostic> {
        let span = self.span(&pair);
        let mut inner = pair.into_inner();
        let path_pair = inner.next().expect("import has a path");
        let path_span = self.span(&path_pair);
        let path = self.string(path_pair)?;
        let alias = self.ident(inner.next().expect("import has an alias"));
        Ok(Import {
            path,
            path_span,
            alias,
            span,
        })
    }

    fn param(&mut self, pair: Pair<Rule>) -> Result<ParamDecl, Diagnostic> {
        let span = self.span(&pair);
        let mut inner = pair.into_inner();
        let name = self.ident(inner.next().expect("param has a name"));
        let mut ty = None;
        let mut default = None;
        for p in inner {
            match p.as_rule() {
                Rule::type_expr => ty = Some(self.type_expr(p)),
                Rule::expr => default = Some(self.expr(p)?),
                other => unreachable!("unexpected rule in param: {other:?}"),
            }
        }
        Ok(ParamDecl {
            name,
            ty,
            default: default.expect("param has a default"),
            span,
        })
    }

    fn binding(&mut self, pair: Pair<Rule>) -> Result<Binding, Diagnostic> {
        let span = self.span(&pair);
        let mut inner = pair.into_inner();
        let name = self.ident(inner.next().expect("binding has a name"));
        let value = self.expr(inner.next().expect("binding has a value"))?;
        Ok(Binding { name, value, span })
    }

    fn def(&mut self, pair: Pair<Rule>) -> Result<Def, Diagnostic> {
        let span = self.span(&pair);
        let mut inner = pair.into_inner();
        let name = self.ident(inner.next().expect("def has a name"));
        let mut params = Vec::new();
        let mut ret = None;
        let mut body = Vec::new();
        let mut result = None;
        for p in inner {
            match p.as_rule() {
                Rule::def_params => {
                    for dp in p.into_inner() {
                        params.push(self.def_param(dp)?);
                    }
                }
                Rule::type_expr => ret = Some(self.type_expr(p)),
                Rule::binding => body.push(self.binding(p)?),
                Rule::expr => result = Some(self.expr(p)?),
                other => unreachable!("unexpected rule in def: {other:?}"),
            }
        }
        Ok(Def {
            name,
            params,
            ret,
            body,
            result: result.expect("def has a result expression"),
            span,
        })
    }

    fn def_param(&mut self, pair: Pair<Rule>) -> Result<DefParam, Diagnostic> {
        let span = self.span(&pair);
        let mut inner = pair.into_inner();
        let name = self.ident(inner.next().expect("def param has a name"));
        let ty = self.type_expr(inner.next().expect("def param has a type"));
        let default = inner.next().map(|p| self.expr(p)).transpose()?;
        Ok(DefParam {
            name,
            ty,
            default,
            span,
        })
    }

    fn type_expr(&self, pair: Pair<Rule>) -> TypeExpr {
        let span = self.span(&pair);
        let mut inner = pair.into_inner();
        let name = self.ident(inner.next().expect("type has a name"));
        let args = inner.map(|p| self.type_expr(p)).collect();
        TypeExpr { name, args, span }
    }

    /// Guards recursion depth: nested pipes, concatenations and postfix chains build deep trees
    /// from flat text, which bracket counting alone does not catch. A chain adds one level per
    /// link while it is built and gives them back when done.
    fn nest(&mut self, span: Span) -> Result<(), Diagnostic> {
        self.depth += 1;
        if self.depth > MAX_NESTING * 2 {
            return Err(Diagnostic::error(
                "tulu::syntax::too-deep",
                "this expression is nested too deeply",
                span,
            )
            .with_help("split the expression into several `let` bindings"));
        }
        Ok(())
    }

    fn expr(&mut self, pair: Pair<Rule>) -> Result<Expr, Diagnostic> {
        let span = self.span(&pair);
        self.nest(span)?;
        let result = match pair.as_rule() {
            Rule::expr => self.pipe_chain(pair),
            Rule::concat => self.concat_chain(pair),
            Rule::unary => self.unary(pair),
            Rule::postfix => self.postfix(pair),
            _ => self.atom(pair),
        };
        self.depth -= 1;
        result
    }

    fn pipe_chain(&mut self, pair: Pair<Rule>) -> Result<Expr, Diagnostic> {
        let depth = self.depth;
        let mut inner = pair.into_inner().filter(|p| p.as_rule() != Rule::pipe_op);
        let mut acc = self.expr(inner.next().expect("expr has a first operand"))?;
        for rhs_pair in inner {
            let rhs = self.expr(rhs_pair)?;
            let span = acc.span.to(rhs.span);
            self.nest(span)?;
            acc = Expr {
                kind: ExprKind::Pipe {
                    lhs: Box::new(acc),
                    rhs: Box::new(rhs),
                },
                span,
            };
        }
        self.depth = depth;
        Ok(acc)
    }

    fn concat_chain(&mut self, pair: Pair<Rule>) -> Result<Expr, Diagnostic> {
        let depth = self.depth;
        let mut inner = pair.into_inner();
        let mut acc = self.expr(inner.next().expect("concat has a first operand"))?;
        for rhs_pair in inner {
            let rhs = self.expr(rhs_pair)?;
            let span = acc.span.to(rhs.span);
            self.nest(span)?;
            acc = Expr {
                kind: ExprKind::Concat(Box::new(acc), Box::new(rhs)),
                span,
            };
        }
        self.depth = depth;
        Ok(acc)
    }

    fn unary(&mut self, pair: Pair<Rule>) -> Result<Expr, Diagnostic> {
        let depth = self.depth;
        let mut negs = Vec::new();
        let mut operand = None;
        for p in pair.into_inner() {
            match p.as_rule() {
                Rule::neg => negs.push(self.span(&p)),
                _ => operand = Some(self.expr(p)?),
            }
        }
        let mut acc = operand.expect("unary has an operand");
        for neg_span in negs.into_iter().rev() {
            self.nest(neg_span)?;
            acc = negate(acc, neg_span);
        }
        self.depth = depth;
        Ok(acc)
    }

    fn postfix(&mut self, pair: Pair<Rule>) -> Result<Expr, Diagnostic> {
        let depth = self.depth;
        let mut inner = pair.into_inner();
        let mut acc = self.expr(inner.next().expect("postfix has an atom"))?;
        for op in inner {
            let op_span = self.span(&op);
            let span = acc.span.to(op_span);
            self.nest(span)?;
            acc = match op.as_rule() {
                Rule::field => {
                    let name = self.ident(op.into_inner().next().expect("field has a name"));
                    Expr {
                        kind: ExprKind::Field(Box::new(acc), name),
                        span,
                    }
                }
                Rule::call_args => {
                    let mut args = Vec::new();
                    for arg in op.into_inner() {
                        args.push(self.arg(arg)?);
                    }
                    Expr {
                        kind: ExprKind::Call {
                            callee: Box::new(acc),
                            args,
                        },
                        span,
                    }
                }
                other => unreachable!("unexpected postfix rule {other:?}"),
            };
        }
        self.depth = depth;
        Ok(acc)
    }

    fn arg(&mut self, pair: Pair<Rule>) -> Result<Arg, Diagnostic> {
        let span = self.span(&pair);
        let mut inner = pair.into_inner();
        let first = inner.next().expect("arg is not empty");
        if first.as_rule() == Rule::ident {
            let name = self.ident(first);
            let value = self.expr(inner.next().expect("named arg has a value"))?;
            Ok(Arg {
                name: Some(name),
                value,
                span,
            })
        } else {
            Ok(Arg {
                name: None,
                value: self.expr(first)?,
                span,
            })
        }
    }

    fn atom(&mut self, pair: Pair<Rule>) -> Result<Expr, Diagnostic> {
        let span = self.span(&pair);
        let kind = match pair.as_rule() {
            Rule::int => {
                let text = pair.as_str().to_string();
                let digits: String = text.chars().filter(|c| *c != '_').collect();
                let value = digits.parse::<i64>().map_err(|_| {
                    Diagnostic::error(
                        "tulu::syntax::int-too-large",
                        format!("the integer {text} does not fit in 64 bits"),
                        span,
                    )
                    .with_help(format!("integers range up to {}", i64::MAX))
                })?;
                ExprKind::Int { value, text }
            }
            Rule::float => {
                let text = pair.as_str().to_string();
                let digits: String = text.chars().filter(|c| *c != '_').collect();
                let value = digits
                    .parse::<f64>()
                    .ok()
                    .filter(|v| v.is_finite())
                    .ok_or_else(|| {
                        Diagnostic::error(
                            "tulu::syntax::float-out-of-range",
                            format!("the number {text} is not a finite 64-bit float"),
                            span,
                        )
                    })?;
                ExprKind::Float { value, text }
            }
            Rule::string => ExprKind::Str(self.string(pair)?),
            Rule::boolean => ExprKind::Bool(pair.as_str() == "true"),
            Rule::ident => ExprKind::Name(self.ident(pair)),
            Rule::list => {
                let mut items = Vec::new();
                for p in pair.into_inner() {
                    items.push(self.expr(p)?);
                }
                ExprKind::List(items)
            }
            Rule::record => {
                let mut fields = Vec::new();
                for f in pair.into_inner() {
                    let mut inner = f.into_inner();
                    let name = self.ident(inner.next().expect("record field has a name"));
                    let value = self.expr(inner.next().expect("record field has a value"))?;
                    fields.push((name, value));
                }
                ExprKind::Record(fields)
            }
            Rule::paren => {
                let mut is_tuple = false;
                let mut items = Vec::new();
                for p in pair.into_inner() {
                    match p.as_rule() {
                        Rule::tuple_comma => is_tuple = true,
                        _ => items.push(self.expr(p)?),
                    }
                }
                if is_tuple {
                    ExprKind::Tuple(items)
                } else {
                    ExprKind::Paren(Box::new(items.pop().expect("paren holds one expression")))
                }
            }
            other => unreachable!("unexpected atom rule {other:?}"),
        };
        Ok(Expr { kind, span })
    }

    fn string(&self, pair: Pair<Rule>) -> Result<String, Diagnostic> {
        let span = self.span(&pair);
        let body = pair.into_inner().next().map(|p| p.as_str()).unwrap_or("");
        unescape(body).map_err(|(offset, message)| {
            let at = span.start as usize + 1 + offset;
            Diagnostic::error(
                "tulu::syntax::bad-escape",
                message,
                Span::new(self.file, at, at + 2),
            )
            .with_help(r#"the escapes are \" \\ \n \t \r and \u{…}"#)
        })
    }
}

fn negate(expr: Expr, neg_span: Span) -> Expr {
    let span = neg_span.to(expr.span);
    let kind = match expr.kind {
        // Fold `-3` into a literal so `-9223372036854775808`-style values and `fmt` stay simple.
        ExprKind::Int { value, text } if value != i64::MIN => ExprKind::Int {
            value: -value,
            text: format!("-{text}"),
        },
        ExprKind::Float { value, text } => ExprKind::Float {
            value: -value,
            text: format!("-{text}"),
        },
        kind => ExprKind::Neg(Box::new(Expr {
            kind,
            span: expr.span,
        })),
    };
    Expr { kind, span }
}

/// Resolves the escapes of a string literal body; on error returns the byte offset of the bad
/// escape within the body and a message.
pub fn unescape(body: &str) -> Result<String, (usize, String)> {
    let mut out = String::with_capacity(body.len());
    let mut chars = body.char_indices();
    while let Some((i, c)) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some((_, '"')) => out.push('"'),
            Some((_, '\\')) => out.push('\\'),
            Some((_, 'n')) => out.push('\n'),
            Some((_, 't')) => out.push('\t'),
            Some((_, 'r')) => out.push('\r'),
            Some((_, 'u')) => {
                let rest = &body[i + 2..];
                let code = rest
                    .strip_prefix('{')
                    .and_then(|r| r.find('}').map(|end| &r[..end]))
                    .ok_or((i, "a \\u escape is written \\u{hex digits}".to_string()))?;
                let ch = u32::from_str_radix(code, 16)
                    .ok()
                    .and_then(char::from_u32)
                    .ok_or((i, format!("\\u{{{code}}} is not a Unicode scalar value")))?;
                out.push(ch);
                for _ in 0..code.len() + 2 {
                    chars.next();
                }
            }
            Some((_, other)) => return Err((i, format!("unknown escape `\\{other}` in string"))),
            None => return Err((i, "a string cannot end with a lone backslash".to_string())),
        }
    }
    Ok(out)
}

fn describe(rule: &Rule) -> &'static str {
    match rule {
        Rule::EOI => "end of file",
        Rule::recipe | Rule::single_value => "a recipe",
        Rule::import => "`import`",
        Rule::param_decl => "`param`",
        Rule::binding => "`let`",
        Rule::def => "`def`",
        Rule::def_params | Rule::def_param => "a parameter `name: Type`",
        Rule::type_expr => "a type",
        Rule::expr | Rule::concat | Rule::unary | Rule::postfix => "an expression",
        Rule::pipe_op => "`|>`",
        Rule::call_args => "`(`",
        Rule::field => "`.`",
        Rule::arg => "an argument",
        Rule::list => "a list",
        Rule::record | Rule::record_field => "a record field `name: value`",
        Rule::paren | Rule::tuple_comma => "`(`",
        Rule::boolean => "`true` or `false`",
        Rule::int | Rule::digits => "a number",
        Rule::float | Rule::exponent => "a number",
        Rule::string | Rule::string_body => "a string",
        Rule::keyword => "a keyword",
        Rule::ident => "a name",
        _ => "something else",
    }
}

fn parse_error(file: FileId, text: &str, err: pest::error::Error<Rule>) -> Diagnostic {
    use pest::error::{ErrorVariant, InputLocation};
    let pos = match err.location {
        InputLocation::Pos(p) => p,
        InputLocation::Span((s, _)) => s,
    };
    let found = found_at(text, pos);
    let mut expected: Vec<&'static str> = match &err.variant {
        ErrorVariant::ParsingError { positives, .. } => positives.iter().map(describe).collect(),
        ErrorVariant::CustomError { .. } => vec![],
    };
    expected.sort();
    expected.dedup();
    let at_item_start = expected.iter().any(|e| *e == "`let`" || *e == "`import`");
    let expected_text = match expected.len() {
        0 => "something else".to_string(),
        1 => expected[0].to_string(),
        _ => {
            let (last, rest) = expected.split_last().expect("len > 1");
            format!("{} or {}", rest.join(", "), last)
        }
    };
    let end = (pos + found.len().max(1)).min(text.len()).max(pos);
    let mut diag = Diagnostic::error(
        "tulu::syntax::unexpected",
        format!("expected {expected_text}, found {}", found.describe()),
        Span::new(file, pos, end),
    );
    if at_item_start {
        diag = diag.with_help(
            "a recipe is a list of `import`, `param`, `let` and `def` items; each starts with its keyword",
        );
    } else if found.text == "=" {
        diag = diag.with_help("named arguments are written `name: value`");
    }
    diag
}

struct Found {
    text: String,
}

impl Found {
    fn len(&self) -> usize {
        self.text.len()
    }

    fn describe(&self) -> String {
        if self.text.is_empty() {
            "end of file".to_string()
        } else if self.text == "\n" {
            "end of line".to_string()
        } else {
            format!("`{}`", self.text)
        }
    }
}

/// The token at `pos`, roughly: a word, or one character.
fn found_at(text: &str, pos: usize) -> Found {
    let rest = text.get(pos..).unwrap_or("");
    let word: String = rest
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect();
    let text = if !word.is_empty() {
        word
    } else if rest.starts_with("|>") || rest.starts_with("++") || rest.starts_with("->") {
        rest[..2].to_string()
    } else {
        rest.chars().next().map(String::from).unwrap_or_default()
    };
    Found { text }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error_code(text: &str) -> &'static str {
        match parse(FileId(0), text) {
            Ok(_) => "ok",
            Err(d) => d.code,
        }
    }

    #[test]
    fn deeply_nested_types_are_too_deep_not_a_stack_overflow() {
        let deep = format!(
            "param x: {}Int{} = 1",
            "List<".repeat(5_000),
            ">".repeat(5_000)
        );
        assert_eq!(error_code(&deep), "tulu::syntax::too-deep");
        let ok = format!("param x: {}Int{} = [1]", "List<".repeat(20), ">".repeat(20));
        assert_eq!(error_code(&ok), "ok");
    }

    #[test]
    fn many_calls_in_a_file_are_not_nesting() {
        // Each call, pipe, `++` and `-` used to add a level that was never given back, so a
        // recipe with a few hundred calls in all failed with "nested too deeply".
        let mut src = String::new();
        for i in 0..1_000 {
            src.push_str(&format!("let n{i} = a.b(x: -1) |> f() |> g() ++ [h(-c)]\n"));
        }
        assert_eq!(error_code(&src), "ok");
        let long_chain = format!("let x = a{}", " |> f()".repeat(150));
        assert_eq!(error_code(&long_chain), "ok");
        let too_long = format!("let x = a{}", " |> f()".repeat(250));
        assert_eq!(error_code(&too_long), "tulu::syntax::too-deep");
    }

    #[test]
    fn pipes_and_arrows_close_no_bracket() {
        // Each `[` nests; the `>` of `|>` must not be taken for a closing angle bracket.
        let deep = format!("let x = {}a{}", "[a |> ".repeat(500), "]".repeat(500));
        assert_eq!(error_code(&deep), "tulu::syntax::too-deep");
        let def = "def f(d: Dataset<Chat>) -> Dataset<Chat> { d |> sample(n: 1) |> g() }";
        assert_eq!(error_code(def), "ok");
    }
}
