use std::path::Path;

use crate::cli::NewArgs;

pub fn run(_root: &Path, _args: &NewArgs) -> u8 {
    super::exit::OPERATIONAL
}
