//! Reading one record's values: text, amounts, counts, yes/no flags and price tiers, each
//! checked, with a message naming the field as the user knows it when it is wrong.

use std::fmt;

use rust_decimal::Decimal;
use serde_json::Value;

use super::{FIELD_COUNT, Field, Keys, json_kind};
use crate::erp::numbers::{
    NumberError, parse_decimal, parse_integer, parse_json_decimal, scan_number,
};
use crate::erp::{ErpRecord, PriceTier};

/// One value as found in the export, before it is known to be valid.
#[derive(Clone, Copy)]
pub(crate) enum Cell<'a> {
    Text(&'a str),
    Json(&'a Value),
}

/// A value with format differences (CSV text, JSON types) folded away.
pub(crate) enum Scalar<'a> {
    Absent,
    Text(&'a str),
    /// A JSON number's literal, exactly as written.
    Number(&'a str),
    Bool(bool),
    Other(&'a Value),
}

pub(crate) fn scalar(cell: Option<Cell<'_>>) -> Scalar<'_> {
    match cell {
        None | Some(Cell::Json(Value::Null)) => Scalar::Absent,
        Some(Cell::Text(text)) => text_scalar(text),
        Some(Cell::Json(Value::String(text))) => text_scalar(text),
        Some(Cell::Json(Value::Number(number))) => Scalar::Number(number.as_str()),
        Some(Cell::Json(Value::Bool(value))) => Scalar::Bool(*value),
        Some(Cell::Json(other)) => Scalar::Other(other),
    }
}

pub(crate) fn text_scalar(text: &str) -> Scalar<'_> {
    match text.trim() {
        "" => Scalar::Absent,
        text => Scalar::Text(text),
    }
}

/// Marks that a problem has already been pushed for a value, so the caller neither uses the
/// value nor adds a second "missing" message.
pub(crate) struct Reported;

pub(crate) struct Parser<'m> {
    pub(crate) decimal_comma: bool,
    /// Column (CSV) or key (JSON) per field.
    pub(crate) keys: Keys<'m>,
    pub(crate) mapped: [bool; FIELD_COUNT],
    /// What the export calls a field's name in messages: `column`, `key` or `field`.
    pub(crate) key_word: &'static str,
}

/// Names one tier of a JSON tier list, built into text only when a message needs it.
pub(crate) struct TierItem<'l> {
    label: &'l Label<'l>,
    number: usize,
}

impl fmt::Display for TierItem<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} item {}", self.label, self.number)
    }
}

/// A field as the user knows it: by its record name, and by the export's name when mapped.
pub(crate) struct Label<'p> {
    field: Field,
    key: Option<(&'static str, &'p str)>,
}

impl fmt::Display for Label<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.field.name())?;
        if let Some((word, key)) = self.key {
            write!(f, " ({word} `{key}`)")?;
        }
        Ok(())
    }
}

impl Parser<'_> {
    fn label(&self, field: Field) -> Label<'_> {
        Label {
            field,
            key: self.mapped[field as usize].then(|| (self.key_word, self.keys[field as usize])),
        }
    }

    pub(crate) fn record<'a>(
        &self,
        cell: impl Fn(Field) -> Option<Cell<'a>>,
        messages: &mut Vec<String>,
    ) -> Result<ErpRecord, Option<String>> {
        let sku = self.required(
            Field::Sku,
            self.text(Field::Sku, cell(Field::Sku), messages),
            messages,
        );
        let price = self.required(
            Field::Price,
            self.amount(Field::Price, cell(Field::Price), messages),
            messages,
        );
        let stock = self.required(
            Field::Stock,
            // Negative for a backorder: the collector counts it as 0 and warns.
            self.count(
                Field::Stock,
                cell(Field::Stock),
                i64::MIN,
                i64::MAX,
                messages,
            ),
            messages,
        );
        let currency = self.currency(cell(Field::Currency), messages);
        let sale_price = self.amount(Field::SalePrice, cell(Field::SalePrice), messages);
        let gtin = self
            .text(Field::Gtin, cell(Field::Gtin), messages)
            .map(|gtin| gtin.map(strip_gtin).filter(|gtin| !gtin.is_empty()));
        let mpn = self.text(Field::Mpn, cell(Field::Mpn), messages);
        let weight = self.amount(Field::Weight, cell(Field::Weight), messages);
        let length = self.amount(Field::Length, cell(Field::Length), messages);
        let width = self.amount(Field::Width, cell(Field::Width), messages);
        let height = self.amount(Field::Height, cell(Field::Height), messages);
        let unit = self.text(Field::Unit, cell(Field::Unit), messages);
        let pack_size = self.count(
            Field::PackSize,
            cell(Field::PackSize),
            1,
            u32::MAX.into(),
            messages,
        );
        let active = self.flag(Field::Active, cell(Field::Active), messages);
        let price_tiers = self.tiers(cell(Field::PriceTiers), messages);

        let sku = sku.map(str::to_owned);
        match (
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
        ) {
            (
                Some(sku),
                Some(price),
                Some(stock),
                Ok(currency),
                Ok(sale_price),
                Ok(gtin),
                Ok(mpn),
                Ok(weight),
                Ok(length),
                Ok(width),
                Ok(height),
                Ok(unit),
                Ok(pack_size),
                Ok(active),
                Ok(price_tiers),
            ) => Ok(ErpRecord {
                sku,
                price,
                stock,
                currency,
                sale_price,
                gtin,
                mpn: mpn.map(str::to_owned),
                weight,
                length,
                width,
                height,
                unit: unit.map(str::to_owned),
                // `count` checked the range.
                pack_size: pack_size.map(|size| size as u32),
                active: active.unwrap_or(true),
                price_tiers,
                prices: Default::default(),
            }),
            (sku, ..) => Err(sku),
        }
    }

    fn required<T>(
        &self,
        field: Field,
        value: Result<Option<T>, Reported>,
        messages: &mut Vec<String>,
    ) -> Option<T> {
        match value {
            Ok(Some(value)) => Some(value),
            Ok(None) => {
                messages.push(format!("{} is missing", self.label(field)));
                None
            }
            Err(Reported) => None,
        }
    }

    pub(crate) fn text<'a>(
        &self,
        field: Field,
        cell: Option<Cell<'a>>,
        messages: &mut Vec<String>,
    ) -> Result<Option<&'a str>, Reported> {
        match scalar(cell) {
            Scalar::Absent => Ok(None),
            Scalar::Text(text) | Scalar::Number(text) => Ok(Some(text)),
            Scalar::Bool(value) => {
                messages.push(format!("{} must be text, not `{value}`", self.label(field)));
                Err(Reported)
            }
            Scalar::Other(value) => {
                messages.push(format!(
                    "{} must be text, not {}",
                    self.label(field),
                    json_kind(value)
                ));
                Err(Reported)
            }
        }
    }

    fn currency(
        &self,
        cell: Option<Cell<'_>>,
        messages: &mut Vec<String>,
    ) -> Result<Option<String>, Reported> {
        let Some(code) = self.text(Field::Currency, cell, messages)? else {
            return Ok(None);
        };
        if code.len() == 3 && code.bytes().all(|b| b.is_ascii_uppercase()) {
            Ok(Some(code.to_string()))
        } else {
            messages.push(format!(
                "{} `{code}` is not a currency code (three capital letters, such as EUR)",
                self.label(Field::Currency)
            ));
            Err(Reported)
        }
    }

    /// A decimal ≥ 0.
    fn amount(
        &self,
        field: Field,
        cell: Option<Cell<'_>>,
        messages: &mut Vec<String>,
    ) -> Result<Option<Decimal>, Reported> {
        let (text, parsed) = match scalar(cell) {
            Scalar::Absent => return Ok(None),
            Scalar::Text(text) => (text, parse_decimal(text, self.decimal_comma)),
            Scalar::Number(text) => (text, parse_json_decimal(text)),
            other => return Err(self.wrong_type(field, &other, "a number", messages)),
        };
        self.check_amount(&self.label(field), text, parsed, messages)
            .map(Some)
    }

    fn check_amount(
        &self,
        label: &dyn fmt::Display,
        text: &str,
        parsed: Result<Decimal, NumberError>,
        messages: &mut Vec<String>,
    ) -> Result<Decimal, Reported> {
        match parsed {
            Ok(value) if value.is_sign_negative() => {
                messages.push(format!("{label} `{text}` is negative"));
                Err(Reported)
            }
            Ok(value) => Ok(value),
            Err(NumberError::Range) => {
                messages.push(format!(
                    "{label} `{text}` has too many digits for a decimal number"
                ));
                Err(Reported)
            }
            Err(NumberError::Malformed | NumberError::Fraction) => {
                messages.push(format!(
                    "{label} `{text}` is not a decimal number{}",
                    self.separator_hint(text)
                ));
                Err(Reported)
            }
        }
    }

    /// An integer in `min..=max`.
    fn count(
        &self,
        field: Field,
        cell: Option<Cell<'_>>,
        min: i64,
        max: i64,
        messages: &mut Vec<String>,
    ) -> Result<Option<i64>, Reported> {
        let (text, parsed) = match scalar(cell) {
            Scalar::Absent => return Ok(None),
            Scalar::Text(text) => (text, parse_integer(text, self.decimal_comma)),
            Scalar::Number(text) => (text, parse_integer(text, false)),
            other => return Err(self.wrong_type(field, &other, "a whole number", messages)),
        };
        self.check_count(&self.label(field), text, parsed, min, max, messages)
            .map(Some)
    }

    fn check_count(
        &self,
        label: &dyn fmt::Display,
        text: &str,
        parsed: Result<i64, NumberError>,
        min: i64,
        max: i64,
        messages: &mut Vec<String>,
    ) -> Result<i64, Reported> {
        let message = match parsed {
            Ok(value) if (min..=max).contains(&value) => return Ok(value),
            Ok(value) if value < 0 => format!("{label} `{text}` is negative"),
            Ok(value) if value < min => format!("{label} `{text}` must be at least {min}"),
            Ok(_) | Err(NumberError::Range) => format!("{label} `{text}` is too large"),
            Err(NumberError::Malformed | NumberError::Fraction) => {
                format!("{label} `{text}` is not a whole number")
            }
        };
        messages.push(message);
        Err(Reported)
    }

    fn flag(
        &self,
        field: Field,
        cell: Option<Cell<'_>>,
        messages: &mut Vec<String>,
    ) -> Result<Option<bool>, Reported> {
        const TRUE: [&str; 5] = ["true", "yes", "y", "1", "ja"];
        const FALSE: [&str; 5] = ["false", "no", "n", "0", "nee"];
        let text = match scalar(cell) {
            Scalar::Absent => return Ok(None),
            Scalar::Bool(value) => return Ok(Some(value)),
            Scalar::Text(text) | Scalar::Number(text) => text,
            other => return Err(self.wrong_type(field, &other, "true or false", messages)),
        };
        if TRUE.iter().any(|word| word.eq_ignore_ascii_case(text)) {
            Ok(Some(true))
        } else if FALSE.iter().any(|word| word.eq_ignore_ascii_case(text)) {
            Ok(Some(false))
        } else {
            messages.push(format!(
                "{} `{text}` is not a yes/no value (true/false, yes/no, y/n, 1/0, ja/nee)",
                self.label(field)
            ));
            Err(Reported)
        }
    }

    fn tiers(
        &self,
        cell: Option<Cell<'_>>,
        messages: &mut Vec<String>,
    ) -> Result<Vec<PriceTier>, Reported> {
        let label = self.label(Field::PriceTiers);
        let before = messages.len();
        let mut tiers = Vec::new();
        match scalar(cell) {
            Scalar::Absent => return Ok(tiers),
            Scalar::Text(text) => {
                for part in text
                    .split('|')
                    .map(str::trim)
                    .filter(|part| !part.is_empty())
                {
                    let Some((qty, price)) = part.split_once(':') else {
                        messages.push(format!(
                            "{label} `{text}`: `{part}` is not `min_qty:price` (tiers are \
                             written like `10:139.95|50:129.95`)"
                        ));
                        continue;
                    };
                    let (qty, price) = (qty.trim(), price.trim());
                    let min_qty = self.check_count(
                        &format_args!("{label} `{text}`: min_qty"),
                        qty,
                        parse_integer(qty, self.decimal_comma),
                        1,
                        u32::MAX.into(),
                        messages,
                    );
                    let price = self.check_amount(
                        &format_args!("{label} `{text}`: price"),
                        price,
                        parse_decimal(price, self.decimal_comma),
                        messages,
                    );
                    if let (Ok(min_qty), Ok(price)) = (min_qty, price) {
                        tiers.push(PriceTier {
                            min_qty: min_qty as u32,
                            price,
                        });
                    }
                }
            }
            Scalar::Other(Value::Array(items)) => {
                for (index, item) in items.iter().enumerate() {
                    let item_label = TierItem {
                        label: &label,
                        number: index + 1,
                    };
                    let Value::Object(object) = item else {
                        messages.push(format!(
                            "{item_label} is {}, not an object with `min_qty` and `price`",
                            json_kind(item)
                        ));
                        continue;
                    };
                    let min_qty = self.tier_part(
                        &item_label,
                        "min_qty",
                        object.get("min_qty"),
                        messages,
                        |text, json| parse_integer(text, self.decimal_comma && !json),
                    );
                    let min_qty = min_qty.and_then(|(text, parsed)| {
                        self.check_count(
                            &format_args!("{item_label} min_qty"),
                            text,
                            parsed,
                            1,
                            u32::MAX.into(),
                            messages,
                        )
                    });
                    let price = self.tier_part(
                        &item_label,
                        "price",
                        object.get("price"),
                        messages,
                        |text, json| {
                            if json {
                                parse_json_decimal(text)
                            } else {
                                parse_decimal(text, self.decimal_comma)
                            }
                        },
                    );
                    let price = price.and_then(|(text, parsed)| {
                        self.check_amount(
                            &format_args!("{item_label} price"),
                            text,
                            parsed,
                            messages,
                        )
                    });
                    if let (Ok(min_qty), Ok(price)) = (min_qty, price) {
                        tiers.push(PriceTier {
                            min_qty: min_qty as u32,
                            price,
                        });
                    }
                }
            }
            other => {
                return Err(self.wrong_type(
                    Field::PriceTiers,
                    &other,
                    "a list of tiers such as `10:139.95|50:129.95`",
                    messages,
                ));
            }
        }
        if messages.len() > before {
            return Err(Reported);
        }
        tiers.sort_by_key(|tier| tier.min_qty);
        if let Some(pair) = tiers
            .windows(2)
            .find(|pair| pair[0].min_qty == pair[1].min_qty)
        {
            messages.push(format!(
                "{label} has more than one tier for min_qty {}",
                pair[0].min_qty
            ));
            return Err(Reported);
        }
        // Held for every record of the run: a `Vec` grown by pushing keeps four slots.
        tiers.shrink_to_fit();
        Ok(tiers)
    }

    /// One value inside a JSON tier object: present, scalar, then parsed by `parse` (told
    /// whether the text is a JSON number literal, which never uses a decimal comma).
    fn tier_part<'a, T>(
        &self,
        item_label: &TierItem<'_>,
        key: &str,
        value: Option<&'a Value>,
        messages: &mut Vec<String>,
        parse: impl Fn(&str, bool) -> Result<T, NumberError>,
    ) -> Result<(&'a str, Result<T, NumberError>), Reported> {
        match scalar(value.map(Cell::Json)) {
            Scalar::Absent => {
                messages.push(format!("{item_label} has no `{key}`"));
                Err(Reported)
            }
            Scalar::Text(text) => Ok((text, parse(text, false))),
            Scalar::Number(text) => Ok((text, parse(text, true))),
            Scalar::Bool(value) => {
                messages.push(format!(
                    "{item_label} `{key}` must be a number, not `{value}`"
                ));
                Err(Reported)
            }
            Scalar::Other(value) => {
                messages.push(format!(
                    "{item_label} `{key}` must be a number, not {}",
                    json_kind(value)
                ));
                Err(Reported)
            }
        }
    }

    fn wrong_type(
        &self,
        field: Field,
        found: &Scalar<'_>,
        expected: &str,
        messages: &mut Vec<String>,
    ) -> Reported {
        let found = match found {
            Scalar::Bool(value) => format!("`{value}`"),
            Scalar::Other(value) => json_kind(value).to_string(),
            Scalar::Absent => "nothing".to_string(),
            Scalar::Text(text) | Scalar::Number(text) => format!("`{text}`"),
        };
        messages.push(format!(
            "{} must be {expected}, not {found}",
            self.label(field)
        ));
        Reported
    }

    /// Most bad numbers in practice are the other convention's decimal separator.
    fn separator_hint(&self, text: &str) -> &'static str {
        if self.decimal_comma {
            if scan_number(text, false).is_ok() {
                return " (with `decimal_comma = true`, `.` only separates thousands, as in \
                        `1.234,50`)";
            }
        } else if scan_number(text, true).is_ok() {
            return " (for numbers like `12,50` set `decimal_comma = true` under `[erp]`)";
        }
        ""
    }
}

/// Printed GTINs are often grouped (`8 712345 678906`, `871-234`); the digits are what count.
pub(crate) fn strip_gtin(gtin: &str) -> String {
    let separator = |c: char| c.is_whitespace() || c == '-';
    if gtin.contains(separator) {
        gtin.chars().filter(|&c| !separator(c)).collect()
    } else {
        gtin.to_string()
    }
}
