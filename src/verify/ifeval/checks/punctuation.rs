//! `punctuation:no_comma`.

use super::Check;

/// `punctuation:no_comma`: the response contains no ASCII comma (`，` and other commas are fine).
#[derive(Debug)]
pub struct NoComma;

impl Check for NoComma {
    fn is_followed(&self, response: &str, _prompt: &str) -> bool {
        !response.contains(',')
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_ascii_commas_count() {
        assert!(NoComma.is_followed("No commas here; none at all.", ""));
        assert!(NoComma.is_followed("全角逗号，不算", ""));
        assert!(!NoComma.is_followed("One, two", ""));
    }
}
