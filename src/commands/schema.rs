use std::path::Path;

use crate::cli::SchemaArgs;

pub fn run(_root: &Path, _args: &SchemaArgs) -> u8 {
    super::exit::OPERATIONAL
}
