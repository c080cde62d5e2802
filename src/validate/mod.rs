//! The gatekeeper: per product and channel, is it 100% complete, and if not, why not.
//!
//! A product reaches a channel only when it is enabled, present and active in the ERP, and
//! meets every requirement of that channel in the channel's locale: the family's `required`,
//! the channel's `require` and the preset's own rules. Everything else is left out and
//! listed with its reasons; one bad product never blocks the others.

mod amazon;
mod bol;
mod meta;
pub mod quality;

use serde::Serialize;

// The GTIN leaf, at the path it had when it lived here.
pub use crate::gtin;

use crate::channels::presets::google;
use crate::channels::{Channel, Preset};
use crate::content::{Product, Schema};
use crate::erp::ErpRecord;
use crate::merge::{ProductView, is_empty};

/// Why a product is not in a channel, or what is worth knowing about it there.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Reason {
    /// Stable kebab-case code, e.g. `missing-attribute`, `not-in-erp`, `too-long`.
    pub code: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attribute: Option<String>,
    pub message: String,
    /// The content line the reason is about, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
    /// Who last changed that line (or the product's first line); filled in after the gate,
    /// only for products left out or warned about.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub blame: Option<crate::git::blame::Blame>,
}

impl Reason {
    pub fn new(code: &'static str, message: impl Into<String>) -> Self {
        Self {
            code,
            attribute: None,
            message: message.into(),
            line: None,
            blame: None,
        }
    }

    fn on(mut self, attribute: &str, product: &Product, channel: &Channel) -> Self {
        self.line = product.value_for(attribute, &channel.name).map(|v| v.line);
        self.attribute = Some(attribute.to_string());
        self
    }
}

/// The gate's verdict for one product in one channel.
#[derive(Debug, Clone, Serialize)]
pub struct Verdict {
    pub included: bool,
    /// Share of the channel's requirements the product meets, 0–100.
    pub completeness: u8,
    /// Why it is left out; empty when included.
    pub reasons: Vec<Reason>,
    /// Not blocking, but worth fixing (e.g. images beyond the channel's maximum).
    pub warnings: Vec<Reason>,
}

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
            channel
                .preset()
                .into_iter()
                .flat_map(|p| p.required_attributes().iter().copied()),
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
        match channel.preset() {
            Some(Preset::GoogleMerchant) => {
                google_rules(product, record, view, channel, &mut checks)
            }
            Some(Preset::MetaCatalog) => {
                meta::rules(product, record, view, channel, schema, &mut checks)
            }
            Some(Preset::GoogleMerchantInventory) => inventory_rules(record, view, &mut checks),
            Some(Preset::BolOffers) => bol::rules(product, record, view, channel, &mut checks),
            Some(Preset::AmazonListings) => {
                amazon::rules(product, record, view, channel, schema, &mut checks)
            }
            _ => {}
        }
    }
    checks.verdict()
}

/// The reason for a required attribute without a value (in the channel's locale).
fn missing_attribute(
    attribute: &str,
    product: &Product,
    channel: &Channel,
    schema: &Schema,
) -> Reason {
    let locale_note = if schema.attribute(attribute).is_some_and(|d| d.localized) {
        format!(" in {}", channel.locale)
    } else {
        String::new()
    };
    Reason::new(
        "missing-attribute",
        format!("`{attribute}` is required{locale_note} and has no value"),
    )
    .on(attribute, product, channel)
}

/// Google Merchant Center's rules, each with its source in `docs/src/channels/google-merchant.md`.
fn google_rules(
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
    google_id_and_price(record, view, checks);
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
fn google_id_and_price(record: &ErpRecord, view: &ProductView, checks: &mut Checks) {
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

/// Google's supplemental inventory feed: only what identifies the item and prices it.
fn inventory_rules(record: &ErpRecord, view: &ProductView, checks: &mut Checks) {
    google_id_and_price(record, view, checks);
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

/// Whether `attribute` has a non-empty value for the channel (in its locale if localized).
pub fn has_value(product: &Product, attribute: &str, channel: &Channel, schema: &Schema) -> bool {
    let Some(value) = product.value_for(attribute, &channel.name) else {
        return false;
    };
    let localized = schema.attribute(attribute).is_some_and(|d| d.localized);
    let value = if localized {
        match value.value.get(&channel.locale) {
            Some(value) => value,
            None => return false,
        }
    } else {
        &value.value
    };
    !is_empty(value)
}

#[derive(Default)]
struct Checks {
    total: usize,
    passed: usize,
    reasons: Vec<Reason>,
    warnings: Vec<Reason>,
}

impl Checks {
    fn check(&mut self, ok: bool, reason: impl FnOnce() -> Reason) {
        self.total += 1;
        if ok {
            self.passed += 1;
        } else {
            self.reasons.push(reason());
        }
    }

    fn check_result<E>(&mut self, result: Result<(), E>, reason: impl FnOnce(E) -> Reason) {
        match result {
            Ok(()) => self.check(true, || unreachable!()),
            Err(err) => self.check(false, || reason(err)),
        }
    }

    fn fail(&mut self, reason: Reason) {
        self.check(false, || reason);
    }

    fn warn(&mut self, reason: Reason) {
        self.warnings.push(reason);
    }

    fn verdict(self) -> Verdict {
        let completeness = (self.passed * 100)
            .checked_div(self.total)
            .map_or(100, |percent| percent as u8);
        Verdict {
            included: self.reasons.is_empty(),
            completeness,
            reasons: self.reasons,
            warnings: self.warnings,
        }
    }
}
