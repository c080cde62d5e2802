//! The prepare step: everything a run reads before its first product (configuration, schema,
//! channels, templates, the list of product files) and the ERP numbers.

use std::path::{Path, PathBuf};

use super::{Failure, Mode, load_config_from};
use crate::channels::Channel;
use crate::config::Config;
use crate::content::{self, CatalogSource};
use crate::last_build::LastBuildReader;
use crate::merge::MergeContext;
use crate::render::{BuildView, ChannelRenderer};

/// The catalog as a run sees it before it reads a product.
pub(crate) struct Prepared {
    pub(crate) root: PathBuf,
    pub(crate) mode: Mode,
    pub(crate) started: chrono::DateTime<chrono::Utc>,
    /// `started`, as the report, manifest and templates show it.
    pub(crate) generated_at: String,
    /// The working tree, or for a refresh the last build's content.
    pub(crate) source: CatalogSource,
    pub(crate) config: Config,
    pub(crate) model: content::Model,
    pub(crate) channels: Vec<Channel>,
    /// The channels' locales, each once (what the quality checks read descriptions in).
    pub(crate) channel_locales: Vec<String>,
    pub(crate) output_dir: PathBuf,
}

impl Prepared {
    /// Loads the configuration, schema and channels. A refresh loads the last build's
    /// (configuration, schema, templates and products as they were then), and opens the last
    /// build's products to render them again.
    pub(crate) fn load(
        root: &Path,
        mode: Mode,
    ) -> Result<(Self, Option<LastBuildReader>), Failure> {
        let started = chrono::Utc::now();
        if mode != Mode::Check {
            // Before anything reads the last build: a crash may have stopped its swap halfway.
            crate::swap::recover(root).map_err(Failure::io(
                "cannot finish the swap a crashed build left halfway",
            ))?;
        }
        let (source, last_build) = match mode {
            Mode::Refresh => {
                let dir = LastBuildReader::dir(root).ok_or(Failure::NoLastBuild)?;
                let reader = LastBuildReader::open(&dir)
                    .map_err(Failure::io(format!("cannot read {}", dir.display())))?;
                (CatalogSource::dir(&dir), Some(reader))
            }
            Mode::Check | Mode::Build => (CatalogSource::dir(root), None),
        };
        let config = load_config_from(&source)?;
        let model = content::load_model(&source).map_err(Failure::Schema)?;
        let channels = crate::channel_resolution::resolve_from(&config, &model.schema, &source)
            .map_err(Failure::Channels)?;
        let mut channel_locales: Vec<String> = channels.iter().map(|c| c.locale.clone()).collect();
        channel_locales.sort_unstable();
        channel_locales.dedup();
        let prepared = Self {
            root: root.to_path_buf(),
            mode,
            started,
            generated_at: started.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            output_dir: root.join(&config.build.output),
            source,
            config,
            model,
            channels,
            channel_locales,
        };
        Ok((prepared, last_build))
    }

    /// One renderer per channel, its templates parsed and checked.
    pub(crate) fn renderers(&self) -> Result<Vec<ChannelRenderer<'_>>, Failure> {
        let build_view = BuildView {
            time: &self.generated_at,
        };
        let renderers = self.channels.iter().map(|channel| {
            ChannelRenderer::from_source(channel, &self.config.catalog, &build_view, &self.source)
        });
        Ok(renderers.collect::<Result<Vec<_>, _>>()?)
    }

    /// The product files a check or build reads, in catalog order; none for a refresh, which
    /// reads no content. With `use_kept`, only the folders that changed since the last build's
    /// listing are read (see [`content::kept_listing`]); a build keeps its own for the next.
    /// With the files, what `--timings` says of how they were listed.
    pub(crate) fn product_files(
        &self,
        use_kept: bool,
    ) -> Result<(Vec<PathBuf>, Option<String>), Failure> {
        let unlisted = |d: Box<crate::diagnostics::Diagnostic>| Failure::Schema(vec![*d]);
        match (self.mode, self.source.root()) {
            (Mode::Refresh, _) => Ok((Vec::new(), None)),
            (Mode::Check | Mode::Build, Some(root)) if use_kept => {
                let kept_path = root.join(crate::pimfeed_folder::KEPT_LISTING);
                let kept = content::kept_listing::KeptListing::read(&kept_path);
                let listed = content::kept_listing::walk_with(
                    root,
                    Path::new(content::PRODUCTS_DIR),
                    content::PRODUCT_FILE_SUFFIX,
                    kept,
                )
                .map_err(|err| unlisted(content::cannot_list(&err)))?;
                // Under the catalog's lock (a check holds none). Failing to keep it only
                // means the next build reads every folder.
                if self.mode == Mode::Build && listed.changed() {
                    let _ = listed.next.write(&kept_path);
                }
                let said = format!(
                    "of which listing the product files ({} of {} folders read, the others \
                     unchanged since the last build listed them)",
                    listed.folders_read, listed.folders
                );
                Ok((listed.files, Some(said)))
            }
            (Mode::Check | Mode::Build, _) => {
                let files = content::product_files(&self.source).map_err(unlisted)?;
                Ok((files, None))
            }
        }
    }

    pub(crate) fn merge_context(&self) -> MergeContext<'_> {
        MergeContext {
            catalog: &self.config.catalog,
            schema: &self.model.schema,
            categories: &self.model.categories,
        }
    }

    pub(crate) fn parse_context<'a>(
        &'a self,
        channel_names: &'a [String],
    ) -> content::product::ParseContext<'a> {
        content::product::ParseContext {
            schema: &self.model.schema,
            categories: &self.model.categories,
            locales: &self.config.catalog.locales,
            channels: channel_names,
            description_text_locales: &self.channel_locales,
        }
    }
}
