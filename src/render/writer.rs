//! Writing a channel's rendered items to its file, or files: a feed with a per-file maximum
//! (Amazon's 10,000 messages) continues in `NAME-2.EXT`, `NAME-3.EXT`, …, each a complete
//! document with its own header and footer.

mod splice;

pub use splice::LastFeed;

use std::io::Write;
use std::path::{Path, PathBuf};

use super::{ChannelRenderer, RenderError};
use crate::channels::marketplace::part_file_name;
use crate::feed_fragments::{
    ChunkCuts, ChunkCutter, FeedStamp, ParseBehind, ParsedBehind, SplicePlan,
};
use crate::merge::MergeContext;
use crate::output::{FeedFile, FileStats};

/// One file of a channel's feed.
#[derive(Debug, Clone)]
pub struct FeedPart {
    /// The file name inside the feeds folder.
    pub file: String,
    pub path: PathBuf,
    pub items: usize,
    /// Its `.gz` twin, when the build writes them.
    pub gzip: Option<FileStats>,
    /// Whether every item in it is known to be whole on its own (see
    /// [`crate::feed_fragments`]): runs of them may be spliced into a later build.
    pub items_checked: bool,
    /// Set when runs of the last build's items were spliced into it and every item written
    /// anew was checked: it is then verified by its pieces, not parsed whole.
    pub spliced: Option<SplicePlan>,
    /// Where it may be cut into chunks of whole items, to be parsed back on every core.
    pub cuts: Option<ChunkCuts>,
    /// Runs of it still being copied, on a thread that hashes it meanwhile: it is whole, and
    /// its size and SHA-256 are known, once this has been waited for. Its parse-back waits.
    pub copying: crate::output::Copying,
    /// Its parse-back, done behind the writer when it was written from scratch: its size and
    /// SHA-256 once waited for, when it passed.
    pub parsed_behind: ParsedBehind,
    /// Set when it is the last build's file of the same name byte for byte, linked to it
    /// rather than written (those bytes were verified and published by that build): its
    /// stamp once linked, which says it has not changed since.
    pub linked: Option<FeedStamp>,
}

/// Where one item's bytes are in a feed: which file of it, and the byte range in that file
/// (uncompressed), as written (an Amazon message with its `messageId`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ItemSpan {
    pub part: u32,
    pub offset: u64,
    pub len: u32,
}

/// Streams items into a channel's file(s), starting a new file when one is full.
pub struct FeedWriter<'r, 'c, 'm> {
    renderer: &'r ChannelRenderer<'c>,
    ctx: &'r MergeContext<'m>,
    dir: PathBuf,
    output: String,
    per_file: Option<usize>,
    gzip: bool,
    /// The file being written; `None` only between closing one part and opening the next.
    current: Option<FeedFile>,
    parts: Vec<FeedPart>,
    /// Splicing the last build's items, when there is a last build to splice from.
    splice: splice::Splicing,
    /// Item ends of the current file, to cut it into chunks for its parse-back.
    cutter: ChunkCutter,
    /// The current file's parse-back behind the writer.
    behind: Behind,
    /// The thread that parses the feed's files back behind the writer, once one has a cut.
    parse_worker: Option<ParseBehind>,
}

/// Where a file's parse-back behind its writer stands.
enum Behind {
    /// Started at the file's first cut, if it has one.
    NotStarted,
    /// Its verdict, to come.
    Running(ParsedBehind),
    /// Not for this file: it is parsed back after the stream.
    Off,
}

impl<'r, 'c, 'm> FeedWriter<'r, 'c, 'm> {
    /// Creates the first file, `dir/output`, and writes its header.
    pub fn create(
        renderer: &'r ChannelRenderer<'c>,
        ctx: &'r MergeContext<'m>,
        dir: &Path,
        output: &str,
        gzip: bool,
    ) -> Result<Self, RenderError> {
        let path = dir.join(output);
        let mut current = open(renderer, &path, gzip)?;
        let header = write_header(renderer, ctx, &mut current)?;
        let cutter = cutter_after(renderer, &header);
        Ok(Self {
            renderer,
            ctx,
            dir: dir.to_path_buf(),
            output: output.to_string(),
            per_file: renderer.items_per_file(),
            gzip,
            current: Some(current),
            parts: vec![FeedPart {
                file: output.to_string(),
                path,
                items: 0,
                gzip: None,
                items_checked: false,
                spliced: None,
                cuts: None,
                copying: Default::default(),
                parsed_behind: Default::default(),
                linked: None,
            }],
            splice: splice::Splicing::new(renderer, header),
            cutter,
            behind: Behind::NotStarted,
            parse_worker: None,
        })
    }

    /// Appends one rendered item, first closing the current file if it is full; where its
    /// bytes landed, so the build cache can copy them into the next build.
    pub fn write_item(&mut self, bytes: &[u8]) -> Result<ItemSpan, RenderError> {
        self.make_room()?;
        if let Some(span) = self.extend_run(bytes)? {
            return Ok(span);
        }
        self.flush_run()?;
        let span = if self.splice.checks_items() {
            self.write_checked_item(bytes)?
        } else {
            self.write_new_item(bytes)?
        };
        let end = span.offset + u64::from(span.len);
        if self.cutter.item_ended(end) {
            self.parse_behind_to(end)?;
        }
        Ok(span)
    }

    /// Hands the current file's bytes up to `end`, where it is cut, to its parse-back behind
    /// the writer (started at its first cut): only for a file written from scratch, as a cold
    /// build writes them; a file spliced from the last build's is verified by its pieces.
    fn parse_behind_to(&mut self, end: u64) -> Result<(), RenderError> {
        if self.splice.enabled() || matches!(self.behind, Behind::Off) {
            return Ok(());
        }
        let renderer = self.renderer;
        let current = self.current.as_mut().expect("a file is open between parts");
        let file = current.flushed().map_err(|e| renderer.io(e))?;
        if matches!(self.behind, Behind::NotStarted) {
            if self.parse_worker.is_none() {
                self.parse_worker = ParseBehind::start(renderer.format());
            }
            self.behind = (self.parse_worker.as_ref())
                .and_then(|worker| worker.open(file, self.cutter.header_end()))
                .map_or(Behind::Off, Behind::Running);
        }
        if let (Behind::Running(_), Some(worker)) = (&self.behind, &self.parse_worker) {
            worker.chunk_to(end);
        }
        Ok(())
    }

    /// Writes one item rendered now, unchecked (its file is parsed back when it is done).
    fn write_new_item(&mut self, bytes: &[u8]) -> Result<ItemSpan, RenderError> {
        let number = self.begin_item()?;
        let renderer = self.renderer;
        let current = self.current.as_mut().expect("a file is open between parts");
        let offset = current.written();
        renderer
            .write_item(current, number, bytes)
            .map_err(|e| renderer.io(e))?;
        Ok(ItemSpan {
            part: (self.parts.len() - 1) as u32,
            offset,
            len: (current.written() - offset) as u32,
        })
    }

    /// Starts the next item of the current file: the separator after the item before it, if
    /// any, and the item counted; its number in the file.
    fn begin_item(&mut self) -> Result<usize, RenderError> {
        let renderer = self.renderer;
        let part = self.parts.last_mut().expect("a feed has a first part");
        let current = self.current.as_mut().expect("a file is open between parts");
        if part.items > 0 {
            current
                .write_all(renderer.separator())
                .map_err(|e| renderer.io(e))?;
        }
        part.items += 1;
        Ok(part.items)
    }

    /// Starts a new file first when the current one is full.
    fn make_room(&mut self) -> Result<(), RenderError> {
        let full = self
            .per_file
            .is_some_and(|max| self.parts.last().is_some_and(|p| p.items >= max));
        if full {
            self.next_part()?;
        }
        Ok(())
    }

    /// Writes the footer and flushes; returns every file written, in order: none for a
    /// channel whose marketplace refuses an empty document and that got no item.
    pub fn finish(mut self) -> Result<Vec<FeedPart>, RenderError> {
        self.close_current()?;
        if let Some(worker) = self.parse_worker.take() {
            worker.written();
        }
        let empty = matches!(self.parts.as_slice(), [only] if only.items == 0);
        if empty && self.renderer.skips_empty_document() {
            for part in self.parts.drain(..) {
                let gz = part.path.with_file_name(format!("{}.gz", part.file));
                for path in [part.path, gz] {
                    match std::fs::remove_file(&path) {
                        Err(err) if err.kind() != std::io::ErrorKind::NotFound => {
                            return Err(self.renderer.io(err));
                        }
                        _ => {}
                    }
                }
            }
        }
        Ok(self.parts)
    }

    fn next_part(&mut self) -> Result<(), RenderError> {
        self.close_current()?;
        let file = part_file_name(&self.output, self.parts.len() + 1);
        let path = self.dir.join(&file);
        let mut current = open(self.renderer, &path, self.gzip)?;
        let header = write_header(self.renderer, self.ctx, &mut current)?;
        self.cutter = cutter_after(self.renderer, &header);
        self.splice.next_part(header);
        self.current = Some(current);
        self.parts.push(FeedPart {
            file,
            path,
            items: 0,
            gzip: None,
            items_checked: false,
            spliced: None,
            cuts: None,
            copying: Default::default(),
            parsed_behind: Default::default(),
            linked: None,
        });
        Ok(())
    }

    fn close_current(&mut self) -> Result<(), RenderError> {
        if let Some(previous) = self.whole_previous_file()? {
            return self.link_previous(previous);
        }
        self.flush_run()?;
        let Some(mut current) = self.current.take() else {
            return Ok(());
        };
        let footer_start = current.written();
        self.renderer.footer(&mut current)?;
        let end = current.written();
        let finished = current.finish().map_err(|e| self.renderer.io(e))?;
        let parsed_behind = match std::mem::replace(&mut self.behind, Behind::NotStarted) {
            Behind::Running(verdict) => {
                if let Some(worker) = &self.parse_worker {
                    worker.end(footer_start, end);
                }
                verdict
            }
            Behind::NotStarted | Behind::Off => ParsedBehind::default(),
        };
        if let Some(part) = self.parts.last_mut() {
            part.gzip = finished.gzip;
            part.copying = finished.copying;
            part.parsed_behind = parsed_behind;
            (part.items_checked, part.spliced) = self.splice.close_part(footer_start);
            let cutter = cutter_after(self.renderer, &[]);
            part.cuts = std::mem::replace(&mut self.cutter, cutter).finish(footer_start);
        }
        Ok(())
    }
}

/// Writes a file's header; its bytes, and where it ends.
fn write_header(
    renderer: &ChannelRenderer<'_>,
    ctx: &MergeContext<'_>,
    current: &mut FeedFile,
) -> Result<Vec<u8>, RenderError> {
    let mut header = Vec::new();
    renderer.header(ctx, &mut header)?;
    current.write_all(&header).map_err(|e| renderer.io(e))?;
    Ok(header)
}

/// The cutter for a file whose header is `header`.
fn cutter_after(renderer: &ChannelRenderer<'_>, header: &[u8]) -> ChunkCutter {
    ChunkCutter::new(renderer.format(), renderer.separator(), header.len() as u64)
}

fn open(renderer: &ChannelRenderer<'_>, path: &Path, gzip: bool) -> Result<FeedFile, RenderError> {
    FeedFile::create(path, gzip).map_err(|err| {
        let named = std::io::Error::new(err.kind(), format!("{}: {err}", path.display()));
        renderer.io(named)
    })
}
