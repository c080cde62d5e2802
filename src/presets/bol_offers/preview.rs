//! A `bol-offers` offer as bol.com lists it.

use serde_json::Value;

use crate::presets::preview::{Card, text_of};

/// The card of one offer; `image` is the product's first image, as an offer has none.
pub(crate) fn bol(offer: &Value, image: Option<&str>) -> Card {
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
