//! What a channel's templates and expressions read of a product's attributes, so that a
//! product's view converts only those for them (see [`AttributeNeeds`]).
//!
//! The reading is conservative: a template reads only the attributes it names as
//! `product.attributes.NAME` when every use of `product` in its tags is `product.FIELD` and
//! every use of `product.attributes` is followed by `.NAME`. Anything else (`product` passed
//! whole, `product.attributes` iterated or indexed, `__tera_context`) reads every attribute.

use std::sync::LazyLock;

use regex::Regex;

use super::context::ContextNeeds;
use crate::merge::AttributeNeeds;

/// What Tera source reads: of the attributes, and of the template context.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Reads {
    pub attributes: AttributeNeeds,
    pub context: ContextNeeds,
}

impl Reads {
    /// Source that reads nothing (a channel without templates, filter or columns).
    pub fn none() -> Reads {
        Reads {
            attributes: AttributeNeeds::none(),
            context: ContextNeeds::none(),
        }
    }

    fn all() -> Reads {
        Reads {
            attributes: AttributeNeeds::All,
            context: ContextNeeds::all(),
        }
    }

    pub fn union(&self, other: &Reads) -> Reads {
        Reads {
            attributes: self.attributes.union(&other.attributes),
            context: self.context.union(&other.context),
        }
    }
}

/// What a Tera template reads: only the insides of its `{{ }}` and `{% %}` tags count (the
/// text around them is output, comments are nothing).
pub(super) fn template_reads(source: &str) -> Reads {
    static TAG: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"(?s)\{\{.*?\}\}|\{%.*?%\}").expect("a valid regex"));
    static COMMENT: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"(?s)\{#.*?#\}").expect("a valid regex"));
    let source = COMMENT.replace_all(source, "");
    TAG.find_iter(&source).fold(Reads::none(), |reads, tag| {
        reads.union(&expression_reads(tag.as_str()))
    })
}

/// What a bare Tera expression reads (a channel's `filter`, a CSV column).
pub(super) fn expression_reads(expression: &str) -> Reads {
    static VARIABLE: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"\b(product|erp)\b").expect("a valid regex"));
    static FIELD: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"^\.([A-Za-z_][A-Za-z0-9_]*)").expect("a valid regex"));
    if expression.contains("__tera_context") {
        return Reads::all();
    }
    let mut attributes = Vec::new();
    let mut fields: Vec<String> = Vec::new();
    let mut erp = false;
    let mut erp_fields = Some(Vec::new());
    let mut every_attribute = false;
    for found in VARIABLE.find_iter(expression) {
        // `.product` is a field of something else (`item.product`), not the product.
        if expression[..found.start()].ends_with('.') {
            continue;
        }
        let rest = &expression[found.end()..];
        if found.as_str() == "erp" {
            erp = true;
            // `erp.FIELD` reads that number; `erp` iterated, indexed or passed whole, all.
            match (FIELD.captures(rest), &mut erp_fields) {
                (Some(field), Some(names)) if !names.iter().any(|n| n == &field[1]) => {
                    names.push(field[1].to_string());
                }
                (Some(_), _) => {}
                (None, _) => erp_fields = None,
            }
            continue;
        }
        let Some(field) = FIELD.captures(rest) else {
            return Reads::all();
        };
        if !fields.iter().any(|f| f == &field[1]) {
            fields.push(field[1].to_string());
        }
        if &field[1] != "attributes" {
            continue;
        }
        match FIELD.captures(&rest[field[0].len()..]) {
            Some(name) => attributes.push(name[1].to_string()),
            // Iterated, indexed or passed whole: every attribute.
            None => every_attribute = true,
        }
    }
    Reads {
        attributes: match every_attribute {
            true => AttributeNeeds::All,
            false => AttributeNeeds::named(attributes),
        },
        context: ContextNeeds {
            product: Some(fields),
            erp,
            erp_fields,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn named(names: &[&str]) -> AttributeNeeds {
        AttributeNeeds::named(names)
    }

    fn template_attribute_reads(source: &str) -> AttributeNeeds {
        template_reads(source).attributes
    }

    fn expression_attribute_reads(source: &str) -> AttributeNeeds {
        expression_reads(source).attributes
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

    #[test]
    fn the_context_holds_the_fields_named_and_erp_when_read() {
        let reads = template_reads(
            "{# erp #}<erp>{{ product.title }}{% if product.attributes.color %}x{% endif %}</erp>",
        );
        assert_eq!(
            reads.context,
            ContextNeeds {
                product: Some(vec!["title".into(), "attributes".into()]),
                erp: false,
                erp_fields: Some(Vec::new()),
            }
        );
        assert_eq!(
            expression_reads("erp.stock > 0").context,
            ContextNeeds {
                product: Some(Vec::new()),
                erp: true,
                erp_fields: Some(vec!["stock".into()]),
            }
        );
        assert_eq!(
            template_reads("{{ erp.price }}{% if erp.sale_price %}{{ erp.price }}{% endif %}")
                .context
                .erp_fields,
            Some(vec!["price".into(), "sale_price".into()])
        );
        for whole in [
            "{{ erp | json_encode }}",
            "{% for k, v in erp %}{{ v }}{% endfor %}",
            "{{ erp[\"price\"] }}",
            "{% set e = erp %}{{ e.price }}",
            "{{ erp . price }}",
        ] {
            let context = template_reads(whole).context;
            assert!(context.erp, "{whole}");
            assert_eq!(context.erp_fields, None, "{whole}");
        }
        assert_eq!(
            template_reads("{{ product.erp.price }}").context,
            ContextNeeds {
                product: Some(vec!["erp".into()]),
                erp: false,
                erp_fields: Some(Vec::new()),
            }
        );
        assert_eq!(
            template_reads("{{ product | json_encode }}").context,
            ContextNeeds::all()
        );
        let iterated = template_reads(
            "{% if product.attributes | length > 0 and product.title %}{{ v }}{% endif %}",
        );
        assert_eq!(iterated.attributes, AttributeNeeds::All);
        assert_eq!(
            iterated.context.product,
            Some(vec!["attributes".to_string(), "title".to_string()])
        );
    }
}
