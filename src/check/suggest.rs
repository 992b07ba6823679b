//! "Did you mean" hints for misspelt names.

/// The candidate closest to `name`, if it is close enough to be a plausible typo.
pub fn closest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let limit = (name.chars().count() / 3).max(1);
    candidates
        .into_iter()
        .filter(|c| *c != name)
        .map(|c| (strsim::damerau_levenshtein(name, c), c))
        .filter(|(d, c)| *d <= limit || (c.len() > 3 && c.starts_with(name) && name.len() >= 3))
        .min_by(|a, b| a.0.cmp(&b.0).then(a.1.cmp(b.1)))
        .map(|(_, c)| c)
}

/// `Some("did you mean `x`?")` when a close candidate exists.
pub fn did_you_mean<'a>(
    name: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<String> {
    closest(name, candidates).map(|c| format!("did you mean `{c}`?"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_typos_but_not_unrelated_names() {
        let names = ["dedup", "decontam", "sample", "seed"];
        assert_eq!(closest("dedpu", names), Some("dedup"));
        assert_eq!(closest("sed", names), Some("seed"));
        assert_eq!(closest("train", names), None);
    }
}
