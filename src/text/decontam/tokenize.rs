//! The decontamination tokenizer of Tülu 3 (open-instruct's Elasticsearch `tulu_analyzer`):
//! lowercase, then split on any of the characters `` ,.?!:;()"-`` (space, comma, period,
//! question mark, exclamation mark, colon, semicolon, both parentheses, double quote, hyphen-minus),
//! line feed `\n` and backslash `\`; empty tokens are dropped.
//!
//! Nothing else separates tokens: a tab, a carriage return or a non-breaking space stays inside
//! its token (so `"a\r\nb"` gives `a\r` and `b`), exactly as in the reference. Lowercasing is
//! Unicode's per-character lowercase mapping (`char::to_lowercase`, which has no context-dependent
//! final-sigma rule); all delimiters are ASCII, so splitting before or after lowercasing is the
//! same.

use crate::text::stable_hash::{hash_ascii_lowercase, TokenHasher};

/// Whether `byte` ends a token.
#[inline]
pub(crate) fn is_delimiter(byte: u8) -> bool {
    DELIMITERS[usize::from(byte)]
}

const DELIMITERS: [bool; 256] = {
    let mut table = [false; 256];
    let delimiters = b" ,.?!:;()\"-\n\\";
    let mut i = 0;
    while i < delimiters.len() {
        table[delimiters[i] as usize] = true;
        i += 1;
    }
    table
};

/// The lowercased tokens of `text`, as the decontamination rule sees them.
pub fn decontam_tokens(text: &str) -> Vec<String> {
    let mut spans = Vec::new();
    let mut hashes = Vec::new();
    tokenize_into(text, &mut spans, &mut hashes);
    spans
        .iter()
        .map(|&(start, end)| lowercase(&text[start..end]))
        .collect()
}

/// Appends the byte span and the lowercase hash of every token of `text` to `spans` and
/// `hashes` (after clearing both). Spans index `text` as given, not lowercased.
pub(crate) fn tokenize_into(text: &str, spans: &mut Vec<(usize, usize)>, hashes: &mut Vec<u64>) {
    spans.clear();
    hashes.clear();
    let bytes = text.as_bytes();
    let mut start = 0;
    while start < bytes.len() {
        if is_delimiter(bytes[start]) {
            start += 1;
            continue;
        }
        let mut end = start;
        let mut any_bits = 0u8;
        while end < bytes.len() && !is_delimiter(bytes[end]) {
            any_bits |= bytes[end];
            end += 1;
        }
        let hash = if any_bits.is_ascii() {
            hash_ascii_lowercase(&bytes[start..end])
        } else {
            // Delimiters are ASCII, so `start..end` lies on char boundaries.
            hash_lowercased(&text[start..end])
        };
        spans.push((start, end));
        hashes.push(hash);
        start = end;
    }
}

/// The hash of `token` lowercased, without allocating.
fn hash_lowercased(token: &str) -> u64 {
    let mut hasher = TokenHasher::new();
    let mut buf = [0u8; 4];
    for c in token.chars().flat_map(char::to_lowercase) {
        hasher.write_bytes(c.encode_utf8(&mut buf).as_bytes());
    }
    hasher.finish()
}

/// `token` lowercased as the tokenizer defines it.
pub(crate) fn lowercase(token: &str) -> String {
    if token.is_ascii() {
        token.to_ascii_lowercase()
    } else {
        token.chars().flat_map(char::to_lowercase).collect()
    }
}

/// Whether `original` lowercased equals `lowered`, without allocating.
#[inline]
pub(crate) fn lowercase_equals(original: &str, lowered: &str) -> bool {
    if original.is_ascii() {
        original.len() == lowered.len()
            && original
                .bytes()
                .zip(lowered.bytes())
                .all(|(o, l)| o.to_ascii_lowercase() == l)
    } else {
        original
            .chars()
            .flat_map(char::to_lowercase)
            .eq(lowered.chars())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::stable_hash::hash_token;

    #[test]
    fn splits_on_the_reference_delimiters_only() {
        assert_eq!(
            decontam_tokens("What's (x-1)/2? \"Q\": A, b; c! d.e\\f\ng"),
            vec!["what's", "x", "1", "/2", "q", "a", "b", "c", "d", "e", "f", "g"]
        );
        // Tab, carriage return and no-break space do not split.
        assert_eq!(
            decontam_tokens("a\tb c\r\nd\u{00A0}e"),
            vec!["a\tb", "c\r", "d\u{00A0}e"]
        );
        assert!(decontam_tokens(" ,.?!:;()\"-\n\\").is_empty());
        assert!(decontam_tokens("").is_empty());
    }

    #[test]
    fn delimiter_table_is_exactly_the_reference_set() {
        let expected = b" ,.?!:;()\"-\n\\";
        for byte in 0..=255u8 {
            assert_eq!(is_delimiter(byte), expected.contains(&byte), "byte {byte}");
        }
    }

    #[test]
    fn lowercases_unicode() {
        assert_eq!(
            decontam_tokens("ÉCOLE Straße ΣΟΦΙΑ"),
            vec!["école", "straße", "σοφια"]
        );
    }

    #[test]
    fn hashes_are_of_the_lowercased_token() {
        let mut spans = Vec::new();
        let mut hashes = Vec::new();
        tokenize_into("Hello ÉCOLE", &mut spans, &mut hashes);
        assert_eq!(spans, vec![(0, 5), (6, 12)]);
        assert_eq!(hashes[0], hash_token(b"hello"));
        assert_eq!(hashes[1], hash_token("école".as_bytes()));
    }

    #[test]
    fn lowercase_comparison() {
        assert!(lowercase_equals("HeLLo", "hello"));
        assert!(!lowercase_equals("Hello", "hell"));
        assert!(lowercase_equals("ÉCOLE", "école"));
        assert!(!lowercase_equals("ÉCOLE", "ecole"));
        // 'İ' lowercases to two characters.
        assert!(lowercase_equals("İ", "i\u{0307}"));
    }
}
