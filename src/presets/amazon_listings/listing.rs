//! The `amazon-listings` preset: an SP-API JSON_LISTINGS_FEED document, a header and one
//! UPDATE message per product, valid against Amazon's published schema (a copy is in
//! `tests/fixtures/vendor/amazon/`; `docs/src/channels/amazon-listings.md` is the reference).
//!
//! A product with an `asin` (or every product, with `offer_only = true`) is an offer on a
//! product page Amazon already has (`LISTING_OFFER_ONLY`): ASIN, condition, price and
//! quantity. Every other product is a full listing under its family's product type, with its
//! texts, identifier and images. Attribute values are Amazon's arrays of objects, each with
//! the marketplace and, for texts, the language. A feed holds at most 10,000 messages; the
//! pipeline starts a new document when one is full, and numbers the messages of each
//! document from 1 as it writes them ([`write_numbered`]).

use std::io::{self, Write};
use std::str::FromStr;

use serde_json::{Map, Number, Value, json};

use super::limits as amazon;
use super::settings::AmazonSettings;
use crate::channels::Channel;
use crate::config::Condition;
use crate::gtin;
use crate::merge::ProductView;
use crate::presets::view::attribute_text;

/// Attributes a full listing takes under the same name.
pub(super) const LISTING_ATTRIBUTES: [&str; 3] = ["color", "size", "material"];

/// Every attribute [`message`] and the gate read from a view.
pub(super) fn attributes_read(channel: &Channel) -> crate::merge::AttributeNeeds {
    let mapped = channel
        .settings
        .get::<AmazonSettings>()
        .into_iter()
        .flat_map(|settings| settings.attributes.values())
        .filter_map(|mapping| mapping.attribute.as_deref());
    crate::merge::AttributeNeeds::named(
        [amazon::ASIN_ATTRIBUTE]
            .into_iter()
            .chain(LISTING_ATTRIBUTES)
            .chain(mapped),
    )
}

/// How a product goes to Amazon.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Listing {
    /// An offer on the product page of this ASIN.
    OfferOnly { asin: String },
    /// A product page of our own, under this product type (when the family has one).
    Full { product_type: Option<String> },
}

/// Whether `product` is an offer on an existing ASIN or a full listing.
pub(super) fn listing(view: &ProductView, settings: &AmazonSettings) -> Listing {
    match attribute_text(view, amazon::ASIN_ATTRIBUTE) {
        Some(asin) => Listing::OfferOnly { asin },
        None if settings.offer_only => Listing::OfferOnly {
            asin: String::new(),
        },
        None => Listing::Full {
            product_type: settings.product_types.get(&view.family).cloned(),
        },
    }
}

/// An ASIN is ten capital letters and digits (an ISBN-10 for books).
pub(super) fn is_asin(text: &str) -> bool {
    text.len() == amazon::ASIN_LENGTH
        && text
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
}

/// Amazon's `externally_assigned_product_identifier` type for a checked GTIN.
pub(super) fn identifier_type(gtin: &str) -> &'static str {
    match gtin.len() {
        12 => "upc",
        14 => "gtin",
        _ => "ean",
    }
}

pub(super) fn condition_type(condition: Condition) -> &'static str {
    match condition {
        Condition::New => "new_new",
        Condition::Refurbished => "refurbished_refurbished",
        Condition::Used => "used_good",
    }
}

fn settings(channel: &Channel) -> io::Result<&AmazonSettings> {
    channel
        .settings
        .get::<AmazonSettings>()
        .ok_or_else(|| io::Error::other("amazon-listings channel without Amazon settings"))
}

/// `{"header":{…},"messages":[`
pub(super) fn header(channel: &Channel, out: &mut dyn Write) -> io::Result<()> {
    let settings = settings(channel)?;
    let header = json!({
        "sellerId": settings.seller_id,
        "version": "2.0",
        "issueLocale": settings.issue_locale,
    });
    write!(out, "{{\"header\":{header},\"messages\":[")
}

/// One message, without its `messageId` (added by [`write_numbered`]), on a line of its own.
pub(super) fn item(view: &ProductView, channel: &Channel, out: &mut Vec<u8>) -> io::Result<()> {
    let settings = settings(channel)?;
    out.push(b'\n');
    super::message_bytes::write_message(view, channel.currency.as_str(), settings, out);
    Ok(())
}

/// The message of one product (without `messageId`); the gate checks its `attributes`
/// against the product type's definition. Feeds get the same bytes from
/// [`super::message_bytes::write_message`], which writes them without building the values.
pub(super) fn message(view: &ProductView, currency: &str, settings: &AmazonSettings) -> Value {
    let marketplace = settings.marketplace_id.as_str();
    let language = settings.issue_locale.as_str();
    let text = |value: &str| json!({ "value": value, "language_tag": language, "marketplace_id": marketplace });
    let mut attributes = Map::new();
    let listing = listing(view, settings);
    let (product_type, requirements) = match &listing {
        Listing::OfferOnly { asin } => {
            attributes.insert(
                "merchant_suggested_asin".into(),
                json!([{ "value": asin, "marketplace_id": marketplace }]),
            );
            let product_type = settings
                .product_types
                .get(&view.family)
                .map_or(amazon::OFFER_ONLY_PRODUCT_TYPE, String::as_str);
            (product_type.to_string(), "LISTING_OFFER_ONLY")
        }
        Listing::Full { product_type } => {
            if let Some(title) = &view.title {
                attributes.insert("item_name".into(), json!([text(title)]));
            }
            if let Some(brand) = &view.brand {
                attributes.insert("brand".into(), json!([text(brand)]));
            }
            if !view.bullets.is_empty() {
                let bullets: Vec<Value> = view.bullets.iter().map(|b| text(b)).collect();
                attributes.insert("bullet_point".into(), Value::Array(bullets));
            }
            if let Some(description) = &view.description_text {
                attributes.insert("product_description".into(), json!([text(description)]));
            }
            if let Some(code) = view
                .erp
                .gtin
                .as_deref()
                .and_then(|g| gtin::validate(g).ok())
            {
                attributes.insert(
                    "externally_assigned_product_identifier".into(),
                    json!([{
                        "type": identifier_type(&code),
                        "value": code,
                        "marketplace_id": marketplace,
                    }]),
                );
            }
            for name in LISTING_ATTRIBUTES {
                if let Some(value) = attribute_text(view, name) {
                    attributes.insert(name.into(), json!([text(&value)]));
                }
            }
            let mut images = view.images.iter().map(|i| i.url.as_str());
            if let Some(main) = images.next() {
                attributes.insert(
                    "main_product_image_locator".into(),
                    json!([{ "media_location": main, "marketplace_id": marketplace }]),
                );
            }
            for (index, url) in images.take(amazon::OTHER_IMAGES_MAX).enumerate() {
                attributes.insert(
                    format!("other_product_image_locator_{}", index + 1),
                    json!([{ "media_location": url, "marketplace_id": marketplace }]),
                );
            }
            for (name, mapping) in &settings.attributes {
                if let Some(value) = mapping.value(view) {
                    let entry = match mapping.localized {
                        true => text(&value),
                        false => json!({ "value": value, "marketplace_id": marketplace }),
                    };
                    attributes.insert(name.clone(), json!([entry]));
                }
            }
            (product_type.clone().unwrap_or_default(), "LISTING")
        }
    };
    attributes.insert(
        "condition_type".into(),
        json!([{ "value": condition_type(settings.condition), "marketplace_id": marketplace }]),
    );
    // Older product type definitions refuse `audience`; without one, it is sent.
    let audience = settings
        .definitions
        .get(&product_type)
        .is_none_or(|definition| definition.offer_audience);
    attributes.insert(
        "purchasable_offer".into(),
        purchasable_offer(view, currency, marketplace, audience),
    );
    attributes.insert(
        "fulfillment_availability".into(),
        json!([{ "fulfillment_channel_code": "DEFAULT", "quantity": view.erp.stock.max(0) }]),
    );
    json!({
        "sku": view.sku,
        "operationType": "UPDATE",
        "productType": product_type,
        "requirements": requirements,
        "attributes": attributes,
    })
}

/// The list price in `our_price` and, while there is one, the sale price in
/// `discounted_price`, which Amazon shows against the struck-through list price. The ERP has
/// no sale dates: the schedule Amazon requires is left open, and the sale ends when the ERP
/// ends it, since the next feed's UPDATE replaces every attribute.
fn purchasable_offer(
    view: &ProductView,
    currency: &str,
    marketplace: &str,
    audience: bool,
) -> Value {
    let number =
        |text: &str| Number::from_str(text).map_or(Value::String(text.into()), Value::Number);
    let mut offer = json!({
        "currency": currency,
        "marketplace_id": marketplace,
        "our_price": [{ "schedule": [{ "value_with_tax": number(&view.erp.price) }] }],
    });
    if audience {
        offer["audience"] = "ALL".into();
    }
    if let Some(sale) = crate::presets::view::sale_price(view) {
        offer["discounted_price"] = json!([{ "schedule": [{
            "value_with_tax": number(sale),
            "start_at": amazon::OPEN_SALE_START,
            "end_at": amazon::OPEN_SALE_END,
        }] }]);
    }
    json!([offer])
}

/// Writes a rendered message with `"messageId": number` as its first member.
pub(super) fn write_numbered(out: &mut dyn Write, number: usize, bytes: &[u8]) -> io::Result<()> {
    let start = bytes
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(bytes.len());
    if bytes.get(start) != Some(&b'{') {
        // Not an object: written as it is, and the parse-back check names the problem.
        return out.write_all(bytes);
    }
    out.write_all(&bytes[..=start])?;
    write!(out, "\"messageId\":{number}")?;
    let rest = &bytes[start + 1..];
    let empty = rest.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'}');
    if !empty {
        out.write_all(b",")?;
    }
    out.write_all(rest)
}

/// The message as rendered, from the message as [`write_numbered`] wrote it: its bytes with
/// the `messageId` taken out again, so a build can renumber a message it copies from the last
/// build's feed.
pub(super) fn strip_number(written: &[u8]) -> std::borrow::Cow<'_, [u8]> {
    let Some(open) = written.iter().position(|b| !b.is_ascii_whitespace()) else {
        return written.into();
    };
    let key = b"\"messageId\":";
    let after_open = &written[open + 1..];
    if written[open] != b'{' || !after_open.starts_with(key) {
        return written.into();
    }
    let digits = after_open[key.len()..]
        .iter()
        .take_while(|b| b.is_ascii_digit())
        .count();
    let mut rest = &after_open[key.len() + digits..];
    if let Some(stripped) = rest.strip_prefix(b",") {
        rest = stripped;
    }
    let mut rendered = Vec::with_capacity(written.len());
    rendered.extend_from_slice(&written[..=open]);
    rendered.extend_from_slice(rest);
    rendered.into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stripped_message_renumbers_to_the_same_bytes() {
        for rendered in [
            "\n{\"sku\":\"A\",\"operationType\":\"UPDATE\"}",
            "{}",
            "  { }",
            "{ \"sku\": \"B\" }",
            "[1]",
        ] {
            let once = numbered(7, rendered);
            let stripped = strip_number(once.as_bytes());
            assert_eq!(std::str::from_utf8(&stripped).unwrap(), rendered);
            let mut again = Vec::new();
            write_numbered(&mut again, 10_001, &stripped).unwrap();
            assert_eq!(
                String::from_utf8(again).unwrap(),
                numbered(10_001, rendered)
            );
        }
    }

    fn numbered(number: usize, text: &str) -> String {
        let mut out = Vec::new();
        write_numbered(&mut out, number, text.as_bytes()).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn message_ids_go_first() {
        assert_eq!(
            numbered(7, "\n{\"sku\":\"A\"}"),
            "\n{\"messageId\":7,\"sku\":\"A\"}"
        );
        assert_eq!(numbered(1, " { } "), " {\"messageId\":1 } ");
        assert_eq!(numbered(1, "[1]"), "[1]");
    }

    #[test]
    fn asins_and_identifier_types() {
        assert!(is_asin("B0EXAMPLE1"));
        assert!(is_asin("0316769487"));
        assert!(!is_asin("b0example1"));
        assert!(!is_asin("B0EXAMPLE"));
        assert_eq!(identifier_type("4006381333931"), "ean");
        assert_eq!(identifier_type("012000007897"), "upc");
        assert_eq!(identifier_type("10614141000415"), "gtin");
    }
}
