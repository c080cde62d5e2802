//! What a channel's files are called when its preset splits a feed over several files.

/// The file name of part `number` (1-based) of a feed split over several files: the first
/// part is the channel's `output` itself, the others get `-2`, `-3`, … before the extension
/// (`amazon.json`, `amazon-2.json`, …).
pub fn part_file_name(output: &str, number: usize) -> String {
    if number <= 1 {
        return output.to_string();
    }
    match output.rsplit_once('.') {
        Some((stem, extension)) if !stem.is_empty() => format!("{stem}-{number}.{extension}"),
        _ => format!("{output}-{number}"),
    }
}

/// Whether `file` would be a later part of a split feed written to `output`.
pub fn is_later_part(output: &str, file: &str) -> bool {
    let (stem, extension) = match output.rsplit_once('.') {
        Some((stem, extension)) if !stem.is_empty() => (stem, Some(extension)),
        _ => (output, None),
    };
    let rest = match extension {
        Some(extension) => file
            .strip_suffix(extension)
            .and_then(|f| f.strip_suffix('.')),
        None => Some(file),
    };
    rest.and_then(|r| r.strip_prefix(stem))
        .and_then(|r| r.strip_prefix('-'))
        .and_then(|n| n.parse::<usize>().ok())
        .is_some_and(|n| n >= 2)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_are_numbered_before_the_extension() {
        assert_eq!(part_file_name("amazon.json", 1), "amazon.json");
        assert_eq!(part_file_name("amazon.json", 2), "amazon-2.json");
        assert_eq!(part_file_name("amazon.de.json", 3), "amazon.de-3.json");
        assert_eq!(part_file_name("amazon", 2), "amazon-2");
        assert!(is_later_part("amazon.json", "amazon-2.json"));
        assert!(is_later_part("amazon.json", "amazon-12.json"));
        assert!(!is_later_part("amazon.json", "amazon-1.json"));
        assert!(!is_later_part("amazon.json", "amazon-x.json"));
        assert!(!is_later_part("amazon.json", "amazon.json"));
        assert!(!is_later_part("amazon.json", "other-2.json"));
    }
}
