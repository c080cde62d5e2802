use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    pimfeed::commands::run(pimfeed::cli::Cli::parse())
}
