//! The `meta-catalog` preset: a CSV data feed with Meta's field names and enum spellings
//! (`in stock`, `new`), for Facebook and Instagram shops (`docs/src/channels/meta-catalog.md`).
//!
//! Meta's fetcher reads the file, not a person, so cells are written as they are (no
//! spreadsheet formula guard, which would corrupt a title like `-20% korting`); the csv crate
//! quotes whatever needs quoting. The description is the Markdown's plain text.

use super::MetaSettings;
use super::limits as meta;
use crate::channels::Channel;
use crate::config::Condition;
use crate::merge::ProductView;
use crate::presets::view::{attribute_text, sale_price};

pub(super) const HEADERS: &[&str] = &[
    "id",
    "title",
    "description",
    "availability",
    "condition",
    "price",
    "sale_price",
    "link",
    "image_link",
    "additional_image_link",
    "brand",
    "gtin",
    "mpn",
    "item_group_id",
    "google_product_category",
    "product_type",
    "color",
    "size",
    "gender",
    "age_group",
    "material",
    "pattern",
];

/// Meta's availability words for pimfeed's canonical `in_stock` / `out_of_stock`.
pub(super) fn availability(canonical: &str) -> &'static str {
    match canonical {
        "in_stock" => "in stock",
        _ => "out of stock",
    }
}

pub(super) fn condition(condition: Condition) -> &'static str {
    match condition {
        Condition::New => "new",
        Condition::Refurbished => "refurbished",
        Condition::Used => "used",
    }
}

/// The additional images Meta takes (at most 10, 2000 characters in all), with commas
/// encoded: in the CSV cell a comma separates one URL from the next.
pub(super) fn additional_image_links(view: &ProductView) -> Vec<String> {
    let mut links = Vec::new();
    let mut length = 0;
    for image in view.images.iter().skip(1).take(meta::ADDITIONAL_IMAGES_MAX) {
        let url = image.url.replace(',', "%2C");
        let separator = usize::from(!links.is_empty());
        if length + separator + url.len() > meta::ADDITIONAL_IMAGE_LINK_MAX {
            break;
        }
        length += separator + url.len();
        links.push(url);
    }
    links
}

/// One row, in the order of [`HEADERS`].
/// The attributes [`row`] reads, in its order.
pub(super) const ATTRIBUTES: [&str; 6] = [
    "color",
    "size",
    "gender",
    "age_group",
    "material",
    "pattern",
];

pub(super) fn row(view: &ProductView, channel: &Channel) -> Vec<String> {
    let condition_setting = channel
        .settings
        .get::<MetaSettings>()
        .map_or(Condition::New, |settings| settings.condition);
    let money = |amount: &str| format!("{amount} {}", channel.currency);
    let text = |name: &str| attribute_text(view, name).unwrap_or_default();
    let in_enum = |name: &str, allowed: &[&str]| {
        attribute_text(view, name)
            .filter(|value| allowed.contains(&value.as_str()))
            .unwrap_or_default()
    };
    let erp = &view.erp;
    vec![
        view.id.clone(),
        view.title.clone().unwrap_or_default(),
        view.description_text.clone().unwrap_or_default(),
        availability(view.availability).to_string(),
        condition(condition_setting).to_string(),
        money(&erp.price),
        sale_price(view).map(money).unwrap_or_default(),
        view.link.clone(),
        view.image_link.clone().unwrap_or_default(),
        additional_image_links(view).join(","),
        view.brand.clone().unwrap_or_default(),
        erp.gtin
            .as_deref()
            .map(crate::gtin::normalize)
            .unwrap_or_default(),
        erp.mpn.clone().unwrap_or_default(),
        view.item_group_id.clone().unwrap_or_default(),
        view.category
            .as_ref()
            .and_then(|c| c.google)
            .map(|id| id.to_string())
            .unwrap_or_default(),
        view.category
            .as_ref()
            .map(|c| c.name.clone())
            .unwrap_or_default(),
        text("color"),
        text("size"),
        in_enum("gender", meta::GENDERS),
        in_enum("age_group", meta::AGE_GROUPS),
        text("material"),
        text("pattern"),
    ]
}
