//! A channel's `country` and its currency: a shop in a country sells in that country's
//! currency (Google refuses a UK offer priced in EUR), and a Google supplemental feed belongs
//! to a primary feed whose ids it updates.

use crate::channels::Channel;
use crate::channels::problems::{At, Problems};
use crate::presets::Preset;

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

/// The primary feed of every channel whose preset follows one (`google-merchant-inventory`
/// follows `google-merchant`): its `primary`, or else the one channel of the followed preset
/// with the same locale and currency.
pub fn resolve_primaries(channels: &mut [Channel], problems: &mut Problems) {
    let primaries: Vec<(String, String, String, &str)> = channels
        .iter()
        .filter_map(|c| {
            let preset = Preset::of(c)?.name();
            Some((c.name.clone(), c.locale.clone(), c.currency.clone(), preset))
        })
        .collect();
    for channel in channels.iter_mut() {
        let Some(followed) = Preset::of(channel).and_then(Preset::follows) else {
            if channel.primary.is_some() {
                problems.add(
                    &channel.name,
                    At::Key("primary"),
                    format!("`primary` applies to {} only", following_presets()),
                );
            }
            continue;
        };
        let primaries: Vec<&(String, String, String, &str)> =
            primaries.iter().filter(|p| p.3 == followed).collect();
        let found = match &channel.primary {
            Some(name) => match primaries.iter().find(|p| &p.0 == name) {
                Some(primary) => Ok(primary.0.clone()),
                None => Err(format!(
                    "`primary = \"{name}\"` is not a {followed} channel of this catalog"
                )),
            },
            None => {
                let same: Vec<&String> = primaries
                    .iter()
                    .filter(|p| p.1 == channel.locale && p.2 == channel.currency)
                    .map(|p| &p.0)
                    .collect();
                match same.as_slice() {
                    [one] => Ok((*one).clone()),
                    [] => Err(format!(
                        "a supplemental feed updates the items of a primary feed: add a \
                         {followed} channel in {} ({}), or name it with `primary`",
                        channel.locale, channel.currency
                    )),
                    several => Err(format!(
                        "set `primary` to the {followed} channel this feed updates: {}",
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

/// The presets that take `primary`, as a message names them.
fn following_presets() -> String {
    let names: Vec<&str> = Preset::all()
        .filter(|p| p.follows().is_some())
        .map(Preset::name)
        .collect();
    match names.as_slice() {
        [one] => format!("the {one} preset"),
        [init @ .., last] => format!("the {} and {last} presets", init.join(", ")),
        [] => "no preset".to_string(),
    }
}
