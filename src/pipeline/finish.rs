//! The finish step: the report, the parse-back of every feed, the manifest, the guard, and
//! for a build or refresh the swap that makes the new feeds live and the build cache kept.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use super::manifest::{Manifest, ManifestChannel, write_manifest, write_report};
use super::stream::Streamed;
use super::timings::{Stopwatch, joined, timed};
use super::verify::{FilesVerified, verify_feeds};
use super::writer::Tally;
use super::{Build, ErpPull, Failure, Mode, Outcome};
use crate::cache;
use crate::output::{self, FileStats};
use crate::pimfeed_folder;
use crate::report::{self, Report};
use crate::staging::Staging;

impl Build<'_> {
    /// Makes the report and, for a build or refresh, checks, publishes and records the feeds.
    pub(crate) fn finish(
        &self,
        streamed: Streamed,
        pull: ErpPull,
        allow_drop: bool,
        mut stopwatch: Stopwatch,
        progress: &crate::ui::Progress,
    ) -> Result<Outcome, Failure> {
        let prepared = self.prepared;
        let Streamed {
            channels,
            tally,
            mut content,
            staging,
            mut last_build,
            cache,
            cache_complete,
        } = streamed;
        if let Some(last_build) = &mut last_build {
            // Its last run of unchanged lines is copied beside the parse-back and the report,
            // not after them.
            last_build
                .start_finishing()
                .map_err(Failure::io("cannot keep this build's content"))?;
        }
        let mut channel_reports = Vec::with_capacity(channels.len());
        let mut channel_parts = Vec::with_capacity(channels.len());
        for ((mut report, parts), channel) in channels.into_iter().zip(&prepared.channels) {
            report
                .notes
                .extend(crate::presets::empty_document_note(channel, report.items));
            channel_reports.push(report);
            channel_parts.push(parts);
        }
        // A SKU that another, valid file defines is that file's product (and a duplicate error).
        let skus = &content.skus;
        content
            .with_errors
            .retain(|product| !skus.contains(&product.sku));
        // A refresh reads no content: its products with errors are those of the last build.
        let broken = match self.mode() {
            Mode::Refresh => report::content_errors::kept(&prepared.root),
            Mode::Check | Mode::Build => {
                report::content_errors::describe(&content.with_errors, &content.diagnostics)
            }
        };
        content.with_errors = broken
            .iter()
            .map(report::content_errors::Broken::product)
            .collect();
        report::content_errors::leave_out(&mut channel_reports, &broken);
        let items_checked = channel_parts
            .iter()
            .map(|parts| parts.iter().map(|part| part.items_checked).collect())
            .collect();
        let counts: Vec<(usize, usize)> = channel_reports
            .iter()
            .map(|report| (report.items, report.excluded))
            .collect();
        let staged_parts = staging.is_some().then_some(channel_parts);
        if staged_parts.is_some() {
            progress.stage("parsing feeds back");
        }
        let files = match self.mode() {
            Mode::Refresh => tally.files_with_products,
            Mode::Check | Mode::Build => self.files.len(),
        };
        let mut reuse = content.reuse;
        let changed = std::mem::take(&mut content.changed);
        let staged_dir = staging.as_ref().map(|staging| staging.path().to_path_buf());
        // The feeds in place, whose files an unchanged feed was linked to.
        let previous = output::previous_manifest(&prepared.output_dir);
        let published = previous
            .as_ref()
            .map(output::published_stats)
            .unwrap_or_default();
        let (verified, (report, git, report_written)) = verify_alongside(
            &prepared.channels,
            &counts,
            staged_parts,
            &published,
            || {
                std::thread::scope(|scope| {
                    // Only a build writes a manifest. Its git state is asked on a thread of its
                    // own, beside the report and the blame: when none of the files the build read
                    // again differs from the commit (after a cold build, or an edit put back),
                    // git walks the whole working tree, 0.2 s at 100k products.
                    let git_status = (self.mode() == Mode::Build)
                        .then(|| self.start_git_status(scope, &changed));
                    let mut report = self.report(content, (channel_reports, files), tally, &pull);
                    stopwatch.lap("gather the report");
                    let git = match self.mode() {
                        // The content is the last build's, so is its commit.
                        Mode::Refresh => previous
                            .as_ref()
                            .and_then(|m| serde_json::from_value(m.get("git")?.clone()).ok()),
                        Mode::Check | Mode::Build => {
                            self.blame_then_git(&mut report, git_status, &mut stopwatch, progress)
                        }
                    };
                    // Written now, while the feeds are still parsed back: the staging folder is
                    // thrown away whole if they fail, or if the guard stops the build.
                    let written = staged_dir.as_deref().map_or(Ok(()), |dir| {
                        progress.stage("writing the report");
                        write_report(dir, &report, &prepared.config.build.output)
                    });
                    stopwatch.lap("write the report (beside the parse-back)");
                    (report, git, written)
                })
            },
        );
        let manifest_channels = match verified {
            Some(verified) => verified_channels(verified?, &mut reuse, &mut stopwatch),
            None => Vec::new(),
        };
        report_written?;
        let manifest = staging.as_ref().map(|_| Manifest {
            generated_at: prepared.generated_at.clone(),
            pimfeed_version: env!("CARGO_PKG_VERSION"),
            catalog: prepared.config.catalog.name.clone(),
            git,
            erp: pull,
            channels: manifest_channels,
        });
        let mut swap_warnings = Vec::new();
        if let (Some(staging), Some(manifest)) = (staging, &manifest) {
            let published = Published {
                staging,
                last_build,
                cache,
                cache_complete,
                items_checked,
            };
            swap_warnings = self.publish(
                published,
                (&report, manifest),
                previous.as_ref(),
                allow_drop,
                progress,
            )?;
        }
        if self.mode() == Mode::Build {
            // For the refreshes after it; a refresh without it only misnames those products.
            let _ = report::content_errors::keep(&prepared.root, &broken);
        }
        stopwatch.lap("report, manifest and swap");
        progress.finish();
        Ok(Outcome {
            report,
            manifest,
            output_dir: prepared.output_dir.clone(),
            timings: stopwatch.stages,
            cache: reuse,
            swap_warnings,
        })
    }

    /// The manifest's git state, asked of the repository opened beside the build; the
    /// first of the `changed` files that differs from the commit makes the tree dirty, else
    /// the file that made it dirty for the last build, if it still does (see
    /// [`crate::pimfeed_folder::GIT_DIRTY`]); else the whole tree is walked.
    fn git_state(&self, changed: &[std::path::PathBuf]) -> Option<crate::git::GitState> {
        let prepared = self.prepared;
        let changed: Vec<&std::path::Path> = changed.iter().map(|file| file.as_path()).collect();
        let witness = prepared.root.join(crate::pimfeed_folder::GIT_DIRTY);
        self.git.with(|opened| {
            let (root, output) = (&prepared.root, &prepared.output_dir);
            crate::git::state_in(opened?, root, output, &changed, Some(&witness))
        })
    }

    /// Looks up who changed each row of the report, then waits for the manifest's git state
    /// (a build's only: see [`Self::start_git_status`]).
    fn blame_then_git(
        &self,
        report: &mut Report,
        git_status: Option<GitStatus<'_>>,
        stopwatch: &mut Stopwatch,
        progress: &crate::ui::Progress,
    ) -> Option<crate::git::GitState> {
        progress.stage("looking up who changed what");
        let prepared = self.prepared;
        let kept = self.kept_blame();
        crate::report::blame::annotate(report, &prepared.source, &prepared.root, kept);
        stopwatch.lap("blame");
        let (git, took) = git_status?.wait();
        stopwatch.lap("wait for git status (for the manifest)");
        stopwatch.detail(
            "git status (its own thread, beside the report and blame)",
            took,
        );
        git
    }

    /// Starts asking the manifest's git state (see [`Self::git_state`]) on a thread of its
    /// own within `scope`; asks it at once where no thread can be had.
    fn start_git_status<'scope, 'env>(
        &'env self,
        scope: &'scope std::thread::Scope<'scope, 'env>,
        changed: &'env [std::path::PathBuf],
    ) -> GitStatus<'scope> {
        let asking = std::thread::Builder::new()
            .name("git-status".into())
            .spawn_scoped(scope, move || timed(|| self.git_state(changed)));
        match asking {
            Ok(thread) => GitStatus::Asking(thread),
            Err(_) => GitStatus::Asked(timed(|| self.git_state(changed))),
        }
    }

    /// Whether blame uses and keeps what earlier builds blamed: a check writes nothing, and a
    /// build without the build cache takes nothing from earlier builds.
    fn kept_blame(&self) -> crate::git::blame::KeptUse {
        use crate::git::blame::KeptUse;
        match (self.mode(), self.use_cache) {
            (Mode::Build, true) => KeptUse::UseAndKeep,
            (Mode::Build, false) => KeptUse::KeepOnly,
            (Mode::Check | Mode::Refresh, _) => KeptUse::Neither,
        }
    }

    /// The run's report, from what the stream step found.
    fn report(
        &self,
        content: super::sources::ContentSoFar,
        (channels, content_files): (Vec<report::ChannelReport>, usize),
        tally: Tally,
        pull: &ErpPull,
    ) -> Report {
        let prepared = self.prepared;
        let skus_with_errors: HashSet<&str> =
            content.with_errors.iter().map(|p| p.sku.as_str()).collect();
        let erp_without_content = self
            .records
            .iter()
            .zip(&tally.records_with_content)
            .filter(|(r, with_content)| {
                !**with_content && !skus_with_errors.contains(r.sku.as_str())
            })
            .map(|(r, _)| r.sku.clone())
            .collect();
        let diagnostics = content.diagnostics;
        let errors = diagnostics.iter().filter(|d| d.is_error()).count();
        let mut report = Report {
            generated_at: prepared.generated_at.clone(),
            catalog: prepared.config.catalog.name.clone(),
            summary: report::Summary {
                content_files,
                products: content.skus.len(),
                erp_records: self.records.len(),
                errors,
                warnings: diagnostics.len() - errors,
            },
            erp_stale: pull.stale.as_ref().map(|stale| {
                format!(
                    "the ERP could not be read ({}); the numbers are from the last good pull at {}, {} old",
                    stale.because, pull.pulled_at, crate::wording::minutes(stale.age_minutes)
                )
            }),
            channels,
            products: tally.products,
            content_without_erp: tally.without_erp,
            erp_without_content,
            content_with_errors: content.with_errors,
            diagnostics,
        };
        report::sku_case::name_mismatches(&mut report);
        report
    }

    /// Checks the guard, writes the report and manifest, swaps the new feeds in, and keeps
    /// the build cache; what went wrong after the swap, which fails nothing.
    fn publish(
        &self,
        published: Published,
        (report, manifest): (&Report, &Manifest),
        previous: Option<&serde_json::Value>,
        allow_drop: bool,
        progress: &crate::ui::Progress,
    ) -> Result<Vec<String>, Failure> {
        let prepared = self.prepared;
        let output_dir = &prepared.output_dir;
        let Published {
            staging,
            last_build,
            cache,
            cache_complete,
            items_checked,
        } = published;
        crate::guard::before_swap(
            &prepared.config.guard,
            allow_drop,
            previous,
            &serde_json::to_value(manifest).unwrap_or_default(),
            output_dir,
            report,
        )?;
        progress.stage("writing the manifest");
        write_manifest(staging.path(), manifest)?;
        if let Some(previous) = previous {
            let current = file_stats(&manifest.channels);
            let published = cache::published_feed_stamps(&prepared.root);
            let vouched = |old: &std::path::Path| {
                cache::FeedStamp::of(old).is_ok_and(|now| published.contains(&now))
            };
            output::keep_unchanged(staging.path(), output_dir, previous, &current, &vouched)
                .map_err(Failure::io(format!(
                    "cannot reuse unchanged feeds from {}",
                    output_dir.display()
                )))?;
        }
        let last_build = last_build
            .map(crate::last_build::LastBuildWriter::finish)
            .transpose()
            .map_err(Failure::io("cannot keep this build's content"))?;
        let warnings = crate::swap::publish(staging, last_build)?.warnings;
        if let Some(writer) = cache {
            // A cache that does not cover every product would make a later refresh miss some:
            // better none. It is an optimisation, so failing to keep it fails nothing.
            let output = prepared.config.build.output.display().to_string();
            let feeds = feed_files(&manifest.channels, &output, items_checked);
            let last_build = pimfeed_folder::LAST_BUILD.to_string();
            if !cache_complete
                || writer
                    .commit(&prepared.root, feeds, Some(last_build))
                    .is_err()
            {
                cache::discard(&prepared.root);
            }
        }
        Ok(warnings)
    }
}

/// Verifies the staged feeds (`parts`, if any) on a thread of their own while `alongside`
/// runs: the report and the blame lookup, which mostly wait on git, so hashing and parsing the
/// feeds adds little wall time of its own. What verifying gave, and how long it took.
fn verify_alongside<T>(
    channels: &[crate::channels::Channel],
    counts: &[(usize, usize)],
    parts: Option<Vec<Vec<crate::render::FeedPart>>>,
    published: &std::collections::HashMap<String, FileStats>,
    alongside: impl FnOnce() -> T,
) -> (Option<Result<Verified, Failure>>, T) {
    std::thread::scope(|scope| {
        let verifying = parts.map(|parts| {
            scope.spawn(move || {
                let started = std::time::Instant::now();
                let verified = verify_feeds(channels, counts, parts, published)?;
                Ok((verified, started.elapsed()))
            })
        });
        let other = alongside();
        let verified =
            verifying.map(|handle| handle.join().expect("verifying the feeds does not panic"));
        (verified, other)
    })
}

/// The manifest's git state and how long asking took.
type TimedGitState = (Option<crate::git::GitState>, Duration);

/// The manifest's git state, being asked on a thread of its own, or asked already where no
/// thread could be had.
enum GitStatus<'scope> {
    Asking(std::thread::ScopedJoinHandle<'scope, TimedGitState>),
    Asked(TimedGitState),
}

impl GitStatus<'_> {
    fn wait(self) -> TimedGitState {
        match self {
            GitStatus::Asking(thread) => joined(thread),
            GitStatus::Asked(asked) => asked,
        }
    }
}

/// The manifest's channels from what verifying gave, with how the files were verified noted
/// in `reuse` and how long it took in `stopwatch`.
fn verified_channels(
    ((channels, files), took): Verified,
    reuse: &mut super::CacheUse,
    stopwatch: &mut Stopwatch,
) -> Vec<ManifestChannel> {
    reuse.feeds_spliced = files.by_pieces;
    reuse.feeds_linked = files.linked;
    stopwatch.lap("wait for the parse-back of every feed");
    stopwatch.detail(
        "parsing every feed back (its own thread, beside report and blame)",
        took,
    );
    channels
}

/// The manifest's channels, how many files were verified other than by parsing them whole,
/// and how long verifying took.
type Verified = ((Vec<ManifestChannel>, FilesVerified), std::time::Duration);

/// What a build or refresh has staged, ready to go live.
struct Published {
    staging: Staging,
    last_build: Option<crate::last_build::LastBuildWriter>,
    cache: Option<cache::Writer>,
    cache_complete: bool,
    /// Per channel, per file: whether its items are each known whole.
    items_checked: Vec<Vec<bool>>,
}

/// Every file the manifest lists (parts and `.gz` copies included), with its size and hash.
fn file_stats(channels: &[ManifestChannel]) -> HashMap<String, FileStats> {
    let mut current = HashMap::new();
    for channel in channels {
        if let Some(stats) = &channel.stats {
            current.insert(channel.file.clone(), stats.clone());
        }
        for part in &channel.parts {
            current.insert(part.file.clone(), part.stats.clone());
            if let Some(gzip) = &part.gzip {
                current.insert(format!("{}.gz", part.file), gzip.clone());
            }
        }
        if let Some(gzip) = &channel.gzip {
            current.insert(format!("{}.gz", channel.file), gzip.clone());
        }
    }
    current
}

/// Per channel, the files its feed was written to, under the output folder `output`: what the
/// build cache's item spans point into; each with whether its items are each known whole.
fn feed_files(
    channels: &[ManifestChannel],
    output: &str,
    items_checked: Vec<Vec<bool>>,
) -> Vec<Vec<(String, bool)>> {
    channels
        .iter()
        .zip(items_checked)
        .map(|(channel, checked)| {
            let files = match (channel.parts.is_empty(), &channel.stats) {
                (true, Some(_)) => vec![channel.file.clone()],
                (true, None) => Vec::new(),
                (false, _) => channel.parts.iter().map(|part| part.file.clone()).collect(),
            };
            files
                .into_iter()
                .zip(checked.into_iter().chain(std::iter::repeat(false)))
                .map(|(file, checked)| (format!("{output}/{file}"), checked))
                .collect()
        })
        .collect()
}
