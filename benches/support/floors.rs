//! The floors each figure is measured against: reading every product file (with a warm page
//! cache, and with a cold one where the kernel lets us drop it), stamping each once, and
//! writing the feeds' bytes once. Nothing reads or writes less than this, so a build's time is judged beside them.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Prints the time to read every file under `catalog/content` with all cores, warm and cold.
pub fn read_content(catalog: &Path) {
    let files = files_under(&catalog.join("content"), |_| true);
    read_all(&files);
    let (warm, bytes) = read_all(&files);
    println!(
        "  floor: reading {} files ({:.0} MB) with a warm page cache: {warm:.2} s",
        files.len(),
        bytes as f64 / 1e6
    );
    println!(
        "  floor: stamping them (a stat each, all cores), which a build from a fresh process \
         does to find an edit: {:.3} s",
        stat_all(&files)
    );
    match drop_page_cache() {
        Ok(()) => {
            let (cold, _) = read_all(&files);
            println!("  floor: the same with a cold page cache (caches dropped): {cold:.2} s");
            read_all(&files);
        }
        Err(err) => println!("  floor: cold page cache not measured: cannot drop caches ({err})"),
    }
}

/// Prints the time to write the bytes of every file in `feeds` (not its subfolders) once, to
/// new files beside it, without fsync (as a build writes them).
pub fn write_feeds(feeds: &Path) {
    let Ok(entries) = fs::read_dir(feeds) else {
        return;
    };
    let contents: Vec<(PathBuf, Vec<u8>)> = entries
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
        .map(|e| (e.path(), fs::read(e.path()).expect("read a feed")))
        .collect();
    let out = feeds.with_file_name("floor-write");
    let _ = fs::remove_dir_all(&out);
    fs::create_dir_all(&out).expect("create the write floor's folder");
    settle();
    let started = Instant::now();
    for (path, bytes) in &contents {
        fs::write(out.join(path.file_name().expect("a file name")), bytes).expect("write");
    }
    let wall = started.elapsed().as_secs_f64();
    let total: usize = contents.iter().map(|(_, b)| b.len()).sum();
    println!(
        "  floor: writing the {} files of {} once ({:.0} MB): {wall:.2} s",
        contents.len(),
        feeds.display(),
        total as f64 / 1e6
    );
    let _ = fs::remove_dir_all(&out);
}

/// Reads every file of the catalog a run reads (its content, ERP export, `.pimfeed/` and the
/// feeds a build from the cache copies from; not the Hugo peer's folders), so that the run
/// timed next starts from a warm page cache, as this benchmark says its runs do. A warm-up run
/// before it is not enough everywhere: this project's machines page out page-cache pages left
/// untouched for about a minute (a DAMON `pageout` scheme on physical memory, pages idle for
/// 12 of its 5-second intervals), and at 1M products the warm-up build alone takes longer,
/// so the timed cold build read most of the 743 MB of product files from the disk again.
pub fn warm(catalog: &Path) {
    let files = files_under(catalog, |entry| {
        !entry.file_name().to_string_lossy().starts_with("hugo-")
    });
    read_all(&files);
}

/// The files under `dir`, not descending into the folders `keep` turns down.
fn files_under(dir: &Path, keep: impl Fn(&walkdir::DirEntry) -> bool) -> Vec<PathBuf> {
    walkdir::WalkDir::new(dir)
        .into_iter()
        .filter_entry(keep)
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
        .map(walkdir::DirEntry::into_path)
        .collect()
}

/// Stats every file on all cores; the wall time.
fn stat_all(files: &[PathBuf]) -> f64 {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let started = Instant::now();
    std::thread::scope(|scope| {
        for chunk in files.chunks(files.len().div_ceil(threads).max(1)) {
            scope.spawn(move || chunk.iter().filter(|f| fs::metadata(f).is_ok()).count());
        }
    });
    started.elapsed().as_secs_f64()
}

/// Reads every file on all cores; the wall time and the bytes read.
fn read_all(files: &[PathBuf]) -> (f64, u64) {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let started = Instant::now();
    let bytes = std::thread::scope(|scope| {
        let workers: Vec<_> = files
            .chunks(files.len().div_ceil(threads).max(1))
            .map(|chunk| {
                scope.spawn(move || {
                    chunk
                        .iter()
                        .map(|f| fs::read(f).map_or(0, |b| b.len() as u64))
                        .sum::<u64>()
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|w| w.join().expect("a reader thread"))
            .sum()
    });
    (started.elapsed().as_secs_f64(), bytes)
}

/// Writes back to the disk what the runs before left in the page cache, and waits for it. A
/// build writes its feeds without waiting for the disk; the kernel writes them back over the
/// next seconds, and the run timed next would pay for part of that (writing the nine 100k
/// channels' 839 MB once took 3.44 s right after the runs that wrote them, 2.58 s after
/// this). Called before every timed run, so each starts from a settled machine.
pub fn settle() {
    // SAFETY: sync() takes no arguments and cannot fail.
    unsafe { libc::sync() };
}

/// Drops the kernel's page cache (root only, and not inside most containers).
fn drop_page_cache() -> std::io::Result<()> {
    settle();
    fs::write("/proc/sys/vm/drop_caches", "3")
}
