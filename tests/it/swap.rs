//! Putting a build live: feeds and the last build's content change together, whatever crashes
//! when; leftovers of killed runs go; a symlinked `feeds/` keeps its link.
//!
//! The crash tests use the fault-injection points debug builds have
//! (`PIMFEED_FAILPOINT=NAME=kill` kills the process there as `kill -9` would).

use std::fs;
use std::os::unix::process::ExitStatusExt;
use std::path::Path;

use crate::common::{Catalog, debug_build_has, field, rss_items};

const OLD_TITLE: &str = "Accuboormachine DR-1 18V";
const NEW_TITLE: &str = "Nieuwe titel DR-1 18V";

/// A built catalog whose DR-1 title has since been edited.
fn built_then_edited() -> Catalog {
    let catalog = Catalog::fixture("basic");
    catalog.run(&["build"]).expect(0);
    let product = catalog
        .read("content/products/tools/DR-1.toml")
        .replace(OLD_TITLE, NEW_TITLE);
    catalog.write("content/products/tools/DR-1.toml", &product);
    catalog
}

fn published_title(catalog: &Catalog) -> String {
    let items = rss_items(&catalog.read("feeds/google.xml"));
    let dr1 = items
        .iter()
        .find(|item| field(item, "g:id") == Some("DR-1"))
        .expect("DR-1 in the Google feed");
    field(dr1, "title")
        .or(field(dr1, "g:title"))
        .unwrap()
        .to_string()
}

/// Names in `dir` that a swap leaves only while it runs.
fn swap_leftovers(dir: &Path) -> Vec<String> {
    fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| {
            name.contains(".staging-")
                || name.contains(".old-")
                || name.contains(".trash-")
                || name.ends_with(".next")
        })
        .collect()
}

#[test]
fn a_crash_at_any_step_of_the_swap_leaves_the_old_build_or_the_new_one() {
    if !debug_build_has("PIMFEED_FAILPOINT") {
        return;
    }
    // (where the build is killed, whether the feeds were exchanged in one step, what is live
    // afterwards)
    let cases = [
        ("before-commit=kill", true, OLD_TITLE),
        ("after-feeds=kill", true, NEW_TITLE),
        ("after-last-build=kill", true, NEW_TITLE),
        ("exchange=error,before-commit=kill", false, OLD_TITLE),
        ("exchange=error,between-renames=kill", false, OLD_TITLE),
        ("exchange=error,after-feeds=kill", false, NEW_TITLE),
        // The snapshot's two renames, after the feeds went live.
        ("exchange=error,between-renames@2=kill", false, NEW_TITLE),
        ("exchange=error,after-last-build=kill", false, NEW_TITLE),
    ];
    for (failpoint, exchanged, live) in cases {
        let catalog = built_then_edited();
        let killed = catalog.run_env(&["build"], &[("PIMFEED_FAILPOINT", failpoint)]);
        assert_eq!(
            killed.0.status.signal(),
            Some(9),
            "{failpoint}: killed\n{}",
            killed.stderr()
        );
        if exchanged {
            assert!(
                catalog.path().join("feeds/google.xml").is_file(),
                "{failpoint}: with an atomic exchange, feeds/ is never absent"
            );
            assert_eq!(published_title(&catalog), live, "{failpoint}");
        }
        // The next run (a refresh renders the last build's content) sees one consistent build.
        catalog.run(&["refresh"]).expect(0);
        assert_eq!(
            published_title(&catalog),
            live,
            "{failpoint}: after refresh"
        );
        let snapshot = catalog.last_build_products();
        assert!(
            snapshot.contains(live),
            "{failpoint}: the last build's content"
        );
        assert_eq!(swap_leftovers(catalog.path()), Vec::<String>::new());
        assert_eq!(
            swap_leftovers(&catalog.path().join(".pimfeed")),
            Vec::<String>::new(),
            "{failpoint}"
        );
    }
}

#[test]
fn a_crash_before_the_previous_feeds_are_removed_leaves_the_new_ones_and_the_next_run_removes_them()
{
    if !debug_build_has("PIMFEED_FAILPOINT") {
        return;
    }
    let catalog = built_then_edited();
    let killed = catalog.run_env(&["build"], &[("PIMFEED_FAILPOINT", "before-removal=kill")]);
    assert_eq!(killed.0.status.signal(), Some(9), "{}", killed.stderr());
    assert_eq!(published_title(&catalog), NEW_TITLE);
    // The previous feeds and content were renamed aside as trash, and are still there.
    let trash = |dir: &Path| -> Vec<String> {
        swap_leftovers(dir)
            .into_iter()
            .filter(|name| name.contains(".trash-"))
            .collect()
    };
    let feeds_trash = trash(catalog.path());
    assert_eq!(feeds_trash.len(), 1, "{feeds_trash:?}");
    assert!(
        feeds_trash[0].starts_with(".feeds.trash-"),
        "{feeds_trash:?}"
    );
    let previous = catalog.read(&format!("{}/google.xml", feeds_trash[0]));
    assert!(previous.contains(OLD_TITLE));
    assert_eq!(trash(&catalog.path().join(".pimfeed")).len(), 1);

    // Trash is never put back, not even where the live feeds went missing, and never read:
    // the next run renders the new content and removes it.
    fs::remove_dir_all(catalog.path().join("feeds")).unwrap();
    catalog.run(&["refresh"]).expect(0);
    assert_eq!(published_title(&catalog), NEW_TITLE);
    assert_eq!(swap_leftovers(catalog.path()), Vec::<String>::new());
    assert_eq!(
        swap_leftovers(&catalog.path().join(".pimfeed")),
        Vec::<String>::new()
    );
}

#[test]
fn staging_folders_of_killed_runs_are_removed_by_the_next_run() {
    if !debug_build_has("PIMFEED_FAILPOINT") {
        return;
    }
    let catalog = built_then_edited();
    for _ in 0..3 {
        let killed = catalog.run_env(&["build"], &[("PIMFEED_FAILPOINT", "before-commit=kill")]);
        assert_eq!(killed.0.status.signal(), Some(9));
    }
    // Each run removed the staging folder the run killed before it had left.
    let left = swap_leftovers(catalog.path());
    assert_eq!(left.len(), 1, "{left:?}");
    // A build killed while rendering leaves its snapshot's staging folder too.
    let mut gone = std::process::Command::new("true").spawn().unwrap();
    gone.wait().unwrap();
    let snapshot_staging = format!(".pimfeed/.last-build.staging-{}", gone.id());
    catalog.write(&format!("{snapshot_staging}/products/000000.jsonl"), "{}\n");
    catalog.run(&["refresh"]).expect(0);
    assert!(!catalog.path().join(&snapshot_staging).exists());
    catalog.run(&["build"]).expect(0);
    assert_eq!(swap_leftovers(catalog.path()), Vec::<String>::new());
    assert_eq!(
        swap_leftovers(&catalog.path().join(".pimfeed")),
        Vec::<String>::new()
    );
    assert_eq!(published_title(&catalog), NEW_TITLE);
}

#[test]
fn a_cleanup_failure_after_the_swap_says_the_new_feeds_are_live() {
    if !debug_build_has("PIMFEED_FAILPOINT") {
        return;
    }
    let catalog = built_then_edited();
    let run = catalog
        .run_env(&["build"], &[("PIMFEED_FAILPOINT", "cleanup=error")])
        .expect(0);
    let stderr = run.stderr();
    assert!(
        stderr.contains("the new feeds are live, but the previous build's folder"),
        "{stderr}"
    );
    assert!(!stderr.contains("left untouched"), "{stderr}");
    assert_eq!(published_title(&catalog), NEW_TITLE);
    assert_eq!(
        swap_leftovers(catalog.path()).len(),
        1,
        "the previous feeds"
    );

    let json = catalog
        .run_env(
            &["build", "--format", "json"],
            &[("PIMFEED_FAILPOINT", "cleanup=error")],
        )
        .expect(0)
        .json();
    // The previous feeds and the previous build's content, each named.
    let warnings = json["swap_warnings"].as_array().unwrap();
    assert_eq!(warnings.len(), 2, "{json}");
    for warning in warnings {
        assert!(warning.as_str().unwrap().contains("the new feeds are live"));
    }

    catalog.run(&["build"]).expect(0);
    assert_eq!(swap_leftovers(catalog.path()), Vec::<String>::new());
}

#[test]
fn a_file_where_the_feeds_folder_goes_is_refused_and_kept() {
    let catalog = Catalog::fixture("basic");
    catalog.write("feeds", "my notes");
    let run = catalog.run(&["build"]).expect(2);
    assert!(run.stderr().contains("is not a folder"), "{}", run.stderr());
    assert_eq!(catalog.read("feeds"), "my notes");
    assert_eq!(swap_leftovers(catalog.path()), Vec::<String>::new());
}

#[test]
fn a_symlinked_feeds_folder_keeps_its_link_and_gets_the_new_feeds() {
    let catalog = Catalog::fixture("basic");
    let web = tempfile::tempdir().unwrap();
    let root = web.path().join("htdocs");
    std::os::unix::fs::symlink(&root, catalog.path().join("feeds")).unwrap();

    // The first build makes the folder the link points at.
    catalog.run(&["build"]).expect(0);
    assert!(root.join("google.xml").is_file());
    let product = catalog
        .read("content/products/tools/DR-1.toml")
        .replace(OLD_TITLE, NEW_TITLE);
    catalog.write("content/products/tools/DR-1.toml", &product);
    catalog.run(&["build"]).expect(0);
    catalog.run(&["refresh"]).expect(0);

    let link = fs::symlink_metadata(catalog.path().join("feeds")).unwrap();
    assert!(link.file_type().is_symlink(), "feeds is still a link");
    assert!(
        fs::read_to_string(root.join("google.xml"))
            .unwrap()
            .contains(NEW_TITLE)
    );
    assert_eq!(published_title(&catalog), NEW_TITLE);
    assert_eq!(swap_leftovers(web.path()), Vec::<String>::new());
    assert_eq!(swap_leftovers(catalog.path()), Vec::<String>::new());
}
