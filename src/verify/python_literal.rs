//! Python literals (what `ast.literal_eval` reads) as JSON values.
//!
//! open-instruct's RLVR data stores an IFEval row's constraints as the `str()` of a Python list,
//! e.g. `[{'instruction_id': ['punctuation:no_comma'], 'kwargs': [{'N': None}]}]`, and its
//! verifier reads it back with `ast.literal_eval`. This reader accepts the subset such data
//! uses: dicts, lists, tuples (as lists), strings in single or double quotes (with an optional
//! `u`/`b`/`r` prefix and adjacent literals concatenated), ints, floats (`inf`/`nan` are not
//! literals in Python either), `True`, `False` and `None`. Nesting deeper than [`MAX_DEPTH`] is
//! rejected rather than recursed into.

use serde_json::{Map, Number, Value};

/// Nesting deeper than this is an error (no real constraint list comes close).
pub const MAX_DEPTH: usize = 64;

/// Parses `text` as one Python literal.
pub fn parse(text: &str) -> Result<Value, String> {
    let mut parser = Parser {
        chars: text.char_indices().peekable(),
        text,
    };
    let value = parser.value(0)?;
    parser.skip_space();
    match parser.chars.peek() {
        None => Ok(value),
        Some(&(at, c)) => Err(format!("unexpected `{c}` at byte {at} after the literal")),
    }
}

struct Parser<'a> {
    chars: std::iter::Peekable<std::str::CharIndices<'a>>,
    text: &'a str,
}

impl Parser<'_> {
    fn skip_space(&mut self) {
        while self.chars.next_if(|(_, c)| c.is_whitespace()).is_some() {}
    }

    fn position(&mut self) -> usize {
        self.chars.peek().map_or(self.text.len(), |(at, _)| *at)
    }

    fn expect(&mut self, wanted: char) -> Result<(), String> {
        self.skip_space();
        match self.chars.next() {
            Some((_, c)) if c == wanted => Ok(()),
            Some((at, c)) => Err(format!("expected `{wanted}` at byte {at}, found `{c}`")),
            None => Err(format!("expected `{wanted}`, found the end of the text")),
        }
    }

    fn value(&mut self, depth: usize) -> Result<Value, String> {
        if depth > MAX_DEPTH {
            return Err(format!("nested deeper than {MAX_DEPTH} levels"));
        }
        self.skip_space();
        let at = self.position();
        match self.chars.peek().map(|(_, c)| *c) {
            None => Err("expected a value, found the end of the text".into()),
            Some('{') => self.dict(depth),
            Some('[') => self.sequence('[', ']', depth),
            Some('(') => self.sequence('(', ')', depth),
            Some('\'' | '"') => self.strings(),
            Some(c) if c.is_ascii_digit() || c == '-' || c == '+' || c == '.' => self.number(),
            Some(c) if c.is_alphabetic() => {
                let word = self.word();
                match word.as_str() {
                    "True" => Ok(Value::Bool(true)),
                    "False" => Ok(Value::Bool(false)),
                    "None" => Ok(Value::Null),
                    "u" | "U" | "r" | "R" | "b" | "B"
                        if matches!(self.chars.peek(), Some((_, '\'' | '"'))) =>
                    {
                        self.strings()
                    }
                    _ => Err(format!(
                        "`{word}` at byte {at} is not a literal (True, False, None, a string, a \
                         number, a list or a dict)"
                    )),
                }
            }
            Some(c) => Err(format!("unexpected `{c}` at byte {at}")),
        }
    }

    fn word(&mut self) -> String {
        let mut word = String::new();
        while let Some((_, c)) = self
            .chars
            .next_if(|(_, c)| c.is_alphanumeric() || *c == '_')
        {
            word.push(c);
        }
        word
    }

    fn dict(&mut self, depth: usize) -> Result<Value, String> {
        self.expect('{')?;
        let mut map = Map::new();
        loop {
            self.skip_space();
            if self.chars.next_if(|(_, c)| *c == '}').is_some() {
                return Ok(Value::Object(map));
            }
            let at = self.position();
            let key = match self.value(depth + 1)? {
                Value::String(key) => key,
                Value::Number(n) => n.to_string(),
                other => return Err(format!("dict key at byte {at} is {other}, not a string")),
            };
            self.expect(':')?;
            let value = self.value(depth + 1)?;
            map.insert(key, value);
            self.skip_space();
            if self.chars.next_if(|(_, c)| *c == ',').is_none() {
                self.expect('}')?;
                return Ok(Value::Object(map));
            }
        }
    }

    fn sequence(&mut self, open: char, close: char, depth: usize) -> Result<Value, String> {
        self.expect(open)?;
        let mut items = Vec::new();
        loop {
            self.skip_space();
            if self.chars.next_if(|(_, c)| *c == close).is_some() {
                return Ok(Value::Array(items));
            }
            items.push(self.value(depth + 1)?);
            self.skip_space();
            if self.chars.next_if(|(_, c)| *c == ',').is_none() {
                self.expect(close)?;
                return Ok(Value::Array(items));
            }
        }
    }

    /// One or more adjacent string literals (Python concatenates `'a' 'b'`).
    fn strings(&mut self) -> Result<Value, String> {
        let mut text = self.string()?;
        loop {
            self.skip_space();
            match self.chars.peek() {
                Some((_, '\'' | '"')) => text.push_str(&self.string()?),
                _ => return Ok(Value::String(text)),
            }
        }
    }

    fn string(&mut self) -> Result<String, String> {
        let Some((start, quote)) = self.chars.next() else {
            return Err("expected a string".into());
        };
        let triple = self.text[start..].starts_with(&quote.to_string().repeat(3));
        if triple {
            self.chars.next();
            self.chars.next();
        }
        let mut out = String::new();
        loop {
            let Some((_, c)) = self.chars.next() else {
                return Err(format!(
                    "the string starting at byte {start} is never closed"
                ));
            };
            if c == quote {
                if !triple {
                    return Ok(out);
                }
                let rest = self.position();
                if self.text[rest..].starts_with(&quote.to_string().repeat(2)) {
                    self.chars.next();
                    self.chars.next();
                    return Ok(out);
                }
                out.push(c);
            } else if c == '\\' {
                self.escape(&mut out)?;
            } else if c == '\n' && !triple {
                return Err(format!(
                    "the string starting at byte {start} runs past the end of its line"
                ));
            } else {
                out.push(c);
            }
        }
    }

    fn escape(&mut self, out: &mut String) -> Result<(), String> {
        let Some((at, c)) = self.chars.next() else {
            return Err("a `\\` ends the text".into());
        };
        match c {
            '\n' => {}
            '\\' | '\'' | '"' => out.push(c),
            'n' => out.push('\n'),
            't' => out.push('\t'),
            'r' => out.push('\r'),
            'a' => out.push('\u{7}'),
            'b' => out.push('\u{8}'),
            'f' => out.push('\u{c}'),
            'v' => out.push('\u{b}'),
            '0'..='7' => {
                let mut code = c.to_digit(8).unwrap_or(0);
                for _ in 0..2 {
                    match self.chars.next_if(|(_, d)| d.is_digit(8)) {
                        Some((_, d)) => code = code * 8 + d.to_digit(8).unwrap_or(0),
                        None => break,
                    }
                }
                out.push(char_of(code, at)?);
            }
            'x' => out.push(self.hex_escape(2, at)?),
            'u' => out.push(self.hex_escape(4, at)?),
            'U' => out.push(self.hex_escape(8, at)?),
            // Python keeps unknown escapes as written.
            other => {
                out.push('\\');
                out.push(other);
            }
        }
        Ok(())
    }

    fn hex_escape(&mut self, digits: usize, at: usize) -> Result<char, String> {
        let mut code = 0u32;
        for _ in 0..digits {
            match self.chars.next() {
                Some((_, d)) if d.is_ascii_hexdigit() => {
                    code = code * 16 + d.to_digit(16).unwrap_or(0);
                }
                _ => return Err(format!("truncated escape at byte {at}")),
            }
        }
        char_of(code, at)
    }

    fn number(&mut self) -> Result<Value, String> {
        let start = self.position();
        let mut literal = String::new();
        while let Some((_, c)) = self
            .chars
            .next_if(|(_, c)| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '+'))
        {
            // A sign is part of the number only at its start or after an exponent marker.
            if matches!(c, '-' | '+') && !(literal.is_empty() || literal.ends_with(['e', 'E'])) {
                return Err(format!("unexpected `{c}` in the number at byte {start}"));
            }
            if c != '_' {
                literal.push(c);
            }
        }
        if let Ok(int) = literal.parse::<i64>() {
            return Ok(Value::from(int));
        }
        let is_decimal = literal
            .trim_start_matches(['-', '+'])
            .starts_with(|c: char| c.is_ascii_digit() || c == '.');
        match literal.parse::<f64>() {
            Ok(float) if is_decimal && float.is_finite() => Number::from_f64(float)
                .map(Value::Number)
                .ok_or_else(|| format!("`{literal}` at byte {start} is not a finite number")),
            _ => Err(format!("`{literal}` at byte {start} is not a number")),
        }
    }
}

fn char_of(code: u32, at: usize) -> Result<char, String> {
    char::from_u32(code).ok_or_else(|| format!("escape at byte {at} is not a character"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_open_instruct_constraint_lists() {
        let text = "[{'instruction_id': ['punctuation:no_comma', 'keywords:existence'], \
                    'kwargs': [{'N': None}, {'keywords': ['cat', \"dog's\"], 'x': 1.5, 'y': -2, 'z': True}]}]";
        assert_eq!(
            parse(text).unwrap(),
            json!([{
                "instruction_id": ["punctuation:no_comma", "keywords:existence"],
                "kwargs": [{"N": null}, {"keywords": ["cat", "dog's"], "x": 1.5, "y": -2, "z": true}]
            }])
        );
    }

    #[test]
    fn strings_escapes_tuples_and_concatenation() {
        assert_eq!(parse(r"'a\nb\'c\x41\u00e9'").unwrap(), json!("a\nb'cAé"));
        assert_eq!(parse("('a', 'b',)").unwrap(), json!(["a", "b"]));
        assert_eq!(parse("'ab' \"cd\"").unwrap(), json!("abcd"));
        assert_eq!(parse("u'x'").unwrap(), json!("x"));
        assert_eq!(parse("'''it's'''").unwrap(), json!("it's"));
        assert_eq!(parse(r"'\d+'").unwrap(), json!("\\d+"));
        assert_eq!(parse("{}").unwrap(), json!({}));
        assert_eq!(parse("1_000").unwrap(), json!(1000));
        assert_eq!(parse("1e3").unwrap(), json!(1000.0));
    }

    #[test]
    fn malformed_input_is_an_error_never_a_panic() {
        for bad in [
            "", "[", "{'a' 1}", "'open", "[1,, 2]", "nan", "foo", "[1] 2", "'\\x4'", "{[1]: 2}",
            "1-2", "'\\", "'''x", "-", "é",
        ] {
            assert!(parse(bad).is_err(), "{bad:?} parsed");
        }
        let deep = "[".repeat(10_000);
        assert!(parse(&deep).unwrap_err().contains("nested deeper"));
    }
}
