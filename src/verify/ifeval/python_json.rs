//! Whether a string is a document Python's `json.loads` accepts.
//!
//! `detectable_format:json_format` passes when `json.loads` does not raise. Python's decoder is
//! more lenient than RFC 8259 (and than `serde_json`) in two ways that matter for model output:
//! it accepts `NaN`, `Infinity` and `-Infinity`, and lone UTF-16 surrogate escapes (`"\ud800"`).
//! Like Python's default (`strict=True`) it rejects raw control characters inside strings.
//! This is a recognizer only: no value is built, and nesting uses an explicit stack, so deeply
//! nested input cannot overflow the call stack. (Python raises `RecursionError` past ~1000
//! levels; such input is rejected here past [`MAX_DEPTH`] levels.)

/// Nesting deeper than this is treated as invalid.
pub const MAX_DEPTH: usize = 10_000;

/// True when `json.loads(text)` would succeed.
pub fn is_valid(text: &str) -> bool {
    Recognizer {
        bytes: text.as_bytes(),
        at: 0,
    }
    .document()
    .is_some()
}

#[derive(Clone, Copy)]
enum Container {
    Array,
    Object,
}

struct Recognizer<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Recognizer<'_> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.at).copied()
    }

    fn skip_whitespace(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.at += 1;
        }
    }

    fn eat(&mut self, literal: &[u8]) -> Option<()> {
        if self.bytes[self.at..].starts_with(literal) {
            self.at += literal.len();
            Some(())
        } else {
            None
        }
    }

    fn document(&mut self) -> Option<()> {
        self.skip_whitespace();
        self.value()?;
        self.skip_whitespace();
        (self.at == self.bytes.len()).then_some(())
    }

    /// One value; containers are walked iteratively.
    fn value(&mut self) -> Option<()> {
        let mut stack: Vec<Container> = Vec::new();
        loop {
            // Parse one value start, or open a container.
            match self.peek()? {
                b'[' => {
                    self.at += 1;
                    self.skip_whitespace();
                    if self.peek() == Some(b']') {
                        self.at += 1;
                    } else {
                        if stack.len() >= MAX_DEPTH {
                            return None;
                        }
                        stack.push(Container::Array);
                        continue;
                    }
                }
                b'{' => {
                    self.at += 1;
                    self.skip_whitespace();
                    if self.peek() == Some(b'}') {
                        self.at += 1;
                    } else {
                        if stack.len() >= MAX_DEPTH {
                            return None;
                        }
                        self.object_key()?;
                        stack.push(Container::Object);
                        continue;
                    }
                }
                _ => self.scalar()?,
            }
            // A value just ended: close containers or move to the next element.
            loop {
                let Some(&container) = stack.last() else {
                    return Some(());
                };
                self.skip_whitespace();
                match (container, self.peek()?) {
                    (_, b',') => {
                        self.at += 1;
                        self.skip_whitespace();
                        if let Container::Object = container {
                            self.object_key()?;
                        }
                        break;
                    }
                    (Container::Array, b']') | (Container::Object, b'}') => {
                        self.at += 1;
                        stack.pop();
                    }
                    _ => return None,
                }
            }
        }
    }

    /// `"key" :` followed by optional whitespace, positioned at the member's value.
    fn object_key(&mut self) -> Option<()> {
        if self.peek()? != b'"' {
            return None;
        }
        self.string()?;
        self.skip_whitespace();
        self.eat(b":")?;
        self.skip_whitespace();
        Some(())
    }

    fn scalar(&mut self) -> Option<()> {
        match self.peek()? {
            b'"' => self.string(),
            b'n' => self.eat(b"null"),
            b't' => self.eat(b"true"),
            b'f' => self.eat(b"false"),
            b'N' => self.eat(b"NaN"),
            b'I' => self.eat(b"Infinity"),
            b'-' if self.bytes[self.at..].starts_with(b"-Infinity") => self.eat(b"-Infinity"),
            b'-' | b'0'..=b'9' => self.number(),
            _ => None,
        }
    }

    /// `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?`, each optional part all-or-nothing.
    fn number(&mut self) -> Option<()> {
        let digits = |this: &mut Self| {
            let start = this.at;
            while this.peek().is_some_and(|b| b.is_ascii_digit()) {
                this.at += 1;
            }
            this.at - start
        };
        if self.peek() == Some(b'-') {
            self.at += 1;
        }
        match self.peek()? {
            b'0' => self.at += 1,
            b'1'..=b'9' => {
                digits(self);
            }
            _ => return None,
        }
        let before_fraction = self.at;
        if self.peek() == Some(b'.') {
            self.at += 1;
            if digits(self) == 0 {
                self.at = before_fraction;
                return Some(());
            }
        }
        let before_exponent = self.at;
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.at += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.at += 1;
            }
            if digits(self) == 0 {
                self.at = before_exponent;
            }
        }
        Some(())
    }

    fn string(&mut self) -> Option<()> {
        self.at += 1; // opening quote
        loop {
            match self.peek()? {
                b'"' => {
                    self.at += 1;
                    return Some(());
                }
                b'\\' => {
                    self.at += 1;
                    match self.peek()? {
                        b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => self.at += 1,
                        b'u' => {
                            let hex = self.bytes.get(self.at + 1..self.at + 5)?;
                            if !hex.iter().all(u8::is_ascii_hexdigit) {
                                return None;
                            }
                            self.at += 5;
                        }
                        _ => return None,
                    }
                }
                0x00..=0x1f => return None,
                _ => self.at += 1,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::is_valid;

    #[test]
    fn accepts_what_python_accepts() {
        for text in [
            "{}",
            "[]",
            " {\"a\": [1, 2.5, -3e10, true, false, null]} ",
            "\"just a string\"",
            "42",
            "-0.0",
            "NaN",
            "[Infinity, -Infinity]",
            "{\"s\": \"\\ud800 lone surrogate\"}",
            "{\"a\": 1, \"a\": 2}",
            "{\"ünï\": \"cödé ✓\"}",
        ] {
            assert!(is_valid(text), "{text}");
        }
    }

    #[test]
    fn rejects_what_python_rejects() {
        for text in [
            "",
            "   ",
            "{",
            "{'a': 1}",
            "[1, 2,]",
            "{\"a\": 1,}",
            "01",
            "1.",
            ".5",
            "+1",
            "[1] [2]",
            "\"tab\tinside\"",
            "\"bad \\x escape\"",
            "\"\\u12G4\"",
            "nan",
            "{\"a\" 1}",
            "```json\n{}\n```",
        ] {
            assert!(!is_valid(text), "{text}");
        }
    }

    #[test]
    fn deep_nesting_does_not_overflow() {
        let deep = format!("{}{}", "[".repeat(200_000), "]".repeat(200_000));
        assert!(!is_valid(&deep));
        let fine = format!("{}{}", "[".repeat(500), "]".repeat(500));
        assert!(is_valid(&fine));
    }
}
