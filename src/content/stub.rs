//! A stub product file for an ERP item without content: valid TOML that `check` accepts,
//! with every attribute of the family as a commented-out line saying its type and rules.
//!
//! Required attributes are left commented out rather than written as empty values: an empty
//! title would break `min_length` and make the file an error, while an absent one makes the
//! product incomplete, which is what it is. `check` then lists exactly what is missing.

use std::fmt::Write;

use super::Categories;
use super::json_schema::describe_rules;
use super::schema::{AttributeDef, AttributeType, Family, Schema};
use crate::erp::ErpRecord;

/// What a stub is made from.
pub struct StubContext<'a> {
    pub schema: &'a Schema,
    pub categories: &'a Categories,
    pub locales: &'a [String],
}

/// The text of a stub for `sku` in family `family_name`.
pub fn render(
    sku: &str,
    family_name: &str,
    family: &Family,
    record: Option<&ErpRecord>,
    ctx: &StubContext<'_>,
) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# New product {sku}, written by `pimfeed new`.");
    if let Some(record) = record {
        let _ = writeln!(out, "# In the ERP: {}.", erp_summary(record));
    } else {
        let _ = writeln!(
            out,
            "# Not in the ERP export yet: it reaches no channel until it is."
        );
    }
    let required: Vec<&str> = family.required().collect();
    let _ = writeln!(
        out,
        "#\n# Fill in a value and remove the `#` in front of its line(s). Lines still commented out\n\
         # are simply absent: the file is valid as it is, and `pimfeed check` lists what each\n\
         # channel still misses."
    );
    if !required.is_empty() {
        let _ = writeln!(
            out,
            "# Family `{family_name}` requires: {}.",
            required.join(", ")
        );
    }
    let _ = writeln!(out, "\nsku = {}", quote(sku));
    let _ = writeln!(out, "family = {}", quote(family_name));

    let _ = writeln!(
        out,
        "\n# brand: the brand as shoppers know it; text, at most 70 characters.\n# brand = \"\""
    );
    let example_category = ctx
        .categories
        .categories
        .keys()
        .next()
        .map(|c| format!(", e.g. {}", quote(c)))
        .unwrap_or_default();
    let _ = writeln!(
        out,
        "\n# category: a key of content/categories.toml{example_category}.\n# category = \"\""
    );

    // Required first, then the rest; tables ([[images]]) last, because every key after a
    // table header belongs to that table.
    let mut names: Vec<&str> = family
        .attributes
        .iter()
        .map(|a| a.get_ref().as_str())
        .filter(|a| !super::schema::BUILTIN_ATTRIBUTES.contains(a))
        .collect();
    names.sort_by_key(|name| {
        let def = ctx.schema.attribute(name);
        let table = def.is_some_and(|d| is_table(d.kind));
        (table, !required.contains(name))
    });
    for name in names {
        let Some(def) = ctx.schema.attribute(name) else {
            continue;
        };
        let marker = if required.contains(&name) {
            " (required)"
        } else {
            ""
        };
        let _ = writeln!(out, "\n# {name}{marker}: {}", describe_rules(def));
        for line in example_lines(name, def, ctx.locales) {
            let _ = writeln!(out, "# {line}");
        }
    }
    out
}

fn is_table(kind: AttributeType) -> bool {
    matches!(kind, AttributeType::ImageList | AttributeType::AssetList)
}

/// The lines a marketer uncomments and fills in.
fn example_lines(name: &str, def: &AttributeDef, locales: &[String]) -> Vec<String> {
    match def.kind {
        AttributeType::ImageList | AttributeType::AssetList => {
            let (table_label, what) = if def.kind == AttributeType::ImageList {
                ("alt", "image")
            } else {
                ("title", "document")
            };
            let mut lines = vec![
                format!("[[{name}]]                 # one table per {what}"),
                "url = \"https://\"".to_string(),
            ];
            for locale in locales {
                lines.push(format!("{table_label}.{locale} = \"\""));
            }
            lines
        }
        _ if def.localized => locales
            .iter()
            .flat_map(|locale| value_lines(&format!("{name}.{locale}"), def))
            .collect(),
        _ => value_lines(name, def),
    }
}

fn value_lines(key: &str, def: &AttributeDef) -> Vec<String> {
    let first_option = def.options.first().map(String::as_str).unwrap_or("");
    let value = match def.kind {
        AttributeType::RichText => return vec![format!("{key} = \"\"\""), "\"\"\"".to_string()],
        AttributeType::Text => "\"\"".to_string(),
        AttributeType::TextList => "[\"\"]".to_string(),
        AttributeType::Number | AttributeType::Measurement => example_number(def).to_string(),
        AttributeType::Boolean => "false".to_string(),
        AttributeType::Enum => quote(first_option),
        AttributeType::EnumList => format!("[{}]", quote(first_option)),
        AttributeType::Url | AttributeType::Image => "\"https://\"".to_string(),
        AttributeType::Date => chrono::Utc::now().format("%Y-%m-%d").to_string(),
        AttributeType::ImageList | AttributeType::AssetList => "[]".to_string(),
    };
    vec![format!("{key} = {value}")]
}

/// A number the attribute's rules accept, so uncommenting the line never makes an error:
/// 0 when allowed, else the nearest bound (a whole number when it must be one).
fn example_number(def: &AttributeDef) -> rust_decimal::Decimal {
    use rust_decimal::Decimal;
    let value = match (def.min, def.max) {
        (Some(min), _) if min > Decimal::ZERO => min,
        (_, Some(max)) if max < Decimal::ZERO => max,
        _ => Decimal::ZERO,
    };
    match def.integer {
        true if value > Decimal::ZERO => value.ceil(),
        true => value.floor(),
        false => value,
    }
    .normalize()
}

fn erp_summary(record: &ErpRecord) -> String {
    let mut parts = vec![
        format!(
            "{} {}",
            crate::money::money(record.price),
            record.currency.as_deref().unwrap_or("")
        )
        .trim_end()
        .to_string(),
    ];
    parts.push(format!("{} in stock", record.stock));
    if let Some(gtin) = &record.gtin {
        parts.push(format!("GTIN {gtin}"));
    }
    if let Some(mpn) = &record.mpn {
        parts.push(format!("MPN {mpn}"));
    }
    if !record.active {
        parts.push("inactive".into());
    }
    parts.join(", ")
}

/// A TOML basic string.
fn quote(text: &str) -> String {
    toml::Value::String(text.to_string()).to_string()
}

/// The file name for `sku`: characters that are unsafe in paths become `-`, and leading dots
/// `_`, so no SKU (not even `.` or `..`) gives a hidden file that nothing reads.
pub fn file_name(sku: &str) -> String {
    let mut leading = true;
    let safe: String = sku
        .chars()
        .map(|c| {
            leading &= c == '.';
            if leading {
                '_'
            } else if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '-'
            }
        })
        .collect();
    let safe = if safe.is_empty() { "_".into() } else { safe };
    format!("{safe}.toml")
}
