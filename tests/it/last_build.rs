//! The last build's products are split over line files of a few megabytes; a build from the
//! cache writes anew only the files that hold a changed line and links the others to the
//! previous build's. A debug build takes the files' size from
//! `PIMFEED_LAST_BUILD_FILE_BYTES`, so that the example's few products fill several.

use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;

use crate::cache::{assert_same, outputs};
use crate::common::{Catalog, debug_build_has};

const SMALL_FILES: (&str, &str) = ("PIMFEED_LAST_BUILD_FILE_BYTES", "4000");

fn build(catalog: &Catalog, args: &[&str]) -> crate::common::Run {
    let args: Vec<&str> = ["build"].iter().chain(args).copied().collect();
    catalog.run_env(&args, &[SMALL_FILES])
}

/// The inode of each line file, in order.
fn inodes(catalog: &Catalog) -> Vec<u64> {
    let dir = catalog.path().join(".pimfeed/last-build/products");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .collect();
    files.sort();
    files
        .iter()
        .map(|file| std::fs::metadata(file).unwrap().ino())
        .collect()
}

/// The feeds without the report and manifest, which carry the time of the run.
fn feeds(catalog: &Catalog) -> Vec<(PathBuf, Vec<u8>)> {
    let mut feeds = catalog.feeds_snapshot();
    feeds.retain(|(path, _)| !path.starts_with("report") && !path.ends_with("manifest.json"));
    feeds
}

#[test]
fn an_edit_rewrites_the_line_file_it_is_in_and_links_the_others() {
    if !debug_build_has("PIMFEED_LAST_BUILD_FILE_BYTES") {
        return;
    }
    let catalog = Catalog::example();
    build(&catalog, &[]).expect(0);
    let before = inodes(&catalog);
    assert!(before.len() > 4, "several line files: {before:?}");

    let drill = "content/products/power-tools/MK-DHP485.toml";
    let text = catalog.read(drill);
    catalog.write(drill, &text.replacen("Makita", "MAKITA", 1));
    build(&catalog, &[]).expect(0);
    let after = inodes(&catalog);
    let linked = after.iter().filter(|inode| before.contains(inode)).count();
    assert!(
        linked + 1 == after.len(),
        "every line file but the edited product's linked: {before:?} then {after:?}"
    );

    // Byte for byte what a build without the cache keeps, whose lines are split alike.
    let with_cache = outputs(&catalog);
    build(&catalog, &["--no-cache"]).expect(0);
    assert_same(&with_cache, &outputs(&catalog));

    // A refresh reads every line back over the files, with and without the cache.
    let built = feeds(&catalog);
    catalog.run(&["refresh", "--no-cache"]).expect(0);
    assert_eq!(feeds(&catalog), built);
    catalog.run(&["refresh"]).expect(0);
    assert_eq!(feeds(&catalog), built);
}

/// An earlier version kept the lines in one `products.jsonl`: a refresh still renders them,
/// and the next build splits them.
#[test]
fn a_last_build_in_one_products_file_is_still_read() {
    let catalog = Catalog::example();
    catalog.run(&["build"]).expect(0);
    let built = feeds(&catalog);
    let lines = catalog.last_build_products();
    std::fs::remove_dir_all(catalog.path().join(".pimfeed/last-build/products")).unwrap();
    catalog.write(".pimfeed/last-build/products.jsonl", &lines);

    catalog.run(&["refresh"]).expect(0);
    assert_eq!(feeds(&catalog), built);
    catalog.run(&["build"]).expect(0);
    assert_eq!(catalog.last_build_products(), lines);
    assert!(
        !catalog
            .path()
            .join(".pimfeed/last-build/products.jsonl")
            .exists()
    );
}
