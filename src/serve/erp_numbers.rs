//! The ERP numbers a product page shows, kept small: each record as the label and value pairs
//! the page lists, packed into one buffer, found by SKU. Read again only when the export (or
//! the kept pull of an HTTP source) changed since the last build: a save to a content file
//! reuses the numbers of the build before.

use std::path::{Path, PathBuf};

use crate::cache::Stamp;
use crate::config::{Config, ErpConfig};
use crate::erp::ErpRecord;

/// Between a label and its value, and between two facts: bytes no ERP value holds.
const LABEL_END: char = '\u{1f}';
const FACT_END: char = '\u{1e}';

/// Every record's facts, by SKU.
#[derive(Default)]
pub struct ErpNumbers {
    /// How and where they were read from, and that file's stamp then (`None`: no file).
    source: Option<(String, PathBuf, Stamp)>,
    /// SKUs in order, each with where its facts start in `facts`.
    skus: Vec<(Box<str>, u32)>,
    facts: String,
}

impl ErpNumbers {
    /// The numbers the build used: the export again or the kept last pull of an HTTP source
    /// (never a new pull); `previous` when their file did not change.
    pub fn load(
        root: &Path,
        config: &Config,
        previous: Option<&std::sync::Arc<ErpNumbers>>,
    ) -> std::sync::Arc<ErpNumbers> {
        let path = match &config.erp {
            ErpConfig::File(file) => root.join(&file.path),
            ErpConfig::Http(_) => root.join(crate::pimfeed_folder::LAST_PULL),
        };
        // A new mapping or delimiter in pim.toml reads the same export differently.
        let how = match &config.erp {
            ErpConfig::File(file) => format!("{file:?}"),
            ErpConfig::Http(_) => String::new(),
        };
        let source = Stamp::of(&path).ok().map(|stamp| (how, path, stamp));
        if let Some(previous) = previous
            && source.is_some()
            && previous.source == source
        {
            return previous.clone();
        }
        let records = match &config.erp {
            ErpConfig::File(file) => crate::erp::file::load(file, root).unwrap_or_default(),
            ErpConfig::Http(_) => crate::erp::last_pull::load(root)
                .map(|pull| pull.records)
                .unwrap_or_default(),
        };
        std::sync::Arc::new(ErpNumbers::of(records, source))
    }

    fn of(mut records: Vec<ErpRecord>, source: Option<(String, PathBuf, Stamp)>) -> ErpNumbers {
        records.sort_by(|a, b| a.sku.cmp(&b.sku));
        records.dedup_by(|later, earlier| later.sku == earlier.sku);
        let mut numbers = ErpNumbers {
            source,
            skus: Vec::with_capacity(records.len()),
            facts: String::new(),
        };
        for record in records {
            let start = numbers.facts.len() as u32;
            for (label, value) in facts(&record) {
                numbers.facts.push_str(&label);
                numbers.facts.push(LABEL_END);
                numbers
                    .facts
                    .push_str(&value.replace([LABEL_END, FACT_END], " "));
                numbers.facts.push(FACT_END);
            }
            numbers.skus.push((record.sku.into(), start));
        }
        numbers.skus.shrink_to_fit();
        numbers.facts.shrink_to_fit();
        numbers
    }

    /// The record of `sku` as label and value pairs, if the ERP has one.
    pub fn facts(&self, sku: &str) -> Option<Vec<(String, String)>> {
        let at = self
            .skus
            .binary_search_by(|(known, _)| (**known).cmp(sku))
            .ok()?;
        let start = self.skus[at].1 as usize;
        let end = self
            .skus
            .get(at + 1)
            .map_or(self.facts.len(), |(_, next)| *next as usize);
        Some(
            self.facts[start..end]
                .split_terminator(FACT_END)
                .filter_map(|fact| fact.split_once(LABEL_END))
                .map(|(label, value)| (label.to_string(), value.to_string()))
                .collect(),
        )
    }
}

/// The record as label and value pairs.
fn facts(record: &ErpRecord) -> Vec<(String, String)> {
    let mut facts = vec![
        (
            "price".to_string(),
            format!(
                "{} {}",
                record.price,
                record.currency.as_deref().unwrap_or("")
            ),
        ),
        ("stock".to_string(), record.stock.to_string()),
        ("active".to_string(), record.active.to_string()),
    ];
    let optional = [
        ("sale price", record.sale_price.map(|p| p.to_string())),
        ("GTIN", record.gtin.clone()),
        ("MPN", record.mpn.clone()),
        ("weight (kg)", record.weight.map(|w| w.to_string())),
        ("unit", record.unit.clone()),
        ("pack size", record.pack_size.map(|p| p.to_string())),
    ];
    facts.extend(
        optional
            .into_iter()
            .filter_map(|(name, value)| Some((name.to_string(), value?))),
    );
    for tier in &record.price_tiers {
        facts.push((
            format!("from {} units", tier.min_qty),
            tier.price.to_string(),
        ));
    }
    facts
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(sku: &str, price: &str, gtin: Option<&str>) -> ErpRecord {
        ErpRecord {
            currency: Some("EUR".into()),
            gtin: gtin.map(str::to_string),
            ..ErpRecord::example(sku, price.parse().unwrap(), 3)
        }
    }

    #[test]
    fn finds_each_record_by_sku_with_the_facts_a_page_lists() {
        let numbers = ErpNumbers::of(
            vec![
                record("B-2", "5.00", None),
                record("A-1", "12.50", Some("8712345678901")),
            ],
            None,
        );
        let pair = |a: &str, b: &str| (a.to_string(), b.to_string());
        assert_eq!(
            numbers.facts("A-1").unwrap(),
            vec![
                pair("price", "12.50 EUR"),
                pair("stock", "3"),
                pair("active", "true"),
                pair("GTIN", "8712345678901"),
            ]
        );
        assert_eq!(numbers.facts("B-2").unwrap()[0], pair("price", "5.00 EUR"));
        assert_eq!(numbers.facts("C-3"), None);
    }
}
