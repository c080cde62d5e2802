//! A product as a channel shows it, read back from the item the feed holds, for `serve`'s
//! product pages: the layouts the presets give their items (a Google Shopping result card, a
//! bol.com and an Amazon listing, pretty-printed JSON).

use serde::Serialize;
use serde_json::Value;

/// What the product page shows above a channel's raw item.
#[derive(Debug, Serialize)]
#[serde(tag = "layout", rename_all = "kebab-case")]
pub enum Preview {
    Google(Card),
    Bol(Card),
    Amazon(Card),
    /// Pretty-printed JSON (the webshop's).
    Json {
        text: String,
    },
    /// No layout of its own: the raw item says it all.
    Raw,
}

/// The fields a listing shows, whichever channel it is.
#[derive(Debug, Default, Serialize)]
pub struct Card {
    pub title: String,
    pub link: String,
    /// The shop's host, as Google shows it under the title.
    pub host: String,
    pub image: String,
    pub price: String,
    /// The price struck through when there is a sale price.
    pub was: String,
    pub availability: String,
    pub brand: String,
    pub description: String,
    pub bullets: Vec<String>,
    /// Label and value pairs: EAN, delivery, stock, …
    pub facts: Vec<(String, String)>,
}

/// Pretty-printed JSON, or the raw item when it is not JSON.
pub(crate) fn pretty_json(item: &str) -> Preview {
    serde_json::from_str::<Value>(item)
        .ok()
        .and_then(|value| serde_json::to_string_pretty(&value).ok())
        .map(|text| Preview::Json { text })
        .unwrap_or(Preview::Raw)
}

/// A JSON value as the text a shopper reads: strings without their quotes, nothing for null.
pub(crate) fn text_of(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}
