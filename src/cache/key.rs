//! Node keys: the identity of one op application, used to look up its cached output.
//!
//! `key = blake3_derive_key("tulu/node/v1", fields)` where the fields are, in order:
//! the op name (u64 little-endian byte length, then UTF-8 bytes), the op version (u32 LE), the
//! canonical JSON of the resolved params (u64 LE length, then bytes), and the inputs' *output*
//! hashes in signature order (u64 LE count, then 32 bytes each). Every variable-length field is
//! length-prefixed, so two different tuples never feed blake3 the same byte stream; the domain
//! string goes through blake3's key-derivation mode, so a node key can never equal a content hash
//! or a key of a future format (`v2`).

use super::hash::Hash;

/// The key-derivation context of node keys. Changing anything about the key layout means a new
/// context string (`tulu/node/v2`), which invalidates every cached result at once.
pub const NODE_KEY_DOMAIN: &str = "tulu/node/v1";

/// The cache key of applying `op` (at `op_version`) with `canonical_params` (see
/// [`canonical_json`](super::canonical::canonical_json)) to inputs whose outputs hash to `inputs`.
pub fn node_key(op: &str, op_version: u32, canonical_params: &[u8], inputs: &[Hash]) -> Hash {
    let mut hasher = blake3::Hasher::new_derive_key(NODE_KEY_DOMAIN);
    hasher.update(&(op.len() as u64).to_le_bytes());
    hasher.update(op.as_bytes());
    hasher.update(&op_version.to_le_bytes());
    hasher.update(&(canonical_params.len() as u64).to_le_bytes());
    hasher.update(canonical_params);
    hasher.update(&(inputs.len() as u64).to_le_bytes());
    for input in inputs {
        hasher.update(input.as_bytes());
    }
    Hash::from(hasher.finalize())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cache::canonical::canonical_json;
    use serde_json::json;

    fn params(value: serde_json::Value) -> Vec<u8> {
        canonical_json(&value)
    }

    #[test]
    fn same_tuple_same_key() {
        let inputs = [Hash::of(b"a"), Hash::of(b"b")];
        let p = params(json!({"lr": 5e-7, "beta": 5.0}));
        assert_eq!(
            node_key("dpo", 1, &p, &inputs),
            node_key("dpo", 1, &p, &inputs)
        );
        // Params equal as JSON values give equal keys whatever their key order.
        let reordered = params(json!({"beta": 5.0, "lr": 5e-7}));
        assert_eq!(
            node_key("dpo", 1, &p, &inputs),
            node_key("dpo", 1, &reordered, &inputs)
        );
    }

    #[test]
    fn every_field_changes_the_key() {
        let inputs = [Hash::of(b"a"), Hash::of(b"b")];
        let p = params(json!({"beta": 5.0}));
        let base = node_key("dpo", 1, &p, &inputs);
        let variants = [
            node_key("sft", 1, &p, &inputs),
            node_key("dpo", 2, &p, &inputs),
            node_key("dpo", 1, &params(json!({"beta": 5.1})), &inputs),
            node_key("dpo", 1, &params(json!({"beta": 5})), &inputs),
            node_key("dpo", 1, &p, &[Hash::of(b"a"), Hash::of(b"c")]),
            node_key("dpo", 1, &p, &[Hash::of(b"b"), Hash::of(b"a")]),
            node_key("dpo", 1, &p, &inputs[..1]),
            node_key("dpo", 1, &p, &[]),
        ];
        for (index, variant) in variants.iter().enumerate() {
            assert_ne!(*variant, base, "variant {index} collided with the base key");
        }
        for (i, a) in variants.iter().enumerate() {
            for b in &variants[i + 1..] {
                assert_ne!(a, b);
            }
        }
    }

    #[test]
    fn field_boundaries_cannot_be_shifted() {
        // Without length prefixes "ab" + params "c" and "a" + params "bc" would hash alike.
        assert_ne!(node_key("ab", 1, b"c", &[]), node_key("a", 1, b"bc", &[]));
        // Moving bytes between params and the input list must not collide either.
        let input = Hash::of(b"x");
        let mut shifted = b"{}".to_vec();
        shifted.extend_from_slice(input.as_bytes());
        assert_ne!(
            node_key("op", 1, b"{}", &[input]),
            node_key("op", 1, &shifted, &[])
        );
    }

    #[test]
    fn node_keys_are_not_content_hashes() {
        let key = node_key("", 0, b"", &[]);
        assert_ne!(key, Hash::of(b""));
        // Pinned so an accidental change of the layout is caught: such a change must come with a
        // new domain string.
        assert_eq!(
            node_key("load", 1, br#"{"path":"data.jsonl"}"#, &[]).to_string(),
            PINNED_LOAD_KEY
        );
    }

    const PINNED_LOAD_KEY: &str =
        "f070ab879bd3c3c23dac5b2da0e9a0646d3c99ad481a9c5508bced4a58ac5ab0";
}
