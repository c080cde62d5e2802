//! The per-product step: merge, gate and render one product, for the build and for `diff`.

use crate::channels::Channel;
use crate::content::{Product, Schema};
use crate::erp::{ErpRecord, RecordsBySku};
use crate::merge::{self, AttributeNeeds, MarkdownNeeds, MergeContext};
use crate::render::{ChannelRenderer, ContextNeeds, Item, RenderError};
use crate::validate;
use crate::verdict::{Reason, Verdict};

/// The gate's verdict on a product in one channel, and its feed item when it is in.
pub(crate) type Gated = (Verdict, Option<Vec<u8>>);

/// What the channels of each locale read of the view they share. A product's shared view in a
/// locale is built for every channel of that locale, so this depends on the channels alone and
/// is worked out once for a batch rather than for every product.
pub(crate) struct SharedNeeds {
    /// For each channel, the index of its locale in `locales`.
    locale_of_channel: Vec<usize>,
    locales: Vec<LocaleNeeds>,
    /// For each channel, the index of its locale and currency in `contexts`.
    context_of_channel: Vec<usize>,
    /// The union of what the templates of the channels of one locale and currency read: they
    /// share an item, and with it its template context (a second currency's item is a copy of
    /// the view with other ERP numbers, and builds its own context).
    contexts: Vec<ContextNeeds>,
    /// What each channel requires of a product of each family.
    requirements: validate::Requirements,
}

/// The union of what every channel of one locale reads of the view.
struct LocaleNeeds {
    markdown: MarkdownNeeds,
    attributes: AttributeNeeds,
}

impl SharedNeeds {
    pub(crate) fn new(
        channels: &[Channel],
        renderers: &[ChannelRenderer<'_>],
        schema: &Schema,
    ) -> SharedNeeds {
        let mut locale_keys: Vec<&str> = Vec::new();
        let mut locales: Vec<LocaleNeeds> = Vec::new();
        let mut context_keys: Vec<(&str, &str)> = Vec::new();
        let mut contexts: Vec<ContextNeeds> = Vec::new();
        let mut locale_of_channel = Vec::with_capacity(channels.len());
        let mut context_of_channel = Vec::with_capacity(channels.len());
        for (channel, renderer) in channels.iter().zip(renderers) {
            let at = index_of(&mut locale_keys, channel.locale.as_str(), || {
                locales.push(LocaleNeeds {
                    markdown: MarkdownNeeds::default(),
                    attributes: AttributeNeeds::none(),
                });
            });
            let needs = &mut locales[at];
            needs.markdown = needs.markdown.union(renderer.markdown_needs());
            needs.attributes = needs.attributes.union(renderer.attribute_needs());
            locale_of_channel.push(at);
            let at = index_of(&mut context_keys, key(channel), || {
                contexts.push(ContextNeeds::none());
            });
            contexts[at] = contexts[at].union(renderer.context_needs());
            context_of_channel.push(at);
        }
        SharedNeeds {
            locale_of_channel,
            locales,
            context_of_channel,
            contexts,
            requirements: validate::Requirements::new(channels, schema),
        }
    }

    fn of_channel(&self, index: usize) -> &LocaleNeeds {
        &self.locales[self.locale_of_channel[index]]
    }

    fn context_of_channel(&self, index: usize) -> &ContextNeeds {
        &self.contexts[self.context_of_channel[index]]
    }
}

/// Where `key` is in `keys`, added (and `added` called) when it is not there yet.
fn index_of<K: PartialEq>(keys: &mut Vec<K>, key: K, added: impl FnOnce()) -> usize {
    match keys.iter().position(|k| *k == key) {
        Some(index) => index,
        None => {
            keys.push(key);
            added();
            keys.len() - 1
        }
    }
}

/// The channels that see a product's item the same way: one locale and currency.
fn key(channel: &Channel) -> (&str, &str) {
    (channel.locale.as_str(), channel.currency.as_str())
}

/// Merges, gates and renders one product for every channel.
pub(crate) fn process_product(
    product: &Product,
    channels: &[Channel],
    renderers: &[ChannelRenderer<'_>],
    shared_needs: &SharedNeeds,
    by_sku: &RecordsBySku<'_>,
    ctx: &MergeContext<'_>,
    render_items: bool,
) -> Result<Vec<Gated>, RenderError> {
    let record = by_sku.get(product.sku.as_str());
    // One view per locale for the channels without overrides for this product; the view (and
    // its Markdown and template context) is the costly part, the gate and render are cheap.
    // Channels in another currency see other prices: one view per locale and currency, the
    // second currency of a locale a copy of the first with its own ERP numbers (the Markdown,
    // the costly part, is the same).
    let mut shared: Vec<((&str, &str), Item<'_>)> = Vec::new();
    if let Some(record) = record {
        for (index, channel) in channels.iter().enumerate() {
            let (locale, currency) = key(channel);
            if product.channels.contains_key(&channel.name)
                || shared.iter().any(|(k, _)| *k == (locale, currency))
            {
                continue;
            }
            let needs = shared_needs.of_channel(index);
            let context = shared_needs.context_of_channel(index);
            if let Some((_, item)) = shared.iter().find(|((l, _), _)| *l == locale) {
                let mut view = item.view.clone();
                view.erp = merge::ErpView::new(record, &ctx.catalog.currency, currency);
                shared.push(((locale, currency), Item::new(view, context)));
                continue;
            }
            shared.push((
                (locale, currency),
                Item::new(
                    merge::view(
                        product,
                        record,
                        channel,
                        ctx,
                        needs.markdown,
                        &needs.attributes,
                    ),
                    context,
                ),
            ));
        }
    }
    let mut answers = validate::Answers::new(&shared_needs.requirements, product);
    let mut gated = channels
        .iter()
        .zip(renderers)
        .enumerate()
        .map(|(index, (channel, renderer))| {
            let own;
            let item = match record {
                Some(record) if product.channels.contains_key(&channel.name) => {
                    own = own_item(product, record, channel, renderer, ctx);
                    Some(&own)
                }
                Some(_) => shared
                    .iter()
                    .find(|(l, _)| *l == key(channel))
                    .map(|(_, item)| item),
                None => None,
            };
            let channel = (index, channel);
            let gate = Gate {
                channel,
                answers: &mut answers,
            };
            gate_and_render_item(product, record, item, gate, renderer, ctx, render_items)
        })
        .collect::<Result<Vec<Gated>, RenderError>>()?;
    validate::follow_primaries(channels, &mut gated);
    Ok(gated)
}

/// A product's item in one channel, its view built for what that channel's renderer reads.
fn own_item<'r>(
    product: &Product,
    record: &ErpRecord,
    channel: &Channel,
    renderer: &'r ChannelRenderer<'_>,
    ctx: &MergeContext<'_>,
) -> Item<'r> {
    Item::new(
        merge::view(
            product,
            record,
            channel,
            ctx,
            renderer.markdown_needs(),
            renderer.attribute_needs(),
        ),
        renderer.context_needs(),
    )
}

/// Merges, gates and renders one product for one channel (for `pimfeed diff`, which renders a
/// channel at a time); `requirements` are the channel's alone.
pub(crate) fn gate_and_render(
    product: &Product,
    channel: &Channel,
    requirements: &validate::Requirements,
    renderer: &ChannelRenderer<'_>,
    by_sku: &RecordsBySku<'_>,
    ctx: &MergeContext<'_>,
    render_item: bool,
) -> Result<Gated, RenderError> {
    let record = by_sku.get(product.sku.as_str());
    let item = record.map(|record| own_item(product, record, channel, renderer, ctx));
    let mut answers = validate::Answers::new(requirements, product);
    let gate = Gate {
        channel: (0, channel),
        answers: &mut answers,
    };
    gate_and_render_item(
        product,
        record,
        item.as_ref(),
        gate,
        renderer,
        ctx,
        render_item,
    )
}

/// The channel a product is gated for (with its index in the channels the answers are for),
/// and the product's answers its channels share.
struct Gate<'g, 'r> {
    channel: (usize, &'g Channel),
    answers: &'g mut validate::Answers<'r>,
}

fn gate_and_render_item(
    product: &Product,
    record: Option<&ErpRecord>,
    item: Option<&Item<'_>>,
    gate: Gate<'_, '_>,
    renderer: &ChannelRenderer<'_>,
    ctx: &MergeContext<'_>,
    render_item: bool,
) -> Result<Gated, RenderError> {
    let view = item.map(|i| &i.view);
    let mut verdict = validate::decide(
        product,
        record,
        view,
        gate.channel,
        ctx.schema,
        gate.answers,
    );
    let channel = gate.channel.1;
    let Some(item) = item.filter(|_| verdict.included) else {
        return Ok((verdict, None));
    };
    if !renderer.passes_filter(item)? {
        verdict.included = false;
        verdict.reasons.push(Reason::new(
            "filter",
            format!(
                "left out by the channel filter `{}`",
                channel.filter.as_deref().unwrap_or_default()
            ),
        ));
        return Ok((verdict, None));
    }
    let bytes = if render_item {
        Some(renderer.item(product, item, ctx)?)
    } else {
        None
    };
    Ok((verdict, bytes))
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::pipeline::prepare::Prepared;
    use crate::pipeline::{Build, Mode, erp_pull};

    /// The example catalog's English channels are a price list in euros (Tera columns) and
    /// Google UK in pounds: they share the view's Markdown and attributes, but each currency's
    /// item has the template context of its own channel only.
    #[test]
    fn each_currency_of_a_locale_has_the_template_context_of_its_own_channels() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let (prepared, _) = Prepared::load(root, Mode::Check).unwrap();
        let renderers = prepared.renderers().unwrap();
        let files = prepared.product_files(false).unwrap().0;
        let (records, _) = erp_pull::pull_erp(&prepared.config, root).unwrap();
        let build = Build::new(&prepared, &renderers, &files, &records);
        let needs = SharedNeeds::new(&prepared.channels, &renderers, build.merge.schema);
        let index = |name: &str| prepared.channels.iter().position(|c| c.name == name);
        let (uk, prices) = (index("google-uk").unwrap(), index("pricelist").unwrap());
        assert_eq!(needs.locale_of_channel[uk], needs.locale_of_channel[prices]);
        let own = |index: usize| ContextNeeds::none().union(renderers[index].context_needs());
        assert_eq!(needs.context_of_channel(uk), &own(uk));
        assert_eq!(needs.context_of_channel(prices), &own(prices));
        assert_ne!(own(uk), own(prices));
    }
}
