//! A recursive-descent parser for the LaTeX of final answers.
//!
//! Precedence, loosest first: comma lists, relations (`=`, `<`, `\le`, `\in`, …), unions
//! (`\cup`), sums (`+`, `-`, `\pm`), products (`\cdot`, `\times`, `/`, `\div`, juxtaposition),
//! unary signs, powers, postfix `!`, and primaries (numbers, letters, commands, brackets).
//! TeX's one-token arguments are honoured where answers use them (`\frac12`, `\sqrt3`); a
//! multi-digit exponent without braces (`x^10`) is read whole, as its writer meant.
//!
//! Depth is capped ([`MAX_NESTING_DEPTH`]) so hostile input cannot overflow the stack.

use num_bigint::BigInt;
use num_rational::BigRational;
use num_traits::{One, Zero};

use super::ast::{Constant, Function, Node, RelationOp};
use super::budget::{Budget, MAX_NESTING_DEPTH};
use super::lexer::{tokenize, ParseError, Token};

/// Most tokens one answer may have.
const MAX_TOKENS: usize = 600;

/// Parses one normalized answer.
pub(crate) fn parse_answer(text: &str, budget: &mut Budget) -> Result<Node, ParseError> {
    let tokens = tokenize(text)?;
    if tokens.is_empty() {
        return Err(ParseError("empty answer"));
    }
    if tokens.len() > MAX_TOKENS {
        return Err(ParseError("answer too long to parse"));
    }
    budget
        .spend(tokens.len() as u64)
        .map_err(|_| ParseError("budget exhausted"))?;
    let mut parser = Parser {
        tokens,
        pos: 0,
        depth: 0,
        abs_depth: 0,
    };
    let mut items = parser.parse_list(true)?;
    if parser.pos != parser.tokens.len() {
        return Err(ParseError("unexpected token"));
    }
    Ok(match items.len() {
        1 => items.pop().expect("one item"),
        _ => Node::List(items),
    })
}

struct Parser {
    tokens: Vec<Token>,
    pos: usize,
    depth: usize,
    /// Open `|…|` bars: inside one, a `|` closes instead of starting a new factor.
    abs_depth: usize,
}

type Parsed = Result<Node, ParseError>;

fn is_command(token: Option<&Token>, names: &[&str]) -> bool {
    matches!(token, Some(Token::Command(name)) if names.contains(&name.as_str()))
}

/// Commands that are operators or relations, never the start of a factor.
const OPERATOR_COMMANDS: [&str; 18] = [
    "cdot", "times", "div", "pm", "mp", "cup", "cap", "le", "ge", "ne", "in", "approx", "equiv",
    "to", "setminus", "over", "rfloor", "rceil",
];

fn integer(value: i64) -> Node {
    Node::Number(BigRational::from_integer(BigInt::from(value)))
}

fn product_of(mut factors: Vec<Node>) -> Node {
    match factors.len() {
        1 => factors.pop().expect("one factor"),
        _ => Node::Product(factors),
    }
}

/// The exact value of a decimal literal (`12`, `3.25`, `.5`, `5.`).
pub(crate) fn decimal_value(literal: &str) -> Option<BigRational> {
    let (whole, fraction) = literal.split_once('.').unwrap_or((literal, ""));
    if whole.is_empty() && fraction.is_empty() {
        return None;
    }
    if !whole
        .bytes()
        .chain(fraction.bytes())
        .all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let digits = format!("{whole}{fraction}");
    let numerator: BigInt = digits.parse().ok()?;
    let denominator = BigInt::from(10u32).pow(u32::try_from(fraction.len()).ok()?);
    Some(BigRational::new(numerator, denominator))
}

/// `A.B\overline{R}` = (ABR − AB) / (10^|B| · (10^|R| − 1)).
fn repeating_decimal_value(literal: &str, repeating: &str) -> Option<BigRational> {
    if repeating.is_empty() || !repeating.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let (whole, fraction) = literal.split_once('.')?;
    let whole = if whole.is_empty() { "0" } else { whole };
    let prefix: BigInt = format!("{whole}{fraction}").parse().ok()?;
    let with_repeat: BigInt = format!("{whole}{fraction}{repeating}").parse().ok()?;
    let ten = BigInt::from(10u32);
    let shift = ten.pow(u32::try_from(fraction.len()).ok()?);
    let nines = ten.pow(u32::try_from(repeating.len()).ok()?) - BigInt::one();
    Some(BigRational::new(with_repeat - prefix, shift * nines))
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.pos)
    }

    fn peek_at(&self, offset: usize) -> Option<&Token> {
        self.tokens.get(self.pos + offset)
    }

    fn advance(&mut self) -> Option<Token> {
        let token = self.tokens.get(self.pos).cloned();
        if token.is_some() {
            self.pos += 1;
        }
        token
    }

    fn peek_punct(&self, c: char) -> bool {
        self.peek() == Some(&Token::Punct(c))
    }

    fn eat_punct(&mut self, c: char) -> bool {
        let found = self.peek_punct(c);
        if found {
            self.pos += 1;
        }
        found
    }

    fn expect_punct(&mut self, c: char) -> Result<(), ParseError> {
        match self.eat_punct(c) {
            true => Ok(()),
            false => Err(ParseError("missing closing bracket")),
        }
    }

    fn nested<T>(
        &mut self,
        parse: impl FnOnce(&mut Self) -> Result<T, ParseError>,
    ) -> Result<T, ParseError> {
        if self.depth >= MAX_NESTING_DEPTH {
            return Err(ParseError("answer nested too deeply"));
        }
        self.depth += 1;
        let result = parse(self);
        self.depth -= 1;
        result
    }

    /// `relation (, relation)*`; at the top level `;` also separates.
    fn parse_list(&mut self, top_level: bool) -> Result<Vec<Node>, ParseError> {
        self.nested(|p| {
            let mut items = vec![p.parse_relation()?];
            while p.eat_punct(',') || (top_level && p.eat_punct(';')) {
                items.push(p.parse_relation()?);
            }
            Ok(items)
        })
    }

    fn relation_op(&self) -> Option<(RelationOp, usize)> {
        let next_is_equals = self.peek_at(1) == Some(&Token::Punct('='));
        Some(match self.peek()? {
            Token::Punct('=') => (RelationOp::Equal, 1),
            Token::Punct('<') if next_is_equals => (RelationOp::LessEqual, 2),
            Token::Punct('>') if next_is_equals => (RelationOp::GreaterEqual, 2),
            Token::Punct('!') if next_is_equals => (RelationOp::NotEqual, 2),
            Token::Punct('<') => (RelationOp::Less, 1),
            Token::Punct('>') => (RelationOp::Greater, 1),
            Token::Command(name) => match name.as_str() {
                "le" => (RelationOp::LessEqual, 1),
                "ge" => (RelationOp::GreaterEqual, 1),
                "ne" => (RelationOp::NotEqual, 1),
                "in" => (RelationOp::ElementOf, 1),
                "approx" => (RelationOp::Approx, 1),
                "equiv" => (RelationOp::Equal, 1),
                _ => return None,
            },
            _ => return None,
        })
    }

    fn parse_relation(&mut self) -> Parsed {
        let first = self.parse_union()?;
        let mut sides = vec![first];
        let mut ops = Vec::new();
        while let Some((op, width)) = self.relation_op() {
            self.pos += width;
            ops.push(op);
            sides.push(self.parse_union()?);
        }
        Ok(match ops.is_empty() {
            true => sides.pop().expect("one side"),
            false => Node::Relation { sides, ops },
        })
    }

    fn parse_union(&mut self) -> Parsed {
        let mut members = vec![self.parse_sum()?];
        while is_command(self.peek(), &["cup"]) {
            self.pos += 1;
            members.push(self.parse_sum()?);
        }
        Ok(match members.len() {
            1 => members.pop().expect("one member"),
            _ => Node::Union(members),
        })
    }

    fn parse_sum(&mut self) -> Parsed {
        self.nested(|p| {
            let mut terms: Vec<Node> = Vec::new();
            let first = match p.peek() {
                Some(Token::Punct('-')) => {
                    p.pos += 1;
                    Node::Negate(Box::new(p.parse_product()?))
                }
                Some(Token::Punct('+')) => {
                    p.pos += 1;
                    p.parse_product()?
                }
                Some(Token::Command(name)) if name == "pm" || name == "mp" => {
                    p.pos += 1;
                    Node::PlusMinus(Box::new(integer(0)), Box::new(p.parse_product()?))
                }
                _ => p.parse_product()?,
            };
            terms.push(first);
            loop {
                match p.peek() {
                    Some(Token::Punct('+')) => {
                        p.pos += 1;
                        terms.push(p.parse_product()?);
                    }
                    Some(Token::Punct('-')) => {
                        p.pos += 1;
                        terms.push(Node::Negate(Box::new(p.parse_product()?)));
                    }
                    Some(Token::Command(name)) if name == "pm" || name == "mp" => {
                        p.pos += 1;
                        let left = sum_of(std::mem::take(&mut terms));
                        let right = p.parse_product()?;
                        terms.push(Node::PlusMinus(Box::new(left), Box::new(right)));
                    }
                    _ => break,
                }
            }
            Ok(sum_of(terms))
        })
    }

    fn starts_implicit_factor(&self) -> bool {
        match self.peek() {
            Some(Token::Number(_) | Token::Letter(_) | Token::OperatorName(_)) => true,
            Some(Token::Begin(_)) => true,
            Some(Token::Punct('(' | '{')) => true,
            Some(Token::Punct('|')) => self.abs_depth == 0,
            Some(Token::Command(name)) => !OPERATOR_COMMANDS.contains(&name.as_str()),
            _ => false,
        }
    }

    fn parse_product(&mut self) -> Parsed {
        self.nested(|p| {
            let mut factors = vec![p.parse_power()?];
            loop {
                match p.peek() {
                    Some(Token::Punct('*')) => {
                        p.pos += 1;
                        factors.push(p.parse_signed_factor()?);
                    }
                    Some(Token::Command(name)) if name == "cdot" || name == "times" => {
                        p.pos += 1;
                        factors.push(p.parse_signed_factor()?);
                    }
                    Some(Token::Punct('/')) => {
                        p.pos += 1;
                        let divisor = p.parse_signed_factor()?;
                        let dividend = product_of(std::mem::take(&mut factors));
                        factors.push(Node::Quotient(Box::new(dividend), Box::new(divisor)));
                    }
                    Some(Token::Command(name)) if name == "div" => {
                        p.pos += 1;
                        let divisor = p.parse_signed_factor()?;
                        let dividend = product_of(std::mem::take(&mut factors));
                        factors.push(Node::Quotient(Box::new(dividend), Box::new(divisor)));
                    }
                    _ if p.starts_implicit_factor() => factors.push(p.parse_power()?),
                    _ => break,
                }
            }
            Ok(product_of(factors))
        })
    }

    /// A factor after an explicit operator may carry a sign: `2 \cdot -3`.
    fn parse_signed_factor(&mut self) -> Parsed {
        self.nested(|p| {
            if p.eat_punct('-') {
                return Ok(Node::Negate(Box::new(p.parse_signed_factor()?)));
            }
            p.eat_punct('+');
            p.parse_power()
        })
    }

    fn parse_power(&mut self) -> Parsed {
        self.nested(|p| {
            let mut base = p.parse_postfix()?;
            while p.eat_punct('^') {
                let exponent = p.parse_exponent()?;
                base = Node::Power(Box::new(base), Box::new(exponent));
            }
            Ok(base)
        })
    }

    fn parse_exponent(&mut self) -> Parsed {
        self.nested(|p| {
            if p.eat_punct('-') {
                return Ok(Node::Negate(Box::new(p.parse_exponent()?)));
            }
            p.eat_punct('+');
            p.parse_argument(false)
        })
    }

    fn parse_postfix(&mut self) -> Parsed {
        let mut node = self.parse_primary()?;
        loop {
            if self.peek_punct('!') && self.peek_at(1) != Some(&Token::Punct('=')) {
                self.pos += 1;
                node = Node::Factorial(Box::new(node));
            } else if self.peek_punct('\'') {
                self.pos += 1;
                match &mut node {
                    Node::Symbol(name) => name.push('\''),
                    _ => return Err(ParseError("a prime on something that is not a name")),
                }
            } else {
                return Ok(node);
            }
        }
    }

    /// A TeX macro argument: a braced group, or one token. With `split_digits`, a number token
    /// gives only its first digit (`\frac12` is `\frac{1}{2}`).
    fn parse_argument(&mut self, split_digits: bool) -> Parsed {
        self.nested(|p| match p.peek().cloned() {
            Some(Token::Punct('{')) => {
                p.pos += 1;
                let mut items = p.parse_list(false)?;
                p.expect_punct('}')?;
                match items.len() {
                    1 => Ok(items.pop().expect("one item")),
                    _ => Err(ParseError("a list where one argument was expected")),
                }
            }
            Some(Token::Number(literal)) => {
                let first = literal.chars().next().unwrap_or('0');
                if split_digits && literal.len() > 1 && first != '.' {
                    p.tokens[p.pos] = Token::Number(literal[1..].to_string());
                    decimal_value(&literal[..1])
                        .map(Node::Number)
                        .ok_or(ParseError("bad number"))
                } else {
                    p.pos += 1;
                    decimal_value(&literal)
                        .map(Node::Number)
                        .ok_or(ParseError("bad number"))
                }
            }
            Some(Token::Letter(_) | Token::Command(_) | Token::OperatorName(_)) => {
                p.parse_primary()
            }
            Some(Token::Punct('(')) => p.parse_primary(),
            _ => Err(ParseError("missing argument")),
        })
    }

    fn parse_primary(&mut self) -> Parsed {
        let token = self.advance().ok_or(ParseError("answer ends too early"))?;
        match token {
            Token::Number(literal) => self.parse_number(&literal),
            Token::Letter(letter) => self.parse_letter(letter),
            Token::Command(name) => self.parse_command(&name),
            Token::OperatorName(name) => match Function::from_command(&name) {
                Some(function) => self.parse_function(function),
                None => Ok(Node::Symbol(name)),
            },
            Token::Punct('(') => self.nested(|p| p.parse_bracketed(false)),
            Token::Punct('[') => self.nested(|p| p.parse_bracketed(true)),
            Token::Punct('{') => self.nested(|p| {
                let mut items = p.parse_list(false)?;
                p.expect_punct('}')?;
                Ok(match items.len() {
                    1 => items.pop().expect("one item"),
                    _ => Node::List(items),
                })
            }),
            Token::SetOpen => self.nested(|p| {
                let items = match p.peek() {
                    Some(Token::SetClose) => Vec::new(),
                    _ => p.parse_list(false)?,
                };
                match p.advance() {
                    Some(Token::SetClose) => Ok(Node::Set(items)),
                    _ => Err(ParseError("unclosed \\{")),
                }
            }),
            Token::Punct('|') => self.nested(|p| {
                p.abs_depth += 1;
                let inner = p.parse_sum();
                p.abs_depth -= 1;
                let inner = inner?;
                p.expect_punct('|')?;
                Ok(Node::Apply(Function::Abs, vec![inner]))
            }),
            Token::Begin(environment) => self.nested(|p| p.parse_matrix(&environment)),
            _ => Err(ParseError("unexpected token")),
        }
    }

    fn parse_number(&mut self, literal: &str) -> Parsed {
        // Repeating decimal: `0.\overline{3}`.
        if literal.contains('.') && is_command(self.peek(), &["overline"]) {
            let repeating = match (self.peek_at(1), self.peek_at(2), self.peek_at(3)) {
                (Some(Token::Punct('{')), Some(Token::Number(digits)), Some(Token::Punct('}'))) => {
                    Some((digits.clone(), 4))
                }
                (Some(Token::Number(digits)), _, _) => Some((digits.clone(), 2)),
                _ => None,
            };
            if let Some((digits, width)) = repeating {
                if let Some(value) = repeating_decimal_value(literal, &digits) {
                    self.pos += width;
                    return Ok(Node::Number(value));
                }
            }
        }
        let value = decimal_value(literal).ok_or(ParseError("bad number"))?;
        // A numeral in another base: `204_5`, `4210_{5}`.
        if self.eat_punct('_') {
            let base = self.parse_subscript_text()?;
            if base == "10" {
                return Ok(Node::Number(value));
            }
            return Ok(Node::BaseNumeral {
                digits: literal.to_string(),
                base,
            });
        }
        // A mixed number: `137\frac{1}{2}` is 137½, as MATH writes it, not 137 · ½.
        if !literal.contains('.') {
            if let Some((numerator, denominator, width)) = self.mixed_fraction_ahead() {
                if !denominator.is_zero() {
                    self.pos += width;
                    return Ok(Node::Number(value + numerator / denominator));
                }
            }
        }
        Ok(Node::Number(value))
    }

    /// `\frac{a}{b}`, `\frac ab` or `\frac a{b}` with plain integers, right after an integer.
    fn mixed_fraction_ahead(&self) -> Option<(BigRational, BigRational, usize)> {
        if !is_command(self.peek(), &["frac"]) {
            return None;
        }
        let integer_literal = |token: Option<&Token>| match token {
            Some(Token::Number(digits)) if digits.bytes().all(|b| b.is_ascii_digit()) => {
                decimal_value(digits)
            }
            _ => None,
        };
        let braced_integer = |offset: usize| {
            (self.peek_at(offset) == Some(&Token::Punct('{'))
                && self.peek_at(offset + 2) == Some(&Token::Punct('}')))
            .then(|| integer_literal(self.peek_at(offset + 1)))
            .flatten()
        };
        if let (Some(numerator), Some(denominator)) = (braced_integer(1), braced_integer(4)) {
            return Some((numerator, denominator, 7));
        }
        match self.peek_at(1) {
            Some(Token::Number(digits)) if digits.len() == 2 => {
                let numerator = integer_literal(Some(&Token::Number(digits[..1].to_string())))?;
                let denominator = integer_literal(Some(&Token::Number(digits[1..].to_string())))?;
                Some((numerator, denominator, 2))
            }
            Some(Token::Number(digits)) if digits.len() == 1 => {
                let numerator = integer_literal(self.peek_at(1))?;
                let denominator = braced_integer(2)?;
                Some((numerator, denominator, 5))
            }
            _ => None,
        }
    }

    fn parse_letter(&mut self, letter: char) -> Parsed {
        if self.eat_punct('_') {
            let subscript = self.parse_subscript_text()?;
            return Ok(Node::Symbol(format!("{letter}_{subscript}")));
        }
        Ok(match letter {
            'i' => Node::Constant(Constant::ImaginaryUnit),
            'e' => Node::Constant(Constant::E),
            _ => Node::Symbol(letter.to_string()),
        })
    }

    /// The text of a subscript: `_1`, `_{10}`, `_{n+1}`.
    fn parse_subscript_text(&mut self) -> Result<String, ParseError> {
        match self.advance() {
            Some(Token::Number(digits)) => Ok(digits),
            Some(Token::Letter(letter)) => Ok(letter.to_string()),
            Some(Token::Command(name)) => Ok(name),
            Some(Token::Punct('{')) => {
                let mut text = String::new();
                let mut depth = 1usize;
                loop {
                    match self.advance() {
                        None => return Err(ParseError("unclosed subscript")),
                        Some(Token::Punct('{')) => depth += 1,
                        Some(Token::Punct('}')) => {
                            depth -= 1;
                            if depth == 0 {
                                return Ok(text);
                            }
                        }
                        Some(token) => text.push_str(&render(&token)),
                    }
                }
            }
            _ => Err(ParseError("missing subscript")),
        }
    }

    fn parse_command(&mut self, name: &str) -> Parsed {
        match name {
            "frac" => self.nested(|p| {
                let numerator = p.parse_argument(true)?;
                let denominator = p.parse_argument(true)?;
                Ok(Node::Quotient(Box::new(numerator), Box::new(denominator)))
            }),
            "sqrt" => self.nested(|p| {
                let index = match p.eat_punct('[') {
                    true => {
                        let index = p.parse_sum()?;
                        p.expect_punct(']')?;
                        index
                    }
                    false => integer(2),
                };
                let radicand = p.parse_argument(true)?;
                let exponent = Node::Quotient(Box::new(integer(1)), Box::new(index));
                Ok(Node::Power(Box::new(radicand), Box::new(exponent)))
            }),
            "binom" => self.nested(|p| {
                let n = p.parse_argument(true)?;
                let k = p.parse_argument(true)?;
                Ok(Node::Binomial(Box::new(n), Box::new(k)))
            }),
            "exp" => self.nested(|p| {
                let argument = p.parse_function_operand()?;
                Ok(Node::Power(
                    Box::new(Node::Constant(Constant::E)),
                    Box::new(argument),
                ))
            }),
            "pi" => Ok(Node::Constant(Constant::Pi)),
            "infty" => Ok(Node::Constant(Constant::Infinity)),
            "emptyset" => Ok(Node::Set(Vec::new())),
            "overline" | "vec" | "hat" | "bar" | "tilde" | "widehat" | "overrightarrow" => {
                self.parse_argument(false)
            }
            "lfloor" => self.nested(|p| p.parse_delimited(Function::Floor, "rfloor")),
            "lceil" => self.nested(|p| p.parse_delimited(Function::Ceil, "rceil")),
            _ if OPERATOR_COMMANDS.contains(&name) => Err(ParseError("operator without operand")),
            "text" => Err(ParseError("unexpected command")),
            _ => match Function::from_command(name) {
                Some(function) => self.parse_function(function),
                None => Ok(match function_applied_to_letter(name) {
                    Some(applied) => applied,
                    // Greek letters and other named objects are variables.
                    None => Node::Symbol(format!("\\{name}")),
                }),
            },
        }
    }

    fn parse_delimited(&mut self, function: Function, closing: &str) -> Parsed {
        let inner = self.parse_sum()?;
        match self.advance() {
            Some(Token::Command(name)) if name == closing => Ok(Node::Apply(function, vec![inner])),
            _ => Err(ParseError("unclosed floor or ceiling")),
        }
    }

    fn parse_function(&mut self, function: Function) -> Parsed {
        self.nested(|p| {
            let power = match p.eat_punct('^') {
                true => Some(p.parse_exponent()?),
                false => None,
            };
            let base = match function == Function::Ln && p.eat_punct('_') {
                // `\log_28` is log base 2 of 8, as TeX reads it.
                true => Some(p.parse_argument(true)?),
                false => None,
            };
            let argument = p.parse_function_operand()?;
            let applied = match base {
                Some(base) => Node::Apply(Function::LogBase, vec![argument, base]),
                None => Node::Apply(function, vec![argument]),
            };
            Ok(match power {
                // `\sin^{-1} x` is arcsin x.
                Some(Node::Negate(inner)) if *inner == integer(1) => match function {
                    Function::Sin => Node::Apply(Function::Arcsin, arguments_of(applied)),
                    Function::Cos => Node::Apply(Function::Arccos, arguments_of(applied)),
                    Function::Tan => Node::Apply(Function::Arctan, arguments_of(applied)),
                    _ => Node::Power(Box::new(applied), Box::new(Node::Negate(inner))),
                },
                Some(power) => Node::Power(Box::new(applied), Box::new(power)),
                None => applied,
            })
        })
    }

    /// A function's argument: a bracketed group, or the juxtaposed factors that follow
    /// (`\sin 2x`), stopping at the next function name.
    fn parse_function_operand(&mut self) -> Parsed {
        if self.peek_punct('(') || self.peek_punct('{') {
            // `\sin(x)^2` is (sin x)^2: the caller applies the power to the function.
            return self.parse_postfix();
        }
        let mut factors = vec![self.parse_power()?];
        while self.starts_implicit_factor() && !self.peek_is_function() {
            factors.push(self.parse_power()?);
        }
        Ok(product_of(factors))
    }

    fn peek_is_function(&self) -> bool {
        match self.peek() {
            Some(Token::Command(name)) => Function::from_command(name).is_some() || name == "exp",
            Some(Token::OperatorName(_)) => true,
            _ => false,
        }
    }

    /// After `(` or `[`: a grouping, or a tuple/interval whose closing bracket may differ.
    fn parse_bracketed(&mut self, left_closed: bool) -> Parsed {
        let mut items = self.parse_list(false)?;
        let right_closed = match self.advance() {
            Some(Token::Punct(')')) => false,
            Some(Token::Punct(']')) => true,
            _ => return Err(ParseError("unclosed bracket")),
        };
        if items.len() == 1 && left_closed == right_closed {
            return Ok(items.pop().expect("one item"));
        }
        if items.len() == 1 {
            return Err(ParseError("mismatched brackets around one item"));
        }
        Ok(Node::Tuple {
            items,
            left_closed,
            right_closed,
        })
    }

    fn parse_matrix(&mut self, environment: &str) -> Parsed {
        const MATRICES: [&str; 8] = [
            "pmatrix",
            "bmatrix",
            "Bmatrix",
            "vmatrix",
            "Vmatrix",
            "matrix",
            "smallmatrix",
            "array",
        ];
        if !MATRICES.contains(&environment) {
            return Err(ParseError("an environment that is not a matrix"));
        }
        if environment == "array" && self.eat_punct('{') {
            // The column specification, `{cc}` or `{c|c}`.
            while !self.eat_punct('}') {
                self.advance()
                    .ok_or(ParseError("unclosed array specification"))?;
            }
        }
        let mut rows: Vec<Vec<Node>> = Vec::new();
        let mut row: Vec<Node> = Vec::new();
        loop {
            match self.peek() {
                Some(Token::End(_)) => {
                    self.pos += 1;
                    if !row.is_empty() {
                        rows.push(row);
                    }
                    break;
                }
                None => return Err(ParseError("unclosed matrix")),
                _ => {}
            }
            row.push(self.parse_relation()?);
            match self.peek() {
                Some(Token::Punct('&')) => self.pos += 1,
                Some(Token::RowBreak) => {
                    self.pos += 1;
                    rows.push(std::mem::take(&mut row));
                }
                Some(Token::End(_)) => {}
                _ => return Err(ParseError("unexpected token in a matrix")),
            }
        }
        let width = rows.first().map_or(0, Vec::len);
        if width == 0 || rows.iter().any(|r| r.len() != width) {
            return Err(ParseError("a matrix with ragged or empty rows"));
        }
        Ok(Node::Matrix(rows))
    }
}

/// `\cotx`, `\sinx`: a function name run together with a one-letter argument (a space lost
/// in normalization, as in MATH-500's `\cotx`).
fn function_applied_to_letter(name: &str) -> Option<Node> {
    let split = name.len().checked_sub(1)?;
    let (function_name, letter) = name.split_at(split);
    let letter = letter.chars().next().filter(char::is_ascii_alphabetic)?;
    let argument = Node::Symbol(letter.to_string());
    match function_name {
        "exp" => Some(Node::Power(
            Box::new(Node::Constant(Constant::E)),
            Box::new(argument),
        )),
        _ => Function::from_command(function_name).map(|f| Node::Apply(f, vec![argument])),
    }
}

fn arguments_of(node: Node) -> Vec<Node> {
    match node {
        Node::Apply(_, arguments) => arguments,
        other => vec![other],
    }
}

fn sum_of(mut terms: Vec<Node>) -> Node {
    match terms.len() {
        1 => terms.pop().expect("one term"),
        _ => Node::Sum(terms),
    }
}

/// A token as text, for symbol names built from subscripts.
fn render(token: &Token) -> String {
    match token {
        Token::Number(s) => s.clone(),
        Token::Letter(c) | Token::Punct(c) => c.to_string(),
        Token::Command(name) | Token::OperatorName(name) => format!("\\{name}"),
        Token::Begin(name) => format!("\\begin{{{name}}}"),
        Token::End(name) => format!("\\end{{{name}}}"),
        Token::SetOpen => "\\{".into(),
        Token::SetClose => "\\}".into(),
        Token::RowBreak => "\\\\".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Node {
        parse_answer(text, &mut Budget::per_comparison())
            .unwrap_or_else(|e| panic!("{text:?} did not parse: {e:?}"))
    }

    fn number(numerator: i64, denominator: i64) -> Node {
        Node::Number(BigRational::new(numerator.into(), denominator.into()))
    }

    fn symbol(name: &str) -> Node {
        Node::Symbol(name.into())
    }

    #[test]
    fn numbers_decimals_and_repeating_decimals() {
        assert_eq!(parse("42"), number(42, 1));
        assert_eq!(parse("0.35625"), number(35625, 100000));
        assert_eq!(parse("0.\\overline{3}"), number(1, 3));
        assert_eq!(parse("0.1\\overline{6}"), number(1, 6));
        assert_eq!(parse("1.\\overline{142857}"), number(8, 7));
    }

    #[test]
    fn mixed_numbers_are_sums_other_juxtapositions_are_products() {
        assert_eq!(parse("137\\frac{1}{2}"), number(275, 2));
        assert_eq!(parse("1\\frac45"), number(9, 5));
        assert_eq!(
            parse("2\\frac{\\pi}{3}"),
            Node::Product(vec![
                number(2, 1),
                Node::Quotient(
                    Box::new(Node::Constant(Constant::Pi)),
                    Box::new(number(3, 1))
                )
            ])
        );
    }

    #[test]
    fn tex_shorthand_arguments() {
        assert_eq!(
            parse("\\frac12"),
            Node::Quotient(Box::new(number(1, 1)), Box::new(number(2, 1)))
        );
        assert_eq!(
            parse("\\frac9{19}"),
            Node::Quotient(Box::new(number(9, 1)), Box::new(number(19, 1)))
        );
        assert_eq!(
            parse("11\\sqrt2"),
            Node::Product(vec![
                number(11, 1),
                Node::Power(
                    Box::new(number(2, 1)),
                    Box::new(Node::Quotient(
                        Box::new(number(1, 1)),
                        Box::new(number(2, 1))
                    ))
                )
            ])
        );
    }

    #[test]
    fn intervals_tuples_sets_and_unions() {
        assert!(matches!(
            parse("(3,4]"),
            Node::Tuple {
                left_closed: false,
                right_closed: true,
                ..
            }
        ));
        assert!(matches!(
            parse("[1,2]"),
            Node::Tuple {
                left_closed: true,
                right_closed: true,
                ..
            }
        ));
        assert!(
            matches!(parse("(-\\infty,2)\\cup(3,\\infty)"), Node::Union(members) if members.len() == 2)
        );
        assert!(matches!(parse("\\{1\\pm\\sqrt{5},-2\\}"), Node::Set(items) if items.len() == 2));
        assert!(matches!(parse("1,-2"), Node::List(items) if items.len() == 2));
        assert_eq!(parse("(5)"), number(5, 1));
        assert_eq!(parse("\\emptyset"), Node::Set(vec![]));
    }

    #[test]
    fn symbols_subscripts_base_numerals_and_constants() {
        assert_eq!(parse("x_1"), symbol("x_1"));
        assert_eq!(parse("a_{10}"), symbol("a_10"));
        assert_eq!(
            parse("4210_{5}"),
            Node::BaseNumeral {
                digits: "4210".into(),
                base: "5".into()
            }
        );
        assert_eq!(parse("\\theta"), symbol("\\theta"));
        assert_eq!(parse("i"), Node::Constant(Constant::ImaginaryUnit));
        assert_eq!(parse("f'"), symbol("f'"));
    }

    #[test]
    fn functions_take_juxtaposed_operands() {
        assert_eq!(
            parse("\\sin 2x"),
            Node::Apply(
                Function::Sin,
                vec![Node::Product(vec![number(2, 1), symbol("x")])]
            )
        );
        assert!(matches!(parse("\\sin^2 x"), Node::Power(..)));
        assert!(matches!(
            parse("\\sin^{-1} x"),
            Node::Apply(Function::Arcsin, _)
        ));
        assert!(
            matches!(parse("\\log_2 8"), Node::Apply(Function::LogBase, args) if args.len() == 2)
        );
        assert!(
            matches!(parse("\\log_28"), Node::Apply(Function::LogBase, args) if args.len() == 2)
        );
        assert!(matches!(parse("\\sin(x)^2"), Node::Power(..)));
        assert_eq!(parse("\\dots"), symbol("\\dots"));
        assert_eq!(
            parse("\\cotx"),
            Node::Apply(Function::Cot, vec![symbol("x")])
        );
        assert_eq!(parse("\\alpha"), symbol("\\alpha"));
        assert!(matches!(
            parse("\\lfloor x\\rfloor"),
            Node::Apply(Function::Floor, _)
        ));
        assert!(matches!(parse("\\sin x\\cos x"), Node::Product(f) if f.len() == 2));
        assert!(matches!(parse("|x-1|"), Node::Apply(Function::Abs, _)));
    }

    #[test]
    fn relations_and_matrices() {
        assert!(
            matches!(parse("y=2x+3"), Node::Relation { ops, .. } if ops == [RelationOp::Equal])
        );
        assert!(
            matches!(parse("x\\in[-2,7]"), Node::Relation { ops, .. } if ops == [RelationOp::ElementOf])
        );
        assert!(matches!(parse("0<x\\le3"), Node::Relation { ops, .. } if ops.len() == 2));
        assert!(matches!(
            parse("\\begin{pmatrix}-1&0\\\\0&-1\\end{pmatrix}"),
            Node::Matrix(rows) if rows.len() == 2 && rows[0].len() == 2
        ));
        assert!(matches!(
            parse("\\begin{pmatrix}1/5\\\\-18/5\\\\\\end{pmatrix}"),
            Node::Matrix(rows) if rows.len() == 2
        ));
    }

    #[test]
    fn signs_bind_looser_than_powers() {
        assert_eq!(
            parse("-x^2"),
            Node::Negate(Box::new(Node::Power(
                Box::new(symbol("x")),
                Box::new(number(2, 1))
            )))
        );
        assert!(matches!(parse("2\\cdot-3"), Node::Product(_)));
        assert!(matches!(parse("1\\pm\\sqrt{19}"), Node::PlusMinus(..)));
    }

    #[test]
    fn malformed_and_hostile_input_fails_cleanly() {
        let mut budget = Budget::per_comparison();
        for text in [
            "",
            "(",
            ")",
            "(1,2",
            "\\frac",
            "\\frac{1}",
            "x^",
            "1+",
            "\\sqrt[3",
            "|x",
            "\\begin{pmatrix}1&2\\\\3\\end{pmatrix}",
            "\\begin{align}x\\end{align}",
            "_",
            "\\{1,2",
            "5!=",
            "\\cdot",
            "{",
            "}",
            "1,,2",
        ] {
            assert!(
                parse_answer(text, &mut budget).is_err(),
                "{text:?} should not parse"
            );
        }
        let deep = format!("{}1{}", "(".repeat(10_000), ")".repeat(10_000));
        assert!(parse_answer(&deep, &mut Budget::per_comparison()).is_err());
        // Under the token limit but over the depth limit.
        let deep_braces = format!("{}1{}", "{".repeat(150), "}".repeat(150));
        assert!(parse_answer(&deep_braces, &mut Budget::per_comparison()).is_err());
        let deep_fracs = "\\frac{1}{".repeat(60) + "2" + &"}".repeat(60);
        assert!(parse_answer(&deep_fracs, &mut Budget::per_comparison()).is_err());
        let long = "1+".repeat(400) + "1";
        assert!(parse_answer(&long, &mut Budget::per_comparison()).is_err());
    }
}
