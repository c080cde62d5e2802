//! A product as a channel shows it, read back from the item the feed holds: a Google
//! Shopping result card, a bol.com and an Amazon listing, the webshop's JSON.

use std::collections::HashMap;

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

/// The preview of `item` from a channel of `kind` (its preset, or its custom format).
/// `image` is the product's first image, for layouts whose item has none (bol's offer).
pub fn of(kind: &str, item: &str, image: Option<&str>) -> Preview {
    let item = item.trim().trim_end_matches(',');
    match kind {
        "google-merchant" => Preview::Google(google(item)),
        "bol-offers" => serde_json::from_str(item)
            .map(|offer| Preview::Bol(bol(&offer, image)))
            .unwrap_or(Preview::Raw),
        "amazon-listings" => serde_json::from_str(item)
            .map(|message| Preview::Amazon(amazon(&message)))
            .unwrap_or(Preview::Raw),
        "webshop-json" | "json" | "jsonl" => serde_json::from_str::<Value>(item)
            .ok()
            .and_then(|value| serde_json::to_string_pretty(&value).ok())
            .map(|text| Preview::Json { text })
            .unwrap_or(Preview::Raw),
        _ => Preview::Raw,
    }
}

fn google(item: &str) -> Card {
    let fields = xml_fields(item);
    let get = |name: &str| fields.get(name).cloned().unwrap_or_default();
    let link = get("link");
    let (price, was) = match fields.get("sale_price") {
        Some(sale) => (sale.clone(), get("price")),
        None => (get("price"), String::new()),
    };
    Card {
        title: get("title"),
        host: host_of(&link),
        link,
        image: get("image_link"),
        price,
        was,
        availability: get("availability").replace('_', " "),
        brand: get("brand"),
        description: get("description"),
        bullets: Vec::new(),
        facts: ["gtin", "mpn", "condition", "product_type", "item_group_id"]
            .iter()
            .filter_map(|name| Some((name.to_string(), fields.get(*name)?.clone())))
            .collect(),
    }
}

fn bol(offer: &Value, image: Option<&str>) -> Card {
    let text = |pointer: &str| match offer.pointer(pointer) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Null) | None => String::new(),
        Some(other) => other.to_string(),
    };
    let countries: Vec<String> = offer
        .pointer("/countryAvailabilities")
        .and_then(Value::as_array)
        .map(|list| list.iter().map(|c| text_of(&c["countryCode"])).collect())
        .unwrap_or_default();
    let bundles: Vec<String> = offer
        .pointer("/pricing/bundlePrices")
        .and_then(Value::as_array)
        .map(|list| {
            list.iter()
                .skip(1)
                .map(|b| {
                    format!(
                        "from {}: € {}",
                        text_of(&b["quantity"]),
                        text_of(&b["unitPrice"])
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    let stock = text("/stock/amount");
    Card {
        title: text("/unknownProductTitle"),
        image: image.unwrap_or_default().to_string(),
        price: format!("€ {}", text("/pricing/bundlePrices/0/unitPrice")),
        availability: match stock.as_str() {
            "0" | "" => "not in stock".to_string(),
            amount => format!("in stock ({amount})"),
        },
        bullets: bundles,
        facts: vec![
            ("EAN".into(), text("/ean")),
            ("condition".into(), text("/condition/category")),
            ("delivery".into(), bol_delivery(offer)),
            ("fulfilment".into(), text("/fulfilment/method")),
            ("countries".into(), countries.join(", ")),
            ("reference".into(), text("/reference")),
        ],
        ..Card::default()
    }
}

/// The offer's delivery as a shopper reads it: `1-2 days (order by 16:00)` from v11's
/// delivery promise, or who promises it (`SHIPPING_VIA_BOL`, …) when there is none.
fn bol_delivery(offer: &Value) -> String {
    let fulfilment = &offer["fulfilment"];
    let promise = &fulfilment["deliveryPromise"];
    match (
        promise["minimumDaysToCustomer"].as_u64(),
        promise["maximumDaysToCustomer"].as_u64(),
    ) {
        (Some(min), Some(max)) => {
            let days = match min == max {
                true => format!("{min} days"),
                false => format!("{min}-{max} days"),
            };
            match promise["ultimateOrderTime"].as_str() {
                Some(time) => format!("{days} (order by {time})"),
                None => days,
            }
        }
        _ => text_of(&fulfilment["schedule"]),
    }
}

fn amazon(message: &Value) -> Card {
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

fn text_of(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

fn host_of(link: &str) -> String {
    link.split("://")
        .nth(1)
        .and_then(|rest| rest.split('/').next())
        .unwrap_or_default()
        .to_string()
}

/// The text of each element of an XML item by local name (`g:title` as `title`), the first
/// of each; elements with children are skipped.
fn xml_fields(item: &str) -> HashMap<String, String> {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_str(item);
    let mut fields = HashMap::new();
    let mut open: Option<String> = None;
    let mut text = String::new();
    loop {
        match reader.read_event() {
            Ok(Event::Start(start)) => {
                let name = start.local_name().as_ref().to_string();
                open = Some(name);
                text.clear();
            }
            Ok(Event::Text(t)) => text.push_str(&t),
            Ok(Event::CData(data)) => text.push_str(&data),
            Ok(Event::GeneralRef(reference)) => text.push_str(&resolve_entity(&reference)),
            Ok(Event::End(_)) => {
                if let Some(name) = open.take() {
                    fields
                        .entry(name)
                        .or_insert_with(|| text.trim().to_string());
                }
                text.clear();
            }
            Ok(Event::Eof) | Err(_) => break,
            Ok(_) => {}
        }
    }
    fields
}

fn resolve_entity(name: &str) -> String {
    match name {
        "amp" => "&".into(),
        "lt" => "<".into(),
        "gt" => ">".into(),
        "quot" => "\"".into(),
        "apos" => "'".into(),
        _ => {
            let code = match name.strip_prefix("#x") {
                Some(hex) => u32::from_str_radix(hex, 16).ok(),
                None => name.strip_prefix('#').and_then(|d| d.parse().ok()),
            };
            code.and_then(char::from_u32)
                .map(String::from)
                .unwrap_or_default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_google_item_becomes_a_card() {
        let item = "<item>\n<g:id>A-1</g:id>\n<g:title>Drill &amp; bits</g:title>\n\
            <g:link>https://shop.example/nl/p/a-1</g:link>\n<g:price>15.00 EUR</g:price>\n\
            <g:sale_price>12.50 EUR</g:sale_price>\n<g:availability>in_stock</g:availability>\n</item>\n";
        let Preview::Google(card) = of("google-merchant", item, None) else {
            panic!("not a Google card");
        };
        assert_eq!(card.title, "Drill & bits");
        assert_eq!(card.host, "shop.example");
        assert_eq!(
            (card.price.as_str(), card.was.as_str()),
            ("12.50 EUR", "15.00 EUR")
        );
        assert_eq!(card.availability, "in stock");
    }
}
