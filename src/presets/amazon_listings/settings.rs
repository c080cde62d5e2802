//! The `amazon-listings` channel's settings: the seller and marketplace, the language of its
//! texts, the product type of each family and where Amazon attributes take their values.

use std::collections::BTreeMap;

use super::super::Settings;
use super::super::settings::condition_word;
use crate::config::{ChannelConfig, Condition};
use crate::content::Schema;

#[derive(Debug, Clone)]
pub(crate) struct AmazonSettings {
    pub condition: Condition,
    pub seller_id: String,
    pub marketplace_id: String,
    /// `nl_NL`: the header's `issueLocale` and every text's `language_tag`.
    pub issue_locale: String,
    /// Family → Amazon product type.
    pub product_types: BTreeMap<String, String>,
    pub offer_only: bool,
    /// Amazon attribute → where its value comes from (full listings).
    pub attributes: BTreeMap<String, crate::config::AttributeMapping>,
    /// Product type → its definition, for the types the catalog keeps one of (`amazon/`).
    pub definitions: BTreeMap<String, std::sync::Arc<super::product_types::Definition>>,
}

impl Settings for AmazonSettings {
    fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "condition": condition_word(self.condition),
            "seller_id": self.seller_id,
            "marketplace_id": self.marketplace_id,
            "issue_locale": self.issue_locale,
            "product_types": self.product_types,
            "offer_only": self.offer_only,
            "attributes": self.attributes,
            // Digests only: enough for the build cache to see a new definition.
            "definitions": self
                .definitions
                .iter()
                .map(|(name, definition)| (name.clone(), definition.digest.clone()))
                .collect::<BTreeMap<_, _>>(),
        })
    }

    /// A new product type definition changes verdicts: the build cache must see it.
    fn fingerprint(&self) -> String {
        self.definitions
            .values()
            .map(|definition| definition.digest.as_str())
            .collect()
    }
}

pub(super) fn resolve(
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
