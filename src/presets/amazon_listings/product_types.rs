//! Amazon product type definitions: what Amazon requires of a listing of each product type in
//! a marketplace. Sellers download them with the SP-API Product Type Definitions API
//! (`getDefinitionsProductType`, requirements `LISTING`); the `schema` it links to is a JSON
//! Schema (2019-09) with Amazon's own keywords. A catalog keeps them as `amazon/TYPE.json`
//! (`amazon/PRODUCT.json`, `amazon/SHIRT.json`), and the gate checks every full listing of that
//! type against it, attribute by attribute.
//!
//! Amazon's keywords (its meta-schema, `meta-schema-v1.json` beside this file, from
//! amzn/selling-partner-api-models, Apache License 2.0): `maxUniqueItems`/`minUniqueItems`
//! (how many items may differ by their `selectors`) and `maxUtf8ByteLength`/
//! `minUtf8ByteLength` are checked; `editable`, `hidden`, `enumNames`, `selectors` and
//! `$lifecycle` only describe and are ignored, as the meta-schema says.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use jsonschema::{Keyword, ValidationError};
use serde_json::{Map, Value};
use sha2::Digest;

use crate::config::AttributeMapping;
use crate::content::CatalogSource;

/// Where a catalog keeps its product type definitions.
pub const DIR: &str = "amazon";
const META_SCHEMA_ID: &str =
    "https://schemas.amazon.com/selling-partners/definitions/product-types/meta-schema/v1";
/// The vocabulary Amazon's meta-schema requires: its keywords, declared as understood.
const VOCABULARY: &str =
    "https://schemas.amazon.com/selling-partners/definitions/product-types/vocabulary/v1";
const META_SCHEMA: &str = include_str!("meta-schema-v1.json");

/// One product type's definition, compiled.
pub struct Definition {
    validator: jsonschema::Validator,
    /// SHA-256 of the file, so the build cache sees a new definition.
    pub digest: String,
    /// Whether `purchasable_offer` takes `audience` (newer definitions; the 2023 ones refuse it).
    pub offer_audience: bool,
}

impl std::fmt::Debug for Definition {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Definition")
            .field("digest", &self.digest)
            .finish()
    }
}

impl Definition {
    /// Compiles a definition (the JSON Schema of a product type).
    pub fn compile(text: &str) -> Result<Definition, String> {
        let schema: Value = serde_json::from_str(text).map_err(|err| format!("not JSON: {err}"))?;
        // The API's answer holds the schema under `schema` when saved whole; take either.
        let schema = match schema
            .get("schema")
            .filter(|s| s.get("properties").is_some())
        {
            Some(inner) => inner.clone(),
            None => schema,
        };
        let mut meta: Value = serde_json::from_str(META_SCHEMA).expect("the vendored meta-schema");
        // It names itself as its own meta-schema; it is written in 2019-09.
        meta["$schema"] = Value::String("https://json-schema.org/draft/2019-09/schema".into());
        let registry = jsonschema::Registry::new()
            .add(META_SCHEMA_ID, meta)
            .and_then(|registry| registry.prepare())
            .map_err(|err| err.to_string())?;
        let validator = jsonschema::options()
            .with_registry(&registry)
            .with_vocabulary(VOCABULARY)
            .with_keyword("maxUniqueItems", |parent, value, _| {
                unique_items(parent, value, false)
            })
            .with_keyword("minUniqueItems", |parent, value, _| {
                unique_items(parent, value, true)
            })
            .with_keyword("maxUtf8ByteLength", |_, value, _| byte_length(value, false))
            .with_keyword("minUtf8ByteLength", |_, value, _| byte_length(value, true))
            .build(&schema)
            .map_err(|err| {
                format!("not a product type definition Amazon's meta-schema accepts: {err}")
            })?;
        let digest = crate::output::hex(&sha2::Sha256::digest(text.as_bytes()));
        let offer = &schema["properties"]["purchasable_offer"]["items"];
        let offer_audience = offer["properties"].get("audience").is_some()
            || offer.get("additionalProperties") != Some(&Value::Bool(false));
        Ok(Definition {
            validator,
            digest,
            offer_audience,
        })
    }

    /// Every way `attributes` (a listing's `attributes` object) breaks the definition, as
    /// (Amazon attribute, reason), in the order the validator finds them.
    pub fn problems(&self, attributes: &Value) -> Vec<(String, String)> {
        let mut problems: Vec<(String, String)> = Vec::new();
        for error in self.validator.iter_errors(attributes) {
            let path = error.instance_path().to_string();
            let mut attribute = path
                .trim_start_matches('/')
                .split('/')
                .next()
                .unwrap_or_default()
                .to_string();
            let mut message = error.to_string();
            if attribute.is_empty() {
                // `required` at the top names the missing attribute in its message.
                attribute = message
                    .split('"')
                    .nth(1)
                    .unwrap_or("attributes")
                    .to_string();
                if message.ends_with("is a required property") {
                    message = "is required and the listing has none".into();
                }
            }
            let reason = if path.is_empty() {
                message
            } else {
                format!("{message} (at {path})")
            };
            if !problems.contains(&(attribute.clone(), reason.clone())) {
                problems.push((attribute, reason));
            }
        }
        problems
    }
}

impl AttributeMapping {
    /// The value for one product, if any source has one.
    pub fn value(&self, view: &crate::merge::ProductView) -> Option<String> {
        self.attribute
            .as_deref()
            .and_then(|name| crate::presets::view::attribute_text(view, name))
            .or_else(|| {
                view.brand
                    .as_ref()
                    .and_then(|brand| self.brand.get(brand).cloned())
            })
            .or_else(|| self.family.get(&view.family).cloned())
            .or_else(|| self.default.clone())
    }
}

/// Loads `amazon/TYPE.json` for each product type that has one; an unreadable or invalid
/// file is a problem naming it.
pub fn load(
    source: &CatalogSource,
    product_types: impl IntoIterator<Item = String>,
    problem: &mut dyn FnMut(String),
) -> BTreeMap<String, Arc<Definition>> {
    let mut definitions = BTreeMap::new();
    for product_type in product_types {
        if definitions.contains_key(&product_type) {
            continue;
        }
        let path = Path::new(DIR).join(format!("{product_type}.json"));
        if !source.is_file(&path) {
            continue;
        }
        let compiled = source
            .read_to_string(&path)
            .map_err(|err| err.to_string())
            .and_then(|text| Definition::compile(&text));
        match compiled {
            Ok(definition) => {
                definitions.insert(product_type, Arc::new(definition));
            }
            Err(message) => problem(format!("{}: {message}", path.display())),
        }
    }
    definitions
}

/// Loads the definitions of an Amazon channel's product types; the channel's note says which
/// types had none, so that their product-type rules were not checked.
pub fn attach(
    settings: &mut super::settings::AmazonSettings,
    source: &CatalogSource,
    problem: &mut dyn FnMut(String),
    note: &mut dyn FnMut(String),
) {
    let mut types: Vec<String> = settings.product_types.values().cloned().collect();
    types.sort();
    types.dedup();
    settings.definitions = load(source, types.iter().cloned(), problem);
    let unchecked: Vec<&str> = types
        .iter()
        .filter(|t| !settings.definitions.contains_key(*t))
        .map(String::as_str)
        .collect();
    if !unchecked.is_empty() {
        note(format!(
            "product-type rules were not checked for {}: only the feed envelope was; download \
             each type's definition (SP-API getDefinitionsProductType, requirements LISTING) \
             to {DIR}/TYPE.json to gate listings against it",
            unchecked.join(", ")
        ));
    }
}

/// `maxUniqueItems` / `minUniqueItems`: the number of items that differ in their
/// `selectors` (e.g. one `item_name` per marketplace and language).
fn unique_items<'a>(
    parent: &'a Map<String, Value>,
    value: &'a Value,
    minimum: bool,
) -> Result<Box<dyn for<'i> Keyword<'i>>, ValidationError<'a>> {
    let limit = value
        .as_u64()
        .ok_or_else(|| ValidationError::custom("a unique-items limit is a whole number"))?;
    let selectors = parent
        .get("selectors")
        .and_then(Value::as_array)
        .map(|s| {
            s.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    Ok(Box::new(UniqueItems {
        limit: limit as usize,
        selectors,
        minimum,
    }))
}

struct UniqueItems {
    limit: usize,
    selectors: Vec<String>,
    minimum: bool,
}

impl UniqueItems {
    fn count(&self, items: &[Value]) -> usize {
        let mut seen: Vec<Vec<&Value>> = Vec::new();
        for item in items {
            let key: Vec<&Value> = self
                .selectors
                .iter()
                .map(|s| item.get(s).unwrap_or(&Value::Null))
                .collect();
            if !seen.contains(&key) {
                seen.push(key);
            }
        }
        seen.len()
    }
}

impl<'i> Keyword<'i> for UniqueItems {
    fn validate(&self, instance: &'i Value) -> Result<(), ValidationError<'i>> {
        if self.is_valid(instance) {
            return Ok(());
        }
        let (bound, word) = match self.minimum {
            true => (self.limit, "at least"),
            false => (self.limit, "at most"),
        };
        Err(ValidationError::custom(format!(
            "takes {word} {bound} distinct values per {}",
            self.selectors.join(" and ")
        )))
    }

    fn is_valid(&self, instance: &'i Value) -> bool {
        let Some(items) = instance.as_array() else {
            return true;
        };
        let count = self.count(items);
        match self.minimum {
            true => count >= self.limit,
            false => count <= self.limit,
        }
    }
}

/// `maxUtf8ByteLength` / `minUtf8ByteLength`: a string's length in UTF-8 bytes.
fn byte_length<'a>(
    value: &'a Value,
    minimum: bool,
) -> Result<Box<dyn for<'i> Keyword<'i>>, ValidationError<'a>> {
    let limit = value
        .as_u64()
        .ok_or_else(|| ValidationError::custom("a byte length is a whole number"))?;
    Ok(Box::new(ByteLength {
        limit: limit as usize,
        minimum,
    }))
}

struct ByteLength {
    limit: usize,
    minimum: bool,
}

impl<'i> Keyword<'i> for ByteLength {
    fn validate(&self, instance: &'i Value) -> Result<(), ValidationError<'i>> {
        if self.is_valid(instance) {
            return Ok(());
        }
        let word = if self.minimum { "at least" } else { "at most" };
        Err(ValidationError::custom(format!(
            "is {} bytes of UTF-8; Amazon takes {word} {}",
            instance.as_str().map_or(0, str::len),
            self.limit
        )))
    }

    fn is_valid(&self, instance: &'i Value) -> bool {
        match instance.as_str() {
            Some(text) if self.minimum => text.len() >= self.limit,
            Some(text) => text.len() <= self.limit,
            None => true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn definition() -> Definition {
        Definition::compile(
            &json!({
                "$schema": META_SCHEMA_ID,
                "type": "object",
                "required": ["item_name", "country_of_origin"],
                "properties": {
                    "item_name": {
                        "type": "array",
                        "selectors": ["marketplace_id", "language_tag"],
                        "maxUniqueItems": 1,
                        "editable": true,
                        "items": {
                            "type": "object",
                            "required": ["value"],
                            "properties": {
                                "value": { "type": "string", "maxUtf8ByteLength": 10 }
                            }
                        }
                    },
                    "country_of_origin": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "properties": { "value": { "enum": ["NL", "DE"], "enumNames": ["Nederland", "Duitsland"] } }
                        }
                    }
                }
            })
            .to_string(),
        )
        .unwrap()
    }

    #[test]
    fn amazons_keywords_are_checked_and_attributes_named() {
        let definition = definition();
        let ok = json!({
            "item_name": [{ "value": "Boor", "marketplace_id": "A", "language_tag": "nl_NL" }],
            "country_of_origin": [{ "value": "NL" }],
        });
        assert!(definition.problems(&ok).is_empty());
        let bad = json!({
            "item_name": [
                { "value": "Boormachine €", "marketplace_id": "A", "language_tag": "nl_NL" },
                { "value": "Drill", "marketplace_id": "A", "language_tag": "en_GB" }
            ],
            "country_of_origin": [{ "value": "XX" }],
        });
        let problems = definition.problems(&bad);
        let attributes: Vec<&str> = problems.iter().map(|(a, _)| a.as_str()).collect();
        assert!(attributes.contains(&"item_name"), "{problems:?}");
        assert!(attributes.contains(&"country_of_origin"), "{problems:?}");
        assert!(
            problems
                .iter()
                .any(|(_, m)| m.contains("15 bytes of UTF-8; Amazon takes at most 10")),
            "{problems:?}"
        );
        assert!(
            problems
                .iter()
                .any(|(_, m)| m.contains("at most 1 distinct values")),
            "{problems:?}"
        );
        let missing = definition.problems(&json!({ "item_name": [{ "value": "x" }] }));
        assert_eq!(missing[0].0, "country_of_origin", "{missing:?}");
    }
}
