//! `pimfeed watch`: a save rebuilds the feeds, from the build cache.

use std::io::{BufRead, BufReader};
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::common::Catalog;

/// Kills the watcher when the test ends, passed or not.
struct Watching(Child);

impl Drop for Watching {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// pimfeed turns transparent huge pages off for itself (see `src/main.rs`); the kernel says
/// so in the process's status.
#[cfg(target_os = "linux")]
fn assert_no_transparent_huge_pages(process: &Child) {
    let status = std::fs::read_to_string(format!("/proc/{}/status", process.id()))
        .expect("read the watcher's status");
    // Kernels before 5.0 do not show the line.
    if let Some(line) = status.lines().find(|l| l.starts_with("THP_enabled:")) {
        assert_eq!(line.split_whitespace().nth(1), Some("0"), "{line}");
    }
}

fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !done() {
        assert!(Instant::now() < deadline, "gave up waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn a_saved_edit_is_rebuilt_into_the_feeds() {
    let catalog = Catalog::fixture("basic");
    let _watching = Watching(
        Command::new(env!("CARGO_BIN_EXE_pimfeed"))
            .args(["watch", "--quiet", "--debounce-ms", "100"])
            .current_dir(catalog.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start pimfeed watch"),
    );
    let feed = catalog.path().join("feeds/google.xml");
    wait_for("the first build", || feed.exists());
    assert!(
        catalog
            .read("feeds/google.xml")
            .contains("Accuboormachine DR-1 18V")
    );
    #[cfg(target_os = "linux")]
    assert_no_transparent_huge_pages(&_watching.0);

    let product = "content/products/tools/DR-1.toml";
    let edited = catalog.read(product).replace(
        "Accuboormachine DR-1 18V",
        "Accuboormachine DR-1 18V, nieuw model",
    );
    catalog.write(product, &edited);
    wait_for("the rebuild", || {
        std::fs::read_to_string(&feed).is_ok_and(|xml| xml.contains("nieuw model"))
    });

    // Its own output does not set it off again: every build writes a new manifest file, and
    // this one stays.
    let manifest = || {
        std::fs::metadata(catalog.path().join("feeds/manifest.json"))
            .map(|m| m.ino())
            .ok()
    };
    wait_for("the manifest", || manifest().is_some());
    let after_rebuild = manifest();
    std::thread::sleep(Duration::from_millis(800));
    assert_eq!(manifest(), after_rebuild);
}

#[test]
fn a_saved_price_list_is_rebuilt_into_the_feeds() {
    let catalog = Catalog::example();
    let _watching = Watching(
        Command::new(env!("CARGO_BIN_EXE_pimfeed"))
            .args(["watch", "--quiet", "--debounce-ms", "100"])
            .current_dir(catalog.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start pimfeed watch"),
    );
    let feed = catalog.path().join("feeds/google-uk.xml");
    wait_for("the first build", || feed.exists());
    assert!(catalog.read("feeds/google-uk.xml").contains("110.99 GBP"));

    // The GBP price list is an ERP file of its own, beside the export: a save rebuilds too.
    let prices = "erp/prices-gbp.csv";
    let edited = catalog
        .read(prices)
        .replace("MK-DHP485,110.99,", "MK-DHP485,111.49,");
    catalog.write(prices, &edited);
    wait_for("the rebuild", || {
        std::fs::read_to_string(&feed).is_ok_and(|xml| xml.contains("111.49 GBP"))
    });
}

/// Starts `watch --format json` and hands over each build's JSON document as it is printed.
fn watch_json(catalog: &Catalog) -> (Watching, mpsc::Receiver<serde_json::Value>) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_pimfeed"))
        .args(["watch", "--format", "json", "--debounce-ms", "100"])
        .current_dir(catalog.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start pimfeed watch");
    let stdout = child.stdout.take().expect("piped stdout");
    let (documents, received) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let document = serde_json::from_str(&line).expect("one JSON document a line");
            if documents.send(document).is_err() {
                break;
            }
        }
    });
    (Watching(child), received)
}

fn next_build(builds: &mpsc::Receiver<serde_json::Value>) -> serde_json::Value {
    builds
        .recv_timeout(Duration::from_secs(60))
        .expect("gave up waiting for a build")
}

#[test]
fn a_rebuild_takes_no_stamp_of_files_the_watcher_saw_unchanged_and_builds_the_same_bytes() {
    let catalog = Catalog::fixture("basic");
    let (watching, builds) = watch_json(&catalog);
    let first = next_build(&builds);
    assert_eq!(first["ok"], true, "{first}");
    // The first build has no cache of its own making: it checks every file.
    assert_eq!(first["cache"]["files_vouched_by_watch"], 0, "{first}");

    let product = "content/products/tools/DR-1.toml";
    catalog.write(
        product,
        &catalog.read(product).replace(
            "Accuboormachine DR-1 18V",
            "Accuboormachine DR-1 18V, nieuw",
        ),
    );
    let second = next_build(&builds);
    let cache = &second["cache"];
    assert!(cache["files_checked"].as_u64().unwrap() >= 1, "{second}");
    assert!(cache["files_reused"].as_u64().unwrap() >= 2, "{second}");
    // Every file the build reused, it took on the watcher's word.
    assert_eq!(
        cache["files_vouched_by_watch"], cache["files_reused"],
        "{second}"
    );
    assert!(catalog.read("feeds/google.xml").contains("DR-1 18V, nieuw"));

    // Two files saved at once, one of them the file edited before: both are read again.
    let other = "content/products/shirts/TS.toml";
    catalog.write(
        product,
        &catalog.read(product).replace(", nieuw", ", nieuwer"),
    );
    catalog.write(
        other,
        &catalog.read(other).replace("Werkshirt TS", "Werkhemd TS"),
    );
    let third = next_build(&builds);
    assert!(
        third["cache"]["files_checked"].as_u64().unwrap() >= 2,
        "{third}"
    );
    assert!(
        catalog
            .read("feeds/google.xml")
            .contains("DR-1 18V, nieuwer")
    );
    drop(watching);

    // The same feeds, byte for byte, as a build that trusts no cache (the report and
    // manifest say when they were made).
    let feeds = || {
        let mut feeds = catalog.feeds_snapshot();
        feeds.retain(|(path, _)| !path.starts_with("report") && path != Path::new("manifest.json"));
        feeds
    };
    let watched = feeds();
    assert!(watched.len() >= 2);
    catalog
        .run(&["build", "--no-cache", "--allow-drop", "--quiet"])
        .expect(0);
    assert_eq!(watched, feeds());
}
