//! An `amazon-listings` message as Amazon lists it.

use serde_json::Value;

use crate::presets::preview::{Card, text_of};

/// The card of one message: an offer on an ASIN, or a full listing with its texts.
pub(crate) fn amazon(message: &Value) -> Card {
    let attributes = &message["attributes"];
    let first = |name: &str, field: &str| {
        attributes[name]
            .get(0)
            .map(|v| text_of(&v[field]))
            .unwrap_or_default()
    };
    let price = attributes
        .pointer("/purchasable_offer/0/our_price/0/schedule/0/value_with_tax")
        .map(text_of)
        .unwrap_or_default();
    let currency = attributes
        .pointer("/purchasable_offer/0/currency")
        .map(text_of)
        .unwrap_or_default();
    let asin = first("merchant_suggested_asin", "value");
    let mut facts = vec![
        ("SKU".into(), text_of(&message["sku"])),
        ("listing".into(), text_of(&message["requirements"])),
        ("product type".into(), text_of(&message["productType"])),
        ("condition".into(), first("condition_type", "value")),
    ];
    if !asin.is_empty() {
        facts.push(("ASIN".into(), asin));
    }
    let identifier = first("externally_assigned_product_identifier", "value");
    if !identifier.is_empty() {
        facts.push(("EAN/GTIN".into(), identifier));
    }
    let quantity = attributes
        .pointer("/fulfillment_availability/0/quantity")
        .map(text_of)
        .unwrap_or_default();
    Card {
        title: first("item_name", "value"),
        image: first("main_product_image_locator", "media_location"),
        price: format!("{currency} {price}").trim().to_string(),
        availability: match quantity.as_str() {
            "0" | "" => "currently unavailable".to_string(),
            n => format!("in stock ({n})"),
        },
        brand: first("brand", "value"),
        description: first("product_description", "value"),
        bullets: attributes["bullet_point"]
            .as_array()
            .map(|list| list.iter().map(|b| text_of(&b["value"])).collect())
            .unwrap_or_default(),
        facts,
        ..Card::default()
    }
}
