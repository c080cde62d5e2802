//! Rendering one channel's feed: a header, one chunk per product, a footer.
//!
//! Items are rendered independently (so in parallel) and written in catalog order, which
//! keeps memory bounded by a batch, not by the feed. Escaping belongs to the format: XML and
//! JSON templates get an escape function for their format on every `{{ }}`, CSV cells are
//! written by the `csv` crate, and content is only ever data, never a template.

mod context;
mod reads;
mod writer;

pub use context::ContextNeeds;

pub use writer::{FeedPart, FeedWriter, ItemSpan, LastFeed};

use crate::channels::expression::{Wrap, explain};

use std::io::Write;
use std::path::Path;

use serde::Serialize;
use tera::{Context, Tera};

use crate::channels::{Channel, ChannelKind, ChannelView};
use crate::config::{CatalogConfig, ChannelFormat};
use crate::content::{CatalogSource, Product};
use crate::diagnostics::error_chain;
use crate::merge::{AttributeNeeds, MarkdownNeeds, MergeContext, ProductView};
use crate::presets::Preset;
use crate::presets::PresetDef;
use crate::text::escape;

const FILTER_TEMPLATE: &str = "__pimfeed_filter";
const COLUMN_PREFIX: &str = "__pimfeed_column_";

/// A rendering problem: a template that does not parse, or fails on a product.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error("channel `{channel}`: {message}")]
    Template { channel: String, message: String },
    #[error("channel `{channel}`, product `{sku}`: {message}")]
    Item {
        channel: String,
        sku: String,
        message: String,
    },
    #[error("channel `{channel}`: cannot write the feed: {source}")]
    Io {
        channel: String,
        source: std::io::Error,
    },
}

/// Global values every template sees.
#[derive(Debug, Serialize)]
pub struct BuildView<'a> {
    pub time: &'a str,
}

#[derive(Debug, Serialize)]
struct CatalogView<'a> {
    name: &'a str,
    base_url: &'a str,
    locales: &'a [String],
    currency: &'a str,
}

/// Renders one channel. Holds the channel's own `Tera` (its escape function is per format).
pub struct ChannelRenderer<'a> {
    channel: &'a Channel,
    tera: Tera,
    body: Body,
    markdown_needs: MarkdownNeeds,
    attribute_needs: AttributeNeeds,
    context_needs: ContextNeeds,
    /// What the channel's filter reads alone: a channel whose items are written natively
    /// decides its filter on this much of the view, not on the whole template context.
    filter_needs: ContextNeeds,
    /// Whether a template reads `build` (the build time), so an item differs from build to
    /// build whatever its product.
    reads_build: bool,
    /// Everything the channel's templates and expressions say, for the build cache's
    /// fingerprint.
    sources: String,
    /// The preset's built-in template, not overridden: the preset may write its items
    /// natively (the Google presets do), the same bytes without Tera's per-item cost.
    builtin_template: bool,
}

enum Body {
    /// A template with `header`, `item` and `footer` blocks.
    Template {
        name: String,
        /// The name of the item block's template, made once rather than for every item.
        item_template: String,
        format: ChannelFormat,
    },
    Columns {
        headers: Vec<String>,
        /// The name of each column's template, in the order of `headers`.
        templates: Vec<String>,
    },
    /// A preset's own writer.
    Native(&'static dyn PresetDef),
}

impl<'a> ChannelRenderer<'a> {
    pub fn new(
        channel: &'a Channel,
        catalog: &CatalogConfig,
        build: &BuildView<'_>,
        root: &Path,
    ) -> Result<Self, RenderError> {
        Self::from_source(channel, catalog, build, &CatalogSource::dir(root))
    }

    /// [`ChannelRenderer::new`], with templates read from `source` (the working tree or a
    /// git revision, for `pimfeed diff`).
    pub fn from_source(
        channel: &'a Channel,
        catalog: &CatalogConfig,
        build: &BuildView<'_>,
        source: &CatalogSource,
    ) -> Result<Self, RenderError> {
        let template_error = |message: String| RenderError::Template {
            channel: channel.name.clone(),
            message,
        };
        let mut tera = Tera::new();
        match channel.format() {
            ChannelFormat::Xml => tera.set_escape_fn(escape::xml_escape_fn),
            ChannelFormat::Json | ChannelFormat::Jsonl => {
                tera.set_escape_fn(escape::json_string_escape_fn)
            }
            // Only a preset's CSV template override is a template; every value in it becomes
            // one quoted cell.
            ChannelFormat::Csv if channel.formula_guard => {
                tera.set_escape_fn(escape::csv_guarded_field_escape_fn)
            }
            ChannelFormat::Csv => tera.set_escape_fn(escape::csv_field_escape_fn),
        }
        // Every template of an XML or JSON channel, and of a CSV preset's override, is
        // escaped, whatever its file name. Custom CSV columns are cells the csv crate writes.
        if matches!(channel.kind, ChannelKind::Columns(_)) {
            tera.autoescape_on(Vec::<&str>::new());
        } else {
            tera.autoescape_on([""]);
        }
        let global = tera.global_context();
        global.insert(
            "catalog",
            &CatalogView {
                name: &catalog.name,
                base_url: &catalog.base_url,
                locales: &catalog.locales,
                currency: &catalog.currency,
            },
        );
        global.insert("channel", &ChannelView::from(channel));
        global.insert("build", build);

        let mut builtin_template = false;
        // What the templates, filter and columns read; a preset's own code adds attributes.
        let mut reads = reads::Reads::none();
        // Everything the channel's templates and expressions say, to see what they read.
        let mut sources = channel.filter.clone().unwrap_or_default();
        // Files a preset's settings name (Amazon's product type definitions) change verdicts:
        // the build cache must see them.
        sources.push_str(&channel.settings.fingerprint());
        let body = match &channel.kind {
            ChannelKind::Template { format, template } => {
                let path = Path::new("templates").join(template);
                let text = source.read_to_string(&path).map_err(|err| {
                    template_error(format!("cannot read {}: {err}", path.display()))
                })?;
                add_template(&mut tera, template, &text, channel)?;
                reads = reads::template_reads(&text);
                sources.push_str(&text);
                Body::Template {
                    name: template.clone(),
                    item_template: block_template(template, "item"),
                    format: *format,
                }
            }
            ChannelKind::Preset(preset) => {
                let preset =
                    Preset::from_id(*preset).expect("a channel's preset is in the registry");
                let name = preset.template_name();
                let override_path = Path::new("templates").join(&name);
                let text = if source.is_file(&override_path) {
                    Some(source.read_to_string(&override_path).map_err(|err| {
                        template_error(format!("cannot read {}: {err}", override_path.display()))
                    })?)
                } else {
                    preset.def().builtin_template().map(str::to_string)
                };
                builtin_template = !source.is_file(&override_path);
                match text {
                    Some(text) => {
                        add_template(&mut tera, &name, &text, channel)?;
                        reads = reads::template_reads(&text);
                        sources.push_str(&text);
                        Body::Template {
                            item_template: block_template(&name, "item"),
                            name,
                            format: preset.format(),
                        }
                    }
                    None => Body::Native(preset.def()),
                }
            }
            ChannelKind::Columns(columns) => {
                let mut templates = Vec::with_capacity(columns.len());
                for (index, (header, expression)) in columns.iter().enumerate() {
                    reads = reads.union(&reads::expression_reads(expression));
                    sources.push_str(expression);
                    let name = format!("{COLUMN_PREFIX}{index}");
                    tera.add_raw_template(&name, &Wrap::Value.template(expression))
                        .map_err(|err| {
                            let why = explain(&error_chain(&err), expression, Wrap::Value);
                            template_error(format!("column `{header}`: {why}"))
                        })?;
                    templates.push(name);
                }
                Body::Columns {
                    headers: columns.iter().map(|(h, _)| h.clone()).collect(),
                    templates,
                }
            }
        };
        let mut filter_needs = ContextNeeds::none();
        if let Some(filter) = &channel.filter {
            let filter_reads = reads::expression_reads(filter);
            filter_needs = filter_reads.context.clone();
            reads = reads.union(&filter_reads);
            tera.add_raw_template(
                FILTER_TEMPLATE,
                &format!("{{% if {filter} %}}true{{% endif %}}"),
            )
            .map_err(|err| {
                let why = explain(&error_chain(&err), filter, Wrap::Condition);
                template_error(format!("filter: {why}"))
            })?;
        }
        // Templates and column expressions are read for what they use; built-in bodies say it.
        let markdown_needs = match body {
            Body::Template { .. } | Body::Columns { .. } => MarkdownNeeds {
                html: sources.contains("description_html"),
                text: sources.contains("description_text"),
            },
            Body::Native(preset) => preset.markdown_needs(),
        };
        let markdown_needs = MarkdownNeeds {
            // A gate may measure the plain text even when an override template skips it.
            text: markdown_needs.text
                || Preset::of(channel).is_some_and(|p| p.def().gate_reads_plain_text()),
            ..markdown_needs
        };
        // A preset's gate and native writer read attributes of their own.
        let attribute_needs = match Preset::of(channel) {
            Some(preset) => reads
                .attributes
                .union(&preset.def().attributes_read(channel)),
            None => reads.attributes,
        };
        Ok(Self {
            channel,
            tera,
            body,
            markdown_needs,
            attribute_needs,
            context_needs: reads.context,
            filter_needs,
            reads_build: reads_build(&sources),
            sources,
            builtin_template,
        })
    }

    /// Whether this channel's templates read the build's own values (its time), which change
    /// every build: the build cache cannot keep such a channel's items.
    /// Whether every item this renderer writes is whole on its own by construction (see
    /// [`crate::feed_fragments`]): true unless the items come from a template of the user's,
    /// which may open an element in one item and close it in the next.
    pub fn items_whole_by_construction(&self) -> bool {
        match self.body {
            Body::Template { .. } => self.builtin_template,
            Body::Columns { .. } | Body::Native(_) => true,
        }
    }

    /// The format of the channel's feed.
    pub fn format(&self) -> crate::config::ChannelFormat {
        self.channel.format()
    }

    pub fn reads_build(&self) -> bool {
        self.reads_build
    }

    /// The text of the channel's templates, filter and column expressions.
    pub fn sources(&self) -> &str {
        &self.sources
    }

    /// What of the Markdown description this channel's templates and gate read.
    pub fn markdown_needs(&self) -> MarkdownNeeds {
        self.markdown_needs
    }

    /// What this channel's templates, expressions, gate and writer read of the attributes.
    pub fn attribute_needs(&self) -> &AttributeNeeds {
        &self.attribute_needs
    }

    /// What this channel's templates and expressions read of the template context.
    pub fn context_needs(&self) -> &ContextNeeds {
        &self.context_needs
    }

    /// Whether the channel's `filter` lets this product through.
    pub fn passes_filter(&self, item: &Item<'_>) -> Result<bool, RenderError> {
        if self.channel.filter.is_none() {
            return Ok(true);
        }
        // A channel written natively needs nothing of the template context but what its
        // filter reads, unless another channel has built the item's whole context already.
        let own;
        let context = match item.built_context() {
            Some(context) => context,
            None if self.writes_natively() => {
                own = self.filter_needs.context(&item.view);
                &own
            }
            None => item.context(),
        };
        let out = self
            .tera
            .render(FILTER_TEMPLATE, context)
            .map_err(|err| self.filter_error(item, &err))?;
        Ok(out == "true")
    }

    pub fn header(&self, ctx: &MergeContext<'_>, out: &mut dyn Write) -> Result<(), RenderError> {
        match &self.body {
            Body::Template { name, format, .. } => {
                let text = self
                    .tera
                    .render(&block_template(name, "header"), &Context::new())
                    .map_err(|err| self.template_error(&err))?;
                out.write_all(&line_block(text, *format))
                    .map_err(|e| self.io(e))
            }
            Body::Columns { headers, .. } => self.write_csv_row(out, headers),
            Body::Native(preset) => preset
                .header(ctx, self.channel, out)
                .map_err(|e| self.io(e)),
        }
    }

    /// Bytes between two items.
    pub fn separator(&self) -> &'static [u8] {
        match self.body {
            Body::Template {
                format: ChannelFormat::Json,
                ..
            } => b",",
            Body::Native(preset) => preset.separator(),
            _ => b"",
        }
    }

    /// One product's part of the feed.
    pub fn item(
        &self,
        product: &Product,
        item: &Item<'_>,
        ctx: &MergeContext<'_>,
    ) -> Result<Vec<u8>, RenderError> {
        let view = &item.view;
        let mut out = Vec::with_capacity(1024);
        match &self.body {
            Body::Template {
                item_template,
                format,
                ..
            } => {
                out = match self.native_item(view) {
                    Some(bytes) => bytes,
                    None => {
                        let text = self
                            .tera
                            .render(item_template, item.context())
                            .map_err(|err| self.item_error(view, error_chain(&err)))?;
                        line_block(text, *format)
                    }
                };
            }
            Body::Columns { headers, templates } => {
                let context = item.context();
                let mut cells = Vec::with_capacity(headers.len());
                for (index, (header, template)) in headers.iter().zip(templates).enumerate() {
                    let cell = self
                        .tera
                        .render(template, context)
                        .map_err(|err| self.column_error(view, index, header, &err))?;
                    cells.push(cell);
                }
                self.write_csv_row(&mut out, &cells)?;
            }
            Body::Native(preset) => preset
                .item(product, view, ctx, self.channel, &mut out)
                .map_err(|e| self.io(e))?,
        }
        Ok(out)
    }

    /// Whether the items are written without Tera: by the preset's own writer, or by the
    /// native twin of its built-in template (which falls back to the template only for an
    /// item it cannot write).
    fn writes_natively(&self) -> bool {
        match self.body {
            Body::Native(_) => true,
            Body::Template { .. } => self.builtin_template,
            Body::Columns { .. } => false,
        }
    }

    /// The item written without Tera, when the channel has a native writer that can.
    fn native_item(&self, view: &ProductView) -> Option<Vec<u8>> {
        if !self.builtin_template {
            return None;
        }
        Preset::of(self.channel)?
            .def()
            .builtin_template_item(view, self.channel)
    }

    /// Writes one rendered item, as its preset writes items into a file (Amazon numbers its
    /// messages here, counting from 1 in every file).
    pub fn write_item(
        &self,
        out: &mut dyn Write,
        number_in_file: usize,
        bytes: &[u8],
    ) -> std::io::Result<()> {
        match Preset::of(self.channel) {
            Some(preset) => preset.def().write_item(out, number_in_file, bytes),
            None => out.write_all(bytes),
        }
    }

    /// The inverse of [`ChannelRenderer::write_item`]: an item as rendered, from its bytes
    /// in a feed.
    pub fn rendered_from_written<'b>(&self, written: &'b [u8]) -> std::borrow::Cow<'b, [u8]> {
        match Preset::of(self.channel) {
            Some(preset) => preset.def().rendered_from_written(written),
            None => written.into(),
        }
    }

    pub fn footer(&self, out: &mut dyn Write) -> Result<(), RenderError> {
        match &self.body {
            Body::Template { name, format, .. } => {
                let text = self
                    .tera
                    .render(&block_template(name, "footer"), &Context::new())
                    .map_err(|err| self.template_error(&err))?;
                out.write_all(&line_block(text, *format))
                    .map_err(|e| self.io(e))
            }
            Body::Native(preset) => preset.footer(self.channel, out).map_err(|e| self.io(e)),
            Body::Columns { .. } => Ok(()),
        }
    }

    /// Whether a feed without items is left unwritten (Amazon refuses an empty document).
    pub fn skips_empty_document(&self) -> bool {
        Preset::of(self.channel).is_some_and(|p| p.def().refuses_empty_document().is_some())
    }

    /// At most this many items per file (Amazon's 10,000 messages); the pipeline starts a
    /// new file, with its own header and footer, when one is full.
    pub fn items_per_file(&self) -> Option<usize> {
        crate::presets::items_per_file(self.channel)
    }

    /// A custom CSV channel's row; its cells are guarded against formulas unless the channel
    /// says otherwise.
    fn write_csv_row<S: AsRef<str>>(
        &self,
        out: &mut dyn Write,
        cells: &[S],
    ) -> Result<(), RenderError> {
        crate::presets::write_csv_row(
            out,
            cells,
            csv::QuoteStyle::Necessary,
            self.channel.formula_guard,
        )
        .map_err(|e| self.io(e))
    }

    fn template_error(&self, err: &tera::Error) -> RenderError {
        RenderError::Template {
            channel: self.channel.name.clone(),
            message: error_chain(err),
        }
    }

    /// The channel's filter failed on a product: the user's expression and its line, not the
    /// template pimfeed wraps it in.
    fn filter_error(&self, item: &Item<'_>, err: &tera::Error) -> RenderError {
        let filter = self.channel.filter.as_deref().unwrap_or_default();
        let place = match self.channel.filter_line {
            Some(line) => format!(" (pim.toml line {line})"),
            None => String::new(),
        };
        let why = explain(&error_chain(err), filter, Wrap::Condition);
        self.item_error(&item.view, format!("filter{place}: {why}"))
    }

    /// A CSV column's expression failed on a product: the user's expression, not the
    /// template pimfeed wraps it in.
    fn column_error(
        &self,
        view: &ProductView,
        index: usize,
        header: &str,
        err: &tera::Error,
    ) -> RenderError {
        let expression = match &self.channel.kind {
            ChannelKind::Columns(columns) => columns.get(index).map(|(_, e)| e.as_str()),
            _ => None,
        };
        let why = match expression {
            Some(expression) => explain(&error_chain(err), expression, Wrap::Value),
            None => error_chain(err),
        };
        self.item_error(view, format!("column `{header}`: {why}"))
    }

    fn item_error(&self, view: &ProductView, message: String) -> RenderError {
        RenderError::Item {
            channel: self.channel.name.clone(),
            sku: view.sku.clone(),
            message,
        }
    }

    fn io(&self, source: std::io::Error) -> RenderError {
        RenderError::Io {
            channel: self.channel.name.clone(),
            source,
        }
    }
}

/// Whether Tera source reads the `build` variable (the build time) where it renders items or
/// decides the filter, comments aside. The header and footer may read it freely: they are
/// rendered anew every build.
fn reads_build(source: &str) -> bool {
    static COMMENT: std::sync::LazyLock<regex::Regex> =
        std::sync::LazyLock::new(|| regex::Regex::new(r"(?s)\{#.*?#\}").expect("a valid regex"));
    static HEADER_OR_FOOTER: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(
            r"(?s)\{%-?\s*block\s+(header|footer)\s*-?%\}.*?\{%-?\s*endblock(\s+\w+)?\s*-?%\}",
        )
        .expect("a valid regex")
    });
    static BUILD: std::sync::LazyLock<regex::Regex> =
        std::sync::LazyLock::new(|| regex::Regex::new(r"\bbuild\b").expect("a valid regex"));
    let source = COMMENT.replace_all(source, "");
    BUILD.is_match(&HEADER_OR_FOOTER.replace_all(&source, ""))
}

/// A template block's output as the format wants it. In line-based formats (CSV rows, JSON
/// Lines) a block is whole lines: the line breaks around it in the template are dropped and
/// one newline ends it, so items never run together or leave blank lines between them.
fn line_block(text: String, format: ChannelFormat) -> Vec<u8> {
    match format {
        ChannelFormat::Csv | ChannelFormat::Jsonl => {
            let trimmed = text.trim_matches(['\n', '\r']);
            if trimmed.is_empty() {
                Vec::new()
            } else {
                let mut line = Vec::with_capacity(trimmed.len() + 1);
                line.extend_from_slice(trimmed.as_bytes());
                line.push(b'\n');
                line
            }
        }
        ChannelFormat::Xml | ChannelFormat::Json => text.into_bytes(),
    }
}

/// Registers a feed template as three templates, one per block.
///
/// Tera 2.4's `render_block` still evaluates the other blocks (so a header would fail on the
/// item's `product`), hence each block becomes a template of its own. Line numbers in error
/// messages stay those of the file: each part starts with a comment spanning the lines before it.
fn add_template(
    tera: &mut Tera,
    name: &str,
    source: &str,
    channel: &Channel,
) -> Result<(), RenderError> {
    let error = |message: String| RenderError::Template {
        channel: channel.name.clone(),
        message: format!("template `{name}`: {message}"),
    };
    for block in BLOCKS {
        let part = extract_block(source, block).ok_or_else(|| {
            error(format!(
                "no `{block}` block; a feed template has {{% block header %}}, \
                 {{% block item %}} and {{% block footer %}}"
            ))
        })?;
        tera.add_raw_template(&block_template(name, block), &part)
            .map_err(|err| error(error_chain(&err)))?;
    }
    Ok(())
}

const BLOCKS: [&str; 3] = ["header", "item", "footer"];

fn block_template(name: &str, block: &str) -> String {
    format!("{name}#{block}")
}

/// The body of `{% block NAME %}…{% endblock %}`, honouring `-%}`/`{%-` whitespace control,
/// preceded by a comment that keeps the body on its original line.
fn extract_block(source: &str, block: &str) -> Option<String> {
    static TAGS: std::sync::LazyLock<(regex::Regex, regex::Regex)> =
        std::sync::LazyLock::new(|| {
            (
                regex::Regex::new(r"\{%(-?)\s*block\s+([A-Za-z_][A-Za-z0-9_]*)\s*(-?)%\}")
                    .expect("valid regex"),
                regex::Regex::new(r"\{%(-?)\s*endblock(?:\s+[A-Za-z_][A-Za-z0-9_]*)?\s*(-?)%\}")
                    .expect("valid regex"),
            )
        });
    let (start_tag, end_tag) = &*TAGS;
    let start = start_tag.captures_iter(source).find(|c| &c[2] == block)?;
    let open = start.get(0)?;
    let end = end_tag.captures_at(source, open.end())?;
    let close = end.get(0)?;
    let mut body = &source[open.end()..close.start()];
    let mut body_start = open.end();
    if !start[3].is_empty() {
        let trimmed = body.trim_start();
        body_start += body.len() - trimmed.len();
        body = trimmed;
    }
    if !end[1].is_empty() {
        body = body.trim_end();
    }
    let lines_before = source[..body_start].matches('\n').count();
    let padding = if lines_before > 0 {
        format!("{{#{}#}}", "\n".repeat(lines_before))
    } else {
        String::new()
    };
    Some(padding + body)
}

/// A product's view with its template context, built once and shared by every channel that
/// sees the product the same way (same locale, no channel overrides).
pub struct Item<'n> {
    pub view: ProductView,
    /// What the templates of every channel sharing the item read (see [`ContextNeeds`]).
    context_needs: &'n ContextNeeds,
    context: std::sync::OnceLock<Context>,
}

impl<'n> Item<'n> {
    pub fn new(view: ProductView, context_needs: &'n ContextNeeds) -> Self {
        Self {
            view,
            context_needs,
            context: std::sync::OnceLock::new(),
        }
    }

    /// The template context, converted from the view on first use only: channels that are not
    /// rendered by templates never pay for it.
    fn context(&self) -> &Context {
        self.context
            .get_or_init(|| self.context_needs.context(&self.view))
    }

    /// The template context, when a channel has built it already.
    fn built_context(&self) -> Option<&Context> {
        self.context.get()
    }
}

#[cfg(test)]
mod tests {
    use super::reads_build;
    use super::*;

    /// Google UK's filter in the example catalog, on the natively written Google preset.
    #[test]
    fn a_native_channels_filter_builds_only_what_it_reads_of_the_context() {
        let channel = Channel {
            currency: "GBP".into(),
            filter: Some("erp.stock > 0".into()),
            filter_line: Some(1),
            country: Some("GB".into()),
            ..crate::presets::example_channel("google-uk", "google-merchant", "en-GB")
        };
        let catalog = CatalogConfig::example("https://shop.example", &["en-GB"]);
        let no_templates = tempfile::tempdir().unwrap();
        let build = BuildView {
            time: "2026-01-01T00:00:00Z",
        };
        let renderer = ChannelRenderer::new(&channel, &catalog, &build, no_templates.path());
        let renderer = renderer.unwrap();
        assert!(renderer.writes_natively());
        let needs = renderer.context_needs().clone();
        let mut view = context::tests::view();
        let in_stock = Item::new(view.clone(), &needs);
        assert!(renderer.passes_filter(&in_stock).unwrap());
        assert!(
            in_stock.built_context().is_none(),
            "the whole context was built"
        );
        view.erp.stock = 0;
        let out_of_stock = Item::new(view, &needs);
        assert!(!renderer.passes_filter(&out_of_stock).unwrap());
        // Once a channel has built the whole context, the filter reads it instead.
        out_of_stock.context();
        assert!(!renderer.passes_filter(&out_of_stock).unwrap());
    }

    #[test]
    fn only_items_and_filters_that_read_the_build_time_count() {
        let header_only = "{% block header %}<x t=\"{{ build.time }}\">{% endblock header %}\
                           {% block item %}<i>{{ product.sku }}</i>{% endblock item %}";
        assert!(!reads_build(header_only));
        assert!(!reads_build(
            "{# build.time is there #}{% block item %}{{ x }}{% endblock %}"
        ));
        assert!(reads_build(
            "{% block item %}{{ build.time }}{% endblock %}"
        ));
        assert!(reads_build("erp.stock > 0 and build.time > \"2026\""));
        assert!(!reads_build("product.rebuild_kit"));
    }
}
