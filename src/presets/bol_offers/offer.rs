//! The `bol-offers` preset: JSON Lines, one bol.com Retailer API v11 offer body per line
//! (`docs/src/channels/bol-offers.md`), for a connector that creates or updates each offer.
//!
//! Bol knows a product by its EAN, so an offer is EAN + condition + price + stock +
//! fulfilment; the Dutch content goes to bol separately. Prices are EUR incl. VAT as exact
//! JSON numbers with two decimals (`149.95`, never through a float).

#[cfg(test)]
use std::io::{self, Write};
use std::str::FromStr;

use rust_decimal::Decimal;
#[cfg(test)]
use serde_json::{Number, Value, json};

use super::limits as bol;
use super::settings::{BolSettings, parse_delivery_days};
#[cfg(test)]
use crate::channels::Channel;
use crate::config::{Condition, DeliveryPromise, FulfilmentMethod};
use crate::gtin;
use crate::merge::{ErpView, ProductView};
use crate::presets::view::attribute_text;

/// The 13-digit EAN bol lists a product by. A GTIN-12 (UPC-A) and a GTIN-14 with indicator
/// 0 are the same number as an EAN-13 with a leading zero more or less, so they are written
/// in that form; a GTIN-8 or a GTIN-14 of a trade unit has no EAN-13 and is refused.
pub(super) fn ean13(raw: &str) -> Result<String, String> {
    let code = gtin::validate(raw).map_err(|problem| format!("EAN `{raw}`: {problem}"))?;
    match code.len() {
        13 => Ok(code),
        12 => Ok(format!("0{code}")),
        14 if code.starts_with('0') => Ok(code[1..].to_string()),
        8 => Err(format!(
            "EAN `{raw}` is a GTIN-8 (EAN-8); bol lists products by a 13-digit EAN"
        )),
        _ => Err(format!(
            "EAN `{raw}` is a GTIN-14 of a trade unit (indicator digit {}); bol lists consumer \
             units by their 13-digit EAN",
            &code[..1]
        )),
    }
}

/// The EAN an offer carries: the ERP's GTIN as [`ean13`] writes it, empty when there is none
/// or it has no EAN-13 (the gate has left such a product out already).
pub(super) fn offer_ean(erp: &ErpView) -> String {
    erp.gtin
        .as_deref()
        .and_then(|raw| ean13(raw).ok())
        .unwrap_or_default()
}

pub(super) fn condition(condition: Condition) -> &'static str {
    match condition {
        Condition::New => "NEW",
        Condition::Refurbished => "REFURBISHED",
        Condition::Used => "SECONDHAND",
    }
}

/// One entry of `pricing.bundlePrices`.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct BundlePrice {
    pub quantity: u32,
    /// Two decimals, e.g. `"149.95"`.
    pub unit_price: String,
}

/// The bundle prices bol gets, and the ERP price tiers that could not be used.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct BundlePrices {
    pub prices: Vec<BundlePrice>,
    /// Why each unused tier was left out (for the gate's warnings).
    pub dropped: Vec<String>,
}

/// Bol's rule for bundle prices: the first quantity is 1, quantities rise and unit prices
/// fall. Quantity 1 costs what a customer pays today (the sale price while there is one);
/// each ERP tier follows if it is cheaper than the entry before it. A tier that is not (a
/// sale can undercut the tiers) is dropped rather than sent: bol would refuse the offer.
pub(super) fn bundle_prices(erp: &ErpView) -> BundlePrices {
    let decimal = |text: &str| Decimal::from_str(text).ok();
    let price = decimal(&erp.price);
    let sale = erp.sale_price.as_deref().and_then(decimal);
    let (mut last, first) = match (price, sale) {
        (Some(price), Some(sale)) if sale < price => (sale, erp.sale_price.clone()),
        (price, _) => (price.unwrap_or_default(), Some(erp.price.clone())),
    };
    let mut prices = vec![BundlePrice {
        quantity: 1,
        unit_price: first.unwrap_or_default(),
    }];
    let mut dropped = Vec::new();
    let mut last_quantity = 1;
    for tier in &erp.price_tiers {
        let Some(unit_price) = decimal(&tier.price) else {
            continue;
        };
        if tier.min_qty <= last_quantity {
            dropped.push(format!(
                "price tier {}:{} is left out: bol's first quantity is 1 at {}",
                tier.min_qty, tier.price, prices[0].unit_price
            ));
        } else if unit_price >= last {
            dropped.push(format!(
                "price tier {}:{} is left out: it is not below {} (bol wants unit prices that \
                 fall as quantities rise)",
                tier.min_qty,
                tier.price,
                crate::money::money(last)
            ));
        } else {
            prices.push(BundlePrice {
                quantity: tier.min_qty,
                unit_price: tier.price.clone(),
            });
            last = unit_price;
            last_quantity = tier.min_qty;
        }
    }
    BundlePrices { prices, dropped }
}

/// What an offer's `fulfilment` says besides its method: the schedule and the delivery
/// promise (FBR only; `None` for FBB, which is bol's). A product's `bol_delivery_days`
/// replaces the promise's days and makes the schedule bol's delivery promise.
pub(super) fn fulfilment_terms<'s>(
    view: &ProductView,
    settings: &'s BolSettings,
) -> Option<(Option<&'s str>, Option<DeliveryPromise>)> {
    if settings.fulfilment == FulfilmentMethod::Fbb {
        return None;
    }
    let own_days = attribute_text(view, bol::DELIVERY_DAYS_ATTRIBUTE)
        .and_then(|days| parse_delivery_days(&days).ok());
    let promise = match (own_days, &settings.delivery_promise) {
        (Some((minimum_days, maximum_days)), channel) => Some(DeliveryPromise {
            minimum_days,
            maximum_days,
            ultimate_order_time: channel.as_ref().and_then(|p| p.ultimate_order_time.clone()),
        }),
        (None, channel) => channel.clone(),
    };
    let schedule = match own_days {
        Some(_) => Some(bol::PROMISE_SCHEDULE),
        None => settings.delivery_schedule.as_deref(),
    };
    let promise = promise.filter(|_| schedule == Some(bol::PROMISE_SCHEDULE));
    Some((schedule, promise))
}

/// The v11 `fulfilment` of one offer as a JSON value: what [`super::offer_bytes`] writes.
#[cfg(test)]
pub(super) fn fulfilment(view: &ProductView, settings: &BolSettings) -> Value {
    let Some((schedule, promise)) = fulfilment_terms(view, settings) else {
        return json!({ "method": "FBB" });
    };
    let mut fulfilment = json!({ "method": "FBR" });
    let object = fulfilment.as_object_mut().expect("an object");
    if let Some(schedule) = schedule {
        object.insert("schedule".into(), schedule.into());
    }
    if let Some(promise) = promise {
        let mut value = json!({
            "minimumDaysToCustomer": promise.minimum_days,
            "maximumDaysToCustomer": promise.maximum_days,
        });
        if let Some(time) = promise.ultimate_order_time {
            value["ultimateOrderTime"] = time.into();
        }
        object.insert("deliveryPromise".into(), value);
    }
    fulfilment
}

/// The v11 `condition`: the category, with the state of a second-hand item or the grade and
/// margin of a refurbished one.
#[cfg(test)]
fn condition_json(settings: &BolSettings) -> Value {
    let mut value = json!({ "category": condition(settings.condition) });
    match settings.condition {
        Condition::New => {}
        Condition::Used => {
            if let Some(state) = &settings.condition_state {
                value["state"] = state.as_str().into();
            }
        }
        Condition::Refurbished => {
            if let Some(grade) = &settings.condition_grade {
                value["grade"] = grade.as_str().into();
            }
            value["margin"] = settings.condition_margin.into();
        }
    }
    value
}

/// One offer, as one line, through a tree of JSON values: what [`super::offer_bytes`] writes
/// without the tree, which the tests hold it to.
#[cfg(test)]
pub(super) fn item(view: &ProductView, channel: &Channel, out: &mut dyn Write) -> io::Result<()> {
    let Some(settings) = channel.settings.get::<BolSettings>() else {
        return Err(io::Error::other("bol-offers channel without bol settings"));
    };
    let money =
        |text: &str| Number::from_str(text).map_or(Value::String(text.into()), Value::Number);
    let ean = offer_ean(&view.erp);
    let bundle_prices: Vec<Value> = bundle_prices(&view.erp)
        .prices
        .iter()
        .map(|p| json!({ "quantity": p.quantity, "unitPrice": money(&p.unit_price) }))
        .collect();
    let mut offer = json!({
        "ean": ean,
        "condition": condition_json(settings),
        "reference": view.sku,
        "onHoldByRetailer": false,
        "pricing": { "bundlePrices": bundle_prices },
        // Bol subtracts its open orders from this amount (`managedByRetailer: false`), so an
        // order placed before the ERP knew of it cannot be sold twice.
        "stock": {
            "amount": view.erp.stock.clamp(0, bol::STOCK_MAX),
            "managedByRetailer": false,
        },
        "fulfilment": fulfilment(view, settings),
        "countryAvailabilities": settings
            .countries
            .iter()
            .map(|country| json!({ "countryCode": country }))
            .collect::<Vec<_>>(),
    });
    let object = offer.as_object_mut().expect("an object");
    if let Some(title) = &view.title
        && title.chars().count() <= bol::UNKNOWN_PRODUCT_TITLE_MAX
    {
        object.insert("unknownProductTitle".into(), Value::String(title.clone()));
    }
    if let Some(id) = &settings.economic_operator_id {
        object.insert("economicOperatorId".into(), Value::String(id.clone()));
    }
    serde_json::to_writer(&mut *out, &offer).map_err(io::Error::other)?;
    out.write_all(b"\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::merge::PriceTierView;

    fn erp(price: &str, sale: Option<&str>, tiers: &[(u32, &str)]) -> ErpView {
        ErpView {
            sale_price: sale.map(str::to_string),
            price_tiers: tiers
                .iter()
                .map(|(min_qty, price)| PriceTierView {
                    min_qty: *min_qty,
                    price: price.to_string(),
                })
                .collect(),
            ..ErpView::example(price, 1)
        }
    }

    fn pairs(prices: &BundlePrices) -> Vec<(u32, &str)> {
        prices
            .prices
            .iter()
            .map(|p| (p.quantity, p.unit_price.as_str()))
            .collect()
    }

    #[test]
    fn bundle_prices_start_at_one_and_fall() {
        let prices = bundle_prices(&erp("149.95", None, &[(10, "139.95"), (50, "129.50")]));
        assert_eq!(
            pairs(&prices),
            [(1, "149.95"), (10, "139.95"), (50, "129.50")]
        );
        assert!(prices.dropped.is_empty());
    }

    #[test]
    fn a_sale_price_is_the_price_of_one_and_tiers_above_it_are_dropped() {
        let prices = bundle_prices(&erp(
            "129.00",
            Some("109.00"),
            &[(5, "124.00"), (10, "99.00")],
        ));
        assert_eq!(pairs(&prices), [(1, "109.00"), (10, "99.00")]);
        assert_eq!(prices.dropped.len(), 1);
        assert!(
            prices.dropped[0].contains("5:124.00"),
            "{:?}",
            prices.dropped
        );
        // A sale price that is not a discount is ignored.
        let prices = bundle_prices(&erp("10.00", Some("12.00"), &[]));
        assert_eq!(pairs(&prices), [(1, "10.00")]);
    }

    #[test]
    fn a_tier_for_one_unit_or_a_rising_price_is_dropped() {
        let prices = bundle_prices(&erp(
            "10.00",
            None,
            &[(1, "9.00"), (5, "9.50"), (6, "10.50")],
        ));
        assert_eq!(pairs(&prices), [(1, "10.00"), (5, "9.50")]);
        assert_eq!(prices.dropped.len(), 2);
    }

    #[test]
    fn eans_are_thirteen_digits() {
        assert_eq!(ean13("4006381333931").unwrap(), "4006381333931");
        assert_eq!(ean13("0-12000-00789-7").unwrap(), "0012000007897");
        assert_eq!(ean13("00012000007897").unwrap(), "0012000007897");
        assert!(ean13("12341238").unwrap_err().contains("GTIN-8"));
        assert!(ean13("10614141000415").unwrap_err().contains("GTIN-14"));
        assert!(ean13("4006381333932").unwrap_err().contains("check digit"));
    }
}
