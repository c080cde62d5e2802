use std::process::ExitCode;

use clap::Parser;

/// glibc's allocator spent a fifth of a build in malloc/free under rayon's two threads;
/// mimalloc's thread-local heaps make the many small strings of a feed cheap.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    pimfeed::git::keep_large_trees();
    allow_open_files();
    no_transparent_huge_pages();
    let code = pimfeed::commands::run(pimfeed::cli::Cli::parse());
    // The previous feeds a build replaced are removed beside its last steps; done by now.
    pimfeed::staging::wait_for_removals();
    pimfeed::one_shot::before_exit();
    code
}

/// The last build's product lines are kept in files of a few megabytes: a build of a million
/// products copies lines from some 380 of them, and `serve` keeps those of the build it shows
/// open while the next build reads its own. That is more than the 256 or 1,024 open files
/// some systems allow a process by default. The soft limit is raised as far as the hard one
/// (the system's to set) allows.
#[cfg(unix)]
fn allow_open_files() {
    // macOS refuses a soft limit above OPEN_MAX.
    let wanted: libc::rlim_t = if cfg!(target_os = "macos") {
        10_240
    } else {
        65_536
    };
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: both calls get a pointer to a live `rlimit` of this frame.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) == 0 && limit.rlim_cur < wanted {
            limit.rlim_cur = wanted.min(limit.rlim_max);
            let _ = libc::setrlimit(libc::RLIMIT_NOFILE, &limit);
        }
    }
}

#[cfg(not(unix))]
fn allow_open_files() {}

/// mimalloc asks Linux for transparent huge pages on its arenas wherever the system allows
/// them (`madvise` or `always`). A build touches much of its memory once: each first touch
/// then makes the kernel zero a whole 2 MiB page and, under the default `defrag = madvise`,
/// first compact memory to find one, on the spot. Without them, at 100k products, a cold
/// build took 5–8% less time by median, 13–30% less system time and no more stalls of
/// seconds; a build after a one-line edit took as long with 34 MiB less memory (the user
/// guide's Performance page has the runs).
#[cfg(target_os = "linux")]
fn no_transparent_huge_pages() {
    // SAFETY: PR_SET_THP_DISABLE takes plain integers and touches no memory of ours. It only
    // sets a flag of this process, which the processes it starts would keep (`serve` clears
    // it for the browser it opens); failing changes nothing.
    let _ = unsafe { libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0) };
}

#[cfg(not(target_os = "linux"))]
fn no_transparent_huge_pages() {}
