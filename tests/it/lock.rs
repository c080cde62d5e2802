//! One writer per catalog: `build` and `refresh` hold `.pimfeed/lock` for their whole run;
//! `check` writes nothing and never takes it.

use std::fs::File;
use std::time::Duration;

use crate::common::Catalog;

/// Locks the catalog the way another pimfeed run would, from this process.
fn hold_lock(catalog: &Catalog) -> File {
    std::fs::create_dir_all(catalog.path().join(".pimfeed")).unwrap();
    let file = File::options()
        .write(true)
        .create(true)
        .truncate(false)
        .open(catalog.path().join(".pimfeed/lock"))
        .unwrap();
    file.lock().unwrap();
    file
}

#[test]
fn build_with_wait_zero_fails_at_once_and_leaves_the_feeds() {
    let catalog = Catalog::fixture("basic");
    catalog.run(&["build"]).expect(0);
    let before = catalog.feeds_snapshot();
    let _held = hold_lock(&catalog);

    let run = catalog.run(&["build", "--wait", "0"]).expect(2);
    assert!(run.stderr().contains(".pimfeed/lock"), "{}", run.stderr());
    assert!(
        run.stderr().contains("another pimfeed build or refresh"),
        "{}",
        run.stderr()
    );
    assert!(!run.stderr().contains("waiting for"), "{}", run.stderr());
    assert_eq!(run.stdout(), "", "human output goes to stderr");
    assert_eq!(catalog.feeds_snapshot(), before);

    // Machines get the failure as the one JSON document on stdout, and no notice on stderr.
    let run = catalog
        .run(&["refresh", "--wait", "0", "--format", "json"])
        .expect(2);
    let document = run.json();
    assert_eq!(document["ok"], false);
    assert!(
        document["error"]
            .as_str()
            .unwrap()
            .contains(".pimfeed/lock"),
        "{document}"
    );
    assert_eq!(run.stderr(), "");
    assert_eq!(catalog.feeds_snapshot(), before);
}

#[test]
fn build_gives_up_when_the_wait_runs_out() {
    let catalog = Catalog::fixture("basic");
    let _held = hold_lock(&catalog);
    let run = catalog.run(&["build", "--wait", "1"]).expect(2);
    let stderr = run.stderr();
    assert!(
        stderr.contains("waiting for another pimfeed build or refresh of this catalog to finish"),
        "{stderr}"
    );
    assert!(stderr.contains(".pimfeed/lock"), "{stderr}");
    assert!(stderr.contains("after 1s"), "{stderr}");
    assert!(!catalog.path().join("feeds").exists());
}

#[test]
fn build_waits_for_the_lock_to_be_released() {
    let catalog = Catalog::fixture("basic");
    let held = hold_lock(&catalog);
    let release = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(300));
        drop(held);
    });
    // Whether the build starts before or after the release, it must succeed within its wait.
    catalog.run(&["build", "--wait", "1"]).expect(0);
    release.join().unwrap();
    assert!(catalog.path().join("feeds/manifest.json").is_file());
    assert!(
        catalog.path().join(".pimfeed/lock").is_file(),
        "the lock file is never deleted"
    );
}

#[test]
fn check_does_not_take_the_lock() {
    let catalog = Catalog::fixture("basic");
    let _held = hold_lock(&catalog);
    let run = catalog.run(&["check"]).expect(0);
    assert!(!run.stderr().contains("waiting"), "{}", run.stderr());
}
