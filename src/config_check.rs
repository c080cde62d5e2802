//! Checks of `pim.toml` beyond its shape, each pointing at its line: the record field names
//! that `[erp.mapping]` and `[erp.fields]` map. A misspelt one (`prise`) would otherwise be
//! ignored, or be reported against the export instead of the line to fix.

use std::ops::Range;
use std::path::Path;

use toml::de::{DeTable, DeValue};

use crate::config::{Config, ErpConfig};
use crate::diagnostics::Diagnostic;
use crate::erp::ERP_FIELDS;

/// Parses `pim.toml` (`text`, read from `file`) and checks it beyond its shape.
pub fn parse(text: &str, file: &Path) -> Result<Config, Box<Diagnostic>> {
    let config = Config::parse(text, file)?;
    erp_field_names(&config, text, file)?;
    Ok(config)
}

/// The first unknown record field in `[erp.mapping]` or `[erp.fields]`, as an error on its
/// line with the nearest field it could be.
fn erp_field_names(config: &Config, text: &str, file: &Path) -> Result<(), Box<Diagnostic>> {
    let (table, names): (&str, Vec<&String>) = match &config.erp {
        ErpConfig::File(file_config) => ("mapping", file_config.mapping.keys().collect()),
        ErpConfig::Http(http) => ("fields", http.fields.keys().collect()),
    };
    let Some(unknown) = names
        .into_iter()
        .find(|name| !ERP_FIELDS.contains(&name.as_str()))
    else {
        return Ok(());
    };
    let span = spans(text, &["erp", table, unknown]).map_or(0..0, |(key, _)| key);
    let help = match crate::suggest::nearest(unknown, ERP_FIELDS.iter().copied()) {
        Some(near) => format!("did you mean `{near}`?"),
        None => format!("the record fields are: {}", ERP_FIELDS.join(", ")),
    };
    Err(Box::new(
        Diagnostic::error(
            "config",
            file,
            text,
            span,
            format!("`[erp.{table}]` names unknown record field `{unknown}`"),
        )
        .with_help(help),
    ))
}

/// The spans of the key at `path` (tables, then the key) in `text` and of its value.
fn spans(text: &str, path: &[&str]) -> Option<(Range<usize>, Range<usize>)> {
    let root = DeTable::parse(text).ok()?.into_inner();
    let (last, tables) = path.split_last()?;
    let mut table = &root;
    for name in tables {
        match table.get(*name)?.get_ref() {
            DeValue::Table(inner) => table = inner,
            _ => return None,
        }
    }
    table
        .get_key_value(*last)
        .map(|(key, value)| (key.span(), value.span()))
}

/// Every family named in `[new.family_by_sku_prefix]` that the schema does not define, as an
/// error on its line with the nearest family it could be.
pub fn stub_families(config: &Config, families: &[&str], text: &str) -> Vec<Diagnostic> {
    let file = Path::new(crate::config::CONFIG_FILE);
    config
        .new
        .family_by_sku_prefix
        .iter()
        .filter(|(_, family)| !families.contains(&family.as_str()))
        .map(|(prefix, family)| {
            let span = spans(text, &["new", "family_by_sku_prefix", prefix])
                .map_or(0..0, |(_, value)| value);
            let help = match crate::suggest::nearest(family, families.iter().copied()) {
                Some(near) => format!("did you mean `{near}`?"),
                None => format!("the families are: {}", families.join(", ")),
            };
            Diagnostic::error(
                "config",
                file,
                text,
                span,
                format!(
                    "`[new.family_by_sku_prefix]` maps `{prefix}` to family `{family}`, which \
                     content/schema.toml does not define"
                ),
            )
            .with_help(help)
        })
        .collect()
}
