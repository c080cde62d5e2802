//! The gatekeeper: per product and channel, is it 100% complete, and if not, why not.
//!
//! A product reaches a channel only when it is enabled, present and active in the ERP, and
//! meets every requirement of that channel in the channel's locale: the family's `required`,
//! the channel's `require` and the preset's own rules. Everything else is left out and
//! listed with its reasons; one bad product never blocks the others.

pub mod quality;
pub mod titles;

use crate::channels::Channel;
use crate::content::{Family, Product, Schema};
use crate::erp::ErpRecord;
use crate::merge::ProductView;
use crate::presets::Preset;
use crate::verdict::{Checks, Reason, Verdict, has_localized_value, missing_attribute};

/// Decides whether `product` may go to `channel`. `view` is absent when the product has no
/// ERP record (there is nothing to merge). `channel` comes with its index in the channels
/// the product's `answers` were made for, which its channels share.
pub fn decide(
    product: &Product,
    record: Option<&ErpRecord>,
    view: Option<&ProductView>,
    (channel_index, channel): (usize, &Channel),
    schema: &Schema,
    answers: &mut Answers<'_>,
) -> Verdict {
    let mut checks = Checks::default();

    checks.check(product.enabled(), || {
        Reason::new("disabled", "the product is disabled (`enabled = false`)")
            .on("enabled", product, channel)
    });
    // The SKU is the id in every feed and how an order finds its ERP item: it cannot be
    // cleaned up on the way out, so one with invisible characters is refused.
    checks.check(
        !product
            .sku
            .chars()
            .any(|c| c.is_control() || crate::text::clean::is_bidi_control(c)),
        || {
            Reason::new(
                "sku-characters",
                format!(
                    "SKU {:?} holds control or text-direction characters, which no channel \
                     takes; correct the item number in the ERP and the product file",
                    product.sku
                ),
            )
        },
    );
    match record {
        None => checks.fail(Reason::new(
            "not-in-erp",
            format!("SKU `{}` is not in the ERP export", product.sku),
        )),
        Some(record) => checks.check(record.active, || {
            Reason::new("inactive-in-erp", "the ERP marks the item inactive")
        }),
    }

    let requirements = answers.requirements;
    for &attribute in requirements.of(channel_index, answers.family) {
        let name = requirements.attributes[attribute].name.as_str();
        checks.check(
            answers.has_value(product, attribute, channel_index, channel),
            || missing_attribute(name, product, channel, schema),
        );
    }

    if let (Some(record), Some(view)) = (record, view) {
        // The view's currency is the channel's when a price list of it has this SKU.
        let currency = view.erp.currency.as_str();
        checks.check(currency == channel.currency, || {
            Reason::new(
                "currency",
                format!(
                    "the ERP price is in {currency}; the channel sells in {0}: give it a {0} \
                     price in a `[price_lists.{0}]` price list",
                    channel.currency
                ),
            )
        });
        sale_price_not_below_price(record, channel, &mut checks);
        if let Some(preset) = Preset::of(channel) {
            preset
                .def()
                .gate(product, record, view, channel, schema, &mut checks);
        }
    }
    checks.verdict()
}

/// The attributes each channel requires of a product of each family: the family's
/// `required`, the channel's `require` and its preset's, each once, in that order. Worked
/// out once for all products, and numbered, so that a product's channels share the answer to
/// whether it has a value for an attribute in a locale ([`Answers`]).
pub struct Requirements {
    attributes: Vec<RequiredAttribute>,
    /// The schema's families; a product of another family requires what its channel and
    /// preset do.
    families: Vec<String>,
    /// The channels' distinct locales.
    locales: Vec<String>,
    channels: Vec<ChannelRequirements>,
}

struct RequiredAttribute {
    name: String,
    localized: bool,
}

struct ChannelRequirements {
    /// Its index in [`Requirements::locales`].
    locale: usize,
    /// Indices into [`Requirements::attributes`], per family in the order of
    /// [`Requirements::families`], then for a family the schema does not have.
    by_family: Vec<Vec<usize>>,
}

impl Requirements {
    pub fn new(channels: &[Channel], schema: &Schema) -> Requirements {
        let mut requirements = Requirements {
            attributes: Vec::new(),
            families: schema.families.keys().cloned().collect(),
            locales: Vec::new(),
            channels: Vec::with_capacity(channels.len()),
        };
        // In the order of `families`, then a family the schema lacks.
        let families: Vec<Option<&Family>> =
            (schema.families.values().map(Some)).chain([None]).collect();
        for channel in channels {
            let locale = requirements.locale_index(&channel.locale);
            let by_family = families
                .iter()
                .map(|&family| requirements.required_of(channel, family, schema))
                .collect();
            requirements
                .channels
                .push(ChannelRequirements { locale, by_family });
        }
        requirements
    }

    /// What `channel` requires of a product of `family` (`None`: one the schema lacks).
    fn required_of(
        &mut self,
        channel: &Channel,
        family: Option<&Family>,
        schema: &Schema,
    ) -> Vec<usize> {
        let names = family
            .into_iter()
            .flat_map(|f| f.required())
            .chain(channel.require.iter().map(String::as_str))
            .chain(
                Preset::of(channel)
                    .into_iter()
                    .flat_map(|p| p.def().required_attributes().iter().copied()),
            );
        let mut indices: Vec<usize> = Vec::new();
        for name in names {
            let index = self.attribute_index(name, schema);
            if !indices.contains(&index) {
                indices.push(index);
            }
        }
        indices
    }

    fn locale_index(&mut self, locale: &str) -> usize {
        match self.locales.iter().position(|l| l == locale) {
            Some(index) => index,
            None => {
                self.locales.push(locale.to_string());
                self.locales.len() - 1
            }
        }
    }

    fn attribute_index(&mut self, name: &str, schema: &Schema) -> usize {
        match self.attributes.iter().position(|a| a.name == name) {
            Some(index) => index,
            None => {
                self.attributes.push(RequiredAttribute {
                    name: name.to_string(),
                    localized: schema.attribute(name).is_some_and(|d| d.localized),
                });
                self.attributes.len() - 1
            }
        }
    }

    /// The attributes the channel at `channel_index` requires of a product of `family` (an
    /// index into the families, or their number for a family the schema does not have).
    fn of(&self, channel_index: usize, family: usize) -> &[usize] {
        &self.channels[channel_index].by_family[family]
    }
}

/// One product's answers to whether it has a value for a required attribute in a locale,
/// worked out by the first of its channels that asks and shared by the others (a channel with
/// overrides for the product works out its own).
pub struct Answers<'r> {
    requirements: &'r Requirements,
    /// The product's family, as [`Requirements::of`] takes it.
    family: usize,
    /// Per attribute, per locale.
    has_value: Vec<Option<bool>>,
}

impl<'r> Answers<'r> {
    pub fn new(requirements: &'r Requirements, product: &Product) -> Answers<'r> {
        let family = (requirements.families.iter())
            .position(|f| *f == product.family)
            .unwrap_or(requirements.families.len());
        Answers {
            requirements,
            family,
            has_value: vec![None; requirements.attributes.len() * requirements.locales.len()],
        }
    }

    fn has_value(
        &mut self,
        product: &Product,
        attribute: usize,
        channel_index: usize,
        channel: &Channel,
    ) -> bool {
        let required = &self.requirements.attributes[attribute];
        let answer = || has_localized_value(product, &required.name, required.localized, channel);
        if product.channels.contains_key(&channel.name) {
            return answer();
        }
        let locales = self.requirements.locales.len();
        let locale = self.requirements.channels[channel_index].locale;
        *self.has_value[attribute * locales + locale].get_or_insert_with(answer)
    }
}

/// A sale price that is not below the price is a mistake in the ERP: no channel publishes it
/// ([`crate::merge::ErpView::new`] drops it), and every channel warns.
fn sale_price_not_below_price(record: &ErpRecord, channel: &Channel, checks: &mut Checks) {
    let (price, sale) = match record.prices.get(&channel.currency) {
        Some(listed) => (listed.price, listed.sale_price),
        None => (record.price, record.sale_price),
    };
    if let Some(sale) = sale
        && sale >= price
    {
        checks.warn(Reason::new(
            "sale-price",
            format!(
                "the sale price {sale} is not below the price {price}; it is left out of the \
                 feed (the price is published without a sale)"
            ),
        ));
    }
}

/// A supplemental feed only updates items its primary feed has: a product the primary
/// channel left out is left out of every `google-merchant-inventory` channel that follows it.
/// `gated` holds one verdict (and rendered item) per channel, in the order of `channels`.
pub fn follow_primaries(channels: &[Channel], gated: &mut [(Verdict, Option<Vec<u8>>)]) {
    for (index, channel) in channels.iter().enumerate() {
        let Some(primary) = &channel.primary else {
            continue;
        };
        let Some(primary_index) = channels.iter().position(|c| &c.name == primary) else {
            continue;
        };
        if gated[primary_index].0.included || !gated[index].0.included {
            continue;
        }
        let why = gated[primary_index]
            .0
            .reasons
            .first()
            .map(|r| format!(" ({})", r.message))
            .unwrap_or_default();
        let (verdict, item) = &mut gated[index];
        verdict.included = false;
        verdict.reasons.push(Reason::new(
            "not-in-primary",
            format!(
                "the primary feed `{primary}` leaves it out{why}; a supplemental feed only \
                 updates the items its primary feed has"
            ),
        ));
        *item = None;
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::path::Path;
    use std::sync::Arc;

    use serde_json::json;

    use super::*;
    use crate::channels::ChannelKind;
    use crate::config::ChannelFormat;
    use crate::content::AttrValue;

    const SCHEMA: &str = "[attributes.title]\ntype = \"text\"\nlocalized = true\n\n\
        [attributes.color]\ntype = \"text\"\n\n\
        [families.tools]\nattributes = [\"title\", \"color\"]\nrequired = [\"title\"]\n";

    fn channel(name: &str, locale: &str, require: &[&str]) -> Channel {
        let kind = ChannelKind::Template {
            format: ChannelFormat::Xml,
            template: "feed.xml".into(),
        };
        Channel {
            require: require.iter().map(|r| r.to_string()).collect(),
            ..Channel::example(name, kind, locale)
        }
    }

    fn product(family: &str, overrides: &[(&str, serde_json::Value)]) -> Product {
        let values = BTreeMap::from([
            ("title".into(), AttrValue::new(json!({"nl-NL": "Boor"}), 2)),
            ("color".into(), AttrValue::new(json!("blauw"), 3)),
        ]);
        let channels = overrides
            .iter()
            .map(|(channel, title)| {
                let title = AttrValue::new(title.clone(), 5);
                (
                    channel.to_string(),
                    BTreeMap::from([("title".into(), title)]),
                )
            })
            .collect();
        Product {
            sku: "B-1".into(),
            model: None,
            family: family.into(),
            file: Arc::from("content/products/b-1.toml"),
            line: 1,
            values,
            channels,
            derived: Default::default(),
        }
    }

    /// The missing attributes of every channel, gated one after the other with shared answers.
    fn missing(product: &Product, channels: &[Channel], schema: &Schema) -> Vec<Vec<String>> {
        let requirements = Requirements::new(channels, schema);
        let mut answers = Answers::new(&requirements, product);
        channels
            .iter()
            .enumerate()
            .map(|channel| {
                let verdict = decide(product, None, None, channel, schema, &mut answers);
                (verdict.reasons.iter())
                    .filter(|r| r.code == "missing-attribute")
                    .map(|r| r.attribute.clone().unwrap_or_default())
                    .collect()
            })
            .collect()
    }

    #[test]
    fn channels_share_a_products_answers_but_not_its_overrides() {
        let (schema, _) = Schema::parse(SCHEMA, Path::new("content/schema.toml"));
        let schema = schema.unwrap();
        let channels = [
            channel("nl", "nl-NL", &["title", "color", "brand"]),
            channel("en", "en-GB", &[]),
            channel("nl-override", "nl-NL", &[]),
            channel("nl-again", "nl-NL", &["brand"]),
        ];
        // The title is in Dutch only, and emptied for one Dutch channel.
        let overridden = product("tools", &[("nl-override", json!({"nl-NL": " "}))]);
        assert_eq!(
            missing(&overridden, &channels, &schema),
            [vec!["brand"], vec!["title"], vec!["title"], vec!["brand"]]
        );
        // Asked in another order, the answers are the same.
        let reversed: Vec<Channel> = channels.iter().rev().cloned().collect();
        assert_eq!(
            missing(&overridden, &reversed, &schema),
            [vec!["brand"], vec!["title"], vec!["title"], vec!["brand"]]
        );
        // A family the schema lacks requires only what the channel does.
        let unknown = product("toys", &[]);
        assert_eq!(
            missing(&unknown, &channels, &schema),
            [vec!["brand"], vec![], vec![], vec!["brand"]]
        );
    }

    #[test]
    fn an_attribute_required_twice_is_checked_once() {
        let (schema, _) = Schema::parse(SCHEMA, Path::new("content/schema.toml"));
        let schema = schema.unwrap();
        let channels = [channel("nl", "nl-NL", &["title", "title", "color"])];
        let requirements = Requirements::new(&channels, &schema);
        let tools = requirements.families.iter().position(|f| f == "tools");
        let names: Vec<&str> = (requirements.of(0, tools.unwrap()).iter())
            .map(|&a| requirements.attributes[a].name.as_str())
            .collect();
        assert_eq!(names, ["title", "color"]);
    }
}
