//! The `webshop-json` preset: every product with all its locales and its ERP numbers, for a
//! webshop's import. Built with serde rather than a template, so it is valid JSON by
//! construction; money is written as exact JSON numbers (`12.50`), never through a float.

use std::io::{self, Write};
use std::str::FromStr;

use serde_json::{Map, Number, Value, json};

use crate::channels::Channel;
use crate::content::Product;
use crate::merge::{MergeContext, ProductView, product_link};

pub fn header(ctx: &MergeContext<'_>, channel: &Channel, out: &mut dyn Write) -> io::Result<()> {
    let catalog = json!({
        "name": ctx.catalog.name,
        "base_url": ctx.catalog.base_url,
        "locales": ctx.catalog.locales,
        "currency": channel.currency,
    });
    write!(out, "{{\"catalog\":{catalog},\"products\":[")
}

pub fn item(
    product: &Product,
    view: &ProductView,
    ctx: &MergeContext<'_>,
    channel: &Channel,
    out: &mut dyn Write,
) -> io::Result<()> {
    let mut attributes = Map::new();
    for (name, value) in &product.values {
        attributes.insert(name.clone(), value.value.clone());
    }
    if let Some(overrides) = product.channels.get(&channel.name) {
        for (name, value) in overrides {
            attributes.insert(name.clone(), value.value.clone());
        }
    }
    let locales = &ctx.catalog.locales;
    let per_locale = |make: &dyn Fn(&str) -> Option<String>| -> Value {
        let mut map = Map::new();
        for locale in locales {
            if let Some(text) = make(locale) {
                map.insert(locale.clone(), Value::String(text));
            }
        }
        Value::Object(map)
    };
    let description = attributes.get("description").cloned();
    let description_html = per_locale(&|locale| {
        description
            .as_ref()
            .and_then(|d| d.get(locale))
            .and_then(Value::as_str)
            .map(crate::render::markdown::to_html)
    });
    let category = view.category.as_ref().map(|c| {
        let names =
            per_locale(&|locale| Some(ctx.categories.display_name(&c.path, locale).to_string()));
        json!({ "path": c.path, "name": names, "google": c.google })
    });
    let erp = &view.erp;
    let money =
        |text: &str| Number::from_str(text).map_or(Value::String(text.to_string()), Value::Number);
    let tiers: Vec<Value> = erp
        .price_tiers
        .iter()
        .map(|t| json!({ "min_qty": t.min_qty, "price": money(&t.price) }))
        .collect();
    let measure = |v: &Option<String>| v.as_deref().map(money);
    let document = json!({
        "sku": product.sku,
        "model": product.model,
        "family": product.family,
        "link": per_locale(&|locale| Some(product_link(ctx.catalog, locale, &product.sku))),
        "category": category,
        "attributes": attributes,
        "description_html": description_html,
        "availability": view.availability,
        "erp": {
            "price": money(&erp.price),
            "sale_price": erp.sale_price.as_deref().map(money),
            "currency": erp.currency,
            "stock": erp.stock,
            "gtin": erp.gtin,
            "mpn": erp.mpn,
            "weight": measure(&erp.weight),
            "length": measure(&erp.length),
            "width": measure(&erp.width),
            "height": measure(&erp.height),
            "unit": erp.unit,
            "pack_size": erp.pack_size,
            "price_tiers": tiers,
        },
    });
    out.write_all(b"\n")?;
    serde_json::to_writer(&mut *out, &document).map_err(io::Error::other)
}
