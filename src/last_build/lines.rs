//! The last build's products as one sequence of lines, kept in files of a few megabytes.
//!
//! Every product that passed the content checks is one line of JSON, in catalog order. The
//! lines are split over `products/000000.jsonl`, `products/000001.jsonl`, ... in the last
//! build's folder, cut only between lines. A build from the cache after an edit writes anew
//! only the files that hold a changed line; every other file is a hard link to the previous
//! build's file with the same bytes (see [`super::LastBuildWriter`]). Where a product's lines
//! are (the build cache keeps that for each content file) is an offset into the sequence: it
//! counts from the first file's first byte, as if the files were one.
//!
//! A last build made before the lines were split holds them in one `products.jsonl`; it reads
//! as a sequence of that one file.

use std::fs::{self, File};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// The folder of the line files, in the last build's folder (not to be confused with
/// [`crate::content::PRODUCTS_DIR`], the catalog's product files).
pub(super) const LINE_FILES_DIR: &str = "products";

/// The one file of a last build made before the lines were split.
const SINGLE_FILE: &str = "products.jsonl";

/// One file of the sequence: its name, and where its bytes sit in the sequence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineFile {
    pub name: String,
    pub start: u64,
    pub len: u64,
}

impl LineFile {
    pub fn end(&self) -> u64 {
        self.start + self.len
    }
}

/// The last build's product lines, read by their offset in the sequence. Each file is opened
/// the first time it is read.
#[derive(Debug)]
pub struct ProductLines {
    dir: PathBuf,
    files: Vec<LineFile>,
    opened: Vec<OnceLock<File>>,
}

impl ProductLines {
    /// The lines of the last build in the folder `last_build` (`.pimfeed/last-build`).
    pub fn open(last_build: &Path) -> io::Result<ProductLines> {
        let dir = last_build.join(LINE_FILES_DIR);
        let names = match fs::read_dir(&dir) {
            Ok(entries) => line_file_names(entries)?,
            Err(err) if err.kind() == io::ErrorKind::NotFound => {
                let single = last_build.join(SINGLE_FILE);
                if !single.is_file() {
                    return Err(io::Error::new(
                        io::ErrorKind::NotFound,
                        format!("{}: {err}", dir.display()),
                    ));
                }
                return ProductLines::of_files(last_build.to_path_buf(), vec![SINGLE_FILE.into()]);
            }
            Err(err) => {
                return Err(io::Error::new(
                    err.kind(),
                    format!("{}: {err}", dir.display()),
                ));
            }
        };
        ProductLines::of_files(dir, names)
    }

    fn of_files(dir: PathBuf, names: Vec<String>) -> io::Result<ProductLines> {
        let mut files = Vec::with_capacity(names.len());
        let mut start = 0;
        for name in names {
            let path = dir.join(&name);
            let len = fs::metadata(&path)
                .map_err(|err| io::Error::new(err.kind(), format!("{}: {err}", path.display())))?
                .len();
            files.push(LineFile { name, start, len });
            start += len;
        }
        let opened = files.iter().map(|_| OnceLock::new()).collect();
        Ok(ProductLines { dir, files, opened })
    }

    /// Whether a last build's folder holds product lines.
    pub fn exist_in(last_build: &Path) -> bool {
        last_build.join(LINE_FILES_DIR).is_dir() || last_build.join(SINGLE_FILE).is_file()
    }

    /// The same lines with every file open: they read the same bytes after a later build
    /// has replaced the last build (a long-running `serve` reads products that way).
    pub fn opened(self) -> io::Result<ProductLines> {
        for index in 0..self.files.len() {
            self.file(index)?;
        }
        Ok(self)
    }

    /// Bytes in the whole sequence.
    pub fn len(&self) -> u64 {
        self.files.last().map_or(0, LineFile::end)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The files, in order.
    pub fn files(&self) -> &[LineFile] {
        &self.files
    }

    pub fn path(&self, index: usize) -> PathBuf {
        self.dir.join(&self.files[index].name)
    }

    /// The open handle of file `index`.
    pub fn file(&self, index: usize) -> io::Result<&File> {
        if let Some(file) = self.opened[index].get() {
            return Ok(file);
        }
        let path = self.path(index);
        let file = File::open(&path)
            .map_err(|err| io::Error::new(err.kind(), format!("{}: {err}", path.display())))?;
        Ok(self.opened[index].get_or_init(|| file))
    }

    /// The index of the file that holds the byte at `offset`.
    pub fn file_at(&self, offset: u64) -> io::Result<usize> {
        let index = self.files.partition_point(|file| file.end() <= offset);
        match index < self.files.len() {
            true => Ok(index),
            false => Err(self.too_short()),
        }
    }

    /// The `len` bytes at `start` of the sequence, from as many files as they span.
    pub fn read(&self, start: u64, len: u64) -> io::Result<Vec<u8>> {
        let mut bytes = vec![0; len as usize];
        let mut done = 0;
        while done < bytes.len() {
            let at = start + done as u64;
            let index = self.file_at(at)?;
            let file = &self.files[index];
            let here = ((file.end() - at) as usize).min(bytes.len() - done);
            crate::positioned::read_exact_at(
                self.file(index)?,
                &mut bytes[done..done + here],
                at - file.start,
            )
            .map_err(|err| {
                io::Error::new(err.kind(), format!("{}: {err}", self.path(index).display()))
            })?;
            done += here;
        }
        Ok(bytes)
    }

    fn too_short(&self) -> io::Error {
        io::Error::new(
            io::ErrorKind::UnexpectedEof,
            format!(
                "{} holds fewer lines than the build cache says",
                self.dir.display()
            ),
        )
    }
}

/// The names of the line files in a folder's entries, in order: `NNNNNN.jsonl`.
fn line_file_names(entries: fs::ReadDir) -> io::Result<Vec<String>> {
    let mut names = Vec::new();
    for entry in entries {
        let name = entry?.file_name();
        let Some(name) = name.to_str() else { continue };
        if name.ends_with(".jsonl") {
            names.push(name.to_string());
        }
    }
    names.sort();
    Ok(names)
}

/// The name of the `index`th line file.
pub fn file_name(index: usize) -> String {
    format!("{index:06}.jsonl")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_span_the_files_as_if_they_were_one() {
        let dir = tempfile::tempdir().unwrap();
        let products = dir.path().join(LINE_FILES_DIR);
        fs::create_dir(&products).unwrap();
        fs::write(products.join(file_name(0)), "{\"a\":1}\n{\"b\":2}\n").unwrap();
        fs::write(products.join(file_name(1)), "{\"c\":3}\n").unwrap();
        fs::write(products.join(file_name(2)), "{\"d\":4}\n{\"e\":5}\n").unwrap();
        fs::write(products.join("notes.txt"), "not a line file").unwrap();
        let lines = ProductLines::open(dir.path()).unwrap();
        let whole = "{\"a\":1}\n{\"b\":2}\n{\"c\":3}\n{\"d\":4}\n{\"e\":5}\n";
        assert_eq!(lines.len(), whole.len() as u64);
        assert_eq!(lines.files().len(), 3);
        for start in 0..whole.len() {
            for end in start..=whole.len() {
                let read = lines.read(start as u64, (end - start) as u64).unwrap();
                assert_eq!(read, whole.as_bytes()[start..end], "{start}..{end}");
            }
        }
        assert!(lines.read(whole.len() as u64 - 2, 3).is_err());
    }

    #[test]
    fn a_last_build_of_one_file_reads_as_one() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join(SINGLE_FILE), "{\"a\":1}\n").unwrap();
        assert!(ProductLines::exist_in(dir.path()));
        let lines = ProductLines::open(dir.path()).unwrap();
        assert_eq!(lines.read(0, 8).unwrap(), b"{\"a\":1}\n");
        let empty = tempfile::tempdir().unwrap();
        assert!(!ProductLines::exist_in(empty.path()));
        assert!(ProductLines::open(empty.path()).is_err());
    }
}
