//! The built-in Google Merchant items (the `item` blocks of `google-merchant.xml` and
//! `google-merchant-inventory.xml`) written directly,
//! without Tera: no template context to build per product and no interpreter per field.
//!
//! The bytes are the template's, whitespace control included; `tests/it/google_native.rs`
//! renders catalogs both ways and compares them. A value the template would print in a way
//! this writer does not reproduce (a non-text colour, a missing title) returns `None`, and the
//! caller renders that one item through Tera, so the output never depends on which path ran.

use crate::merge::ProductView;
use crate::text::escape::xml_escape_fn;

/// At most this many `additional_image_link`s, as the template's `loop.index <= 10`.
const ADDITIONAL_IMAGES: usize = 10;

/// The attributes the template prints, in its order, with their element names.
pub(crate) const ATTRIBUTES: [&str; 4] = ["color", "size", "gender", "age_group"];

/// One product's `<item>`, or `None` when only the template can say what it would print.
pub(crate) fn item(view: &ProductView, currency: &str) -> Option<Vec<u8>> {
    let title = view.title.as_deref()?;
    let description = view.description_text.as_deref()?;
    let image_link = view.image_link.as_deref()?;
    let mut attributes = Vec::with_capacity(ATTRIBUTES.len());
    for name in ATTRIBUTES {
        match view.attributes.get(&name.into()) {
            Some(value) if value.is_truthy() => attributes.push((name, value.as_str()?)),
            _ => {}
        }
    }

    let mut out = Xml(Vec::with_capacity(1536));
    out.element("\n<item>\n", "g:id", &view.id);
    out.element("\n", "g:title", title);
    out.element("\n", "g:description", description);
    out.element("\n", "g:link", &view.link);
    out.element("\n", "g:image_link", image_link);
    for url in view.additional_image_links.iter().take(ADDITIONAL_IMAGES) {
        out.element("\n", "g:additional_image_link", url);
    }
    out.element("\n", "g:availability", view.availability);
    out.money("g:price", &view.erp.price, currency);
    if let Some(sale_price) = truthy(&view.erp.sale_price) {
        out.money("g:sale_price", sale_price, currency);
    }
    out.raw("\n<g:condition>new</g:condition>");
    if let Some(brand) = truthy(&view.brand) {
        out.element("\n", "g:brand", brand);
    }
    if let Some(gtin) = truthy(&view.erp.gtin) {
        out.element("\n", "g:gtin", gtin);
    }
    if let Some(mpn) = truthy(&view.erp.mpn) {
        out.element("\n", "g:mpn", mpn);
    }
    if !view.identifier_exists {
        out.raw("\n<g:identifier_exists>no</g:identifier_exists>");
    }
    if let Some(group) = truthy(&view.item_group_id) {
        out.element("\n", "g:item_group_id", group);
    }
    if let Some(category) = &view.category {
        if let Some(google) = category.google.filter(|&id| id != 0) {
            out.element("\n", "g:google_product_category", &google.to_string());
        }
        out.element("\n", "g:product_type", &category.name);
    }
    for (name, value) in attributes {
        out.raw("\n<g:");
        out.raw(name);
        out.raw(">");
        out.text(value);
        out.raw("</g:");
        out.raw(name);
        out.raw(">");
    }
    if let Some(weight) = truthy(&view.erp.weight) {
        out.raw("\n<g:shipping_weight>");
        out.text(weight);
        out.raw(" kg</g:shipping_weight>");
    }
    out.raw("\n</item>");
    Some(out.0)
}

/// One product's `<item>` of the supplemental feed (`google-merchant-inventory.xml`): id,
/// price, sale price and availability. Every value is always there, so it never needs Tera.
pub(crate) fn inventory_item(view: &ProductView, currency: &str) -> Vec<u8> {
    let mut out = Xml(Vec::with_capacity(256));
    out.element("\n<item>\n", "g:id", &view.id);
    out.money("g:price", &view.erp.price, currency);
    if let Some(sale_price) = truthy(&view.erp.sale_price) {
        out.money("g:sale_price", sale_price, currency);
    }
    out.element("\n", "g:availability", view.availability);
    out.raw("\n</item>");
    out.0
}

/// A value Tera's `{% if %}` takes for true: present and not empty.
fn truthy(value: &Option<String>) -> Option<&str> {
    value.as_deref().filter(|v| !v.is_empty())
}

/// An item's bytes, text escaped as the XML channels' Tera escape function does.
struct Xml(Vec<u8>);

impl Xml {
    fn raw(&mut self, markup: &str) {
        self.0.extend_from_slice(markup.as_bytes());
    }

    fn text(&mut self, text: &str) {
        xml_escape_fn(text, &mut self.0).expect("writing to memory cannot fail");
    }

    /// `before`, then `<name>text</name>`.
    fn element(&mut self, before: &str, name: &str, text: &str) {
        self.raw(before);
        self.raw("<");
        self.raw(name);
        self.raw(">");
        self.text(text);
        self.raw("</");
        self.raw(name);
        self.raw(">");
    }

    /// `<name>amount currency</name>`, both escaped as the template's two `{{ }}`.
    fn money(&mut self, name: &str, amount: &str, currency: &str) {
        self.raw("\n<");
        self.raw(name);
        self.raw(">");
        self.text(amount);
        self.raw(" ");
        self.text(currency);
        self.raw("</");
        self.raw(name);
        self.raw(">");
    }
}
