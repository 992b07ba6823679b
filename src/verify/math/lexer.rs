//! Splitting a normalized answer into tokens.

use super::extract::braced_group;

/// One lexical unit of an answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Token {
    /// Digits with an optional decimal point: `12`, `3.5`, `.5`, `5.`.
    Number(String),
    /// One letter: a variable (multi-letter runs are products, as in LaTeX).
    Letter(char),
    /// A control word without its backslash: `frac`, `pi`.
    Command(String),
    /// The raw argument of `\operatorname{…}`.
    OperatorName(String),
    /// `\begin{name}` / `\end{name}`.
    Begin(String),
    End(String),
    /// `\{` and `\}`.
    SetOpen,
    SetClose,
    /// `\\` (a matrix row break).
    RowBreak,
    /// Any other single character: `+ - * / ^ _ ( ) [ ] { } , ! = < > | & ' ; :`.
    Punct(char),
}

/// Why an answer could not be tokenized or parsed (internal: a failed parse only means "compare
/// as strings").
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ParseError(pub(crate) &'static str);

/// Tokenizes `input`; fails only on constructs that cannot be math (an unclosed
/// `\begin{`/`\operatorname{`).
pub(crate) fn tokenize(input: &str) -> Result<Vec<Token>, ParseError> {
    let mut tokens = Vec::new();
    let mut rest = input;
    while let Some(c) = rest.chars().next() {
        if c.is_whitespace() {
            rest = &rest[c.len_utf8()..];
            continue;
        }
        if c.is_ascii_digit() || (c == '.' && rest[1..].starts_with(|d: char| d.is_ascii_digit())) {
            let end = number_end(rest);
            tokens.push(Token::Number(rest[..end].to_string()));
            rest = &rest[end..];
            continue;
        }
        if c == '\\' {
            rest = lex_backslash(&rest[1..], &mut tokens)?;
            continue;
        }
        if c.is_alphabetic() {
            tokens.push(Token::Letter(c));
        } else {
            tokens.push(Token::Punct(c));
        }
        rest = &rest[c.len_utf8()..];
    }
    Ok(tokens)
}

/// The end of the number at the start of `text`: digits, then at most one `.` and digits.
fn number_end(text: &str) -> usize {
    let bytes = text.as_bytes();
    let mut end = 0;
    while end < bytes.len() && bytes[end].is_ascii_digit() {
        end += 1;
    }
    if end < bytes.len() && bytes[end] == b'.' {
        end += 1;
        while end < bytes.len() && bytes[end].is_ascii_digit() {
            end += 1;
        }
    }
    end
}

/// Lexes what follows a backslash; returns the remaining input.
fn lex_backslash<'a>(after: &'a str, tokens: &mut Vec<Token>) -> Result<&'a str, ParseError> {
    let name_len = after
        .find(|c: char| !c.is_ascii_alphabetic())
        .unwrap_or(after.len());
    if name_len == 0 {
        let Some(symbol) = after.chars().next() else {
            return Err(ParseError("a lone backslash ends the answer"));
        };
        match symbol {
            '{' => tokens.push(Token::SetOpen),
            '}' => tokens.push(Token::SetClose),
            '\\' => tokens.push(Token::RowBreak),
            '|' => tokens.push(Token::Punct('|')),
            // A row break whose doubled backslash was collapsed (`\\-1` written `\-1`, as in
            // MATH-500's normalized answers): a lone backslash never precedes a number.
            c if c.is_ascii_digit() || c == '-' => {
                tokens.push(Token::RowBreak);
                return Ok(after);
            }
            // Spacing (`\,`, `\!`, …) was normalized away; any other escape is its character.
            c if c.is_whitespace() || ",!;:>".contains(c) => {}
            c => tokens.push(Token::Punct(c)),
        }
        return Ok(&after[symbol.len_utf8()..]);
    }
    let name = &after[..name_len];
    let rest = &after[name_len..];
    match name {
        "begin" | "end" | "operatorname" => {
            let trimmed = rest.trim_start();
            if !trimmed.starts_with('{') {
                return Err(ParseError(
                    "\\begin, \\end or \\operatorname without an argument",
                ));
            }
            let argument = braced_group(trimmed).ok_or(ParseError(
                "unclosed argument of \\begin, \\end or \\operatorname",
            ))?;
            let argument_name = argument.trim().trim_end_matches('*').to_string();
            tokens.push(match name {
                "begin" => Token::Begin(argument_name),
                "end" => Token::End(argument_name),
                _ => Token::OperatorName(argument_name),
            });
            Ok(&trimmed[argument.len() + 2..])
        }
        _ => {
            tokens.push(Token::Command(name.to_string()));
            Ok(rest)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_letters_commands_and_punctuation() {
        assert_eq!(
            tokenize("2.5x+\\frac{.5}{3.}").unwrap(),
            vec![
                Token::Number("2.5".into()),
                Token::Letter('x'),
                Token::Punct('+'),
                Token::Command("frac".into()),
                Token::Punct('{'),
                Token::Number(".5".into()),
                Token::Punct('}'),
                Token::Punct('{'),
                Token::Number("3.".into()),
                Token::Punct('}'),
            ]
        );
    }

    #[test]
    fn environments_sets_and_row_breaks() {
        assert_eq!(
            tokenize("\\begin{pmatrix}1\\\\2\\end{pmatrix}\\{\\}").unwrap(),
            vec![
                Token::Begin("pmatrix".into()),
                Token::Number("1".into()),
                Token::RowBreak,
                Token::Number("2".into()),
                Token::End("pmatrix".into()),
                Token::SetOpen,
                Token::SetClose,
            ]
        );
        assert_eq!(
            tokenize("\\operatorname{sech} x").unwrap(),
            vec![Token::OperatorName("sech".into()), Token::Letter('x')]
        );
    }

    #[test]
    fn malformed_input_is_an_error_not_a_panic() {
        assert!(tokenize("\\").is_err());
        assert!(tokenize("\\begin{pmatrix").is_err());
        assert!(tokenize("\\end").is_err());
        assert!(tokenize("é.").is_ok());
        assert_eq!(
            tokenize("1\\-2").unwrap(),
            vec![
                Token::Number("1".into()),
                Token::RowBreak,
                Token::Punct('-'),
                Token::Number("2".into())
            ]
        );
        assert!(tokenize("1..2").is_ok());
    }
}
