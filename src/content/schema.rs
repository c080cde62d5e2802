//! `content/schema.toml`: attribute definitions and families, the data model every product
//! file is checked against (Akeneo's attributes and families, kept as code).

use std::collections::BTreeMap;
use std::path::Path;

use regex::Regex;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use toml::Spanned;

use crate::diagnostics::Diagnostic;

pub const SCHEMA_FILE: &str = "content/schema.toml";

/// Attributes every family has without listing them.
pub const BUILTIN_ATTRIBUTES: &[&str] = &["brand", "category", "enabled"];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AttributeType {
    Text,
    RichText,
    TextList,
    Number,
    Measurement,
    Boolean,
    Enum,
    EnumList,
    Url,
    Image,
    ImageList,
    AssetList,
    Date,
}

impl AttributeType {
    pub fn name(self) -> &'static str {
        match self {
            Self::Text => "text",
            Self::RichText => "rich_text",
            Self::TextList => "text_list",
            Self::Number => "number",
            Self::Measurement => "measurement",
            Self::Boolean => "boolean",
            Self::Enum => "enum",
            Self::EnumList => "enum_list",
            Self::Url => "url",
            Self::Image => "image",
            Self::ImageList => "image_list",
            Self::AssetList => "asset_list",
            Self::Date => "date",
        }
    }

    fn is_textual(self) -> bool {
        matches!(self, Self::Text | Self::RichText | Self::TextList)
    }

    fn is_list(self) -> bool {
        matches!(
            self,
            Self::TextList | Self::EnumList | Self::ImageList | Self::AssetList
        )
    }

    fn is_numeric(self) -> bool {
        matches!(self, Self::Number | Self::Measurement)
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AttributeDef {
    #[serde(rename = "type")]
    pub kind: AttributeType,
    #[serde(default)]
    pub localized: bool,
    pub unit: Option<String>,
    #[serde(default)]
    pub options: Vec<String>,
    pub min_length: Option<usize>,
    pub max_length: Option<usize>,
    pub pattern: Option<String>,
    pub min_items: Option<usize>,
    pub max_items: Option<usize>,
    pub min: Option<Decimal>,
    pub max: Option<Decimal>,
    #[serde(default)]
    pub integer: bool,
    /// Compiled `pattern`, anchored so it has to match the whole value.
    #[serde(skip)]
    pub regex: Option<Regex>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Family {
    pub attributes: Vec<Spanned<String>>,
    #[serde(default)]
    pub required: Vec<Spanned<String>>,
    #[serde(default)]
    pub variant_axes: Vec<Spanned<String>>,
}

impl Family {
    pub fn has_attribute(&self, name: &str) -> bool {
        BUILTIN_ATTRIBUTES.contains(&name) || self.attributes.iter().any(|a| a.get_ref() == name)
    }

    pub fn required(&self) -> impl Iterator<Item = &str> {
        self.required.iter().map(|r| r.get_ref().as_str())
    }

    pub fn variant_axes(&self) -> impl Iterator<Item = &str> {
        self.variant_axes.iter().map(|r| r.get_ref().as_str())
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Schema {
    #[serde(default)]
    pub attributes: BTreeMap<String, AttributeDef>,
    #[serde(default)]
    pub families: BTreeMap<String, Family>,
}

impl Schema {
    /// Parses and checks the schema. Problems in it are errors: every product depends on it.
    pub fn parse(text: &str, file: &Path) -> (Option<Schema>, Vec<Diagnostic>) {
        let mut schema: Schema = match toml::from_str(text) {
            Ok(schema) => schema,
            Err(err) => {
                let diagnostic = Diagnostic::from_toml_error(
                    &err,
                    file,
                    text,
                    "schema",
                    "attributes take `type`, `localized`, `unit`, `options`, `min_length`, \
                     `max_length`, `pattern`, `min_items`, `max_items`, `min`, `max`, `integer`; \
                     families take `attributes`, `required`, `variant_axes`",
                );
                return (None, vec![diagnostic]);
            }
        };
        let mut diagnostics = Vec::new();
        for (name, def) in &mut schema.attributes {
            check_attribute(name, def, file, text, &mut diagnostics);
        }
        for family in schema.families.values() {
            schema.check_family(family, file, text, &mut diagnostics);
        }
        (Some(schema), diagnostics)
    }

    /// The definition of `name`, including the built-in attributes.
    pub fn attribute(&self, name: &str) -> Option<&AttributeDef> {
        match name {
            "brand" => Some(&BRAND),
            "enabled" => Some(&ENABLED),
            "category" => Some(&CATEGORY),
            _ => self.attributes.get(name),
        }
    }

    fn check_family(
        &self,
        family: &Family,
        file: &Path,
        text: &str,
        diagnostics: &mut Vec<Diagnostic>,
    ) {
        for attribute in &family.attributes {
            if self.attribute(attribute.get_ref()).is_none() {
                diagnostics.push(unknown_in_schema(attribute, self, file, text));
            }
        }
        for listed in family.required.iter().chain(&family.variant_axes) {
            let name = listed.get_ref();
            if self.attribute(name).is_none() {
                diagnostics.push(unknown_in_schema(listed, self, file, text));
            } else if !family.has_attribute(name) {
                diagnostics.push(
                    Diagnostic::error(
                        "schema",
                        file,
                        text,
                        listed.span(),
                        format!("`{name}` is not one of this family's attributes"),
                    )
                    .with_help(format!("add \"{name}\" to the family's `attributes`")),
                );
            }
        }
        for axis in &family.variant_axes {
            let Some(def) = self.attribute(axis.get_ref()) else {
                continue;
            };
            if def.localized
                || !matches!(
                    def.kind,
                    AttributeType::Enum
                        | AttributeType::Text
                        | AttributeType::Number
                        | AttributeType::Measurement
                )
            {
                diagnostics.push(
                    Diagnostic::error(
                        "schema",
                        file,
                        text,
                        axis.span(),
                        format!(
                            "variant axis `{}` must be a non-localized enum, text, number or measurement",
                            axis.get_ref()
                        ),
                    )
                    .with_help("variants differ by simple values such as colour or size"),
                );
            }
        }
    }
}

fn unknown_in_schema(
    name: &Spanned<String>,
    schema: &Schema,
    file: &Path,
    text: &str,
) -> Diagnostic {
    let known = schema
        .attributes
        .keys()
        .map(String::as_str)
        .chain(BUILTIN_ATTRIBUTES.iter().copied());
    let mut diagnostic = Diagnostic::error(
        "schema",
        file,
        text,
        name.span(),
        format!("unknown attribute `{}`", name.get_ref()),
    );
    diagnostic.help = Some(match crate::suggest::nearest(name.get_ref(), known) {
        Some(near) => format!("did you mean `{near}`? Otherwise define it under [attributes]"),
        None => format!("define it as [attributes.{}]", name.get_ref()),
    });
    diagnostic
}

/// Checks that each rule fits the attribute's type, and compiles `pattern`.
fn check_attribute(
    name: &str,
    def: &mut AttributeDef,
    file: &Path,
    text: &str,
    diagnostics: &mut Vec<Diagnostic>,
) {
    let span = find_table_span(text, name);
    let mut misfit = |rule: &str, fits: &str| {
        diagnostics.push(
            Diagnostic::error(
                "schema",
                file,
                text,
                span.clone(),
                format!(
                    "attribute `{name}` is of type {} and cannot have `{rule}`",
                    def.kind.name()
                ),
            )
            .with_help(format!("`{rule}` applies to {fits}")),
        );
    };
    let kind = def.kind;
    if def.unit.is_some() && kind != AttributeType::Measurement {
        misfit("unit", "measurement");
    }
    if !def.options.is_empty() && !matches!(kind, AttributeType::Enum | AttributeType::EnumList) {
        misfit("options", "enum and enum_list");
    }
    if (def.min_length.is_some() || def.max_length.is_some() || def.pattern.is_some())
        && !kind.is_textual()
    {
        misfit(
            "min_length/max_length/pattern",
            "text, rich_text and text_list",
        );
    }
    if (def.min_items.is_some() || def.max_items.is_some()) && !kind.is_list() {
        misfit(
            "min_items/max_items",
            "text_list, enum_list, image_list and asset_list",
        );
    }
    if (def.min.is_some() || def.max.is_some() || def.integer) && !kind.is_numeric() {
        misfit("min/max/integer", "number and measurement");
    }
    if matches!(kind, AttributeType::Enum | AttributeType::EnumList) && def.options.is_empty() {
        diagnostics.push(
            Diagnostic::error(
                "schema",
                file,
                text,
                span.clone(),
                format!("enum attribute `{name}` has no `options`"),
            )
            .with_help("list the allowed values: options = [\"black\", \"blue\"]"),
        );
    }
    if let Some(pattern) = &def.pattern {
        match Regex::new(&format!("^(?:{pattern})$")) {
            Ok(regex) => def.regex = Some(regex),
            Err(err) => diagnostics.push(
                Diagnostic::error(
                    "schema",
                    file,
                    text,
                    span,
                    format!("attribute `{name}` has an invalid pattern: {err}"),
                )
                .with_help("patterns use Rust regex syntax and must match the whole value"),
            ),
        }
    }
}

/// The span of `[attributes.NAME]`, so rule errors point at the definition.
fn find_table_span(text: &str, name: &str) -> std::ops::Range<usize> {
    let header = format!("[attributes.{name}]");
    text.find(&header)
        .map(|start| start..start + header.len())
        .unwrap_or(0..0)
}

const fn builtin(kind: AttributeType) -> AttributeDef {
    AttributeDef {
        kind,
        localized: false,
        unit: None,
        options: Vec::new(),
        min_length: None,
        max_length: None,
        pattern: None,
        min_items: None,
        max_items: None,
        min: None,
        max: None,
        integer: false,
        regex: None,
    }
}

static BRAND: AttributeDef = AttributeDef {
    kind: AttributeType::Text,
    localized: false,
    unit: None,
    options: Vec::new(),
    min_length: Some(1),
    max_length: Some(70),
    pattern: None,
    min_items: None,
    max_items: None,
    min: None,
    max: None,
    integer: false,
    regex: None,
};
static ENABLED: AttributeDef = builtin(AttributeType::Boolean);
/// A key of `categories.toml`; checked against the tree when products load.
static CATEGORY: AttributeDef = builtin(AttributeType::Text);

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> (Option<Schema>, Vec<Diagnostic>) {
        Schema::parse(text, Path::new("content/schema.toml"))
    }

    #[test]
    fn parses_attributes_and_families() {
        let (schema, diagnostics) = parse(
            r#"
[attributes.title]
type = "text"
localized = true
max_length = 150

[attributes.color]
type = "enum"
options = ["black", "blue"]

[families.shirts]
attributes = ["title", "color"]
required = ["title", "brand"]
variant_axes = ["color"]
"#,
        );
        assert!(diagnostics.is_empty(), "{diagnostics:?}");
        let schema = schema.unwrap();
        assert_eq!(schema.attributes["title"].max_length, Some(150));
        let family = &schema.families["shirts"];
        assert!(family.has_attribute("brand"));
        assert_eq!(family.variant_axes().collect::<Vec<_>>(), ["color"]);
    }

    #[test]
    fn reports_rules_that_do_not_fit_the_type_and_unknown_family_attributes() {
        let (_, diagnostics) = parse(
            r#"
[attributes.voltage]
type = "number"
max_length = 3

[families.tools]
attributes = ["voltge"]
"#,
        );
        assert_eq!(diagnostics.len(), 2, "{diagnostics:?}");
        assert!(
            diagnostics[0]
                .message
                .contains("cannot have `min_length/max_length")
        );
        assert_eq!(diagnostics[0].line, 2);
        assert_eq!(diagnostics[1].message, "unknown attribute `voltge`");
        assert_eq!(diagnostics[1].line, 7);
        assert!(
            diagnostics[1]
                .help
                .as_deref()
                .unwrap()
                .contains("`voltage`")
        );
    }

    #[test]
    fn unknown_rule_is_a_positioned_error() {
        let (schema, diagnostics) = parse("[attributes.title]\ntype = \"text\"\nmaxlength = 3\n");
        assert!(schema.is_none());
        assert_eq!(diagnostics[0].line, 3);
        assert!(diagnostics[0].message.contains("unknown field `maxlength`"));
    }
}
