//! The message of one product written straight as JSON bytes, the same bytes as serialising
//! [`super::listing::message`] (which the gate keeps for checking a listing against its
//! product type's definition): no tree of JSON values to allocate per product.
//!
//! Object members come in the order `message` inserts them; an Amazon attribute a mapping in
//! `[channels.NAME.attributes]` sets again keeps its first place and takes the later value, as
//! an insertion-ordered map does. The unit tests compare both on every branch.

use std::ops::Range;

use super::limits as amazon;
use super::listing::{LISTING_ATTRIBUTES, Listing, condition_type, identifier_type, listing};
use super::settings::AmazonSettings;
use crate::gtin;
use crate::merge::ProductView;
use crate::presets::json_bytes::{array, money, object, string};
use crate::presets::view::attribute_text;

/// Appends the message of `view` (as `serde_json::to_writer(message(…))` would) to `out`.
pub(super) fn write_message(
    view: &ProductView,
    currency: &str,
    settings: &AmazonSettings,
    out: &mut Vec<u8>,
) {
    let marketplace = settings.marketplace_id.as_str();
    let language = settings.issue_locale.as_str();
    let mut attributes = Members::default();
    let listing = listing(view, settings);
    let (product_type, requirements) = match &listing {
        Listing::OfferOnly { asin } => {
            attributes.set("merchant_suggested_asin", |out| {
                out.extend_from_slice(b"[{\"value\":");
                string(out, asin);
                marketplace_end(out, marketplace, b"}]");
            });
            let product_type = settings
                .product_types
                .get(&view.family)
                .map_or(amazon::OFFER_ONLY_PRODUCT_TYPE, String::as_str);
            (product_type, "LISTING_OFFER_ONLY")
        }
        Listing::Full { product_type } => {
            let text = |out: &mut Vec<u8>, value: &str| {
                out.extend_from_slice(b"{\"value\":");
                string(out, value);
                out.extend_from_slice(b",\"language_tag\":");
                string(out, language);
                marketplace_end(out, marketplace, b"}");
            };
            let texts = |out: &mut Vec<u8>, values: &mut dyn Iterator<Item = &str>| {
                array(out, values, |out, value| text(out, value));
            };
            if let Some(title) = &view.title {
                attributes.set("item_name", |out| {
                    texts(out, &mut [title.as_str()].into_iter())
                });
            }
            if let Some(brand) = &view.brand {
                attributes.set("brand", |out| texts(out, &mut [brand.as_str()].into_iter()));
            }
            if !view.bullets.is_empty() {
                attributes.set("bullet_point", |out| {
                    texts(out, &mut view.bullets.iter().map(String::as_str))
                });
            }
            if let Some(description) = &view.description_text {
                attributes.set("product_description", |out| {
                    texts(out, &mut [description.as_str()].into_iter())
                });
            }
            if let Some(code) = view
                .erp
                .gtin
                .as_deref()
                .and_then(|g| gtin::validate(g).ok())
            {
                attributes.set("externally_assigned_product_identifier", |out| {
                    out.extend_from_slice(b"[{\"type\":");
                    string(out, identifier_type(&code));
                    out.extend_from_slice(b",\"value\":");
                    string(out, &code);
                    marketplace_end(out, marketplace, b"}]");
                });
            }
            for name in LISTING_ATTRIBUTES {
                if let Some(value) = attribute_text(view, name) {
                    attributes.set(name, |out| texts(out, &mut [value.as_str()].into_iter()));
                }
            }
            let mut images = view.images.iter().map(|i| i.url.as_str());
            let image = |out: &mut Vec<u8>, url: &str| {
                out.extend_from_slice(b"[{\"media_location\":");
                string(out, url);
                marketplace_end(out, marketplace, b"}]");
            };
            if let Some(main) = images.next() {
                attributes.set("main_product_image_locator", |out| image(out, main));
            }
            for (index, url) in images.take(amazon::OTHER_IMAGES_MAX).enumerate() {
                let name = format!("other_product_image_locator_{}", index + 1);
                attributes.set(&name, |out| image(out, url));
            }
            for (name, mapping) in &settings.attributes {
                if let Some(value) = mapping.value(view) {
                    attributes.set(name, |out| match mapping.localized {
                        true => texts(out, &mut [value.as_str()].into_iter()),
                        false => {
                            out.extend_from_slice(b"[{\"value\":");
                            string(out, &value);
                            marketplace_end(out, marketplace, b"}]");
                        }
                    });
                }
            }
            (product_type.as_deref().unwrap_or_default(), "LISTING")
        }
    };
    attributes.set("condition_type", |out| {
        out.extend_from_slice(b"[{\"value\":");
        string(out, condition_type(settings.condition));
        marketplace_end(out, marketplace, b"}]");
    });
    // Older product type definitions refuse `audience`; without one, it is sent.
    let audience = settings
        .definitions
        .get(product_type)
        .is_none_or(|definition| definition.offer_audience);
    attributes.set("purchasable_offer", |out| {
        purchasable_offer(out, view, currency, marketplace, audience)
    });
    attributes.set("fulfillment_availability", |out| {
        out.extend_from_slice(b"[{\"fulfillment_channel_code\":\"DEFAULT\",\"quantity\":");
        out.extend_from_slice(view.erp.stock.max(0).to_string().as_bytes());
        out.extend_from_slice(b"}]");
    });

    out.extend_from_slice(b"{\"sku\":");
    string(out, &view.sku);
    out.extend_from_slice(b",\"operationType\":\"UPDATE\",\"productType\":");
    string(out, product_type);
    out.extend_from_slice(b",\"requirements\":");
    string(out, requirements);
    out.extend_from_slice(b",\"attributes\":");
    attributes.write(out);
    out.push(b'}');
}

/// `purchasable_offer`, as `listing::purchasable_offer` builds it.
fn purchasable_offer(
    out: &mut Vec<u8>,
    view: &ProductView,
    currency: &str,
    marketplace: &str,
    audience: bool,
) {
    out.extend_from_slice(b"[{\"currency\":");
    string(out, currency);
    out.extend_from_slice(b",\"marketplace_id\":");
    string(out, marketplace);
    out.extend_from_slice(b",\"our_price\":[{\"schedule\":[{\"value_with_tax\":");
    money(out, &view.erp.price);
    out.extend_from_slice(b"}]}]");
    if audience {
        out.extend_from_slice(b",\"audience\":\"ALL\"");
    }
    if let Some(sale) = crate::presets::view::sale_price(view) {
        out.extend_from_slice(b",\"discounted_price\":[{\"schedule\":[{\"value_with_tax\":");
        money(out, sale);
        out.extend_from_slice(b",\"start_at\":");
        string(out, amazon::OPEN_SALE_START);
        out.extend_from_slice(b",\"end_at\":");
        string(out, amazon::OPEN_SALE_END);
        out.extend_from_slice(b"}]}]");
    }
    out.extend_from_slice(b"}]");
}

/// `,"marketplace_id":"…"` and the closing bytes.
fn marketplace_end(out: &mut Vec<u8>, marketplace: &str, end: &[u8]) {
    out.extend_from_slice(b",\"marketplace_id\":");
    string(out, marketplace);
    out.extend_from_slice(end);
}

/// The members of an object in insertion order, their values already written; setting a
/// member again replaces its value in place.
#[derive(Default)]
struct Members {
    names: Vec<(String, Range<usize>)>,
    values: Vec<u8>,
}

impl Members {
    fn set(&mut self, name: &str, write: impl FnOnce(&mut Vec<u8>)) {
        let start = self.values.len();
        write(&mut self.values);
        let range = start..self.values.len();
        match self.names.iter_mut().find(|(n, _)| n == name) {
            Some((_, old)) => *old = range,
            None => self.names.push((name.to_string(), range)),
        }
    }

    fn write(&self, out: &mut Vec<u8>) {
        let members = self
            .names
            .iter()
            .map(|(name, range)| (name.as_str(), range));
        object(out, members, |out, range| {
            out.extend_from_slice(&self.values[range.clone()]);
        });
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::config::{AttributeMapping, Condition};
    use crate::merge::{ErpView, ImageView, PriceTierView};

    fn view(sku: &str) -> ProductView {
        let mut attributes = tera::Map::new();
        attributes.insert("color".into(), "Blauw \"navy\"\n".into());
        attributes.insert("size".into(), 42.into());
        attributes.insert("material".into(), "katoen/\u{1}polyester".into());
        ProductView {
            id: sku.into(),
            sku: sku.into(),
            model: None,
            item_group_id: None,
            family: "workwear".into(),
            brand: Some("Snickers Workwear".into()),
            title: Some("Werkshirt <XL> & \\ \u{7f} ünï".into()),
            description: None,
            description_html: None,
            description_text: Some("Regel één\nRegel twee\t\u{2028}".into()),
            bullets: vec!["Sterk".into(), "Licht".into()],
            link: "https://shop.example/nl/p/x".into(),
            image_link: None,
            additional_image_links: Vec::new(),
            images: (1..=12)
                .map(|n| ImageView {
                    url: format!("https://cdn.example/{sku}-{n}.jpg"),
                    alt: None,
                })
                .collect(),
            category: None,
            availability: "in_stock",
            identifier_exists: true,
            attributes,
            erp: ErpView {
                sale_price: Some("12.50".into()),
                gtin: Some("4006381333931".into()),
                price_tiers: vec![PriceTierView {
                    min_qty: 10,
                    price: "14.00".into(),
                }],
                ..ErpView::example("15.00", 7)
            },
        }
    }

    fn settings() -> AmazonSettings {
        AmazonSettings {
            condition: Condition::New,
            seller_id: "A3EXAMPLESELLER".into(),
            marketplace_id: "A1805IZSGTT6HS".into(),
            issue_locale: "nl_NL".into(),
            product_types: BTreeMap::from([("workwear".into(), "SHIRT".into())]),
            offer_only: false,
            attributes: BTreeMap::new(),
            definitions: BTreeMap::new(),
        }
    }

    fn mapping(
        attribute: Option<&str>,
        default: Option<&str>,
        localized: bool,
    ) -> AttributeMapping {
        AttributeMapping {
            attribute: attribute.map(str::to_string),
            brand: BTreeMap::new(),
            family: BTreeMap::new(),
            default: default.map(str::to_string),
            localized,
        }
    }

    fn same_bytes(view: &ProductView, currency: &str, settings: &AmazonSettings) {
        let expected =
            serde_json::to_vec(&super::super::listing::message(view, currency, settings)).unwrap();
        let mut written = Vec::new();
        write_message(view, currency, settings, &mut written);
        assert_eq!(
            String::from_utf8(written).unwrap(),
            String::from_utf8(expected).unwrap()
        );
    }

    #[test]
    fn written_messages_are_the_serialised_messages_byte_for_byte() {
        let full = view("SN-1");
        let mut settings = settings();
        same_bytes(&full, "EUR", &settings);

        // Mappings, one of them over an attribute the message sets itself, one over a
        // member set later, localized or not.
        settings.attributes = BTreeMap::from([
            ("color".into(), mapping(None, Some("rood"), true)),
            ("condition_type".into(), mapping(None, Some("x"), false)),
            ("country_of_origin".into(), mapping(None, Some("SE"), false)),
            ("fabric_type".into(), mapping(Some("material"), None, true)),
            ("unset".into(), mapping(Some("nothing"), None, false)),
        ]);
        same_bytes(&full, "EUR", &settings);

        // Bare: no texts, no GTIN, no images, no sale, a price that is not a number,
        // negative stock, a family without a product type.
        let mut bare = view("SN-2");
        bare.title = None;
        bare.brand = None;
        bare.bullets.clear();
        bare.description_text = None;
        bare.images.clear();
        bare.attributes = tera::Map::new();
        bare.erp.gtin = Some("123".into());
        bare.erp.sale_price = None;
        bare.erp.price = "n/a".into();
        bare.erp.stock = -3;
        bare.family = "fasteners".into();
        same_bytes(&bare, "GBP", &settings);
        bare.erp.gtin = Some("012000007897".into());
        same_bytes(&bare, "GBP", &settings);

        // Offer-only: by ASIN, and for every product.
        let mut offer = view("SN-3");
        offer.attributes.insert("asin".into(), "B0EXAMPLE1".into());
        same_bytes(&offer, "EUR", &settings);
        settings.offer_only = true;
        settings.condition = Condition::Used;
        same_bytes(&view("SN-4"), "EUR", &settings);
    }
}
