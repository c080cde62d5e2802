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
use walkdir::WalkDir;

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
                let absolute = root.join(dir);
                if !absolute.exists() {
                    return Ok(Vec::new());
                }
                let mut files = Vec::new();
                for entry in WalkDir::new(&absolute).sort_by_file_name() {
                    let entry = entry.map_err(|err| SourceError {
                        path: relative_to(root, err.path().unwrap_or(&absolute)),
                        message: err.to_string(),
                    })?;
                    let path = entry.path();
                    if entry.file_type().is_file()
                        && path.extension().is_some_and(|e| e == extension)
                    {
                        files.push(relative_to(root, path));
                    }
                }
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

fn relative_to(root: &Path, path: &Path) -> PathBuf {
    path.strip_prefix(root).unwrap_or(path).to_path_buf()
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
}
