//! The ERP side of the merge: the fixed record every source produces, and the sources.
//!
//! A pull is all or nothing: a source returns every record or an error, never a partial list,
//! so a build can never render from half an export.

pub mod completeness;
pub mod file;
pub mod http;
pub mod last_pull;
pub(crate) mod numbers;
pub mod price_list;
pub mod record_check;

use std::collections::HashMap;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// ERP records by SKU. Every product of a build looks its record up (the merge, the cache's
/// check that a file's numbers did not change, the report's tally), and a build after an
/// edit does so for all 100,000 of a large catalog on its critical path: keys are hashed with
/// foldhash rather than SipHash. The SKUs are the catalog's own, not input an attacker picks
/// to collide. A pull with two records of one SKU fails its checks, so each SKU has one.
pub struct RecordsBySku<'a> {
    records: &'a [ErpRecord],
    positions: HashMap<&'a str, usize, foldhash::fast::RandomState>,
}

impl<'a> RecordsBySku<'a> {
    pub fn new(records: &'a [ErpRecord]) -> RecordsBySku<'a> {
        RecordsBySku {
            records,
            positions: records
                .iter()
                .enumerate()
                .map(|(position, record)| (record.sku.as_str(), position))
                .collect(),
        }
    }

    /// The record of `sku`.
    pub fn get(&self, sku: &str) -> Option<&'a ErpRecord> {
        self.position(sku).map(|position| &self.records[position])
    }

    /// Where the record of `sku` is in the records.
    pub fn position(&self, sku: &str) -> Option<usize> {
        self.positions.get(sku).copied()
    }

    /// Every record, in the order the ERP gave them.
    pub fn records(&self) -> &'a [ErpRecord] {
        self.records
    }
}

/// One ERP item: the transactional numbers the ERP owns. Content files can never set these.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErpRecord {
    pub sku: String,
    pub price: Decimal,
    pub stock: i64,
    pub currency: Option<String>,
    pub sale_price: Option<Decimal>,
    pub gtin: Option<String>,
    pub mpn: Option<String>,
    /// Kilograms.
    pub weight: Option<Decimal>,
    /// Centimetres.
    pub length: Option<Decimal>,
    pub width: Option<Decimal>,
    pub height: Option<Decimal>,
    pub unit: Option<String>,
    pub pack_size: Option<u32>,
    pub active: bool,
    pub price_tiers: Vec<PriceTier>,
    /// Prices in other currencies, by ISO 4217 code, from the catalog's price lists
    /// ([`price_list`]); not part of the ERP export itself.
    #[serde(default, skip_serializing_if = "price_list::Prices::is_empty")]
    pub prices: price_list::Prices,
}

#[cfg(test)]
impl ErpRecord {
    /// An active record with a price and stock and nothing else, for tests to fill in what
    /// they are about (`ErpRecord { gtin: …, ..ErpRecord::example("A", price, 3) }`).
    pub fn example(sku: &str, price: Decimal, stock: i64) -> Self {
        ErpRecord {
            sku: sku.to_string(),
            price,
            stock,
            currency: None,
            sale_price: None,
            gtin: None,
            mpn: None,
            weight: None,
            length: None,
            width: None,
            height: None,
            unit: None,
            pack_size: None,
            active: true,
            price_tiers: Vec::new(),
            prices: price_list::Prices::default(),
        }
    }
}

/// A quantity break: from `min_qty` units on, each unit costs `price`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PriceTier {
    pub min_qty: u32,
    pub price: Decimal,
}

/// The field names of [`ErpRecord`]: the keys a content file may never set.
pub const ERP_FIELDS: &[&str] = &[
    "sku",
    "price",
    "stock",
    "currency",
    "sale_price",
    "gtin",
    "mpn",
    "weight",
    "length",
    "width",
    "height",
    "unit",
    "pack_size",
    "active",
    "price_tiers",
];

#[cfg(test)]
mod tests {
    use std::path::Path;

    /// The sources sit on the shared checker, which sits on number scanning: none of them may
    /// reach back up or sideways, so each can be read (and changed) on its own.
    #[test]
    fn imports_point_one_way() {
        let erp = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/erp");
        let forbidden: &[(&str, &[&str])] = &[
            ("http.rs", &["file::"]),
            ("record_check/mod.rs", &["file::", "http::"]),
            ("record_check/values.rs", &["file::", "http::"]),
            ("numbers.rs", &["file::", "http::", "record_check::"]),
        ];
        for (file, paths) in forbidden {
            let text = std::fs::read_to_string(erp.join(file)).unwrap();
            for line in text
                .lines()
                .filter(|line| line.trim_start().starts_with("use "))
            {
                for path in *paths {
                    assert!(
                        !line.contains(&format!("erp::{path}"))
                            && !line.contains(&format!("super::{path}")),
                        "src/erp/{file} imports from {path}: {line}"
                    );
                }
            }
        }
    }
}
