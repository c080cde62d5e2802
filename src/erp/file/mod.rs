//! The `file` ERP source: a CSV, JSON or JSON Lines export on disk.
//!
//! The whole export is read before anything is returned, and every bad row is reported at
//! once: whoever maintains the export fixes it in one go instead of one build per typo, and a
//! build never renders from a half-understood export. Each format has its reader here; what a
//! row must hold is checked by [`super::record_check`], which the HTTP source shares.

mod csv;
mod json;
mod jsonl;

pub(crate) use csv::LineCounter;

use self::csv::{csv_delimiter, read_csv};
use self::json::read_json;
use self::jsonl::read_jsonl;

use std::path::Path;

use super::record_check::{Checked, Collector, ErpFileError, FIELD_COUNT, FIELDS, Keys, Parser};
use super::{ERP_FIELDS, ErpRecord};
use crate::config::{ErpFileConfig, ErpFileFormat};

/// Reads the whole export; all or nothing.
///
/// `root` is the catalog root that `config.path` is relative to.
pub fn load(config: &ErpFileConfig, root: &Path) -> Result<Vec<ErpRecord>, ErpFileError> {
    load_with_warnings(config, root).map(|checked| checked.records)
}

/// [`load`], with the warnings about its rows.
pub fn load_with_warnings(config: &ErpFileConfig, root: &Path) -> Result<Checked, ErpFileError> {
    let path = root.join(&config.path);
    let format_error = |message: String| ErpFileError::Format {
        path: path.clone(),
        message,
    };
    let format = detect_format(config, &path).map_err(format_error)?;
    let (keys, mapped) = resolve_mapping(config).map_err(format_error)?;
    let parser = Parser {
        decimal_comma: config.decimal_comma,
        keys,
        mapped,
        key_word: if format == ErpFileFormat::Csv {
            "column"
        } else {
            "key"
        },
    };
    let mut rows = Collector::default();
    match format {
        ErpFileFormat::Csv => {
            let delimiter =
                csv_delimiter(config.delimiter).map_err(|bad| format_error(bad.to_string()))?;
            read_csv(&path, delimiter, &parser, &mut rows)?;
        }
        ErpFileFormat::Json => read_json(&path, &parser, &mut rows)?,
        ErpFileFormat::Jsonl => read_jsonl(&path, &parser, &mut rows)?,
    }
    rows.finish(path)
}

fn resolve_mapping(config: &ErpFileConfig) -> Result<(Keys<'_>, [bool; FIELD_COUNT]), String> {
    let mut keys: Keys<'_> = [""; FIELD_COUNT];
    for field in FIELDS {
        keys[field as usize] = field.name();
    }
    let mut mapped = [false; FIELD_COUNT];
    let mut unknown = Vec::new();
    for (name, key) in &config.mapping {
        match ERP_FIELDS.iter().position(|field| field == name) {
            Some(index) => {
                keys[index] = key.as_str();
                mapped[index] = true;
            }
            None => unknown.push(name.as_str()),
        }
    }
    if unknown.is_empty() {
        return Ok((keys, mapped));
    }
    let mut message = String::new();
    for name in unknown {
        let suggestion = ERP_FIELDS
            .iter()
            .map(|field| (strsim::jaro_winkler(name, field), field))
            .filter(|(score, _)| *score > 0.8)
            .max_by(|a, b| a.0.total_cmp(&b.0))
            .map(|(_, field)| format!(" (did you mean `{field}`?)"))
            .unwrap_or_default();
        if !message.is_empty() {
            message.push_str("; ");
        }
        message.push_str(&format!(
            "`[erp.mapping]` names unknown record field `{name}`{suggestion}"
        ));
    }
    message.push_str(&format!(
        "; the record fields are: {}",
        ERP_FIELDS.join(", ")
    ));
    Err(message)
}

fn detect_format(config: &ErpFileConfig, path: &Path) -> Result<ErpFileFormat, String> {
    if let Some(format) = config.format {
        return Ok(format);
    }
    let extension = path
        .extension()
        .and_then(|ext| ext.to_str())
        .map(str::to_ascii_lowercase);
    match extension.as_deref() {
        Some("csv") => Ok(ErpFileFormat::Csv),
        Some("json") => Ok(ErpFileFormat::Json),
        Some("jsonl" | "ndjson") => Ok(ErpFileFormat::Jsonl),
        _ => Err(
            "cannot tell the format from the file name (expected .csv, .json, .jsonl or \
             .ndjson); set `format = \"csv\"`, `\"json\"` or `\"jsonl\"` under `[erp]`"
                .to_string(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::path::PathBuf;
    use std::str::FromStr;

    use rust_decimal::Decimal;

    use super::*;
    use crate::erp::PriceTier;
    use crate::erp::record_check::RowProblem;

    struct Export {
        dir: tempfile::TempDir,
        config: ErpFileConfig,
    }

    fn export(name: &str, contents: impl AsRef<[u8]>) -> Export {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("erp")).unwrap();
        let path = PathBuf::from("erp").join(name);
        std::fs::write(dir.path().join(&path), contents).unwrap();
        Export {
            dir,
            config: ErpFileConfig {
                path,
                format: None,
                delimiter: None,
                decimal_comma: false,
                mapping: BTreeMap::new(),
            },
        }
    }

    impl Export {
        fn map(mut self, field: &str, key: &str) -> Self {
            self.config.mapping.insert(field.into(), key.into());
            self
        }

        fn load(&self) -> Result<Vec<ErpRecord>, ErpFileError> {
            load(&self.config, self.dir.path())
        }

        fn records(&self) -> Vec<ErpRecord> {
            match self.load() {
                Ok(records) => records,
                Err(err) => panic!("expected records, got: {err}"),
            }
        }

        fn problems(&self) -> Vec<RowProblem> {
            match self.load() {
                Err(ErpFileError::Rows { problems, .. }) => problems,
                other => panic!("expected row problems, got {other:?}"),
            }
        }

        fn format_error(&self) -> String {
            match self.load() {
                Err(ErpFileError::Format { message, .. }) => message,
                other => panic!("expected a format error, got {other:?}"),
            }
        }
    }

    fn dec(text: &str) -> Decimal {
        Decimal::from_str(text).unwrap()
    }

    fn messages(problems: &[RowProblem]) -> Vec<(usize, &str)> {
        problems
            .iter()
            .map(|problem| (problem.row, problem.message.as_str()))
            .collect()
    }

    #[test]
    fn csv_with_commas_reads_every_field() {
        let export = export(
            "items.csv",
            "\u{feff}sku , price,stock,currency,sale_price,gtin,mpn,weight,length,width,height,\
             unit,pack_size,active,price_tiers,ignored\n\
             MK-DHP485 , 149.95 , 12 ,EUR,139.95,0 088381-6 56068 ,DHP485Z,1.7,25,8.5,\
             21,piece,1,no,10:139.95|50:129.95,whatever\n\
             \"B,2\",5,0,,,,,,,,,,,,,\n",
        );
        let records = export.records();
        assert_eq!(
            records,
            vec![
                ErpRecord {
                    sku: "MK-DHP485".into(),
                    price: dec("149.95"),
                    stock: 12,
                    currency: Some("EUR".into()),
                    sale_price: Some(dec("139.95")),
                    gtin: Some("0088381656068".into()),
                    mpn: Some("DHP485Z".into()),
                    weight: Some(dec("1.7")),
                    length: Some(dec("25")),
                    width: Some(dec("8.5")),
                    height: Some(dec("21")),
                    unit: Some("piece".into()),
                    pack_size: Some(1),
                    active: false,
                    price_tiers: vec![
                        PriceTier {
                            min_qty: 10,
                            price: dec("139.95"),
                        },
                        PriceTier {
                            min_qty: 50,
                            price: dec("129.95"),
                        },
                    ],
                    prices: Default::default(),
                },
                ErpRecord::example("B,2", dec("5"), 0),
            ]
        );
    }

    #[test]
    fn csv_keeps_file_order_and_skips_blank_rows() {
        let export = export(
            "items.csv",
            "sku,price,stock\r\nC,1,1\r\nA,2,2\r\n,,\r\n\r\nB,3,3\r\n",
        );
        let skus: Vec<String> = export.records().into_iter().map(|r| r.sku).collect();
        assert_eq!(skus, ["C", "A", "B"]);
    }

    #[test]
    fn csv_with_semicolons_and_decimal_commas() {
        let mut export = export(
            "items.csv",
            "sku;price;stock;weight;price_tiers\n\
             A; 1.234,50 ;1.000;0,5;10:9,95|100:8,5\n\
             B;12;3;;\n",
        );
        export.config.delimiter = Some(';');
        export.config.decimal_comma = true;
        let records = export.records();
        assert_eq!(records[0].price, dec("1234.50"));
        assert_eq!(records[0].price.to_string(), "1234.50");
        assert_eq!(records[0].stock, 1000);
        assert_eq!(records[0].weight, Some(dec("0.5")));
        assert_eq!(
            records[0].price_tiers,
            [
                PriceTier {
                    min_qty: 10,
                    price: dec("9.95")
                },
                PriceTier {
                    min_qty: 100,
                    price: dec("8.5")
                }
            ]
        );
        assert_eq!(records[1].price, dec("12"));
    }

    #[test]
    fn decimal_comma_rejects_a_decimal_point() {
        let mut export = export("items.csv", "sku;price;stock\nA;12.50;1\nB;12,50;1.5\n");
        export.config.delimiter = Some(';');
        export.config.decimal_comma = true;
        let problems = export.problems();
        assert_eq!(problems.len(), 2);
        assert!(
            problems[0]
                .message
                .starts_with("price `12.50` is not a decimal number (with `decimal_comma = true`"),
            "{}",
            problems[0].message
        );
        assert_eq!(problems[1].message, "stock `1.5` is not a whole number");
    }

    #[test]
    fn decimal_point_mode_hints_at_decimal_comma() {
        let export = export("items.csv", "sku;price;stock\nA;\"12,50\";1\n");
        let mut export = export;
        export.config.delimiter = Some(';');
        let problems = export.problems();
        assert_eq!(
            problems[0].message,
            "price `12,50` is not a decimal number (for numbers like `12,50` set \
             `decimal_comma = true` under `[erp]`)"
        );
    }

    #[test]
    fn json_array_accepts_numbers_strings_and_booleans() {
        let export = export(
            "items.json",
            r#"[
              {"sku": "A", "price": 19.99, "stock": 3, "active": false, "gtin": 8712345678906,
               "price_tiers": [{"min_qty": 50, "price": "17.5"}, {"min_qty": 10, "price": 18.25}],
               "pack_size": "6", "extra": {"nested": true}},
              {"sku": " B ", "price": "0.1", "stock": "0", "active": "ja", "currency": null,
               "sale_price": 1e-1, "price_tiers": "5:0.09"}
            ]"#,
        );
        let records = export.records();
        assert_eq!(records.len(), 2);
        let a = &records[0];
        assert_eq!((a.sku.as_str(), a.price, a.stock), ("A", dec("19.99"), 3));
        assert!(!a.active);
        assert_eq!(a.gtin.as_deref(), Some("8712345678906"));
        assert_eq!(a.pack_size, Some(6));
        assert_eq!(
            a.price_tiers,
            [
                PriceTier {
                    min_qty: 10,
                    price: dec("18.25")
                },
                PriceTier {
                    min_qty: 50,
                    price: dec("17.5")
                }
            ]
        );
        let b = &records[1];
        assert_eq!(b.sku, "B");
        assert_eq!(b.price, dec("0.1"));
        assert!(b.active);
        assert_eq!(b.currency, None);
        assert_eq!(b.sale_price, Some(dec("0.1")));
        assert_eq!(b.price_tiers.len(), 1);
        // Every record is held for the whole run: no spare slots.
        assert_eq!(b.price_tiers.capacity(), 1);
    }

    #[test]
    fn json_object_with_one_array_is_unwrapped() {
        let export = export(
            "items.json",
            r#"{"@odata.context": "x", "@odata.count": 1, "value": [{"sku": "A", "price": 1, "stock": 2}]}"#,
        );
        assert_eq!(export.records()[0].sku, "A");
    }

    #[test]
    fn json_shapes_that_are_not_an_export() {
        let ambiguous = export("items.json", r#"{"items": [], "links": []}"#);
        let message = ambiguous.format_error();
        assert!(message.contains("`items`, `links`"), "{message}");
        assert!(message.contains("ambiguous"), "{message}");

        let no_array = export("items.json", r#"{"items": {"sku": "A"}}"#);
        assert!(no_array.format_error().contains("no array of records"));

        let scalar = export("items.json", "42");
        assert!(scalar.format_error().contains("the top level is a number"));

        let syntax = export("items.json", r#"[{"sku": "A",}]"#);
        assert!(syntax.format_error().starts_with("is not valid JSON"));

        let lines = export("items.json", "{\"sku\": \"A\"}\n{\"sku\": \"B\"}\n");
        assert!(lines.format_error().contains("format = \"jsonl\""));

        let not_objects = export("items.json", r#"[["A", 1, 2]]"#);
        assert_eq!(
            messages(&not_objects.problems()),
            [(1, "is an array, not a JSON object")]
        );
    }

    #[test]
    fn json_lines_one_object_per_line() {
        let export = export(
            "items.ndjson",
            "\u{feff}{\"sku\": \"A\", \"price\": 12345678.12, \"stock\": 1}\r\n\
             \r\n\
             {\"sku\": \"B\", \"price\": \"2\", \"stock\": 2}\n\
             {\"sku\": \"C\", \"price\": 3, \"stock\": 3}",
        );
        let records = export.records();
        let skus: Vec<&str> = records.iter().map(|r| r.sku.as_str()).collect();
        assert_eq!(skus, ["A", "B", "C"]);
        assert_eq!(records[0].price.to_string(), "12345678.12");
    }

    #[test]
    fn json_lines_bad_lines_are_row_problems() {
        let export = export(
            "items.jsonl",
            "{\"sku\": \"A\", \"price\": 1, \"stock\": 1}\n\n{\"sku\": \"B\", \"price\": 1,\n[1]\n\
             {\"sku\": \"D\", \"price\": 1, \"stock\": 1.5}\n",
        );
        let problems = export.problems();
        assert_eq!(problems.len(), 3);
        assert_eq!((problems[0].row, problems[0].line), (2, Some(3)));
        assert!(
            problems[0].message.starts_with("is not valid JSON: "),
            "{}",
            problems[0].message
        );
        assert!(problems[0].message.contains("(column "));
        assert_eq!((problems[1].row, problems[1].line), (3, Some(4)));
        assert_eq!(problems[1].message, "is an array, not a JSON object");
        assert_eq!(problems[2].sku.as_deref(), Some("D"));
        assert_eq!(problems[2].message, "stock `1.5` is not a whole number");
    }

    #[test]
    fn mapping_renames_columns() {
        let mut export = export(
            "export.csv",
            "Artikelnummer;Verkoopprijs;Voorraad;EAN;price\nA;12,50;4;871-234;999\n",
        )
        .map("sku", "Artikelnummer")
        .map("price", "Verkoopprijs")
        .map("stock", "Voorraad")
        .map("gtin", "EAN");
        export.config.delimiter = Some(';');
        export.config.decimal_comma = true;
        let records = export.records();
        assert_eq!(records[0].sku, "A");
        assert_eq!(records[0].price, dec("12.50"));
        assert_eq!(records[0].gtin.as_deref(), Some("871234"));

        export.config.decimal_comma = false;
        let problems = export.problems();
        assert!(
            problems[0]
                .message
                .starts_with("price (column `Verkoopprijs`) `12,50` is not a decimal number"),
            "{}",
            problems[0].message
        );
    }

    #[test]
    fn mapping_renames_json_keys() {
        let export = export(
            "items.json",
            r#"{"data": [{"itemNo": "A", "unitPrice": 2.5, "inventory": 7}]}"#,
        )
        .map("sku", "itemNo")
        .map("price", "unitPrice")
        .map("stock", "inventory");
        let records = export.records();
        assert_eq!(
            (records[0].sku.as_str(), records[0].price, records[0].stock),
            ("A", dec("2.5"), 7)
        );
    }

    #[test]
    fn mapping_errors_are_format_errors() {
        let unknown = export("items.csv", "sku,price,stock\nA,1,1\n").map("prize", "Prijs");
        let message = unknown.format_error();
        assert!(
            message.contains("unknown record field `prize` (did you mean `price`?)"),
            "{message}"
        );
        assert!(message.contains("sku, price, stock, currency"), "{message}");

        let missing_column = export("items.csv", "sku,price,stock\nA,1,1\n").map("mpn", "MPN");
        let message = missing_column.format_error();
        assert!(
            message.starts_with("no column `MPN` (mapped from `mpn` in `[erp.mapping]`)"),
            "{message}"
        );
    }

    #[test]
    fn price_tiers_in_every_form() {
        let export = export(
            "items.csv",
            "sku,price,stock,price_tiers\n\
             A,10,1,50:8 | 10:9 |\n\
             B,10,1,\n\
             C,10,1,10:9|10:8\n\
             D,10,1,10-9\n\
             E,10,1,0:9|5:x\n",
        );
        let problems = export.problems();
        assert_eq!(
            messages(&problems),
            [
                (3, "price_tiers has more than one tier for min_qty 10"),
                (
                    4,
                    "price_tiers `10-9`: `10-9` is not `min_qty:price` (tiers are written like \
                     `10:139.95|50:129.95`)"
                ),
                (5, "price_tiers `0:9|5:x`: min_qty `0` must be at least 1"),
                (
                    5,
                    "price_tiers `0:9|5:x`: price `x` is not a decimal number"
                ),
            ]
        );

        let good = export_tiers_ok();
        assert_eq!(good[0].price_tiers[0].min_qty, 10);
        assert_eq!(good[0].price_tiers[1].price, dec("8"));
        assert!(good[1].price_tiers.is_empty());
    }

    fn export_tiers_ok() -> Vec<ErpRecord> {
        export(
            "items.csv",
            "sku,price,stock,price_tiers\nA,10,1,50:8 | 10:9 |\nB,10,1,\n",
        )
        .records()
    }

    #[test]
    fn json_price_tiers_problems() {
        let export = export(
            "items.json",
            r#"[{"sku": "A", "price": 1, "stock": 1,
                 "price_tiers": [{"min_qty": 10}, 5, {"min_qty": 2.5, "price": -1}]},
                {"sku": "B", "price": 1, "stock": 1, "price_tiers": 12}]"#,
        );
        assert_eq!(
            messages(&export.problems()),
            [
                (1, "price_tiers item 1 has no `price`"),
                (
                    1,
                    "price_tiers item 2 is a number, not an object with `min_qty` and `price`"
                ),
                (1, "price_tiers item 3 min_qty `2.5` is not a whole number"),
                (1, "price_tiers item 3 price `-1` is negative"),
                (
                    2,
                    "price_tiers must be a list of tiers such as `10:139.95|50:129.95`, not `12`"
                ),
            ]
        );
    }

    #[test]
    fn every_bad_row_is_reported_together() {
        let export = export(
            "items.csv",
            "sku,price,stock,currency,sale_price,pack_size,active,weight\n\
             OK-1,1,1,,,,,\n\
             A,\"12,5x\",-3,eur,-0.5,0,maybe,-1\n\
             ,5,12.0,,,,,\n\
             C,,,,,,,\n\
             D,1,99999999999999999999,,,4294967296,,\n\
             E,1,1,,,,,,shifted\n\
             F,1e3,+4,USD,,,,\n\
             OK-2,-0,0,,,,,\n",
        );
        let problems = export.problems();
        assert_eq!(
            messages(&problems),
            [
                (2, "price `12,5x` is not a decimal number"),
                // A negative stock is a backorder: counted as 0, with a warning.
                (
                    2,
                    "currency `eur` is not a currency code (three capital letters, such as EUR)"
                ),
                (2, "sale_price `-0.5` is negative"),
                (2, "weight `-1` is negative"),
                (2, "pack_size `0` must be at least 1"),
                (
                    2,
                    "active `maybe` is not a yes/no value (true/false, yes/no, y/n, 1/0, ja/nee)"
                ),
                (3, "sku is missing"),
                (3, "stock `12.0` is not a whole number"),
                (4, "price is missing"),
                (4, "stock is missing"),
                (5, "stock `99999999999999999999` is too large"),
                (5, "pack_size `4294967296` is too large"),
                (
                    6,
                    "has 9 values but the header has 8 columns; a value that contains the \
                     delimiter must be quoted"
                ),
                (7, "price `1e3` is not a decimal number"),
            ]
        );
        assert_eq!(problems[0].sku.as_deref(), Some("A"));
        assert_eq!(problems[0].line, Some(3));
        assert_eq!(problems[6].sku, None);
        assert_eq!(problems[12].sku.as_deref(), Some("E"));

        let display = export.load().unwrap_err().to_string();
        let lines: Vec<&str> = display.lines().collect();
        assert_eq!(lines.len(), problems.len() + 1);
        assert!(
            lines[0].ends_with("items.csv has 14 problems:"),
            "{}",
            lines[0]
        );
        assert_eq!(
            lines[1],
            "  row 2, line 3, SKU `A`: price `12,5x` is not a decimal number"
        );
        assert_eq!(lines[7], "  row 3, line 4: sku is missing");
    }

    #[test]
    fn invalid_utf8_is_a_row_problem() {
        let export = export("items.csv", b"sku,price,stock\nA,1,1\nB\xff,1,1\nC,x,1\n");
        assert_eq!(
            messages(&export.problems()),
            [
                (
                    2,
                    "column `sku` is not valid UTF-8 text; export the file as UTF-8"
                ),
                (3, "price `x` is not a decimal number"),
            ]
        );
    }

    #[test]
    fn duplicate_skus_name_both_rows() {
        let export = export(
            "items.csv",
            "sku,price,stock\nX,1,1\nY,1,1\nZ,bad,1\nX,2,2\nZ,1,1\nX,3,3\n",
        );
        let problems = export.problems();
        assert_eq!(
            messages(&problems),
            [
                (3, "price `bad` is not a decimal number"),
                (4, "SKU `X` also on row 1"),
                (5, "SKU `Z` also on row 3"),
                (6, "SKU `X` also on row 1"),
            ]
        );
        assert_eq!(problems[1].line, Some(5));
        assert_eq!(problems[1].sku.as_deref(), Some("X"));
    }

    #[test]
    fn duplicate_skus_in_json() {
        let export = export(
            "items.json",
            r#"[{"sku": "X", "price": 1, "stock": 1}, {"sku": "X", "price": 1, "stock": 1}]"#,
        );
        let problems = export.problems();
        assert_eq!(messages(&problems), [(2, "SKU `X` also on row 1")]);
        assert_eq!(problems[0].line, None);
    }

    #[test]
    fn missing_required_columns_are_format_errors() {
        let message = export("items.csv", "sku,price\nA,1\n").format_error();
        assert!(
            message.starts_with("no column `stock`, which is required"),
            "{message}"
        );
        assert!(
            message.contains("the header row has `sku`, `price`"),
            "{message}"
        );

        let headerless = export("items.csv", "A,1,2\nB,3,4\n").format_error();
        assert!(headerless.contains("no column `sku`"), "{headerless}");
        assert!(headerless.contains("no column `price`"), "{headerless}");
        assert!(
            headerless.ends_with("the first line must be a header row naming the columns"),
            "{headerless}"
        );

        let wrong_delimiter = export("items.csv", "sku;price;stock\nA;1;2\n").format_error();
        assert!(
            wrong_delimiter.contains("is the delimiter `;`? set `delimiter`"),
            "{wrong_delimiter}"
        );

        let empty = export("items.csv", "").format_error();
        assert!(empty.contains("expected a header row"), "{empty}");

        let twice = export("items.csv", "sku,price,stock,sku\nA,1,1,B\n").format_error();
        assert!(
            twice.contains("column `sku` appears more than once"),
            "{twice}"
        );

        let json = export("items.json", r#"[{"sku": "A", "stock": 1}]"#).format_error();
        assert!(
            json.starts_with("no record has the required key `price`"),
            "{json}"
        );

        let header_only = export("items.csv", "sku,price,stock\n");
        assert!(header_only.records().is_empty());
    }

    #[test]
    fn decimals_are_exact() {
        let csv = export(
            "items.csv",
            "sku,price,stock,sale_price\nA,0.1,1,0.2\nB,19.99,1,\nC,12345678.12,1,\n\
             D,79228162514264337593543950335,1,\nE,0.0000000000000000000000000001,1,\n",
        );
        let records = csv.records();
        assert_eq!(
            records[0].price + records[0].sale_price.unwrap(),
            dec("0.3")
        );
        let prices: Vec<String> = records.iter().map(|r| r.price.to_string()).collect();
        assert_eq!(
            prices,
            [
                "0.1",
                "19.99",
                "12345678.12",
                "79228162514264337593543950335",
                "0.0000000000000000000000000001"
            ]
        );

        let json = export(
            "items.json",
            r#"[{"sku": "A", "price": 0.1, "stock": 1},
                {"sku": "B", "price": 19.99, "stock": 1},
                {"sku": "C", "price": 12345678.12, "stock": 1},
                {"sku": "D", "price": 1234567890123456789.123456789, "stock": 1},
                {"sku": "E", "price": 1.5E+2, "stock": 1}]"#,
        );
        let prices: Vec<String> = json.records().iter().map(|r| r.price.to_string()).collect();
        assert_eq!(
            prices,
            [
                "0.1",
                "19.99",
                "12345678.12",
                "1234567890123456789.123456789",
                "150"
            ]
        );

        let too_big = export(
            "items.csv",
            "sku,price,stock\nA,79228162514264337593543950336,1\n",
        );
        assert_eq!(
            messages(&too_big.problems()),
            [(
                1,
                "price `79228162514264337593543950336` has too many digits for a decimal number"
            )]
        );
    }

    #[test]
    fn active_accepts_the_usual_spellings() {
        let export = export(
            "items.csv",
            "sku,price,stock,active\nA,1,1,TRUE\nB,1,1,No\nC,1,1,y\nD,1,1,0\nE,1,1,Ja\nF,1,1,NEE\n",
        );
        let active: Vec<bool> = export.records().iter().map(|r| r.active).collect();
        assert_eq!(active, [true, false, true, false, true, false]);
    }

    #[test]
    fn format_comes_from_config_or_extension() {
        let mut export = export("items.txt", "sku,price,stock\nA,1,1\n");
        let message = export.format_error();
        assert!(message.contains("set `format = \"csv\"`"), "{message}");
        export.config.format = Some(ErpFileFormat::Csv);
        assert_eq!(export.records().len(), 1);

        let upper = self::export("ITEMS.JSON", r#"[{"sku": "A", "price": 1, "stock": 1}]"#);
        assert_eq!(upper.records().len(), 1);
    }

    #[test]
    fn bad_delimiter_is_a_format_error() {
        let mut export = export("items.csv", "sku,price,stock\nA,1,1\n");
        export.config.delimiter = Some('€');
        assert!(export.format_error().contains("single ASCII character"));
    }

    #[test]
    fn missing_file_is_an_io_error() {
        let export = export("items.csv", "");
        let config = ErpFileConfig {
            path: "erp/nope.csv".into(),
            ..export.config.clone()
        };
        let err = load(&config, export.dir.path()).unwrap_err();
        assert!(matches!(err, ErpFileError::Io { .. }), "{err:?}");
        assert!(err.to_string().starts_with("cannot read ERP export "));
        assert!(err.path().ends_with("erp/nope.csv"));
    }

    /// An export of more than a megabyte (60,000 rows), so that it is read in two parts
    /// when it holds no quote, with on both sides of its middle: a blank line, a row of bare
    /// delimiters, a bad price, a backorder, a row with too many values and invalid UTF-8;
    /// and the SKU of line 13 again on line 46,001. With `quote_one`, one SKU is quoted (the
    /// same value to the reader), which makes it an export read in one pass.
    fn big_export(line_end: &str, quote_one: bool) -> Vec<u8> {
        let mut text = format!("sku,price,stock,gtin{line_end}").into_bytes();
        for row in 1..=60_000 {
            let line = match row {
                5 if quote_one => format!("\"SKU-{row}\",6.05,{row},"),
                7 | 40_007 => String::new(),
                9 | 40_009 => ",,,".to_string(),
                11 | 45_011 => format!("SKU-{row},ten,{row},"),
                13 | 49_013 => format!("SKU-{row},1.00,-4,"),
                17 | 41_017 => format!("SKU-{row},1.00,1,,extra,values"),
                46_000 => "SKU-12,1.00,1,".to_string(),
                _ => format!("SKU-{row},{}.{:02},{row},", row % 900 + 1, row % 100),
            };
            text.extend_from_slice(line.as_bytes());
            if matches!(row, 19 | 47_000) {
                text.extend_from_slice(b"-\xff");
            }
            text.extend_from_slice(line_end.as_bytes());
        }
        text
    }

    #[test]
    fn a_large_export_read_in_two_parts_reads_as_in_one_pass() {
        for line_end in ["\n", "\r\n"] {
            let in_parts = export("items.csv", big_export(line_end, false));
            let in_one_pass = export("items.csv", big_export(line_end, true));
            assert!(
                csv::splits(&in_parts.dir.path().join("erp/items.csv")),
                "an export without quotes is read in two parts"
            );
            assert!(!csv::splits(&in_one_pass.dir.path().join("erp/items.csv")));
            let problems = in_parts.problems();
            assert_eq!(problems, in_one_pass.problems(), "line ends {line_end:?}");
            // Lines count the header, rows do not, nor blank lines (the csv reader skips
            // them): the row of line N is N - 1 before the first blank line, N - 2 after it,
            // N - 3 after the second.
            let at: Vec<(usize, Option<usize>)> =
                problems.iter().map(|p| (p.row, p.line)).collect();
            let expected = [
                (10, 12),         // bad price
                (16, 18),         // too many values
                (18, 20),         // invalid UTF-8
                (41_015, 41_018), // too many values
                (45_009, 45_012), // bad price
                (45_998, 46_001), // SKU-12 again
                (46_998, 47_001), // invalid UTF-8
            ];
            for (row, line) in expected {
                assert!(
                    at.contains(&(row, Some(line))),
                    "row {row}, line {line} in {at:?}"
                );
            }
            assert!(
                problems
                    .iter()
                    .any(|p| p.row == 45_998 && p.message == "SKU `SKU-12` also on row 11"),
                "{problems:?}"
            );
        }
    }

    #[test]
    fn every_row_is_placed_on_its_line_after_blank_lines_and_with_crlf() {
        for line_end in ["\n", "\r\n"] {
            let text = [
                "sku,price,stock",
                "A,x,1",
                "",
                "",
                "B,y,1",
                "C,1,1",
                "D,z,1",
            ]
            .join(line_end);
            let problems = export("items.csv", text).problems();
            let at: Vec<(usize, Option<usize>)> =
                problems.iter().map(|p| (p.row, p.line)).collect();
            assert_eq!(
                at,
                [(1, Some(2)), (2, Some(5)), (4, Some(7))],
                "{line_end:?}"
            );
        }
    }

    #[test]
    fn a_large_clean_export_read_in_two_parts_keeps_every_record_and_warning() {
        let clean = |quote_one: bool| {
            let text = String::from_utf8_lossy(&big_export("\n", quote_one)).into_owned();
            let bad = |line: &&str| {
                line.contains("ten,") || line.contains("extra") || line.contains('\u{fffd}')
            };
            let kept: Vec<&str> = text.lines().filter(|line| !bad(line)).collect();
            let kept = kept.join("\n").replace("\nSKU-12,1.00,1,\n", "\n");
            export("items.csv", kept)
        };
        let (in_parts, in_one_pass) = (clean(false), clean(true));
        assert!(csv::splits(&in_parts.dir.path().join("erp/items.csv")));
        let read = |e: &Export| load_with_warnings(&e.config, e.dir.path()).unwrap();
        let (parts, one) = (read(&in_parts), read(&in_one_pass));
        // 60,000 rows, less two blank, two bare-delimiter, two bad prices, two with too many
        // values, two with invalid UTF-8 and the second SKU-12.
        assert_eq!(parts.records.len(), 60_000 - 11);
        assert!(
            parts.records == one.records,
            "the same records in the same order"
        );
        assert_eq!(parts.warnings, one.warnings);
        let backorders: Vec<&str> = parts
            .warnings
            .iter()
            .filter_map(|w| w.sku.as_deref())
            .collect();
        assert_eq!(backorders, ["SKU-13", "SKU-49013"]);
    }
}
