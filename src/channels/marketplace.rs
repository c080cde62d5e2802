//! The settings of the marketplace presets (`meta-catalog`, `bol-offers`, `amazon-listings`),
//! checked once when `pim.toml` is read so that a build never starts with a channel the
//! marketplace would refuse wholesale (a bol channel in English, an Amazon feed without a
//! seller).

use std::collections::BTreeMap;

use super::Preset;
pub use super::bol::BolSettings;
use crate::config::{ChannelConfig, Condition, FulfilmentMethod};
use crate::content::Schema;

/// A preset's own settings, with every default filled in.
#[derive(Debug, Clone, Default)]
pub enum PresetSettings {
    /// Custom channels and presets without settings of their own.
    #[default]
    None,
    Meta(MetaSettings),
    Bol(BolSettings),
    Amazon(AmazonSettings),
}

impl PresetSettings {
    /// The settings as templates see them (`channel.settings.seller_id`), in the words of
    /// `pim.toml`.
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::json;
        let condition = |c: Condition| match c {
            Condition::New => "new",
            Condition::Refurbished => "refurbished",
            Condition::Used => "used",
        };
        match self {
            PresetSettings::None => json!({}),
            PresetSettings::Meta(meta) => json!({ "condition": condition(meta.condition) }),
            PresetSettings::Bol(bol) => json!({
                "condition": condition(bol.condition),
                "fulfilment_method": match bol.fulfilment {
                    FulfilmentMethod::Fbr => "FBR",
                    FulfilmentMethod::Fbb => "FBB",
                },
                "delivery_schedule": bol.delivery_schedule,
                "delivery_promise": bol.delivery_promise,
                "condition_state": bol.condition_state,
                "condition_grade": bol.condition_grade,
                "condition_margin": bol.condition_margin,
                "countries": bol.countries,
                "economic_operator_id": bol.economic_operator_id,
            }),
            PresetSettings::Amazon(amazon) => json!({
                "condition": condition(amazon.condition),
                "seller_id": amazon.seller_id,
                "marketplace_id": amazon.marketplace_id,
                "issue_locale": amazon.issue_locale,
                "product_types": amazon.product_types,
                "offer_only": amazon.offer_only,
                "attributes": amazon.attributes,
                // Digests only: enough for the build cache to see a new definition.
                "definitions": amazon
                    .definitions
                    .iter()
                    .map(|(name, definition)| (name.clone(), definition.digest.clone()))
                    .collect::<BTreeMap<_, _>>(),
            }),
        }
    }
}

#[derive(Debug, Clone)]
pub struct MetaSettings {
    pub condition: Condition,
}

#[derive(Debug, Clone)]
pub struct AmazonSettings {
    pub condition: Condition,
    pub seller_id: String,
    pub marketplace_id: String,
    /// `nl_NL`: the header's `issueLocale` and every text's `language_tag`.
    pub issue_locale: String,
    /// Family → Amazon product type.
    pub product_types: BTreeMap<String, String>,
    pub offer_only: bool,
    /// Amazon attribute → where its value comes from (full listings).
    pub attributes: BTreeMap<String, super::product_types::AttributeMapping>,
    /// Product type → its definition, for the types the catalog keeps one of (`amazon/`).
    pub definitions: BTreeMap<String, std::sync::Arc<super::product_types::Definition>>,
}

/// The keys only some presets take, and which ones.
const KEYS: &[(&str, &[Preset])] = &[
    (
        "condition",
        &[
            Preset::MetaCatalog,
            Preset::BolOffers,
            Preset::AmazonListings,
        ],
    ),
    ("fulfilment_method", &[Preset::BolOffers]),
    ("delivery_code", &[Preset::BolOffers]),
    ("delivery_schedule", &[Preset::BolOffers]),
    ("delivery_promise", &[Preset::BolOffers]),
    ("condition_state", &[Preset::BolOffers]),
    ("condition_grade", &[Preset::BolOffers]),
    ("condition_margin", &[Preset::BolOffers]),
    ("countries", &[Preset::BolOffers]),
    ("economic_operator_id", &[Preset::BolOffers]),
    ("push", &[Preset::BolOffers, Preset::AmazonListings]),
    ("seller_id", &[Preset::AmazonListings]),
    ("marketplace_id", &[Preset::AmazonListings]),
    ("issue_locale", &[Preset::AmazonListings]),
    ("product_types", &[Preset::AmazonListings]),
    ("offer_only", &[Preset::AmazonListings]),
    ("attributes", &[Preset::AmazonListings]),
];

fn is_set(cfg: &ChannelConfig, key: &str) -> bool {
    match key {
        "condition" => cfg.condition.is_some(),
        "fulfilment_method" => cfg.fulfilment_method.is_some(),
        "delivery_code" => cfg.delivery_code.is_some(),
        "delivery_schedule" => cfg.delivery_schedule.is_some(),
        "delivery_promise" => cfg.delivery_promise.is_some(),
        "condition_state" => cfg.condition_state.is_some(),
        "condition_grade" => cfg.condition_grade.is_some(),
        "condition_margin" => cfg.condition_margin.is_some(),
        "countries" => cfg.countries.is_some(),
        "economic_operator_id" => cfg.economic_operator_id.is_some(),
        "seller_id" => cfg.seller_id.is_some(),
        "marketplace_id" => cfg.marketplace_id.is_some(),
        "issue_locale" => cfg.issue_locale.is_some(),
        "product_types" => cfg.product_types.is_some(),
        "offer_only" => cfg.offer_only.is_some(),
        "push" => cfg.push.is_some(),
        "attributes" => cfg.attributes.is_some(),
        _ => unreachable!("unknown marketplace key {key}"),
    }
}

/// Checks the marketplace keys of one channel and fills in their defaults; every mistake goes
/// to `problem`, advice the channel's report repeats on every build to `note`.
pub fn resolve(
    preset: Option<Preset>,
    cfg: &ChannelConfig,
    currency: &str,
    schema: &Schema,
    problem: &mut dyn FnMut(String),
    note: &mut dyn FnMut(String),
) -> PresetSettings {
    for (key, presets) in KEYS {
        if is_set(cfg, key) && !preset.is_some_and(|p| presets.contains(&p)) {
            let names: Vec<&str> = presets.iter().map(|p| p.name()).collect();
            let applies = match names.as_slice() {
                [one] => format!("the {one} preset only"),
                [init @ .., last] => format!("the {} and {last} presets only", init.join(", ")),
                [] => unreachable!(),
            };
            problem(format!("`{key}` applies to {applies}"));
        }
    }
    let condition = cfg.condition.unwrap_or_default();
    match preset {
        Some(Preset::MetaCatalog) => PresetSettings::Meta(MetaSettings { condition }),
        Some(Preset::BolOffers) => {
            PresetSettings::Bol(super::bol::resolve(cfg, currency, schema, problem, note))
        }
        Some(Preset::AmazonListings) => {
            PresetSettings::Amazon(resolve_amazon(cfg, schema, problem))
        }
        _ => PresetSettings::None,
    }
}

fn resolve_amazon(
    cfg: &ChannelConfig,
    schema: &Schema,
    problem: &mut dyn FnMut(String),
) -> AmazonSettings {
    let is_code = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric());
    let seller_id = cfg.seller_id.clone().unwrap_or_default();
    if !is_code(&seller_id) {
        problem(
            "Amazon needs `seller_id`: the merchant token of the seller account \
             (Seller Central → Settings → Account Info → Merchant Token), letters and digits"
                .into(),
        );
    }
    let marketplace_id = cfg.marketplace_id.clone().unwrap_or_default();
    if !is_code(&marketplace_id) {
        problem(
            "Amazon needs `marketplace_id`, letters and digits, e.g. \"A1805IZSGTT6HS\" for \
             amazon.nl or \"A1PA6795UKMFR9\" for amazon.de"
                .into(),
        );
    }
    let issue_locale = cfg
        .issue_locale
        .clone()
        .unwrap_or_else(|| cfg.locale.replace('-', "_"));
    let locale_ok = issue_locale.split_once('_').is_some_and(|(lang, region)| {
        (2..=3).contains(&lang.len())
            && lang.bytes().all(|b| b.is_ascii_lowercase())
            && region.len() == 2
            && region.bytes().all(|b| b.is_ascii_uppercase())
    });
    if !locale_ok {
        problem(format!(
            "`issue_locale` must look like \"nl_NL\" (language_REGION), not `{issue_locale}`"
        ));
    }
    let offer_only = cfg.offer_only.unwrap_or(false);
    let product_types = cfg.product_types.clone().unwrap_or_default();
    if product_types.is_empty() && !offer_only {
        problem(
            "Amazon lists every product under a product type: add \
             `[channels.NAME.product_types]` with family = \"TYPE\" (e.g. workwear = \"SHIRT\"), \
             or set `offer_only = true` to sell on existing ASINs only"
                .into(),
        );
    }
    for (family, product_type) in &product_types {
        if !schema.families.contains_key(family) {
            let hint = crate::suggest::nearest(family, schema.families.keys().map(String::as_str))
                .map(|near| format!("; did you mean `{near}`?"))
                .unwrap_or_default();
            problem(format!(
                "`product_types` names unknown family `{family}`{hint}"
            ));
        }
        let type_ok = product_type.starts_with(|c: char| c.is_ascii_uppercase())
            && product_type
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_');
        if !type_ok {
            problem(format!(
                "`product_types.{family}`: an Amazon product type is written like \"SHIRT\" \
                 or \"HAND_TOOLS\", not `{product_type}`"
            ));
        }
    }
    AmazonSettings {
        condition: cfg.condition.unwrap_or_default(),
        seller_id,
        marketplace_id,
        issue_locale,
        product_types,
        offer_only,
        attributes: cfg.attributes.clone().unwrap_or_default(),
        definitions: BTreeMap::new(),
    }
}

/// The report's note for a channel that wrote no document because nothing reached it.
pub fn empty_document_note(channel: &super::Channel, items: usize) -> Option<String> {
    let refuses = channel
        .preset()
        .is_some_and(super::Preset::refuses_empty_document);
    (refuses && items == 0).then(|| {
        format!(
            "no product reached this channel, so no `{}` was written: Amazon refuses a feed \
             document without messages",
            channel.output
        )
    })
}

/// The file name of part `number` (1-based) of a feed split over several files: the first
/// part is the channel's `output` itself, the others get `-2`, `-3`, … before the extension
/// (`amazon.json`, `amazon-2.json`, …).
pub fn part_file_name(output: &str, number: usize) -> String {
    if number <= 1 {
        return output.to_string();
    }
    match output.rsplit_once('.') {
        Some((stem, extension)) if !stem.is_empty() => format!("{stem}-{number}.{extension}"),
        _ => format!("{output}-{number}"),
    }
}

/// Whether `file` would be a later part of a split feed written to `output`.
pub fn is_later_part(output: &str, file: &str) -> bool {
    let (stem, extension) = match output.rsplit_once('.') {
        Some((stem, extension)) if !stem.is_empty() => (stem, Some(extension)),
        _ => (output, None),
    };
    let rest = match extension {
        Some(extension) => file
            .strip_suffix(extension)
            .and_then(|f| f.strip_suffix('.')),
        None => Some(file),
    };
    rest.and_then(|r| r.strip_prefix(stem))
        .and_then(|r| r.strip_prefix('-'))
        .and_then(|n| n.parse::<usize>().ok())
        .is_some_and(|n| n >= 2)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_are_numbered_before_the_extension() {
        assert_eq!(part_file_name("amazon.json", 1), "amazon.json");
        assert_eq!(part_file_name("amazon.json", 2), "amazon-2.json");
        assert_eq!(part_file_name("amazon.de.json", 3), "amazon.de-3.json");
        assert_eq!(part_file_name("amazon", 2), "amazon-2");
        assert!(is_later_part("amazon.json", "amazon-2.json"));
        assert!(is_later_part("amazon.json", "amazon-12.json"));
        assert!(!is_later_part("amazon.json", "amazon-1.json"));
        assert!(!is_later_part("amazon.json", "amazon-x.json"));
        assert!(!is_later_part("amazon.json", "amazon.json"));
        assert!(!is_later_part("amazon.json", "other-2.json"));
    }
}
