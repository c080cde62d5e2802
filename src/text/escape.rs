//! Escaping that belongs to the output format, never to the template author.
//!
//! Whatever a marketer pastes into a product file, every XML feed must stay well-formed, every
//! JSON document must parse and no spreadsheet cell may start a formula. These functions run
//! for every value of feeds with a million items, so each one scans bytes, hands back the input
//! untouched when there is nothing to do, and otherwise copies the clean runs in between the
//! replacements in one go.
//!
//! The `*_escape_fn` functions have the signature of [`tera::EscapeFn`], so a channel template
//! gets the escaping of its format with `tera.set_escape_fn(..)`.

use std::borrow::Cow;
use std::convert::Infallible;
use std::io::{self, Write};

/// Whether `c` matches the XML 1.0 `Char` production. A parser must reject a document holding
/// any other character, even escaped as a character reference.
#[inline]
pub fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

/// Escapes text for XML content and attribute values and drops what XML 1.0 forbids (a
/// vertical tab pasted from Word would otherwise make the whole feed unparseable).
pub fn xml_text(input: &str) -> Cow<'_, str> {
    rewrite::<true>(input)
}

/// [`xml_text`] writing into a Tera template's output: `tera.set_escape_fn(xml_escape_fn)`.
pub fn xml_escape_fn(input: &str, output: &mut dyn Write) -> io::Result<()> {
    xml_walk::<true, _>(input, next_action::<true>(input.as_bytes(), 0), |s| {
        output.write_all(s.as_bytes())
    })
}

/// Drops the characters XML 1.0 forbids and escapes nothing: for text that gets escaped later
/// by a writer that does not know about forbidden characters (quick-xml's, for one).
pub fn strip_xml_forbidden(input: &str) -> Cow<'_, str> {
    rewrite::<false>(input)
}

/// Escapes a string for use inside a JSON string literal (the quotes are the template's).
/// U+2028 and U+2029 are escaped too: JSON allows them raw, but JavaScript before ES2019 and
/// some JSON-LD consumers read them as line ends.
pub fn json_string_escape_fn(input: &str, output: &mut dyn Write) -> io::Result<()> {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let bytes = input.as_bytes();
    let mut clean = 0;
    let mut i = 0;
    while let Some(skip) = bytes[i..]
        .iter()
        .position(|&b| JSON_CANDIDATES[usize::from(b)])
    {
        i += skip;
        let mut code = *b"\\u00XX";
        let (replacement, len): (&[u8], usize) = match bytes[i] {
            b'"' => (b"\\\"", 1),
            b'\\' => (b"\\\\", 1),
            b'\n' => (b"\\n", 1),
            b'\r' => (b"\\r", 1),
            b'\t' => (b"\\t", 1),
            0x08 => (b"\\b", 1),
            0x0C => (b"\\f", 1),
            b @ 0x00..=0x1F => {
                code[4] = HEX[usize::from(b >> 4)];
                code[5] = HEX[usize::from(b & 0xF)];
                (&code, 1)
            }
            // The only other candidate is 0xE2; U+2028 and U+2029 are E2 80 A8 and E2 80 A9.
            _ if bytes[i + 1] == 0x80 && bytes[i + 2] == 0xA8 => (b"\\u2028", 3),
            _ if bytes[i + 1] == 0x80 && bytes[i + 2] == 0xA9 => (b"\\u2029", 3),
            _ => {
                i += 3;
                continue;
            }
        };
        output.write_all(&bytes[clean..i])?;
        output.write_all(replacement)?;
        i += len;
        clean = i;
    }
    output.write_all(&bytes[clean..])
}

/// Bytes that may start a character [`json_string_escape_fn`] escapes: controls, `"`, `\`
/// and the lead byte of U+2028 and U+2029.
static JSON_CANDIDATES: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 0x20 {
        table[b] = true;
        b += 1;
    }
    table[b'"' as usize] = true;
    table[b'\\' as usize] = true;
    table[0xE2] = true;
    table
};

/// Writes a value as one quoted CSV field (`"` doubled), for CSV templates that override a
/// preset: whatever the value holds (commas, quotes, line breaks), it stays one cell.
pub fn csv_field_escape_fn(input: &str, output: &mut dyn Write) -> io::Result<()> {
    write_csv_field(input, output)
}

/// [`csv_field_escape_fn`] for spreadsheet CSV: the cell is also guarded by [`guard_formula`].
pub fn csv_guarded_field_escape_fn(input: &str, output: &mut dyn Write) -> io::Result<()> {
    write_csv_field(&guard_formula(input), output)
}

/// A CSV cell without the control characters (C0) other than tab and line feed: a NUL or an
/// escape from the ERP would reach the file raw, and many CSV readers stop at a NUL.
pub fn strip_csv_controls(cell: &str) -> Cow<'_, str> {
    let forbidden = |c: char| c < ' ' && !matches!(c, '\t' | '\n');
    if cell.contains(forbidden) {
        Cow::Owned(cell.chars().filter(|c| !forbidden(*c)).collect())
    } else {
        Cow::Borrowed(cell)
    }
}

fn write_csv_field(input: &str, output: &mut dyn Write) -> io::Result<()> {
    let input = strip_csv_controls(input);
    output.write_all(b"\"")?;
    let mut parts = input.split('"');
    if let Some(first) = parts.next() {
        output.write_all(first.as_bytes())?;
    }
    for part in parts {
        output.write_all(b"\"\"")?;
        output.write_all(part.as_bytes())?;
    }
    output.write_all(b"\"")
}

/// Guards a cell of a CSV meant for a spreadsheet against formula injection (OWASP): a text
/// cell starting with `=`, `+`, `-`, `@`, tab, CR or LF gets a leading `'`, which spreadsheets
/// show as text. Numbers such as `-20` or `+3,5` pass unchanged, since the `'` would turn them
/// into text; `-20%` is not a plain number and is guarded. Separators and quotes later in the
/// cell need no guard as long as the CSV writer quotes the field.
pub fn guard_formula(cell: &str) -> Cow<'_, str> {
    match cell.as_bytes().first() {
        Some(b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r' | b'\n') if !is_plain_number(cell) => {
            Cow::Owned(format!("'{cell}"))
        }
        _ => Cow::Borrowed(cell),
    }
}

/// An optional sign, digits and an optional decimal part with `.` or `,`: `-20`, `+3.5`,
/// `-0,5`, `-.5`.
fn is_plain_number(s: &str) -> bool {
    let s = s.strip_prefix(['+', '-']).unwrap_or(s);
    let (int, frac) = s.split_once(['.', ',']).unwrap_or((s, ""));
    let digits = |p: &str| p.bytes().all(|b| b.is_ascii_digit());
    !(int.is_empty() && frac.is_empty()) && digits(int) && digits(frac)
}

fn rewrite<const ESCAPE: bool>(input: &str) -> Cow<'_, str> {
    let Some(first) = next_action::<ESCAPE>(input.as_bytes(), 0) else {
        return Cow::Borrowed(input);
    };
    let mut out = String::with_capacity(input.len() + 16);
    let Ok(()) = xml_walk::<ESCAPE, Infallible>(input, Some(first), |s| {
        out.push_str(s);
        Ok(())
    });
    Cow::Owned(out)
}

/// Feeds `emit` the clean runs of `input` and the replacements in between, starting from the
/// first replacement, `next`.
#[inline]
fn xml_walk<const ESCAPE: bool, E>(
    input: &str,
    mut next: Option<Action>,
    mut emit: impl FnMut(&str) -> Result<(), E>,
) -> Result<(), E> {
    let mut clean = 0;
    while let Some((at, replacement, len)) = next {
        if clean < at {
            emit(&input[clean..at])?;
        }
        if !replacement.is_empty() {
            emit(replacement)?;
        }
        clean = at + len;
        next = next_action::<ESCAPE>(input.as_bytes(), clean);
    }
    if clean < input.len() {
        emit(&input[clean..])?;
    }
    Ok(())
}

/// Whether `b` may start a character to escape (when `ESCAPE`) or drop: a control character
/// XML 1.0 forbids, the lead byte of U+FFFE and U+FFFF, or one of XML's five special
/// characters. Comparisons rather than a table lookup, so that a scan over many bytes at once
/// becomes vector instructions (see [`first_candidate`]).
#[inline(always)]
fn is_candidate<const ESCAPE: bool>(b: u8) -> bool {
    let forbidden_control = (b < 0x20) & (b != b'\t') & (b != b'\n') & (b != b'\r');
    let special = (b == b'&') | (b == b'<') | (b == b'>') | (b == b'"') | (b == b'\'');
    forbidden_control | (b == 0xEF) | (ESCAPE & special)
}

/// Where the first [`is_candidate`] byte of `bytes` is. Nearly all text is clean: blocks of
/// 32 bytes are looked at whole, without stopping at a candidate, and only the block holding
/// one is looked at a byte at a time.
#[inline(always)]
fn first_candidate<const ESCAPE: bool>(bytes: &[u8]) -> Option<usize> {
    let mut skipped = 0;
    for block in bytes.chunks_exact(32) {
        if block
            .iter()
            .fold(false, |any, &b| any | is_candidate::<ESCAPE>(b))
        {
            break;
        }
        skipped += block.len();
    }
    let at = bytes[skipped..]
        .iter()
        .position(|&b| is_candidate::<ESCAPE>(b))?;
    Some(skipped + at)
}

/// A character to replace: its position, what to write instead (nothing for a character XML
/// 1.0 forbids) and its length in bytes.
type Action = (usize, &'static str, usize);

/// The next character to replace from byte `from` on.
#[inline(always)]
fn next_action<const ESCAPE: bool>(bytes: &[u8], from: usize) -> Option<Action> {
    let mut i = from;
    loop {
        i += first_candidate::<ESCAPE>(bytes.get(i..)?)?;
        let action = match bytes[i] {
            b'&' => ("&amp;", 1),
            b'<' => ("&lt;", 1),
            b'>' => ("&gt;", 1),
            b'"' => ("&quot;", 1),
            b'\'' => ("&apos;", 1),
            // U+FFFE and U+FFFF are EF BF BE and EF BF BF; the input is valid UTF-8, so a 0xEF
            // lead byte has two continuation bytes after it.
            0xEF if bytes[i + 1] == 0xBF && bytes[i + 2] >= 0xBE => ("", 3),
            0xEF => {
                i += 3;
                continue;
            }
            _ => ("", 1),
        };
        return Some((i, action.0, action.1));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields_are_quoted_whole_and_guarded_on_request() {
        let field = |f: fn(&str, &mut dyn Write) -> io::Result<()>, input: &str| {
            let mut out = Vec::new();
            f(input, &mut out).unwrap();
            String::from_utf8(out).unwrap()
        };
        assert_eq!(field(csv_field_escape_fn, "a"), "\"a\"");
        assert_eq!(
            field(csv_field_escape_fn, "12\" pan, \"x\"\n"),
            "\"12\"\" pan, \"\"x\"\"\n\""
        );
        assert_eq!(field(csv_field_escape_fn, "=1+2"), "\"=1+2\"");
        assert_eq!(field(csv_guarded_field_escape_fn, "=1+2"), "\"'=1+2\"");
        assert_eq!(field(csv_guarded_field_escape_fn, "-20"), "\"-20\"");
        assert_eq!(
            field(csv_field_escape_fn, "a\0b\u{1b}c\r\n\td"),
            "\"abc\n\td\""
        );
    }
    use quick_xml::events::Event;
    use tera::{Context, Tera};

    const NASTY: &str = "a&b<c>d\"e'f ]]> g\u{0B}h 🔧 {{ 7*7 }}";

    #[test]
    fn xml_char_production() {
        for c in [
            '\t',
            '\n',
            '\r',
            ' ',
            '\u{D7FF}',
            '\u{E000}',
            '\u{FFFD}',
            '\u{10000}',
        ] {
            assert!(is_xml_char(c), "{c:?}");
        }
        for c in [
            '\0', '\u{08}', '\u{0B}', '\u{0C}', '\u{1F}', '\u{FFFE}', '\u{FFFF}',
        ] {
            assert!(!is_xml_char(c), "{c:?}");
        }
        // The byte scan must agree with the production for every character.
        for c in (0..0x11_0000).filter_map(char::from_u32) {
            let s = c.to_string();
            assert_eq!(strip_xml_forbidden(&s).is_empty(), !is_xml_char(c), "{c:?}");
        }
    }

    #[test]
    fn xml_text_escapes_and_drops() {
        assert_eq!(
            xml_text(NASTY),
            "a&amp;b&lt;c&gt;d&quot;e&apos;f ]]&gt; gh 🔧 {{ 7*7 }}"
        );
        assert_eq!(xml_text("\0\u{FFFE}x\u{FFFF}\u{FFFD}\u{1F}"), "x\u{FFFD}");
        assert_eq!(xml_text("tab\there\r\n"), "tab\there\r\n");
        assert!(matches!(
            xml_text("Akku-Bohrschrauber 18 V ✓"),
            Cow::Borrowed(_)
        ));
        assert!(matches!(xml_text(""), Cow::Borrowed(_)));
    }

    #[test]
    fn strip_only_drops() {
        assert_eq!(strip_xml_forbidden(NASTY), NASTY.replace('\u{0B}', ""));
        assert!(matches!(strip_xml_forbidden("a&b<c>"), Cow::Borrowed(_)));
    }

    #[test]
    fn xml_escape_fn_in_tera() {
        let mut tera = Tera::default();
        tera.set_escape_fn(xml_escape_fn);
        tera.autoescape_on(vec![".xml"]);
        tera.add_raw_template(
            "item.xml",
            r#"<item note="{{ x }}"><title>{{ x }}</title></item>"#,
        )
        .unwrap();
        let mut ctx = Context::new();
        ctx.insert("x", NASTY);
        let xml = tera.render("item.xml", &ctx).unwrap();
        let escaped = "a&amp;b&lt;c&gt;d&quot;e&apos;f ]]&gt; gh 🔧 {{ 7*7 }}";
        assert_eq!(
            xml,
            format!(r#"<item note="{escaped}"><title>{escaped}</title></item>"#)
        );

        let mut reader = quick_xml::Reader::from_str(&xml);
        let (mut text, mut note) = (String::new(), String::new());
        loop {
            match reader.read_event().unwrap() {
                Event::Start(e) if e.name().as_ref() == "item" => {
                    let attr = e.try_get_attribute("note").unwrap().unwrap();
                    note = attr
                        .normalized_value(quick_xml::XmlVersion::Implicit1_0)
                        .unwrap()
                        .into_owned();
                }
                Event::Text(t) => text.push_str(&t.xml10_content()),
                Event::GeneralRef(r) => {
                    text.push_str(&quick_xml::escape::unescape(&format!("&{};", &*r)).unwrap())
                }
                Event::Eof => break,
                _ => {}
            }
        }
        let expected = NASTY.replace('\u{0B}', "");
        assert_eq!(text, expected);
        assert_eq!(note, expected);
    }

    fn json(input: &str) -> String {
        let mut out = Vec::new();
        json_string_escape_fn(input, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn json_escapes() {
        assert_eq!(json("plain ü 🔧"), "plain ü 🔧");
        assert_eq!(
            json("\"\\\n\r\t\u{08}\u{0C}\0\u{1F}\u{7F}\u{2028}\u{2029}"),
            r#"\"\\\n\r\t\b\f\u0000\u001f"#.to_owned() + "\u{7F}" + r"\u2028\u2029"
        );
    }

    #[test]
    fn json_escape_fn_in_tera_round_trips() {
        let mut tera = Tera::default();
        tera.set_escape_fn(json_string_escape_fn);
        tera.autoescape_on(vec![".json"]);
        tera.add_raw_template("item.json", r#"{"x": "{{ x }}"}"#)
            .unwrap();
        let all_controls: String = (0u8..0x20).map(char::from).collect();
        for input in [
            NASTY,
            "",
            "\\\"\\",
            "</script><!-- \u{2028}\u{2029} \u{FEFF}",
            "line\r\nbreak\u{0B}",
            &all_controls,
        ] {
            let mut ctx = Context::new();
            ctx.insert("x", input);
            let rendered = tera.render("item.json", &ctx).unwrap();
            let parsed: serde_json::Value = serde_json::from_str(&rendered).unwrap();
            assert_eq!(parsed["x"], input, "{rendered}");
        }
    }

    /// Compares the byte scans with char-by-char reference versions on pseudo-random strings
    /// built from characters next to every boundary the scans test.
    #[test]
    fn byte_scans_match_reference() {
        const ALPHABET: &[char] = &[
            'a', '&', '<', '>', '"', '\'', '\\', '\0', '\u{08}', '\t', '\n', '\u{0B}', '\r',
            '\u{1F}', ' ', '\u{7F}', 'é', '€', '\u{2027}', '\u{2028}', '\u{2029}', '\u{202A}',
            '\u{F000}', '\u{FFFD}', '\u{FFFE}', '\u{FFFF}', '🔧',
        ];
        let mut seed = 0x2545_f491_4f6c_dd1d_u64;
        for _ in 0..5_000 {
            seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            let len = (seed >> 59) as usize;
            // Clean runs of 0 to 63 bytes before the mix, so that the scans' blocks of 32
            // bytes meet a candidate at every position of a block.
            let clean_run = "a".repeat((seed & 63) as usize);
            let input: String = (0..len)
                .map(|i| ALPHABET[((seed >> (i * 2 % 50)) as usize) % ALPHABET.len()])
                .collect();
            let input = format!("{clean_run}{input}");

            let xml: String = input
                .chars()
                .filter(|&c| is_xml_char(c))
                .map(|c| match c {
                    '&' => "&amp;".into(),
                    '<' => "&lt;".into(),
                    '>' => "&gt;".into(),
                    '"' => "&quot;".into(),
                    '\'' => "&apos;".into(),
                    c => c.to_string(),
                })
                .collect();
            assert_eq!(xml_text(&input), xml, "{input:?}");
            let mut written = Vec::new();
            xml_escape_fn(&input, &mut written).unwrap();
            assert_eq!(String::from_utf8(written).unwrap(), xml, "{input:?}");
            let stripped: String = input.chars().filter(|&c| is_xml_char(c)).collect();
            assert_eq!(strip_xml_forbidden(&input), stripped, "{input:?}");

            let quoted = serde_json::to_string(&input).unwrap();
            let reference = quoted[1..quoted.len() - 1]
                .replace('\u{2028}', "\\u2028")
                .replace('\u{2029}', "\\u2029");
            assert_eq!(json(&input), reference, "{input:?}");
        }
    }

    #[test]
    fn formula_guard() {
        let guarded = [
            (
                r#"=HYPERLINK("http://x","y")"#,
                r#"'=HYPERLINK("http://x","y")"#,
            ),
            ("-20%", "'-20%"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\t=1", "'\t=1"),
            ("\r=1", "'\r=1"),
            ("\n=1", "'\n=1"),
            ("+", "'+"),
            ("-", "'-"),
            ("-.", "'-."),
            ("+1+2", "'+1+2"),
            ("-1.5.3", "'-1.5.3"),
            ("=1+2\";=1+2", "'=1+2\";=1+2"),
        ];
        for (cell, expected) in guarded {
            assert_eq!(guard_formula(cell), expected);
        }
        for cell in [
            "-20", "+3.5", "-0,5", "-.5", "+7.", "42", "Drill", "", "1=1", "a-b",
        ] {
            assert!(
                matches!(guard_formula(cell), Cow::Borrowed(c) if c == cell),
                "{cell}"
            );
        }
    }
}
