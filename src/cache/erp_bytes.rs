//! An ERP record as the bytes the build cache hashes to tell whether a file's records changed
//! (see [`super::erp_digest`]).
//!
//! Every content file that a build takes from the cache has its records hashed, so this runs
//! for every product of the catalog on every build. Serialising a record as JSON for that cost
//! about 1.5 µs a record (most of it formatting decimals). These bytes are the record's fields
//! as they are held, each length-prefixed or tagged, so two records give the same bytes only
//! when every field is the same: decimals by their exact representation (`1.50` and `1.5`
//! differ, as they do in a feed).

use rust_decimal::Decimal;

use crate::erp::{ErpRecord, PriceTier};

/// Appends `record`'s bytes to `out`.
pub(super) fn append(out: &mut Vec<u8>, record: &ErpRecord) {
    // Named field by field, without `..`: a new field does not compile until it is hashed.
    let ErpRecord {
        sku,
        price,
        stock,
        currency,
        sale_price,
        gtin,
        mpn,
        weight,
        length,
        width,
        height,
        unit,
        pack_size,
        active,
        price_tiers,
        prices,
    } = record;
    text(out, sku);
    decimal(out, price);
    out.extend_from_slice(&stock.to_le_bytes());
    optional(out, currency.as_deref(), text);
    optional(out, sale_price.as_ref(), decimal);
    optional(out, gtin.as_deref(), text);
    optional(out, mpn.as_deref(), text);
    for measure in [weight, length, width, height] {
        optional(out, measure.as_ref(), decimal);
    }
    optional(out, unit.as_deref(), text);
    optional(out, pack_size.as_ref(), |out, size| {
        out.extend_from_slice(&size.to_le_bytes())
    });
    out.push(u8::from(*active));
    count(out, price_tiers.len());
    for PriceTier { min_qty, price } in price_tiers {
        out.extend_from_slice(&min_qty.to_le_bytes());
        decimal(out, price);
    }
    count(out, prices.iter().count());
    for (code, currency_price) in prices.iter() {
        let crate::erp::price_list::CurrencyPrice { price, sale_price } = currency_price;
        text(out, code);
        decimal(out, price);
        optional(out, sale_price.as_ref(), decimal);
    }
}

fn count(out: &mut Vec<u8>, n: usize) {
    out.extend_from_slice(&(n as u64).to_le_bytes());
}

fn text(out: &mut Vec<u8>, text: &str) {
    count(out, text.len());
    out.extend_from_slice(text.as_bytes());
}

/// Mantissa, scale and sign: the exact decimal, trailing zeros included.
fn decimal(out: &mut Vec<u8>, value: &Decimal) {
    out.extend_from_slice(&value.serialize());
}

fn optional<T: ?Sized>(out: &mut Vec<u8>, value: Option<&T>, write: impl Fn(&mut Vec<u8>, &T)) {
    match value {
        Some(value) => {
            out.push(1);
            write(out, value);
        }
        None => out.push(0),
    }
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use super::*;
    use crate::erp::price_list::CurrencyPrice;

    fn bytes(record: &ErpRecord) -> Vec<u8> {
        let mut out = Vec::new();
        append(&mut out, record);
        out
    }

    fn dec(text: &str) -> Decimal {
        Decimal::from_str(text).unwrap()
    }

    /// Each field on its own, changed: none may leave the bytes (and so the cache's verdict
    /// that the record is unchanged) as they were.
    #[test]
    fn every_field_of_a_record_changes_its_bytes() {
        let base = ErpRecord {
            currency: Some("EUR".into()),
            sale_price: Some(dec("9.00")),
            gtin: Some("4006381333931".into()),
            mpn: Some("M-1".into()),
            weight: Some(dec("1.2")),
            length: Some(dec("10")),
            width: Some(dec("20")),
            height: Some(dec("30")),
            unit: Some("piece".into()),
            pack_size: Some(6),
            price_tiers: vec![PriceTier {
                min_qty: 10,
                price: dec("8.50"),
            }],
            ..ErpRecord::example("A-1", dec("10.00"), 5)
        };
        let gbp = |sale_price| CurrencyPrice {
            price: dec("8.00"),
            sale_price,
        };
        type Change = (&'static str, Box<dyn Fn(&mut ErpRecord)>);
        let changes: Vec<Change> = vec![
            ("sku", Box::new(|r| r.sku = "A-2".into())),
            ("price", Box::new(|r| r.price = dec("10.01"))),
            ("price's scale", Box::new(|r| r.price = dec("10.0"))),
            ("stock", Box::new(|r| r.stock = 4)),
            ("currency", Box::new(|r| r.currency = None)),
            ("sale price", Box::new(|r| r.sale_price = Some(dec("9.01")))),
            ("gtin", Box::new(|r| r.gtin = Some("4006381333932".into()))),
            ("mpn", Box::new(|r| r.mpn = None)),
            ("weight", Box::new(|r| r.weight = Some(dec("1.3")))),
            ("length", Box::new(|r| r.length = None)),
            ("width", Box::new(|r| r.width = Some(dec("21")))),
            ("height", Box::new(|r| r.height = Some(dec("31")))),
            ("unit", Box::new(|r| r.unit = Some("box".into()))),
            ("pack size", Box::new(|r| r.pack_size = Some(12))),
            ("active", Box::new(|r| r.active = false)),
            (
                "tier's quantity",
                Box::new(|r| r.price_tiers[0].min_qty = 11),
            ),
            (
                "tier's price",
                Box::new(|r| r.price_tiers[0].price = dec("8.49")),
            ),
            ("tiers", Box::new(|r| r.price_tiers.clear())),
            (
                "GBP price",
                Box::new(move |r| r.prices.insert("GBP".into(), gbp(None))),
            ),
            (
                "GBP sale price",
                Box::new(move |r| r.prices.insert("GBP".into(), gbp(Some(dec("7.00"))))),
            ),
        ];
        let mut seen = vec![bytes(&base)];
        for (field, change) in &changes {
            let mut changed = base.clone();
            change(&mut changed);
            let changed = bytes(&changed);
            assert!(
                !seen.contains(&changed),
                "changing the {field} left the bytes as they were"
            );
            seen.push(changed);
        }
        assert_eq!(
            bytes(&base),
            bytes(&base.clone()),
            "the same record, the same bytes"
        );
    }

    /// Fields next to each other cannot trade bytes: `"AB" + ""` is not `"A" + "B"`.
    #[test]
    fn adjacent_texts_do_not_run_together() {
        let base = ErpRecord::example("A", dec("1"), 1);
        let one = ErpRecord {
            gtin: Some("AB".into()),
            mpn: Some(String::new()),
            ..base.clone()
        };
        let two = ErpRecord {
            gtin: Some("A".into()),
            mpn: Some("B".into()),
            ..base
        };
        assert_ne!(bytes(&one), bytes(&two));
    }
}
