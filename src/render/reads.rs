//! What a channel's templates and expressions read of a product's attributes, so that a
//! product's view converts only those for them (see [`AttributeNeeds`]).
//!
//! The reading is conservative: a template reads only the attributes it names as
//! `product.attributes.NAME` when every use of `product` in its tags is `product.FIELD` and
//! every use of `product.attributes` is followed by `.NAME`. Anything else (`product` passed
//! whole, `product.attributes` iterated or indexed, `__tera_context`) reads every attribute.

use std::sync::LazyLock;

use regex::Regex;

use crate::merge::AttributeNeeds;

/// The attributes read by a Tera template: only the insides of its `{{ }}` and `{% %}` tags
/// count (the text around them is output, comments are nothing).
pub(super) fn template_attribute_reads(source: &str) -> AttributeNeeds {
    static TAG: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"(?s)\{\{.*?\}\}|\{%.*?%\}").expect("a valid regex"));
    static COMMENT: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"(?s)\{#.*?#\}").expect("a valid regex"));
    let source = COMMENT.replace_all(source, "");
    TAG.find_iter(&source)
        .fold(AttributeNeeds::none(), |needs, tag| {
            needs.union(&expression_attribute_reads(tag.as_str()))
        })
}

/// The attributes read by a bare Tera expression (a channel's `filter`, a CSV column).
pub(super) fn expression_attribute_reads(expression: &str) -> AttributeNeeds {
    static PRODUCT: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"\bproduct\b").expect("a valid regex"));
    static FIELD: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"^\.([A-Za-z_][A-Za-z0-9_]*)").expect("a valid regex"));
    if expression.contains("__tera_context") {
        return AttributeNeeds::All;
    }
    let mut names = Vec::new();
    for found in PRODUCT.find_iter(expression) {
        let rest = &expression[found.end()..];
        // `.product` is a field of something else (`item.product`), not the product.
        if expression[..found.start()].ends_with('.') {
            continue;
        }
        let Some(field) = FIELD.captures(rest) else {
            return AttributeNeeds::All;
        };
        if &field[1] != "attributes" {
            continue;
        }
        let Some(name) = FIELD.captures(&rest[field[0].len()..]) else {
            return AttributeNeeds::All;
        };
        names.push(name[1].to_string());
    }
    AttributeNeeds::named(names)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn named(names: &[&str]) -> AttributeNeeds {
        AttributeNeeds::named(names)
    }

    #[test]
    fn named_attributes_are_read_and_nothing_else() {
        let template = "{# product, whole #}<product>{{ product.title }}</product>\
            {%- if product.attributes.color %}<c>{{ product.attributes.color }}</c>{% endif %}\
            {{ product.attributes.size | upper }}{{ erp.price }}";
        assert_eq!(
            template_attribute_reads(template),
            named(&["color", "size"])
        );
        assert_eq!(template_attribute_reads("{{ product.sku }}"), named(&[]));
        assert_eq!(expression_attribute_reads("erp.stock > 0"), named(&[]));
        assert_eq!(
            expression_attribute_reads("product.attributes.material == \"steel\""),
            named(&["material"])
        );
        assert_eq!(
            expression_attribute_reads("item.product.attributes"),
            named(&[])
        );
    }

    #[test]
    fn a_product_or_attributes_used_whole_reads_every_attribute() {
        for whole in [
            "{{ product | json_encode }}",
            "{% for name, value in product.attributes %}{{ value }}{% endfor %}",
            "{{ product.attributes[\"color\"] }}",
            "{% set p = product %}{{ p.attributes.color }}",
            "{{ product . attributes . color }}",
            "{{ __tera_context }}",
        ] {
            assert_eq!(
                template_attribute_reads(whole),
                AttributeNeeds::All,
                "{whole}"
            );
        }
    }
}
