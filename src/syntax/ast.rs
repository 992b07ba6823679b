//! The recipe AST, as written: pipes and `++` are kept (the formatter prints them back), and every
//! node has a span. Desugaring happens in the checker.

use super::source::Span;

#[derive(Debug, Clone, PartialEq)]
pub struct Ident {
    pub name: String,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Module {
    pub items: Vec<Item>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Item {
    Import(Import),
    Param(ParamDecl),
    Let(Binding),
    Def(Def),
}

impl Item {
    pub fn span(&self) -> Span {
        match self {
            Item::Import(i) => i.span,
            Item::Param(p) => p.span,
            Item::Let(b) => b.span,
            Item::Def(d) => d.span,
        }
    }
}

/// `import "path" as alias`
#[derive(Debug, Clone, PartialEq)]
pub struct Import {
    pub path: String,
    pub path_span: Span,
    pub alias: Ident,
    pub span: Span,
}

/// `param name: Type = default` — a value the command line may override with `--set`.
#[derive(Debug, Clone, PartialEq)]
pub struct ParamDecl {
    pub name: Ident,
    pub ty: Option<TypeExpr>,
    pub default: Expr,
    pub span: Span,
}

/// `let name = expr`
#[derive(Debug, Clone, PartialEq)]
pub struct Binding {
    pub name: Ident,
    pub value: Expr,
    pub span: Span,
}

/// `def name(p: Type, q: Type = default) -> Type { let …  result }` — a reusable, parameterized
/// piece of pipeline, expanded at each call.
#[derive(Debug, Clone, PartialEq)]
pub struct Def {
    pub name: Ident,
    pub params: Vec<DefParam>,
    pub ret: Option<TypeExpr>,
    pub body: Vec<Binding>,
    pub result: Expr,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct DefParam {
    pub name: Ident,
    pub ty: TypeExpr,
    pub default: Option<Expr>,
    pub span: Span,
}

/// `Name` or `Name<Arg, …>`, e.g. `Dataset<Chat>`.
#[derive(Debug, Clone, PartialEq)]
pub struct TypeExpr {
    pub name: Ident,
    pub args: Vec<TypeExpr>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ExprKind {
    /// The literal's source text is kept so `tulu fmt` prints `1_000` as written.
    Int {
        value: i64,
        text: String,
    },
    Float {
        value: f64,
        text: String,
    },
    Str(String),
    Bool(bool),
    List(Vec<Expr>),
    Tuple(Vec<Expr>),
    Record(Vec<(Ident, Expr)>),
    Name(Ident),
    Field(Box<Expr>, Ident),
    Call {
        callee: Box<Expr>,
        args: Vec<Arg>,
    },
    /// `lhs |> rhs`: rhs is a call (or a callable name) that receives lhs as its first input.
    Pipe {
        lhs: Box<Expr>,
        rhs: Box<Expr>,
    },
    /// `lhs ++ rhs`: list concatenation.
    Concat(Box<Expr>, Box<Expr>),
    Neg(Box<Expr>),
    /// `(e)`, kept so the formatter can print grouping back.
    Paren(Box<Expr>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Arg {
    pub name: Option<Ident>,
    pub value: Expr,
    pub span: Span,
}
