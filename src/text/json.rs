//! JSON written straight as bytes: strings, numbers and `serde_json::Value`s, each exactly the
//! bytes serde_json writes for the same value (compact, objects in insertion order, numbers as
//! they were read: pimfeed's serde_json keeps `preserve_order` and `arbitrary_precision`).
//!
//! The last build's product lines and the JSON channels (webshop, bol, Amazon) write their
//! lines and items with these instead of serde_json's generic serialiser. The bytes must never
//! differ from serde_json's: `refresh`, `serve` and `diff` read the lines back with serde_json,
//! the build cache copies lines and items from one build into the next, and a feed must not
//! change because of how it was written (the tests below compare every kind of value, and each
//! byte that needs an escape at every offset in a word). Strings are most of the bytes (the
//! descriptions), so text that needs no escape is skipped eight bytes at a time, and the first
//! byte that does is found in the word without looking at the bytes before it one by one.

use serde_json::Value;

/// Appends `text` as a JSON string, escaped as serde_json escapes it: `\"`, `\\`, the short
/// escapes `\b \t \n \f \r`, `\u00XX` for the other control characters, everything else
/// (DEL, `/`, any non-ASCII character) as it is.
pub(crate) fn write_str(out: &mut Vec<u8>, text: &str) {
    let bytes = text.as_bytes();
    out.reserve(bytes.len() + 2);
    out.push(b'"');
    let mut copied = 0;
    let mut at = 0;
    while let Some(found) = next_escape(bytes, at) {
        out.extend_from_slice(&bytes[copied..found]);
        write_escape(out, bytes[found]);
        copied = found + 1;
        at = found + 1;
    }
    out.extend_from_slice(&bytes[copied..]);
    out.push(b'"');
}

/// Appends `value` as serde_json writes it.
pub(crate) fn write_value(out: &mut Vec<u8>, value: &Value) {
    match value {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(true) => out.extend_from_slice(b"true"),
        Value::Bool(false) => out.extend_from_slice(b"false"),
        // Numbers keep the digits they were read with (`arbitrary_precision`).
        Value::Number(number) => out.extend_from_slice(number.as_str().as_bytes()),
        Value::String(text) => write_str(out, text),
        Value::Array(items) => array(out, items, write_value),
        Value::Object(map) => object(out, map.iter().map(|(k, v)| (k.as_str(), v)), write_value),
    }
}

/// Appends a JSON array of `items`, each written by `write`.
pub(crate) fn array<T>(
    out: &mut Vec<u8>,
    items: impl IntoIterator<Item = T>,
    mut write: impl FnMut(&mut Vec<u8>, T),
) {
    out.push(b'[');
    for (index, item) in items.into_iter().enumerate() {
        if index > 0 {
            out.push(b',');
        }
        write(out, item);
    }
    out.push(b']');
}

/// Appends a JSON object of `(key, value)` members in the order given, each value written by
/// `write`.
pub(crate) fn object<'k, T>(
    out: &mut Vec<u8>,
    members: impl IntoIterator<Item = (&'k str, T)>,
    mut write: impl FnMut(&mut Vec<u8>, T),
) {
    out.push(b'{');
    for (index, (key, value)) in members.into_iter().enumerate() {
        if index > 0 {
            out.push(b',');
        }
        write_str(out, key);
        out.push(b':');
        write(out, value);
    }
    out.push(b'}');
}

/// Appends `number` in decimal, as serde_json writes an unsigned integer.
pub(crate) fn write_u64(out: &mut Vec<u8>, mut number: u64) {
    let mut digits = [0u8; 20];
    let mut start = digits.len();
    loop {
        start -= 1;
        digits[start] = b'0' + (number % 10) as u8;
        number /= 10;
        if number == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[start..]);
}

/// Where the first byte at or after `from` that needs an escape is.
fn next_escape(bytes: &[u8], from: usize) -> Option<usize> {
    let mut at = from;
    while let Some(word) = bytes.get(at..at + 8) {
        let word = u64::from_le_bytes(word.try_into().expect("eight bytes"));
        let flagged = needs_escape(word);
        if flagged != 0 {
            // The lowest flagged byte is exact (a false flag only ever sits above a true
            // one, where a borrow ran on), and the bytes are in little-endian order.
            return Some(at + (flagged.trailing_zeros() / 8) as usize);
        }
        at += 8;
    }
    bytes[at..]
        .iter()
        .position(|&byte| ESCAPE[usize::from(byte)] != 0)
        .map(|offset| at + offset)
}

/// The high bit of each byte of `word` that is a control character, a quote or a backslash
/// (the classic "has a byte less than / equal to" tests), with possible false flags above the
/// lowest true one; 0 exactly when no byte of the word needs an escape.
fn needs_escape(word: u64) -> u64 {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    let below_space = word.wrapping_sub(ONES * 0x20) & !word & HIGHS;
    let quotes = word ^ (ONES * u64::from(b'"'));
    let quote = quotes.wrapping_sub(ONES) & !quotes & HIGHS;
    let backslashes = word ^ (ONES * u64::from(b'\\'));
    let backslash = backslashes.wrapping_sub(ONES) & !backslashes & HIGHS;
    below_space | quote | backslash
}

/// What a byte becomes in a JSON string, as serde_json writes it: 0 for itself, `u` for
/// `\u00XX`, else the letter after the backslash.
const ESCAPE: [u8; 256] = {
    let mut table = [0u8; 256];
    let mut byte = 0;
    while byte < 0x20 {
        table[byte] = b'u';
        byte += 1;
    }
    table[0x08] = b'b';
    table[0x09] = b't';
    table[0x0A] = b'n';
    table[0x0C] = b'f';
    table[0x0D] = b'r';
    table[b'"' as usize] = b'"';
    table[b'\\' as usize] = b'\\';
    table
};

fn write_escape(out: &mut Vec<u8>, byte: u8) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    match ESCAPE[usize::from(byte)] {
        b'u' => out.extend_from_slice(&[
            b'\\',
            b'u',
            b'0',
            b'0',
            HEX[usize::from(byte >> 4)],
            HEX[usize::from(byte & 0xF)],
        ]),
        letter => out.extend_from_slice(&[b'\\', letter]),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn written_str(text: &str) -> Vec<u8> {
        let mut out = Vec::new();
        write_str(&mut out, text);
        out
    }

    #[test]
    fn every_byte_that_needs_an_escape_is_escaped_at_every_offset_in_a_word() {
        let specials: Vec<char> = (0u8..0x20)
            .map(char::from)
            .chain([
                '"', '\\', '\u{7f}', '/', 'é', '€', '😀', '\u{2028}', '\u{fffd}',
            ])
            .collect();
        for special in specials {
            for offset in 0..17 {
                for tail in [0, 1, 7, 8, 9] {
                    let text = format!("{}{special}{}", "a".repeat(offset), "b".repeat(tail));
                    assert_eq!(
                        written_str(&text),
                        serde_json::to_vec(&text).unwrap(),
                        "{text:?}"
                    );
                }
            }
        }
    }

    /// Bytes next to the ones that need an escape (`!` and `#` beside the quote, `[` and `]`
    /// beside the backslash, space above the control characters, high bytes of UTF-8) are
    /// where a word-at-a-time test could flag a byte it should not, or miss one after a flag.
    #[test]
    fn runs_of_neighbouring_and_escaped_bytes_are_written_as_serde_json_writes_them() {
        let alphabet = [
            "\"", "\\", "\n", "\u{1f}", "\u{0}", "!", "#", "[", "]", " ", "a", "é", "€", "😀",
        ];
        // Every string of up to three pieces, then each at every offset in a word.
        let mut texts = vec![String::new()];
        for _ in 0..3 {
            let longer: Vec<String> = texts
                .iter()
                .flat_map(|text| alphabet.iter().map(move |piece| format!("{text}{piece}")))
                .collect();
            texts.extend(longer);
        }
        for text in &texts {
            for offset in [0, 3, 7, 8, 13] {
                let text = format!("{}{text}{}", "x".repeat(offset), "y".repeat(offset));
                assert_eq!(
                    written_str(&text),
                    serde_json::to_vec(&text).unwrap(),
                    "{text:?}"
                );
            }
        }
        let long = "Kop \"één\"\t\\ 😀\r\n".repeat(200);
        assert_eq!(written_str(&long), serde_json::to_vec(&long).unwrap());
    }

    #[test]
    fn every_kind_of_value_is_written_as_serde_json_writes_it() {
        let numbers: Value = serde_json::from_str(
            "[0, -1, 18, 1.50, 1e3, 2.5E-7, 12345678901234567890123, -0.0, 3.141592653589793238]",
        )
        .unwrap();
        let values = [
            Value::Null,
            json!(true),
            json!(false),
            numbers,
            json!(""),
            json!({}),
            json!([]),
            json!([[], {}, [null, [true]]]),
            json!({"z": 1, "a": {"nl-NL": "voor \"x\"", "en-GB": "front\u{7}"}, "m": [1, "2"]}),
            json!([{"url": "https://x/a.jpg", "alt": {"nl-NL": "voor", "en-GB": "front"}}]),
            json!({"nl-NL": "# Kop\n\n- één\n- \"twee\"\t\\drie\r\n", "k\"ey\n": ""}),
        ];
        for value in &values {
            let mut ours = Vec::new();
            write_value(&mut ours, value);
            assert_eq!(
                String::from_utf8_lossy(&ours),
                String::from_utf8_lossy(&serde_json::to_vec(value).unwrap())
            );
        }
    }

    #[test]
    fn unsigned_numbers_are_written_as_serde_json_writes_them() {
        for number in [
            0,
            1,
            9,
            10,
            99,
            4_000_000_000,
            u64::from(u32::MAX),
            u64::MAX,
        ] {
            let mut ours = Vec::new();
            write_u64(&mut ours, number);
            assert_eq!(ours, serde_json::to_vec(&number).unwrap(), "{number}");
        }
    }
}
