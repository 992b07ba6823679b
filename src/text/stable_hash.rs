//! A small, fixed, platform-independent 64-bit hash for tokens and n-grams.
//!
//! Dedup and decontamination results depend on these values (MinHash minima, LSH buckets), so
//! they must not change between runs, machines or Rust releases: no random state and no reliance
//! on `std`'s unspecified `DefaultHasher`. Speed matters more than strength here: hash equality is
//! only ever a candidate, confirmed by comparing the text (decontamination) or backed by many
//! independent MinHash slots (dedup).

use std::hash::{BuildHasherDefault, Hasher};

const SEED: u64 = 0xcbf2_9ce4_8422_2325;
const MULTIPLIER: u64 = 0x9e37_79b9_7f4a_7c15;

/// Incremental hash over bytes: bytes are packed little-endian into 64-bit words, each word is
/// folded into the state with one multiply, and [`TokenHasher::finish`] mixes in the length and
/// applies a finalizer so that all 64 bits are well mixed. Folding a word at a time keeps the
/// multiply chain eight times shorter than a byte-at-a-time hash.
#[derive(Clone, Copy)]
pub(crate) struct TokenHasher {
    state: u64,
    pending: u64,
    len: u64,
}

impl TokenHasher {
    pub(crate) fn new() -> Self {
        Self {
            state: SEED,
            pending: 0,
            len: 0,
        }
    }

    #[inline]
    pub(crate) fn write_byte(&mut self, byte: u8) {
        self.pending |= u64::from(byte) << (8 * (self.len % 8));
        self.len += 1;
        if self.len.is_multiple_of(8) {
            self.state = fold(self.state, self.pending);
            self.pending = 0;
        }
    }

    #[inline]
    pub(crate) fn write_bytes(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_byte(b);
        }
    }

    #[inline]
    pub(crate) fn finish(self) -> u64 {
        let state = if self.len.is_multiple_of(8) {
            self.state
        } else {
            fold(self.state, self.pending)
        };
        mix64(state ^ self.len.wrapping_mul(MULTIPLIER))
    }
}

/// The hash of ASCII `bytes` lowercased: the same value as [`hash_token`] of the lowercased
/// bytes, computed a word at a time. Callers guarantee `bytes` is ASCII.
#[inline]
pub(crate) fn hash_ascii_lowercase(bytes: &[u8]) -> u64 {
    let mut state = SEED;
    let mut chunks = bytes.chunks_exact(8);
    for chunk in &mut chunks {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        state = fold(state, ascii_lowercase_word(u64::from_le_bytes(word)));
    }
    let tail = chunks.remainder();
    if !tail.is_empty() {
        state = fold(state, ascii_lowercase_word(load_partial_word(tail)));
    }
    mix64(state ^ (bytes.len() as u64).wrapping_mul(MULTIPLIER))
}

/// The 1–7 bytes of `tail` as a little-endian word, zero-padded, from overlapping register loads
/// (copying them into a stack buffer and loading that stalls on store forwarding).
#[inline]
fn load_partial_word(tail: &[u8]) -> u64 {
    let len = tail.len();
    match len {
        0 => 0,
        1..=3 => {
            u64::from(tail[0])
                | u64::from(tail[len / 2]) << (8 * (len / 2))
                | u64::from(tail[len - 1]) << (8 * (len - 1))
        }
        4..=7 => {
            let low = u32::from_le_bytes([tail[0], tail[1], tail[2], tail[3]]);
            let high =
                u32::from_le_bytes([tail[len - 4], tail[len - 3], tail[len - 2], tail[len - 1]]);
            u64::from(low) | u64::from(high) << (8 * (len - 4))
        }
        _ => {
            let mut word = [0u8; 8];
            word.copy_from_slice(&tail[..8]);
            u64::from_le_bytes(word)
        }
    }
}

/// Lowercases the eight ASCII bytes of `word` at once: a byte gets 0x20 added when it lies in
/// `A..=Z`. Each byte is below 0x80, so the additions never carry into the next byte.
#[inline]
fn ascii_lowercase_word(word: u64) -> u64 {
    const HIGH_BITS: u64 = 0x8080_8080_8080_8080;
    let at_least_a = word.wrapping_add(0x3f3f_3f3f_3f3f_3f3f);
    let above_z = word.wrapping_add(0x2525_2525_2525_2525);
    let upper = at_least_a & !above_z & HIGH_BITS;
    word | (upper >> 2)
}

#[inline]
fn fold(state: u64, word: u64) -> u64 {
    (state ^ word).wrapping_mul(MULTIPLIER).rotate_left(31)
}

/// The hash of one token's bytes.
#[inline]
pub(crate) fn hash_token(bytes: &[u8]) -> u64 {
    let mut h = TokenHasher::new();
    h.write_bytes(bytes);
    h.finish()
}

/// MurmurHash3's 64-bit finalizer: a bijection that spreads every input bit over the output.
#[inline]
pub(crate) fn mix64(mut x: u64) -> u64 {
    x ^= x >> 33;
    x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
    x ^= x >> 33;
    x = x.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    x ^ (x >> 33)
}

/// The order-sensitive hash of a sequence of token hashes. The length seeds the state so that
/// sequences of different lengths never share a key by construction.
#[inline]
pub(crate) fn hash_token_sequence(token_hashes: &[u64]) -> u64 {
    let mut h = (token_hashes.len() as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    for &t in token_hashes {
        h = (h.rotate_left(29) ^ t).wrapping_mul(0x2545_f491_4f6c_dd1d);
    }
    mix64(h)
}

/// A `Hasher` for keys that are already well-mixed 64-bit hashes: it passes them through, so a
/// lookup costs no rehashing.
#[derive(Default, Clone, Copy)]
pub(crate) struct PassThroughHasher(u64);

impl Hasher for PassThroughHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        // Only `u64` keys are used with this hasher; other keys still hash correctly, just slowly.
        for &b in bytes {
            self.0 = mix64(self.0 ^ u64::from(b));
        }
    }

    fn write_u64(&mut self, key: u64) {
        self.0 = key;
    }
}

/// Builds [`PassThroughHasher`]s for `HashMap<u64, _, PassThroughBuild>`.
pub(crate) type PassThroughBuild = BuildHasherDefault<PassThroughHasher>;

#[cfg(test)]
mod tests {
    use super::*;

    /// Computed by an independent implementation of the same definition.
    const PINNED_HELLO: u64 = 0xe781_7e14_5473_9bce;
    const PINNED_LONG: u64 = 0xe000_ce5d_b6e8_e5f9;

    #[test]
    fn token_hash_is_fixed_across_releases() {
        // Pinned values: a change here changes every dedup result and must bump op versions.
        assert_eq!(hash_token(b""), mix64(SEED));
        assert_eq!(hash_token(b"hello"), PINNED_HELLO);
        assert_eq!(hash_token(b"decontamination"), PINNED_LONG);
    }

    #[test]
    fn word_at_a_time_lowercase_hash_equals_bytewise() {
        let all_ascii: Vec<u8> = (0..128u8).collect();
        for start in 0..all_ascii.len() {
            for len in 0..=(all_ascii.len() - start).min(27) {
                let bytes = &all_ascii[start..start + len];
                let lowered = bytes.to_ascii_lowercase();
                assert_eq!(
                    hash_ascii_lowercase(bytes),
                    hash_token(&lowered),
                    "{bytes:?}"
                );
            }
        }
        assert_eq!(hash_ascii_lowercase(b"HeLLo"), PINNED_HELLO);
    }

    #[test]
    fn partial_word_loads_every_byte_once() {
        for len in 0..=7 {
            let bytes: Vec<u8> = (1..=len as u8).collect();
            let mut expected = [0u8; 8];
            expected[..len].copy_from_slice(&bytes);
            assert_eq!(load_partial_word(&bytes), u64::from_le_bytes(expected));
        }
    }

    #[test]
    fn token_hash_separates_lengths_and_trailing_zero_bytes() {
        assert_ne!(hash_token(b"a"), hash_token(b"a\0"));
        assert_ne!(hash_token(b"abcdefgh"), hash_token(b"abcdefgh\0"));
        assert_ne!(hash_token(b"abcdefghi"), hash_token(b"abcdefgih"));
    }

    #[test]
    fn sequence_hash_depends_on_order_and_length() {
        let a = hash_token(b"a");
        let b = hash_token(b"b");
        assert_ne!(hash_token_sequence(&[a, b]), hash_token_sequence(&[b, a]));
        assert_ne!(hash_token_sequence(&[a]), hash_token_sequence(&[a, a]));
        assert_ne!(hash_token_sequence(&[]), hash_token_sequence(&[0]));
    }

    #[test]
    fn mix_spreads_single_bit_changes() {
        let flipped = (mix64(1) ^ mix64(0)).count_ones();
        assert!((16..=48).contains(&flipped), "{flipped} bits changed");
    }
}
