//! ERP numbers + enrichment → the view of one product in one channel.
//!
//! The view is what the gate checks and what templates see: every value already resolved to
//! the channel's locale, channel overrides applied, Markdown rendered both ways, and money as
//! exact strings (`"15.00"`), never floats.

use std::borrow::Cow;

use rust_decimal::Decimal;
use serde::Serialize;
use serde_json::Value as Json;

use crate::channels::Channel;
use crate::config::CatalogConfig;
use crate::content::{AttributeType, Categories, Product, Schema};
use crate::erp::ErpRecord;
use crate::money::money;
use crate::text::clean::{clean_json, multi_line, one_line};
use crate::text::markdown;

/// What the merge needs besides the product and its ERP record.
pub struct MergeContext<'a> {
    pub catalog: &'a CatalogConfig,
    pub schema: &'a Schema,
    pub categories: &'a Categories,
}

/// Which renderings of the Markdown description a channel uses. Parsing Markdown is the
/// costliest part of a view, so it is done only for what the channel's output or gate reads.
#[derive(Debug, Clone, Copy, Default)]
pub struct MarkdownNeeds {
    pub html: bool,
    pub text: bool,
}

impl MarkdownNeeds {
    pub fn union(self, other: MarkdownNeeds) -> MarkdownNeeds {
        MarkdownNeeds {
            html: self.html || other.html,
            text: self.text || other.text,
        }
    }
}

/// Which attributes a channel reads from a view's `attributes`. Cleaning, localising and
/// converting every attribute into a template value is much of a view's cost, and the built-in
/// channels read a handful of them by name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttributeNeeds {
    /// Every attribute (a template that reads the whole map, or a preset that says so).
    All,
    /// Only these (none when empty).
    Named(Vec<String>),
}

impl AttributeNeeds {
    pub fn none() -> AttributeNeeds {
        AttributeNeeds::Named(Vec::new())
    }

    pub fn named<S: AsRef<str>>(names: impl IntoIterator<Item = S>) -> AttributeNeeds {
        AttributeNeeds::none().union(&AttributeNeeds::Named(
            names.into_iter().map(|n| n.as_ref().to_string()).collect(),
        ))
    }

    pub fn union(&self, other: &AttributeNeeds) -> AttributeNeeds {
        match (self, other) {
            (AttributeNeeds::Named(mine), AttributeNeeds::Named(theirs)) => {
                let mut names = mine.clone();
                for name in theirs {
                    if !names.contains(name) {
                        names.push(name.clone());
                    }
                }
                AttributeNeeds::Named(names)
            }
            _ => AttributeNeeds::All,
        }
    }

    pub fn wants(&self, name: &str) -> bool {
        match self {
            AttributeNeeds::All => true,
            AttributeNeeds::Named(names) => names.iter().any(|n| n == name),
        }
    }
}

/// A product as one channel sees it.
#[derive(Debug, Clone, Serialize)]
pub struct ProductView {
    pub id: String,
    pub sku: String,
    pub model: Option<String>,
    /// The model code for variants, so channels can group them.
    pub item_group_id: Option<String>,
    pub family: String,
    pub brand: Option<String>,
    pub title: Option<String>,
    /// Markdown as written.
    pub description: Option<String>,
    /// Present only when the channel uses it (see [`MarkdownNeeds`]).
    pub description_html: Option<String>,
    /// Present only when the channel uses it (see [`MarkdownNeeds`]).
    pub description_text: Option<String>,
    pub bullets: Vec<String>,
    pub link: String,
    pub image_link: Option<String>,
    pub additional_image_links: Vec<String>,
    pub images: Vec<ImageView>,
    pub category: Option<CategoryView>,
    /// Canonical availability: `in_stock` or `out_of_stock`; channels map it to their words.
    pub availability: &'static str,
    /// False when the product has neither GTIN nor MPN (Google's `identifier_exists`).
    pub identifier_exists: bool,
    /// Every attribute with a value that the channel reads (see [`AttributeNeeds`]), resolved
    /// to the channel locale.
    pub attributes: tera::Map,
    pub erp: ErpView,
}

#[derive(Debug, Clone, Serialize)]
pub struct ImageView {
    pub url: String,
    pub alt: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct CategoryView {
    pub path: String,
    pub name: String,
    pub google: Option<u32>,
}

/// The ERP numbers, money formatted with two decimals.
#[derive(Debug, Clone, Serialize)]
pub struct ErpView {
    pub price: String,
    pub sale_price: Option<String>,
    pub currency: String,
    pub stock: i64,
    pub gtin: Option<String>,
    pub mpn: Option<String>,
    pub weight: Option<String>,
    pub length: Option<String>,
    pub width: Option<String>,
    pub height: Option<String>,
    pub unit: Option<String>,
    pub pack_size: Option<u32>,
    pub active: bool,
    pub price_tiers: Vec<PriceTierView>,
}

#[derive(Debug, Clone, Serialize)]
pub struct PriceTierView {
    pub min_qty: u32,
    pub price: String,
}

#[cfg(test)]
impl ErpView {
    /// Numbers in euros with a price and stock and nothing else, for tests to fill in.
    pub fn example(price: &str, stock: i64) -> Self {
        ErpView {
            price: price.into(),
            sale_price: None,
            currency: "EUR".into(),
            stock,
            gtin: None,
            mpn: None,
            weight: None,
            length: None,
            width: None,
            height: None,
            unit: None,
            pack_size: None,
            active: true,
            price_tiers: Vec::new(),
        }
    }
}

impl ErpView {
    /// The numbers as a channel selling in `channel_currency` publishes them: the price of
    /// that currency's price list when the record has one (without the price tiers, which
    /// are in the ERP's currency). A sale price that is not below the price is never
    /// published, in any channel: it is a mistake in the ERP, which the gate warns about.
    pub fn new(record: &ErpRecord, default_currency: &str, channel_currency: &str) -> Self {
        let plain = |d: &Option<Decimal>| d.map(|d| d.normalize().to_string());
        let listed = record.prices.get(channel_currency);
        let (price, sale_price) = match listed {
            Some(listed) => (listed.price, listed.sale_price),
            None => (record.price, record.sale_price),
        };
        Self {
            price: money(price),
            sale_price: sale_price.filter(|sale| *sale < price).map(money),
            currency: match listed {
                Some(_) => channel_currency.to_string(),
                None => record
                    .currency
                    .clone()
                    .unwrap_or_else(|| default_currency.to_string()),
            },
            stock: record.stock,
            gtin: record.gtin.clone(),
            mpn: record.mpn.as_deref().map(|m| one_line(m).into_owned()),
            weight: plain(&record.weight),
            length: plain(&record.length),
            width: plain(&record.width),
            height: plain(&record.height),
            unit: record.unit.as_deref().map(|u| one_line(u).into_owned()),
            pack_size: record.pack_size,
            active: record.active,
            price_tiers: record
                .price_tiers
                .iter()
                .filter(|_| listed.is_none())
                .map(|tier| PriceTierView {
                    min_qty: tier.min_qty,
                    price: money(tier.price),
                })
                .collect(),
        }
    }
}

/// Builds the view of `product` in `channel`. Only the channel's locale and its overrides
/// matter, so channels of one locale without overrides for a product share one view.
pub fn view(
    product: &Product,
    record: &ErpRecord,
    channel: &Channel,
    ctx: &MergeContext<'_>,
    markdown_needs: MarkdownNeeds,
    attribute_needs: &AttributeNeeds,
) -> ProductView {
    let locale = channel.locale.as_str();
    let resolved = |name: &str| -> Option<&Json> {
        let value = &product.value_for(name, &channel.name)?.value;
        let localized = ctx.schema.attribute(name).is_some_and(|def| def.localized);
        let value = if localized {
            field(value, locale)?
        } else {
            value
        };
        (!is_empty(value)).then_some(value)
    };
    let text = |name: &str| resolved(name).and_then(Json::as_str).map(str::to_string);
    // One-line fields carry no control or bidi characters in any channel; descriptions keep
    // their line breaks (every built-in channel takes them).
    let line = |name: &str| text(name).map(|t| one_line(&t).into_owned());

    let written = resolved("description").and_then(Json::as_str);
    let cleaned = written.map(multi_line);
    // Cleaning seldom changes a description; when it does not, its plain text may have been
    // worked out already, for the quality checks.
    let plain_text_known = match (written, &cleaned) {
        (Some(written), Some(Cow::Borrowed(_))) => product.plain_description(locale, written),
        _ => None,
    };
    let description = cleaned.map(Cow::into_owned);
    let images: Vec<ImageView> = resolved("images")
        .and_then(Json::as_array)
        .map(|items| items.iter().map(|item| image_view(item, locale)).collect())
        .or_else(|| resolved("image").map(|item| vec![image_view(item, locale)]))
        .unwrap_or_default();
    let category = resolved("category").and_then(Json::as_str).map(|path| {
        let found = ctx.categories.get(path);
        CategoryView {
            path: path.to_string(),
            name: one_line(ctx.categories.display_name(path, locale)).into_owned(),
            google: found.and_then(|c| c.google),
        }
    });

    let mut attributes = tera::Map::new();
    let names = product.values.keys().chain(
        product
            .channels
            .get(&channel.name)
            .into_iter()
            .flat_map(|c| c.keys()),
    );
    for name in names.filter(|name| attribute_needs.wants(name)) {
        if let Some(value) = resolved(name) {
            let kind = ctx.schema.attribute(name).map(|d| d.kind);
            let rich_text = kind == Some(AttributeType::RichText);
            let value = clean_json(value, rich_text);
            let value = match kind {
                Some(AttributeType::Image | AttributeType::ImageList) => {
                    localize_assets(&value, "alt", locale)
                }
                Some(AttributeType::AssetList) => localize_assets(&value, "title", locale),
                _ => value.into_owned(),
            };
            attributes.insert(name.clone().into(), template_value(&value));
        }
    }

    let erp = ErpView::new(record, &ctx.catalog.currency, &channel.currency);
    let additional_image_links = images.iter().skip(1).map(|i| i.url.clone()).collect();
    ProductView {
        id: one_line(&product.sku).into_owned(),
        sku: product.sku.clone(),
        model: product.model.clone(),
        item_group_id: product.model.clone(),
        family: product.family.clone(),
        brand: line("brand"),
        title: line("title"),
        description_html: description
            .as_deref()
            .filter(|_| markdown_needs.html)
            .map(markdown::to_html)
            .map(|html| multi_line(&html).into_owned()),
        description_text: description
            .as_deref()
            .filter(|_| markdown_needs.text)
            .map(|d| plain_text_known.map_or_else(|| markdown::to_plain_text(d), str::to_string)),
        description,
        bullets: resolved("bullets")
            .and_then(Json::as_array)
            .map(|items| {
                items
                    .iter()
                    .filter_map(Json::as_str)
                    .map(|bullet| one_line(bullet).into_owned())
                    .collect()
            })
            .unwrap_or_default(),
        link: product_link(ctx.catalog, locale, &product.sku),
        image_link: images.first().map(|i| i.url.clone()),
        additional_image_links,
        images,
        category,
        availability: if record.stock > 0 {
            "in_stock"
        } else {
            "out_of_stock"
        },
        identifier_exists: record.gtin.is_some() || record.mpn.is_some(),
        attributes,
        erp,
    }
}

/// `value[key]` of an object, else `None`. Content objects are small (a value per locale, an
/// image's `url` and `alt`): comparing their few keys is cheaper than hashing the one looked
/// for, which serde_json's map does with SipHash. Views look such keys up for every product.
fn field<'v>(value: &'v Json, key: &str) -> Option<&'v Json> {
    match value {
        Json::Object(map) if map.len() <= 8 => map.iter().find(|(k, _)| *k == key).map(|(_, v)| v),
        _ => value.get(key),
    }
}

fn image_view(item: &Json, locale: &str) -> ImageView {
    ImageView {
        url: field(item, "url")
            .and_then(Json::as_str)
            .unwrap_or_default()
            .to_string(),
        alt: field(item, "alt")
            .and_then(|alt| field(alt, locale))
            .and_then(Json::as_str)
            .map(|alt| one_line(alt).into_owned()),
    }
}

/// Images and documents carry their texts per locale; templates want the channel's one.
fn localize_assets(value: &Json, label: &str, locale: &str) -> Json {
    let localize = |item: &Json| {
        let mut item = item.clone();
        if let Some(object) = item.as_object_mut()
            && let Some(texts) = object.get(label)
        {
            let text = texts.get(locale).cloned().unwrap_or(Json::Null);
            object.insert(label.to_string(), text);
        }
        item
    };
    match value {
        Json::Array(items) => Json::Array(items.iter().map(localize).collect()),
        item => localize(item),
    }
}

/// `link_pattern` filled in for one product; the SKU is percent-encoded for the path.
///
/// Every product has a link in every locale of every channel, so the pattern is filled in
/// one pass into one string. Only the pattern's own placeholders are filled in: a `{sku}` in
/// the base URL stays as it is.
pub fn product_link(catalog: &CatalogConfig, locale: &str, sku: &str) -> String {
    let base_url = catalog.base_url.trim_end_matches('/');
    let pattern = catalog.link_pattern.as_str();
    let mut link = String::with_capacity(pattern.len() + base_url.len() + 3 * sku.len());
    let mut rest = pattern;
    while let Some(open) = rest.find('{') {
        link.push_str(&rest[..open]);
        let tail = &rest[open..];
        let filled = [
            ("{base_url}", LinkPart::BaseUrl),
            ("{locale}", LinkPart::Locale),
            ("{lang}", LinkPart::Lang),
            ("{sku}", LinkPart::Sku),
        ]
        .into_iter()
        .find(|(placeholder, _)| tail.starts_with(placeholder));
        rest = match filled {
            Some((placeholder, part)) => {
                match part {
                    LinkPart::BaseUrl => link.push_str(base_url),
                    LinkPart::Locale => link.push_str(locale),
                    LinkPart::Lang => push_lowercase(&mut link, language(locale)),
                    LinkPart::Sku => push_sku_segment(&mut link, sku),
                }
                &tail[placeholder.len()..]
            }
            None => {
                link.push('{');
                &tail[1..]
            }
        };
    }
    link.push_str(rest);
    link
}

/// What a placeholder of `link_pattern` is filled in with.
enum LinkPart {
    BaseUrl,
    Locale,
    Lang,
    Sku,
}

/// The language of a BCP 47 tag: `nl` of `nl-NL`.
fn language(locale: &str) -> &str {
    locale.split('-').next().unwrap_or(locale)
}

fn push_lowercase(out: &mut String, text: &str) {
    if text.is_ascii() {
        out.extend(text.bytes().map(|b| char::from(b.to_ascii_lowercase())));
    } else {
        out.push_str(&text.to_lowercase());
    }
}

/// The SKU as a path segment: lower-cased, every byte but the unreserved ones percent-encoded
/// (two capital hex digits).
fn push_sku_segment(out: &mut String, sku: &str) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let lower;
    let bytes = if sku.is_ascii() {
        sku.as_bytes()
    } else {
        // Unicode lower-casing can depend on the letters around (a final sigma).
        lower = sku.to_lowercase();
        lower.as_bytes()
    };
    for &b in bytes {
        match b.to_ascii_lowercase() {
            b @ (b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~') => out.push(char::from(b)),
            b => {
                out.push('%');
                out.push(char::from(HEX[usize::from(b >> 4)]));
                out.push(char::from(HEX[usize::from(b & 0xf)]));
            }
        }
    }
}

/// Whether a value counts as missing for completeness: empty strings and lists.
pub fn is_empty(value: &Json) -> bool {
    match value {
        Json::Null => true,
        Json::String(s) => s.trim().is_empty(),
        Json::Array(items) => items.is_empty(),
        Json::Object(map) => map.is_empty(),
        _ => false,
    }
}

/// Converts checked content values into template values. Numbers become integers when
/// whole and floats otherwise: templates only display attribute numbers (money never
/// takes this path).
pub fn template_value(value: &Json) -> tera::Value {
    match value {
        Json::Null => tera::Value::none(),
        Json::Bool(b) => (*b).into(),
        Json::Number(n) => match n.as_i64() {
            Some(i) => i.into(),
            None => n
                .to_string()
                .parse::<f64>()
                .map_or_else(|_| n.to_string().into(), Into::into),
        },
        Json::String(s) => s.as_str().into(),
        Json::Array(items) => items.iter().map(template_value).collect::<Vec<_>>().into(),
        Json::Object(map) => {
            let mut out = tera::Map::new();
            for (key, item) in map {
                out.insert(key.clone().into(), template_value(item));
            }
            tera::Value::from(out)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_field_is_found_in_small_and_large_objects_alike() {
        let small = serde_json::json!({"nl-NL": "a", "en-GB": "b"});
        assert_eq!(field(&small, "en-GB"), Some(&Json::from("b")));
        assert_eq!(field(&small, "de-DE"), None);
        let large: serde_json::Map<String, Json> =
            (0..20).map(|i| (format!("k{i}"), Json::from(i))).collect();
        let large = Json::Object(large);
        assert_eq!(field(&large, "k17"), Some(&Json::from(17)));
        assert_eq!(field(&large, "k20"), None);
        assert_eq!(field(&Json::from("text"), "nl-NL"), None);
        assert_eq!(field(&serde_json::json!(["nl-NL"]), "nl-NL"), None);
    }

    #[test]
    fn link_is_built_from_the_pattern() {
        let catalog = CatalogConfig::example("https://shop.example/", &["nl-NL"]);
        assert_eq!(
            product_link(&catalog, "nl-NL", "MK DHP/485"),
            "https://shop.example/nl/p/mk%20dhp%2F485"
        );
        // Bytes above 0x7F and below 0x10 are two hex digits each, capitals.
        assert_eq!(
            product_link(&catalog, "nl-NL", "Ä\u{1}~x"),
            "https://shop.example/nl/p/%C3%A4%01~x"
        );
    }

    #[test]
    fn link_fills_in_only_the_patterns_own_placeholders() {
        let catalog = CatalogConfig {
            link_pattern: "{base_url}/{{lang}}/{locale}/{unknown}/{sku}{".into(),
            ..CatalogConfig::example("https://{sku}.example", &["pt-BR"])
        };
        assert_eq!(
            product_link(&catalog, "PT-br", "ΟΔΟΣ Ab"),
            "https://{sku}.example/{pt}/PT-br/{unknown}/%CE%BF%CE%B4%CE%BF%CF%82%20ab{"
        );
    }
}
