//! Google Merchant Center's rules for products, each with its source in
//! `docs/src/channels/google-merchant.md`.

use super::limits as google;
use crate::channels::Channel;
use crate::content::Product;
use crate::erp::ErpRecord;
use crate::gtin;
use crate::merge::ProductView;
use crate::verdict::{Checks, Reason};

/// Google Merchant Center's rules, each with its source in `docs/src/channels/google-merchant.md`.
pub(super) fn rules(
    product: &Product,
    record: &ErpRecord,
    view: &ProductView,
    channel: &Channel,
    checks: &mut Checks,
) {
    let too_long = |attribute: &str, what: &str, length: usize, max: usize| {
        Reason::new(
            "too-long",
            format!("{what} is {length} characters; Google allows at most {max}"),
        )
        .on(attribute, product, channel)
    };
    id_and_price(record, view, checks);
    if let Some(title) = &view.title {
        let length = title.chars().count();
        checks.check(length <= google::TITLE_MAX, || {
            too_long("title", "the title", length, google::TITLE_MAX)
        });
    }
    if let Some(text) = &view.description_text {
        let length = text.chars().count();
        checks.check(length <= google::DESCRIPTION_MAX, || {
            too_long(
                "description",
                "the description",
                length,
                google::DESCRIPTION_MAX,
            )
        });
    }
    if let Some(brand) = &view.brand {
        let length = brand.chars().count();
        checks.check(length <= google::BRAND_MAX, || {
            too_long("brand", "the brand", length, google::BRAND_MAX)
        });
    }
    let link_length = view.link.len();
    checks.check(link_length <= google::URL_MAX, || {
        Reason::new(
            "too-long",
            format!(
                "the product link is {link_length} characters; Google allows at most {}",
                google::URL_MAX
            ),
        )
    });
    for url in view.image_link.iter().chain(&view.additional_image_links) {
        // Google takes image URLs in ASCII only (RFC 3986): `é` must arrive as `%C3%A9`.
        checks.check(url.is_ascii(), || {
            Reason::new(
                "url",
                format!("image URL `{url}` has characters outside ASCII; percent-encode them"),
            )
            .on("images", product, channel)
        });
    }
    if let Some(image) = &view.image_link {
        checks.check(image.len() <= google::URL_MAX, || {
            too_long("images", "the image URL", image.len(), google::URL_MAX)
        });
    }
    if let Some(raw) = &record.gtin {
        checks.check_result(gtin::validate(raw).map(|_| ()), |problem| {
            Reason::new("gtin", format!("GTIN `{raw}`: {problem}"))
        });
    }
    if let Some(group) = &view.item_group_id {
        let length = group.chars().count();
        checks.check(length <= google::ITEM_GROUP_ID_MAX, || {
            Reason::new("too-long", format!("the model code (item_group_id) is {length} characters; Google allows at most {}", google::ITEM_GROUP_ID_MAX))
        });
        let plain = group
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        checks.check(plain, || {
            Reason::new(
                "item-group-id",
                format!("model code `{group}` is used as item_group_id, which Google allows only letters, digits, `-` and `_` in"),
            )
        });
    }
    if let Some(color) = view
        .attributes
        .get(&tera::value::Key::from("color"))
        .and_then(|c| c.as_str())
    {
        let ok = color.chars().count() <= google::COLOR_MAX && !color.contains(',');
        checks.check(ok, || {
            Reason::new(
                "color",
                format!(
                    "color `{color}` must be at most {} characters, without commas",
                    google::COLOR_MAX
                ),
            )
            .on("color", product, channel)
        });
    }
    let extra = view.images.len().saturating_sub(1);
    if extra > google::ADDITIONAL_IMAGES_MAX {
        checks.warn(
            Reason::new(
                "too-many-images",
                format!(
                    "{extra} additional images; Google takes the first {}",
                    google::ADDITIONAL_IMAGES_MAX
                ),
            )
            .on("images", product, channel),
        );
    }
    if let Some(weight) = record.weight {
        checks.check(weight <= google::SHIPPING_WEIGHT_MAX_KG.into(), || {
            Reason::new(
                "shipping-weight",
                format!(
                    "the ERP weight is {weight} kg; Google's shipping_weight takes at most {} kg",
                    google::SHIPPING_WEIGHT_MAX_KG
                ),
            )
        });
    }
}

/// What every Google feed checks: an id Google accepts and a price above zero.
pub(crate) fn id_and_price(record: &ErpRecord, view: &ProductView, checks: &mut Checks) {
    let id_length = view.id.chars().count();
    checks.check(id_length <= google::ID_MAX, || {
        Reason::new(
            "too-long",
            format!(
                "the id (SKU) is {id_length} characters; Google allows at most {}",
                google::ID_MAX
            ),
        )
    });
    checks.check(record.price > rust_decimal::Decimal::ZERO, || {
        Reason::new(
            "price",
            "the ERP price is 0; Google needs a price above zero",
        )
    });
}
