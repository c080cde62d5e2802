use crate::cli::InitArgs;

pub fn run(_args: &InitArgs) -> u8 {
    super::exit::OPERATIONAL
}
