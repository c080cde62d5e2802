//! Amazon's rules (`docs/src/channels/amazon-listings.md`): an offer on an existing product
//! page needs a valid ASIN; a full listing needs a product type for its family, a GTIN, and the
//! texts Amazon shows (item name, brand, bullet points, description) and an image. Required
//! sets beyond these vary by product type and marketplace; Amazon reports those in its
//! processing report.

use rust_decimal::Decimal;

use super::limits as amazon;
use super::listing::{Listing, is_asin, listing};
use super::product_types::Definition;
use super::settings::AmazonSettings;
use crate::channels::Channel;
use crate::content::{Product, Schema};
use crate::erp::ErpRecord;
use crate::gtin;
use crate::merge::ProductView;
use crate::verdict::{Checks, Reason, has_value, missing_attribute};

/// What a full listing cannot do without, besides its GTIN.
const FULL_LISTING_ATTRIBUTES: &[&str] = &["title", "brand", "description", "bullets", "images"];

pub(super) fn rules(
    product: &Product,
    record: &ErpRecord,
    view: &ProductView,
    channel: &Channel,
    schema: &Schema,
    checks: &mut Checks,
) {
    let Some(settings) = channel.settings.get::<AmazonSettings>() else {
        return;
    };
    checks.check(record.price > Decimal::ZERO, || {
        Reason::new(
            "price",
            "the ERP price is 0; Amazon needs a price above zero",
        )
    });
    let sku_length = view.sku.chars().count();
    checks.check(sku_length <= amazon::SKU_MAX, || {
        Reason::new(
            "too-long",
            format!(
                "the SKU is {sku_length} characters; Amazon takes seller SKUs of at most {}",
                amazon::SKU_MAX
            ),
        )
    });
    match listing(view, settings) {
        Listing::OfferOnly { asin } if asin.is_empty() => checks.fail(
            Reason::new(
                "missing-attribute",
                "`asin` is required and has no value: this channel only sells on existing \
                 Amazon product pages (`offer_only = true`)",
            )
            .on(amazon::ASIN_ATTRIBUTE, product, channel),
        ),
        Listing::OfferOnly { asin } => checks.check(is_asin(&asin), || {
            Reason::new(
                "asin",
                format!(
                    "ASIN `{asin}` must be {} capital letters and digits, as Amazon shows it \
                     (e.g. B07ABCDE12)",
                    amazon::ASIN_LENGTH
                ),
            )
            .on(amazon::ASIN_ATTRIBUTE, product, channel)
        }),
        Listing::Full { product_type } => {
            checks.check(product_type.is_some(), || {
                Reason::new(
                    "product-type",
                    format!(
                        "family `{}` has no Amazon product type: add it to \
                         `[channels.{}.product_types]`, or give the product an `asin` to offer \
                         it on an existing product page",
                        product.family, channel.name
                    ),
                )
            });
            // The family's and the channel's requirements are checked already.
            let family = schema.families.get(&product.family);
            let checked = |attribute: &str| {
                family.is_some_and(|f| f.required().any(|r| r == attribute))
                    || channel.require.iter().any(|r| r == attribute)
            };
            for attribute in FULL_LISTING_ATTRIBUTES.iter().filter(|a| !checked(a)) {
                checks.check(has_value(product, attribute, channel, schema), || {
                    missing_attribute(attribute, product, channel, schema)
                });
            }
            match &record.gtin {
                Some(raw) => checks.check_result(gtin::validate(raw).map(|_| ()), |problem| {
                    Reason::new("gtin", format!("GTIN `{raw}`: {problem}"))
                }),
                None => checks.fail(Reason::new(
                    "gtin",
                    "a new Amazon listing needs a GTIN (EAN, UPC) and the ERP has none for this \
                     item; give the product an `asin` to offer it on an existing product page",
                )),
            }
            // The brand needs no length check: the built-in `brand` attribute allows 70
            // characters, within Amazon's 100.
            if let Some(definition) = product_type
                .as_ref()
                .and_then(|t| settings.definitions.get(t))
            {
                product_type_rules(view, channel, settings, definition, checks);
            }
        }
    }
}

/// The listing as pimfeed would send it, checked against its product type's definition: one
/// reason per attribute Amazon would refuse.
fn product_type_rules(
    view: &ProductView,
    channel: &Channel,
    settings: &AmazonSettings,
    definition: &Definition,
    checks: &mut Checks,
) {
    let message = super::listing::message(view, &channel.currency, settings);
    let problems = definition.problems(&message["attributes"]);
    if problems.is_empty() {
        checks.check(true, || unreachable!());
    }
    for (attribute, problem) in problems {
        let missing = problem.starts_with("is required");
        let hint = match missing && !settings.attributes.contains_key(&attribute) {
            false => String::new(),
            true => format!(
                "; map it under `[channels.{}.attributes.{attribute}]` (from an attribute, per \
                 brand, per family or a default)",
                channel.name
            ),
        };
        let mut reason = Reason::new(
            "product-type",
            format!(
                "Amazon's {} definition: `{attribute}` {problem}{hint}",
                message["productType"].as_str().unwrap_or_default()
            ),
        );
        reason.attribute = Some(attribute);
        checks.fail(reason);
    }
}
