//! The SKUs a product file names, found without parsing it: a file with errors defines no
//! product, but the report must still say which products it holds (they are left out because
//! of the error, not because nobody wrote their content).

/// Every `sku = "…"` line of `text` (the file's own and its variants'), with its 1-based line.
/// Lenient on purpose: it works on a file that is not even valid TOML.
pub fn skus_named(text: &str) -> Vec<(String, u32)> {
    text.lines()
        .enumerate()
        .filter_map(|(index, line)| {
            let value = line.trim_start().strip_prefix("sku")?.trim_start();
            let value = value.strip_prefix('=')?.trim_start();
            let quote = value.chars().next().filter(|c| matches!(c, '"' | '\''))?;
            let rest = &value[1..];
            let sku = &rest[..rest.find(quote)?];
            (!sku.is_empty()).then(|| (sku.to_string(), index as u32 + 1))
        })
        .collect()
}

/// The error for a product file that is not UTF-8, at the line and column of the first bad
/// byte (editors show the same position), with the text before it for the report.
pub fn utf8_error(
    relative: &std::path::Path,
    bytes: &[u8],
) -> Option<crate::diagnostics::Diagnostic> {
    let err = std::str::from_utf8(bytes).err()?;
    let valid = std::str::from_utf8(&bytes[..err.valid_up_to()]).unwrap_or_default();
    let offset = valid.len();
    let mut diagnostic = crate::diagnostics::Diagnostic::error(
        "invalid-utf8",
        relative,
        valid,
        offset..offset,
        format!(
            "the file is not valid UTF-8: byte 0x{:02x} cannot start or continue a character",
            bytes[offset]
        ),
    )
    .with_help("save the file as UTF-8 (most editors: \"Save with encoding\" → UTF-8)");
    // The span is past the text the snippet could show; the line and column say where.
    diagnostic.span = None;
    Some(diagnostic)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_skus_of_a_broken_file() {
        let text = "sku = \"HM-10\"\ntitel.nl-NL = \"x\n[[variants]]\n  sku='V-1'\nskus = 3\n";
        assert_eq!(
            skus_named(text),
            [("HM-10".to_string(), 1), ("V-1".to_string(), 4)]
        );
    }

    #[test]
    fn points_at_the_first_bad_byte() {
        let bytes = b"sku = \"A\"\ntitle.nl-NL = \"caf\xe9\"\n";
        let diagnostic = utf8_error(std::path::Path::new("a.toml"), bytes).unwrap();
        assert_eq!((diagnostic.line, diagnostic.column), (2, 19));
        assert!(
            diagnostic.message.contains("0xe9"),
            "{}",
            diagnostic.message
        );
    }
}
