//! The content of the last build, kept so `pimfeed refresh` can re-render every channel with
//! fresh ERP numbers without re-reading or re-validating `content/`.
//!
//! `.pimfeed/last-build/` holds the configuration, schema, categories and templates the build
//! used (so a refresh renders exactly what the build did, even while `content/` is being
//! edited) and every product that passed the content checks, one line of JSON each in catalog
//! order, split over files of a few megabytes in `products/` (see [`lines`]). It is replaced
//! like `feeds/`: written beside, swapped in when the build succeeds.

mod lines;

use std::fs::{self, File};
use std::io::{self, BufRead, BufReader, Seek, Write};
use std::path::{Path, PathBuf};

use lines::LINE_FILES_DIR;
pub use lines::{LineFile, ProductLines};

use crate::content::Product;
use crate::output::copy_range;
use crate::pimfeed_folder;
use crate::staging::Staging;

/// The files besides the products that a refresh needs from the build.
pub const FILES: &[&str] = &["pim.toml", "content/schema.toml", "content/categories.toml"];

/// What a product line that does not parse is named as in messages.
const LINES_NAME: &str = "the last build's products";

/// Lines are gathered in memory up to this many bytes before they go to the file.
const BUFFER_BYTES: usize = 256 * 1024;

/// A line file takes more lines until it holds this many bytes. An edit rewrites one file of
/// this size instead of every line; at a million products there are some 380 files.
const FILE_BYTES: u64 = 4 << 20;

/// [`FILE_BYTES`]; a debug build takes it from `PIMFEED_LAST_BUILD_FILE_BYTES` when that is
/// set, so the tests' small catalogs are split over several files too. A release build has no
/// such setting.
fn file_bytes() -> u64 {
    #[cfg(debug_assertions)]
    if let Some(bytes) = std::env::var("PIMFEED_LAST_BUILD_FILE_BYTES")
        .ok()
        .and_then(|bytes| bytes.parse().ok())
    {
        return bytes;
    }
    FILE_BYTES
}

/// A last build being written during a build.
///
/// Lines go into the line files in order; a file is closed once it holds [`FILE_BYTES`], and
/// wherever one of the previous build's files ended inside a run of lines copied from it. So
/// the runs an edit leaves alone end up as whole files of the previous build, byte for byte,
/// and each such file is a hard link to the previous one rather than a copy: an edit at 100k
/// products writes some 4 MB instead of 150 MB.
pub struct LastBuildWriter {
    staging: Staging,
    /// The previous build's lines, which runs are copied (or linked) from.
    previous: Option<ProductLines>,
    /// How full a line file gets (see [`FILE_BYTES`]).
    file_bytes: u64,
    /// Line files closed so far.
    closed: usize,
    open: OpenFile,
    /// Bytes of the products written so far, in every file.
    written: u64,
}

/// The line file being filled: a run of the previous build's lines not yet copied, after the
/// lines in the file and in the buffer.
#[derive(Default)]
struct OpenFile {
    /// Created when the file holds more than one run of a previous file: until then, it may
    /// turn out to be a previous file whole.
    file: Option<File>,
    /// Lines not yet in the file. A product is written as hundreds of small pieces; into a
    /// `Vec` each is a copy, through a `BufWriter` each is a call.
    buffer: Vec<u8>,
    /// Lines of a previous file next to each other, not yet copied: the file's index, and
    /// the byte range in it.
    pending: Option<(usize, u64, u64)>,
    /// Bytes in the file so far (the buffer and the pending run included).
    len: u64,
}

impl LastBuildWriter {
    /// Starts a last build of the catalog at `root`: copies its configuration, templates and
    /// Amazon product type definitions. `previous` are the lines of the last build, for a
    /// build that copies lines from it.
    pub fn create(root: &Path, previous: Option<ProductLines>) -> io::Result<LastBuildWriter> {
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
        fs::create_dir(staging.path().join(LINE_FILES_DIR))?;
        Ok(LastBuildWriter {
            staging,
            previous,
            file_bytes: file_bytes(),
            closed: 0,
            open: OpenFile::default(),
            written: 0,
        })
    }

    /// Keeps one product's line, as [`crate::content::json_line::write_product`] writes it,
    /// with its line break: a build's lines are written on the threads that rendered the
    /// products, and only copied here.
    pub fn add_line(&mut self, line: &[u8]) -> io::Result<()> {
        self.close_if_full()?;
        self.copy_pending()?;
        let buffer = &mut self.open.buffer;
        if buffer.capacity() == 0 {
            buffer.reserve(BUFFER_BYTES + BUFFER_BYTES / 4);
        }
        buffer.extend_from_slice(line);
        let len = line.len() as u64;
        self.open.len += len;
        self.written += len;
        if self.open.buffer.len() >= BUFFER_BYTES {
            self.flush_buffer()?;
        }
        Ok(())
    }

    /// Bytes of the products written so far.
    pub fn written(&self) -> u64 {
        self.written
    }

    /// Keeps the lines at `start..start + len` of the previous build's products as they are;
    /// where they start now. Lines next to each other are copied as one run, in the kernel;
    /// a run that makes up a previous file whole is linked instead.
    pub fn copy_lines(&mut self, start: u64, len: u64) -> io::Result<u64> {
        let at = self.written;
        let end = start + len;
        let mut from = start;
        while from < end {
            let previous = self.previous.as_ref().ok_or_else(|| {
                io::Error::other("the build cache has no last build to copy lines from")
            })?;
            let index = previous.file_at(from)?;
            // Its bounds, not its name: this runs for every file taken from the cache.
            let (file_start, file_end) =
                (previous.files()[index].start, previous.files()[index].end());
            let last = index + 1 == previous.files().len();
            let to = end.min(file_end);
            // A previous file's first line starts a file here too.
            if from == file_start {
                self.close()?;
            }
            self.close_if_full()?;
            self.append_run(index, from - file_start, to - file_start)?;
            // And its last line ends one, unless more lines were added after it.
            if to == file_end && !last {
                self.close()?;
            }
            from = to;
        }
        Ok(at)
    }

    /// Adds the bytes `from..to` of previous file `index` to the open file.
    fn append_run(&mut self, index: usize, from: u64, to: u64) -> io::Result<()> {
        match &mut self.open.pending {
            Some((pending, _, end)) if *pending == index && *end == from => *end = to,
            _ => {
                self.copy_pending()?;
                self.open.pending = Some((index, from, to));
            }
        }
        self.open.len += to - from;
        self.written += to - from;
        Ok(())
    }

    fn close_if_full(&mut self) -> io::Result<()> {
        match self.open.len >= self.file_bytes {
            true => self.close(),
            false => Ok(()),
        }
    }

    /// Where the open file goes in the staging folder.
    fn open_path(&self) -> PathBuf {
        let name = lines::file_name(self.closed);
        self.staging.path().join(LINE_FILES_DIR).join(name)
    }

    fn flush_buffer(&mut self) -> io::Result<()> {
        if self.open.buffer.is_empty() {
            return Ok(());
        }
        let path = self.open_path();
        let open = &mut self.open;
        created(&mut open.file, path)?.write_all(&open.buffer)?;
        open.buffer.clear();
        Ok(())
    }

    /// Copies the pending run into the file, after the buffered lines.
    fn copy_pending(&mut self) -> io::Result<()> {
        let Some((index, from, to)) = self.open.pending.take() else {
            return Ok(());
        };
        self.flush_buffer()?;
        let path = self.open_path();
        let previous = self
            .previous
            .as_ref()
            .expect("a run comes from a previous file");
        let source = previous.file(index)?;
        let name = previous.path(index).display().to_string();
        let file = created(&mut self.open.file, path)?;
        let placed = file.stream_position()?;
        copy_range(source, from, file, placed, to - from, &name)?;
        // The copy wrote by position: what follows goes after it.
        file.seek(io::SeekFrom::Start(placed + (to - from)))?;
        Ok(())
    }

    /// Closes the open file, if it holds anything: linked to the previous file it is a copy
    /// of whole, else written out.
    fn close(&mut self) -> io::Result<()> {
        if self.open.len == 0 {
            return Ok(());
        }
        let whole = match (&self.open.file, &self.open.pending, &self.previous) {
            (None, Some((index, 0, to)), Some(previous))
                if self.open.buffer.is_empty() && *to == previous.files()[*index].len =>
            {
                Some(previous.path(*index))
            }
            _ => None,
        };
        match whole {
            Some(previous) => {
                let path = self.open_path();
                if fs::hard_link(&previous, &path).is_err() {
                    fs::copy(&previous, &path)?;
                }
            }
            None => {
                self.copy_pending()?;
                self.flush_buffer()?;
            }
        }
        let buffer = std::mem::take(&mut self.open.buffer);
        self.open = OpenFile {
            buffer,
            ..OpenFile::default()
        };
        self.closed += 1;
        Ok(())
    }

    /// Closes the last line file, so that [`LastBuildWriter::finish`] has nothing left to
    /// write: a build calls this when its stream has ended, before it parses its feeds back.
    pub fn start_finishing(&mut self) -> io::Result<()> {
        self.close()
    }

    /// The finished last build's staging folder, for [`crate::swap::publish`] to put live
    /// together with the feeds.
    pub fn finish(mut self) -> io::Result<Staging> {
        self.close()?;
        Ok(self.staging)
    }
}

/// The file in `slot`, created at `path` if it is not yet.
fn created(slot: &mut Option<File>, path: PathBuf) -> io::Result<&mut File> {
    match slot {
        Some(file) => Ok(file),
        None => Ok(slot.insert(File::create(path)?)),
    }
}

/// Products read back from lines (a range the build cache noted).
pub fn parse_lines(lines: &[u8]) -> io::Result<Vec<Product>> {
    lines
        .split(|b| *b == b'\n')
        .filter(|line| !line.is_empty())
        .map(|line| {
            serde_json::from_slice(line).map_err(|err| {
                io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("{LINES_NAME}: {err}; run `pimfeed build` to make new ones"),
                )
            })
        })
        .collect()
}

/// The products of the last build, read back a batch at a time.
pub struct LastBuildReader {
    lines: ProductLines,
    /// The file being read, and its index.
    reading: Option<(usize, BufReader<File>)>,
    /// Lines read so far in that file.
    line: usize,
    /// Bytes read so far.
    position: u64,
}

impl LastBuildReader {
    /// The last build folder of the catalog at `root`, when a build has made one.
    pub fn dir(root: &Path) -> Option<PathBuf> {
        let dir = root.join(pimfeed_folder::LAST_BUILD);
        ProductLines::exist_in(&dir).then_some(dir)
    }

    pub fn open(dir: &Path) -> io::Result<LastBuildReader> {
        Ok(LastBuildReader {
            lines: ProductLines::open(dir)?,
            reading: None,
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
            let Some(read) = self.read_line(&mut line)? else {
                break;
            };
            let product = serde_json::from_str(&line).map_err(|err| {
                let (index, _) = self.reading.as_ref().expect("a line was read from a file");
                io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!(
                        "{} line {}: {err}; run `pimfeed build` to make a new one",
                        self.lines.path(*index).display(),
                        self.line
                    ),
                )
            })?;
            products.push((product, (self.position, read as u64)));
            self.position += read as u64;
        }
        Ok(products)
    }

    /// The next line into `line`, from the next file when one ends; its length, or `None`
    /// after the last.
    fn read_line(&mut self, line: &mut String) -> io::Result<Option<usize>> {
        loop {
            let (index, reader) = match &mut self.reading {
                Some(reading) => reading,
                None => {
                    if self.lines.files().is_empty() {
                        return Ok(None);
                    }
                    let file = self.lines.file(0)?.try_clone()?;
                    self.reading
                        .insert((0, BufReader::with_capacity(1 << 20, file)))
                }
            };
            let read = reader.read_line(line)?;
            if read > 0 {
                self.line += 1;
                return Ok(Some(read));
            }
            let next = *index + 1;
            if next == self.lines.files().len() {
                return Ok(None);
            }
            let file = self.lines.file(next)?.try_clone()?;
            self.reading = Some((next, BufReader::with_capacity(1 << 20, file)));
            self.line = 0;
        }
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
            AttrValue::new(
                serde_json::json!({"nl-NL": title, "en-GB": "\"quoted\" ünïcode"}),
                3,
            ),
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

    fn line(product: &Product) -> Vec<u8> {
        let mut line = Vec::new();
        crate::content::json_line::write_product(&mut line, product);
        line.push(b'\n');
        line
    }

    /// A writer of a last build in a folder of its own, whose line files take `file_bytes`.
    fn writer(
        file_bytes: u64,
        previous: Option<ProductLines>,
    ) -> (tempfile::TempDir, LastBuildWriter) {
        let root = tempfile::tempdir().unwrap();
        let mut writer = LastBuildWriter::create(root.path(), previous).unwrap();
        writer.file_bytes = file_bytes;
        (root, writer)
    }

    /// Adds `products` in order; where each one's line is, as (offset, length).
    fn add_all(writer: &mut LastBuildWriter, products: &[Product]) -> Vec<(u64, u64)> {
        products
            .iter()
            .map(|product| {
                let start = writer.written();
                writer.add_line(&line(product)).unwrap();
                (start, writer.written() - start)
            })
            .collect()
    }

    fn everything(lines: &ProductLines) -> Vec<u8> {
        lines.read(0, lines.len()).unwrap()
    }

    #[test]
    fn written_ranges_hold_exactly_each_products_line() {
        let (_root, mut writer) = writer(FILE_BYTES, None);
        let products = [product("A-1", "Boor"), product("B-2", "Zaag 18 V")];
        let ranges = add_all(&mut writer, &products);
        let staging = writer.finish().unwrap();
        let lines = ProductLines::open(staging.path()).unwrap();
        assert_eq!(lines.files().len(), 1);
        assert_eq!(lines.len(), ranges[1].0 + ranges[1].1);
        for (product, (start, len)) in products.iter().zip(ranges) {
            let line = lines.read(start, len).unwrap();
            assert_eq!(line.last(), Some(&b'\n'));
            assert_eq!(
                line[..line.len() - 1],
                serde_json::to_vec(product).unwrap()[..]
            );
            let read_back = parse_lines(&line).unwrap();
            assert_eq!(read_back, std::slice::from_ref(product));
        }
    }

    /// A previous last build of 40 products over files of about five lines, and a build that
    /// keeps them but for one edited, one dropped and one added: its lines are the kept and
    /// new ones in order, and the previous files that hold none of the changes are linked,
    /// not written.
    #[test]
    fn unchanged_files_are_linked_and_the_lines_stay_in_order() {
        let products: Vec<Product> = (0..40)
            .map(|index| product(&format!("P-{index:02}"), "Schroevendraaier"))
            .collect();
        let file_bytes = 5 * line(&products[0]).len() as u64;
        let (_before, mut previous) = writer(file_bytes, None);
        let ranges = add_all(&mut previous, &products);
        let previous_staging = previous.finish().unwrap();
        let old = ProductLines::open(previous_staging.path()).unwrap();
        assert_eq!(old.files().len(), 8);

        let (_after, mut writer) = writer(
            file_bytes,
            Some(ProductLines::open(previous_staging.path()).unwrap()),
        );
        let mut expected = Vec::new();
        let edited = product("P-12", "Schroevendraaier, geïsoleerd");
        let added = product("P-30a", "Bitset");
        for (index, product) in products.iter().enumerate() {
            let (start, len) = ranges[index];
            match index {
                12 => {
                    writer.add_line(&line(&edited)).unwrap();
                    expected.extend(line(&edited));
                }
                21 => {}
                31 => {
                    writer.add_line(&line(&added)).unwrap();
                    expected.extend(line(&added));
                    let at = writer.copy_lines(start, len).unwrap();
                    assert_eq!(at, expected.len() as u64);
                    expected.extend(line(product));
                }
                _ => {
                    let at = writer.copy_lines(start, len).unwrap();
                    assert_eq!(at, expected.len() as u64);
                    expected.extend(line(product));
                }
            }
        }
        writer.start_finishing().unwrap();
        let staging = writer.finish().unwrap();
        let new = ProductLines::open(staging.path()).unwrap();
        assert!(
            everything(&new) == expected,
            "the lines differ from those kept"
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt;
            let inode = |path: PathBuf| fs::metadata(path).unwrap().ino();
            let old_inodes: Vec<u64> = (0..old.files().len()).map(|i| inode(old.path(i))).collect();
            let linked = (0..new.files().len())
                .filter(|&i| old_inodes.contains(&inode(new.path(i))))
                .count();
            // Files 2, 4 and 6 hold products 10-14, 20-24 and 30-34; the other five are
            // the previous ones.
            assert_eq!(linked, 5, "{:?}", new.files());
        }
    }

    /// Lines past the buffer, runs that span two previous files and lines added between them.
    #[test]
    fn runs_across_previous_files_are_copied_in_order() {
        let long = "x".repeat(BUFFER_BYTES / 3);
        let products: Vec<Product> = (0..8)
            .map(|index| product(&format!("P-{index}"), &long))
            .collect();
        let file_bytes = 2 * line(&products[0]).len() as u64;
        let (_before, mut previous) = writer(file_bytes, None);
        for product in &products {
            previous.add_line(&line(product)).unwrap();
        }
        let previous_staging = previous.finish().unwrap();
        let old = ProductLines::open(previous_staging.path()).unwrap();
        let old_bytes = everything(&old);
        let (_after, mut writer) = writer(3 * file_bytes, Some(old));
        let new = product("NEW", "Nieuw");
        writer.add_line(&line(&new)).unwrap();
        // Lines 1 to 6 of the old ones in one run, over four previous files.
        let line_len = line(&products[0]).len() as u64;
        writer.copy_lines(line_len, 6 * line_len).unwrap();
        writer.add_line(&line(&new)).unwrap();
        let staging = writer.finish().unwrap();
        let lines = ProductLines::open(staging.path()).unwrap();
        let mut expected = line(&new);
        expected.extend_from_slice(&old_bytes[line_len as usize..7 * line_len as usize]);
        expected.extend(line(&new));
        assert!(
            everything(&lines) == expected,
            "the lines differ from those kept"
        );
    }

    #[test]
    fn a_reader_reads_every_line_over_the_files() {
        let products: Vec<Product> = (0..7)
            .map(|index| product(&format!("P-{index}"), "Tang"))
            .collect();
        let (_root, mut writer) = writer(2 * line(&products[0]).len() as u64, None);
        for product in &products {
            writer.add_line(&line(product)).unwrap();
        }
        let staging = writer.finish().unwrap();
        let mut reader = LastBuildReader::open(staging.path()).unwrap();
        let mut read = Vec::new();
        loop {
            let batch = reader.next_batch(3).unwrap();
            if batch.is_empty() {
                break;
            }
            read.extend(batch);
        }
        let lines = ProductLines::open(staging.path()).unwrap();
        assert_eq!(lines.files().len(), 4);
        assert_eq!(read.len(), products.len());
        for ((product, (start, len)), expected) in read.iter().zip(&products) {
            assert_eq!(product, expected);
            assert_eq!(lines.read(*start, *len).unwrap(), line(expected));
        }
    }
}
