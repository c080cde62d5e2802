//! `.pimfeed/`: what one run leaves for the next, at the root of the catalog.
//!
//! This module is the only place that knows where each thing sits in the folder; every other
//! module asks it for a path. Each thing has one name, used in code, messages and docs:
//!
//! - the **build cache** ([`CACHE`]): what a build learnt about each content file;
//! - the **last build** ([`LAST_BUILD`]): the content the last build published, which
//!   `refresh` renders again and keep-last-good falls back to;
//! - the **last pull** ([`LAST_PULL`]): the last good pull of an HTTP ERP source, which a
//!   build whose pull fails may use;
//! - the **parsed export** ([`PARSED_EXPORT`]): the records of the last file export a build
//!   parsed, so an export whose bytes did not change is not parsed again;
//! - the **kept blame** ([`KEPT_BLAME`]): what blame found in each file it was asked about,
//!   so an unchanged file is not blamed again while the commit checked out stays the same;
//! - the **git witness** ([`GIT_DIRTY`]): the file that made the working tree dirty in the
//!   last build, asked about first so that the next build need not walk the whole tree;
//! - the **content errors** ([`CONTENT_ERRORS`]): the products the last build left out
//!   because their file has an error;
//! - the **push state** ([`push_journal`], [`amazon_push_state`], [`push_report`]): what a
//!   marketplace accepted;
//! - the **lock** ([`LOCK`]) between runs.
//!
//! What is inside each entry (the cache's files, the last build's product lines) is the
//! format of the module that writes it, and the staging folders a swap fills beside the last
//! build are named by [`crate::swap`], as those beside `feeds/` are. The last pull's file
//! keeps its historical name, `erp-snapshot.json`, so catalogs that already have one keep
//! their fallback.

use std::path::{Path, PathBuf};

/// The folder itself, relative to the catalog root.
pub const DIR: &str = ".pimfeed";
/// The build cache's folder.
pub const CACHE: &str = ".pimfeed/cache";
/// The last build's folder. While a build goes live, its successor waits beside it with a
/// `.next` suffix ([`pending_last_build`]).
pub const LAST_BUILD: &str = ".pimfeed/last-build";
/// The last good pull of an HTTP ERP source.
pub const LAST_PULL: &str = ".pimfeed/erp-snapshot.json";
/// The records parsed from the ERP file export, with what identifies the export's bytes.
pub const PARSED_EXPORT: &str = ".pimfeed/erp-export.bin";
/// Blame's lines per file, with the commit and the file's bytes they were blamed from.
pub const KEPT_BLAME: &str = ".pimfeed/blame.bin";
/// The file (relative to the git working tree) that made the tree dirty for the last build's
/// manifest; absent when the tree was clean. See [`crate::git::state_in`].
pub const GIT_DIRTY: &str = ".pimfeed/git-dirty";
/// The products the last build left out because their file has an error.
pub const CONTENT_ERRORS: &str = ".pimfeed/content-errors.json";
/// The lock file between runs.
pub const LOCK: &str = ".pimfeed/lock";
/// The push state's folder.
const PUSH: &str = ".pimfeed/push";

/// Where a new build's content waits to be exchanged with the last build at `live` (the
/// catalog's [`LAST_BUILD`] folder) while the build goes live; see [`crate::swap`].
pub fn pending_last_build(live: &Path) -> PathBuf {
    let mut name = live.file_name().unwrap_or_default().to_os_string();
    name.push(".next");
    live.with_file_name(name)
}

/// The push journal of a channel: per EAN what the marketplace accepted.
pub fn push_journal(root: &Path, channel: &str) -> PathBuf {
    root.join(PUSH).join(format!("{channel}.jsonl"))
}

/// Amazon's push state of a channel: per SKU the hashes of the listing Amazon accepted, and a
/// feed sent but not read back yet.
pub fn amazon_push_state(root: &Path, channel: &str) -> PathBuf {
    root.join(PUSH).join(format!("{channel}.json"))
}

/// The last push's counts and refused items for a channel.
pub fn push_report(root: &Path, channel: &str) -> PathBuf {
    root.join(PUSH).join(format!("{channel}-report.json"))
}

/// Whether a path component is the `.pimfeed` folder (which is never content).
pub fn is_folder(component: &str) -> bool {
    component == DIR
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_entry_is_inside_the_folder() {
        let root = Path::new("catalog");
        for entry in [
            CACHE,
            LAST_BUILD,
            LAST_PULL,
            PARSED_EXPORT,
            KEPT_BLAME,
            GIT_DIRTY,
            CONTENT_ERRORS,
            LOCK,
            PUSH,
        ] {
            assert!(Path::new(entry).starts_with(DIR), "{entry}");
        }
        for path in [
            push_journal(root, "bol"),
            amazon_push_state(root, "amazon"),
            push_report(root, "bol"),
        ] {
            assert!(path.starts_with(root.join(PUSH)), "{}", path.display());
        }
        assert_ne!(push_journal(root, "x"), amazon_push_state(root, "x"));
        assert_eq!(
            pending_last_build(&root.join(LAST_BUILD)),
            root.join(".pimfeed/last-build.next")
        );
        assert_ne!(amazon_push_state(root, "x"), push_report(root, "x"));
        assert!(is_folder(".pimfeed"));
        assert!(!is_folder("pimfeed"));
    }

    /// Keeps this module the only one that spells a path in `.pimfeed/`: any other code line
    /// with the folder's name in a string fails here (comments may name it).
    #[test]
    fn no_other_module_spells_a_path_in_the_folder() {
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut found = Vec::new();
        for entry in walkdir::WalkDir::new(&src) {
            let entry = entry.unwrap();
            let path = entry.path();
            if path.extension().is_none_or(|e| e != "rs") || path.ends_with("pimfeed_folder.rs") {
                continue;
            }
            let text = std::fs::read_to_string(path).unwrap();
            for (index, line) in text.lines().enumerate() {
                let code = line.split("//").next().unwrap_or_default();
                if code.contains("\".pimfeed") || code.contains(".pimfeed/") {
                    found.push(format!("{}:{}: {}", path.display(), index + 1, line.trim()));
                }
            }
        }
        assert!(
            found.is_empty(),
            "paths in .pimfeed/ spelled outside pimfeed_folder:\n{}",
            found.join("\n")
        );
    }
}
