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

use super::stable_hash::{hash_token, hash_token_sequence};

/// The tokens of an already-normalized text, in order; see the module docs for the rule.
pub fn dedup_tokens(normalized: &str) -> Vec<&str> {
    token_spans(normalized)
        .map(|(start, end)| &normalized[start..end])
        .collect()
}

/// Appends the hash of every shingle of `normalized` to `out` (after clearing it), using
/// `token_hashes` as scratch. Repeated shingles are appended repeatedly: MinHash ignores repeats.
pub(crate) fn shingle_hashes(
    normalized: &str,
    ngram: usize,
    token_hashes: &mut Vec<u64>,
    out: &mut Vec<u64>,
) {
    token_hashes.clear();
    out.clear();
    token_hashes.extend(
        token_spans(normalized).map(|(start, end)| hash_token(&normalized.as_bytes()[start..end])),
    );
    if token_hashes.is_empty() {
        return;
    }
    if token_hashes.len() < ngram {
        out.push(hash_token_sequence(token_hashes));
        return;
    }
    out.extend(token_hashes.windows(ngram).map(hash_token_sequence));
}

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
        c.is_ascii_alphanumeric() || c == '_'
    } else {
        c.is_alphanumeric()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shingles(text: &str, ngram: usize) -> Vec<u64> {
        let mut scratch = Vec::new();
        let mut out = Vec::new();
        shingle_hashes(text, ngram, &mut scratch, &mut out);
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
