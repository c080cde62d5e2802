//! A `google-merchant` item as a Google Shopping result card.

use std::collections::HashMap;

use crate::presets::preview::Card;

/// The card of an `<item>`: its title, link, image, price (struck through under a sale
/// price), availability, brand, description and identifiers.
pub(crate) fn google(item: &str) -> Card {
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
        let card = google(item);
        assert_eq!(card.title, "Drill & bits");
        assert_eq!(card.host, "shop.example");
        assert_eq!(
            (card.price.as_str(), card.was.as_str()),
            ("12.50 EUR", "15.00 EUR")
        );
        assert_eq!(card.availability, "in stock");
    }
}
