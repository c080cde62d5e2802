//! Writing a channel's rendered items to its file, or files: a feed with a per-file maximum
//! (Amazon's 10,000 messages) continues in `NAME-2.EXT`, `NAME-3.EXT`, …, each a complete
//! document with its own header and footer.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use super::{ChannelRenderer, RenderError};
use crate::channels::marketplace::part_file_name;
use crate::merge::MergeContext;

/// One file of a channel's feed.
#[derive(Debug, Clone)]
pub struct FeedPart {
    /// The file name inside the feeds folder.
    pub file: String,
    pub path: PathBuf,
    pub items: usize,
}

/// Streams items into a channel's file(s), starting a new file when one is full.
pub struct FeedWriter<'r, 'c, 'm> {
    renderer: &'r ChannelRenderer<'c>,
    ctx: &'r MergeContext<'m>,
    dir: PathBuf,
    output: String,
    per_file: Option<usize>,
    current: BufWriter<File>,
    parts: Vec<FeedPart>,
}

impl<'r, 'c, 'm> FeedWriter<'r, 'c, 'm> {
    /// Creates the first file, `dir/output`, and writes its header.
    pub fn create(
        renderer: &'r ChannelRenderer<'c>,
        ctx: &'r MergeContext<'m>,
        dir: &Path,
        output: &str,
    ) -> Result<Self, RenderError> {
        let path = dir.join(output);
        let current = open(renderer, &path)?;
        let mut writer = Self {
            renderer,
            ctx,
            dir: dir.to_path_buf(),
            output: output.to_string(),
            per_file: renderer.items_per_file(),
            current,
            parts: vec![FeedPart {
                file: output.to_string(),
                path,
                items: 0,
            }],
        };
        renderer.header(ctx, &mut writer.current)?;
        Ok(writer)
    }

    /// Appends one rendered item, first closing the current file if it is full.
    pub fn write_item(&mut self, bytes: &[u8]) -> Result<(), RenderError> {
        let full = self
            .per_file
            .is_some_and(|max| self.parts.last().is_some_and(|p| p.items >= max));
        if full {
            self.next_part()?;
        }
        let renderer = self.renderer;
        let part = self.parts.last_mut().expect("a feed has a first part");
        if part.items > 0 {
            self.current
                .write_all(renderer.separator())
                .map_err(|e| renderer.io(e))?;
        }
        part.items += 1;
        renderer
            .write_item(&mut self.current, part.items, bytes)
            .map_err(|e| renderer.io(e))
    }

    /// Writes the footer and flushes; returns every file written, in order.
    pub fn finish(mut self) -> Result<Vec<FeedPart>, RenderError> {
        self.close_current()?;
        Ok(self.parts)
    }

    fn next_part(&mut self) -> Result<(), RenderError> {
        self.close_current()?;
        let file = part_file_name(&self.output, self.parts.len() + 1);
        let path = self.dir.join(&file);
        self.current = open(self.renderer, &path)?;
        self.parts.push(FeedPart {
            file,
            path,
            items: 0,
        });
        self.renderer.header(self.ctx, &mut self.current)
    }

    fn close_current(&mut self) -> Result<(), RenderError> {
        self.renderer.footer(&mut self.current)?;
        self.current.flush().map_err(|e| self.renderer.io(e))
    }
}

fn open(renderer: &ChannelRenderer<'_>, path: &Path) -> Result<BufWriter<File>, RenderError> {
    File::create(path)
        .map(|file| BufWriter::with_capacity(1 << 16, file))
        .map_err(|err| {
            let named = std::io::Error::new(err.kind(), format!("{}: {err}", path.display()));
            renderer.io(named)
        })
}
