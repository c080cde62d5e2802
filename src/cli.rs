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
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,

    /// Also fail (exit 1) when a product is left out of a channel because it is incomplete.
    #[arg(long)]
    pub strict: bool,
}

#[derive(Debug, Args)]
pub struct BuildArgs {
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,

    /// Also fail (exit 1) when a product is left out of a channel because it is incomplete.
    #[arg(long)]
    pub strict: bool,
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
