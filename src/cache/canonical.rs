//! Canonical JSON: one byte sequence per JSON value, used wherever bytes are hashed (node keys,
//! manifests) or compared across runs (run records).
//!
//! The rules, chosen so that the encoding depends on no crate's formatting choices:
//! - no whitespace; object keys sorted by their UTF-8 bytes (= code point order); arrays keep order;
//! - integers (JSON numbers without fraction or exponent, held as `u64`/`i64`) print as integers;
//! - floats print their shortest round-trip digits (the unique shortest digit string that parses
//!   back to the same `f64`), always with a `.` so a float never reads as an integer: decimal
//!   notation when `1e-6 <= |x| < 1e21` (`0.1`, `1.0`, `123.5`), otherwise `d.ddde±N` (`1.0e21`,
//!   `2.5e-8`); so `1` (int) and `1.0` (float) are different values with different encodings;
//! - `-0.0` encodes as `0.0`: no op distinguishes the two zeros, and a key must not either;
//! - NaN and ±infinity cannot be held in a [`serde_json::Value`] (serde_json turns them into
//!   `null` on conversion), so they encode as `null`; the checker rejects them before a value
//!   reaches a key;
//! - strings escape only `"`, `\` and the control characters below U+0020 (`\b \t \n \f \r`,
//!   others as `\u00xx`); all other characters are written as raw UTF-8, unnormalized.

use serde::Serialize;
use serde_json::{Number, Value};

use super::error::{CacheError, Result};

/// The canonical encoding of `value`.
pub fn canonical_json(value: &Value) -> Vec<u8> {
    let mut out = Vec::with_capacity(64);
    write_value(value, &mut out);
    out
}

/// The canonical encoding of `value` as a `String` (it is always valid UTF-8).
pub fn canonical_json_string(value: &Value) -> String {
    String::from_utf8(canonical_json(value)).expect("canonical JSON is built from UTF-8 pieces")
}

/// The canonical encoding of any serializable value (converted through [`serde_json::Value`]).
pub fn canonical_json_of<T: Serialize + ?Sized>(value: &T, what: &'static str) -> Result<Vec<u8>> {
    let value =
        serde_json::to_value(value).map_err(|source| CacheError::Encode { what, source })?;
    Ok(canonical_json(&value))
}

fn write_value(value: &Value, out: &mut Vec<u8>) {
    match value {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(true) => out.extend_from_slice(b"true"),
        Value::Bool(false) => out.extend_from_slice(b"false"),
        Value::Number(number) => write_number(number, out),
        Value::String(text) => write_string(text, out),
        Value::Array(items) => {
            out.push(b'[');
            for (index, item) in items.iter().enumerate() {
                if index > 0 {
                    out.push(b',');
                }
                write_value(item, out);
            }
            out.push(b']');
        }
        Value::Object(map) => {
            // The crate enables serde_json's `preserve_order`, so iteration order is insertion
            // order: sort explicitly.
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_unstable_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
            out.push(b'{');
            for (index, (key, item)) in entries.into_iter().enumerate() {
                if index > 0 {
                    out.push(b',');
                }
                write_string(key, out);
                out.push(b':');
                write_value(item, out);
            }
            out.push(b'}');
        }
    }
}

fn write_number(number: &Number, out: &mut Vec<u8>) {
    if let Some(unsigned) = number.as_u64() {
        out.extend_from_slice(unsigned.to_string().as_bytes());
    } else if let Some(signed) = number.as_i64() {
        out.extend_from_slice(signed.to_string().as_bytes());
    } else if let Some(float) = number.as_f64() {
        write_float(float, out);
    } else {
        // Only reachable if another crate turns on serde_json's `arbitrary_precision`: such a
        // number is kept exactly as written.
        out.extend_from_slice(number.to_string().as_bytes());
    }
}

/// Floats in the canonical form described in the module docs.
pub(crate) fn write_float(float: f64, out: &mut Vec<u8>) {
    if !float.is_finite() {
        out.extend_from_slice(b"null");
        return;
    }
    if float == 0.0 {
        out.extend_from_slice(b"0.0");
        return;
    }
    if float < 0.0 {
        out.push(b'-');
    }
    // `{:e}` prints the shortest round-trip digits as `d[.ddd]e[-]N`; re-lay them out ourselves so
    // the thresholds and the spelling are ours, not std's.
    let scientific = format!("{:e}", float.abs());
    let (mantissa, exponent) = scientific
        .split_once('e')
        .expect("LowerExp output always has an exponent");
    let exponent: i32 = exponent.parse().expect("LowerExp exponent is an integer");
    let digits: Vec<u8> = mantissa.bytes().filter(|byte| *byte != b'.').collect();

    if (-6..21).contains(&exponent) {
        if exponent >= 0 {
            let integer_len = exponent as usize + 1;
            if digits.len() <= integer_len {
                out.extend_from_slice(&digits);
                out.extend(std::iter::repeat_n(b'0', integer_len - digits.len()));
                out.extend_from_slice(b".0");
            } else {
                out.extend_from_slice(&digits[..integer_len]);
                out.push(b'.');
                out.extend_from_slice(&digits[integer_len..]);
            }
        } else {
            out.extend_from_slice(b"0.");
            out.extend(std::iter::repeat_n(b'0', (-exponent - 1) as usize));
            out.extend_from_slice(&digits);
        }
    } else {
        out.push(digits[0]);
        out.push(b'.');
        if digits.len() > 1 {
            out.extend_from_slice(&digits[1..]);
        } else {
            out.push(b'0');
        }
        out.push(b'e');
        out.extend_from_slice(exponent.to_string().as_bytes());
    }
}

fn write_string(text: &str, out: &mut Vec<u8>) {
    out.push(b'"');
    for byte in text.bytes() {
        match byte {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            0x08 => out.extend_from_slice(b"\\b"),
            0x0c => out.extend_from_slice(b"\\f"),
            control if control < 0x20 => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                out.extend_from_slice(b"\\u00");
                out.push(HEX[usize::from(control >> 4)]);
                out.push(HEX[usize::from(control & 0x0f)]);
            }
            // Bytes of multi-byte UTF-8 characters are all >= 0x80 and pass through untouched.
            other => out.push(other),
        }
    }
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;
    use serde_json::json;

    fn float_text(float: f64) -> String {
        let mut out = Vec::new();
        write_float(float, &mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn object_keys_are_sorted_and_whitespace_dropped() {
        let first: Value =
            serde_json::from_str(r#"{ "b": 1, "a": {"z": [1, 2], "y": null} }"#).unwrap();
        let second: Value = serde_json::from_str(r#"{"a":{"y":null,"z":[1,2]},"b":1}"#).unwrap();
        assert_eq!(
            canonical_json_string(&first),
            r#"{"a":{"y":null,"z":[1,2]},"b":1}"#
        );
        assert_eq!(canonical_json(&first), canonical_json(&second));
    }

    #[test]
    fn keys_sort_by_code_point_not_insertion_or_case() {
        let value = json!({"é": 1, "Z": 2, "a": 3, "": 4, "aa": 5});
        assert_eq!(
            canonical_json_string(&value),
            r#"{"":4,"Z":2,"a":3,"aa":5,"é":1}"#
        );
    }

    #[test]
    fn integers_stay_integers_and_floats_keep_a_point() {
        assert_eq!(canonical_json_string(&json!(1)), "1");
        assert_eq!(canonical_json_string(&json!(1.0)), "1.0");
        assert_ne!(canonical_json(&json!(1)), canonical_json(&json!(1.0)));
        assert_eq!(
            canonical_json_string(&json!(u64::MAX)),
            "18446744073709551615"
        );
        assert_eq!(
            canonical_json_string(&json!(i64::MIN)),
            "-9223372036854775808"
        );
    }

    #[test]
    fn float_spellings_are_fixed() {
        let cases = [
            (0.1, "0.1"),
            (1.0, "1.0"),
            (100.0, "100.0"),
            (-2.5, "-2.5"),
            (123.456, "123.456"),
            (5e-7, "5.0e-7"),
            (1.5e-7, "1.5e-7"),
            (1e-6, "0.000001"),
            (1.25e-6, "0.00000125"),
            (1e20, "100000000000000000000.0"),
            (1.2345678901234568e20, "123456789012345680000.0"),
            (1e21, "1.0e21"),
            (1.5e300, "1.5e300"),
            (5e-324, "5.0e-324"),
            (f64::MAX, "1.7976931348623157e308"),
            (0.0, "0.0"),
            (-0.0, "0.0"),
        ];
        for (float, expected) in cases {
            assert_eq!(float_text(float), expected, "encoding {float:e}");
        }
        assert_eq!(float_text(f64::NAN), "null");
        assert_eq!(float_text(f64::NEG_INFINITY), "null");
    }

    #[test]
    fn negative_zero_and_zero_share_a_key_but_nan_becomes_null() {
        assert_eq!(canonical_json(&json!(-0.0)), canonical_json(&json!(0.0)));
        assert_eq!(
            canonical_json_string(&json!({"lr": f64::NAN})),
            r#"{"lr":null}"#
        );
    }

    #[test]
    fn floats_round_trip_bit_exactly() {
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let mut checked = 0;
        while checked < 20_000 {
            let float = f64::from_bits(rng.random::<u64>());
            if !float.is_finite() || float == 0.0 {
                continue;
            }
            let text = float_text(float);
            let parsed: f64 = text.parse().unwrap();
            assert_eq!(parsed.to_bits(), float.to_bits(), "{text}");
            // Run records are read back with serde_json: it must round-trip too (this needs its
            // `float_roundtrip` feature).
            let parsed: f64 = serde_json::from_str(&text).unwrap();
            assert_eq!(parsed.to_bits(), float.to_bits(), "serde_json: {text}");
            // Shortest: std's own shortest form has no more significant digits.
            let std_digits = format!("{:e}", float.abs());
            let ours = text.trim_start_matches('-');
            let significant = |s: &str| {
                s.split('e')
                    .next()
                    .unwrap()
                    .trim_start_matches(['0', '.'])
                    .replace('.', "")
                    .trim_end_matches('0')
                    .len()
            };
            assert_eq!(
                significant(ours),
                significant(&std_digits),
                "{text} vs {std_digits}"
            );
            checked += 1;
        }
    }

    #[test]
    fn canonical_output_reparses_to_the_same_value() {
        let value = json!({
            "name": "tulu \"3\"\n\t\u{1}\u{7f} ✓",
            "lr": 5e-7,
            "betas": [0.9, 0.999],
            "steps": 1500,
            "neg": -3,
            "nested": {"b": [true, false, null], "a": {}},
            "empty": []
        });
        let text = canonical_json_string(&value);
        let reparsed: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(reparsed, value);
        assert_eq!(canonical_json_string(&reparsed), text);
        assert!(text.contains(r#""tulu \"3\"\n\t\u0001"#), "{text}");
    }

    #[test]
    fn serializable_values_go_through_the_same_encoder() {
        #[derive(Serialize)]
        struct Params {
            zeta: f64,
            alpha: u32,
        }
        let bytes = canonical_json_of(
            &Params {
                zeta: 0.5,
                alpha: 2,
            },
            "params",
        )
        .unwrap();
        assert_eq!(bytes, br#"{"alpha":2,"zeta":0.5}"#);
    }
}
