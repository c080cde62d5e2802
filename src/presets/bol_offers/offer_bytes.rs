//! One offer written straight as a line of JSON bytes: the same bytes as serialising the
//! offer's tree of JSON values (`offer::item`, which the tests hold it to), without
//! building the tree for every product. Members come in the order the tree inserts them.

use super::limits as bol;
use super::offer::{bundle_prices, condition, fulfilment_terms, offer_ean};
use super::settings::BolSettings;
use crate::config::Condition;
use crate::merge::ProductView;
use crate::presets::json_bytes::{array, money, serialize, string};

/// Appends the offer of `view` and a newline to `out`.
pub(super) fn write_offer(view: &ProductView, settings: &BolSettings, out: &mut Vec<u8>) {
    let ean = offer_ean(&view.erp);
    out.extend_from_slice(b"{\"ean\":");
    string(out, &ean);
    out.extend_from_slice(b",\"condition\":");
    write_condition(settings, out);
    out.extend_from_slice(b",\"reference\":");
    string(out, &view.sku);
    out.extend_from_slice(b",\"onHoldByRetailer\":false,\"pricing\":{\"bundlePrices\":");
    array(out, &bundle_prices(&view.erp).prices, |out, price| {
        out.extend_from_slice(b"{\"quantity\":");
        serialize(out, &price.quantity);
        out.extend_from_slice(b",\"unitPrice\":");
        money(out, &price.unit_price);
        out.push(b'}');
    });
    out.extend_from_slice(b"},\"stock\":{\"amount\":");
    serialize(out, &view.erp.stock.clamp(0, bol::STOCK_MAX));
    out.extend_from_slice(b",\"managedByRetailer\":false},\"fulfilment\":");
    write_fulfilment(view, settings, out);
    out.extend_from_slice(b",\"countryAvailabilities\":");
    array(out, &settings.countries, |out, country| {
        out.extend_from_slice(b"{\"countryCode\":");
        string(out, country);
        out.push(b'}');
    });
    if let Some(title) = &view.title
        && title.chars().count() <= bol::UNKNOWN_PRODUCT_TITLE_MAX
    {
        out.extend_from_slice(b",\"unknownProductTitle\":");
        string(out, title);
    }
    if let Some(id) = &settings.economic_operator_id {
        out.extend_from_slice(b",\"economicOperatorId\":");
        string(out, id);
    }
    out.extend_from_slice(b"}\n");
}

/// The v11 `condition`: the category, with the state of a second-hand item or the grade and
/// margin of a refurbished one.
fn write_condition(settings: &BolSettings, out: &mut Vec<u8>) {
    out.extend_from_slice(b"{\"category\":");
    string(out, condition(settings.condition));
    match settings.condition {
        Condition::New => {}
        Condition::Used => {
            if let Some(state) = &settings.condition_state {
                out.extend_from_slice(b",\"state\":");
                string(out, state);
            }
        }
        Condition::Refurbished => {
            if let Some(grade) = &settings.condition_grade {
                out.extend_from_slice(b",\"grade\":");
                string(out, grade);
            }
            out.extend_from_slice(b",\"margin\":");
            serialize(out, &settings.condition_margin);
        }
    }
    out.push(b'}');
}

fn write_fulfilment(view: &ProductView, settings: &BolSettings, out: &mut Vec<u8>) {
    let Some((schedule, promise)) = fulfilment_terms(view, settings) else {
        out.extend_from_slice(b"{\"method\":\"FBB\"}");
        return;
    };
    out.extend_from_slice(b"{\"method\":\"FBR\"");
    if let Some(schedule) = schedule {
        out.extend_from_slice(b",\"schedule\":");
        string(out, schedule);
    }
    if let Some(promise) = promise {
        out.extend_from_slice(b",\"deliveryPromise\":{\"minimumDaysToCustomer\":");
        serialize(out, &promise.minimum_days);
        out.extend_from_slice(b",\"maximumDaysToCustomer\":");
        serialize(out, &promise.maximum_days);
        if let Some(time) = &promise.ultimate_order_time {
            out.extend_from_slice(b",\"ultimateOrderTime\":");
            string(out, time);
        }
        out.push(b'}');
    }
    out.push(b'}');
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::channels::{Channel, PresetSettings};
    use crate::config::{DeliveryPromise, FulfilmentMethod};
    use crate::merge::{ErpView, ImageView, PriceTierView};

    fn view() -> ProductView {
        let mut attributes = tera::Map::new();
        attributes.insert(bol::DELIVERY_DAYS_ATTRIBUTE.into(), "2-4".into());
        ProductView {
            id: "B-1".into(),
            sku: "B-1 \"ref\" \\ \u{1}".into(),
            model: None,
            item_group_id: None,
            family: "tools".into(),
            brand: Some("Makita".into()),
            title: Some("Boor <18V> & \"meer\" \u{2028} ünï".into()),
            description: None,
            description_html: None,
            description_text: None,
            bullets: Vec::new(),
            link: "https://shop.example/nl/p/b-1".into(),
            image_link: None,
            additional_image_links: Vec::new(),
            images: vec![ImageView {
                url: "https://cdn.example/1.jpg".into(),
                alt: None,
            }],
            category: None,
            availability: "in_stock",
            identifier_exists: true,
            attributes,
            erp: ErpView {
                sale_price: Some("129.00".into()),
                gtin: Some("0-12000-00789-7".into()),
                price_tiers: vec![
                    PriceTierView {
                        min_qty: 5,
                        price: "139.00".into(),
                    },
                    PriceTierView {
                        min_qty: 10,
                        price: "119.50".into(),
                    },
                ],
                ..ErpView::example("149.95", 12_000)
            },
        }
    }

    fn settings() -> BolSettings {
        BolSettings {
            condition: Condition::New,
            condition_state: None,
            condition_grade: None,
            condition_margin: false,
            fulfilment: FulfilmentMethod::Fbr,
            delivery_schedule: Some(bol::PROMISE_SCHEDULE.into()),
            delivery_promise: Some(DeliveryPromise {
                minimum_days: 1,
                maximum_days: 2,
                ultimate_order_time: Some("16:00".into()),
            }),
            countries: vec!["NL".into(), "BE".into()],
            economic_operator_id: Some("0c6573a2-\"x\"".into()),
        }
    }

    fn same_bytes(view: &ProductView, settings: &BolSettings) {
        let channel = Channel {
            settings: PresetSettings::new(settings.clone()),
            ..crate::presets::example_channel("bol", "bol-offers", "nl-NL")
        };
        let mut expected = Vec::new();
        super::super::offer::item(view, &channel, &mut expected).unwrap();
        let mut written = Vec::new();
        write_offer(view, settings, &mut written);
        assert_eq!(
            String::from_utf8(written).unwrap(),
            String::from_utf8(expected).unwrap()
        );
    }

    #[test]
    fn written_offers_are_the_serialised_offers_byte_for_byte() {
        let full = view();
        let mut settings = settings();
        same_bytes(&full, &settings);

        // The channel's own promise, another schedule, no promise at all, bol's fulfilment.
        let mut plain = view();
        plain.attributes = tera::Map::new();
        same_bytes(&plain, &settings);
        settings
            .delivery_promise
            .as_mut()
            .unwrap()
            .ultimate_order_time = None;
        same_bytes(&plain, &settings);
        settings.delivery_schedule = Some("MY_DELIVERY_PROMISE".into());
        same_bytes(&plain, &settings);
        same_bytes(&full, &settings);
        settings.delivery_schedule = None;
        settings.delivery_promise = None;
        same_bytes(&plain, &settings);
        settings.fulfilment = FulfilmentMethod::Fbb;
        same_bytes(&full, &settings);

        // Second-hand and refurbished, with and without their details.
        settings.condition = Condition::Used;
        same_bytes(&full, &settings);
        settings.condition_state = Some("AS_NEW".into());
        same_bytes(&full, &settings);
        settings.condition = Condition::Refurbished;
        same_bytes(&full, &settings);
        settings.condition_grade = Some("A".into());
        settings.condition_margin = true;
        same_bytes(&full, &settings);

        // No EAN bol can use, no title, a title too long, negative stock, money that is
        // not a number, no countries, no economic operator.
        let mut bare = view();
        bare.erp.gtin = Some("12341238".into());
        bare.title = None;
        bare.erp.stock = -4;
        bare.erp.price = "n/a".into();
        bare.erp.sale_price = None;
        settings.countries.clear();
        settings.economic_operator_id = None;
        same_bytes(&bare, &settings);
        bare.erp.gtin = None;
        bare.title = Some("x".repeat(bol::UNKNOWN_PRODUCT_TITLE_MAX + 1));
        bare.erp.price = "1e3".into();
        same_bytes(&bare, &settings);
    }
}
