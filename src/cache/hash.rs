//! [`Hash`]: the 32-byte blake3 digest that names every node key and every stored object.
//!
//! It prints and parses as 64 lowercase hex digits and serializes (serde) as that string, so run
//! records, manifests and lockfiles stay readable.

use std::fmt;
use std::str::FromStr;

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Number of hex digits [`Hash::short`] shows: 48 bits, plenty to tell artifacts apart on screen.
const SHORT_HEX_LEN: usize = 12;

/// A blake3 digest.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Hash([u8; 32]);

impl Hash {
    /// Wraps raw digest bytes.
    pub const fn from_bytes(bytes: [u8; 32]) -> Hash {
        Hash(bytes)
    }

    /// The raw digest bytes.
    pub const fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// The blake3 hash of `data` (no domain separation: this is the content hash of a blob).
    pub fn of(data: &[u8]) -> Hash {
        Hash(*blake3::hash(data).as_bytes())
    }

    /// The full 64-digit lowercase hex form.
    pub fn to_hex(&self) -> String {
        let mut out = String::with_capacity(64);
        for byte in self.0 {
            out.push(hex_digit(byte >> 4));
            out.push(hex_digit(byte & 0x0f));
        }
        out
    }

    /// The first 12 hex digits, for display next to node names.
    pub fn short(&self) -> String {
        let mut hex = self.to_hex();
        hex.truncate(SHORT_HEX_LEN);
        hex
    }
}

impl From<blake3::Hash> for Hash {
    fn from(hash: blake3::Hash) -> Hash {
        Hash(*hash.as_bytes())
    }
}

fn hex_digit(nibble: u8) -> char {
    char::from_digit(u32::from(nibble), 16).expect("a nibble is below 16")
}

impl fmt::Display for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Hash({})", self.short())
    }
}

/// Why a string is not a [`Hash`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HashParseError {
    /// Wrong number of characters.
    #[error("a hash has 64 hex digits, this has {0} characters")]
    Length(usize),
    /// A character that is not a hex digit.
    #[error("{0:?} is not a hex digit (a hash is 64 characters 0-9, a-f)")]
    NotHex(char),
}

impl FromStr for Hash {
    type Err = HashParseError;

    /// Parses 64 hex digits; upper case is accepted so pasted hashes work.
    fn from_str(text: &str) -> Result<Hash, HashParseError> {
        let char_count = text.chars().count();
        if char_count != 64 || text.len() != 64 {
            return Err(HashParseError::Length(char_count));
        }
        let mut bytes = [0u8; 32];
        let digits = text.as_bytes();
        for (index, byte) in bytes.iter_mut().enumerate() {
            let high = hex_value(digits[2 * index])?;
            let low = hex_value(digits[2 * index + 1])?;
            *byte = (high << 4) | low;
        }
        Ok(Hash(bytes))
    }
}

fn hex_value(digit: u8) -> Result<u8, HashParseError> {
    char::from(digit)
        .to_digit(16)
        .map(|value| value as u8)
        .ok_or(HashParseError::NotHex(char::from(digit)))
}

impl Serialize for Hash {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_hex())
    }
}

impl<'de> Deserialize<'de> for Hash {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Hash, D::Error> {
        struct HexVisitor;

        impl Visitor<'_> for HexVisitor {
            type Value = Hash;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a blake3 hash as 64 hex digits")
            }

            fn visit_str<E: de::Error>(self, text: &str) -> Result<Hash, E> {
                text.parse().map_err(E::custom)
            }
        }

        deserializer.deserialize_str(HexVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trip_and_short_form() {
        let hash = Hash::of(b"tulu");
        let hex = hash.to_string();
        assert_eq!(hex.len(), 64);
        assert_eq!(hex, blake3::hash(b"tulu").to_hex().as_str());
        assert_eq!(hex.parse::<Hash>().unwrap(), hash);
        assert_eq!(hex.to_uppercase().parse::<Hash>().unwrap(), hash);
        assert_eq!(hash.short(), hex[..12]);
        assert_eq!(format!("{hash:?}"), format!("Hash({})", &hex[..12]));
    }

    #[test]
    fn malformed_hex_is_rejected_with_a_reason() {
        assert_eq!("abc".parse::<Hash>(), Err(HashParseError::Length(3)));
        let bad = format!("{}g", "0".repeat(63));
        assert_eq!(bad.parse::<Hash>(), Err(HashParseError::NotHex('g')));
        // Multi-byte characters must not be mistaken for 64 digits or split mid-character.
        let wide = "é".repeat(32);
        assert_eq!(wide.parse::<Hash>(), Err(HashParseError::Length(32)));
    }

    #[test]
    fn serde_uses_the_hex_string() {
        let hash = Hash::of(b"x");
        let json = serde_json::to_string(&hash).unwrap();
        assert_eq!(json, format!("\"{hash}\""));
        assert_eq!(serde_json::from_str::<Hash>(&json).unwrap(), hash);
        assert!(serde_json::from_str::<Hash>("\"nope\"").is_err());
        assert!(serde_json::from_str::<Hash>("17").is_err());
    }
}
