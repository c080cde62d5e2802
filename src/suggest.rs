//! "Did you mean …?" for misspelt attribute, locale, channel and category names.

/// The known name closest to `input`, if it is close enough to be a plausible typo.
pub fn nearest<'a>(input: &str, known: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let input = input.to_lowercase();
    known
        .into_iter()
        .map(|candidate| {
            let lower = candidate.to_lowercase();
            // Jaro-Winkler misses a swap in a short name (`cvs` for `csv`): one edit is a typo.
            let one_edit = lower.len() >= 3 && strsim::damerau_levenshtein(&input, &lower) == 1;
            let score = strsim::jaro_winkler(&input, &lower);
            (if one_edit { score.max(0.8) } else { score }, candidate)
        })
        .filter(|(score, _)| *score >= 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, candidate)| candidate)
}

/// "did you mean `require`?" for a serde message such as "unknown field `requre`, expected
/// one of `preset`, …, `require`" (or "unknown variant …"), when one is close enough.
pub fn for_unknown_name(message: &str) -> Option<String> {
    let rest = message
        .strip_prefix("unknown field ")
        .or_else(|| message.strip_prefix("unknown variant "))?;
    let mut quoted = rest.split('`').skip(1).step_by(2);
    let input = quoted.next()?;
    let (_, expected) = rest.split_once("expected ")?;
    let known: Vec<&str> = expected.split('`').skip(1).step_by(2).collect();
    nearest(input, known).map(|near| format!("did you mean `{near}`?"))
}

#[cfg(test)]
mod tests {
    use super::{for_unknown_name, nearest};

    #[test]
    fn suggests_a_setting_from_the_parsers_message() {
        assert_eq!(
            for_unknown_name("unknown field `requre`, expected one of `preset`, `require`")
                .as_deref(),
            Some("did you mean `require`?")
        );
        assert_eq!(
            for_unknown_name("unknown variant `cvs`, expected one of `xml`, `csv`").as_deref(),
            Some("did you mean `csv`?")
        );
        assert_eq!(for_unknown_name("invalid type: string"), None);
    }

    #[test]
    fn suggests_close_names_only() {
        let known = ["title", "description", "images"];
        assert_eq!(nearest("titel", known), Some("title"));
        assert_eq!(nearest("image", known), Some("images"));
        assert_eq!(nearest("voltage", known), None);
    }
}
