//! A small, fixed, platform-independent 64-bit hash for tokens and n-grams.
//!
//! Dedup and decontamination results depend on these values (MinHash minima, LSH buckets), so
//! they must not change between runs, machines or Rust releases: no random state and no reliance
//! on `std`'s unspecified `DefaultHasher`. Speed matters more than strength here: hash equality is
//! only ever a candidate, confirmed by comparing the text (decontamination) or backed by many
//! independent MinHash slots (dedup).

use std::hash::{BuildHasherDefault, Hasher};

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

/// Incremental FNV-1a over bytes; [`TokenHasher::finish`] applies a finalizer so that all 64
/// bits are well mixed (plain FNV-1a is weak in its high bits for short keys).
#[derive(Clone, Copy)]
pub(crate) struct TokenHasher(u64);

impl TokenHasher {
    pub(crate) fn new() -> Self {
        Self(FNV_OFFSET)
    }

    #[inline]
    pub(crate) fn write_byte(&mut self, byte: u8) {
        self.0 = (self.0 ^ u64::from(byte)).wrapping_mul(FNV_PRIME);
    }

    #[inline]
    pub(crate) fn write_bytes(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_byte(b);
        }
    }

    #[inline]
    pub(crate) fn finish(self) -> u64 {
        mix64(self.0)
    }
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

    #[test]
    fn token_hash_is_fixed_across_releases() {
        // Pinned values: a change here changes every dedup result and must bump op versions.
        assert_eq!(hash_token(b""), mix64(FNV_OFFSET));
        assert_eq!(hash_token(b"hello"), 0xe9c5_62c0_fdb2_3244);
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
