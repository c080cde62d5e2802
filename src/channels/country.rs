//! A channel's `country` and its currency: a shop in a country sells in that country's
//! currency (Google refuses a UK offer priced in EUR), and a Google supplemental feed belongs
//! to a primary feed whose ids it updates.

use super::Channel;
use super::problems::{At, Problems};

/// The currency of each country the marketplaces sell in (ISO 3166-1 → ISO 4217).
const CURRENCIES: &[(&str, &str)] = &[
    ("AT", "EUR"),
    ("AU", "AUD"),
    ("BE", "EUR"),
    ("BR", "BRL"),
    ("CA", "CAD"),
    ("CH", "CHF"),
    ("CZ", "CZK"),
    ("DE", "EUR"),
    ("DK", "DKK"),
    ("ES", "EUR"),
    ("FI", "EUR"),
    ("FR", "EUR"),
    ("GB", "GBP"),
    ("GR", "EUR"),
    ("HU", "HUF"),
    ("IE", "EUR"),
    ("IN", "INR"),
    ("IT", "EUR"),
    ("JP", "JPY"),
    ("LU", "EUR"),
    ("MX", "MXN"),
    ("NL", "EUR"),
    ("NO", "NOK"),
    ("NZ", "NZD"),
    ("PL", "PLN"),
    ("PT", "EUR"),
    ("RO", "RON"),
    ("SE", "SEK"),
    ("SK", "EUR"),
    ("TR", "TRY"),
    ("US", "USD"),
];

pub fn currency_of(country: &str) -> Option<&'static str> {
    CURRENCIES
        .iter()
        .find(|(code, _)| *code == country)
        .map(|(_, currency)| *currency)
}

/// Checks a channel's `country` against its currency.
pub fn check(country: &str, currency: &str, problem: &mut dyn FnMut(String)) {
    if country == "UK" {
        problem("`country = \"UK\"`: the ISO 3166-1 code of the United Kingdom is `GB`".into());
        return;
    }
    match currency_of(country) {
        None => {
            let known: Vec<&str> = CURRENCIES.iter().map(|(code, _)| *code).collect();
            problem(format!(
                "`country = \"{country}\"` is not a country pimfeed knows the currency of; \
                 one of {}",
                known.join(", ")
            ));
        }
        Some(expected) if expected != currency => problem(format!(
            "`country = \"{country}\"` pays in {expected}, but the channel's currency is \
             {currency}: set `currency = \"{expected}\"` and give {country} its prices with an \
             ERP price list, `[price_lists.{expected}]` with `path = \"erp/prices-{}.csv\"`",
            expected.to_lowercase()
        )),
        Some(_) => {}
    }
}

/// The primary feed of every `google-merchant-inventory` channel: its `primary`, or else
/// the one `google-merchant` channel of the same locale and currency.
pub fn resolve_primaries(channels: &mut [Channel], problems: &mut Problems) {
    let primaries: Vec<(String, String, String)> = channels
        .iter()
        .filter(|c| c.preset().is_some_and(|p| p.is_google_merchant()))
        .map(|c| (c.name.clone(), c.locale.clone(), c.currency.clone()))
        .collect();
    for channel in channels.iter_mut() {
        if !channel
            .preset()
            .is_some_and(|p| p.is_google_merchant_inventory())
        {
            if channel.primary.is_some() {
                problems.add(
                    &channel.name,
                    At::Key("primary"),
                    "`primary` applies to the google-merchant-inventory preset only",
                );
            }
            continue;
        }
        let found = match &channel.primary {
            Some(name) => match primaries.iter().find(|(n, ..)| n == name) {
                Some(primary) => Ok(primary.0.clone()),
                None => Err(format!(
                    "`primary = \"{name}\"` is not a google-merchant channel of this catalog"
                )),
            },
            None => {
                let same: Vec<&String> = primaries
                    .iter()
                    .filter(|(_, l, c)| *l == channel.locale && *c == channel.currency)
                    .map(|(n, ..)| n)
                    .collect();
                match same.as_slice() {
                    [one] => Ok((*one).clone()),
                    [] => Err(format!(
                        "a supplemental feed updates the items of a primary feed: add a \
                         google-merchant channel in {} ({}), or name it with `primary`",
                        channel.locale, channel.currency
                    )),
                    several => Err(format!(
                        "set `primary` to the google-merchant channel this feed updates: {}",
                        several
                            .iter()
                            .map(|n| format!("`{n}`"))
                            .collect::<Vec<_>>()
                            .join(" or ")
                    )),
                }
            }
        };
        match found {
            Ok(primary) => channel.primary = Some(primary),
            Err(message) => problems.add(&channel.name, At::Key("primary"), message),
        }
    }
}
