//! The command line: every command, flag and help text in one place.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// pimfeed: product content kept as code, merged with ERP numbers, published as channel feeds.
///
/// Marketers edit TOML files in `content/` through pull requests; `pimfeed check` gates every
/// pull request, `pimfeed build` renders every channel's feed into `feeds/` on merge.
#[derive(Debug, Parser)]
#[command(name = "pimfeed", version, propagate_version = true)]
pub struct Cli {
    /// The catalog folder (the one with pim.toml). Default: the nearest one above the
    /// current folder.
    #[arg(long, global = true, value_name = "DIR")]
    pub root: Option<PathBuf>,

    /// No progress bars.
    #[arg(long, short, global = true)]
    pub quiet: bool,

    /// Print the wall time of each pipeline stage and the peak memory to stderr.
    #[arg(long, global = true)]
    pub timings: bool,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Parse and validate all content, and show what each channel would get.
    ///
    /// Reads every file (one broken file never hides the next), pulls the ERP numbers and runs
    /// each channel's gate, without writing anything. Exit code 1 when content has errors.
    Check(CheckArgs),
    /// Pull the ERP numbers, merge, gate and render every channel into feeds/.
    ///
    /// Feeds are written to a staging folder, parsed back and only then swapped in: a failed
    /// build leaves the previous feeds untouched. Products with content errors are left out;
    /// the build still publishes the rest and exits 1.
    Build(BuildArgs),
    /// Re-render every channel with fresh ERP numbers, over the content of the last build.
    ///
    /// Stock and price change by the minute, descriptions by the week: run `refresh` from cron
    /// every few minutes and `build` on merge. It reads neither `content/` nor the templates
    /// (it uses what the last build kept in .pimfeed/last-build/), swaps atomically like
    /// `build`, and leaves every feed whose bytes did not change untouched, so fetchers see
    /// the same Last-Modified and download nothing.
    ///
    /// Example, every five minutes:  */5 * * * *  cd /srv/catalog && pimfeed refresh --quiet
    Refresh(BuildArgs),
    /// Build, then build again on every save: a local preview for whoever edits content.
    ///
    /// Watches pim.toml, content/, templates/ and a file ERP export. Every rebuild comes from
    /// the build cache, so only the files that changed are read and rendered again; like
    /// `build`, a rebuild that fails leaves the previous feeds in place. Stop it with Ctrl-C.
    Watch(WatchArgs),
    /// A live preview in the browser: each product as each channel will show it.
    ///
    /// Builds like `watch` (from the build cache, again on every save) and serves pages on
    /// http://127.0.0.1:8080: the channels and what the last save changed, every product
    /// (searchable), each product as a Google Shopping card, a bol.com and an Amazon listing
    /// and the webshop's JSON, with what is missing per channel and a link that opens the
    /// file at that line in your editor, the feed files and the report. Open pages refresh
    /// by themselves after each save; a save that breaks something shows the error on the
    /// page. Stop it with Ctrl-C.
    #[command(after_long_help = SERVE_EXAMPLES)]
    Serve(ServeArgs),
    /// Show what a change does to each channel's feed, between two git revisions.
    ///
    /// Loads the catalog at BASE and at HEAD straight from git (no checkout; HEAD defaults to
    /// the working tree, uncommitted edits included), merges both with the same ERP numbers,
    /// and lists per channel the products that become live, those that drop out (with the
    /// reason, the line and who last changed it), and the feed items whose fields change.
    /// `--format markdown` is what a CI job posts on the pull request.
    #[command(after_long_help = DIFF_EXAMPLES)]
    Diff(DiffArgs),
    /// Write a stub content file for ERP items that have none.
    ///
    /// Each stub goes to content/products/<family>/<SKU>.toml, with every attribute of the
    /// family as a commented-out line that says its type and rules, required ones first. The
    /// stub is valid as it is; `pimfeed check` then lists what is still missing. Existing
    /// files are never overwritten.
    #[command(after_long_help = NEW_EXAMPLES)]
    New(NewArgs),
    /// Write a JSON Schema for product files, so editors complete and check them.
    ///
    /// Generated from content/schema.toml (types, enums, lengths, required attributes per
    /// family, ERP-owned keys forbidden) into content/product.schema.json, plus a
    /// .taplo.toml that points the Taplo / Even Better TOML editor extensions at it. Run it
    /// again after changing content/schema.toml or the channels in pim.toml.
    #[command(after_long_help = SCHEMA_EXAMPLES)]
    Schema(SchemaArgs),
    /// Create a new catalog repository with a small example and a CI workflow.
    ///
    /// Writes pim.toml, content/ (schema, categories, a few products), erp/items.csv,
    /// templates/, a .gitignore, the editor schema and a GitHub Actions workflow that checks
    /// every pull request, comments the feed diff on it and publishes feeds/ on merge to
    /// main; then makes it a git repository with a first commit on `main`.
    #[command(after_long_help = INIT_EXAMPLES)]
    Init(InitArgs),
    /// Put the last build's feeds where marketplaces fetch them: a bucket or a folder.
    ///
    /// Uploads to `[publish] to` in pim.toml only the files whose bytes differ from what the
    /// target's manifest says it holds (feeds and parts first, manifest.json last), each with
    /// its content type and `cache_control`, and keeps the last `keep` releases there for
    /// `pimfeed rollback`. A publish that fails or is killed part-way leaves the feeds at
    /// their stable URLs as they were. Like `build`, it stops with exit code 1 when a channel
    /// would lose more than `[guard] max_drop_percent` of the items the target serves.
    #[command(after_long_help = crate::publish::cli_help::PUBLISH_EXAMPLES)]
    Publish(PublishArgs),
    /// Put an earlier release back at the stable URLs of the `[publish]` target.
    ///
    /// Without ID, the release before the one served now; `--list` shows every release the
    /// target keeps (id, build time, git commit, items per channel; `*` marks the current).
    Rollback(RollbackArgs),
    /// Send the built feeds of marketplace channels to their APIs (bol.com, Amazon SP-API).
    ///
    /// For each channel with a `[channels.NAME.push]` table (or the ones named): reads the
    /// feed the last build or refresh wrote and sends only what changed since the last push.
    /// bol.com: creates the offers bol lacks, updates those whose body changed, and puts on
    /// hold (or deletes, with `on_removed = "delete"`) those that left the channel. Amazon: one
    /// JSON_LISTINGS_FEED of the changed listings (PATCH where only values changed), waited for
    /// until processed, with its report per SKU. What the marketplace accepted is
    /// kept in .pimfeed/push/ as it happens, so the next push sends only what changed and an
    /// interrupted push continues where it stopped. Exit code 1 when the marketplace refused
    /// items (each with its SKU and the marketplace's reason) or the drop guard stopped a
    /// channel, 2 when the API could not be reached or the credentials were refused.
    #[command(after_long_help = PUSH_EXAMPLES)]
    Push(PushArgs),
}

const DIFF_EXAMPLES: &str = "\
Examples:
  pimfeed diff main                      # the working tree against main
  pimfeed diff main my-branch            # two revisions, without checking anything out
  pimfeed diff HEAD~1 --format json      # the last commit, for scripts
  pimfeed diff origin/main --format markdown > diff.md   # a pull-request comment in CI

In a shallow CI clone the base may be missing: fetch it with `git fetch --unshallow`, or give
actions/checkout `fetch-depth: 0`.";

const SERVE_EXAMPLES: &str = "\
Examples:
  pimfeed serve --open                   # build, serve on http://127.0.0.1:8080, open a browser
  pimfeed serve --port 0                 # any free port (printed on start)
  pimfeed serve --editor 'idea://open?file={path}&line={line}'
  pimfeed serve --bind 0.0.0.0           # reachable from other machines: no login, so beware";

const NEW_EXAMPLES: &str = "\
Examples:
  pimfeed new --missing                  # a stub for every ERP item without content
  pimfeed new MK-DHP482 MK-DHP483        # stubs for these SKUs
  pimfeed new MK-DHP482 --family power-tools

The family comes from --family, else from the longest matching SKU prefix in pim.toml:
  [new.family_by_sku_prefix]
  \"MK-\" = \"power-tools\"
  \"SN-\" = \"workwear\"
else it is the schema's only family.";

const SCHEMA_EXAMPLES: &str = "\
Examples:
  pimfeed schema                         # write content/product.schema.json and .taplo.toml
  pimfeed schema --stdout                # print the schema instead

VS Code: install the Even Better TOML extension; other editors: any Taplo language server.";

const INIT_EXAMPLES: &str = "\
Examples:
  pimfeed init shop && cd shop && pimfeed build
  git switch -c new-drill   # edit content/products/…, then
  pimfeed diff main         # see exactly which channel items the edit changes";

#[derive(Debug, Args)]
pub struct CheckArgs {
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,

    /// Also fail (exit 1) when a product is left out of a channel because it is incomplete.
    #[arg(long)]
    pub strict: bool,

    /// Read and check every file, ignoring what the last build cached in .pimfeed/cache/.
    #[arg(long)]
    pub no_cache: bool,
}

#[derive(Debug, Args)]
pub struct BuildArgs {
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,

    /// Also fail (exit 1) when a product is left out of a channel because it is incomplete.
    #[arg(long)]
    pub strict: bool,

    /// Parse, gate and render every product, ignoring the build cache in .pimfeed/cache/.
    ///
    /// Each build keeps, per content file, its verdicts and where its items are in the
    /// feeds; the next build copies what did not change (same file bytes, same ERP
    /// records, same pimfeed, configuration and templates) instead of rendering it again.
    /// The output is the same byte for byte either way; a new cache is kept in both.
    #[arg(long)]
    pub no_cache: bool,

    /// Wait at most this long for another build or refresh of this catalog to finish, then
    /// give up with exit code 2; 0 gives up at once.
    ///
    /// Only one build or refresh of a catalog writes at a time: `refresh` from cron and
    /// `build` on merge can overlap, and both swap new folders into feeds/ and .pimfeed/, so
    /// two at once could fail halfway or publish one run's feeds beside the other's last build.
    /// Each run holds a lock on .pimfeed/lock from start to finish. The operating system
    /// releases it when the run ends, even when it crashes, so a lock is never left behind
    /// and there is nothing to clean up (deleting .pimfeed/lock would only break the lock).
    #[arg(long, value_name = "SECONDS", default_value_t = 600)]
    pub wait: u64,

    /// Swap in the new feeds even when a channel loses more than `[guard] max_drop_percent`
    /// of its items (default 10%) or the ERP pull more than that share of its records.
    ///
    /// Without it such a run stops with exit code 1, names the channel, the old and new
    /// counts and the first SKUs that disappear, and changes nothing.
    #[arg(long)]
    pub allow_drop: bool,
}

#[derive(Debug, Args)]
pub struct WatchArgs {
    #[command(flatten)]
    pub build: BuildArgs,

    /// Wait this long after a change for more before rebuilding (editors write a save in
    /// several steps).
    #[arg(long, value_name = "MS", default_value_t = 300)]
    pub debounce_ms: u64,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The port to listen on; 0 takes any free one.
    #[arg(long, default_value_t = 8080)]
    pub port: u16,

    /// The address to listen on. The default is this machine only; any other address shows
    /// the catalog, its ERP numbers and feeds to whoever can reach it, without a login.
    #[arg(long, value_name = "ADDRESS", default_value = "127.0.0.1")]
    pub bind: std::net::IpAddr,

    /// Open the overview in the desktop's browser.
    #[arg(long)]
    pub open: bool,

    /// How the \"open in editor\" links are made: {path} is the file's absolute path,
    /// {line} the line. VS Code's by default; e.g. `idea://open?file={path}&line={line}`
    /// for IntelliJ, `subl://open?url=file://{path}&line={line}` for Sublime Text.
    #[arg(
        long,
        value_name = "URL",
        env = "PIMFEED_EDITOR_URL",
        default_value = "vscode://file/{path}:{line}"
    )]
    pub editor: String,

    /// Wait this long after a change for more before rebuilding.
    #[arg(long, value_name = "MS", default_value_t = 300)]
    pub debounce_ms: u64,

    /// Let every rebuild through the guard, as `build --allow-drop` does: without it, a save
    /// that would drop more than `[guard] max_drop_percent` of a channel's items shows the
    /// guard's message on the pages and keeps the last build.
    #[arg(long)]
    pub allow_drop: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Readable output on stderr.
    Human,
    /// One JSON document on stdout.
    Json,
    /// GitHub Actions annotations on stdout, summary on stderr.
    Github,
}

#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The revision to compare against: a branch, tag or commit (`main`, `origin/main`).
    pub base: String,

    /// The revision with the change. Default: the working tree, uncommitted edits included.
    pub head: Option<String>,

    #[arg(long, value_enum, default_value_t = DiffFormat::Human)]
    pub format: DiffFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DiffFormat {
    /// Readable text on stdout.
    Human,
    /// One JSON document on stdout, with full values.
    Json,
    /// GitHub-flavoured Markdown on stdout, for a pull-request comment.
    Markdown,
}

#[derive(Debug, Args)]
pub struct NewArgs {
    /// ERP item numbers to write stubs for.
    #[arg(value_name = "SKU", required_unless_present = "missing")]
    pub skus: Vec<String>,

    /// A stub for every ERP item that has no content file.
    #[arg(long, conflicts_with = "skus")]
    pub missing: bool,

    /// The family of the new products (see content/schema.toml).
    #[arg(long, value_name = "NAME")]
    pub family: Option<String>,
}

#[derive(Debug, Args)]
pub struct SchemaArgs {
    /// Print the schema on stdout instead of writing files.
    #[arg(long)]
    pub stdout: bool,
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// The folder to create the catalog in; it must be empty or not exist yet.
    #[arg(default_value = ".")]
    pub dir: PathBuf,

    /// Do not make it a git repository.
    #[arg(long)]
    pub no_git: bool,

    /// Only write the GitHub Actions workflow (.github/workflows/pimfeed.yml), into the
    /// existing catalog repository at or above DIR, for its `main` or `master` branch.
    #[arg(long, conflicts_with = "no_git")]
    pub ci_only: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PublishFormat {
    /// Readable output on stderr.
    Human,
    /// One JSON document on stdout.
    Json,
}

#[derive(Debug, Args)]
pub struct PublishArgs {
    #[arg(long, value_enum, default_value_t = PublishFormat::Human)]
    pub format: PublishFormat,

    /// Publish even when a channel loses more than `[guard] max_drop_percent` of the items
    /// the target serves now.
    #[arg(long)]
    pub allow_drop: bool,

    /// Wait at most this long for a build or refresh of this catalog to finish.
    #[arg(long, value_name = "SECONDS", default_value_t = 600)]
    pub wait: u64,
}

#[derive(Debug, Args)]
pub struct RollbackArgs {
    /// The release to put back (see `--list`). Default: the one before the current one.
    #[arg(value_name = "ID", conflicts_with = "list")]
    pub id: Option<String>,

    /// List the releases the target keeps, newest first.
    #[arg(long)]
    pub list: bool,

    #[arg(long, value_enum, default_value_t = PublishFormat::Human)]
    pub format: PublishFormat,
}

/// `pimfeed push --help`'s examples.
pub const PUSH_EXAMPLES: &str = "\
Examples:
  pimfeed push                           # every channel with a [channels.NAME.push] table
  pimfeed push bol --dry-run             # list the calls it would make, send none
  pimfeed push --format json             # one JSON document on stdout, for scripts
  pimfeed push --allow-drop              # a large drop of offers is intended

In pim.toml (credentials only ever from the environment):
  [channels.bol.push]
  client_id_env = \"BOL_CLIENT_ID\"
  client_secret_env = \"BOL_CLIENT_SECRET\"
  on_removed = \"hold\"                    # or \"delete\"
  max_drop_percent = 10

  [channels.amazon-nl.push]
  client_id_env = \"SP_API_CLIENT_ID\"
  client_secret_env = \"SP_API_CLIENT_SECRET\"
  refresh_token_env = \"SP_API_REFRESH_TOKEN\"

From cron, after the stock refresh:
  */15 * * * *  cd /srv/catalog && pimfeed refresh --quiet && pimfeed push --quiet && pimfeed publish";

#[derive(Debug, Args)]
pub struct PushArgs {
    /// The channels to push; by default every channel with a `[channels.NAME.push]` table.
    #[arg(value_name = "CHANNEL")]
    pub channels: Vec<String>,

    /// Print the calls the push would make and their count; send nothing.
    ///
    /// Makes no network call at all: without a pushed state in .pimfeed/push/, every offer
    /// counts as new (a real push first reads back the offers the marketplace has).
    #[arg(long)]
    pub dry_run: bool,

    /// Push even when more than `max_drop_percent` of a channel's live offers would go off
    /// sale.
    #[arg(long)]
    pub allow_drop: bool,

    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
}
