//! Counts as people write them: "1 error", "2 errors", "1 minute old".

/// `count` followed by `noun`, in the plural unless it is one: `count(1, "error")` is
/// "1 error". For nouns whose plural is a plain `s`.
pub fn count(count: usize, noun: &str) -> String {
    match count {
        1 => format!("1 {noun}"),
        _ => format!("{count} {noun}s"),
    }
}

/// An age in minutes as a person says it: "1 minute", "45 minutes", "3 h 5 min", "2 days".
pub fn minutes(minutes: u64) -> String {
    match minutes {
        0..=119 => count(minutes as usize, "minute"),
        120..=2879 => match minutes % 60 {
            0 => format!("{} hours", minutes / 60),
            rest => format!("{} h {rest} min", minutes / 60),
        },
        _ => count((minutes / 1440) as usize, "day"),
    }
}

/// The first `shown` of `items`, each named by `name`, joined by commas, then how many are
/// left: "A-1, B-1, and 3 more". A summary names a few of a long list; the report has it all.
pub fn first_few<T>(items: &[T], shown: usize, name: impl Fn(&T) -> String) -> String {
    let mut names: Vec<String> = items.iter().take(shown).map(name).collect();
    if items.len() > shown {
        names.push(format!("and {} more", items.len() - shown));
    }
    names.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_is_singular() {
        assert_eq!(count(1, "error"), "1 error");
        assert_eq!(count(0, "error"), "0 errors");
        assert_eq!(count(3, "stub"), "3 stubs");
    }

    #[test]
    fn ages_read_naturally() {
        assert_eq!(minutes(1), "1 minute");
        assert_eq!(minutes(90), "90 minutes");
        assert_eq!(minutes(185), "3 h 5 min");
        assert_eq!(minutes(180), "3 hours");
        assert_eq!(minutes(4320), "3 days");
    }

    #[test]
    fn a_long_list_names_the_first_few_and_counts_the_rest() {
        let skus = ["A-1", "B-1", "C-1", "D-1"];
        assert_eq!(
            first_few(&skus, 2, |s| s.to_string()),
            "A-1, B-1, and 2 more"
        );
        assert_eq!(first_few(&skus, 4, |s| s.to_string()), "A-1, B-1, C-1, D-1");
        assert_eq!(first_few(&skus[..0], 4, |s| s.to_string()), "");
    }
}
