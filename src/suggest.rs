//! "Did you mean …?" for misspelt attribute, locale, channel and category names.

/// The known name closest to `input`, if it is close enough to be a plausible typo.
pub fn nearest<'a>(input: &str, known: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let input = input.to_lowercase();
    known
        .into_iter()
        .map(|candidate| {
            (
                strsim::jaro_winkler(&input, &candidate.to_lowercase()),
                candidate,
            )
        })
        .filter(|(score, _)| *score >= 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, candidate)| candidate)
}

#[cfg(test)]
mod tests {
    use super::nearest;

    #[test]
    fn suggests_close_names_only() {
        let known = ["title", "description", "images"];
        assert_eq!(nearest("titel", known), Some("title"));
        assert_eq!(nearest("image", known), Some("images"));
        assert_eq!(nearest("voltage", known), None);
    }
}
