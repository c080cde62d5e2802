//! Checks of `pim.toml` beyond its shape, each pointing at its line: the record field names
//! that `[erp.mapping]` and `[erp.fields]` map. A misspelt one (`prise`) would otherwise be
//! ignored, or be reported against the export instead of the line to fix.

use std::ops::Range;
use std::path::Path;

use toml::de::{DeTable, DeValue};

use crate::config::{Config, ErpConfig};
use crate::diagnostics::Diagnostic;
use crate::erp::ERP_FIELDS;

/// The first unknown record field in `[erp.mapping]` or `[erp.fields]`, as an error on its
/// line with the nearest field it could be.
pub fn erp_field_names(config: &Config, text: &str, file: &Path) -> Result<(), Box<Diagnostic>> {
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
    let span = key_span(text, &["erp", table, unknown]).unwrap_or(0..0);
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

/// The span of the key at `path` (tables, then the key) in `text`.
fn key_span(text: &str, path: &[&str]) -> Option<Range<usize>> {
    let root = DeTable::parse(text).ok()?.into_inner();
    let (last, tables) = path.split_last()?;
    let mut table = &root;
    for name in tables {
        match table.get(*name)?.get_ref() {
            DeValue::Table(inner) => table = inner,
            _ => return None,
        }
    }
    table.get_key_value(*last).map(|(key, _)| key.span())
}
