//! Where a catalog's files come from: the working tree, or one git revision.
//!
//! `pimfeed diff` loads two versions of the catalog through the same checks as `check` and
//! `build`. Rather than teach every stage about git, each stage reads through a
//! [`CatalogSource`]. A revision's files are read from git objects once, up front: a
//! catalog's text files are small, and an in-memory map is `Sync`, so the parallel parse
//! works unchanged (a `git2::Repository` is not `Sync`).

use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};

use crate::diagnostics::short_commit_id;

/// A catalog's files, addressed by catalog-relative paths (`content/schema.toml`).
#[derive(Debug, Clone)]
pub enum CatalogSource {
    /// The catalog folder on disk.
    Dir(PathBuf),
    /// The files of one git revision.
    Revision(Revision),
}

#[derive(Debug, Clone)]
pub struct Revision {
    /// What the user asked for, e.g. `main` or `origin/main`.
    pub name: String,
    /// The commit's full id.
    pub commit: String,
    /// Catalog-relative path → file bytes. Only `pim.toml`, `content/` and `templates/`.
    pub files: BTreeMap<PathBuf, Vec<u8>>,
}

impl CatalogSource {
    pub fn dir(root: &Path) -> CatalogSource {
        CatalogSource::Dir(root.to_path_buf())
    }

    /// A file's text.
    pub fn read_to_string(&self, relative: &Path) -> io::Result<String> {
        match self {
            CatalogSource::Dir(root) => std::fs::read_to_string(root.join(relative)),
            CatalogSource::Revision(revision) => {
                let bytes = revision.files.get(relative).ok_or_else(|| {
                    io::Error::new(
                        io::ErrorKind::NotFound,
                        format!("not in revision `{}`", revision.name),
                    )
                })?;
                String::from_utf8(bytes.clone())
                    .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "not UTF-8 text"))
            }
        }
    }

    /// A file's bytes, for text that may not be UTF-8 (a product file says where it is not).
    pub fn read_bytes(&self, relative: &Path) -> io::Result<Vec<u8>> {
        match self {
            CatalogSource::Dir(root) => std::fs::read(root.join(relative)),
            CatalogSource::Revision(revision) => {
                revision.files.get(relative).cloned().ok_or_else(|| {
                    io::Error::new(
                        io::ErrorKind::NotFound,
                        format!("not in revision `{}`", revision.name),
                    )
                })
            }
        }
    }

    pub fn is_file(&self, relative: &Path) -> bool {
        match self {
            CatalogSource::Dir(root) => root.join(relative).is_file(),
            CatalogSource::Revision(revision) => revision.files.contains_key(relative),
        }
    }

    /// Catalog-relative paths of the files under `dir` whose name ends in `.{extension}`,
    /// depth first with each folder's entries sorted by name (the order walkdir's
    /// `sort_by_file_name` gives, and also the component-wise order of paths).
    pub fn files_under(&self, dir: &Path, extension: &str) -> Result<Vec<PathBuf>, SourceError> {
        match self {
            CatalogSource::Dir(root) => {
                if !root.join(dir).exists() {
                    return Ok(Vec::new());
                }
                let mut files = Vec::new();
                let suffix = format!(".{extension}");
                walk(root, dir, &suffix, &mut files)?;
                Ok(files)
            }
            CatalogSource::Revision(revision) => Ok(revision
                .files
                .keys()
                .filter(|path| {
                    path.starts_with(dir) && path.extension().is_some_and(|e| e == extension)
                })
                .cloned()
                .collect()),
        }
    }

    /// The folder on disk, when the catalog is read from one.
    pub fn root(&self) -> Option<&Path> {
        match self {
            CatalogSource::Dir(root) => Some(root),
            CatalogSource::Revision(_) => None,
        }
    }

    /// For people: `working tree` or `main (3f2a1bc)`.
    pub fn label(&self) -> String {
        match self {
            CatalogSource::Dir(_) => "working tree".to_string(),
            // A commit id given as the revision needs no repeating.
            CatalogSource::Revision(revision) if revision.commit.starts_with(&revision.name) => {
                short_commit_id(&revision.commit).to_string()
            }
            CatalogSource::Revision(revision) => {
                format!("{} ({})", revision.name, short_commit_id(&revision.commit))
            }
        }
    }
}

/// A folder that cannot be listed.
#[derive(Debug)]
pub struct SourceError {
    pub path: PathBuf,
    pub message: String,
}

/// Adds to `files` the catalog-relative paths of the files under `folder` (catalog-relative)
/// whose names end in `suffix`, depth first, each folder's entries in the byte order of
/// their names (as walkdir's `sort_by_file_name` lists them). Symbolic links are not
/// followed. Each path is its folder's joined with a name: walkdir's sort and
/// `strip_prefix` parse every path into components, which was most of listing 57,000 files.
fn walk(
    root: &Path,
    folder: &Path,
    suffix: &str,
    files: &mut Vec<PathBuf>,
) -> Result<(), SourceError> {
    let cannot_list = |err: io::Error| SourceError {
        path: folder.to_path_buf(),
        message: err.to_string(),
    };
    let mut entries = Vec::new();
    for entry in std::fs::read_dir(root.join(folder)).map_err(cannot_list)? {
        let entry = entry.map_err(cannot_list)?;
        let kind = entry.file_type().map_err(cannot_list)?;
        entries.push((entry.file_name(), kind));
    }
    entries.sort_unstable_by(|(a, _), (b, _)| a.cmp(b));
    for (name, kind) in entries {
        if kind.is_dir() {
            walk(root, &folder.join(&name), suffix, files)?;
        } else if kind.is_file() && has_suffix(&name, suffix) {
            files.push(folder.join(name));
        }
    }
    Ok(())
}

/// Whether a file `name` has the extension of `suffix` (`.toml`) as [`Path::extension`]
/// finds it: `.toml` alone is a hidden file's name, not an extension.
pub(super) fn has_suffix(name: &std::ffi::OsStr, suffix: &str) -> bool {
    let name = name.as_encoded_bytes();
    name.len() > suffix.len() && name.ends_with(suffix.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn revision_lists_in_the_same_order_as_a_walk() {
        let dir = tempfile::tempdir().unwrap();
        let mut files = BTreeMap::new();
        for path in [
            "content/products/b.toml",
            "content/products/b/c.toml",
            "content/products/a.toml",
            "content/products/b-x.toml",
            "content/schema.toml",
        ] {
            let full = dir.path().join(path);
            std::fs::create_dir_all(full.parent().unwrap()).unwrap();
            std::fs::write(&full, "").unwrap();
            files.insert(PathBuf::from(path), Vec::new());
        }
        let on_disk = CatalogSource::dir(dir.path());
        let revision = CatalogSource::Revision(Revision {
            name: "main".into(),
            commit: "0".repeat(40),
            files,
        });
        let products = Path::new("content/products");
        assert_eq!(
            on_disk.files_under(products, "toml").unwrap(),
            revision.files_under(products, "toml").unwrap()
        );
    }

    /// However the catalog folder is spelt, the listing is walkdir's, sorted by file name,
    /// without following links, relative to the folder, and only of names with the extension
    /// as `Path::extension` finds it.
    #[test]
    fn the_listing_is_a_sorted_walk_of_the_files_with_the_extension() {
        let dir = tempfile::tempdir().unwrap();
        let names = [
            "content/products/a.toml",
            "content/products/.toml",
            "content/products/..toml",
            "content/products/b.TOML",
            "content/products/c.toml.bak",
            "content/products/d/e f.toml",
            "content/products/d/ünï.toml",
            "content/products/toml",
        ];
        for name in names {
            let full = dir.path().join("cat").join(name);
            std::fs::create_dir_all(full.parent().unwrap()).unwrap();
            std::fs::write(&full, "").unwrap();
        }
        let plain = dir.path().join("cat");
        #[cfg(unix)]
        {
            let products = plain.join("content/products");
            std::os::unix::fs::symlink(products.join("a.toml"), products.join("link.toml"))
                .unwrap();
            std::os::unix::fs::symlink(products.join("d"), products.join("linked")).unwrap();
        }
        let spellings = [
            plain.clone(),
            dir.path().join("cat/"),
            dir.path().join("./cat"),
            dir.path().join("cat/."),
        ];
        let expected: Vec<PathBuf> = walkdir::WalkDir::new(plain.join("content/products"))
            .sort_by_file_name()
            .into_iter()
            .map(Result::unwrap)
            .filter(|e| e.file_type().is_file())
            .filter(|e| e.path().extension().is_some_and(|x| x == "toml"))
            .map(|e| e.path().strip_prefix(&plain).unwrap().to_path_buf())
            .collect();
        assert_eq!(expected.len(), 4, "{expected:?}");
        for root in spellings {
            let listed = CatalogSource::dir(&root)
                .files_under(Path::new("content/products"), "toml")
                .unwrap();
            assert_eq!(listed, expected, "{}", root.display());
        }
    }
}
