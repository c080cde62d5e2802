//! The gatekeeper: per product and channel, is it 100% complete, and if not, why not.
//!
//! A product reaches a channel only when it is enabled, present and active in the ERP, and
//! meets every requirement of that channel in the channel's locale: the family's `required`,
//! the channel's `require` and the preset's own rules. Everything else is left out and
//! listed with its reasons; one bad product never blocks the others.

pub mod quality;
pub mod titles;

use crate::channels::Channel;
use crate::content::{Product, Schema};
use crate::erp::ErpRecord;
use crate::merge::ProductView;
use crate::presets::Preset;
use crate::verdict::{Checks, Reason, Verdict, has_value, missing_attribute};

/// Decides whether `product` may go to `channel`. `view` is absent when the product has no
/// ERP record (there is nothing to merge).
pub fn decide(
    product: &Product,
    record: Option<&ErpRecord>,
    view: Option<&ProductView>,
    channel: &Channel,
    schema: &Schema,
) -> Verdict {
    let mut checks = Checks::default();

    checks.check(product.enabled(), || {
        Reason::new("disabled", "the product is disabled (`enabled = false`)")
            .on("enabled", product, channel)
    });
    // The SKU is the id in every feed and how an order finds its ERP item: it cannot be
    // cleaned up on the way out, so one with invisible characters is refused.
    checks.check(
        !product
            .sku
            .chars()
            .any(|c| c.is_control() || crate::text::clean::is_bidi_control(c)),
        || {
            Reason::new(
                "sku-characters",
                format!(
                    "SKU {:?} holds control or text-direction characters, which no channel \
                     takes; correct the item number in the ERP and the product file",
                    product.sku
                ),
            )
        },
    );
    match record {
        None => checks.fail(Reason::new(
            "not-in-erp",
            format!("SKU `{}` is not in the ERP export", product.sku),
        )),
        Some(record) => checks.check(record.active, || {
            Reason::new("inactive-in-erp", "the ERP marks the item inactive")
        }),
    }

    let family = schema.families.get(&product.family);
    let required = family
        .into_iter()
        .flat_map(|f| f.required())
        .chain(channel.require.iter().map(String::as_str))
        .chain(
            Preset::of(channel)
                .into_iter()
                .flat_map(|p| p.def().required_attributes().iter().copied()),
        );
    let mut seen = Vec::new();
    for attribute in required {
        if seen.contains(&attribute) {
            continue;
        }
        seen.push(attribute);
        checks.check(has_value(product, attribute, channel, schema), || {
            missing_attribute(attribute, product, channel, schema)
        });
    }

    if let (Some(record), Some(view)) = (record, view) {
        // The view's currency is the channel's when a price list of it has this SKU.
        let currency = view.erp.currency.as_str();
        checks.check(currency == channel.currency, || {
            Reason::new(
                "currency",
                format!(
                    "the ERP price is in {currency}; the channel sells in {0}: give it a {0} \
                     price in a `[price_lists.{0}]` price list",
                    channel.currency
                ),
            )
        });
        sale_price_not_below_price(record, channel, &mut checks);
        if let Some(preset) = Preset::of(channel) {
            preset
                .def()
                .gate(product, record, view, channel, schema, &mut checks);
        }
    }
    checks.verdict()
}

/// A sale price that is not below the price is a mistake in the ERP: no channel publishes it
/// ([`crate::merge::ErpView::new`] drops it), and every channel warns.
fn sale_price_not_below_price(record: &ErpRecord, channel: &Channel, checks: &mut Checks) {
    let (price, sale) = match record.prices.get(&channel.currency) {
        Some(listed) => (listed.price, listed.sale_price),
        None => (record.price, record.sale_price),
    };
    if let Some(sale) = sale
        && sale >= price
    {
        checks.warn(Reason::new(
            "sale-price",
            format!(
                "the sale price {sale} is not below the price {price}; it is left out of the \
                 feed (the price is published without a sale)"
            ),
        ));
    }
}

/// A supplemental feed only updates items its primary feed has: a product the primary
/// channel left out is left out of every `google-merchant-inventory` channel that follows it.
/// `gated` holds one verdict (and rendered item) per channel, in the order of `channels`.
pub fn follow_primaries(channels: &[Channel], gated: &mut [(Verdict, Option<Vec<u8>>)]) {
    for (index, channel) in channels.iter().enumerate() {
        let Some(primary) = &channel.primary else {
            continue;
        };
        let Some(primary_index) = channels.iter().position(|c| &c.name == primary) else {
            continue;
        };
        if gated[primary_index].0.included || !gated[index].0.included {
            continue;
        }
        let why = gated[primary_index]
            .0
            .reasons
            .first()
            .map(|r| format!(" ({})", r.message))
            .unwrap_or_default();
        let (verdict, item) = &mut gated[index];
        verdict.included = false;
        verdict.reasons.push(Reason::new(
            "not-in-primary",
            format!(
                "the primary feed `{primary}` leaves it out{why}; a supplemental feed only \
                 updates the items its primary feed has"
            ),
        ));
        *item = None;
    }
}
