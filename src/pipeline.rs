//! The stages in order: config → content → ERP → merge → gate → render → verify → swap.
//!
//! `check` runs the same stages as `build` up to the gate (templates and filters included),
//! so a pull request sees exactly what a build on merge would publish.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use rayon::prelude::*;
use serde::Serialize;

use crate::channels::{self, Channel};
use crate::config::{Config, ErpConfig};
use crate::content::{self, Content, Product};
use crate::diagnostics::Diagnostic;
use crate::erp::{self, ErpRecord};
use crate::merge::{self, MergeContext};
use crate::output::{self, FileStats, Staging};
use crate::render::{BuildView, ChannelRenderer, RenderError};
use crate::report::{self, ChannelReport, ProductCompleteness, ProductRef, ProductVerdict, Report};
use crate::validate::{self, Reason, Verdict};

/// Products are merged, gated and rendered in batches of this size: big enough to keep both
/// cores busy, small enough that memory does not grow with the catalog.
const BATCH: usize = 4096;

/// Why a run could not finish. Content problems are not failures: they are in the outcome.
#[derive(Debug, thiserror::Error)]
pub enum Failure {
    #[error("{}", .0.message)]
    Config(Box<Diagnostic>),
    #[error("bad channel configuration in pim.toml:\n  {}", .0.join("\n  "))]
    Channels(Vec<String>),
    #[error("the content schema has errors")]
    Schema(Vec<Diagnostic>),
    #[error("ERP pull failed: {0}")]
    Erp(String),
    #[error(transparent)]
    Render(#[from] RenderError),
    #[error("channel `{channel}`: the rendered feed does not parse back: {message}")]
    Verify { channel: String, message: String },
    #[error("{context}: {source}")]
    Io {
        context: String,
        source: std::io::Error,
    },
}

impl Failure {
    fn io(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> Failure {
        let context = context.into();
        move |source| Failure::Io { context, source }
    }

    /// Diagnostics to show for this failure, when it has positions in files.
    pub fn diagnostics(&self) -> &[Diagnostic] {
        match self {
            Failure::Config(diagnostic) => std::slice::from_ref(diagnostic),
            Failure::Schema(diagnostics) => diagnostics,
            _ => &[],
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Everything up to the gate; writes nothing.
    Check,
    /// The full build into the output folder.
    Build,
}

/// What a run found and, for a build, wrote.
#[derive(Debug)]
pub struct Outcome {
    pub report: Report,
    pub manifest: Option<Manifest>,
    pub output_dir: PathBuf,
}

impl Outcome {
    pub fn has_errors(&self) -> bool {
        self.report.diagnostics.iter().any(Diagnostic::is_error)
    }

    /// Products left out of a channel because they are incomplete (not by choice: a
    /// channel filter or `enabled = false`).
    pub fn incomplete_count(&self) -> usize {
        self.report
            .channels
            .iter()
            .flat_map(|c| &c.left_out)
            .filter(|p| {
                p.reasons
                    .iter()
                    .any(|r| !matches!(r.code, "filter" | "disabled"))
            })
            .count()
    }
}

#[derive(Debug, Serialize)]
pub struct Manifest {
    pub generated_at: String,
    pub pimfeed_version: &'static str,
    pub catalog: String,
    pub git: Option<crate::git::GitState>,
    pub erp: ErpPull,
    pub channels: Vec<ManifestChannel>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ErpPull {
    pub source: String,
    pub pulled_at: String,
    pub records: usize,
}

#[derive(Debug, Serialize)]
pub struct ManifestChannel {
    pub name: String,
    pub file: String,
    pub format: crate::config::ChannelFormat,
    pub items: usize,
    pub excluded: usize,
    #[serde(flatten)]
    pub stats: FileStats,
}

/// Reads `pim.toml` under `root`.
pub fn load_config(root: &Path) -> Result<Config, Failure> {
    let path = root.join(crate::config::CONFIG_FILE);
    let text = std::fs::read_to_string(&path)
        .map_err(Failure::io(format!("cannot read {}", path.display())))?;
    Config::parse(&text, Path::new(crate::config::CONFIG_FILE)).map_err(Failure::Config)
}

/// Reads `pim.toml` from the working tree or a git revision (for `pimfeed diff`).
pub fn load_config_from(source: &content::CatalogSource) -> Result<Config, Failure> {
    let file = Path::new(crate::config::CONFIG_FILE);
    let text = source.read_to_string(file).map_err(Failure::io(format!(
        "cannot read pim.toml in the {}",
        source.label()
    )))?;
    Config::parse(&text, file).map_err(Failure::Config)
}

/// Runs the pipeline on the catalog at `root`.
pub fn run(root: &Path, mode: Mode, progress: &crate::ui::Progress) -> Result<Outcome, Failure> {
    let started = chrono::Utc::now();
    let generated_at = started.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let config = load_config(root)?;
    let output_dir = root.join(&config.build.output);

    progress.stage("reading content");
    let mut content = content::load(root, &config).map_err(Failure::Schema)?;
    let channels = channels::resolve(&config, &content.schema, root).map_err(Failure::Channels)?;
    let quality =
        validate::quality::warnings(&content, &channels, &content::CatalogSource::dir(root));
    content.diagnostics.extend(quality);

    progress.stage("pulling ERP numbers");
    let (records, pull) = pull_erp(&config, root)?;
    let by_sku: HashMap<&str, &ErpRecord> = records.iter().map(|r| (r.sku.as_str(), r)).collect();

    let merge_ctx = MergeContext {
        catalog: &config.catalog,
        schema: &content.schema,
        categories: &content.categories,
    };
    let build_view = BuildView {
        time: &generated_at,
    };
    let staging = match mode {
        Mode::Build => Some(Staging::create(&output_dir).map_err(Failure::io(format!(
            "cannot create a staging folder next to {}",
            output_dir.display()
        )))?),
        Mode::Check => None,
    };

    let mut channel_reports = Vec::with_capacity(channels.len());
    let mut manifest_channels = Vec::with_capacity(channels.len());
    let mut completeness: Vec<BTreeMap<String, u8>> = vec![BTreeMap::new(); content.products.len()];
    for channel in &channels {
        progress.stage(&format!("channel {}", channel.name));
        let renderer = ChannelRenderer::new(channel, &config.catalog, &build_view, root)?;
        let target = staging.as_ref().map(|s| s.path().join(&channel.output));
        let result = render_channel(
            channel,
            &renderer,
            &content.products,
            &by_sku,
            &merge_ctx,
            target.as_deref(),
            progress,
        )?;
        for (index, percent) in result.completeness.iter().enumerate() {
            completeness[index].insert(channel.name.clone(), *percent);
        }
        if let Some(path) = &target {
            let stats =
                output::verify(path, channel.format()).map_err(|message| Failure::Verify {
                    channel: channel.name.clone(),
                    message,
                })?;
            manifest_channels.push(ManifestChannel {
                name: channel.name.clone(),
                file: channel.output.clone(),
                format: channel.format(),
                items: result.report.items,
                excluded: result.report.excluded,
                stats,
            });
        }
        channel_reports.push(result.report);
    }

    let mut report = build_report(
        &config,
        &content,
        &records,
        channel_reports,
        completeness,
        generated_at.clone(),
    );
    progress.stage("looking up who changed what");
    crate::git::blame::annotate(&mut report, &content::CatalogSource::dir(root), root);
    let manifest = staging.as_ref().map(|_| Manifest {
        generated_at: generated_at.clone(),
        pimfeed_version: env!("CARGO_PKG_VERSION"),
        catalog: config.catalog.name.clone(),
        git: crate::git::state(root, &output_dir),
        erp: pull.clone(),
        channels: manifest_channels,
    });
    if let (Some(staging), Some(manifest)) = (staging, &manifest) {
        progress.stage("writing report and manifest");
        write_report_and_manifest(staging.path(), &report, manifest)?;
        staging.commit().map_err(Failure::io(format!(
            "cannot move the new feeds into {}",
            output_dir.display()
        )))?;
    }
    progress.finish();
    Ok(Outcome {
        report,
        manifest,
        output_dir,
    })
}

pub(crate) fn pull_erp(config: &Config, root: &Path) -> Result<(Vec<ErpRecord>, ErpPull), Failure> {
    let pulled_at = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    match &config.erp {
        ErpConfig::File(file) => {
            let records =
                erp::file::load(file, root).map_err(|err| Failure::Erp(err.to_string()))?;
            if records.is_empty() {
                // An export cut off before its first row would otherwise empty every feed.
                return Err(Failure::Erp(format!(
                    "{} has no records; refusing to publish empty feeds",
                    file.path.display()
                )));
            }
            let pull = ErpPull {
                source: format!("file:{}", file.path.display()),
                pulled_at,
                records: records.len(),
            };
            Ok((records, pull))
        }
    }
}

struct ChannelResult {
    report: ChannelReport,
    /// Per product, in catalog order.
    completeness: Vec<u8>,
}

/// Gates every product for one channel and, when `target` is set, streams the feed to it.
fn render_channel(
    channel: &Channel,
    renderer: &ChannelRenderer<'_>,
    products: &[Product],
    by_sku: &HashMap<&str, &ErpRecord>,
    ctx: &MergeContext<'_>,
    target: Option<&Path>,
    progress: &crate::ui::Progress,
) -> Result<ChannelResult, Failure> {
    let io_context = || {
        format!(
            "channel `{}`: cannot write {}",
            channel.name, channel.output
        )
    };
    let mut writer = match target {
        Some(path) => Some(BufWriter::with_capacity(
            1 << 16,
            File::create(path).map_err(Failure::io(io_context()))?,
        )),
        None => None,
    };
    if let Some(out) = writer.as_mut() {
        renderer.header(ctx, out)?;
    }
    let mut report = ChannelReport {
        name: channel.name.clone(),
        kind: match channel.preset() {
            Some(preset) => preset.name().to_string(),
            None => format!("custom {:?}", channel.format()).to_lowercase(),
        },
        locale: channel.locale.clone(),
        output: channel.output.clone(),
        items: 0,
        excluded: 0,
        left_out: Vec::new(),
        warnings: Vec::new(),
    };
    let mut completeness = Vec::with_capacity(products.len());
    let render_items = writer.is_some();
    for batch in products.chunks(BATCH) {
        // Collected in order first, so a template that fails on several products always
        // names the first of them (rayon's own Result collect returns any one).
        let results: Vec<Result<Gated, RenderError>> = batch
            .par_iter()
            .map(|product| gate_and_render(product, channel, renderer, by_sku, ctx, render_items))
            .collect();
        let results: Vec<(Verdict, Option<Vec<u8>>)> =
            results.into_iter().collect::<Result<_, RenderError>>()?;
        for (product, (verdict, bytes)) in batch.iter().zip(results) {
            completeness.push(verdict.completeness);
            if let (Some(out), Some(bytes)) = (writer.as_mut(), bytes) {
                if report.items > 0 {
                    out.write_all(renderer.separator())
                        .map_err(Failure::io(io_context()))?;
                }
                out.write_all(&bytes).map_err(Failure::io(io_context()))?;
            }
            let entry = |reasons: Vec<Reason>| ProductVerdict {
                sku: product.sku.clone(),
                file: product.file.to_string(),
                line: product.line,
                completeness: verdict.completeness,
                reasons,
            };
            if verdict.included {
                report.items += 1;
                if !verdict.warnings.is_empty() {
                    report.warnings.push(entry(verdict.warnings));
                }
            } else {
                report.excluded += 1;
                report.left_out.push(entry(verdict.reasons));
            }
        }
        progress.advance(batch.len());
    }
    if let Some(mut out) = writer {
        renderer.footer(&mut out)?;
        out.flush().map_err(Failure::io(io_context()))?;
    }
    Ok(ChannelResult {
        report,
        completeness,
    })
}

/// A product's verdict in one channel and, when included and asked for, its rendered item.
pub(crate) type Gated = (Verdict, Option<Vec<u8>>);

pub(crate) fn gate_and_render(
    product: &Product,
    channel: &Channel,
    renderer: &ChannelRenderer<'_>,
    by_sku: &HashMap<&str, &ErpRecord>,
    ctx: &MergeContext<'_>,
    render_item: bool,
) -> Result<(Verdict, Option<Vec<u8>>), RenderError> {
    let record = by_sku.get(product.sku.as_str()).copied();
    let view = record.map(|record| merge::view(product, record, channel, ctx));
    let mut verdict = validate::decide(product, record, view.as_ref(), channel, ctx.schema);
    let Some(view) = view.filter(|_| verdict.included) else {
        return Ok((verdict, None));
    };
    if !renderer.passes_filter(&view)? {
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
        Some(renderer.item(product, &view, ctx)?)
    } else {
        None
    };
    Ok((verdict, bytes))
}

fn build_report(
    config: &Config,
    content: &Content,
    records: &[ErpRecord],
    channels: Vec<ChannelReport>,
    completeness: Vec<BTreeMap<String, u8>>,
    generated_at: String,
) -> Report {
    let erp_skus: HashSet<&str> = records.iter().map(|r| r.sku.as_str()).collect();
    let content_skus: HashSet<&str> = content.products.iter().map(|p| p.sku.as_str()).collect();
    let content_without_erp = content
        .products
        .iter()
        .filter(|p| !erp_skus.contains(p.sku.as_str()))
        .map(|p| ProductRef {
            sku: p.sku.clone(),
            file: p.file.to_string(),
            line: p.line,
        })
        .collect();
    let erp_without_content = records
        .iter()
        .filter(|r| !content_skus.contains(r.sku.as_str()))
        .map(|r| r.sku.clone())
        .collect();
    let products = content
        .products
        .iter()
        .zip(completeness)
        .map(|(product, completeness)| ProductCompleteness {
            sku: product.sku.clone(),
            file: product.file.to_string(),
            completeness,
        })
        .collect();
    let errors = content.diagnostics.iter().filter(|d| d.is_error()).count();
    Report {
        generated_at,
        catalog: config.catalog.name.clone(),
        summary: report::Summary {
            content_files: content.file_count,
            products: content.products.len(),
            erp_records: records.len(),
            errors,
            warnings: content.diagnostics.len() - errors,
        },
        channels,
        products,
        content_without_erp,
        erp_without_content,
        diagnostics: content.diagnostics.clone(),
    }
}

fn write_report_and_manifest(
    dir: &Path,
    report: &Report,
    manifest: &Manifest,
) -> Result<(), Failure> {
    let report_dir = dir.join("report");
    std::fs::create_dir_all(&report_dir).map_err(Failure::io("cannot create the report folder"))?;
    let create = |name: &str| -> Result<BufWriter<File>, Failure> {
        let path = dir.join(name);
        File::create(&path)
            .map(BufWriter::new)
            .map_err(Failure::io(format!("cannot write {}", path.display())))
    };
    let mut json = create("report/report.json")?;
    report
        .write_json(&mut json)
        .map_err(|err| Failure::io("cannot write report.json")(err.into()))?;
    json.flush()
        .map_err(Failure::io("cannot write report.json"))?;
    let mut html = create("report/index.html")?;
    report.write_html(&mut html).map_err(|err| {
        Failure::io("cannot write the HTML report")(std::io::Error::other(
            crate::render::tera_message(&err),
        ))
    })?;
    html.flush()
        .map_err(Failure::io("cannot write the HTML report"))?;
    let mut file = create("manifest.json")?;
    serde_json::to_writer_pretty(&mut file, manifest)
        .map_err(|err| Failure::io("cannot write manifest.json")(err.into()))?;
    file.write_all(b"\n")
        .and_then(|()| file.flush())
        .map_err(Failure::io("cannot write manifest.json"))
}
