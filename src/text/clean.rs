//! Text hygiene every channel needs whatever its format: no control characters and no
//! bidirectional overrides in what a customer reads. Escaping keeps a feed well-formed, but a
//! raw U+000B is still a character a marketplace refuses, and a U+202E in a title turns the
//! rest of it around on the shelf ("spoofing" a product's name).
//!
//! One-line fields (titles, ids, brands, bullets, attribute values) lose every control
//! character, line breaks and tabs becoming a space; multi-line texts (descriptions) keep
//! their line breaks as `\n` and lose the rest.

use std::borrow::Cow;

/// Bidirectional embeddings, overrides and isolates (U+202A–U+202E, U+2066–U+2069), and the
/// invisible direction marks (U+200E, U+200F, U+061C) that serve the same spoofing.
pub fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}')
}

/// A character that breaks a line: `\n`, `\r`, vertical tab, form feed, NEL and the Unicode
/// line and paragraph separators.
fn is_line_break(c: char) -> bool {
    matches!(
        c,
        '\n' | '\r' | '\u{0B}' | '\u{0C}' | '\u{85}' | '\u{2028}' | '\u{2029}'
    )
}

fn needs_cleaning(c: char) -> bool {
    c.is_control() || is_bidi_control(c) || matches!(c, '\u{2028}' | '\u{2029}')
}

/// Whether `text` holds a character that [`needs_cleaning`], a `\n` not counting when
/// `keep_newlines`. Every value of every product goes through this, and nearly all of them
/// are clean: printable ASCII is skipped in blocks (see [`printable_ascii_prefix`]), and only
/// a byte that starts anything else (a control, or a character beyond ASCII) is decoded and
/// looked at.
fn has_dirt(text: &str, keep_newlines: bool) -> bool {
    let mut rest = text;
    loop {
        let at = printable_ascii_prefix(rest.as_bytes(), keep_newlines);
        // Every byte before `at` is ASCII, so a character starts at `at`.
        rest = &rest[at..];
        let Some(c) = rest.chars().next() else {
            return false;
        };
        if needs_cleaning(c) && !(keep_newlines && c == '\n') {
            return true;
        }
        rest = &rest[c.len_utf8()..];
    }
}

/// How many bytes at the start of `bytes` are printable ASCII (or `\n`, when
/// `keep_newlines`). Blocks of 32 bytes are looked at whole, without stopping at the first
/// byte that is not, which the compiler turns into vector instructions; only the block with
/// such a byte is then looked at a byte at a time.
fn printable_ascii_prefix(bytes: &[u8], keep_newlines: bool) -> usize {
    let printable = |b: u8| (b' '..=b'~').contains(&b) | (keep_newlines & (b == b'\n'));
    let mut skipped = 0;
    for block in bytes.chunks(32) {
        if !block.iter().fold(true, |all, &b| all & printable(b)) {
            break;
        }
        skipped += block.len();
    }
    let rest = &bytes[skipped..];
    skipped
        + rest
            .iter()
            .position(|&b| !printable(b))
            .unwrap_or(rest.len())
}

/// A one-line field: line breaks and tabs become one space, other control characters and
/// bidi controls are dropped, and the spaces this leaves are collapsed.
pub fn one_line(text: &str) -> Cow<'_, str> {
    if !has_dirt(text, false) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut pending_space = false;
    for c in text.chars() {
        if is_line_break(c) || c == '\t' {
            pending_space = true;
            continue;
        }
        if needs_cleaning(c) {
            continue;
        }
        if pending_space {
            if c == ' ' && (out.is_empty() || out.ends_with(' ')) {
                continue;
            }
            if c != ' ' && !out.is_empty() && !out.ends_with(' ') {
                out.push(' ');
            }
            pending_space = false;
        }
        out.push(c);
    }
    Cow::Owned(out)
}

/// Text for a terminal: as it is, or escaped (`"H-\u{202e}RTL"`) when it holds control or
/// bidi characters.
pub fn shown(text: &str) -> Cow<'_, str> {
    match has_dirt(text, false) {
        true => Cow::Owned(format!("{text:?}")),
        false => Cow::Borrowed(text),
    }
}

/// A multi-line text: `\r\n`, `\r` and the other line breaks become `\n`, a tab a space;
/// other control characters and bidi controls are dropped.
pub fn multi_line(text: &str) -> Cow<'_, str> {
    if !has_dirt(text, true) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\r' => {
                if chars.peek() == Some(&'\n') {
                    chars.next();
                }
                out.push('\n');
            }
            '\t' => out.push(' '),
            c if is_line_break(c) => out.push('\n'),
            c if needs_cleaning(c) => {}
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// A content value with every string cleaned, one-line or (for rich text) multi-line;
/// borrowed when there was nothing to clean, which is nearly always.
pub fn clean_json(value: &serde_json::Value, multi: bool) -> Cow<'_, serde_json::Value> {
    fn dirty(value: &serde_json::Value, multi: bool) -> bool {
        match value {
            serde_json::Value::String(text) => has_dirt(text, multi),
            serde_json::Value::Array(items) => items.iter().any(|v| dirty(v, multi)),
            serde_json::Value::Object(map) => map.values().any(|v| dirty(v, multi)),
            _ => false,
        }
    }
    fn clean(value: &mut serde_json::Value, multi: bool) {
        match value {
            serde_json::Value::String(text) => {
                let cleaned = if multi {
                    multi_line(text)
                } else {
                    one_line(text)
                };
                if let Cow::Owned(cleaned) = cleaned {
                    *text = cleaned;
                }
            }
            serde_json::Value::Array(items) => items.iter_mut().for_each(|v| clean(v, multi)),
            serde_json::Value::Object(map) => map.values_mut().for_each(|v| clean(v, multi)),
            _ => {}
        }
    }
    if !dirty(value, multi) {
        return Cow::Borrowed(value);
    }
    let mut owned = value.clone();
    clean(&mut owned, multi);
    Cow::Owned(owned)
}

/// Plain text out of text that may still hold HTML: entities are decoded first (repeatedly,
/// so `&amp;lt;b&amp;gt;` cannot come out as `<b>` later), then every tag is removed. A `<`
/// that starts no tag (`< 5 kg`) is kept.
pub fn strip_html(text: &str) -> Cow<'_, str> {
    if !text.contains(['&', '<']) {
        return Cow::Borrowed(text);
    }
    let mut decoded = Cow::Borrowed(text);
    // Each pass decodes one level of escaping; three cover any copy pasted in good faith.
    for _ in 0..3 {
        match decode_entities(&decoded) {
            Cow::Borrowed(_) => break,
            Cow::Owned(next) => decoded = Cow::Owned(next),
        }
    }
    match strip_tags(&decoded) {
        Cow::Borrowed(_) => decoded,
        Cow::Owned(stripped) => Cow::Owned(stripped),
    }
}

/// Removes `<tag …>`, `</tag>`, `<!-- … -->` and `<!…>`/`<?…>`; a tag that is never closed
/// loses only its `<`.
fn strip_tags(text: &str) -> Cow<'_, str> {
    let starts_tag = |rest: &str| {
        rest[1..]
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || matches!(c, '/' | '!' | '?'))
    };
    if !text.match_indices('<').any(|(i, _)| starts_tag(&text[i..])) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(open) = rest.find('<') {
        out.push_str(&rest[..open]);
        let tag = &rest[open..];
        if !starts_tag(tag) {
            out.push('<');
            rest = &tag[1..];
            continue;
        }
        let end = if tag.starts_with("<!--") {
            tag.find("-->").map(|i| i + 3)
        } else {
            tag.find('>').map(|i| i + 1)
        };
        match end {
            Some(end) => rest = &tag[end..],
            None => rest = &tag[1..],
        }
    }
    out.push_str(rest);
    Cow::Owned(out)
}

/// Decodes `&amp;`, `&lt;`, `&gt;`, `&quot;`, `&apos;`, `&nbsp;` and numeric references
/// (`&#60;`, `&#x3C;`); anything else is left as written.
fn decode_entities(text: &str) -> Cow<'_, str> {
    if !text.contains('&') {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    let mut changed = false;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        let after = &rest[amp + 1..];
        let decoded = after
            .find(';')
            .filter(|&semi| semi <= 10)
            .and_then(|semi| entity(&after[..semi]).map(|c| (c, semi)));
        match decoded {
            Some((c, semi)) => {
                out.push(c);
                rest = &after[semi + 1..];
                changed = true;
            }
            None => {
                out.push('&');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    if changed {
        Cow::Owned(out)
    } else {
        Cow::Borrowed(text)
    }
}

fn entity(name: &str) -> Option<char> {
    let numeric = |digits: &str, radix| u32::from_str_radix(digits, radix).ok();
    let code = match name {
        "amp" => return Some('&'),
        "lt" => return Some('<'),
        "gt" => return Some('>'),
        "quot" => return Some('"'),
        "apos" => return Some('\''),
        "nbsp" => return Some('\u{A0}'),
        _ => match name.strip_prefix('#')? {
            hex if hex.starts_with(['x', 'X']) => numeric(&hex[1..], 16)?,
            decimal => numeric(decimal, 10)?,
        },
    };
    char::from_u32(code).filter(|&c| c != '\0')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_fields_lose_controls_and_bidi() {
        assert_eq!(one_line("plain"), "plain");
        assert_eq!(
            one_line("Boor\u{b}18V\u{1}\u{2}\u{202E}gnol\u{202C}"),
            "Boor 18Vgnol"
        );
        assert_eq!(one_line("a\tb\r\nc\u{2028}d"), "a b c d");
        assert_eq!(one_line("a \n b"), "a b");
        assert_eq!(one_line("\u{2066}x\u{2069}\u{7f}\u{85}"), "x");
    }

    #[test]
    fn dirt_is_found_as_a_scan_of_every_character_finds_it() {
        let by_chars = |text: &str, keep_newlines: bool| {
            text.chars()
                .any(|c| needs_cleaning(c) && !(keep_newlines && c == '\n'))
        };
        let mut texts = vec![String::new(), "plain ASCII ~ text".to_string()];
        let specials = (0..=0x3000u32)
            .chain([0xFEFF, 0xFFFD, 0x1F527, 0x10FFFF])
            .filter_map(char::from_u32);
        for c in specials {
            texts.push(c.to_string());
            texts.push(format!("ab{c}cd"));
            texts.push(format!("ü\n{c}"));
            texts.push(format!("{c}\nx\u{1}"));
            // Past the first blocks the scan skips whole, and at the end of one.
            texts.push(format!("{}{c}{}", "a".repeat(70), "b".repeat(40)));
            texts.push(format!("{}\n{c}", "a".repeat(31)));
        }
        for text in &texts {
            for keep_newlines in [false, true] {
                assert_eq!(
                    has_dirt(text, keep_newlines),
                    by_chars(text, keep_newlines),
                    "{text:?}, keeping newlines: {keep_newlines}"
                );
            }
        }
    }

    #[test]
    fn multi_line_texts_keep_line_breaks_only() {
        assert_eq!(multi_line("a\nb"), "a\nb");
        assert_eq!(multi_line("a\r\nb\rc\u{2029}d\te"), "a\nb\nc\nd e");
        assert_eq!(multi_line("x\u{1}\u{202E}y"), "xy");
    }

    #[test]
    fn entities_are_decoded_before_tags_are_stripped() {
        assert_eq!(strip_html("&lt;b&gt;bold&lt;/b&gt;"), "bold");
        assert_eq!(strip_html("&amp;lt;i&amp;gt;x"), "x");
        assert_eq!(strip_html("Tom &amp; Jerry"), "Tom & Jerry");
        assert_eq!(strip_html("&#60;script&#x3E;x"), "x");
        assert_eq!(strip_html("< 5 kg & 3 > 2"), "< 5 kg & 3 > 2");
        assert_eq!(strip_html("a<!-- c -->b"), "ab");
        assert_eq!(strip_html("open <b"), "open b");
        assert_eq!(strip_html("&bogus; &#0;"), "&bogus; &#0;");
    }
}
