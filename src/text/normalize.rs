//! Normalization for exact deduplication: two texts are exact duplicates when their normalized
//! forms are equal.
//!
//! [`normalize_for_dedup`] applies, in this order:
//!
//! 1. **Invisible formatting removed**: soft hyphen U+00AD, Mongolian vowel separator U+180E,
//!    zero-width space/non-joiner/joiner and direction marks U+200B–U+200F, bidi embeddings and
//!    overrides U+202A–U+202E, word joiner and invisible operators U+2060–U+2064, bidi isolates
//!    U+2066–U+2069, and the byte-order mark / zero-width no-break space U+FEFF. These are what
//!    copy-paste and web scraping insert without changing what a reader sees. Removal comes first
//!    so that a base letter and a combining mark it separated can compose in step 2.
//! 2. **Unicode NFKC**: compatibility forms fold to their plain equivalents (full-width letters,
//!    ligatures like `ﬁ`, superscripts, no-break and other typographic spaces).
//! 3. **Unicode default full case folding** (`CaseFolding.txt` statuses C and F, via the `caseless`
//!    crate): `ß` → `ss`, `Σ`/`ς` → `σ`, `A` → `a`. Folding is not lowercasing: it is the mapping
//!    Unicode defines for caseless comparison.
//! 4. **NFKC again**, because case folding can produce sequences that are no longer in NFKC (so
//!    that normalizing twice changes nothing).
//! 5. **Whitespace collapsed**: every maximal run of Unicode `White_Space` characters (space, tab,
//!    newlines, …) becomes one ASCII space; leading and trailing whitespace is removed.
//!
//! Punctuation, digits, symbols and diacritics are kept: `What is 3+4?` and `What is 3-4?` stay
//! different, as do `resume` and `résumé`.
//!
//! Pure-ASCII input takes a fast path with the same result (NFKC and case folding act on ASCII as
//! plain lowercasing).

use caseless::Caseless;
use unicode_normalization::UnicodeNormalization;

/// Normalizes `text` for exact-duplicate detection; see the module docs for the exact steps.
///
/// Idempotent: `normalize_for_dedup(&normalize_for_dedup(t)) == normalize_for_dedup(t)`.
pub fn normalize_for_dedup(text: &str) -> String {
    if text.is_ascii() {
        return normalize_ascii(text);
    }
    let mut out = String::with_capacity(text.len());
    let visible = text.chars().filter(|&c| !is_invisible_format(c));
    push_collapsing_whitespace(&mut out, visible.nfkc().default_case_fold().nfkc());
    out
}

/// The same steps for ASCII input, where NFKC and case folding reduce to ASCII lowercasing and
/// `White_Space` to tab, line feed, vertical tab, form feed, carriage return and space.
fn normalize_ascii(text: &str) -> String {
    let mut out = Vec::with_capacity(text.len());
    let mut pending_space = false;
    for &b in text.as_bytes() {
        if matches!(b, b'\t' | b'\n' | 0x0B | 0x0C | b'\r' | b' ') {
            pending_space = !out.is_empty();
        } else {
            if pending_space {
                out.push(b' ');
                pending_space = false;
            }
            out.push(b.to_ascii_lowercase());
        }
    }
    // ASCII in, ASCII out: the conversion cannot fail; the fallback only avoids a panic path.
    String::from_utf8(out).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// The zero-width and bidirectional formatting characters removed by step 1.
fn is_invisible_format(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}'
            | '\u{180E}'
            | '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{2064}'
            | '\u{2066}'..='\u{2069}'
            | '\u{FEFF}'
    )
}

fn push_collapsing_whitespace(out: &mut String, chars: impl Iterator<Item = char>) {
    let mut pending_space = false;
    for c in chars {
        if c.is_whitespace() {
            pending_space = !out.is_empty();
        } else {
            if pending_space {
                out.push(' ');
                pending_space = false;
            }
            out.push(c);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ascii_is_lowercased_and_whitespace_collapsed() {
        assert_eq!(
            normalize_for_dedup("  Hello,\t\tWORLD!\r\n\nHow  are you? "),
            "hello, world! how are you?"
        );
    }

    #[test]
    fn ascii_fast_path_equals_general_path() {
        let sample = "\x0b Mixed\tCASE\x0c\r\n text\x01with  control\x1fchars ";
        let mut general = String::new();
        push_collapsing_whitespace(
            &mut general,
            sample.chars().nfkc().default_case_fold().nfkc(),
        );
        assert_eq!(normalize_for_dedup(sample), general);
        assert_eq!(general, "mixed case text\x01with control\x1fchars");
    }

    #[test]
    fn empty_and_blank_normalize_to_empty() {
        assert_eq!(normalize_for_dedup(""), "");
        assert_eq!(normalize_for_dedup(" \t\n\u{3000}\u{00A0}"), "");
    }

    #[test]
    fn compatibility_forms_fold() {
        // Full-width letters, the fi ligature, a superscript, a no-break space.
        assert_eq!(
            normalize_for_dedup("ＡＢＣ ﬁne x²\u{00A0}y"),
            "abc fine x2 y"
        );
    }

    #[test]
    fn full_case_folding_not_just_lowercase() {
        assert_eq!(
            normalize_for_dedup("STRASSE"),
            normalize_for_dedup("Straße")
        );
        assert_eq!(
            normalize_for_dedup("ΣΊΣΥΦΟΣ"),
            normalize_for_dedup("σίσυφος")
        );
    }

    #[test]
    fn invisible_format_characters_removed() {
        assert_eq!(
            normalize_for_dedup("\u{FEFF}zero\u{200B}width soft\u{00AD}hyphen"),
            "zerowidth softhyphen"
        );
        // A zero-width space between a letter and a combining accent must not block composition.
        assert_eq!(normalize_for_dedup("e\u{200B}\u{0301}"), "\u{00E9}");
    }

    #[test]
    fn composed_and_decomposed_accents_agree() {
        assert_eq!(
            normalize_for_dedup("Caf\u{00E9}"),
            normalize_for_dedup("CAFE\u{0301}")
        );
    }

    #[test]
    fn punctuation_digits_and_diacritics_kept() {
        assert_ne!(
            normalize_for_dedup("What is 3+4?"),
            normalize_for_dedup("What is 3-4?")
        );
        assert_ne!(normalize_for_dedup("resume"), normalize_for_dedup("résumé"));
    }

    #[test]
    fn idempotent_on_tricky_inputs() {
        let samples = [
            "Straße ΣΊΣΥΦΟΣ ﬃ Ǆ ǅ ǆ ᾈ ΐ İstanbul",
            "\u{1E9E} K \u{212B} ㎏ ㍻ ½",
            "a\u{0345}\u{0301} ω\u{0345}\u{0342}",
            "tab\tand\u{2003}em\u{2028}line",
        ];
        for sample in samples {
            let once = normalize_for_dedup(sample);
            assert_eq!(
                normalize_for_dedup(&once),
                once,
                "not idempotent on {sample:?}"
            );
        }
    }
}
