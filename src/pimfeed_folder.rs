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
//! - the **kept listing** ([`KEPT_LISTING`]): each folder under `content/products/` with its
//!   stamp and entries, so a folder that did not change is not read again;
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
/// The folders under `content/products/` with their stamps and entries, as the last build
/// listed them (see [`crate::content::kept_listing`]).
pub const KEPT_LISTING: &str = ".pimfeed/listing.bin";
/// The file (relative to the git working tree) that made the tree dirty for the last build's
/// manifest; absent when the tree was clean. See [`crate::git::state_in`].
pub const GIT_DIRTY: &str = ".pimfeed/git-dirty";
/// The products the last build left out because their file has an error.
pub const CONTENT_ERRORS: &str = ".pimfeed/content-errors.json";
/// The lock file between runs.
pub const LOCK: &str = ".pimfeed/lock";
/// The push state's folder.
const PUSH: &str = ".pimfeed/push";

/// Replaces the file at `path` whole, or leaves it as it was: `write` fills a new file beside
/// it (in its folder, made when missing), which is then renamed over it. A failure removes the
/// new file, so a crash or a full disk never leaves half a file where the next run reads, and
/// a reader that opened the old file keeps it whole.
pub fn replace(
    path: &Path,
    write: impl FnOnce(std::fs::File) -> std::io::Result<()>,
) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    let temporary = dir.join(format!(".{name}.{}", std::process::id()));
    let written = std::fs::File::create(&temporary)
        .and_then(write)
        .and_then(|()| std::fs::rename(&temporary, path));
    if written.is_err() {
        let _ = std::fs::remove_file(&temporary);
    }
    written
}

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
    fn a_replaced_file_is_the_new_one_whole_or_the_old_one() {
        use std::io::Write;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(".pimfeed/kept.bin");
        replace(&path, |mut file| file.write_all(b"first")).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"first");

        // A write that fails midway (a full disk) leaves the old file and nothing beside it.
        let failed = replace(&path, |mut file| {
            file.write_all(b"sec")?;
            Err(std::io::Error::other("disk full"))
        });
        assert!(failed.is_err());
        assert_eq!(std::fs::read(&path).unwrap(), b"first");
        let names: Vec<_> = std::fs::read_dir(path.parent().unwrap())
            .unwrap()
            .map(|entry| entry.unwrap().file_name())
            .collect();
        assert_eq!(names, ["kept.bin"]);

        replace(&path, |mut file| file.write_all(b"second")).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"second");
    }

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
