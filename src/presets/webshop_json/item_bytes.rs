//! One product of the webshop feed written straight as JSON bytes: the same bytes as
//! serialising the item's tree of maps and JSON values with serde_json (the tests hold it to
//! that reference, `serde_reference.rs`), without building the tree for every product.
//!
//! Maps keyed by locale or attribute name come out sorted by key, as the reference's
//! `BTreeMap`s do: the catalog's locales are sorted once per item, and a product's attributes
//! (and its channel overrides) are already kept sorted by name.

use std::borrow::Cow;
use std::cmp::Ordering;
use std::collections::btree_map;
use std::iter::Peekable;

use serde_json::Value;

use crate::channels::Channel;
use crate::content::{AttrValue, AttributeType, Product};
use crate::merge::{ErpView, MergeContext, ProductView, product_link};
use crate::presets::json_bytes::{array, json_value, money, object, optional, serialize, string};
use crate::text::clean::{clean_json, one_line};

/// Appends `"\n"` and the product's item to `out`.
pub(super) fn write_item(
    product: &Product,
    view: &ProductView,
    ctx: &MergeContext<'_>,
    channel: &Channel,
    out: &mut Vec<u8>,
) {
    let mut locales: Vec<&str> = ctx.catalog.locales.iter().map(String::as_str).collect();
    locales.sort_unstable();
    locales.dedup();

    out.extend_from_slice(b"\n{\"sku\":");
    string(out, &product.sku);
    out.extend_from_slice(b",\"model\":");
    optional(out, product.model.as_deref(), string);
    out.extend_from_slice(b",\"family\":");
    string(out, &product.family);
    out.extend_from_slice(b",\"link\":");
    object(
        out,
        locales.iter().map(|locale| (*locale, *locale)),
        |out, locale| {
            string(out, &product_link(ctx.catalog, locale, &product.sku));
        },
    );
    out.extend_from_slice(b",\"category\":");
    optional(out, view.category.as_ref(), |out, category| {
        out.extend_from_slice(b"{\"path\":");
        string(out, &category.path);
        out.extend_from_slice(b",\"name\":");
        object(
            out,
            locales.iter().map(|locale| (*locale, *locale)),
            |out, locale| {
                string(
                    out,
                    &one_line(ctx.categories.display_name(&category.path, locale)),
                );
            },
        );
        out.extend_from_slice(b",\"google\":");
        optional(out, category.google, |out, google| serialize(out, &google));
        out.push(b'}');
    });
    out.extend_from_slice(b",\"attributes\":");
    let description = write_attributes(product, ctx, channel, out);
    out.extend_from_slice(b",\"description_html\":");
    let described = locales.iter().filter_map(|locale| {
        let text = description.as_deref()?.get(*locale)?.as_str()?;
        Some((*locale, (*locale, text)))
    });
    object(out, described, |out, (locale, text)| {
        string(out, &product.description_html(locale, text));
    });
    out.extend_from_slice(b",\"availability\":");
    string(out, view.availability);
    out.extend_from_slice(b",\"erp\":");
    write_erp(&view.erp, out);
    out.push(b'}');
}

/// The product's attributes with the channel's overrides in their place, every value
/// cleaned of control and bidi characters (rich text keeping its line breaks), as one object;
/// returns the cleaned description, which the HTML renderings are made from.
fn write_attributes<'p>(
    product: &'p Product,
    ctx: &MergeContext<'_>,
    channel: &Channel,
    out: &mut Vec<u8>,
) -> Option<Cow<'p, Value>> {
    let overrides = product.channels.get(&channel.name);
    let merged = Merged {
        own: product.values.iter().peekable(),
        overrides: overrides.into_iter().flatten().peekable(),
    };
    let mut description = None;
    out.push(b'{');
    for (index, (name, value)) in merged.enumerate() {
        if index > 0 {
            out.push(b',');
        }
        let rich_text = ctx
            .schema
            .attribute(name)
            .is_some_and(|d| d.kind == AttributeType::RichText);
        let cleaned = clean_json(&value.value, rich_text);
        string(out, name);
        out.push(b':');
        json_value(out, &cleaned);
        if name == "description" {
            description = Some(cleaned);
        }
    }
    out.push(b'}');
    description
}

/// Two maps sorted by name merged into one sorted sequence; on a name both have, the
/// override's value.
struct Merged<'p, O: Iterator<Item = (&'p String, &'p AttrValue)>> {
    own: Peekable<btree_map::Iter<'p, String, AttrValue>>,
    overrides: Peekable<O>,
}

impl<'p, O: Iterator<Item = (&'p String, &'p AttrValue)>> Iterator for Merged<'p, O> {
    type Item = (&'p str, &'p AttrValue);

    fn next(&mut self) -> Option<Self::Item> {
        let order = match (self.own.peek(), self.overrides.peek()) {
            (None, None) => return None,
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (Some((own, _)), Some((over, _))) => own.cmp(over),
        };
        let (name, value) = match order {
            Ordering::Less => self.own.next()?,
            Ordering::Greater => self.overrides.next()?,
            Ordering::Equal => {
                self.own.next();
                self.overrides.next()?
            }
        };
        Some((name.as_str(), value))
    }
}

fn write_erp(erp: &ErpView, out: &mut Vec<u8>) {
    out.extend_from_slice(b"{\"price\":");
    money(out, &erp.price);
    out.extend_from_slice(b",\"sale_price\":");
    optional(out, erp.sale_price.as_deref(), money);
    out.extend_from_slice(b",\"currency\":");
    string(out, &erp.currency);
    out.extend_from_slice(b",\"stock\":");
    serialize(out, &erp.stock);
    out.extend_from_slice(b",\"gtin\":");
    optional(out, erp.gtin.as_deref(), string);
    out.extend_from_slice(b",\"mpn\":");
    optional(out, erp.mpn.as_deref(), string);
    for (name, measure) in [
        (&b",\"weight\":"[..], &erp.weight),
        (b",\"length\":", &erp.length),
        (b",\"width\":", &erp.width),
        (b",\"height\":", &erp.height),
    ] {
        out.extend_from_slice(name);
        optional(out, measure.as_deref(), money);
    }
    out.extend_from_slice(b",\"unit\":");
    optional(out, erp.unit.as_deref(), string);
    out.extend_from_slice(b",\"pack_size\":");
    optional(out, erp.pack_size, |out, size| serialize(out, &size));
    out.extend_from_slice(b",\"price_tiers\":");
    array(out, &erp.price_tiers, |out, tier| {
        out.extend_from_slice(b"{\"min_qty\":");
        serialize(out, &tier.min_qty);
        out.extend_from_slice(b",\"price\":");
        money(out, &tier.price);
        out.push(b'}');
    });
    out.push(b'}');
}
