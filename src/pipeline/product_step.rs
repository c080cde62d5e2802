//! The per-product step: merge, gate and render one product, for the build and for `diff`.

use std::collections::HashMap;

use crate::channels::Channel;
use crate::content::Product;
use crate::erp::ErpRecord;
use crate::merge::{self, AttributeNeeds, MarkdownNeeds, MergeContext};
use crate::render::{ChannelRenderer, ContextNeeds, Item, RenderError};
use crate::validate;
use crate::verdict::{Reason, Verdict};

/// The gate's verdict on a product in one channel, and its feed item when it is in.
pub(crate) type Gated = (Verdict, Option<Vec<u8>>);

/// Merges, gates and renders one product for every channel.
pub(crate) fn process_product(
    product: &Product,
    channels: &[Channel],
    renderers: &[ChannelRenderer<'_>],
    by_sku: &HashMap<&str, &ErpRecord>,
    ctx: &MergeContext<'_>,
    render_items: bool,
) -> Result<Vec<Gated>, RenderError> {
    let record = by_sku.get(product.sku.as_str()).copied();
    // One view per locale for the channels without overrides for this product; the view (and
    // its Markdown and template context) is the costly part, the gate and render are cheap.
    // Channels in another currency see other prices: one view per locale and currency, the
    // second currency of a locale a copy of the first with its own ERP numbers (the Markdown,
    // the costly part, is the same).
    fn key(channel: &Channel) -> (&str, &str) {
        (channel.locale.as_str(), channel.currency.as_str())
    }
    let mut shared: Vec<((&str, &str), Item)> = Vec::new();
    if let Some(record) = record {
        for (channel, _) in channels.iter().zip(renderers) {
            let (locale, currency) = key(channel);
            if product.channels.contains_key(&channel.name)
                || shared.iter().any(|(k, _)| *k == (locale, currency))
            {
                continue;
            }
            let sharing = || {
                channels
                    .iter()
                    .zip(renderers)
                    .filter(|(c, _)| c.locale == locale)
            };
            let context_needs = sharing().fold(ContextNeeds::none(), |all, (_, r)| {
                all.union(r.context_needs())
            });
            if let Some((_, item)) = shared.iter().find(|((l, _), _)| *l == locale) {
                let mut view = item.view.clone();
                view.erp = merge::ErpView::new(record, &ctx.catalog.currency, currency);
                shared.push(((locale, currency), Item::new(view, context_needs)));
                continue;
            }
            let needs = sharing().fold(MarkdownNeeds::default(), |all, (_, r)| {
                all.union(r.markdown_needs())
            });
            let attribute_needs = sharing().fold(AttributeNeeds::none(), |all, (_, r)| {
                all.union(r.attribute_needs())
            });
            shared.push((
                (locale, currency),
                Item::new(
                    merge::view(product, record, channel, ctx, needs, &attribute_needs),
                    context_needs,
                ),
            ));
        }
    }
    let mut gated = channels
        .iter()
        .zip(renderers)
        .map(|(channel, renderer)| {
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
            gate_and_render_item(product, record, item, channel, renderer, ctx, render_items)
        })
        .collect::<Result<Vec<Gated>, RenderError>>()?;
    validate::follow_primaries(channels, &mut gated);
    Ok(gated)
}

/// A product's item in one channel, its view built for what that channel's renderer reads.
fn own_item(
    product: &Product,
    record: &ErpRecord,
    channel: &Channel,
    renderer: &ChannelRenderer<'_>,
    ctx: &MergeContext<'_>,
) -> Item {
    Item::new(
        merge::view(
            product,
            record,
            channel,
            ctx,
            renderer.markdown_needs(),
            renderer.attribute_needs(),
        ),
        renderer.context_needs().clone(),
    )
}

/// Merges, gates and renders one product for one channel (for `pimfeed diff`, which renders a
/// channel at a time).
pub(crate) fn gate_and_render(
    product: &Product,
    channel: &Channel,
    renderer: &ChannelRenderer<'_>,
    by_sku: &HashMap<&str, &ErpRecord>,
    ctx: &MergeContext<'_>,
    render_item: bool,
) -> Result<Gated, RenderError> {
    let record = by_sku.get(product.sku.as_str()).copied();
    let item = record.map(|record| own_item(product, record, channel, renderer, ctx));
    gate_and_render_item(
        product,
        record,
        item.as_ref(),
        channel,
        renderer,
        ctx,
        render_item,
    )
}

pub(crate) fn gate_and_render_item(
    product: &Product,
    record: Option<&ErpRecord>,
    item: Option<&Item>,
    channel: &Channel,
    renderer: &ChannelRenderer<'_>,
    ctx: &MergeContext<'_>,
    render_item: bool,
) -> Result<Gated, RenderError> {
    let mut verdict = validate::decide(product, record, item.map(|i| &i.view), channel, ctx.schema);
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
