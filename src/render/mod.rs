//! Rendering one channel's feed: a header, one chunk per product, a footer.
//!
//! Items are rendered independently (so in parallel) and written in catalog order, which
//! keeps memory bounded by a batch, not by the feed. Escaping belongs to the format: XML and
//! JSON templates get an escape function for their format on every `{{ }}`, CSV cells are
//! written by the `csv` crate, and content is only ever data, never a template.

pub mod escape;
pub mod markdown;
pub mod webshop;

use std::io::Write;
use std::path::Path;

use serde::Serialize;
use tera::{Context, Tera};

use crate::channels::{Channel, ChannelKind, ChannelView, Preset};
use crate::config::{CatalogConfig, ChannelFormat};
use crate::content::{CatalogSource, Product};
use crate::merge::{MergeContext, ProductView};

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
}

enum Body {
    /// A template with `header`, `item` and `footer` blocks.
    Template {
        name: String,
        json: bool,
    },
    Columns {
        headers: Vec<String>,
    },
    OrderEntry,
    Webshop,
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
            ChannelFormat::Json => tera.set_escape_fn(escape::json_string_escape_fn),
            ChannelFormat::Csv => {}
        }
        // Every template of an XML or JSON channel is escaped, whatever its file name.
        if channel.format() == ChannelFormat::Csv {
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

        let body = match &channel.kind {
            ChannelKind::Template { format, template } => {
                let path = Path::new("templates").join(template);
                let text = source.read_to_string(&path).map_err(|err| {
                    template_error(format!("cannot read {}: {err}", path.display()))
                })?;
                add_template(&mut tera, template, &text, channel)?;
                Body::Template {
                    name: template.clone(),
                    json: *format == ChannelFormat::Json,
                }
            }
            ChannelKind::Preset(preset) => match preset.template() {
                Some((name, builtin)) => {
                    let override_path = Path::new("templates").join(name);
                    let text = if source.is_file(&override_path) {
                        source.read_to_string(&override_path).map_err(|err| {
                            template_error(format!(
                                "cannot read {}: {err}",
                                override_path.display()
                            ))
                        })?
                    } else {
                        builtin.to_string()
                    };
                    add_template(&mut tera, name, &text, channel)?;
                    Body::Template {
                        name: name.to_string(),
                        json: preset.format() == ChannelFormat::Json,
                    }
                }
                None if *preset == Preset::OrderEntryCsv => Body::OrderEntry,
                None => Body::Webshop,
            },
            ChannelKind::Columns(columns) => {
                for (index, (header, expression)) in columns.iter().enumerate() {
                    let name = format!("{COLUMN_PREFIX}{index}");
                    tera.add_raw_template(&name, &format!("{{{{ {expression} }}}}"))
                        .map_err(|err| {
                            template_error(format!("column `{header}`: {}", tera_message(&err)))
                        })?;
                }
                Body::Columns {
                    headers: columns.iter().map(|(h, _)| h.clone()).collect(),
                }
            }
        };
        if let Some(filter) = &channel.filter {
            tera.add_raw_template(
                FILTER_TEMPLATE,
                &format!("{{% if {filter} %}}true{{% endif %}}"),
            )
            .map_err(|err| template_error(format!("filter `{filter}`: {}", tera_message(&err))))?;
        }
        Ok(Self {
            channel,
            tera,
            body,
        })
    }

    /// Whether the channel's `filter` lets this product through.
    pub fn passes_filter(&self, view: &ProductView) -> Result<bool, RenderError> {
        if self.channel.filter.is_none() {
            return Ok(true);
        }
        let out = self
            .tera
            .render(FILTER_TEMPLATE, &item_context(view))
            .map_err(|err| self.item_error(view, format!("filter: {}", tera_message(&err))))?;
        Ok(out == "true")
    }

    pub fn header(&self, ctx: &MergeContext<'_>, out: &mut dyn Write) -> Result<(), RenderError> {
        match &self.body {
            Body::Template { name, .. } => self
                .tera
                .render_to(&block_template(name, "header"), &Context::new(), &mut *out)
                .map_err(|err| self.template_error(&err)),
            Body::Columns { headers } => self.write_csv_row(out, headers),
            Body::OrderEntry => self.write_csv_row(out, ORDER_ENTRY_HEADERS),
            Body::Webshop => webshop::header(ctx, self.channel, out).map_err(|e| self.io(e)),
        }
    }

    /// Bytes between two items.
    pub fn separator(&self) -> &'static [u8] {
        match self.body {
            Body::Template { json: true, .. } | Body::Webshop => b",",
            _ => b"",
        }
    }

    /// One product's part of the feed.
    pub fn item(
        &self,
        product: &Product,
        view: &ProductView,
        ctx: &MergeContext<'_>,
    ) -> Result<Vec<u8>, RenderError> {
        let mut out = Vec::with_capacity(1024);
        match &self.body {
            Body::Template { name, .. } => {
                self.tera
                    .render_to(&block_template(name, "item"), &item_context(view), &mut out)
                    .map_err(|err| self.item_error(view, tera_message(&err)))?;
            }
            Body::Columns { headers } => {
                let context = item_context(view);
                let mut cells = Vec::with_capacity(headers.len());
                for (index, header) in headers.iter().enumerate() {
                    let cell = self
                        .tera
                        .render(&format!("{COLUMN_PREFIX}{index}"), &context)
                        .map_err(|err| {
                            self.item_error(
                                view,
                                format!("column `{header}`: {}", tera_message(&err)),
                            )
                        })?;
                    cells.push(cell);
                }
                self.write_csv_row(&mut out, &cells)?;
            }
            Body::OrderEntry => self.write_csv_row(&mut out, &order_entry_row(view))?,
            Body::Webshop => {
                webshop::item(product, view, ctx, self.channel, &mut out).map_err(|e| self.io(e))?
            }
        }
        Ok(out)
    }

    pub fn footer(&self, out: &mut dyn Write) -> Result<(), RenderError> {
        match &self.body {
            Body::Template { name, .. } => self
                .tera
                .render_to(&block_template(name, "footer"), &Context::new(), &mut *out)
                .map_err(|err| self.template_error(&err)),
            Body::Webshop => out.write_all(b"\n]}\n").map_err(|e| self.io(e)),
            Body::Columns { .. } | Body::OrderEntry => Ok(()),
        }
    }

    fn write_csv_row<S: AsRef<str>>(
        &self,
        out: &mut dyn Write,
        cells: &[S],
    ) -> Result<(), RenderError> {
        let mut writer = csv::WriterBuilder::new().from_writer(out);
        let record = cells.iter().map(|cell| {
            let cell = cell.as_ref();
            if self.channel.formula_guard {
                escape::guard_formula(cell)
            } else {
                std::borrow::Cow::Borrowed(cell)
            }
        });
        writer
            .write_record(record.map(|c| c.into_owned()))
            .and_then(|()| writer.flush().map_err(csv::Error::from))
            .map_err(|err| self.io(std::io::Error::other(err)))
    }

    fn template_error(&self, err: &tera::Error) -> RenderError {
        RenderError::Template {
            channel: self.channel.name.clone(),
            message: tera_message(err),
        }
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
            .map_err(|err| error(tera_message(&err)))?;
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

fn item_context(view: &ProductView) -> Context {
    let mut context = Context::new();
    context.insert("product", view);
    context.insert("erp", &view.erp);
    context
}

/// Tera's message with its source chain; v2 reports carry the template line and column.
pub fn tera_message(err: &tera::Error) -> String {
    let mut message = err.to_string();
    let mut source = std::error::Error::source(err);
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    message
}

const ORDER_ENTRY_HEADERS: &[&str] = &[
    "sku",
    "gtin",
    "title",
    "brand",
    "unit",
    "pack_size",
    "price",
    "currency",
    "price_tiers",
    "stock",
    "availability",
];

fn order_entry_row(view: &ProductView) -> Vec<String> {
    let erp = &view.erp;
    let tiers = erp
        .price_tiers
        .iter()
        .map(|tier| format!("{}:{}", tier.min_qty, tier.price))
        .collect::<Vec<_>>()
        .join("|");
    vec![
        view.sku.clone(),
        erp.gtin.clone().unwrap_or_default(),
        view.title.clone().unwrap_or_default(),
        view.brand.clone().unwrap_or_default(),
        erp.unit.clone().unwrap_or_default(),
        erp.pack_size.map(|p| p.to_string()).unwrap_or_default(),
        erp.price.clone(),
        erp.currency.clone(),
        tiers,
        erp.stock.to_string(),
        view.availability.to_string(),
    ]
}
