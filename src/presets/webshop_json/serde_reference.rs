//! The webshop item as it was first written, through serde: a tree of maps and JSON values
//! serialised by serde_json. [`super::item_bytes`] writes the same bytes without the tree;
//! the tests here hold it to this reference on hostile content.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::io::{self, Write};
use std::str::FromStr;

use serde::Serialize;
use serde_json::{Number, Value};

use crate::channels::Channel;
use crate::content::{AttributeType, Product};
use crate::merge::{MergeContext, ProductView, product_link};
use crate::text::clean::{clean_json, one_line};

pub(super) fn item(
    product: &Product,
    view: &ProductView,
    ctx: &MergeContext<'_>,
    channel: &Channel,
    out: &mut dyn Write,
) -> io::Result<()> {
    // Borrowed, not cloned: this runs once per product of catalogs with a million of them.
    let mut raw: BTreeMap<&str, &Value> = product
        .values
        .iter()
        .map(|(name, value)| (name.as_str(), &*value.value))
        .collect();
    if let Some(overrides) = product.channels.get(&channel.name) {
        raw.extend(
            overrides
                .iter()
                .map(|(name, value)| (name.as_str(), &*value.value)),
        );
    }
    // Copied only when a value holds control or bidi characters to drop.
    let attributes: BTreeMap<&str, Cow<'_, Value>> = raw
        .into_iter()
        .map(|(name, value)| {
            let rich_text = ctx
                .schema
                .attribute(name)
                .is_some_and(|d| d.kind == AttributeType::RichText);
            (name, clean_json(value, rich_text))
        })
        .collect();
    let locales = &ctx.catalog.locales;
    let description = attributes.get("description").map(|d| &**d);
    let description_html = locales
        .iter()
        .filter_map(|locale| {
            let text = description?.get(locale)?.as_str()?;
            Some((locale.as_str(), crate::text::markdown::to_html(text)))
        })
        .collect();
    let category = view.category.as_ref().map(|c| WebshopCategory {
        path: &c.path,
        name: locales
            .iter()
            .map(|locale| {
                (
                    locale.as_str(),
                    one_line(ctx.categories.display_name(&c.path, locale)),
                )
            })
            .collect(),
        google: c.google,
    });
    let erp = &view.erp;
    let document = WebshopItem {
        sku: &product.sku,
        model: product.model.as_deref(),
        family: &product.family,
        link: locales
            .iter()
            .map(|locale| {
                (
                    locale.as_str(),
                    product_link(ctx.catalog, locale, &product.sku),
                )
            })
            .collect(),
        category,
        attributes,
        description_html,
        availability: view.availability,
        erp: WebshopErp {
            price: money(&erp.price),
            sale_price: erp.sale_price.as_deref().map(money),
            currency: &erp.currency,
            stock: erp.stock,
            gtin: erp.gtin.as_deref(),
            mpn: erp.mpn.as_deref(),
            weight: erp.weight.as_deref().map(money),
            length: erp.length.as_deref().map(money),
            width: erp.width.as_deref().map(money),
            height: erp.height.as_deref().map(money),
            unit: erp.unit.as_deref(),
            pack_size: erp.pack_size,
            price_tiers: erp
                .price_tiers
                .iter()
                .map(|t| WebshopTier {
                    min_qty: t.min_qty,
                    price: money(&t.price),
                })
                .collect(),
        },
    };
    out.write_all(b"\n")?;
    serde_json::to_writer(&mut *out, &document).map_err(io::Error::other)
}

#[derive(Serialize)]
struct WebshopItem<'a> {
    sku: &'a str,
    model: Option<&'a str>,
    family: &'a str,
    link: BTreeMap<&'a str, String>,
    category: Option<WebshopCategory<'a>>,
    attributes: BTreeMap<&'a str, Cow<'a, Value>>,
    description_html: BTreeMap<&'a str, String>,
    availability: &'a str,
    erp: WebshopErp<'a>,
}

#[derive(Serialize)]
struct WebshopCategory<'a> {
    path: &'a str,
    name: BTreeMap<&'a str, Cow<'a, str>>,
    google: Option<u32>,
}

#[derive(Serialize)]
struct WebshopErp<'a> {
    price: Value,
    sale_price: Option<Value>,
    currency: &'a str,
    stock: i64,
    gtin: Option<&'a str>,
    mpn: Option<&'a str>,
    weight: Option<Value>,
    length: Option<Value>,
    width: Option<Value>,
    height: Option<Value>,
    unit: Option<&'a str>,
    pack_size: Option<u32>,
    price_tiers: Vec<WebshopTier>,
}

#[derive(Serialize)]
struct WebshopTier {
    min_qty: u32,
    price: Value,
}

/// An exact JSON number from a decimal string (`arbitrary_precision` keeps `12.50` as is).
fn money(text: &str) -> Value {
    Number::from_str(text).map_or(Value::String(text.to_string()), Value::Number)
}
