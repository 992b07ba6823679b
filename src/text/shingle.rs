//! Word tokens and word n-gram shingles for near-duplicate detection.
//!
//! A document is first normalized with [`normalize_for_dedup`](super::normalize_for_dedup), then
//! split into tokens:
//! - a **word** is a maximal run of alphanumeric characters (Unicode `Alphabetic` or `Numeric`)
//!   and underscores;
//! - every other non-whitespace character (punctuation, symbols, emoji, combining marks standing
//!   alone) is a token **by itself**;
//! - whitespace only separates.
//!
//! So `What is 12+7?` gives `what is 12 + 7 ?`: operators are kept, because `12+7` and `12-7` are
//! different problems, while spacing around punctuation does not matter.
//!
//! Shingles are the word n-grams of that token sequence (`ngram` consecutive tokens). A document
//! with fewer than `ngram` tokens but at least one has a single shingle made of all its tokens, so
//! it matches only documents with the identical token sequence; a document without tokens has no
//! shingles (see [`MinHasher`](super::MinHasher) for how such documents compare).

use super::normalize::normalize_for_dedup;
use super::stable_hash::{hash_ascii_lowercase, hash_token, hash_token_sequence};

/// The tokens of an already-normalized text, in order; see the module docs for the rule.
pub fn dedup_tokens(normalized: &str) -> Vec<&str> {
    token_spans(normalized)
        .map(|(start, end)| &normalized[start..end])
        .collect()
}

/// Buffers reused across documents on one thread.
#[derive(Default)]
pub(crate) struct ShingleScratch {
    token_hashes: Vec<u64>,
    pub(crate) shingles: Vec<u64>,
}

/// Fills `scratch.shingles` with the hash of every shingle of `text` (normalized first). Repeated
/// shingles appear repeatedly: MinHash ignores repeats.
pub(crate) fn shingle_hashes(text: &str, ngram: usize, scratch: &mut ShingleScratch) {
    scratch.token_hashes.clear();
    if text.is_ascii() {
        // For ASCII, normalization is lowercasing plus whitespace collapsing, and whitespace only
        // separates tokens: hashing the lowercased tokens of the raw text gives the same result
        // without building the normalized string.
        ascii_token_hashes(text.as_bytes(), &mut scratch.token_hashes);
    } else {
        let normalized = normalize_for_dedup(text);
        scratch.token_hashes.extend(
            token_spans(&normalized)
                .map(|(start, end)| hash_token(&normalized.as_bytes()[start..end])),
        );
    }
    shingles_of_tokens(&scratch.token_hashes, ngram, &mut scratch.shingles);
}

fn shingles_of_tokens(token_hashes: &[u64], ngram: usize, out: &mut Vec<u64>) {
    out.clear();
    if token_hashes.is_empty() {
        return;
    }
    if token_hashes.len() < ngram {
        out.push(hash_token_sequence(token_hashes));
        return;
    }
    out.extend(token_hashes.windows(ngram).map(hash_token_sequence));
}

/// Token hashes of lowercased ASCII `bytes`, by the same rule as [`token_spans`].
fn ascii_token_hashes(bytes: &[u8], out: &mut Vec<u64>) {
    let mut i = 0;
    while i < bytes.len() {
        match ASCII_CLASSES[usize::from(bytes[i])] {
            AsciiClass::Space => i += 1,
            AsciiClass::Word => {
                let start = i;
                while i < bytes.len() && ASCII_CLASSES[usize::from(bytes[i])] == AsciiClass::Word {
                    i += 1;
                }
                out.push(hash_ascii_lowercase(&bytes[start..i]));
            }
            AsciiClass::Symbol => {
                out.push(hash_token(&bytes[i..=i]));
                i += 1;
            }
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum AsciiClass {
    Space,
    Word,
    Symbol,
}

/// The token class of every byte value below 0x80 (entries above are unused).
const ASCII_CLASSES: [AsciiClass; 256] = {
    let mut table = [AsciiClass::Symbol; 256];
    let mut b = 0;
    while b < 128 {
        let byte = b as u8;
        if is_ascii_whitespace(byte) {
            table[b] = AsciiClass::Space;
        } else if is_ascii_word_byte(byte) {
            table[b] = AsciiClass::Word;
        }
        b += 1;
    }
    table
};

/// Byte spans of the tokens of `text`.
fn token_spans(text: &str) -> impl Iterator<Item = (usize, usize)> + '_ {
    let mut chars = text.char_indices().peekable();
    std::iter::from_fn(move || loop {
        let (start, c) = chars.next()?;
        if c.is_whitespace() {
            continue;
        }
        if !is_word_char(c) {
            return Some((start, start + c.len_utf8()));
        }
        let mut end = start + c.len_utf8();
        while let Some(&(i, next)) = chars.peek() {
            if !is_word_char(next) {
                break;
            }
            end = i + next.len_utf8();
            chars.next();
        }
        return Some((start, end));
    })
}

#[inline]
fn is_word_char(c: char) -> bool {
    if c.is_ascii() {
        is_ascii_word_byte(c as u8)
    } else {
        c.is_alphanumeric()
    }
}

#[inline]
const fn is_ascii_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// The ASCII characters with Unicode `White_Space` (`char::is_whitespace`), which unlike
/// `u8::is_ascii_whitespace` include the vertical tab.
#[inline]
const fn is_ascii_whitespace(b: u8) -> bool {
    matches!(b, b'\t' | b'\n' | 0x0B | 0x0C | b'\r' | b' ')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shingles(text: &str, ngram: usize) -> Vec<u64> {
        let mut scratch = ShingleScratch::default();
        shingle_hashes(text, ngram, &mut scratch);
        scratch.shingles
    }

    /// The general path: normalize, split, hash.
    fn shingles_via_normalization(text: &str, ngram: usize) -> Vec<u64> {
        let normalized = normalize_for_dedup(text);
        let hashes: Vec<u64> = dedup_tokens(&normalized)
            .iter()
            .map(|t| hash_token(t.as_bytes()))
            .collect();
        let mut out = Vec::new();
        shingles_of_tokens(&hashes, ngram, &mut out);
        out
    }

    #[test]
    fn words_and_single_symbol_tokens() {
        assert_eq!(
            dedup_tokens("what is 12+7? snake_case élan, 3.5"),
            vec![
                "what",
                "is",
                "12",
                "+",
                "7",
                "?",
                "snake_case",
                "élan",
                ",",
                "3",
                ".",
                "5"
            ]
        );
        assert!(dedup_tokens("   ").is_empty());
    }

    #[test]
    fn ascii_fast_path_equals_normalizing_path() {
        let samples = [
            "  Hello, World!  What is 12+7?\tsnake_case_Name\x0bvertical\x0ctab\r\n",
            "ALL CAPS. all caps... (x-1)/2 = $3.50; 'quoted' \"double\" #tag @user",
            "a b c d e f g h i j k l m n o p",
            "",
            " \x0b ",
        ];
        for sample in samples {
            for ngram in [1, 3, 5] {
                assert_eq!(
                    shingles(sample, ngram),
                    shingles_via_normalization(sample, ngram),
                    "{sample:?}"
                );
            }
        }
        // Non-ASCII text takes the normalizing path; its ASCII-cased twin must agree.
        assert_eq!(shingles("Ｈｅｌｌｏ World", 1), shingles("hello world", 1));
    }

    #[test]
    fn spacing_around_punctuation_is_irrelevant() {
        assert_eq!(shingles("a , b ( c ) d", 3), shingles("a, b (c) d", 3));
    }

    #[test]
    fn shingle_count_per_length() {
        assert_eq!(shingles("a b c d e f", 5).len(), 2);
        assert_eq!(shingles("a b c d e", 5).len(), 1);
        // Shorter than ngram: one shingle of all tokens, equal only for identical sequences.
        assert_eq!(shingles("a b c", 5).len(), 1);
        assert_eq!(shingles("a b c", 5), shingles("a  b c", 5));
        assert_ne!(shingles("a b c", 5), shingles("a b", 5));
        assert!(shingles("", 5).is_empty());
    }

    #[test]
    fn short_document_shingle_differs_from_windows_of_longer_one() {
        let short = shingles("a b c", 5);
        let long = shingles("a b c d e f g", 5);
        assert!(!long.contains(&short[0]));
    }
}
