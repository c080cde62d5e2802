//! The manifest's `git` field (the commit checked out, and whether the tree differs from it)
//! after each rebuild of a `watch`, which keeps the repository and its loaded index from one
//! rebuild to the next, and after each `build`, which opens it beside the build: git
//! operations between two rebuilds show in the next manifest exactly.

use std::path::Path;

use git2::Repository;

use crate::common::{Catalog, commit_all};
use crate::watch_kept::{next_build, watch};

const DR1: &str = "content/products/tools/DR-1.toml";

/// The catalog in a repository of its own, everything committed; what builds write (which a
/// running `watch` may be removing while a commit here adds files) and `*.local` ignored.
fn committed(catalog: &Catalog) -> Repository {
    catalog.write(".gitignore", "/feeds\n/.feeds.*\n/.pimfeed\n*.local\n");
    let repo = Repository::init(catalog.path()).unwrap();
    commit_all(&repo, "Test", "c");
    repo
}

/// The manifest's `git` field as (commit, dirty).
fn manifest_git(catalog: &Catalog) -> (String, bool) {
    let manifest: serde_json::Value =
        serde_json::from_str(&catalog.read("feeds/manifest.json")).unwrap();
    let git = &manifest["git"];
    (
        git["commit"].as_str().unwrap().to_string(),
        git["dirty"].as_bool().unwrap(),
    )
}

fn head(repo: &Repository) -> String {
    repo.head()
        .unwrap()
        .peel_to_commit()
        .unwrap()
        .id()
        .to_string()
}

/// Goes through edits and git operations between rebuilds, `rebuild` making the next one
/// after each, and checks each manifest's `git`. A rebuild that no content edit starts is
/// started by writing a product file's bytes again unchanged.
fn between_rebuilds(catalog: &Catalog, repo: &Repository, rebuild: &mut dyn FnMut()) {
    let original = catalog.read(DR1);
    let edited = original.replacen("Accuboormachine DR-1 18V", "Accuboormachine DR-1 19V", 1);
    assert_ne!(original, edited);
    let same_again = || catalog.write(DR1, &catalog.read(DR1));
    let expect = |dirty: bool, step: &str| {
        assert_eq!(manifest_git(catalog), (head(repo), dirty), "{step}");
    };

    catalog.write(DR1, &edited);
    rebuild();
    expect(true, "an edit");

    // Staged (the index changes), then the file put back as committed.
    let mut index = repo.index().unwrap();
    index.add_path(Path::new(DR1)).unwrap();
    index.write().unwrap();
    catalog.write(DR1, &original);
    rebuild();
    expect(true, "a staged change, the file as committed");

    // Committed as the working tree has it: a new commit, the tree clean.
    commit_all(repo, "Test", "c");
    same_again();
    rebuild();
    expect(false, "after a commit");

    // Edited, then checked out again.
    catalog.write(DR1, &edited);
    rebuild();
    expect(true, "an edit");
    let mut checkout = git2::build::CheckoutBuilder::new();
    checkout.force().path(DR1);
    repo.checkout_head(Some(&mut checkout)).unwrap();
    rebuild();
    expect(false, "the edit checked out again");

    // A file git does not know, outside what the build reads, and then one it ignores.
    catalog.write("notes.txt", "later");
    same_again();
    rebuild();
    expect(true, "an untracked file");
    std::fs::rename(
        catalog.path().join("notes.txt"),
        catalog.path().join("notes.local"),
    )
    .unwrap();
    same_again();
    rebuild();
    expect(false, "an ignored file");
}

#[test]
fn watch_rebuilds_say_the_git_state_after_adds_commits_checkouts_and_new_files() {
    let catalog = Catalog::fixture("basic");
    let repo = committed(&catalog);
    let (_watching, builds) = watch(&catalog, "100");
    next_build(&builds);
    assert_eq!(manifest_git(&catalog), (head(&repo), false));
    between_rebuilds(&catalog, &repo, &mut || {
        next_build(&builds);
    });
}

#[test]
fn builds_say_the_git_state_after_adds_commits_checkouts_and_new_files() {
    let catalog = Catalog::fixture("basic");
    let repo = committed(&catalog);
    catalog.run(&["build", "--quiet"]).expect(0);
    assert_eq!(manifest_git(&catalog), (head(&repo), false));
    between_rebuilds(&catalog, &repo, &mut || {
        catalog.run(&["build", "--quiet", "--allow-drop"]).expect(0);
    });
}
