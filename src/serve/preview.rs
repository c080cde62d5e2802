//! A product as a channel shows it, read back from the item the feed holds: each preset gives
//! its items a layout of its own (`PresetDef::preview`); custom JSON channels are
//! pretty-printed, and the rest shown raw.

pub use crate::presets::preview::{Card, Preview};

use crate::presets::Preset;

/// The preview of `item` from a channel of `kind` (its preset, or its custom format).
/// `image` is the product's first image, for layouts whose item has none (bol's offer).
pub fn of(kind: &str, item: &str, image: Option<&str>) -> Preview {
    let item = item.trim().trim_end_matches(',');
    match Preset::from_name(kind) {
        Some(preset) => preset.preview(item, image),
        None if kind == "json" || kind == "jsonl" => crate::presets::preview::pretty_json(item),
        None => Preview::Raw,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_kind_gets_its_layout() {
        let google = "<item>\n<g:id>A-1</g:id>\n<g:title>Drill</g:title>\n</item>\n";
        assert!(matches!(
            of("google-merchant", google, None),
            Preview::Google(_)
        ));
        assert!(matches!(
            of("google-merchant-inventory", google, None),
            Preview::Raw
        ));
        assert!(matches!(
            of("bol-offers", "{\"ean\":\"1\"},", None),
            Preview::Bol(_)
        ));
        assert!(matches!(
            of("amazon-listings", "{\"sku\":\"A\"}", None),
            Preview::Amazon(_)
        ));
        assert!(matches!(
            of("webshop-json", "{\"a\":1}", None),
            Preview::Json { .. }
        ));
        assert!(matches!(
            of("jsonl", "{\"a\":1}", None),
            Preview::Json { .. }
        ));
        assert!(matches!(of("bol-offers", "not json", None), Preview::Raw));
        assert!(matches!(of("csv", "a,b", None), Preview::Raw));
    }
}
