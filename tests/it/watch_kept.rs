//! `pimfeed watch` keeps the list of product files and the ERP numbers of a file export from
//! one rebuild to the next, and drops them exactly when what they were made from changes.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use crate::common::Catalog;

/// Kills the watcher when the test ends, passed or not.
pub(crate) struct Watching(Child);

impl Drop for Watching {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `watch --timings` on `catalog`, and each build's lines on stderr as it ends.
pub(crate) fn watch(catalog: &Catalog, debounce_ms: &str) -> (Watching, mpsc::Receiver<String>) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_pimfeed"))
        .args(["watch", "--timings", "--allow-drop", "--debounce-ms"])
        .arg(debounce_ms)
        .current_dir(catalog.path())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start pimfeed watch");
    let stderr = child.stderr.take().expect("piped stderr");
    let (lines, received) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if lines.send(line).is_err() {
                break;
            }
        }
    });
    (Watching(child), received)
}

/// What the next build said on stderr, up to the line that says the watch goes on.
pub(crate) fn next_build(lines: &mpsc::Receiver<String>) -> String {
    let mut said = String::new();
    loop {
        let line = lines
            .recv_timeout(Duration::from_secs(60))
            .unwrap_or_else(|_| panic!("gave up waiting for a build; so far:\n{said}"));
        if line.starts_with("watching ") {
            assert!(said.contains("built "), "the build failed:\n{said}");
            return said;
        }
        said.push_str(&line);
        said.push('\n');
    }
}

const LISTING_KEPT: &str = "listing the product files (kept";
const LISTING_WALKED: &str = "listing the product files (a walk";
const ERP_KEPT: &str = "the numbers kept from the last build";

/// The feeds, without the report and manifest (which say when they were made).
fn feeds(catalog: &Catalog) -> Vec<(std::path::PathBuf, Vec<u8>)> {
    let mut feeds = catalog.feeds_snapshot();
    feeds.retain(|(path, _)| !path.starts_with("report") && path != Path::new("manifest.json"));
    feeds
}

/// The feeds as they are, and as a build that trusts no cache makes them from the same files.
fn assert_same_as_without_cache(catalog: &Catalog) {
    let watched = feeds(catalog);
    assert!(watched.len() >= 2);
    catalog
        .run(&["build", "--no-cache", "--allow-drop", "--quiet"])
        .expect(0);
    assert_eq!(watched, feeds(catalog));
}

fn edit(catalog: &Catalog, file: &str, from: &str, to: &str) {
    let text = catalog.read(file);
    assert!(text.contains(from), "{file} has no `{from}`");
    catalog.write(file, &text.replacen(from, to, 1));
}

#[test]
fn kept_inputs_are_used_while_they_hold_and_dropped_when_their_files_change() {
    let catalog = Catalog::fixture("basic");
    let (watching, builds) = watch(&catalog, "100");
    let first = next_build(&builds);
    assert!(first.contains(LISTING_WALKED), "{first}");
    assert!(!first.contains(ERP_KEPT), "{first}");

    // A content edit: the listing and the ERP numbers are the last build's.
    let dr1 = "content/products/tools/DR-1.toml";
    edit(
        &catalog,
        dr1,
        "Accuboormachine DR-1 18V",
        "Accuboormachine DR-1 19V",
    );
    let said = next_build(&builds);
    assert!(said.contains(LISTING_KEPT), "{said}");
    assert!(said.contains(ERP_KEPT), "{said}");
    assert!(catalog.read("feeds/google.xml").contains("DR-1 19V"));

    // The export changed: pulled again, and kept again for the edit after.
    edit(&catalog, "erp/items.csv", "DR-1,149.95,", "DR-1,151.95,");
    let said = next_build(&builds);
    assert!(!said.contains(ERP_KEPT), "{said}");
    assert!(catalog.read("feeds/google.xml").contains("151.95 EUR"));
    edit(&catalog, dr1, "DR-1 19V", "DR-1 20V");
    let said = next_build(&builds);
    assert!(said.contains(ERP_KEPT), "{said}");
    assert!(catalog.read("feeds/google.xml").contains("151.95 EUR"));

    // A template and pim.toml are read again whenever they change.
    edit(
        &catalog,
        "templates/partner.json",
        "{\"source\"",
        "{\"origin\"",
    );
    next_build(&builds);
    assert!(catalog.read("feeds/partner.json").contains("\"origin\""));
    edit(
        &catalog,
        "pim.toml",
        "name = \"Fixture Tools\"",
        "name = \"Fixture Tools BV\"",
    );
    next_build(&builds);
    assert!(
        catalog
            .read("feeds/partner.json")
            .contains("Fixture Tools BV")
    );

    // A file removed: the kept listing loses it.
    let dr3 = "content/products/tools/DR-3.toml";
    let dr3_text = catalog.read(dr3);
    std::fs::remove_file(catalog.path().join(dr3)).unwrap();
    let said = next_build(&builds);
    assert!(said.contains(LISTING_KEPT), "{said}");
    assert!(!catalog.read("feeds/partner.json").contains("DR-3"));

    // A folder moved in, its file with it (which sends no event of its own): walked.
    catalog.write("incoming/more/DR-3.toml", &dr3_text);
    std::fs::rename(
        catalog.path().join("incoming/more"),
        catalog.path().join("content/products/more"),
    )
    .unwrap();
    let said = next_build(&builds);
    assert!(said.contains(LISTING_WALKED), "{said}");
    assert!(catalog.read("feeds/partner.json").contains("DR-3"));

    // A new file in a folder the watch knows: added to the kept listing.
    catalog.write(
        "content/products/more/X-1.toml",
        &catalog
            .read("content/products/more/DR-3.toml")
            .replace("DR-3", "X-1"),
    );
    let said = next_build(&builds);
    assert!(said.contains(LISTING_KEPT), "{said}");
    assert!(catalog.read("feeds/partner.json").contains("X-1"));
    drop(watching);

    assert_same_as_without_cache(&catalog);
}

#[test]
fn a_build_by_another_process_between_rebuilds_leaves_the_next_rebuild_right() {
    let catalog = Catalog::fixture("basic");
    // A long wait for the save to settle, so the other build runs before the rebuild.
    let (watching, builds) = watch(&catalog, "1500");
    next_build(&builds);
    let dr1 = "content/products/tools/DR-1.toml";
    edit(
        &catalog,
        dr1,
        "Accuboormachine DR-1 18V",
        "Accuboormachine DR-1 19V",
    );
    next_build(&builds);

    // The export changes and another process builds (with no cache, so it makes one of its
    // own from other records) before the watcher rebuilds.
    edit(&catalog, "erp/items.csv", "DR-1,149.95,", "DR-1,151.95,");
    catalog
        .run(&["build", "--no-cache", "--allow-drop", "--quiet"])
        .expect(0);
    let said = next_build(&builds);
    assert!(!said.contains(ERP_KEPT), "{said}");
    assert!(catalog.read("feeds/google.xml").contains("151.95 EUR"));

    // Another build between two rebuilds that changes nothing the watcher sees.
    edit(&catalog, dr1, "DR-1 19V", "DR-1 20V");
    catalog.run(&["build", "--allow-drop", "--quiet"]).expect(0);
    let said = next_build(&builds);
    assert!(said.contains(ERP_KEPT), "{said}");
    assert!(catalog.read("feeds/google.xml").contains("DR-1 20V"));
    drop(watching);

    assert_same_as_without_cache(&catalog);
}

const ENTRIES_KEPT: &str = "its entries kept from the last build";

/// `watch` keeps the entries of the build cache its last rebuild committed and takes them
/// instead of decoding the cache again: an edit, a new file, a removed one and a renamed
/// one in turn build what a build without the cache builds. A build by another process in
/// between, without the cache or with it, leaves a cache of its own, which the next rebuild
/// reads from disk.
#[test]
fn cache_entries_kept_between_rebuilds_build_what_a_build_without_the_cache_builds() {
    let catalog = Catalog::fixture("basic");
    let (watching, builds) = watch(&catalog, "100");
    let first = next_build(&builds);
    assert!(!first.contains(ENTRIES_KEPT), "{first}");

    let dr1 = "content/products/tools/DR-1.toml";
    edit(&catalog, dr1, "DR-1 18V", "DR-1 19V");
    let said = next_build(&builds);
    assert!(said.contains(ENTRIES_KEPT), "{said}");
    assert!(catalog.read("feeds/google.xml").contains("DR-1 19V"));

    // A new file, before the others in catalog order.
    let dr2 = catalog.read("content/products/tools/DR-2.toml");
    catalog.write(
        "content/products/tools/AA-1.toml",
        &dr2.replace("DR-2", "AA-1"),
    );
    let said = next_build(&builds);
    assert!(said.contains(ENTRIES_KEPT), "{said}");
    assert!(catalog.last_build_products().contains("AA-1"));

    // A file removed.
    std::fs::remove_file(catalog.path().join("content/products/tools/DR-3.toml")).unwrap();
    let said = next_build(&builds);
    assert!(said.contains(ENTRIES_KEPT), "{said}");
    assert!(!catalog.read("feeds/partner.json").contains("DR-3"));

    // A file renamed, to the front of the catalog: its bytes are the same, its path new.
    std::fs::rename(
        catalog.path().join("content/products/tools/DR-4.toml"),
        catalog.path().join("content/products/shirts/A-DR-4.toml"),
    )
    .unwrap();
    let said = next_build(&builds);
    assert!(said.contains(ENTRIES_KEPT), "{said}");
    let watched = crate::cache::outputs(&catalog);

    // A build without the cache by another process: the same outputs, and a cache of its own.
    catalog
        .run(&["build", "--no-cache", "--allow-drop", "--quiet"])
        .expect(0);
    crate::cache::assert_same(&watched, &crate::cache::outputs(&catalog));
    edit(&catalog, dr1, "DR-1 19V", "DR-1 20V");
    let said = next_build(&builds);
    assert!(
        !said.contains(ENTRIES_KEPT),
        "another process's cache: {said}"
    );
    assert!(catalog.read("feeds/google.xml").contains("DR-1 20V"));
    edit(&catalog, dr1, "DR-1 20V", "DR-1 21V");
    let said = next_build(&builds);
    assert!(said.contains(ENTRIES_KEPT), "its own cache again: {said}");

    // A build from the cache by another process, with nothing changed.
    catalog.run(&["build", "--allow-drop", "--quiet"]).expect(0);
    edit(&catalog, dr1, "DR-1 21V", "DR-1 22V");
    let said = next_build(&builds);
    assert!(
        !said.contains(ENTRIES_KEPT),
        "another process's cache: {said}"
    );
    assert!(catalog.read("feeds/google.xml").contains("DR-1 22V"));
    edit(&catalog, dr1, "DR-1 22V", "DR-1 23V");
    let said = next_build(&builds);
    assert!(said.contains(ENTRIES_KEPT), "{said}");
    let watched = crate::cache::outputs(&catalog);
    drop(watching);

    catalog
        .run(&["build", "--no-cache", "--allow-drop", "--quiet"])
        .expect(0);
    crate::cache::assert_same(&watched, &crate::cache::outputs(&catalog));
}
