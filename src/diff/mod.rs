//! `pimfeed diff`: what a change does to each channel's feed, before it is merged.
//!
//! Both revisions are loaded through the same stages as `check` (config, content, channels,
//! gate, render) and merged with the same ERP numbers, so the only differences are the
//! content's. Each channel's items are rendered in memory on both sides and compared per
//! product: products that become live, that drop out (with the gate's reasons, blamed), and
//! items whose rendered fields change. One channel at a time, so memory holds two renderings
//! of one feed, never of the whole catalog.

pub mod fields;
pub mod render;

use std::collections::HashMap;
use std::path::Path;

use rayon::prelude::*;
use serde::Serialize;

use crate::channels::Channel;
use crate::config::{ChannelFormat, Config};
use crate::content::{self, CatalogSource, Content};
use crate::diagnostics::Diagnostic;
use crate::erp::RecordsBySku;
use crate::git::blame::Blamer;
use crate::merge::MergeContext;
use crate::pipeline::{self, ErpPull, Failure};
use crate::render::{BuildView, ChannelRenderer, RenderError};
use crate::report::blame;
use crate::validate::Requirements;
use crate::verdict::{Reason, Verdict};

pub use fields::FieldChange;

/// What changes in every channel between two revisions of the catalog.
#[derive(Debug, Serialize)]
pub struct Diff {
    pub base: SideInfo,
    pub head: SideInfo,
    /// The one ERP pull both sides were merged with.
    pub erp: ErpPull,
    pub channels: Vec<ChannelDiff>,
    /// Errors in the head's content: the products in those files drop out everywhere.
    pub head_errors: Vec<Diagnostic>,
}

#[derive(Debug, Serialize)]
pub struct SideInfo {
    /// `main (3f2a1bc)` or `working tree`.
    pub label: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revision: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct ChannelDiff {
    pub name: String,
    pub output: String,
    pub format: ChannelFormat,
    /// `same` (in both pim.toml), `added` (only in the head's) or `removed` (only in the base's).
    pub status: &'static str,
    pub items_before: usize,
    pub items_after: usize,
    /// Products in the head's feed that were not in the base's, with the reasons they were
    /// left out before (none for a product that is new).
    pub becomes_live: Vec<ProductChange>,
    /// Products in the base's feed that are not in the head's, with the reasons why.
    pub drops_out: Vec<ProductChange>,
    /// Products in both feeds whose item changes.
    pub changed: Vec<ItemChange>,
}

impl ChannelDiff {
    pub fn is_empty(&self) -> bool {
        self.status == "same"
            && self.becomes_live.is_empty()
            && self.drops_out.is_empty()
            && self.changed.is_empty()
    }
}

#[derive(Debug, Serialize)]
pub struct ProductChange {
    pub sku: String,
    pub file: String,
    pub line: u32,
    /// Whether the base had content for this SKU at all.
    pub new: bool,
    pub reasons: Vec<Reason>,
}

#[derive(Debug, Serialize)]
pub struct ItemChange {
    pub sku: String,
    pub file: String,
    pub line: u32,
    pub fields: Vec<FieldChange>,
}

impl Diff {
    pub fn is_empty(&self) -> bool {
        self.channels.iter().all(ChannelDiff::is_empty)
    }
}

/// Why a diff could not be made.
#[derive(Debug, thiserror::Error)]
pub enum DiffError {
    #[error(transparent)]
    Revision(#[from] crate::git::revision::RevisionError),
    #[error("the {side}: {failure}")]
    Side { side: String, failure: Failure },
}

/// One side of the diff: a catalog loaded and checked, not yet merged.
pub struct Side {
    pub source: CatalogSource,
    pub config: Config,
    pub content: Content,
    pub channels: Vec<Channel>,
}

impl Side {
    pub fn load(source: CatalogSource) -> Result<Side, DiffError> {
        let side_error = |failure| DiffError::Side {
            side: source.label(),
            failure,
        };
        let config = pipeline::load_config_from(&source).map_err(side_error)?;
        let content = content::load_from(&source, &config)
            .map_err(|diagnostics| side_error(Failure::Schema(diagnostics)))?;
        let channels = crate::channel_resolution::resolve_from(&config, &content.schema, &source)
            .map_err(|problems| side_error(Failure::Channels(problems)))?;
        Ok(Side {
            source,
            config,
            content,
            channels,
        })
    }

    fn info(&self) -> SideInfo {
        match &self.source {
            CatalogSource::Dir(_) => SideInfo {
                label: self.source.label(),
                revision: None,
                commit: None,
            },
            CatalogSource::Revision(revision) => SideInfo {
                label: self.source.label(),
                revision: Some(revision.name.clone()),
                commit: Some(revision.commit.clone()),
            },
        }
    }
}

/// Compares revision `base` with `head` (a revision, or the working tree when `None`) of
/// the catalog at `root`.
pub fn run(root: &Path, base: &str, head: Option<&str>) -> Result<Diff, DiffError> {
    let base = Side::load(CatalogSource::Revision(crate::git::revision::load(
        root, base,
    )?))?;
    let head = match head {
        Some(name) => CatalogSource::Revision(crate::git::revision::load(root, name)?),
        None => CatalogSource::dir(root),
    };
    let head = Side::load(head)?;
    compare(root, &base, &head)
}

/// Compares two loaded sides, merging both with the ERP numbers the head's `pim.toml` pulls.
pub fn compare(root: &Path, base: &Side, head: &Side) -> Result<Diff, DiffError> {
    let head_error = |failure| DiffError::Side {
        side: head.source.label(),
        failure,
    };
    let (records, pull) = pipeline::pull_erp(&head.config, root).map_err(head_error)?;
    let by_sku = RecordsBySku::new(&records);
    // One fixed time, so a template that prints `build.time` does not change every item.
    let build = BuildView {
        time: "1970-01-01T00:00:00Z",
    };
    let mut blamer = Blamer::new(&head.source, root);

    let mut names: Vec<&str> = head.channels.iter().map(|c| c.name.as_str()).collect();
    for channel in &base.channels {
        if !names.contains(&channel.name.as_str()) {
            names.push(&channel.name);
        }
    }
    let mut channels = Vec::with_capacity(names.len());
    for name in names {
        let erp = ErpSide {
            by_sku: &by_sku,
            build: &build,
        };
        channels.push(compare_channel(name, base, head, &erp, &mut blamer)?);
    }
    let head_errors = head
        .content
        .diagnostics
        .iter()
        .filter(|d| d.is_error())
        .cloned()
        .collect();
    Ok(Diff {
        base: base.info(),
        head: head.info(),
        erp: pull,
        channels,
        head_errors,
    })
}

/// The ERP records both sides are rendered with, and the one build time they share.
struct ErpSide<'a> {
    by_sku: &'a RecordsBySku<'a>,
    build: &'a BuildView<'a>,
}

/// One channel of both sides: the items that change, become live or drop out.
fn compare_channel(
    name: &str,
    base: &Side,
    head: &Side,
    erp: &ErpSide,
    blamer: &mut Option<Blamer>,
) -> Result<ChannelDiff, DiffError> {
    let base_channel = base.channels.iter().find(|c| c.name == name);
    let head_channel = head.channels.iter().find(|c| c.name == name);
    let render = |side: &Side, channel: Option<&Channel>| -> Result<Feed, DiffError> {
        match channel {
            Some(channel) => render_feed(side, channel, erp.by_sku, erp.build).map_err(|failure| {
                DiffError::Side {
                    side: side.source.label(),
                    failure,
                }
            }),
            None => Ok(Feed::default()),
        }
    };
    let before = render(base, base_channel)?;
    let after = render(head, head_channel)?;
    let channel = head_channel
        .or(base_channel)
        .expect("the name is from one side");
    let mut diff = ChannelDiff {
        name: name.to_string(),
        output: channel.output.clone(),
        format: channel.format(),
        status: match (base_channel, head_channel) {
            (Some(_), Some(_)) => "same",
            (None, _) => "added",
            (_, None) => "removed",
        },
        items_before: before.items.len(),
        items_after: after.items.len(),
        becomes_live: Vec::new(),
        drops_out: Vec::new(),
        changed: Vec::new(),
    };
    changed_and_live(&mut diff, channel.format(), base, head, (&before, &after));
    dropped_out(
        &mut diff,
        base,
        head,
        (&before, &after),
        head_channel.is_some(),
        blamer,
    );
    Ok(diff)
}

/// Items of the head that differ from the base's, and products that become live.
fn changed_and_live(
    diff: &mut ChannelDiff,
    format: ChannelFormat,
    base: &Side,
    head: &Side,
    (before, after): (&Feed, &Feed),
) {
    let before_items: HashMap<&str, &[u8]> = before
        .items
        .iter()
        .map(|(index, bytes)| (base.content.products[*index].sku.as_str(), bytes.as_slice()))
        .collect();
    let base_products: HashMap<&str, &content::Product> = base
        .content
        .products
        .iter()
        .map(|p| (p.sku.as_str(), p))
        .collect();

    for (index, bytes) in &after.items {
        let product = &head.content.products[*index];
        match before_items.get(product.sku.as_str()) {
            Some(old) if *old == bytes.as_slice() => {}
            Some(old) => {
                let old_fields = fields::item_fields(format, &before.header, old);
                let new_fields = fields::item_fields(format, &after.header, bytes);
                let mut changes = fields::changes(&old_fields, &new_fields);
                if changes.is_empty() {
                    // Same fields, different bytes (whitespace): still say something.
                    changes.push(FieldChange {
                        field: "item".into(),
                        before: Some(String::from_utf8_lossy(old).trim().to_string()),
                        after: Some(String::from_utf8_lossy(bytes).trim().to_string()),
                    });
                }
                diff.changed.push(ItemChange {
                    sku: product.sku.clone(),
                    file: product.file.to_string(),
                    line: product.line,
                    fields: changes,
                });
            }
            None => {
                let was = base_products.get(product.sku.as_str());
                let reasons = before
                    .left_out
                    .get(product.sku.as_str())
                    .cloned()
                    .unwrap_or_default();
                diff.becomes_live.push(ProductChange {
                    sku: product.sku.clone(),
                    file: product.file.to_string(),
                    line: product.line,
                    new: was.is_none(),
                    reasons,
                });
            }
        }
    }
}

/// Products of the base that the head's channel no longer has, with why.
fn dropped_out(
    diff: &mut ChannelDiff,
    base: &Side,
    head: &Side,
    (before, after): (&Feed, &Feed),
    head_has_channel: bool,
    blamer: &mut Option<Blamer>,
) {
    let after_items: HashMap<&str, usize> = after
        .items
        .iter()
        .map(|(index, _)| (head.content.products[*index].sku.as_str(), *index))
        .collect();
    for (index, _) in &before.items {
        let product = &base.content.products[*index];
        if after_items.contains_key(product.sku.as_str()) {
            continue;
        }
        let mut change = match after.left_out.get(product.sku.as_str()) {
            Some(reasons) => {
                let now = head
                    .content
                    .products
                    .iter()
                    .find(|p| p.sku == product.sku)
                    .unwrap_or(product);
                ProductChange {
                    sku: product.sku.clone(),
                    file: now.file.to_string(),
                    line: now.line,
                    new: false,
                    reasons: reasons.clone(),
                }
            }
            None if !head_has_channel => ProductChange {
                sku: product.sku.clone(),
                file: product.file.to_string(),
                line: product.line,
                new: false,
                reasons: vec![Reason::new(
                    "channel-removed",
                    format!("channel `{}` is no longer in pim.toml", diff.name),
                )],
            },
            None => absent(head, product),
        };
        if let Some(blamer) = blamer.as_mut() {
            blame::annotate_reasons(blamer, &change.file, change.line, &mut change.reasons);
        }
        diff.drops_out.push(change);
    }
}

/// Why a product of the base has no product in the head: its file is broken, or gone.
fn absent(head: &Side, product: &content::Product) -> ProductChange {
    let quoted = format!("\"{}\"", product.sku);
    let broken = head.content.broken_files.iter().find(|file| {
        file.to_string_lossy() == *product.file
            || head
                .source
                .read_to_string(file)
                .is_ok_and(|text| text.contains(&quoted))
    });
    if let Some(file) = broken {
        let error = head
            .content
            .diagnostics
            .iter()
            .find(|d| d.is_error() && &d.file == file);
        let mut reason = Reason::new(
            "content-error",
            format!(
                "{} has errors{}",
                file.display(),
                error
                    .map(|e| format!(": {}", e.message))
                    .unwrap_or_default()
            ),
        );
        reason.line = error.map(|e| e.line as u32).filter(|l| *l > 0);
        return ProductChange {
            sku: product.sku.clone(),
            file: file.to_string_lossy().into_owned(),
            line: reason.line.unwrap_or(0),
            new: false,
            reasons: vec![reason],
        };
    }
    ProductChange {
        sku: product.sku.clone(),
        file: product.file.to_string(),
        line: product.line,
        new: false,
        reasons: vec![Reason::new(
            "no-content",
            format!("no content file defines `{}` any more", product.sku),
        )],
    }
}

/// One channel's feed as one side renders it, in memory.
#[derive(Default)]
struct Feed {
    header: Vec<u8>,
    /// Products in the feed, in feed order: index into the side's products, item bytes.
    items: Vec<(usize, Vec<u8>)>,
    /// SKU → why it is left out.
    left_out: HashMap<String, Vec<Reason>>,
}

fn render_feed(
    side: &Side,
    channel: &Channel,
    by_sku: &RecordsBySku<'_>,
    build: &BuildView<'_>,
) -> Result<Feed, Failure> {
    let renderer =
        ChannelRenderer::from_source(channel, &side.config.catalog, build, &side.source)?;
    let ctx = MergeContext {
        catalog: &side.config.catalog,
        schema: &side.content.schema,
        categories: &side.content.categories,
    };
    let requirements = Requirements::new(std::slice::from_ref(channel), ctx.schema);
    let mut header = Vec::new();
    renderer.header(&ctx, &mut header)?;
    // In order, so a failing template always names the first product it fails on.
    let results: Vec<Result<pipeline::Gated, RenderError>> = side
        .content
        .products
        .par_iter()
        .map(|product| {
            pipeline::gate_and_render(
                product,
                channel,
                &requirements,
                &renderer,
                by_sku,
                &ctx,
                true,
            )
        })
        .collect();
    let results: Vec<(Verdict, Option<Vec<u8>>)> =
        results.into_iter().collect::<Result<_, RenderError>>()?;
    let mut feed = Feed {
        header,
        ..Feed::default()
    };
    for (index, (verdict, bytes)) in results.into_iter().enumerate() {
        match bytes {
            Some(bytes) if verdict.included => feed.items.push((index, bytes)),
            _ => {
                feed.left_out
                    .insert(side.content.products[index].sku.clone(), verdict.reasons);
            }
        }
    }
    Ok(feed)
}
