//! `tulu fmt` on any text that parses: the formatted text parses to the same AST (spans aside),
//! formatting it again changes nothing, and every comment survives in order.

#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use regex::Regex;
use tulu::syntax::ast::Module;
use tulu::syntax::comments;
use tulu::syntax::format::format_module;
use tulu::syntax::{parse, FileId};

/// Spans differ between a text and its formatted form; everything else must not.
static SPAN: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(path_)?span: Span \{[^}]*\}").expect("valid regex"));

fn without_spans(module: &Module) -> String {
    SPAN.replace_all(&format!("{:?}", module.items), "")
        .into_owned()
}

fn comment_texts(text: &str) -> Vec<String> {
    comments::extract(text)
        .into_iter()
        .map(|c| c.text.trim_end().to_string())
        .collect()
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(module) = parse(FileId(0), text) else {
        return;
    };
    let once = format_module(&module, text);
    let reparsed = match parse(FileId(0), &once) {
        Ok(m) => m,
        Err(d) => panic!(
            "the formatted text does not parse: {}\n--- input\n{text}\n--- formatted\n{once}",
            d.message
        ),
    };
    assert_eq!(
        without_spans(&module),
        without_spans(&reparsed),
        "formatting changed the meaning\n--- input\n{text}\n--- formatted\n{once}"
    );
    assert_eq!(
        comment_texts(text),
        comment_texts(&once),
        "formatting lost or reordered a comment\n--- input\n{text}\n--- formatted\n{once}"
    );
    let twice = format_module(&reparsed, &once);
    assert_eq!(
        once, twice,
        "formatting is not idempotent\n--- input\n{text}\n--- formatted once\n{once}"
    );
});
