//! Text worked out from a product's values while its file is parsed.
//!
//! Files are parsed on every core, but the quality checks run in catalog order on one (they
//! find duplicates across files). What they read of each product is worked out beside the
//! parse instead: the plain text of the Markdown description (their costliest part, which the
//! views of channels that publish plain text need again) and the normalised titles (which the
//! build cache keeps too). The checks, the views and the cache read it from here.
//!
//! The HTML of the description is worked out later, by the first channel that writes it, and
//! kept for the products of the file that share the description (a model's variants).

use std::borrow::Cow;
use std::sync::{Arc, OnceLock};

use serde_json::Value;

use super::product::ParseContext;
use super::product::Product;
use crate::text::markdown;

/// The plain text of a product's own Markdown description, in the locales the quality checks
/// read it in, and its title's facts. Not part of the product's content: it is never written
/// to the last build, and a product read back from there simply has none (whoever needs the
/// text works it out).
#[derive(Debug, Clone, Default)]
pub struct DerivedText {
    /// (locale, plain text) pairs, in the description's locale order.
    descriptions: Vec<(String, String)>,
    /// What the duplicate and capitals checks read of the title; `None` when not worked out.
    titles: Option<Vec<TitleFacts>>,
    /// (locale, HTML) pairs of the description in every locale, once a channel asked for one;
    /// shared by the products whose derived text is a copy of this one.
    html: Arc<OnceLock<Vec<(String, String)>>>,
}

/// Derived text follows from the values, so it never makes two products differ.
impl PartialEq for DerivedText {
    fn eq(&self, _: &DerivedText) -> bool {
        true
    }
}

impl DerivedText {
    /// What the quality checks will read of `product`: the plain text of its description in
    /// each of the channels' locales, when its family requires a description.
    pub fn of(product: &Product, ctx: &ParseContext<'_>) -> DerivedText {
        let wants_description = ctx
            .schema
            .families
            .get(&product.family)
            .is_some_and(|f| f.required().any(|r| r == "description"));
        let descriptions = match product.values.get("description").map(|d| &*d.value) {
            Some(Value::Object(texts)) if wants_description => texts
                .iter()
                .filter(|(locale, _)| ctx.description_text_locales.contains(locale))
                .filter_map(|(locale, text)| {
                    Some((locale.clone(), markdown::to_plain_text(text.as_str()?)))
                })
                .collect(),
            _ => Vec::new(),
        };
        let titles = product
            .values
            .get("title")
            .map(|title| title_facts(&title.value))
            .unwrap_or_default();
        DerivedText {
            descriptions,
            titles: Some(titles),
            html: Arc::default(),
        }
    }

    /// Works out the derived text of a file's products. Variants mostly inherit their
    /// model's title and description: a product whose inputs are those of the one before it
    /// takes a copy of its text instead of working it out again (and shares the HTML of its
    /// description, once worked out).
    pub fn for_file(products: &mut [Product], ctx: &ParseContext<'_>) {
        for index in 0..products.len() {
            let (before, rest) = products.split_at_mut(index);
            let product = &mut rest[0];
            product.derived = match before.last() {
                Some(previous) if same_inputs(previous, product) => previous.derived.clone(),
                _ => DerivedText::of(product, ctx),
            };
        }
    }

    /// The title's facts, when worked out while parsing.
    pub fn titles(&self) -> Option<&[TitleFacts]> {
        self.titles.as_deref()
    }
}

/// Whether two products' derived text is the same: same family (which decides whether the
/// description is read), same title and description.
fn same_inputs(one: &Product, other: &Product) -> bool {
    fn value<'p>(product: &'p Product, name: &str) -> Option<&'p Value> {
        product.values.get(name).map(|v| &*v.value)
    }
    one.family == other.family
        && value(one, "title") == value(other, "title")
        && value(one, "description") == value(other, "description")
}

impl Product {
    /// The plain text of `markdown`, when it is this product's own description in `locale`
    /// (the very string, not an equal one: a channel override or a cleaned copy is worked out
    /// by whoever reads it) and it was worked out while parsing.
    pub fn plain_description(&self, locale: &str, markdown: &str) -> Option<&str> {
        let own = self
            .values
            .get("description")?
            .value
            .get(locale)?
            .as_str()?;
        if !std::ptr::eq(own, markdown) {
            return None;
        }
        self.derived
            .descriptions
            .iter()
            .find(|(l, _)| l == locale)
            .map(|(_, text)| text.as_str())
    }

    /// The HTML of `markdown`. When it is this product's own description in `locale` (the very
    /// string, as for [`Product::plain_description`]), it is worked out once, in every locale,
    /// for all the products of the file that share the description.
    pub fn description_html<'p>(&'p self, locale: &str, markdown: &str) -> Cow<'p, str> {
        let Some(own) = self.values.get("description").map(|d| &*d.value) else {
            return markdown::to_html(markdown).into();
        };
        let is_own = own
            .get(locale)
            .and_then(Value::as_str)
            .is_some_and(|text| std::ptr::eq(text, markdown));
        if !is_own {
            return markdown::to_html(markdown).into();
        }
        let html = self.derived.html.get_or_init(|| {
            localized(own)
                .into_iter()
                .map(|(locale, text)| (locale.to_string(), markdown::to_html(text)))
                .collect()
        });
        match html.iter().find(|(l, _)| l == locale) {
            Some((_, html)) => Cow::Borrowed(html),
            None => markdown::to_html(markdown).into(),
        }
    }
}

/// A title needs this many letters, all capitals, to count as shouting (not `DCD796`).
const ALL_CAPS_MIN_LETTERS: usize = 8;

/// What the checks read of a title in one locale (`""` for a title that is not localized).
#[derive(Debug, Clone, PartialEq)]
pub struct TitleFacts {
    pub locale: String,
    /// The hash of the normalised title, which duplicates share.
    pub key: u64,
    pub all_caps: bool,
}

/// The facts of a title value, in its locales' order. Worked out while the product's file is
/// parsed (see [`DerivedText`]), so the checks in catalog order only compare.
pub fn title_facts(title: &Value) -> Vec<TitleFacts> {
    localized(title)
        .into_iter()
        .map(|(locale, text)| TitleFacts {
            locale: locale.to_string(),
            key: hash(&normalize(text)),
            all_caps: is_all_caps(text),
        })
        .collect()
}

/// `(locale, text)` pairs of a localized text, or `("", text)` for a plain one.
pub fn localized(value: &Value) -> Vec<(&str, &str)> {
    match value {
        Value::Object(map) => map
            .iter()
            .filter_map(|(locale, text)| Some((locale.as_str(), text.as_str()?)))
            .collect(),
        Value::String(text) => vec![("", text.as_str())],
        _ => Vec::new(),
    }
}

fn hash(text: &str) -> u64 {
    use std::hash::{BuildHasher, BuildHasherDefault, DefaultHasher};
    BuildHasherDefault::<DefaultHasher>::default().hash_one(text)
}

fn is_all_caps(text: &str) -> bool {
    let letters = text.chars().filter(|c| c.is_alphabetic());
    let (upper, lower) = letters.fold((0, 0), |(u, l), c| {
        (
            u + usize::from(c.is_uppercase()),
            l + usize::from(c.is_lowercase()),
        )
    });
    lower == 0 && upper >= ALL_CAPS_MIN_LETTERS
}

fn normalize(text: &str) -> String {
    text.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::sync::Arc;

    use super::*;
    use crate::content::AttrValue;

    fn product(description: Value, derived: DerivedText) -> Product {
        let mut values = BTreeMap::new();
        values.insert("description".to_string(), AttrValue::new(description, 2));
        Product {
            sku: "A".into(),
            model: None,
            family: "tools".into(),
            file: Arc::from("content/products/a.toml"),
            line: 1,
            values,
            channels: BTreeMap::new(),
            derived,
        }
    }

    #[test]
    fn all_caps_needs_enough_letters() {
        assert!(is_all_caps("MAKITA ACCU BOORMACHINE 18V"));
        assert!(!is_all_caps("DCD796 18V"));
        assert!(!is_all_caps("DEWALT DCD796 accu klopboormachine"));
    }

    #[test]
    fn parsing_works_out_what_the_checks_and_views_read() {
        let schema = "[attributes.title]\ntype = \"text\"\nlocalized = true\n\n\
            [attributes.description]\ntype = \"rich_text\"\nlocalized = true\n\n\
            [families.tools]\nattributes = [\"title\", \"description\"]\n\
            required = [\"title\", \"description\"]\n";
        let (schema, diagnostics) =
            crate::content::Schema::parse(schema, std::path::Path::new("content/schema.toml"));
        assert!(diagnostics.is_empty(), "{diagnostics:?}");
        let schema = schema.unwrap();
        let categories = crate::content::Categories::default();
        let locales = ["nl-NL".to_string(), "en-GB".to_string()];
        let ctx = ParseContext {
            schema: &schema,
            categories: &categories,
            locales: &locales,
            channels: &[],
            description_text_locales: &locales[..1],
        };
        let text = "sku = \"A\"\nfamily = \"tools\"\n\
            title.nl-NL = \"ACCU  BOORMACHINE XL\"\ntitle.en-GB = \"Drill\"\n\
            description.nl-NL = \"**Sterk** en\\n\\n- licht\"\ndescription.en-GB = \"Strong\"\n";
        let path = std::path::Path::new("content/products/a.toml");
        let (products, diagnostics) = crate::content::product::parse_file(path, text, &ctx);
        assert!(diagnostics.is_empty(), "{diagnostics:#?}");
        let product = &products[0];

        let titles = product.derived.titles().expect("worked out while parsing");
        assert_eq!(titles, title_facts(&product.values["title"].value));
        assert_eq!(
            titles
                .iter()
                .map(|t| (t.locale.as_str(), t.all_caps))
                .collect::<Vec<_>>(),
            [("nl-NL", true), ("en-GB", false)]
        );

        let description = &product.values["description"].value;
        let nl = description["nl-NL"].as_str().unwrap();
        let plain = markdown::to_plain_text(nl);
        assert_eq!(plain, "Sterk en\n\n- licht");
        assert_eq!(product.plain_description("nl-NL", nl), Some(plain.as_str()));
        // Not a locale the checks read: whoever needs it works it out.
        let en = description["en-GB"].as_str().unwrap();
        assert_eq!(product.plain_description("en-GB", en), None);
    }

    #[test]
    fn variants_with_their_models_text_share_it_and_others_get_their_own() {
        let schema = "[attributes.title]\ntype = \"text\"\nlocalized = true\n\n\
            [attributes.description]\ntype = \"rich_text\"\nlocalized = true\n\n\
            [attributes.size]\ntype = \"text\"\n\n\
            [families.shirts]\nattributes = [\"title\", \"description\", \"size\"]\n\
            required = [\"title\", \"description\"]\nvariant_axes = [\"size\"]\n";
        let (schema, _) =
            crate::content::Schema::parse(schema, std::path::Path::new("content/schema.toml"));
        let schema = schema.unwrap();
        let categories = crate::content::Categories::default();
        let locales = ["nl-NL".to_string()];
        let ctx = ParseContext {
            schema: &schema,
            categories: &categories,
            locales: &locales,
            channels: &[],
            description_text_locales: &locales,
        };
        let text = "model = \"S\"\nfamily = \"shirts\"\ntitle.nl-NL = \"Shirt\"\n\
            description.nl-NL = \"*Zacht*\"\n\
            [[variants]]\nsku = \"S-M\"\nsize = \"M\"\n\
            [[variants]]\nsku = \"S-L\"\nsize = \"L\"\n\
            [[variants]]\nsku = \"S-XL\"\nsize = \"XL\"\ndescription.nl-NL = \"**Ruim**\"\n\
            title.nl-NL = \"SHIRT EXTRA LARGE\"\n";
        let path = std::path::Path::new("content/products/s.toml");
        let (products, diagnostics) = crate::content::product::parse_file(path, text, &ctx);
        assert!(diagnostics.is_empty(), "{diagnostics:#?}");
        let plain: Vec<Option<&str>> = products
            .iter()
            .map(|p| {
                let own = p.values["description"].value["nl-NL"].as_str().unwrap();
                p.plain_description("nl-NL", own)
            })
            .collect();
        assert_eq!(plain, [Some("Zacht"), Some("Zacht"), Some("Ruim")]);
        let caps: Vec<bool> = products
            .iter()
            .map(|p| p.derived.titles().unwrap()[0].all_caps)
            .collect();
        assert_eq!(caps, [false, false, true]);
        // The first variant to be rendered works out the HTML its model's variants share.
        let html: Vec<String> = products
            .iter()
            .map(|p| {
                let own = p.values["description"].value["nl-NL"].as_str().unwrap();
                p.description_html("nl-NL", own).into_owned()
            })
            .collect();
        assert_eq!(
            html,
            [
                "<p><em>Zacht</em></p>\n",
                "<p><em>Zacht</em></p>\n",
                "<p><strong>Ruim</strong></p>\n"
            ]
        );
        assert!(Arc::ptr_eq(
            &products[0].derived.html,
            &products[1].derived.html
        ));
        assert!(!Arc::ptr_eq(
            &products[1].derived.html,
            &products[2].derived.html
        ));
    }

    #[test]
    fn the_text_is_given_only_for_the_products_own_string() {
        let derived = DerivedText {
            descriptions: vec![("nl-NL".into(), "Boor".into())],
            titles: None,
            html: Arc::default(),
        };
        let product = product(serde_json::json!({"nl-NL": "**Boor**"}), derived);
        let own = product.values["description"].value["nl-NL"]
            .as_str()
            .unwrap();
        assert_eq!(product.plain_description("nl-NL", own), Some("Boor"));
        // An equal string elsewhere (a channel override, a cleaned copy) is not vouched for.
        let copy = own.to_string();
        assert_eq!(product.plain_description("nl-NL", &copy), None);
        assert_eq!(product.plain_description("en-GB", own), None);
        // The HTML is the same for both, but only the product's own string is kept.
        assert_eq!(
            product.description_html("nl-NL", &copy),
            "<p><strong>Boor</strong></p>\n"
        );
        assert!(product.derived.html.get().is_none());
        assert_eq!(
            product.description_html("nl-NL", own),
            "<p><strong>Boor</strong></p>\n"
        );
        assert!(product.derived.html.get().is_some());
    }
}
