//! Training a byte-level BPE tokenizer from a corpus, for small models pretrained from scratch.
//!
//! The result is an ordinary `tokenizers` BPE tokenizer (saved as `tokenizer.json`, loadable by
//! `transformers`):
//! - ids `0..k` are the special tokens, in the order given; then the 256 byte symbols in byte
//!   order, so any text encodes without an unknown token; then one token per merge, in merge
//!   order;
//! - text is split before BPE into single digits and GPT-2 pre-tokens (words with their
//!   leading space, runs of punctuation, whitespace), so numbers are always spelled digit by
//!   digit — the choice of SmolLM and Qwen 2 tokenizers, which helps small models with
//!   arithmetic;
//! - special tokens are matched whole in text and never take part in merges.
//!
//! Training is deterministic: word counts are exact sums (order-independent, so counted in
//! parallel), and each step merges the most frequent adjacent pair, ties broken by the
//! smaller pair of token ids. Merging stops at `vocab_size` or when no pair occurs twice.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap, HashMap, HashSet};

use anyhow::{anyhow, bail, Result};
use rayon::prelude::*;
use tokenizers::decoders::byte_level::ByteLevel as ByteLevelDecoder;
use tokenizers::models::bpe::{Vocab, BPE};
use tokenizers::pre_tokenizers::byte_level::ByteLevel;
use tokenizers::pre_tokenizers::digits::Digits;
use tokenizers::pre_tokenizers::sequence::Sequence;
use tokenizers::pre_tokenizers::PreTokenizerWrapper;
use tokenizers::Tokenizer;
use tokenizers::{AddedToken, OffsetReferential, OffsetType, PreTokenizedString, PreTokenizer};

use super::tokenizer::ModelTokenizer;

/// The pre-tokenizer trained tokenizers use: single digits, then GPT-2 byte-level splitting.
fn training_pre_tokenizer() -> PreTokenizerWrapper {
    PreTokenizerWrapper::Sequence(Sequence::new(vec![
        PreTokenizerWrapper::Digits(Digits::new(true)),
        PreTokenizerWrapper::ByteLevel(ByteLevel::new(false, true, true)),
    ]))
}

/// GPT-2's reversible byte → printable character map: printable Latin-1 bytes map to
/// themselves, the others to U+0100 onwards in byte order.
fn byte_symbols() -> [char; 256] {
    let keeps_itself = |b: u32| (33..=126).contains(&b) || (161..=172).contains(&b) || b >= 174;
    let mut table = ['\0'; 256];
    let mut next_shifted = 256u32;
    for b in 0..256u32 {
        let code = if keeps_itself(b) {
            b
        } else {
            next_shifted += 1;
            next_shifted - 1
        };
        table[b as usize] = char::from_u32(code).unwrap_or('\u{FFFD}');
    }
    table
}

/// Trains a byte-level BPE tokenizer with `vocab_size` ids in total (special tokens and the 256
/// byte symbols included). The special tokens get ids `0..special_tokens.len()`; set their roles
/// on the result with [`ModelTokenizer::with_eos_token`] and friends.
pub fn train_bpe<S: AsRef<str> + Sync>(
    texts: &[S],
    vocab_size: usize,
    special_tokens: &[&str],
) -> Result<ModelTokenizer> {
    let base = special_tokens.len() + 256;
    if vocab_size < base {
        bail!(
            "vocab_size {vocab_size} is too small: the {} special tokens and 256 byte symbols \
             alone need {base}",
            special_tokens.len()
        );
    }
    let mut seen = HashSet::new();
    for token in special_tokens {
        if token.is_empty() {
            bail!("special tokens must not be empty");
        }
        if !seen.insert(*token) {
            bail!("special token `{token}` is listed twice");
        }
    }

    let word_counts = count_words(texts, special_tokens)?;
    let symbols = byte_symbols();
    let mut vocab: Vec<String> = special_tokens.iter().map(|t| t.to_string()).collect();
    vocab.extend(symbols.iter().map(|c| c.to_string()));
    let mut id_of: HashMap<String, u32> = vocab
        .iter()
        .enumerate()
        .map(|(i, t)| (t.clone(), i as u32))
        .collect();

    // A word's letters are byte symbols already (the byte-level pre-tokenizer mapped them).
    let mut words: Vec<Vec<u32>> = Vec::with_capacity(word_counts.len());
    let mut counts: Vec<u64> = Vec::with_capacity(word_counts.len());
    for (word, count) in word_counts {
        let ids = word
            .chars()
            .map(|c| {
                id_of
                    .get(c.encode_utf8(&mut [0; 4]) as &str)
                    .copied()
                    .ok_or_else(|| anyhow!("pre-tokenizer produced a non-byte symbol {c:?}"))
            })
            .collect::<Result<Vec<u32>>>()?;
        words.push(ids);
        counts.push(count);
    }

    let merges = learn_merges(&mut words, &counts, vocab_size, &mut vocab, &mut id_of);
    build_tokenizer(&vocab, &merges, special_tokens)
}

/// Pre-token → occurrences over the corpus, in a fixed (sorted) order.
fn count_words<S: AsRef<str> + Sync>(
    texts: &[S],
    special_tokens: &[&str],
) -> Result<BTreeMap<String, u64>> {
    let pre_tokenizer = training_pre_tokenizer();
    // Longest first, so a special token that contains another is matched whole.
    let mut specials: Vec<&str> = special_tokens.to_vec();
    specials.sort_by_key(|t| Reverse(t.len()));
    let partial_counts = texts
        .par_chunks(256)
        .map(|chunk| {
            let mut counts: HashMap<String, u64> = HashMap::new();
            for text in chunk {
                for piece in split_on_specials(text.as_ref(), &specials) {
                    let mut pre = PreTokenizedString::from(piece);
                    pre_tokenizer
                        .pre_tokenize(&mut pre)
                        .map_err(|e| anyhow!("pre-tokenizing the corpus failed: {e}"))?;
                    for (word, _, _) in
                        pre.get_splits(OffsetReferential::Original, OffsetType::Byte)
                    {
                        *counts.entry(word.to_string()).or_default() += 1;
                    }
                }
            }
            Ok(counts)
        })
        .collect::<Result<Vec<_>>>()?;
    let mut total = BTreeMap::new();
    for counts in partial_counts {
        for (word, n) in counts {
            *total.entry(word).or_insert(0u64) += n;
        }
    }
    Ok(total)
}

/// The pieces of `text` between occurrences of special tokens.
fn split_on_specials<'t>(text: &'t str, specials: &[&str]) -> Vec<&'t str> {
    let mut pieces = Vec::new();
    let mut rest = text;
    'scan: while !rest.is_empty() {
        for (at, _) in rest.char_indices() {
            if let Some(token) = specials.iter().find(|t| rest[at..].starts_with(**t)) {
                if at > 0 {
                    pieces.push(&rest[..at]);
                }
                rest = &rest[at + token.len()..];
                continue 'scan;
            }
        }
        pieces.push(rest);
        break;
    }
    pieces
}

type Pair = (u32, u32);

/// Greedy BPE: repeatedly merges the most frequent adjacent pair (ties: smaller ids first),
/// updating pair counts incrementally in the words that contain it, until `vocab` has
/// `vocab_size` entries.
fn learn_merges(
    words: &mut [Vec<u32>],
    counts: &[u64],
    vocab_size: usize,
    vocab: &mut Vec<String>,
    id_of: &mut HashMap<String, u32>,
) -> Vec<(u32, u32)> {
    let mut pair_counts: HashMap<Pair, i64> = HashMap::new();
    let mut pair_words: HashMap<Pair, HashSet<usize>> = HashMap::new();
    for (w, word) in words.iter().enumerate() {
        for pair in word.windows(2) {
            let pair = (pair[0], pair[1]);
            *pair_counts.entry(pair).or_default() += counts[w] as i64;
            pair_words.entry(pair).or_default().insert(w);
        }
    }
    let mut heap: BinaryHeap<(i64, Reverse<Pair>)> = pair_counts
        .iter()
        .map(|(&pair, &count)| (count, Reverse(pair)))
        .collect();

    let mut merges = Vec::new();
    while vocab.len() < vocab_size {
        let Some((count, Reverse(pair))) = heap.pop() else {
            break;
        };
        let current = pair_counts.get(&pair).copied().unwrap_or(0);
        if count != current {
            // A stale entry: the pair's count changed since it was pushed.
            if current > 0 {
                heap.push((current, Reverse(pair)));
            }
            continue;
        }
        if count < 2 {
            break;
        }
        let merged_text = format!("{}{}", vocab[pair.0 as usize], vocab[pair.1 as usize]);
        // Two different merge paths can spell the same string ("ab"+"c", "a"+"bc"); the
        // string keeps its first id and the later merge just points at it.
        let new_id = match id_of.get(&merged_text) {
            Some(&existing) => existing,
            None => {
                let id = vocab.len() as u32;
                vocab.push(merged_text.clone());
                id_of.insert(merged_text, id);
                id
            }
        };
        merges.push(pair);

        let mut affected: Vec<usize> = pair_words
            .remove(&pair)
            .unwrap_or_default()
            .into_iter()
            .collect();
        affected.sort_unstable();
        let mut touched: HashSet<Pair> = HashSet::new();
        for w in affected {
            let weight = counts[w] as i64;
            let old = std::mem::take(&mut words[w]);
            for p in old.windows(2) {
                let p = (p[0], p[1]);
                *pair_counts.entry(p).or_default() -= weight;
                touched.insert(p);
            }
            let mut merged = Vec::with_capacity(old.len());
            let mut i = 0;
            while i < old.len() {
                if i + 1 < old.len() && (old[i], old[i + 1]) == pair {
                    merged.push(new_id);
                    i += 2;
                } else {
                    merged.push(old[i]);
                    i += 1;
                }
            }
            for p in merged.windows(2) {
                let p = (p[0], p[1]);
                *pair_counts.entry(p).or_default() += weight;
                pair_words.entry(p).or_default().insert(w);
                touched.insert(p);
            }
            words[w] = merged;
        }
        pair_counts.remove(&pair);
        let mut touched: Vec<Pair> = touched.into_iter().collect();
        touched.sort_unstable();
        for p in touched {
            let c = pair_counts.get(&p).copied().unwrap_or(0);
            if c > 0 {
                heap.push((c, Reverse(p)));
            } else {
                pair_counts.remove(&p);
            }
        }
    }
    merges
}

fn build_tokenizer(
    vocab: &[String],
    merges: &[(u32, u32)],
    special_tokens: &[&str],
) -> Result<ModelTokenizer> {
    let bpe_vocab: Vocab = vocab
        .iter()
        .enumerate()
        .map(|(i, t)| (t.clone(), i as u32))
        .collect();
    let bpe_merges = merges
        .iter()
        .map(|&(a, b)| (vocab[a as usize].clone(), vocab[b as usize].clone()))
        .collect();
    let bpe = BPE::builder()
        .vocab_and_merges(bpe_vocab, bpe_merges)
        .build()
        .map_err(|e| anyhow!("cannot build the trained BPE model: {e}"))?;
    let mut inner = Tokenizer::new(bpe);
    inner.with_pre_tokenizer(Some(training_pre_tokenizer()));
    inner.with_decoder(Some(ByteLevelDecoder::default()));
    let specials: Vec<AddedToken> = special_tokens
        .iter()
        .map(|t| AddedToken::from(*t, true))
        .collect();
    inner.add_special_tokens(&specials);
    Ok(ModelTokenizer::new(inner))
}

#[cfg(test)]
pub(crate) fn byte_symbol_table() -> [char; 256] {
    byte_symbols()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::io_test_support::{corpus, tokenizer, SPECIALS};

    #[test]
    fn byte_symbols_are_the_byte_level_alphabet() {
        let ours: HashSet<char> = byte_symbol_table().into_iter().collect();
        let theirs: HashSet<char> = ByteLevel::alphabet().into_iter().collect();
        assert_eq!(ours.len(), 256);
        assert_eq!(ours, theirs);
        assert_eq!(byte_symbol_table()[b' ' as usize], 'Ġ');
        assert_eq!(byte_symbol_table()[b'\n' as usize], 'Ċ');
        assert_eq!(byte_symbol_table()[b'A' as usize], 'A');
    }

    #[test]
    fn training_is_deterministic() {
        let texts = corpus();
        let first = train_bpe(&texts, 400, SPECIALS).unwrap().to_json().unwrap();
        for _ in 0..3 {
            let again = train_bpe(&texts, 400, SPECIALS).unwrap().to_json().unwrap();
            assert_eq!(first, again);
        }
    }

    #[test]
    fn reaches_the_requested_vocab_size_and_smaller_vocabs_are_prefixes() {
        let texts = corpus();
        let big = train_bpe(&texts, 400, SPECIALS).unwrap();
        let small = train_bpe(&texts, 330, SPECIALS).unwrap();
        assert_eq!(big.vocab_size(), 400);
        assert_eq!(small.vocab_size(), 330);
        for id in 0..330u32 {
            assert_eq!(small.id_to_token(id), big.id_to_token(id), "id {id}");
        }
    }

    #[test]
    fn ids_are_specials_then_bytes_then_merges() {
        let tok = tokenizer();
        for (id, special) in SPECIALS.iter().enumerate() {
            assert_eq!(tok.token_to_id(special), Some(id as u32));
            assert!(tok.is_special(id as u32));
        }
        let symbols = byte_symbol_table();
        assert_eq!(tok.token_to_id(&symbols[0].to_string()), Some(3));
        assert_eq!(tok.token_to_id(&symbols[255].to_string()), Some(258));
        // Frequent words of the corpus became single tokens.
        assert_eq!(tok.encode(" is", false).unwrap().len(), 1);
        assert_eq!(tok.encode("assistant", false).unwrap().len(), 1);
    }

    #[test]
    fn encodes_any_text_and_round_trips() {
        let tok = tokenizer();
        for text in [
            "the quick brown fox",
            "Unseen: żółw, naïve café, 日本語, 🎉🦀!",
            "tabs\tand\nnewlines\r\n  double  spaces ",
            "",
        ] {
            let ids = tok.encode(text, false).unwrap();
            assert_eq!(tok.decode(&ids, false).unwrap(), text);
        }
    }

    #[test]
    fn digits_are_split_and_specials_stay_whole() {
        let tok = tokenizer();
        let ids = tok.encode("12345", false).unwrap();
        assert_eq!(ids.len(), 5);
        let ids = tok.encode("dog<|im_end|>fox", false).unwrap();
        assert!(ids.contains(&2), "{ids:?}");
        assert_eq!(tok.decode(&ids, true).unwrap(), "dogfox");
        // No learned token spans a special token's text.
        for id in 0..tok.vocab_size() as u32 {
            let text = tok.id_to_token(id).unwrap();
            if id >= SPECIALS.len() as u32 {
                assert!(!SPECIALS.iter().any(|s| text.contains(s)), "{text}");
            }
        }
    }

    #[test]
    fn trained_tokenizer_survives_json() {
        let tok = tokenizer();
        let reloaded = ModelTokenizer::from_json_bytes(tok.to_json().unwrap().as_bytes()).unwrap();
        for text in corpus().iter().take(20) {
            assert_eq!(
                tok.encode(text, true).unwrap(),
                reloaded.encode(text, true).unwrap()
            );
        }
    }

    #[test]
    fn rejects_bad_requests() {
        let texts = corpus();
        let err = train_bpe(&texts, 100, SPECIALS).unwrap_err().to_string();
        assert!(err.contains("too small"), "{err}");
        let err = train_bpe(&texts, 400, &["<a>", "<a>"])
            .unwrap_err()
            .to_string();
        assert!(err.contains("twice"), "{err}");
        let err = train_bpe(&texts, 400, &[""]).unwrap_err().to_string();
        assert!(err.contains("empty"), "{err}");
    }

    #[test]
    fn a_tiny_corpus_stops_early_without_failing() {
        let tok = train_bpe(&["ab ab ab"], 1000, &[]).unwrap();
        assert!(tok.vocab_size() < 1000);
        assert_eq!(tok.encode("ab ab", false).unwrap().len(), 2);
    }

    #[test]
    fn splits_text_around_special_tokens() {
        let specials = ["<a>", "<ab>"];
        let mut sorted = specials.to_vec();
        sorted.sort_by_key(|t| Reverse(t.len()));
        assert_eq!(
            split_on_specials("x<ab>y<a>z", &sorted),
            vec!["x", "y", "z"]
        );
        assert_eq!(split_on_specials("<a><a>", &sorted), Vec::<&str>::new());
        assert_eq!(split_on_specials("héllo<a>", &sorted), vec!["héllo"]);
    }
}
