//! `pimfeed watch`: a save rebuilds the feeds, from the build cache.

use std::os::unix::fs::MetadataExt;
use std::process::{Child, Command, Stdio};
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
