//! Keeps credentials out of every message pimfeed prints or writes.
//!
//! A server that fails often echoes the request back: the `Authorization` header, a form body,
//! a URL. What comes back is rarely the secret as it was sent. A basic-auth password travels as
//! `Basic base64(user:password)`; a form body percent-encodes it; a JSON error page escapes `/`
//! as `\/`. A [`Redactor`] therefore knows every secret in each of those spellings, and in each
//! combination of them (the base64 of a basic-auth pair, JSON-escaped), and replaces them all
//! with `***`.
//!
//! Redact whole texts before cutting them: a secret cut in half by an excerpt is no longer
//! recognisable, and all but its last characters would leak.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

/// What a secret is replaced with.
pub const MASK: &str = "***";

/// Shorter values are not masked: a two-letter user name would mask half of every message.
const SHORTEST_SECRET: usize = 3;

/// RFC 3986's unreserved characters stay as they are (what most clients send).
const COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// Every spelling of every secret registered so far.
#[derive(Debug, Default, Clone)]
pub struct Redactor {
    /// Longest first, so a spelling that contains another is replaced whole.
    spellings: Vec<String>,
}

impl Redactor {
    pub fn new() -> Self {
        Self::default()
    }

    /// A credential sent as it is: a token, a password, an API key.
    pub fn add(&mut self, secret: &str) {
        if secret.chars().count() < SHORTEST_SECRET {
            return;
        }
        for encoded in encodings(secret) {
            self.add_spellings(&encoded);
        }
    }

    /// A basic-auth pair: each half alone, and `user:password` as the header carries it.
    pub fn add_basic(&mut self, user: &str, password: &str) {
        self.add(user);
        self.add(password);
        self.add(&format!("{user}:{password}"));
    }

    /// The text with every spelling of every secret replaced by [`MASK`].
    pub fn redact(&self, text: &str) -> String {
        let mut text = text.to_string();
        for spelling in &self.spellings {
            if text.contains(spelling.as_str()) {
                text = text.replace(spelling.as_str(), MASK);
            }
        }
        text
    }

    /// `encoded` as each transport writes it: as it is, JSON-escaped, percent-encoded, HTML.
    fn add_spellings(&mut self, encoded: &str) {
        for spelling in transports(encoded) {
            if spelling.chars().count() >= SHORTEST_SECRET && !self.spellings.contains(&spelling) {
                self.spellings.push(spelling);
            }
        }
        self.spellings
            .sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
    }
}

/// The secret and its base64 forms (a basic-auth header, a token some servers log encoded).
fn encodings(secret: &str) -> Vec<String> {
    let bytes = secret.as_bytes();
    vec![
        secret.to_string(),
        STANDARD.encode(bytes),
        STANDARD_NO_PAD.encode(bytes),
        URL_SAFE.encode(bytes),
        URL_SAFE_NO_PAD.encode(bytes),
    ]
}

/// How a value comes back inside a response: raw, in a JSON string, in a URL or form, in HTML.
fn transports(value: &str) -> Vec<String> {
    let json = serde_json::to_string(value).unwrap_or_default();
    let json = json
        .strip_prefix('"')
        .and_then(|s| s.strip_suffix('"'))
        .unwrap_or(value)
        .to_string();
    let every_byte = utf8_percent_encode(value, NON_ALPHANUMERIC).to_string();
    let component = utf8_percent_encode(value, COMPONENT).to_string();
    let mut spellings = vec![
        value.to_string(),
        json.replace('/', "\\/"),
        json,
        lowercase_escapes(&every_byte),
        lowercase_escapes(&component),
        component.replace("%20", "+"),
        every_byte,
        component,
        html_escaped(value),
    ];
    spellings.dedup();
    spellings
}

/// `%2F` as `%2f`: both are valid, and servers differ in which they write.
fn lowercase_escapes(encoded: &str) -> String {
    let mut out = String::with_capacity(encoded.len());
    let mut chars = encoded.chars();
    while let Some(c) = chars.next() {
        out.push(c);
        if c == '%' {
            out.extend(chars.by_ref().take(2).map(|h| h.to_ascii_lowercase()));
        }
    }
    out
}

fn html_escaped(value: &str) -> String {
    value
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn basic(user: &str, password: &str) -> Redactor {
        let mut redactor = Redactor::new();
        redactor.add_basic(user, password);
        redactor
    }

    #[test]
    fn a_basic_auth_header_is_masked_in_every_spelling() {
        let redactor = basic("feeds", "p/ss+w?rd");
        let header = format!("Basic {}", STANDARD.encode("feeds:p/ss+w?rd"));
        let json_escaped = serde_json::to_string(&header).unwrap().replace('/', "\\/");
        for echoed in [
            header.clone(),
            json_escaped,
            utf8_percent_encode(&header, NON_ALPHANUMERIC).to_string(),
            "password=p%2Fss%2Bw%3Frd".to_string(),
            "password=p%2fss%2bw%3frd".to_string(),
            "p\\/ss+w?rd".to_string(),
        ] {
            let shown = redactor.redact(&format!("error: {echoed} was refused"));
            assert!(!shown.contains("ss+w"), "{shown}");
            assert!(!shown.contains("c3Mrd"), "{shown}");
            assert!(
                !shown.contains("%2Bw") && !shown.contains("%2bw"),
                "{shown}"
            );
            assert!(shown.contains(MASK), "{shown}");
        }
    }

    #[test]
    fn the_longest_spelling_goes_first() {
        let redactor = basic("user", "secret");
        let encoded = STANDARD.encode("user:secret");
        assert_eq!(redactor.redact(&format!("Basic {encoded}")), "Basic ***");
    }

    #[test]
    fn short_values_are_left_alone() {
        let redactor = basic("ab", "secret");
        assert_eq!(redactor.redact("ab secret"), "ab ***");
    }
}
