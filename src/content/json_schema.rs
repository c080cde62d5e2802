//! A JSON Schema (draft 2020-12) for product files, generated from `content/schema.toml`,
//! so an editor (Taplo, VS Code's Even Better TOML) completes attribute names, enum options
//! and locales, and underlines mistakes before CI runs.
//!
//! It mirrors what `pimfeed check` enforces: unknown keys, types, lengths, enums, locales,
//! attributes outside the file's family, ERP-owned keys (`not: {}` with a description
//! saying the ERP owns them). It also lists each family's required attributes as
//! `required`: an editor then shows what is still missing, while `check` keeps treating such
//! a product as valid but incomplete (left out of channels, not an error). Per-channel
//! requirements (`require` in pim.toml) are not expressed: a file does not know its channels.

use serde_json::{Map, Value, json};

use super::categories::Categories;
use super::schema::{AttributeDef, AttributeType, BUILTIN_ATTRIBUTES, Schema};
use super::value::decimal_value;
use crate::config::Config;
use crate::erp::ERP_FIELDS;

/// Where `pimfeed schema` writes the schema, relative to the catalog root.
pub const SCHEMA_PATH: &str = "content/product.schema.json";
/// The Taplo configuration that maps product files to the schema.
pub const TAPLO_CONFIG: &str = ".taplo.toml";

const URL_PATTERN: &str = r"^https?://\S+$";

/// The Taplo configuration `pimfeed schema` writes when the catalog has none.
pub fn taplo_config() -> String {
    format!(
        "# Editor support for pimfeed product files: completion and checks in any editor with\n\
         # the Taplo language server (VS Code: the Even Better TOML extension).\n\
         # Written by `pimfeed schema`; run it again after changing content/schema.toml.\n\
         \n\
         [[rule]]\n\
         include = [\"content/products/**/*.toml\"]\n\
         \n\
         [rule.schema]\n\
         path = \"{SCHEMA_PATH}\"\n"
    )
}

/// The schema for the catalog's product files.
pub fn generate(config: &Config, schema: &Schema, categories: &Categories) -> Value {
    let locales = &config.catalog.locales;
    let channels: Vec<&String> = config.channels.keys().collect();
    let families: Vec<&String> = schema.families.keys().collect();

    let attributes = attribute_properties(schema, categories, locales);
    let erp_owned = erp_owned_properties();

    let with = |extra: Vec<(&str, Value)>| -> Map<String, Value> {
        let mut properties = Map::new();
        for (key, value) in extra {
            properties.insert(key.to_string(), value);
        }
        properties.extend(attributes.clone());
        properties.extend(erp_owned.clone());
        properties
    };
    let channel_properties: Map<String, Value> = channels
        .iter()
        .map(|c| (c.to_string(), json!({ "$ref": "#/$defs/overrides" })))
        .collect();
    let channels_schema = json!({
        "description": "Per-channel overrides: [channels.<name>] followed by the attributes that differ in that channel.",
        "type": "object",
        "properties": channel_properties,
        "additionalProperties": false
    });

    let product_properties = with(vec![
        (
            "sku",
            json!({
                "description": "The ERP item number. A file has either `sku` (one product) or `model` with [[variants]].",
                "type": "string",
                "pattern": "\\S"
            }),
        ),
        (
            "model",
            json!({
                "description": "A product model's code; its [[variants]] each have their own `sku`.",
                "type": "string",
                "pattern": "\\S"
            }),
        ),
        (
            "family",
            json!({
                "description": "The product's family in content/schema.toml: which attributes it has and which are required.",
                "enum": families
            }),
        ),
        (
            "variants",
            json!({
                "description": "The variants of a product model, each its own ERP item.",
                "type": "array",
                "minItems": 1,
                "items": { "$ref": "#/$defs/variant" }
            }),
        ),
        ("channels", channels_schema.clone()),
    ]);
    let variant_properties = with(vec![
        (
            "sku",
            json!({ "description": "The variant's ERP item number.", "type": "string", "pattern": "\\S" }),
        ),
        ("channels", channels_schema),
    ]);
    let mut override_properties = attributes.clone();
    override_properties.extend(erp_owned.clone());

    let per_family = family_rules(schema);

    let localized_text = json!({
        "description": "One text for every locale, or one per locale.",
        "anyOf": [
            { "type": "string" },
            { "type": "object", "properties": locale_map(locales, &json!({"type": "string"})), "additionalProperties": false }
        ]
    });
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": format!("{} product file", config.catalog.name),
        "description": "A pimfeed product file (content/products/**/*.toml). Generated by `pimfeed schema` from content/schema.toml: do not edit, run `pimfeed schema` again after changing the schema.",
        "type": "object",
        "properties": product_properties,
        "additionalProperties": false,
        "required": ["family"],
        "oneOf": [
            { "required": ["sku"], "not": { "required": ["model"] } },
            { "required": ["model"], "not": { "required": ["sku"] } }
        ],
        "dependentRequired": { "model": ["variants"], "variants": ["model"] },
        "allOf": per_family,
        "$defs": {
            "variant": {
                "type": "object",
                "properties": variant_properties,
                "required": ["sku"],
                "additionalProperties": false
            },
            "overrides": {
                "type": "object",
                "properties": override_properties,
                "additionalProperties": false
            },
            "localizedText": localized_text,
            "image": {
                "anyOf": [
                    { "type": "string", "pattern": URL_PATTERN },
                    {
                        "type": "object",
                        "properties": {
                            "url": { "type": "string", "pattern": URL_PATTERN, "description": "An absolute http(s) URL." },
                            "alt": { "$ref": "#/$defs/localizedText" }
                        },
                        "required": ["url"],
                        "additionalProperties": false
                    }
                ]
            },
            "asset": {
                "anyOf": [
                    { "type": "string", "pattern": URL_PATTERN },
                    {
                        "type": "object",
                        "properties": {
                            "url": { "type": "string", "pattern": URL_PATTERN, "description": "An absolute http(s) URL." },
                            "title": { "$ref": "#/$defs/localizedText" },
                            "type": { "type": "string", "description": "e.g. manual, datasheet" }
                        },
                        "required": ["url"],
                        "additionalProperties": false
                    }
                ]
            }
        }
    })
}

/// Every attribute of the schema, the built-in ones first, each with what it is for.
fn attribute_properties(
    schema: &Schema,
    categories: &Categories,
    locales: &[String],
) -> Map<String, Value> {
    let mut attributes = Map::new();
    for name in BUILTIN_ATTRIBUTES {
        let def = schema
            .attribute(name)
            .expect("built-in attributes are defined");
        let mut property = attribute_schema(name, def, locales);
        match *name {
            "brand" => describe(
                &mut property,
                "The brand, as shoppers know it. Every family has it.",
            ),
            "enabled" => describe(
                &mut property,
                "false keeps the product out of every channel. Default: true.",
            ),
            _ => {
                describe(
                    &mut property,
                    "A category: a key of content/categories.toml. Every family has it.",
                );
                if !categories.categories.is_empty() {
                    property["enum"] = json!(categories.categories.keys().collect::<Vec<_>>());
                }
            }
        }
        attributes.insert(name.to_string(), property);
    }
    for (name, def) in &schema.attributes {
        let mut property = attribute_schema(name, def, locales);
        let in_families: Vec<&str> = schema
            .families
            .iter()
            .filter(|(_, f)| f.has_attribute(name))
            .map(|(n, _)| n.as_str())
            .collect();
        let required_by: Vec<&str> = schema
            .families
            .iter()
            .filter(|(_, f)| f.required().any(|r| r == name))
            .map(|(n, _)| n.as_str())
            .collect();
        let mut text = describe_rules(def);
        if !in_families.is_empty() {
            text.push_str(&format!(" In families: {}.", in_families.join(", ")));
        }
        if !required_by.is_empty() {
            text.push_str(&format!(
                " Required by: {} (without it the product is left out of every channel).",
                required_by.join(", ")
            ));
        }
        describe(&mut property, &text);
        attributes.insert(name.clone(), property);
    }
    attributes
}

/// The record fields the ERP owns: a product file that sets one is told to change the ERP.
fn erp_owned_properties() -> Map<String, Value> {
    let mut erp_owned = Map::new();
    for field in ERP_FIELDS.iter().filter(|f| **f != "sku") {
        erp_owned.insert(
            field.to_string(),
            json!({
                "description": format!("`{field}` is owned by the ERP: pimfeed takes it from the ERP export, so change it there, not here."),
                "not": {}
            }),
        );
    }
    erp_owned
}

/// Per family: the attributes outside it are refused, its required ones demanded (on the
/// product or on every variant), and its variant axes set on every variant.
fn family_rules(schema: &Schema) -> Vec<Value> {
    schema
        .families
        .iter()
        .map(|(family_name, family)| {
            let outside: Map<String, Value> = schema
                .attributes
                .keys()
                .filter(|a| !family.has_attribute(a))
                .map(|a| {
                    (
                        a.clone(),
                        json!({
                            "description": format!("`{a}` is not an attribute of family `{family_name}`: add it to the family in content/schema.toml, or remove it here."),
                            "not": {}
                        }),
                    )
                })
                .collect();
            let axes: Vec<&str> = family.variant_axes().collect();
            let required: Vec<Value> = family
                .required()
                .map(|name| {
                    json!({
                        "anyOf": [
                            { "required": [name] },
                            {
                                "required": ["variants"],
                                "properties": { "variants": { "items": { "required": [name] } } }
                            }
                        ]
                    })
                })
                .collect();
            let mut variant_rules = json!({ "properties": outside.clone() });
            if !axes.is_empty() {
                variant_rules["required"] = json!(axes);
            }
            json!({
                "if": { "properties": { "family": { "const": family_name } }, "required": ["family"] },
                "then": {
                    "properties": {
                        "channels": { "additionalProperties": { "properties": outside.clone() } },
                        "variants": { "items": variant_rules }
                    },
                    "allOf": [ { "properties": outside }, { "allOf": required } ]
                }
            })
        })
        .collect()
}

/// The schema of one attribute's value: per locale when localized.
fn attribute_schema(name: &str, def: &AttributeDef, locales: &[String]) -> Value {
    let value = value_schema(def);
    if !def.localized {
        return value;
    }
    let first = locales.first().map_or("en", String::as_str);
    json!({
        "type": "object",
        "description": format!("Localized: one value per locale, e.g. `{name}.{first} = …`."),
        "properties": locale_map(locales, &value),
        "additionalProperties": false
    })
}

fn locale_map(locales: &[String], value: &Value) -> Map<String, Value> {
    locales
        .iter()
        .map(|locale| (locale.clone(), value.clone()))
        .collect()
}

fn value_schema(def: &AttributeDef) -> Value {
    let mut schema = match def.kind {
        AttributeType::Text | AttributeType::RichText => text_schema(def),
        AttributeType::TextList => json!({ "type": "array", "items": text_schema(def) }),
        AttributeType::Number | AttributeType::Measurement => {
            let mut number = json!({ "type": if def.integer { "integer" } else { "number" } });
            if let Some(min) = def.min {
                number["minimum"] = decimal_value(min);
            }
            if let Some(max) = def.max {
                number["maximum"] = decimal_value(max);
            }
            number
        }
        AttributeType::Boolean => json!({ "type": "boolean" }),
        AttributeType::Enum => json!({ "enum": def.options }),
        AttributeType::EnumList => json!({ "type": "array", "items": { "enum": def.options } }),
        AttributeType::Url => json!({ "type": "string", "pattern": URL_PATTERN }),
        AttributeType::Image => json!({ "$ref": "#/$defs/image" }),
        AttributeType::ImageList => {
            json!({ "type": "array", "items": { "$ref": "#/$defs/image" } })
        }
        AttributeType::AssetList => {
            json!({ "type": "array", "items": { "$ref": "#/$defs/asset" } })
        }
        // TOML dates are their own type; editors and validators see them as `YYYY-MM-DD`.
        AttributeType::Date => {
            json!({ "type": "string", "format": "date", "pattern": "^\\d{4}-\\d{2}-\\d{2}$" })
        }
    };
    if let Some(min) = def.min_items {
        schema["minItems"] = json!(min);
    }
    if let Some(max) = def.max_items {
        schema["maxItems"] = json!(max);
    }
    schema
}

fn text_schema(def: &AttributeDef) -> Value {
    let mut text = json!({ "type": "string" });
    if let Some(min) = def.min_length {
        text["minLength"] = json!(min);
    }
    if let Some(max) = def.max_length {
        text["maxLength"] = json!(max);
    }
    if let Some(pattern) = &def.pattern {
        text["pattern"] = json!(format!("^(?:{pattern})$"));
    }
    text
}

/// `text, localized, 10–150 characters`: the rules in words, for hovers and stubs.
pub fn describe_rules(def: &AttributeDef) -> String {
    let mut parts = vec![match def.kind {
        AttributeType::RichText => "rich_text (Markdown)".to_string(),
        AttributeType::Measurement => match &def.unit {
            Some(unit) => format!("measurement in {unit} (a number, without the unit)"),
            None => "measurement (a number)".to_string(),
        },
        AttributeType::Date => "date (YYYY-MM-DD)".to_string(),
        kind => kind.name().to_string(),
    }];
    if def.localized {
        parts.push("localized".into());
    }
    match (def.min_length, def.max_length) {
        (Some(min), Some(max)) => parts.push(format!("{min}–{max} characters")),
        (Some(min), None) => parts.push(format!("at least {min} characters")),
        (None, Some(max)) => parts.push(format!("at most {max} characters")),
        (None, None) => {}
    }
    match (def.min_items, def.max_items) {
        (Some(min), Some(max)) => parts.push(format!("{min}–{max} items")),
        (Some(min), None) => parts.push(format!("at least {min} items")),
        (None, Some(max)) => parts.push(format!("at most {max} items")),
        (None, None) => {}
    }
    if def.integer {
        parts.push("whole number".into());
    }
    match (def.min, def.max) {
        (Some(min), Some(max)) => parts.push(format!("{min}–{max}")),
        (Some(min), None) => parts.push(format!("at least {min}")),
        (None, Some(max)) => parts.push(format!("at most {max}")),
        (None, None) => {}
    }
    if let Some(pattern) = &def.pattern {
        parts.push(format!("matching `{pattern}`"));
    }
    if !def.options.is_empty() {
        parts.push(format!("one of: {}", def.options.join(", ")));
    }
    let mut text = parts.join(", ");
    text.push('.');
    text
}

/// Sets the description, keeping one already there (e.g. how to write a localized value).
fn describe(schema: &mut Value, text: &str) {
    if let Value::Object(map) = schema {
        let text = match map.get("description").and_then(Value::as_str) {
            Some(existing) => format!("{text} {existing}"),
            None => text.to_string(),
        };
        map.insert("description".into(), Value::String(text));
    }
}
