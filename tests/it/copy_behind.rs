//! Long runs of the last build's feeds are copied on a thread of their own, into gaps the
//! writer leaves, while the build goes on. A debug build copies every run that way when
//! `PIMFEED_COPY_BEHIND=1,1` is set (a run of one byte is long enough, and a growing run is
//! handed over at every item), so these small catalogs take that path; and it splits the last
//! build's product lines over files of 4,000 bytes, so that some are linked and some written.
//! The feeds and the product lines are still byte for byte those of a build without the
//! cache, a broken new item still swaps nothing in, and a crash still leaves one whole build.

use std::os::unix::process::ExitStatusExt;

use crate::cache::{assert_same, outputs, spliced};
use crate::common::{Catalog, debug_build_has};

const EVERY_RUN_BEHIND: (&str, &str) = ("PIMFEED_COPY_BEHIND", "1,1");
const SMALL_LINE_FILES: (&str, &str) = ("PIMFEED_LAST_BUILD_FILE_BYTES", "4000");

fn build(catalog: &Catalog, args: &[&str]) -> crate::common::Run {
    let args: Vec<&str> = ["build"].iter().chain(args).copied().collect();
    catalog.run_env(&args, &[EVERY_RUN_BEHIND, SMALL_LINE_FILES])
}

/// Edits near the start, in the middle and at the end of the catalog, each built from the
/// cache with every run copied behind, against the same content built without the cache.
fn edits_match_a_build_without_the_cache(catalog: &Catalog, files: &[&str], expect_spliced: bool) {
    build(catalog, &[]).expect(0);
    for file in files {
        let text = catalog
            .read(file)
            .replacen("title.nl-NL = \"", "title.nl-NL = \"Nieuw: ", 1);
        catalog.write(file, &text);
        let cached = build(catalog, &["--format", "json"]).expect(0);
        if expect_spliced {
            assert!(spliced(&cached) > 0, "{file}: runs were spliced");
        }
        let with_cache = outputs(catalog);
        catalog.run(&["build", "--no-cache"]).expect(0);
        assert_same(&with_cache, &outputs(catalog));
    }
}

#[test]
fn runs_copied_behind_give_the_bytes_of_a_build_without_the_cache() {
    if !debug_build_has("PIMFEED_COPY_BEHIND") {
        return;
    }
    let catalog = Catalog::example();
    let mut files = product_files(&catalog);
    assert!(files.len() > 10, "the example has products to edit");
    let picked = [
        files.remove(0),
        files.remove(files.len() / 2),
        files.pop().unwrap(),
    ];
    let picked: Vec<&str> = picked.iter().map(String::as_str).collect();
    edits_match_a_build_without_the_cache(&catalog, &picked, true);

    // With gzip twins the runs go through memory, in order, as before.
    let config = catalog.read("pim.toml") + "\n[build]\ngzip = true\n";
    catalog.write("pim.toml", &config);
    edits_match_a_build_without_the_cache(&catalog, &picked[..1], false);
}

#[test]
fn runs_copied_behind_into_an_amazon_feed_in_parts_give_the_bytes_of_a_build_without_the_cache() {
    if !debug_build_has("PIMFEED_COPY_BEHIND") {
        return;
    }
    let catalog = Catalog::fixture("marketplaces");
    let files = product_files(&catalog);
    let first = files.first().unwrap().as_str();
    edits_match_a_build_without_the_cache(&catalog, &[first], false);
}

/// A user's template that leaves an element open for one title: with the rest of its feed
/// copied behind, the build still fails before the swap, and the feeds and the last build's
/// content stay those of the last good build.
#[test]
fn a_broken_new_item_between_runs_copied_behind_swaps_nothing_in() {
    if !debug_build_has("PIMFEED_COPY_BEHIND") {
        return;
    }
    crate::splice::a_broken_new_item_swaps_nothing_in(build);
}

/// Killed just before the feeds go live and just after: the next run sees one whole build
/// (the feeds with the content they were built from), and a build from the cache after it
/// writes what a build without the cache writes.
#[test]
fn a_crash_around_the_swap_with_runs_copied_behind_leaves_one_whole_build() {
    if !debug_build_has("PIMFEED_COPY_BEHIND") {
        return;
    }
    for (failpoint, new_is_live) in [("before-commit=kill", false), ("after-feeds=kill", true)] {
        let catalog = Catalog::example();
        build(&catalog, &[]).expect(0);
        let drill = "content/products/power-tools/MK-DHP485.toml";
        let text = catalog.read(drill);
        catalog.write(
            drill,
            &text.replacen("title.nl-NL = \"", "title.nl-NL = \"Nieuw: ", 1),
        );
        let killed = catalog.run_env(
            &["build"],
            &[EVERY_RUN_BEHIND, ("PIMFEED_FAILPOINT", failpoint)],
        );
        assert_eq!(killed.0.status.signal(), Some(9), "{failpoint}: killed");
        // A refresh renders the last build's content: it finishes or abandons the swap first.
        catalog.run(&["refresh"]).expect(0);
        let feed = catalog.read("feeds/webshop.json").contains("Nieuw: ");
        let content = catalog.last_build_products().contains("Nieuw: ");
        assert_eq!((feed, content), (new_is_live, new_is_live), "{failpoint}");
        build(&catalog, &[]).expect(0);
        let with_cache = outputs(&catalog);
        catalog.run(&["build", "--no-cache"]).expect(0);
        assert_same(&with_cache, &outputs(&catalog));
    }
}

/// The catalog's product files, catalog-relative, in catalog order.
fn product_files(catalog: &Catalog) -> Vec<String> {
    walkdir::WalkDir::new(catalog.path().join("content/products"))
        .sort_by_file_name()
        .into_iter()
        .map(|entry| entry.unwrap().path().to_path_buf())
        .filter(|path| path.extension().is_some_and(|ext| ext == "toml"))
        .map(|path| {
            let relative = path.strip_prefix(catalog.path()).unwrap();
            relative.to_string_lossy().into_owned()
        })
        .collect()
}
