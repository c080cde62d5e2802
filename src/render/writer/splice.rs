//! Splicing the last build's feed into the new one: a run of consecutive items copied from
//! the cache whose bytes stay the same goes into the new file as one byte range, copied in the
//! kernel, instead of item by item through memory.
//!
//! An item's bytes stay the same when writing it again gives the bytes it has (an Amazon
//! message carries its number in its file, so it only does where its number does). Items
//! next to each other in the old file (one separator apart) stay next to each other, and
//! their numbers keep counting up together, so only a run's first item needs that test.
//! Every item written anew, or copied one at a time, is checked on its own as it is written,
//! so the new file can be verified by its pieces (see [`crate::feed_fragments`]).

use std::fs::File;
use std::io::Write;

use super::{FeedWriter, ItemSpan};
use crate::config::ChannelFormat;
use crate::feed_fragments::{
    ChunkCutter, FeedStamp, ItemCheck, SplicePlan, SpliceSource, separator_fits,
};
use crate::render::{ChannelRenderer, RenderError};

/// The last build's feed of a channel, as the build cache knows it.
pub trait LastFeed {
    /// Where runs of items of file `part` may be spliced from, if they may.
    fn splice_source(&self, part: u32) -> Option<&SpliceSource>;
    /// The bytes of one item, as written, read in order through a buffer.
    fn read(&mut self, span: &ItemSpan) -> std::io::Result<Vec<u8>>;
    /// The bytes of one item of a file runs may be spliced from, read by position.
    fn read_spliceable(&mut self, span: &ItemSpan) -> std::io::Result<Vec<u8>>;
    /// A handle of its own on file `part`, to splice byte ranges of it.
    fn splice_file(&mut self, part: u32) -> std::io::Result<File>;
}

/// A feed's splicing state, for the file being written.
pub(super) struct Splicing {
    format: ChannelFormat,
    /// Whether the channel's renderer makes every item whole by construction.
    trusted: bool,
    /// Whether the separator between items fits the pieces' reasoning.
    separator_fits: bool,
    /// Set once the build has the last build's feed of this channel to splice from.
    enabled: bool,
    /// The current file's header.
    header: Vec<u8>,
    /// Checks each item written anew; `None` when items are not checked (no last build, or a
    /// header the pieces' reasoning does not cover).
    check: Option<ItemCheck>,
    /// Whether an item of the current file failed its check: it is then parsed whole.
    failed: bool,
    plan: SplicePlan,
    run: Option<Run>,
}

/// Consecutive items of one old file, not yet copied.
struct Run {
    old_part: u32,
    old_start: u64,
    old_end: u64,
    /// Up to where its bytes are copied already: a long run is handed over as it grows.
    copied_to: u64,
    /// Where the run starts in the new file.
    new_start: u64,
    first: (u64, u32),
    last: (u64, u32),
    file: File,
    source: SpliceSource,
}

impl Splicing {
    pub(super) fn new(renderer: &ChannelRenderer<'_>, header: Vec<u8>) -> Self {
        Splicing {
            format: renderer.format(),
            trusted: renderer.items_whole_by_construction(),
            separator_fits: separator_fits(renderer.format(), renderer.separator()),
            enabled: false,
            header,
            check: None,
            failed: false,
            plan: SplicePlan::default(),
            run: None,
        }
    }

    fn enable(&mut self) {
        self.enabled = true;
        self.check = self.check_for_header();
    }

    fn check_for_header(&self) -> Option<ItemCheck> {
        (self.enabled && self.separator_fits)
            .then(|| ItemCheck::after_header(self.format, &self.header))
            .flatten()
    }

    pub(super) fn next_part(&mut self, header: Vec<u8>) {
        self.header = header;
        self.check = self.check_for_header();
    }

    /// Whether the file is written with the last build's feed to splice from.
    pub(super) fn enabled(&self) -> bool {
        self.enabled
    }

    pub(super) fn checks_items(&self) -> bool {
        self.check.is_some()
    }

    /// For the file just closed: whether its items are each known whole, and how to verify
    /// it by its pieces if it can be.
    pub(super) fn close_part(&mut self, footer_start: u64) -> (bool, Option<SplicePlan>) {
        let checked_all = self.check.is_some() && !self.failed;
        let plan = std::mem::take(&mut self.plan);
        self.failed = false;
        let spliced = (checked_all && !plan.seam_items.is_empty()).then_some(SplicePlan {
            header_end: self.header.len() as u64,
            footer_start,
            ..plan
        });
        (self.trusted || checked_all, spliced)
    }
}

impl FeedWriter<'_, '_, '_> {
    /// From now on, items copied from the last build's feed are spliced where they can be,
    /// and every other item is checked as it is written.
    pub fn splice_from_last_build(&mut self) {
        self.splice.enable();
    }

    /// Appends an item copied from the last build's feed (where `span` says it is there):
    /// spliced as part of a run when its bytes stay the same, else written again.
    pub fn copy_item(
        &mut self,
        span: ItemSpan,
        old: &mut dyn LastFeed,
    ) -> Result<ItemSpan, RenderError> {
        // Copied bytes may land behind the writer, where a parse-back behind it would read a gap.
        self.behind = super::Behind::Off;
        self.make_room()?;
        let part_index = (self.parts.len() - 1) as u32;
        let separator = self.renderer.separator().len() as u64;
        if let Some(run) = self.splice.run.as_mut()
            && run.old_part == span.part
            && span.offset == run.old_end + separator
        {
            let offset = run.new_start + (span.offset - run.old_start);
            run.old_end = span.offset + u64::from(span.len);
            run.last = (offset, span.len);
            if run.old_end - run.copied_to >= crate::output::copy_eager_bytes() {
                // Nothing else is written to the file while a run is pending, so its bytes so
                // far can go in now, copied beside the stream rather than after it.
                let current = self.current.as_mut().expect("a file is open between parts");
                current
                    .splice_from(&run.file, run.copied_to, run.old_end - run.copied_to)
                    .map_err(|e| self.renderer.io(e))?;
                run.copied_to = run.old_end;
            }
            self.parts
                .last_mut()
                .expect("a feed has a first part")
                .items += 1;
            return Ok(ItemSpan {
                part: part_index,
                offset,
                len: span.len,
            });
        }
        self.flush_run()?;
        let renderer = self.renderer;
        let copy_error = |err: std::io::Error| {
            renderer.io(std::io::Error::new(
                err.kind(),
                format!("cannot copy an item from the last build's feed: {err}"),
            ))
        };
        let source = old.splice_source(span.part).cloned();
        let written = match source {
            Some(_) => old.read_spliceable(&span),
            None => old.read(&span),
        }
        .map_err(copy_error)?;
        let number = self.parts.last().map_or(0, |p| p.items) + 1;
        match source {
            Some(source)
                if self.splice.checks_items() && self.same_when_written(&written, number) =>
            {
                let file = old.splice_file(span.part).map_err(copy_error)?;
                self.begin_item()?;
                let current = self.current.as_ref().expect("a file is open between parts");
                let new_start = current.written();
                self.splice.run = Some(Run {
                    old_part: span.part,
                    old_start: span.offset,
                    old_end: span.offset + u64::from(span.len),
                    copied_to: span.offset,
                    new_start,
                    first: (new_start, span.len),
                    last: (new_start, span.len),
                    file,
                    source,
                });
                Ok(ItemSpan {
                    part: part_index,
                    offset: new_start,
                    len: span.len,
                })
            }
            _ => {
                let rendered = renderer.rendered_from_written(&written);
                self.write_item(&rendered)
            }
        }
    }

    /// Takes an item rendered now into the pending run when the last build's feed has the
    /// same bytes where the run goes on: a product read again (its file was saved, or its
    /// numbers changed) whose item in this channel did not change keeps the run whole, and
    /// with it the chance that the whole file is the last build's. Where its bytes landed, if
    /// it was taken.
    pub(super) fn extend_run(&mut self, bytes: &[u8]) -> Result<Option<ItemSpan>, RenderError> {
        let (Some(run), Some(check)) = (&mut self.splice.run, &self.splice.check) else {
            return Ok(None);
        };
        let renderer = self.renderer;
        let part = self.parts.last_mut().expect("a feed has a first part");
        let mut expected = renderer.separator().to_vec();
        let separator = expected.len();
        renderer
            .write_item(&mut expected, part.items + 1, bytes)
            .map_err(|e| renderer.io(e))?;
        if check.item(&expected[separator..]).is_err() {
            return Ok(None);
        }
        let mut old = vec![0; expected.len()];
        let same = crate::positioned::read_exact_at(&run.file, &mut old, run.old_end).is_ok()
            && old == expected;
        if !same {
            return Ok(None);
        }
        let offset = run.new_start + (run.old_end + separator as u64 - run.old_start);
        let len = (expected.len() - separator) as u32;
        run.old_end += expected.len() as u64;
        run.last = (offset, len);
        part.items += 1;
        Ok(Some(ItemSpan {
            part: (self.parts.len() - 1) as u32,
            offset,
            len,
        }))
    }

    /// Whether an item copied as `written` is written the same as item `number` of its file.
    fn same_when_written(&self, written: &[u8], number: usize) -> bool {
        let rendered = self.renderer.rendered_from_written(written);
        let mut again = Vec::with_capacity(written.len());
        self.renderer
            .write_item(&mut again, number, &rendered)
            .is_ok()
            && again == written
    }

    /// The last build's file that the file being closed would copy byte for byte, if it
    /// would: its header, then one run of every item of the last build's file of the same
    /// name, none of it copied yet, then its footer, each the same as there. A build after an
    /// edit leaves most feeds of a catalog with many channels so (a refresh too, those whose
    /// items show no changed number), and each would be copied and hashed whole for nothing.
    pub(super) fn whole_previous_file(&mut self) -> Result<Option<SpliceSource>, RenderError> {
        let Some(run) = &self.splice.run else {
            return Ok(None);
        };
        let header = &self.splice.header;
        let part = self.parts.last().expect("a feed has a first part");
        let same_name = run.source.path.file_name() == Some(std::ffi::OsStr::new(&part.file));
        let every_item_in_one_run = run.old_start == header.len() as u64
            && run.new_start == header.len() as u64
            && run.copied_to == run.old_start;
        if self.gzip || !same_name || !every_item_in_one_run || self.splice.failed {
            return Ok(None);
        }
        let renderer = self.renderer;
        let mut footer = Vec::new();
        renderer.footer(&mut footer)?;
        let old_len = run.file.metadata().map_err(|e| renderer.io(e))?.len();
        if old_len != run.old_end + footer.len() as u64 {
            return Ok(None);
        }
        let read = |offset: u64, len: usize| -> std::io::Result<Vec<u8>> {
            let mut bytes = vec![0; len];
            crate::positioned::read_exact_at(&run.file, &mut bytes, offset)?;
            Ok(bytes)
        };
        let same = read(0, header.len()).is_ok_and(|old| old == *header)
            && read(run.old_end, footer.len()).is_ok_and(|old| old == footer)
            && run.source.unchanged();
        Ok(same.then(|| run.source.clone()))
    }

    /// Closes the file being written as a link to `previous`, the last build's file it
    /// would copy whole (see [`FeedWriter::whole_previous_file`]): nothing is copied into it
    /// and it is not hashed again.
    pub(super) fn link_previous(&mut self, previous: SpliceSource) -> Result<(), RenderError> {
        let renderer = self.renderer;
        self.splice.run = None;
        // Only its header was written, and no range has gone to be copied behind it.
        let current = self.current.take().expect("a file is open between parts");
        drop(current);
        let part = self.parts.last_mut().expect("a feed has a first part");
        // Where links are not to be had, a copy (then parsed back whole, as any file is).
        let kept = std::fs::remove_file(&part.path).and_then(|()| {
            match std::fs::hard_link(&previous.path, &part.path) {
                Ok(()) => FeedStamp::of(&part.path).map(Some),
                Err(_) => std::fs::copy(&previous.path, &part.path).map(|_| None),
            }
        });
        part.linked = kept.map_err(|err| {
            renderer.io(std::io::Error::new(
                err.kind(),
                format!("cannot keep {} as it is: {err}", previous.path.display()),
            ))
        })?;
        (part.items_checked, _) = self.splice.close_part(0);
        self.cutter = ChunkCutter::new(renderer.format(), renderer.separator(), 0);
        Ok(())
    }

    /// Copies the pending run into the file.
    pub(super) fn flush_run(&mut self) -> Result<(), RenderError> {
        let Some(run) = self.splice.run.take() else {
            return Ok(());
        };
        let current = self.current.as_mut().expect("a file is open between parts");
        current
            .splice_from(&run.file, run.copied_to, run.old_end - run.copied_to)
            .map_err(|e| self.renderer.io(e))?;
        self.splice.plan.add_run(run.first, run.last, &run.source);
        Ok(())
    }

    /// Writes one item anew (rendered now, or copied but not spliced) and checks it.
    pub(super) fn write_checked_item(&mut self, bytes: &[u8]) -> Result<ItemSpan, RenderError> {
        let number = self.begin_item()?;
        let renderer = self.renderer;
        let mut written = Vec::with_capacity(bytes.len() + 32);
        renderer
            .write_item(&mut written, number, bytes)
            .map_err(|e| renderer.io(e))?;
        if let Some(check) = &self.splice.check
            && check.item(&written).is_err()
        {
            // Parsed whole at the end, which names the problem.
            self.splice.failed = true;
        }
        let current = self.current.as_mut().expect("a file is open between parts");
        let offset = current.written();
        current.write_all(&written).map_err(|e| renderer.io(e))?;
        Ok(ItemSpan {
            part: (self.parts.len() - 1) as u32,
            offset,
            len: written.len() as u32,
        })
    }
}
