//! Comments are not part of the AST (they never reach a cache key); the formatter reads them
//! from the source by position so that `tulu fmt` keeps every one.

/// A `# …` comment: its byte range, its text (with the `#`), and whether code precedes it on its
/// line (a trailing comment) or not (an own-line comment).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Comment {
    pub start: usize,
    pub end: usize,
    pub text: String,
    pub trailing: bool,
}

/// All comments of a source text, in order. String literals are skipped, so a `#` inside a
/// string is not a comment.
pub fn extract(text: &str) -> Vec<Comment> {
    let mut comments = Vec::new();
    let mut in_string = false;
    let mut escaped = false;
    let mut line_has_code = false;
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if in_string {
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') | (false, '\n') => in_string = false,
                _ => {}
            }
            if c == '\n' {
                line_has_code = false;
            }
            continue;
        }
        match c {
            '\n' => line_has_code = false,
            '"' => {
                in_string = true;
                line_has_code = true;
            }
            '#' => {
                let mut end = i + 1;
                while let Some(&(j, d)) = chars.peek() {
                    if d == '\n' {
                        break;
                    }
                    end = j + d.len_utf8();
                    chars.next();
                }
                comments.push(Comment {
                    start: i,
                    end,
                    text: text[i..end].trim_end().to_string(),
                    trailing: line_has_code,
                });
            }
            c if c.is_whitespace() => {}
            _ => line_has_code = true,
        }
    }
    comments
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_own_line_and_trailing_comments_but_not_hashes_in_strings() {
        let src = "# head\nlet a = f(\"x # not\") # tail\n  # own\n";
        let found = extract(src);
        let texts: Vec<(&str, bool)> = found
            .iter()
            .map(|c| (c.text.as_str(), c.trailing))
            .collect();
        assert_eq!(
            texts,
            vec![("# head", false), ("# tail", true), ("# own", false)]
        );
    }

    #[test]
    fn escaped_quote_does_not_end_the_string() {
        let src = r#"let a = "a \" # still string" # real"#;
        let found = extract(src);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].text, "# real");
    }
}
