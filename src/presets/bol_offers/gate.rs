//! bol.com's rules for offers (Retailer API v11; `docs/src/channels/bol-offers.md` lists them with their sources): a 13-digit EAN, unit prices of 1–9999 EUR,
//! a delivery promise bol can read, bundle prices that fall; and bol's content rules where a program can check them
//! (title length, no prices, web addresses or sales slogans in the text) as warnings, since
//! bol judges those itself.

use std::str::FromStr;
use std::sync::LazyLock;

use regex::{Regex, RegexSet};
use rust_decimal::Decimal;

use super::limits as bol;
use super::offer::{bundle_prices, ean13};
use super::settings::{BolSettings, parse_delivery_days};
use crate::channels::Channel;
use crate::config::FulfilmentMethod;
use crate::content::Product;
use crate::erp::ErpRecord;
use crate::merge::ProductView;
use crate::presets::view::attribute_text;
use crate::verdict::{Checks, Reason};

pub(super) fn rules(
    product: &Product,
    record: &ErpRecord,
    view: &ProductView,
    channel: &Channel,
    checks: &mut Checks,
) {
    match &record.gtin {
        Some(raw) => checks.check_result(ean13(raw).map(|_| ()), |problem| {
            Reason::new("ean", problem)
        }),
        None => checks.fail(Reason::new(
            "ean",
            "bol lists offers by EAN; the ERP has no GTIN for this item",
        )),
    }
    checks.check(record.price > Decimal::ZERO, || {
        Reason::new("price", "the ERP price is 0; bol needs a price above zero")
    });
    let length = view.sku.chars().count();
    checks.check(length <= bol::REFERENCE_MAX, || {
        Reason::new(
            "too-long",
            format!(
                "the SKU is {length} characters; bol's `reference`, which leads an order back \
                 to the ERP item, takes at most {}",
                bol::REFERENCE_MAX
            ),
        )
    });
    if let Some(days) = attribute_text(view, bol::DELIVERY_DAYS_ATTRIBUTE) {
        let fulfilment = channel
            .settings
            .get::<BolSettings>()
            .map_or(FulfilmentMethod::Fbr, |settings| settings.fulfilment);
        let on = |reason: Reason| reason.on(bol::DELIVERY_DAYS_ATTRIBUTE, product, channel);
        match fulfilment {
            FulfilmentMethod::Fbr => {
                checks.check_result(parse_delivery_days(&days).map(|_| ()), |problem| {
                    on(Reason::new("delivery-promise", problem))
                });
            }
            FulfilmentMethod::Fbb => checks.warn(on(Reason::new(
                "delivery-promise",
                format!("`{days}` is ignored: bol sets the delivery promise of FBB offers"),
            ))),
        }
    }
    let prices = bundle_prices(&view.erp);
    let range = Decimal::from(bol::UNIT_PRICE_MIN)..=Decimal::from(bol::UNIT_PRICE_MAX);
    for price in &prices.prices {
        let in_range = Decimal::from_str(&price.unit_price).is_ok_and(|p| range.contains(&p));
        checks.check(in_range, || {
            Reason::new(
                "price",
                format!(
                    "the unit price {} (from {} pieces) is outside bol's {}–{} EUR",
                    price.unit_price,
                    price.quantity,
                    bol::UNIT_PRICE_MIN,
                    bol::UNIT_PRICE_MAX
                ),
            )
        });
    }

    for dropped in prices.dropped {
        checks.warn(Reason::new("bundle-prices", dropped));
    }
    if let Some(title) = &view.title {
        let length = title.chars().count();
        if length > bol::TITLE_SUGGESTED_MAX {
            checks.warn(
                Reason::new(
                    "title-length",
                    format!(
                        "the title is {length} characters; bol advises at most {}",
                        bol::TITLE_SUGGESTED_MAX
                    ),
                )
                .on("title", product, channel),
            );
        }
    }
    let texts = [
        ("title", "the title", view.title.as_deref()),
        (
            "description",
            "the description",
            view.description_text.as_deref(),
        ),
    ];
    let bullets = view
        .bullets
        .iter()
        .map(|b| ("bullets", "a bullet", Some(b.as_str())));
    for (attribute, what, text) in texts.into_iter().chain(bullets) {
        let Some(text) = text else { continue };
        for problem in content_problems(text) {
            checks.warn(
                Reason::new("bol-content", format!("{what}: {problem}"))
                    .on(attribute, product, channel),
            );
        }
    }
}

/// What bol's content rules forbid in product text, where it can be spotted: web
/// addresses, prices and sales slogans.
///
/// Every product's title, description and bullets are checked, and almost none break a
/// rule: one pass of the three rules together says so, and only a text that breaks one is
/// searched again, rule by rule, for what to quote (three passes over every text were 2% of
/// a cold build's CPU with the example's channels).
fn content_problems(text: &str) -> Vec<String> {
    static RULES: LazyLock<(RegexSet, [(Regex, &str); 3])> = LazyLock::new(|| {
        let rules = [
            (
                r"(?i)\bhttps?://\S+|\bwww\.\S+|\b[a-z0-9][a-z0-9-]*\.(?:nl|be|com|eu|net|org|shop|info)\b",
                "web addresses",
            ),
            (
                r"(?i)€\s*\d|\b\d+(?:[.,]\d{1,2})?\s*(?:€|euro\b|eur\b)|\beur(?:o)?\s*\d",
                "prices",
            ),
            (
                r"(?i)\b(?:gratis|goedkoopst?e?|op\s*=\s*op|1\s*\+\s*1|korting|aanbieding|uitverkoop|black\s+friday|cyber\s+monday|morgen\s+in\s+huis|vandaag\s+besteld)\b",
                "sales slogans or delivery claims",
            ),
        ];
        let any = RegexSet::new(rules.iter().map(|(pattern, _)| pattern)).expect("valid regexes");
        let each = rules.map(|(pattern, what)| (Regex::new(pattern).expect("valid regex"), what));
        (any, each)
    });
    let (any, each) = &*RULES;
    if !any.is_match(text) {
        return Vec::new();
    }
    each.iter()
        .filter_map(|(pattern, what)| {
            pattern.find(text).map(|found| {
                format!(
                    "bol does not allow {what} in product text (`{}`)",
                    found.as_str()
                )
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::content_problems;

    #[test]
    fn spots_addresses_prices_and_slogans() {
        let found = |text: &str| content_problems(text).join(" | ");
        assert!(found("Kijk op www.acme.nl voor meer").contains("web addresses"));
        assert!(found("Bestel via acme-tools.com").contains("`acme-tools.com`"));
        assert!(found("Nu voor € 12,50").contains("prices"));
        assert!(found("Slechts 9.95 euro").contains("prices"));
        assert!(found("GRATIS bits erbij").contains("`GRATIS`"));
        assert!(found("Op = op!").contains("slogans"));
        // A text that breaks every rule is told each, in the rules' order.
        let all = content_problems("Gratis! Nu 5 euro op www.acme.nl");
        assert_eq!(all.len(), 3, "{all:?}");
        assert!(all[0].contains("`www.acme.nl`") && all[1].contains("`5 euro`"));
        assert!(all[2].contains("`Gratis`"));
        for clean in [
            "Makita DHP485Z accu klopboormachine 18V",
            "Max. koppel 50 Nm, boorhouder 13 mm",
            "Wasbaar op 60 °C",
            "Set van 1 + 2 delen",
        ] {
            assert!(
                content_problems(clean).is_empty(),
                "{clean}: {}",
                found(clean)
            );
        }
    }
}
