use std::path::Path;

use super::exit;
use crate::cli::{DiffArgs, DiffFormat};
use crate::diff::{self, DiffError};
use crate::pipeline::Failure;

pub fn run(root: &Path, args: &DiffArgs) -> u8 {
    let diff = match diff::run(root, &args.base, args.head.as_deref()) {
        Ok(diff) => diff,
        Err(err) => {
            if let DiffError::Side { failure, .. } = &err {
                // The snippet renderer reads the working tree, which may not be the side
                // that failed: positions only.
                for diagnostic in failure.diagnostics() {
                    eprintln!("{}: {}", diagnostic.location(), diagnostic.message);
                }
                if matches!(failure, Failure::Schema(_)) {
                    eprintln!("error: {err}");
                    return exit::CONTENT;
                }
            }
            eprintln!("error: {err}");
            return exit::OPERATIONAL;
        }
    };
    let text = match args.format {
        DiffFormat::Human => diff::render::human(&diff),
        DiffFormat::Json => match serde_json::to_string_pretty(&diff) {
            Ok(json) => json + "\n",
            Err(err) => {
                eprintln!("error: cannot write the diff as JSON: {err}");
                return exit::OPERATIONAL;
            }
        },
        DiffFormat::Markdown => diff::render::markdown(&diff),
    };
    super::print_stdout(&text)
}
