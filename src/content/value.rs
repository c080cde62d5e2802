//! Turning a TOML value into a checked attribute value, by the attribute's type and rules.
//!
//! Values are kept as `serde_json::Value` (numbers exact, thanks to `arbitrary_precision`):
//! that is what templates and JSON feeds consume, so no second model is needed.

use std::ops::Range;
use std::str::FromStr;

use rust_decimal::Decimal;
use serde_json::{Map, Number, Value};
use toml::Spanned;
use toml::de::DeValue;

use super::schema::{AttributeDef, AttributeType};

/// A value that breaks its attribute's type or rules: what is wrong, where, and the fix.
#[derive(Debug)]
pub struct ValueError {
    pub span: Range<usize>,
    pub code: &'static str,
    pub message: String,
    pub help: Option<String>,
}

impl ValueError {
    fn new(span: Range<usize>, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            span,
            code,
            message: message.into(),
            help: None,
        }
    }

    fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }
}

/// What a value is checked against besides its own definition.
pub struct ValueContext<'a> {
    pub locales: &'a [String],
}

type Result<T> = std::result::Result<T, ValueError>;

/// Checks `value` against `def`; localized attributes become a `{locale: value}` object.
pub fn convert(
    name: &str,
    def: &AttributeDef,
    value: &Spanned<DeValue<'_>>,
    ctx: &ValueContext<'_>,
) -> Result<Value> {
    if !def.localized {
        if let DeValue::Table(table) = value.get_ref()
            && def.kind != AttributeType::Image
            && table
                .keys()
                .any(|k| ctx.locales.iter().any(|l| l == k.get_ref().as_ref()))
        {
            return Err(ValueError::new(
                value.span(),
                "not-localized",
                format!("`{name}` is not localized: give one value for every locale"),
            )
            .help(format!(
                "write `{name} = …`, or set `localized = true` on the attribute in content/schema.toml"
            )));
        }
        return convert_single(name, def, value, ctx);
    }
    let DeValue::Table(table) = value.get_ref() else {
        let first = ctx.locales.first().map_or("nl-NL", String::as_str);
        return Err(ValueError::new(
            value.span(),
            "localized",
            format!("`{name}` is localized: give one value per locale"),
        )
        .help(format!("write `{name}.{first} = …`")));
    };
    let mut by_locale = Map::new();
    for (locale, localized) in table.iter() {
        let locale = locale_key(locale, ctx)?;
        by_locale.insert(locale, convert_single(name, def, localized, ctx)?);
    }
    Ok(Value::Object(by_locale))
}

/// Checks that a table key is one of the catalog's locales.
fn locale_key(key: &Spanned<std::borrow::Cow<'_, str>>, ctx: &ValueContext<'_>) -> Result<String> {
    let locale = key.get_ref().as_ref();
    if ctx.locales.iter().any(|l| l == locale) {
        return Ok(locale.to_string());
    }
    let mut err = ValueError::new(
        key.span(),
        "unknown-locale",
        format!("`{locale}` is not one of the catalog's locales"),
    );
    let known = ctx.locales.join(", ");
    err.help = Some(
        match crate::suggest::nearest(locale, ctx.locales.iter().map(String::as_str)) {
            Some(near) => format!("did you mean `{near}`? The locales in pim.toml are {known}"),
            None => format!("the locales in pim.toml are {known}"),
        },
    );
    Err(err)
}

fn convert_single(
    name: &str,
    def: &AttributeDef,
    value: &Spanned<DeValue<'_>>,
    ctx: &ValueContext<'_>,
) -> Result<Value> {
    let span = value.span();
    match def.kind {
        AttributeType::Text | AttributeType::RichText => {
            let text = expect_str(name, def, value)?;
            check_text(name, def, text, span)?;
            Ok(Value::String(text.to_string()))
        }
        AttributeType::TextList => {
            let items = expect_array(name, def, value)?;
            check_items(name, def, items.len(), span)?;
            items
                .iter()
                .map(|item| {
                    let text = expect_str(name, def, item)?;
                    check_text(name, def, text, item.span())?;
                    Ok(Value::String(text.to_string()))
                })
                .collect::<Result<Vec<_>>>()
                .map(Value::Array)
        }
        AttributeType::Number | AttributeType::Measurement => {
            let number = expect_decimal(name, def, value)?;
            check_number(name, def, number, span)?;
            Ok(decimal_value(number))
        }
        AttributeType::Boolean => match value.get_ref() {
            DeValue::Boolean(b) => Ok(Value::Bool(*b)),
            _ => Err(wrong_type(name, def, value)),
        },
        AttributeType::Enum => {
            let text = expect_str(name, def, value)?;
            check_option(name, def, text, span)?;
            Ok(Value::String(text.to_string()))
        }
        AttributeType::EnumList => {
            let items = expect_array(name, def, value)?;
            check_items(name, def, items.len(), span)?;
            items
                .iter()
                .map(|item| {
                    let text = expect_str(name, def, item)?;
                    check_option(name, def, text, item.span())?;
                    Ok(Value::String(text.to_string()))
                })
                .collect::<Result<Vec<_>>>()
                .map(Value::Array)
        }
        AttributeType::Url => {
            let text = expect_str(name, def, value)?;
            check_url(name, text, span)?;
            Ok(Value::String(text.to_string()))
        }
        AttributeType::Image => convert_asset(name, value, ctx, AssetKind::Image),
        AttributeType::ImageList | AttributeType::AssetList => {
            let items = expect_array(name, def, value)?;
            check_items(name, def, items.len(), span)?;
            let kind = if def.kind == AttributeType::ImageList {
                AssetKind::Image
            } else {
                AssetKind::Document
            };
            items
                .iter()
                .map(|item| convert_asset(name, item, ctx, kind))
                .collect::<Result<Vec<_>>>()
                .map(Value::Array)
        }
        AttributeType::Date => {
            let text = match value.get_ref() {
                DeValue::Datetime(dt) if dt.date.is_some() && dt.time.is_none() => dt.to_string(),
                DeValue::String(s) => s.to_string(),
                _ => return Err(wrong_type(name, def, value)),
            };
            if chrono::NaiveDate::parse_from_str(&text, "%Y-%m-%d").is_err() {
                return Err(ValueError::new(
                    span,
                    "invalid-date",
                    format!("`{name}` must be a date such as 2026-03-01, not `{text}`"),
                ));
            }
            Ok(Value::String(text))
        }
    }
}

#[derive(Clone, Copy, PartialEq)]
enum AssetKind {
    Image,
    Document,
}

/// An image or document: a bare URL, or a table with `url` and a localized `alt`/`title`.
/// Normalised to `{url, alt|title: {locale: text}, type?}` so templates see one shape.
fn convert_asset(
    name: &str,
    value: &Spanned<DeValue<'_>>,
    ctx: &ValueContext<'_>,
    kind: AssetKind,
) -> Result<Value> {
    let label = if kind == AssetKind::Image {
        "alt"
    } else {
        "title"
    };
    let mut out = Map::new();
    match value.get_ref() {
        DeValue::String(url) => {
            check_url(name, url, value.span())?;
            out.insert("url".into(), Value::String(url.to_string()));
        }
        DeValue::Table(table) => {
            let url = table.get("url").ok_or_else(|| {
                ValueError::new(
                    value.span(),
                    "missing-url",
                    format!("`{name}` entry has no `url`"),
                )
                .help("add `url = \"https://…\"`")
            })?;
            let DeValue::String(url_text) = url.get_ref() else {
                return Err(ValueError::new(
                    url.span(),
                    "wrong-type",
                    "`url` must be a string",
                ));
            };
            check_url(name, url_text, url.span())?;
            out.insert("url".into(), Value::String(url_text.to_string()));
            for (key, field) in table.iter() {
                match key.get_ref().as_ref() {
                    "url" => {}
                    k if k == label => {
                        out.insert(label.into(), localized_text(field, ctx)?);
                    }
                    "type" if kind == AssetKind::Document => {
                        let DeValue::String(t) = field.get_ref() else {
                            return Err(ValueError::new(
                                field.span(),
                                "wrong-type",
                                "`type` must be a string such as \"manual\"",
                            ));
                        };
                        out.insert("type".into(), Value::String(t.to_string()));
                    }
                    other => {
                        let allowed = if kind == AssetKind::Image {
                            "`url` and `alt`"
                        } else {
                            "`url`, `title` and `type`"
                        };
                        return Err(ValueError::new(
                            key.span(),
                            "unknown-key",
                            format!("unknown key `{other}` in `{name}`"),
                        )
                        .help(format!("an entry of `{name}` takes {allowed}")));
                    }
                }
            }
        }
        _ => {
            return Err(ValueError::new(
                value.span(),
                "wrong-type",
                format!(
                    "`{name}` entries must be a URL string or a table with `url`, found {}",
                    value.get_ref().type_str()
                ),
            ));
        }
    }
    Ok(Value::Object(out))
}

/// A text given once (for every locale) or per locale; always `{locale: text}` afterwards.
fn localized_text(value: &Spanned<DeValue<'_>>, ctx: &ValueContext<'_>) -> Result<Value> {
    let mut by_locale = Map::new();
    match value.get_ref() {
        DeValue::String(text) => {
            for locale in ctx.locales {
                by_locale.insert(locale.clone(), Value::String(text.to_string()));
            }
        }
        DeValue::Table(table) => {
            for (key, text) in table.iter() {
                let locale = locale_key(key, ctx)?;
                let DeValue::String(text) = text.get_ref() else {
                    return Err(ValueError::new(
                        text.span(),
                        "wrong-type",
                        "expected a string",
                    ));
                };
                by_locale.insert(locale, Value::String(text.to_string()));
            }
        }
        _ => {
            return Err(ValueError::new(
                value.span(),
                "wrong-type",
                "expected a string, or one string per locale",
            ));
        }
    }
    Ok(Value::Object(by_locale))
}

fn expect_str<'a>(
    name: &str,
    def: &AttributeDef,
    value: &'a Spanned<DeValue<'_>>,
) -> Result<&'a str> {
    match value.get_ref() {
        DeValue::String(s) => Ok(s.as_ref()),
        _ => Err(wrong_type(name, def, value)),
    }
}

fn expect_array<'a, 'i>(
    name: &str,
    def: &AttributeDef,
    value: &'a Spanned<DeValue<'i>>,
) -> Result<&'a [Spanned<DeValue<'i>>]> {
    match value.get_ref() {
        DeValue::Array(items) => Ok(items),
        _ => Err(wrong_type(name, def, value)),
    }
}

fn expect_decimal(name: &str, def: &AttributeDef, value: &Spanned<DeValue<'_>>) -> Result<Decimal> {
    let parsed = match value.get_ref() {
        DeValue::Integer(int) if int.radix() == 10 => {
            Decimal::from_str(&int.as_str().replace('_', "")).ok()
        }
        DeValue::Float(float) => {
            let raw = float.as_str().replace('_', "");
            Decimal::from_str(&raw)
                .or_else(|_| Decimal::from_scientific(&raw))
                .ok()
        }
        _ => return Err(wrong_type(name, def, value)),
    };
    parsed.ok_or_else(|| {
        ValueError::new(
            value.span(),
            "invalid-number",
            format!("`{name}` must be a finite decimal number"),
        )
    })
}

/// An exact JSON number; `arbitrary_precision` keeps the decimal digits as written.
pub fn decimal_value(number: Decimal) -> Value {
    let text = number.normalize().to_string();
    Number::from_str(&text).map_or(Value::String(text), Value::Number)
}

fn wrong_type(name: &str, def: &AttributeDef, value: &Spanned<DeValue<'_>>) -> ValueError {
    let expected = match def.kind {
        AttributeType::Text | AttributeType::RichText | AttributeType::Enum => "a string",
        AttributeType::Url => "a URL string",
        AttributeType::TextList | AttributeType::EnumList => "an array of strings",
        AttributeType::Number | AttributeType::Measurement => "a number",
        AttributeType::Boolean => "true or false",
        AttributeType::Image => "a URL string or a table with `url`",
        AttributeType::ImageList | AttributeType::AssetList => "an array (use [[…]] tables)",
        AttributeType::Date => "a date such as 2026-03-01",
    };
    let mut err = ValueError::new(
        value.span(),
        "wrong-type",
        format!(
            "`{name}` is a {} attribute: expected {expected}, found {}",
            def.kind.name(),
            value.get_ref().type_str()
        ),
    );
    if def.kind == AttributeType::Measurement
        && let Some(unit) = &def.unit
    {
        err.help = Some(format!(
            "give the number in {unit}, without the unit: `{name} = 18`"
        ));
    }
    err
}

fn check_text(name: &str, def: &AttributeDef, text: &str, span: Range<usize>) -> Result<()> {
    let length = text.chars().count();
    if let Some(max) = def.max_length
        && length > max
    {
        return Err(ValueError::new(
            span,
            "too-long",
            format!("`{name}` is {length} characters long; at most {max} are allowed"),
        )
        .help(format!("shorten it by {} characters", length - max)));
    }
    if let Some(min) = def.min_length
        && length < min
    {
        return Err(ValueError::new(
            span,
            "too-short",
            format!("`{name}` is {length} characters long; at least {min} are required"),
        ));
    }
    if let Some(regex) = &def.regex
        && !regex.is_match(text)
    {
        return Err(ValueError::new(
            span,
            "pattern",
            format!(
                "`{name}` does not match the pattern `{}`",
                def.pattern.as_deref().unwrap_or_default()
            ),
        ));
    }
    Ok(())
}

fn check_items(name: &str, def: &AttributeDef, count: usize, span: Range<usize>) -> Result<()> {
    if let Some(max) = def.max_items
        && count > max
    {
        return Err(ValueError::new(
            span,
            "too-many",
            format!("`{name}` has {count} items; at most {max} are allowed"),
        ));
    }
    if let Some(min) = def.min_items
        && count < min
    {
        return Err(ValueError::new(
            span,
            "too-few",
            format!("`{name}` has {count} items; at least {min} are required"),
        ));
    }
    Ok(())
}

fn check_number(name: &str, def: &AttributeDef, number: Decimal, span: Range<usize>) -> Result<()> {
    if def.integer && !number.fract().is_zero() {
        return Err(ValueError::new(
            span,
            "not-integer",
            format!("`{name}` must be a whole number, not {number}"),
        ));
    }
    if let Some(min) = def.min
        && number < min
    {
        return Err(ValueError::new(
            span,
            "too-small",
            format!("`{name}` is {number}; the minimum is {min}"),
        ));
    }
    if let Some(max) = def.max
        && number > max
    {
        return Err(ValueError::new(
            span,
            "too-large",
            format!("`{name}` is {number}; the maximum is {max}"),
        ));
    }
    Ok(())
}

fn check_option(name: &str, def: &AttributeDef, text: &str, span: Range<usize>) -> Result<()> {
    if def.options.iter().any(|o| o == text) {
        return Ok(());
    }
    let options = def.options.join(", ");
    let help = match crate::suggest::nearest(text, def.options.iter().map(String::as_str)) {
        Some(near) => format!("did you mean `{near}`? Allowed: {options}"),
        None => format!("allowed: {options}"),
    };
    Err(ValueError::new(
        span,
        "unknown-option",
        format!("`{text}` is not an option of `{name}`"),
    )
    .help(help))
}

fn check_url(name: &str, text: &str, span: Range<usize>) -> Result<()> {
    let has_scheme = text.starts_with("https://") || text.starts_with("http://");
    if has_scheme && text.len() > "https://".len() && !text.chars().any(char::is_whitespace) {
        return Ok(());
    }
    Err(ValueError::new(
        span,
        "invalid-url",
        format!("`{name}` must be an absolute http(s) URL without spaces, not `{text}`"),
    )
    .help("write the full address, e.g. https://cdn.example.com/img/item.jpg, and encode spaces as %20"))
}
