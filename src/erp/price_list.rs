//! Price lists per currency: the prices of a country whose shop sells in another currency
//! than the catalog's (a UK shop in GBP next to a Dutch one in EUR). ERPs keep them as price
//! lists; pimfeed reads each as a CSV export (`sku,price,sale_price`) named in `pim.toml`:
//!
//! ```toml
//! [price_lists.GBP]
//! path = "erp/prices-gbp.csv"
//! ```
//!
//! Each list's prices are added to the ERP records of its SKUs, so a channel whose currency
//! is GBP publishes the GBP price, and a product the list has no price for is left out of it.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;

use rust_decimal::Decimal;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::ErpRecord;
use crate::config::PriceListConfig;

/// A product's price in one currency.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CurrencyPrice {
    pub price: Decimal,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sale_price: Option<Decimal>,
}

/// A record's prices in other currencies, by ISO 4217 code, in the order of the codes: what a
/// `BTreeMap` of them would hold, and read and written as one (a JSON object).
///
/// A record has a price in one or two currencies at most, and an ERP has a record per SKU:
/// a `BTreeMap` allocates a node of eleven slots (672 bytes) for the first price, which at a
/// million records was a quarter of a build's memory. This holds exactly what is there, and
/// the currency codes are shared by every record of a list.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Prices(Vec<(Arc<str>, CurrencyPrice)>);

impl Prices {
    pub fn get(&self, currency: &str) -> Option<&CurrencyPrice> {
        self.0
            .iter()
            .find(|(code, _)| &**code == currency)
            .map(|(_, price)| price)
    }

    /// Sets the price in `currency`, replacing the one it had.
    pub fn insert(&mut self, currency: Arc<str>, price: CurrencyPrice) {
        match self
            .0
            .binary_search_by(|(code, _)| (**code).cmp(&*currency))
        {
            Ok(at) => self.0[at].1 = price,
            Err(at) => {
                // A `Vec` grows to four slots on its first push; most records get one price.
                self.0.reserve_exact(1);
                self.0.insert(at, (currency, price));
            }
        }
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &CurrencyPrice)> {
        self.0.iter().map(|(code, price)| (&**code, price))
    }
}

impl Serialize for Prices {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(self.iter())
    }
}

impl<'de> Deserialize<'de> for Prices {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let map = BTreeMap::<String, CurrencyPrice>::deserialize(deserializer)?;
        let mut prices = Vec::with_capacity(map.len());
        prices.extend(
            map.into_iter()
                .map(|(code, price)| (Arc::from(code), price)),
        );
        Ok(Prices(prices))
    }
}

/// Why a price list cannot be used; each names its file (as configured), a bad row its line.
#[derive(Debug, thiserror::Error)]
pub enum PriceListError {
    #[error("cannot read price list {}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    /// The file as a whole: not CSV, or without the `sku` and `price` columns.
    #[error("price list {}: {message}", path.display())]
    Format { path: PathBuf, message: String },
    #[error("{}:{line}: {message}", path.display())]
    Row {
        path: PathBuf,
        line: u64,
        message: String,
    },
}

impl PriceListError {
    /// The problem at its file and line, for `--format github|json`; none when the file
    /// cannot be read at all.
    pub fn diagnostic(&self) -> Option<crate::diagnostics::Diagnostic> {
        use crate::diagnostics::Diagnostic;
        match self {
            PriceListError::Io { .. } => None,
            PriceListError::Format { path, message } => {
                Some(Diagnostic::file_error("price-list", path, message.clone()))
            }
            PriceListError::Row {
                path,
                line,
                message,
            } => {
                let mut diagnostic = Diagnostic::file_error("price-list", path, message.clone());
                diagnostic.line = usize::try_from(*line).unwrap_or(0);
                diagnostic.column = 1;
                Some(diagnostic)
            }
        }
    }
}

/// Reads every price list and adds its prices to the records of its SKUs. An unreadable
/// file or a bad row fails the pull, naming the file and line.
pub fn apply(
    lists: &BTreeMap<String, PriceListConfig>,
    root: &Path,
    records: &mut [ErpRecord],
) -> Result<(), PriceListError> {
    read_lists(lists, root)?.apply(records)
}

/// Every price list's bytes, read once: what the kept parse of a file export is keyed on
/// (the parsed export, in `.pimfeed/`), and what the prices are then read from.
pub struct ReadLists<'c> {
    lists: Vec<(&'c str, &'c PriceListConfig, Vec<u8>)>,
}

/// Reads the bytes of every price list; an unreadable file fails the pull, naming it.
pub fn read_lists<'c>(
    lists: &'c BTreeMap<String, PriceListConfig>,
    root: &Path,
) -> Result<ReadLists<'c>, PriceListError> {
    let lists = lists
        .iter()
        .map(|(currency, list)| {
            let bytes =
                std::fs::read(root.join(&list.path)).map_err(|source| PriceListError::Io {
                    path: list.path.clone(),
                    source,
                })?;
            Ok((currency.as_str(), list, bytes))
        })
        .collect::<Result<_, PriceListError>>()?;
    Ok(ReadLists { lists })
}

impl ReadLists<'_> {
    /// Adds each list's prices to the records of its SKUs; a bad row fails, naming its line.
    pub fn apply(&self, records: &mut [ErpRecord]) -> Result<(), PriceListError> {
        self.parse()?.apply(records);
        Ok(())
    }

    /// Each list's prices by SKU; a bad row fails, naming its line. Needs nothing of the ERP
    /// export, so a pull parses the lists beside the export, on the other core.
    pub fn parse(&self) -> Result<ParsedLists, PriceListError> {
        let lists = self
            .lists
            .iter()
            .map(|(currency, list, bytes)| Ok((Arc::from(*currency), parse(list, bytes)?)))
            .collect::<Result<_, PriceListError>>()?;
        Ok(ParsedLists { lists })
    }

    /// Hands each list's currency, path, settings and bytes, in order, to `add` (a
    /// fingerprint's parts): two runs with the same parts apply the same prices.
    pub fn fingerprint(&self, mut add: impl FnMut(&[u8])) {
        for (currency, list, bytes) in &self.lists {
            add(currency.as_bytes());
            add(list.path.to_string_lossy().as_bytes());
            add(format!("{:?} {:?}", list.delimiter, list.decimal_comma).as_bytes());
            add(bytes);
        }
    }
}

/// The prices of every price list, by currency and SKU (see [`ReadLists::parse`]).
pub struct ParsedLists {
    lists: Vec<(Arc<str>, PricesBySku)>,
}

impl ParsedLists {
    /// Adds each list's prices to the records of its SKUs.
    pub fn apply(&self, records: &mut [ErpRecord]) {
        for (currency, prices) in &self.lists {
            for record in records.iter_mut() {
                if let Some(price) = prices.get(&record.sku) {
                    record.prices.insert(currency.clone(), price.clone());
                }
            }
        }
    }
}

/// One list's prices by SKU, hashed with foldhash as the ERP records are (see
/// [`super::RecordsBySku`]): the SKUs are the catalog's own.
type PricesBySku = HashMap<String, CurrencyPrice, foldhash::fast::RandomState>;

/// One price list's prices by SKU, from its bytes.
fn parse(list: &PriceListConfig, bytes: &[u8]) -> Result<PricesBySku, PriceListError> {
    let path = || list.path.clone();
    let format = |message: String| PriceListError::Format {
        path: path(),
        message,
    };
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(list.delimiter.unwrap_or(',') as u8)
        .trim(csv::Trim::All)
        .from_reader(bytes);
    let headers = reader
        .headers()
        .map_err(|err| format(err.to_string()))?
        .clone();
    let column = |name: &str| headers.iter().position(|h| h.eq_ignore_ascii_case(name));
    let (Some(sku_at), Some(price_at)) = (column("sku"), column("price")) else {
        return Err(format(
            "the first line must name the columns `sku` and `price` (and optionally \
             `sale_price`)"
                .to_string(),
        ));
    };
    let sale_at = column("sale_price");
    let amount = |text: &str| {
        let text = if list.decimal_comma {
            text.replace('.', "").replace(',', ".")
        } else {
            text.to_string()
        };
        Decimal::from_str(&text)
            .ok()
            .filter(|d| !d.is_sign_negative())
    };
    // Room for a row per line, at once, rather than growing (and rehashing) as rows come.
    let rows_at_most = bytes.iter().filter(|&&byte| byte == b'\n').count();
    let mut prices = PricesBySku::with_capacity_and_hasher(rows_at_most, Default::default());
    let mut lines = super::file::LineCounter::new(bytes);
    for row in reader.records() {
        let row = row.map_err(|err| format(err.to_string()))?;
        let line = row
            .position()
            .map_or(0, |p| lines.line_at(p.byte() as usize) as u64);
        let at = |message: String| PriceListError::Row {
            path: path(),
            line,
            message,
        };
        let sku = row.get(sku_at).unwrap_or_default();
        if sku.is_empty() {
            return Err(at("the row has no SKU".into()));
        }
        let price_text = row.get(price_at).unwrap_or_default();
        let price = amount(price_text).ok_or_else(|| {
            at(format!(
                "price `{price_text}` of `{sku}` is not an amount such as 12.50"
            ))
        })?;
        let sale_price = match sale_at.and_then(|i| row.get(i)).filter(|s| !s.is_empty()) {
            None => None,
            Some(text) => Some(amount(text).ok_or_else(|| {
                at(format!(
                    "sale_price `{text}` of `{sku}` is not an amount such as 12.50"
                ))
            })?),
        };
        let price = CurrencyPrice { price, sale_price };
        if prices.insert(sku.to_string(), price).is_some() {
            return Err(at(format!(
                "`{sku}` has a second row; a price list has one price per SKU"
            )));
        }
    }
    Ok(prices)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(text: &str, decimal_comma: bool) -> Result<PricesBySku, String> {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("p.csv"), text).unwrap();
        let config = PriceListConfig {
            path: "p.csv".into(),
            delimiter: Some(if decimal_comma { ';' } else { ',' }),
            decimal_comma,
        };
        let bytes = std::fs::read(dir.path().join("p.csv")).unwrap();
        parse(&config, &bytes).map_err(|err| err.to_string())
    }

    #[test]
    fn reads_prices_and_sale_prices() {
        let prices = list("sku,price,sale_price\nA,12.50,\nB, 9.99 ,8.00\n", false).unwrap();
        assert_eq!(prices["A"].price, Decimal::new(1250, 2));
        assert_eq!(prices["A"].sale_price, None);
        assert_eq!(prices["B"].sale_price, Some(Decimal::new(800, 2)));
        let prices = list("SKU;Price\nA;1.012,50\n", true).unwrap();
        assert_eq!(prices["A"].price, Decimal::new(101250, 2));
    }

    fn price(cents: i64) -> CurrencyPrice {
        CurrencyPrice {
            price: Decimal::new(cents, 2),
            sale_price: None,
        }
    }

    #[test]
    fn prices_read_and_write_as_the_map_they_replace() {
        let mut prices = Prices::default();
        let mut map = BTreeMap::new();
        for (code, cents) in [("USD", 1299), ("GBP", 999), ("CHF", 1100), ("GBP", 899)] {
            prices.insert(Arc::from(code), price(cents));
            map.insert(code.to_string(), price(cents));
        }
        let json = serde_json::to_string(&prices).unwrap();
        assert_eq!(json, serde_json::to_string(&map).unwrap());
        assert_eq!(prices.get("GBP"), Some(&price(899)));
        assert_eq!(prices.get("EUR"), None);
        let back: Prices = serde_json::from_str(&json).unwrap();
        assert_eq!(back, prices);
        let bytes = postcard::to_stdvec(&prices).unwrap();
        assert_eq!(bytes, postcard::to_stdvec(&map).unwrap());
    }

    /// A million records with a price each must not each hold a map node of eleven slots.
    #[test]
    fn a_record_with_one_price_holds_one_slot() {
        let mut prices = Prices::default();
        prices.insert(Arc::from("GBP"), price(999));
        assert_eq!(prices.0.capacity(), 1);
    }

    #[test]
    fn apply_adds_each_list_price_to_its_sku() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("gbp.csv"), "sku,price\nA,9.99\n").unwrap();
        let lists = BTreeMap::from([(
            "GBP".to_string(),
            PriceListConfig {
                path: "gbp.csv".into(),
                delimiter: None,
                decimal_comma: false,
            },
        )]);
        let record = |sku: &str| ErpRecord::example(sku, Decimal::new(1250, 2), 1);
        let mut records = vec![record("A"), record("B")];
        apply(&lists, dir.path(), &mut records).unwrap();
        assert_eq!(records[0].prices.get("GBP"), Some(&price(999)));
        assert!(records[1].prices.is_empty());
    }

    #[test]
    fn bad_rows_name_their_line() {
        let err = list("sku,price\nA,1\nB,twelve\n", false).unwrap_err();
        assert!(err.starts_with("p.csv:3: price `twelve` of `B`"), "{err}");
        let err = list("sku,price\nA,1\nA,2\n", false).unwrap_err();
        assert!(err.contains("p.csv:3: `A` has a second row"), "{err}");
        // After a blank line, and in a spreadsheet's CRLF export, on the line the row is on.
        let err = list("sku,price\r\nA,1\r\n\r\nB,twelve\r\n", false).unwrap_err();
        assert!(err.starts_with("p.csv:4: price `twelve` of `B`"), "{err}");
        let err = list("item,amount\nA,1\n", false).unwrap_err();
        assert!(
            err.contains("must name the columns `sku` and `price`"),
            "{err}"
        );
    }
}
