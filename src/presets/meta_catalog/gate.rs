//! Meta's rules for catalog items (`docs/src/channels/meta-catalog.md`): text limits,
//! identifiers (a GTIN, or an MPN and a brand), variants Meta can tell apart, and its enums.

use super::limits as meta;
use super::row::additional_image_links;
use crate::channels::Channel;
use crate::content::{Product, Schema};
use crate::erp::ErpRecord;
use crate::gtin;
use crate::merge::ProductView;
use crate::presets::view::attribute_text;
use crate::verdict::{Checks, Reason};

pub(super) fn rules(
    product: &Product,
    record: &ErpRecord,
    view: &ProductView,
    channel: &Channel,
    schema: &Schema,
    checks: &mut Checks,
) {
    let mut limit = |attribute: Option<&str>, what: &str, length: usize, max: usize| {
        checks.check(length <= max, || {
            let reason = Reason::new(
                "too-long",
                format!("{what} is {length} characters; Meta allows at most {max}"),
            );
            match attribute {
                Some(attribute) => reason.on(attribute, product, channel),
                None => reason,
            }
        });
    };
    limit(None, "the id (SKU)", view.id.chars().count(), meta::ID_MAX);
    if let Some(title) = &view.title {
        limit(
            Some("title"),
            "the title",
            title.chars().count(),
            meta::TITLE_MAX,
        );
    }
    if let Some(text) = &view.description_text {
        limit(
            Some("description"),
            "the description (as plain text)",
            text.chars().count(),
            meta::DESCRIPTION_MAX,
        );
    }
    // The brand needs no check here: the built-in `brand` attribute allows 70 characters,
    // within Meta's 100.

    match &record.gtin {
        Some(raw) => checks.check_result(gtin::validate(raw).map(|_| ()), |problem| {
            Reason::new("gtin", format!("GTIN `{raw}`: {problem}"))
        }),
        None => {
            let has_mpn = record.mpn.is_some();
            let has_brand = view.brand.is_some();
            checks.check(has_mpn && has_brand, || {
                let missing = match (has_mpn, has_brand) {
                    (false, false) => "the ERP has no GTIN or MPN and the product has no brand",
                    (false, true) => "the ERP has neither a GTIN nor an MPN for this item",
                    _ => "the ERP has no GTIN and the product has no `brand`",
                };
                Reason::new(
                    "identifier",
                    format!("Meta needs a GTIN, or an MPN and a brand: {missing}"),
                )
            });
        }
    }

    if view.item_group_id.is_some()
        && let Some(family) = schema.families.get(&product.family)
    {
        for axis in family.variant_axes() {
            checks.check(meta::VARIANT_FIELDS.contains(&axis), || {
                Reason::new(
                    "variant-axis",
                    format!(
                        "Meta tells variants apart by {}; the family's variant axis `{axis}` \
                         is none of them",
                        meta::VARIANT_FIELDS.join(", ")
                    ),
                )
            });
        }
    }

    let extra = view.images.len().saturating_sub(1);
    let taken = additional_image_links(view).len();
    if taken < extra {
        checks.warn(
            Reason::new(
                "too-many-images",
                format!(
                    "{extra} additional images; Meta takes the first {taken} (at most {}, \
                     {} characters of URLs in all)",
                    meta::ADDITIONAL_IMAGES_MAX,
                    meta::ADDITIONAL_IMAGE_LINK_MAX
                ),
            )
            .on("images", product, channel),
        );
    }
    for (name, allowed) in [("gender", meta::GENDERS), ("age_group", meta::AGE_GROUPS)] {
        if let Some(value) = attribute_text(view, name)
            && !allowed.contains(&value.as_str())
        {
            checks.warn(
                Reason::new(
                    "enum",
                    format!(
                        "{name} `{value}` is not one of Meta's ({}); it is left out",
                        allowed.join(", ")
                    ),
                )
                .on(name, product, channel),
            );
        }
    }
}
