//! What several presets read from a product's view the same way.

use crate::merge::ProductView;

/// The value of an attribute as one line of text, when it has one.
pub(crate) fn attribute_text(view: &ProductView, name: &str) -> Option<String> {
    let value = view.attributes.get(&tera::value::Key::Str(name))?;
    if let Some(text) = value.as_str() {
        return Some(text.to_string());
    }
    (value.is_i64() || value.is_u64() || value.is_f64() || value.is_bool())
        .then(|| value.to_string())
}

/// A sale price a marketplace shows: only one below the price.
pub(crate) fn sale_price(view: &ProductView) -> Option<&str> {
    let sale = view.erp.sale_price.as_deref()?;
    let below = sale.parse::<rust_decimal::Decimal>().ok()?
        < view.erp.price.parse::<rust_decimal::Decimal>().ok()?;
    below.then_some(sale)
}
