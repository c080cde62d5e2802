use std::process::ExitCode;

use clap::Parser;

/// glibc's allocator spent a fifth of a build in malloc/free under rayon's two threads;
/// mimalloc's thread-local heaps make the many small strings of a feed cheap.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    pimfeed::git::keep_large_trees();
    let code = pimfeed::commands::run(pimfeed::cli::Cli::parse());
    // The previous feeds a build replaced are removed beside its last steps; done by now.
    pimfeed::staging::wait_for_removals();
    code
}
