//! The content of the last build, kept so `pimfeed refresh` can re-render every channel with
//! fresh ERP numbers without re-reading or re-validating `content/`.
//!
//! `.pimfeed/last-build/` holds the configuration, schema, categories and templates the build
//! used (so a refresh renders exactly what the build did, even while `content/` is being
//! edited) and `products.jsonl`, every product that passed the content checks, one per line in
//! catalog order. It is replaced like `feeds/`: written beside, swapped in when the build
//! succeeds.

use std::fs::{self, File};
use std::io::{self, BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

use crate::content::Product;
use crate::output::{CopyBehind, copy_eager_bytes};
use crate::pimfeed_folder;
use crate::staging::Staging;

/// The products, one JSON document per line, in catalog order.
pub const PRODUCTS: &str = "products.jsonl";

/// The files besides the products that a refresh needs from the build.
pub const FILES: &[&str] = &["pim.toml", "content/schema.toml", "content/categories.toml"];

/// Lines are gathered in memory up to this many bytes before they go to the file.
const BUFFER_BYTES: usize = 256 * 1024;

/// A last build being written during a build.
pub struct LastBuildWriter {
    staging: Staging,
    products: File,
    /// Lines not yet in the file. A product is written as hundreds of small pieces; into a
    /// `Vec` each is a copy, through a `BufWriter` each is a call.
    buffer: Vec<u8>,
    /// Bytes of `products.jsonl` written so far (the buffer and a pending run included).
    written: u64,
    /// Bytes before the file's position: written, or left as a gap a copy fills.
    placed: u64,
    /// Lines of the last build's `products.jsonl` next to each other, not yet copied: the
    /// file, and the byte range.
    pending: Option<(File, u64, u64)>,
    /// Long runs of old lines, copied on a thread of their own while the build goes on.
    behind: CopyBehind,
}

impl LastBuildWriter {
    /// Starts a last build of the catalog at `root`: copies its configuration, templates and
    /// Amazon product type definitions.
    pub fn create(root: &Path) -> io::Result<LastBuildWriter> {
        let staging = Staging::create(&root.join(pimfeed_folder::LAST_BUILD))?;
        for file in FILES {
            let from = root.join(file);
            if from.is_file() {
                let to = staging.path().join(file);
                fs::create_dir_all(to.parent().unwrap_or(staging.path()))?;
                fs::copy(&from, &to)?;
            }
        }
        // Templates, and the Amazon product type definitions the gate reads.
        for folder in ["templates", crate::presets::AMAZON_PRODUCT_TYPES_DIR] {
            let folder = root.join(folder);
            if !folder.is_dir() {
                continue;
            }
            for entry in walkdir::WalkDir::new(&folder) {
                let entry = entry.map_err(io::Error::other)?;
                let relative = entry.path().strip_prefix(root).unwrap_or(entry.path());
                let to = staging.path().join(relative);
                if entry.file_type().is_dir() {
                    fs::create_dir_all(&to)?;
                } else {
                    fs::copy(entry.path(), &to)?;
                }
            }
        }
        let products = File::create(staging.path().join(PRODUCTS))?;
        Ok(LastBuildWriter {
            staging,
            products,
            buffer: Vec::with_capacity(BUFFER_BYTES + BUFFER_BYTES / 4),
            written: 0,
            placed: 0,
            pending: None,
            behind: CopyBehind::new("the last build's products.jsonl"),
        })
    }

    /// Keeps one product, as one line.
    pub fn add(&mut self, product: &Product) -> io::Result<()> {
        self.flush_pending()?;
        // The writer thread does this for every product of a cold build: written into the
        // buffer kept from line to line, no allocation of its own.
        let before = self.buffer.len();
        crate::content::json_line::write_product(&mut self.buffer, product);
        self.buffer.push(b'\n');
        self.written += (self.buffer.len() - before) as u64;
        if self.buffer.len() >= BUFFER_BYTES {
            self.flush_buffer()?;
        }
        Ok(())
    }

    fn flush_buffer(&mut self) -> io::Result<()> {
        self.products.write_all(&self.buffer)?;
        self.placed += self.buffer.len() as u64;
        self.buffer.clear();
        Ok(())
    }

    /// Bytes of `products.jsonl` written so far.
    pub fn written(&self) -> u64 {
        self.written
    }

    /// Keeps the lines at `start..start + len` of the last build's `products.jsonl` (which
    /// `open` opens) as they are; where they start. Ranges next to each other are copied as
    /// one, in the kernel; a long run starts being copied, beside the build, as it grows.
    pub fn copy_lines(
        &mut self,
        open: impl FnOnce() -> io::Result<File>,
        start: u64,
        len: u64,
    ) -> io::Result<u64> {
        let at = self.written;
        match &mut self.pending {
            Some((_, _, end)) if *end == start => *end += len,
            _ => {
                self.flush_pending()?;
                self.pending = Some((open()?, start, start + len));
            }
        }
        self.written += len;
        if let Some((_, run_start, end)) = self.pending
            && end - run_start >= copy_eager_bytes()
        {
            // The run may go on: the next lines extend it from where this copy ends.
            let file = self.hand_over_pending()?;
            self.pending = file.map(|file| (file, end, end));
        }
        Ok(at)
    }

    /// Hands the pending run of old lines over to be copied, after what is buffered.
    fn flush_pending(&mut self) -> io::Result<()> {
        self.hand_over_pending().map(drop)
    }

    /// Hands the pending run over to be copied; the file it is from, if there was one.
    fn hand_over_pending(&mut self) -> io::Result<Option<File>> {
        let Some((file, start, end)) = self.pending.take() else {
            return Ok(None);
        };
        self.flush_buffer()?;
        let len = end - start;
        self.behind
            .copy(&self.products, &file, (start, self.placed, len))?;
        // The copy fills the gap left here; what follows is written after it.
        io::Seek::seek(&mut self.products, io::SeekFrom::Current(len as i64))?;
        self.placed += len;
        Ok(Some(file))
    }

    /// Starts copying what is pending now, so that [`LastBuildWriter::finish`] has only to
    /// wait for it: a build calls this when its stream has ended, before it parses its feeds
    /// back.
    pub fn start_finishing(&mut self) -> io::Result<()> {
        self.flush_pending()?;
        self.flush_buffer()
    }

    /// The finished last build's staging folder, for [`crate::swap::publish`] to put live
    /// together with the feeds.
    pub fn finish(mut self) -> io::Result<Staging> {
        self.flush_pending()?;
        self.flush_buffer()?;
        self.behind.finish()?;
        Ok(self.staging)
    }
}

/// Products read back from `products.jsonl` lines (a range the build cache noted).
pub fn parse_lines(path: &Path, lines: &[u8]) -> io::Result<Vec<Product>> {
    lines
        .split(|b| *b == b'\n')
        .filter(|line| !line.is_empty())
        .map(|line| {
            serde_json::from_slice(line).map_err(|err| {
                io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!(
                        "{}: {err}; run `pimfeed build` to make a new one",
                        path.display()
                    ),
                )
            })
        })
        .collect()
}

/// The products of the last build, read back a batch at a time.
pub struct LastBuildReader {
    path: PathBuf,
    reader: BufReader<File>,
    line: usize,
    /// Bytes read so far.
    position: u64,
}

impl LastBuildReader {
    /// The last build folder of the catalog at `root`, when a build has made one.
    pub fn dir(root: &Path) -> Option<PathBuf> {
        let dir = root.join(pimfeed_folder::LAST_BUILD);
        dir.join(PRODUCTS).is_file().then_some(dir)
    }

    pub fn open(dir: &Path) -> io::Result<LastBuildReader> {
        let path = dir.join(PRODUCTS);
        let reader = BufReader::new(File::open(&path)?);
        Ok(LastBuildReader {
            path,
            reader,
            line: 0,
            position: 0,
        })
    }

    /// Up to `count` products, each with where its line starts and its length; empty at the
    /// end.
    pub fn next_batch(&mut self, count: usize) -> io::Result<Vec<(Product, (u64, u64))>> {
        let mut products = Vec::with_capacity(count);
        let mut line = String::new();
        while products.len() < count {
            line.clear();
            let read = self.reader.read_line(&mut line)?;
            if read == 0 {
                break;
            }
            self.line += 1;
            let product = serde_json::from_str(&line).map_err(|err| {
                io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!(
                        "{} line {}: {err}; run `pimfeed build` to make a new one",
                        self.path.display(),
                        self.line
                    ),
                )
            })?;
            products.push((product, (self.position, read as u64)));
            self.position += read as u64;
        }
        Ok(products)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::sync::Arc;

    use super::*;
    use crate::content::AttrValue;

    fn product(sku: &str, title: &str) -> Product {
        let mut values = BTreeMap::new();
        values.insert(
            "title".to_string(),
            AttrValue {
                value: serde_json::json!({"nl-NL": title, "en-GB": "\"quoted\" ünïcode"}),
                line: 3,
            },
        );
        Product {
            sku: sku.to_string(),
            model: None,
            family: "tools".to_string(),
            file: Arc::from("content/products/a.toml"),
            line: 1,
            values,
            channels: BTreeMap::new(),
            derived: Default::default(),
        }
    }

    #[test]
    fn written_ranges_hold_exactly_each_products_line() {
        let root = tempfile::tempdir().unwrap();
        let mut writer = LastBuildWriter::create(root.path()).unwrap();
        let products = [product("A-1", "Boor"), product("B-2", "Zaag 18 V")];
        let mut ranges = Vec::new();
        for product in &products {
            let start = writer.written();
            writer.add(product).unwrap();
            ranges.push((start, writer.written() - start));
        }
        let staging = writer.finish().unwrap();
        let file = fs::read(staging.path().join(PRODUCTS)).unwrap();
        assert_eq!(file.len() as u64, ranges[1].0 + ranges[1].1);
        for (product, (start, len)) in products.iter().zip(ranges) {
            let line = &file[start as usize..(start + len) as usize];
            assert_eq!(line.last(), Some(&b'\n'));
            assert_eq!(
                line[..line.len() - 1],
                serde_json::to_vec(product).unwrap()[..]
            );
            let read_back = parse_lines(Path::new(PRODUCTS), line).unwrap();
            assert_eq!(read_back, std::slice::from_ref(product));
        }
    }

    #[test]
    fn lines_past_the_buffer_and_copied_lines_stay_in_order() {
        let root = tempfile::tempdir().unwrap();
        let mut writer = LastBuildWriter::create(root.path()).unwrap();
        let long = "x".repeat(BUFFER_BYTES / 3);
        // Products 2, 3 and 5 come from an old products.jsonl, where 2 and 3 are next to
        // each other (one run) and 5 follows a line this build does not keep.
        let copied = [2, 3, 5];
        let old_path = root.path().join("old.jsonl");
        let mut old = Vec::new();
        let mut old_ranges = std::collections::HashMap::new();
        for index in copied {
            if index == 5 {
                old.extend_from_slice(b"{\"dropped\":true}\n");
            }
            let line = serde_json::to_vec(&product(&format!("P-{index}"), &long)).unwrap();
            old_ranges.insert(index, (old.len() as u64, line.len() as u64 + 1));
            old.extend_from_slice(&line);
            old.push(b'\n');
        }
        fs::write(&old_path, &old).unwrap();
        let mut expected = Vec::new();
        for index in 0..8 {
            let product = product(&format!("P-{index}"), &long);
            let start = writer.written();
            if let Some(&(from, len)) = old_ranges.get(&index) {
                let open = || File::open(&old_path);
                assert_eq!(writer.copy_lines(open, from, len).unwrap(), start);
            } else {
                writer.add(&product).unwrap();
            }
            expected.push((product, start, writer.written() - start));
        }
        let staging = writer.finish().unwrap();
        let file = fs::read(staging.path().join(PRODUCTS)).unwrap();
        let (_, last_start, last_len) = expected.last().unwrap();
        assert_eq!(file.len() as u64, last_start + last_len);
        for (product, start, len) in expected {
            let line = &file[start as usize..(start + len) as usize];
            let read_back = parse_lines(Path::new(PRODUCTS), line).unwrap();
            assert_eq!(read_back, [product]);
        }
    }

    /// Runs long enough to be copied on the thread (into gaps the writer leaves), lines
    /// written between them, and the last run handed over before `finish`: the file is the
    /// old lines and the new ones, in order.
    #[test]
    fn long_runs_copied_beside_the_build_land_between_the_written_lines() {
        let root = tempfile::tempdir().unwrap();
        let old_path = root.path().join("old.jsonl");
        let line_len = 1000u64;
        let lines = (24 << 20) / line_len as usize;
        let mut old = Vec::new();
        for index in 0..lines {
            let mut line = format!("{{\"line\":{index},\"pad\":\"");
            line.push_str(&"p".repeat(line_len as usize - line.len() - 3));
            line.push_str("\"}\n");
            old.extend_from_slice(line.as_bytes());
        }
        fs::write(&old_path, &old).unwrap();
        let open = || File::open(&old_path);
        let mut writer = LastBuildWriter::create(root.path()).unwrap();
        let mut expected = Vec::new();
        let new = product("NEW-1", "Nieuw");
        // Line 0 anew, lines 1..=2/3 kept, one line dropped, one anew, the rest kept.
        let dropped = 2 * lines / 3;
        writer.add(&new).unwrap();
        crate::content::json_line::write_product(&mut expected, &new);
        expected.push(b'\n');
        for index in (1..lines).filter(|&index| index != dropped) {
            if index == dropped + 1 {
                writer.add(&new).unwrap();
                crate::content::json_line::write_product(&mut expected, &new);
                expected.push(b'\n');
            }
            let start = index as u64 * line_len;
            let at = writer.copy_lines(open, start, line_len).unwrap();
            assert_eq!(at, expected.len() as u64);
            expected.extend_from_slice(&old[start as usize..(start + line_len) as usize]);
        }
        writer.start_finishing().unwrap();
        let staging = writer.finish().unwrap();
        let file = fs::read(staging.path().join(PRODUCTS)).unwrap();
        assert!(
            file == expected,
            "products.jsonl differs from the lines kept"
        );
    }
}
