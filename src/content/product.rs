//! A product file: one product, or one product model with its variants (the user guide's
//! `docs/src/catalog/products.md` describes the format).
//!
//! Files are parsed into spanned TOML (`DeTable`) rather than straight into structs, because
//! the keys are the schema's attributes and every problem must point at its line and column.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::categories::Categories;
use super::derived::DerivedText;
use super::schema::{Family, Schema};
use super::value::{ValueContext, ValueError, convert};
use crate::diagnostics::Diagnostic;
use crate::erp::ERP_FIELDS;

/// Keys with a fixed meaning in a product file; everything else is an attribute.
const STRUCTURAL_KEYS: &[&str] = &["sku", "model", "family", "variants", "channels"];

/// One sellable item (a product, or a variant with its model's values merged in).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Product {
    /// The ERP item number.
    pub sku: String,
    /// The product model this variant belongs to.
    pub model: Option<String>,
    pub family: String,
    /// Catalog-relative path of the file the product is defined in.
    pub file: Arc<str>,
    /// Line of the product's `sku` (or the variant's).
    pub line: u32,
    pub values: BTreeMap<String, AttrValue>,
    /// Channel name → attribute overrides for that channel only.
    pub channels: BTreeMap<String, BTreeMap<String, AttrValue>>,
    /// Text worked out from the values while parsing, for the checks and the views to share.
    #[serde(skip)]
    pub derived: DerivedText,
}

/// A checked attribute value and the line it was set on (for reports that point at it).
///
/// The value is shared: every variant of a product model holds its model's values, which a
/// copy per variant would duplicate, descriptions in every locale included. A variant that
/// overrides one locale of a shared value gets its own copy of that value (`Arc::make_mut`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AttrValue {
    pub value: Arc<Value>,
    pub line: u32,
}

impl AttrValue {
    pub fn new(value: Value, line: u32) -> AttrValue {
        AttrValue {
            value: Arc::new(value),
            line,
        }
    }
}

impl Product {
    pub fn enabled(&self) -> bool {
        self.values
            .get("enabled")
            .and_then(|v| v.value.as_bool())
            .unwrap_or(true)
    }

    /// The value of `name` for `channel`: its channel override, else the product's own.
    pub fn value_for(&self, name: &str, channel: &str) -> Option<&AttrValue> {
        let own = self.values.get(name);
        let Some(over) = self.channels.get(channel).and_then(|c| c.get(name)) else {
            return own;
        };
        Some(over)
    }
}

/// What a product file is checked against.
pub struct ParseContext<'a> {
    pub schema: &'a Schema,
    pub categories: &'a Categories,
    pub locales: &'a [String],
    pub channels: &'a [String],
    /// The locales the quality checks read descriptions in (see [`DerivedText`]); none where
    /// no check will read them.
    pub description_text_locales: &'a [String],
}

/// Parses one product file. Returns the products it defines when it has no errors.
pub fn parse_file(
    file: &Path,
    text: &str,
    ctx: &ParseContext<'_>,
) -> (Vec<Product>, Vec<Diagnostic>) {
    let mut parser = FileParser {
        file,
        file_name: Arc::from(file.to_string_lossy().replace('\\', "/")),
        text,
        line_starts: std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect(),
        ctx,
        diagnostics: Vec::new(),
    };
    let products = parser.parse();
    let has_errors = parser.diagnostics.iter().any(Diagnostic::is_error);
    let products = if has_errors {
        Vec::new()
    } else {
        let mut products: Vec<Product> = products.into_iter().map(complete_overrides).collect();
        DerivedText::for_file(&mut products, ctx);
        products
    };
    (products, parser.diagnostics)
}

struct FileParser<'a> {
    file: &'a Path,
    file_name: Arc<str>,
    text: &'a str,
    /// Byte offset of each line's start: every attribute records its line, so looking it up
    /// must not rescan the file.
    line_starts: Vec<usize>,
    ctx: &'a ParseContext<'a>,
    diagnostics: Vec<Diagnostic>,
}

impl<'a> FileParser<'a> {
    fn parse(&mut self) -> Vec<Product> {
        let root = match DeTable::parse(self.text) {
            Ok(root) => root,
            Err(err) => {
                let span = err.span().unwrap_or(0..0);
                let message = err.message().trim().to_string();
                self.push(
                    Diagnostic::error("toml-syntax", self.file, self.text, span, message)
                        .with_help("fix the TOML syntax; strings need quotes, tables [brackets]"),
                );
                return Vec::new();
            }
        };
        let root = root.into_inner();
        let Some(family_name) = self.family(&root) else {
            return Vec::new();
        };
        let family = &self.ctx.schema.families[&family_name];

        let sku = root.get("sku");
        let model = root.get("model");
        let (values, channels) = self.attributes(&root, family, &family_name, false);
        match (sku, model) {
            (Some(sku), None) => {
                if let Some(variants) = root.get_key_value("variants") {
                    self.push(
                        self.error(variants.0.span(), "variants-without-model", "`variants` belong to a product model")
                            .with_help("replace `sku = …` with `model = …` and give each variant its own `sku`"),
                    );
                }
                let Some(sku) = self.string_key("sku", sku) else {
                    return Vec::new();
                };
                let line = self.line(sku.span());
                vec![Product {
                    sku: sku.into_inner(),
                    model: None,
                    family: family_name,
                    file: self.file_name.clone(),
                    line,
                    values,
                    channels,
                    derived: DerivedText::default(),
                }]
            }
            (None, Some(model)) => {
                let Some(model) = self.string_key("model", model) else {
                    return Vec::new();
                };
                self.variants(&root, model, family, &family_name, values, channels)
            }
            (Some(_), Some(model)) => {
                self.push(
                    self.error(
                        model.span(),
                        "sku-and-model",
                        "a file has either `sku` or `model`, not both",
                    )
                    .with_help(
                        "`sku` for a single product; `model` with [[variants]] for a product model",
                    ),
                );
                Vec::new()
            }
            (None, None) => {
                self.push(
                    Diagnostic::error("missing-sku", self.file, self.text, 0..0, "the file has no `sku`")
                        .with_help("add `sku = \"…\"` with the ERP item number (or `model = \"…\"` with [[variants]])"),
                );
                Vec::new()
            }
        }
    }

    /// The file's `family`, checked against the schema.
    fn family(&mut self, root: &DeTable<'_>) -> Option<String> {
        let families = &self.ctx.schema.families;
        let Some(value) = root.get("family") else {
            let known: Vec<&str> = families.keys().map(String::as_str).collect();
            self.push(
                Diagnostic::error(
                    "missing-family",
                    self.file,
                    self.text,
                    0..0,
                    "the file has no `family`",
                )
                .with_help(format!(
                    "add `family = \"…\"`, one of: {}",
                    known.join(", ")
                )),
            );
            return None;
        };
        let name = self.string_key("family", value)?;
        if families.contains_key(name.get_ref()) {
            return Some(name.into_inner());
        }
        let known = families.keys().map(String::as_str);
        let help = match crate::suggest::nearest(name.get_ref(), known.clone()) {
            Some(near) => format!("did you mean `{near}`?"),
            None => format!(
                "families are defined in content/schema.toml: {}",
                known.collect::<Vec<_>>().join(", ")
            ),
        };
        self.push(
            self.error(
                name.span(),
                "unknown-family",
                format!("unknown family `{}`", name.get_ref()),
            )
            .with_help(help),
        );
        None
    }

    fn string_key(&mut self, key: &str, value: &Spanned<DeValue<'_>>) -> Option<Spanned<String>> {
        match value.get_ref() {
            DeValue::String(s) if !s.trim().is_empty() => {
                Some(Spanned::new(value.span(), s.trim().to_string()))
            }
            _ => {
                self.push(self.error(
                    value.span(),
                    "wrong-type",
                    format!("`{key}` must be a non-empty string"),
                ));
                None
            }
        }
    }

    /// The attribute values and channel overrides of a table (the file root or a variant).
    fn attributes(
        &mut self,
        table: &DeTable<'_>,
        family: &Family,
        family_name: &str,
        in_variant: bool,
    ) -> (
        BTreeMap<String, AttrValue>,
        BTreeMap<String, BTreeMap<String, AttrValue>>,
    ) {
        let mut values = BTreeMap::new();
        let mut channels = BTreeMap::new();
        for (key, value) in table.iter() {
            let name = key.get_ref().as_ref();
            match name {
                "sku" => {}
                "model" | "family" | "variants" if !in_variant => {}
                "channels" => self.channel_overrides(value, family, family_name, &mut channels),
                "model" | "family" | "variants" => self.push(
                    self.error(
                        key.span(),
                        "variant-key",
                        format!("a variant cannot set `{name}`"),
                    )
                    .with_help("set it on the product model at the top of the file"),
                ),
                _ => {
                    if let Some(checked) = self.attribute((key, value), family, family_name) {
                        values.insert(name.to_string(), checked);
                    }
                }
            }
        }
        (values, channels)
    }

    fn channel_overrides(
        &mut self,
        value: &Spanned<DeValue<'_>>,
        family: &Family,
        family_name: &str,
        channels: &mut BTreeMap<String, BTreeMap<String, AttrValue>>,
    ) {
        let DeValue::Table(table) = value.get_ref() else {
            self.push(
                self.error(value.span(), "wrong-type", "`channels` must be a table")
                    .with_help("write `[channels.<name>]` followed by the attributes to override"),
            );
            return;
        };
        for (channel, overrides) in table.iter() {
            let name = channel.get_ref().as_ref();
            if !self.ctx.channels.iter().any(|c| c == name) {
                let known = self.ctx.channels.iter().map(String::as_str);
                let help = match crate::suggest::nearest(name, known.clone()) {
                    Some(near) => format!("did you mean `{near}`?"),
                    None => format!(
                        "channels in pim.toml: {}",
                        known.collect::<Vec<_>>().join(", ")
                    ),
                };
                self.push(
                    self.error(
                        channel.span(),
                        "unknown-channel",
                        format!("unknown channel `{name}`"),
                    )
                    .with_help(help),
                );
                continue;
            }
            let DeValue::Table(overrides) = overrides.get_ref() else {
                self.push(self.error(
                    overrides.span(),
                    "wrong-type",
                    "a channel override must be a table",
                ));
                continue;
            };
            let mut checked = BTreeMap::new();
            for entry in overrides.iter() {
                let key = entry.0.get_ref().to_string();
                if STRUCTURAL_KEYS.contains(&key.as_str()) {
                    self.push(self.error(
                        entry.0.span(),
                        "override-key",
                        format!("`{key}` cannot be overridden per channel"),
                    ));
                } else if let Some(value) = self.attribute(entry, family, family_name) {
                    checked.insert(key, value);
                }
            }
            channels.insert(name.to_string(), checked);
        }
    }

    /// One attribute: known, part of the family, not ERP-owned, and valid by its rules.
    fn attribute(
        &mut self,
        (key, value): (&Spanned<std::borrow::Cow<'_, str>>, &Spanned<DeValue<'_>>),
        family: &Family,
        family_name: &str,
    ) -> Option<AttrValue> {
        let name = key.get_ref().as_ref();
        if ERP_FIELDS.contains(&name) {
            self.push(
                self.error(
                    key.span(),
                    "erp-owned",
                    format!("`{name}` is owned by the ERP"),
                )
                .with_help(format!(
                    "remove it: pimfeed takes `{name}` from the ERP, so change it there"
                )),
            );
            return None;
        }
        let Some(def) = self.ctx.schema.attribute(name) else {
            let candidates = family
                .attributes
                .iter()
                .map(|a| a.get_ref().as_str())
                .chain(super::schema::BUILTIN_ATTRIBUTES.iter().copied())
                .chain(STRUCTURAL_KEYS.iter().copied());
            let help = match crate::suggest::nearest(name, candidates) {
                Some(near) => format!("did you mean `{near}`?"),
                None => format!(
                    "attributes are defined in content/schema.toml; family `{family_name}` has: {}",
                    family
                        .attributes
                        .iter()
                        .map(|a| a.get_ref().as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            };
            self.push(
                self.error(
                    key.span(),
                    "unknown-attribute",
                    format!("unknown attribute `{name}`"),
                )
                .with_help(help),
            );
            return None;
        };
        if !family.has_attribute(name) {
            self.push(
                self.error(
                    key.span(),
                    "not-in-family",
                    format!("`{name}` is not an attribute of family `{family_name}`"),
                )
                .with_help(format!(
                    "add \"{name}\" to [families.{family_name}] attributes in content/schema.toml, or remove it here"
                )),
            );
            return None;
        }
        let ctx = ValueContext {
            locales: self.ctx.locales,
        };
        let checked = match convert(name, def, value, &ctx) {
            Ok(checked) => checked,
            Err(err) => {
                self.push_value_error(err, key.span());
                return None;
            }
        };
        if name == "category" {
            self.check_category(&checked, value.span())?;
        }
        Some(AttrValue::new(checked, self.line(key.span())))
    }

    fn check_category(&mut self, value: &Value, span: std::ops::Range<usize>) -> Option<()> {
        let path = value.as_str().unwrap_or_default();
        if self.ctx.categories.get(path).is_some() {
            return Some(());
        }
        let known = self.ctx.categories.categories.keys().map(String::as_str);
        let help = match crate::suggest::nearest(path, known) {
            Some(near) => format!("did you mean `{near}`?"),
            None => "categories are defined in content/categories.toml".to_string(),
        };
        self.push(
            self.error(
                span,
                "unknown-category",
                format!("unknown category `{path}`"),
            )
            .with_help(help),
        );
        None
    }

    /// The variants of a product model, each with the model's values merged under its own.
    fn variants(
        &mut self,
        root: &DeTable<'_>,
        model: Spanned<String>,
        family: &Family,
        family_name: &str,
        model_values: BTreeMap<String, AttrValue>,
        model_channels: BTreeMap<String, BTreeMap<String, AttrValue>>,
    ) -> Vec<Product> {
        let tables: Vec<&DeTable<'_>> = match root.get("variants").map(Spanned::get_ref) {
            Some(DeValue::Array(items)) => items
                .iter()
                .filter_map(|item| match item.get_ref() {
                    DeValue::Table(table) => Some(table),
                    _ => {
                        self.push(self.error(
                            item.span(),
                            "wrong-type",
                            "each variant must be a [[variants]] table",
                        ));
                        None
                    }
                })
                .collect(),
            _ => {
                self.push(
                    self.error(
                        model.span(),
                        "model-without-variants",
                        "a product model needs [[variants]]",
                    )
                    .with_help(
                        "add a [[variants]] table with `sku` and the axis values for each variant",
                    ),
                );
                return Vec::new();
            }
        };
        let axes: Vec<&str> = family.variant_axes().collect();
        let mut seen_combinations: HashMap<Vec<String>, String> = HashMap::new();
        let mut products = Vec::with_capacity(tables.len());
        // Each variant owns a copy of the model's values; the last one takes the model's own.
        let (mut model_values, mut model_channels) = (Some(model_values), Some(model_channels));
        let last = tables.len().saturating_sub(1);
        for (index, table) in tables.into_iter().enumerate() {
            let Some((sku_key, sku_value)) = table.get_key_value("sku") else {
                let span = table.iter().next().map_or(model.span(), |(k, _)| k.span());
                self.push(
                    self.error(span, "missing-sku", "a variant has no `sku`")
                        .with_help("add `sku = \"…\"` with the variant's ERP item number"),
                );
                continue;
            };
            let Some(sku) = self.string_key("sku", sku_value) else {
                continue;
            };
            let (own_values, own_channels) = self.attributes(table, family, family_name, true);
            let mut combination = Vec::with_capacity(axes.len());
            for axis in &axes {
                match own_values.get(*axis) {
                    Some(value) => combination.push(value.value.to_string()),
                    None => self.push(
                        self.error(
                            sku_key.span(),
                            "missing-axis",
                            format!("variant `{}` has no `{axis}`", sku.get_ref()),
                        )
                        .with_help(format!(
                            "every variant of family `{family_name}` sets its {}",
                            axes.join(" and ")
                        )),
                    ),
                }
            }
            if combination.len() == axes.len() && !axes.is_empty() {
                if let Some(other) = seen_combinations.get(&combination) {
                    self.push(
                        self.error(
                            sku_key.span(),
                            "duplicate-variant",
                            format!(
                                "variant `{}` repeats the {} of variant `{other}`",
                                sku.get_ref(),
                                axes.join("/")
                            ),
                        )
                        .with_help("each variant needs its own combination of axis values"),
                    );
                } else {
                    seen_combinations.insert(combination, sku.get_ref().clone());
                }
            }
            let (base_values, base_channels) = match index == last {
                true => (model_values.take(), model_channels.take()),
                false => (model_values.clone(), model_channels.clone()),
            };
            products.push(Product {
                line: self.line(sku.span()),
                sku: sku.into_inner(),
                model: Some(model.get_ref().clone()),
                family: family_name.to_string(),
                file: self.file_name.clone(),
                values: merge_values(base_values.unwrap_or_default(), own_values),
                channels: merge_channels(base_channels.unwrap_or_default(), own_channels),
                derived: DerivedText::default(),
            });
        }
        products
    }

    fn push_value_error(&mut self, err: ValueError, fallback: std::ops::Range<usize>) {
        // Values of dotted keys (`title.nl-NL = …`) can carry an empty span: point at the key.
        let span = if err.span.is_empty() {
            fallback
        } else {
            err.span
        };
        let mut diagnostic = Diagnostic::error(err.code, self.file, self.text, span, err.message);
        diagnostic.help = err.help;
        self.push(diagnostic);
    }

    fn error(
        &self,
        span: std::ops::Range<usize>,
        code: &'static str,
        message: impl Into<String>,
    ) -> Diagnostic {
        Diagnostic::error(code, self.file, self.text, span, message)
    }

    fn push(&mut self, diagnostic: Diagnostic) {
        self.diagnostics.push(diagnostic);
    }

    fn line(&self, span: std::ops::Range<usize>) -> u32 {
        self.line_starts
            .partition_point(|&start| start <= span.start) as u32
    }
}

/// A channel override of a localized value keeps the locales it does not set, so a channel
/// that shows every locale (the webshop) loses nothing.
fn complete_overrides(mut product: Product) -> Product {
    for overrides in product.channels.values_mut() {
        let base: BTreeMap<String, AttrValue> = overrides
            .keys()
            .filter_map(|name| Some((name.clone(), product.values.get(name)?.clone())))
            .collect();
        *overrides = merge_values(base, std::mem::take(overrides));
    }
    product
}

/// A variant's values over its model's. Localized values merge per locale, so a variant can
/// override one language's title and inherit the other.
fn merge_values(
    mut merged: BTreeMap<String, AttrValue>,
    own: BTreeMap<String, AttrValue>,
) -> BTreeMap<String, AttrValue> {
    for (name, value) in own {
        match (merged.get_mut(&name), &*value.value) {
            (Some(base), Value::Object(own_map))
                if base.value.is_object() && !own_map.contains_key("url") =>
            {
                if let Value::Object(base_map) = Arc::make_mut(&mut base.value) {
                    for (locale, text) in own_map {
                        base_map.insert(locale.clone(), text.clone());
                    }
                }
                base.line = value.line;
            }
            _ => {
                merged.insert(name, value);
            }
        }
    }
    merged
}

fn merge_channels(
    mut merged: BTreeMap<String, BTreeMap<String, AttrValue>>,
    own: BTreeMap<String, BTreeMap<String, AttrValue>>,
) -> BTreeMap<String, BTreeMap<String, AttrValue>> {
    for (channel, values) in own {
        let base = merged.remove(&channel).unwrap_or_default();
        merged.insert(channel, merge_values(base, values));
    }
    merged
}

#[cfg(test)]
mod tests {
    use super::*;

    const SCHEMA: &str = r#"
[attributes.title]
type = "text"
localized = true
max_length = 20

[attributes.color]
type = "enum"
options = ["black", "blue"]

[attributes.size]
type = "enum"
options = ["M", "L"]

[attributes.images]
type = "image_list"

[attributes.voltage]
type = "measurement"
unit = "V"

[families.tools]
attributes = ["title", "images", "voltage"]
required = ["title"]

[families.shirts]
attributes = ["title", "color", "size"]
variant_axes = ["color", "size"]
"#;

    fn parse(text: &str) -> (Vec<Product>, Vec<Diagnostic>) {
        let (schema, diagnostics) = Schema::parse(SCHEMA, Path::new("content/schema.toml"));
        assert!(diagnostics.is_empty(), "{diagnostics:?}");
        let schema = schema.unwrap();
        let categories = Categories::parse(
            "[categories.\"tools/drills\"]\nname.nl-NL = \"Boren\"\n",
            Path::new("content/categories.toml"),
        )
        .unwrap();
        let locales = vec!["nl-NL".to_string(), "en-GB".to_string()];
        let channels = vec!["google-nl".to_string()];
        let ctx = ParseContext {
            schema: &schema,
            categories: &categories,
            locales: &locales,
            channels: &channels,
            description_text_locales: &locales,
        };
        parse_file(Path::new("content/products/x.toml"), text, &ctx)
    }

    fn only_error(text: &str) -> Diagnostic {
        let (products, diagnostics) = parse(text);
        assert!(products.is_empty());
        assert_eq!(diagnostics.len(), 1, "{diagnostics:#?}");
        diagnostics.into_iter().next().unwrap()
    }

    #[test]
    fn parses_a_product_with_overrides() {
        let (products, diagnostics) = parse(
            r#"
sku = "D1"
family = "tools"
brand = "Makita"
category = "tools/drills"
title.nl-NL = "Boor"
title.en-GB = "Drill"
voltage = 18.5

[[images]]
url = "https://cdn.example/1.jpg"
alt = "Drill"

[channels.google-nl]
title.nl-NL = "Boor 18V"
"#,
        );
        assert!(diagnostics.is_empty(), "{diagnostics:#?}");
        let product = &products[0];
        assert_eq!(product.sku, "D1");
        assert_eq!(product.line, 2);
        assert_eq!(product.values["voltage"].value.to_string(), "18.5");
        assert_eq!(product.values["images"].value[0]["alt"]["en-GB"], "Drill");
        let title = product.value_for("title", "google-nl").unwrap();
        assert_eq!(title.value["nl-NL"], "Boor 18V");
        assert_eq!(title.line, 15);
    }

    #[test]
    fn erp_owned_field_is_named() {
        let err = only_error("sku = \"D1\"\nfamily = \"tools\"\nprice = 12.5\n");
        assert_eq!((err.code, err.line, err.column), ("erp-owned", 3, 1));
        assert_eq!(err.message, "`price` is owned by the ERP");
    }

    #[test]
    fn unknown_attribute_suggests_the_nearest() {
        let err = only_error("sku = \"D1\"\nfamily = \"tools\"\ntitel.nl-NL = \"x\"\n");
        assert_eq!(err.code, "unknown-attribute");
        assert_eq!(err.help.as_deref(), Some("did you mean `title`?"));
    }

    #[test]
    fn wrong_type_and_rules_point_at_the_value() {
        let err = only_error("sku = \"D1\"\nfamily = \"tools\"\nvoltage = \"18 V\"\n");
        assert_eq!((err.code, err.line, err.column), ("wrong-type", 3, 11));
        let err = only_error(
            "sku = \"D1\"\nfamily = \"tools\"\ntitle.nl-NL = \"much longer than twenty\"\n",
        );
        assert_eq!((err.code, err.line), ("too-long", 3));
        let err = only_error("sku = \"D1\"\nfamily = \"tools\"\ntitle.nl-BE = \"x\"\n");
        assert_eq!(err.code, "unknown-locale");
        assert!(err.help.unwrap().contains("`nl-NL`"));
    }

    #[test]
    fn syntax_error_has_a_position() {
        let err = only_error("sku = \"D1\"\nfamily = \"tools\ntitle = 1\n");
        assert_eq!(err.code, "toml-syntax");
        assert_eq!(err.line, 2);
    }

    #[test]
    fn variants_inherit_and_must_differ() {
        let (products, diagnostics) = parse(
            r#"
model = "TS"
family = "shirts"
title.nl-NL = "Shirt"
title.en-GB = "Shirt"

[[variants]]
sku = "TS-B-M"
color = "blue"
size = "M"
title.en-GB = "Shirt blue"

[[variants]]
sku = "TS-K-M"
color = "black"
size = "M"
"#,
        );
        assert!(diagnostics.is_empty(), "{diagnostics:#?}");
        assert_eq!(products.len(), 2);
        assert_eq!(products[0].model.as_deref(), Some("TS"));
        assert_eq!(products[0].values["title"].value["nl-NL"], "Shirt");
        assert_eq!(products[0].values["title"].value["en-GB"], "Shirt blue");
        assert_eq!(products[1].values["title"].value["en-GB"], "Shirt");

        let (_, diagnostics) = parse(
            "model = \"TS\"\nfamily = \"shirts\"\n[[variants]]\nsku = \"A\"\ncolor = \"blue\"\nsize = \"M\"\n[[variants]]\nsku = \"B\"\ncolor = \"blue\"\nsize = \"M\"\n[[variants]]\nsku = \"C\"\ncolor = \"blue\"\n",
        );
        let codes: Vec<_> = diagnostics.iter().map(|d| (d.code, d.line)).collect();
        assert_eq!(codes, [("duplicate-variant", 8), ("missing-axis", 12)]);
        assert!(diagnostics[0].message.contains("variant `A`"));
    }
}
