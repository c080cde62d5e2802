//! The parse-back of a feed written from scratch, done behind the writer: each chunk of whole
//! items (see [`super::chunks`]) is read back, hashed and checked on a thread of the lowest
//! priority as soon as the writer has flushed it, while the stream goes on.
//!
//! A cold build renders every item on both cores and the writer thread writes them; the
//! cores are not both busy all the time (the stages wait on one another now and then), and
//! parsing every feed back after the stream (839 MB at 100k products with the example's nine
//! channels) was the build's last stage, on both cores, while nothing else was left to do.
//! Done behind, it takes the time the stream leaves idle; what is left at the end of the
//! stream is finished then, as before. The same reasoning as parsing by chunks after the
//! stream applies, chunk by chunk: the header and footer must frame items and every chunk
//! must be whole items; a chunk that is not proves nothing, so the file is then parsed whole
//! after the stream, which also names what is wrong and where.
//!
//! One thread per feed, for all its files, rather than one per file: Amazon's feed of a
//! million products has about 70 files, and a thread each (77 at once in one build, each with
//! its chunk) cost 80–100 MB of peak memory and, at the lowest priority but many, slowed the
//! stream. A thread at `SCHED_IDLE` instead of `nice` 19 got too little done during the stream
//! (the wait after it 0.55–0.68 s against 0.18–0.40 s).
//!
//! Measured at 100k products with the nine example channels, alternating cold builds of this
//! and the version that parsed every feed back after the stream, each on its own copy of the
//! catalog (5 rounds each after a warm-up): medians 6.69 → 6.47 s, the wait for the parse-back
//! after the stream 0.89–1.06 → 0.18–0.40 s, peak RSS about 320 → 293 MB (the feeds are no
//! longer mapped to be read). At 1M, one pair: 76.6 → 75.0 s, peak RSS 1.56 → 1.58 GB.

use std::fs::File;
use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::thread::JoinHandle;

use sha2::{Digest as _, Sha256};

use super::chunks::chunk_is_whole;
use super::{ItemCheck, check_envelope};
use crate::config::ChannelFormat;
use crate::output::{self, FileStats};

/// What the thread is handed, in the order the feed's files are written.
enum Job {
    /// A new file of the feed, whose header ends at `header_end`; its verdict goes to
    /// `verdict` (dropped unsent when there is none).
    Open {
        file: File,
        header_end: u64,
        verdict: mpsc::Sender<FileStats>,
    },
    /// The open file's bytes up to `to` (an item's end), written and flushed: the next chunk,
    /// or with the first job the header and the first chunk.
    Chunk { to: u64 },
    /// The rest of the open file, written and flushed up to `end`: its last items and, from
    /// `footer_start`, its footer.
    End { footer_start: u64, end: u64 },
}

/// A feed's parse-back going on behind its writer: one thread for all of the feed's files
/// (Amazon's feed of a million products has about 70), so a catalog of any size has one per
/// channel at most, each holding one chunk.
pub struct ParseBehind {
    jobs: Option<mpsc::Sender<Job>>,
    thread: Option<JoinHandle<()>>,
    /// Set when the feed is given up on (a failed build): the thread stops at its next job.
    given_up: Arc<AtomicBool>,
}

impl ParseBehind {
    /// Starts the thread for a feed in `format`. `None` where it cannot be had: the feed's
    /// files are then parsed after the stream.
    pub fn start(format: ChannelFormat) -> Option<ParseBehind> {
        // Windows moves a handle's cursor on every positioned read, which the writer's
        // handle shares (see `crate::positioned`).
        if cfg!(not(unix)) {
            return None;
        }
        let given_up = Arc::new(AtomicBool::new(false));
        let stop = Arc::clone(&given_up);
        let (jobs, received) = mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("parse-behind".into())
            .spawn(move || {
                output::lowest_priority_for_this_thread();
                parse_in_order(received, format, &stop);
            })
            .ok()?;
        Some(ParseBehind {
            jobs: Some(jobs),
            thread: Some(thread),
            given_up,
        })
    }

    /// Starts parsing back `file` (a handle is cloned for the thread), the feed's next file,
    /// whose header ends at `header_end`: its verdict, or `None` when the handle cannot be had.
    pub fn open(&self, file: &File, header_end: u64) -> Option<ParsedBehind> {
        let file = file.try_clone().ok()?;
        let (verdict, receiver) = mpsc::channel();
        self.send(Job::Open {
            file,
            header_end,
            verdict,
        });
        Some(ParsedBehind(Some(Arc::new(Mutex::new(Verdict::Coming(
            receiver,
        ))))))
    }

    /// Hands over the open file's bytes up to `to`, an item's end, written and flushed.
    pub fn chunk_to(&self, to: u64) {
        self.send(Job::Chunk { to });
    }

    /// Hands over the rest of the open file, finished: written and flushed up to `end`, its
    /// footer from `footer_start`.
    pub fn end(&self, footer_start: u64, end: u64) {
        self.send(Job::End { footer_start, end });
    }

    /// The feed is written: the thread finishes what it was handed, giving each verdict as
    /// it comes, and ends by itself.
    pub fn written(mut self) {
        self.jobs = None;
        self.thread = None;
    }

    fn send(&self, job: Job) {
        // A thread that stopped has dropped every verdict still to come: nothing to tell it.
        if let Some(jobs) = &self.jobs {
            let _ = jobs.send(job);
        }
    }
}

impl Drop for ParseBehind {
    /// A feed given up on (the build failed) stops its thread rather than parse on.
    fn drop(&mut self) {
        if let Some(thread) = self.thread.take() {
            self.given_up.store(true, Ordering::Relaxed);
            self.jobs = None;
            let _ = thread.join();
        }
    }
}

/// The thread: parses back each file as its jobs come, and gives its verdict when it passed.
/// A verdict's sender dropped unsent (a file that failed a check, or was not finished) says
/// there is none.
fn parse_in_order(jobs: mpsc::Receiver<Job>, format: ChannelFormat, given_up: &AtomicBool) {
    let mut open: Option<(Parsing, mpsc::Sender<FileStats>)> = None;
    for job in jobs {
        if given_up.load(Ordering::Relaxed) {
            return;
        }
        match job {
            Job::Open {
                file,
                header_end,
                verdict,
            } => open = Some((Parsing::new(file, format, header_end), verdict)),
            Job::Chunk { to } => {
                if let Some((parsing, _)) = &mut open
                    && !parsing.chunk(to).unwrap_or(false)
                {
                    open = None;
                }
            }
            Job::End { footer_start, end } => {
                if let Some((parsing, verdict)) = open.take()
                    && let Some(stats) = parsing.end(footer_start, end)
                {
                    let _ = verdict.send(stats);
                }
            }
        }
    }
}

/// The verdict of a file's parse-back behind its writer: shared by the clones of the file's
/// description; the first to wait waits for the thread.
#[derive(Clone, Default)]
pub struct ParsedBehind(Option<Arc<Mutex<Verdict>>>);

enum Verdict {
    Coming(mpsc::Receiver<FileStats>),
    Given(Option<FileStats>),
}

impl ParsedBehind {
    /// The file's size and SHA-256 when it was parsed back behind its writer and passed;
    /// `None` when it was not, or did not pass (it is then to be parsed whole).
    pub fn wait(&self) -> Option<FileStats> {
        let mut verdict = self
            .0
            .as_ref()?
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Verdict::Coming(receiver) = &*verdict {
            let given = receiver.recv().ok();
            *verdict = Verdict::Given(given);
        }
        match &*verdict {
            Verdict::Given(given) => given.clone(),
            Verdict::Coming(_) => unreachable!("given above"),
        }
    }
}

impl std::fmt::Debug for ParsedBehind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_some() {
            "parsed behind its writer"
        } else {
            "none"
        })
    }
}

/// The thread's state: the file read back front to back once, each range hashed and its
/// items checked.
struct Parsing {
    file: File,
    format: ChannelFormat,
    header_end: u64,
    header: Vec<u8>,
    /// The check for items, from the header, once it has been read.
    items: Option<ItemCheck>,
    hasher: Sha256,
    /// Up to where the file has been read, hashed and checked.
    read_to: u64,
    buffer: Vec<u8>,
}

impl Parsing {
    fn new(file: File, format: ChannelFormat, header_end: u64) -> Parsing {
        Parsing {
            file,
            format,
            header_end,
            header: Vec::new(),
            items: None,
            hasher: Sha256::new(),
            read_to: 0,
            buffer: Vec::new(),
        }
    }

    /// Reads, hashes and checks the bytes up to `to`: whole items, after the header with the
    /// first chunk.
    fn chunk(&mut self, to: u64) -> io::Result<bool> {
        let first = self.read_to == 0;
        if first && to < self.header_end {
            return Ok(false);
        }
        let len = self.read_up_to(to)?;
        let bytes = &self.buffer[..len];
        let items = if first {
            let (header, items) = bytes.split_at(self.header_end as usize);
            self.header = header.to_vec();
            self.items = ItemCheck::after_header(self.format, header);
            items
        } else {
            bytes
        };
        Ok(self
            .items
            .as_ref()
            .is_some_and(|check| chunk_is_whole(check, self.format, items, !first)))
    }

    /// Reads, hashes and checks the last items and the footer, and the envelope: the file's
    /// size and SHA-256 when every check passed.
    fn end(mut self, footer_start: u64, end: u64) -> Option<FileStats> {
        if self.read_to == 0 || footer_start < self.read_to || end < footer_start {
            return None;
        }
        let from = self.read_to;
        let len = self.read_up_to(end).ok()?;
        let (items, footer) = self.buffer[..len].split_at((footer_start - from) as usize);
        let check = self.items.as_ref()?;
        // Empty when the last item ended the last chunk.
        let items_whole = items.is_empty() || chunk_is_whole(check, self.format, items, true);
        let passed = items_whole && check_envelope(self.format, &self.header, footer).is_ok();
        passed.then(|| FileStats {
            bytes: self.read_to,
            sha256: output::hex(&self.hasher.finalize()),
        })
    }

    /// Reads the file's bytes from where the last range ended up to `to` into the buffer,
    /// and hashes them; how many.
    fn read_up_to(&mut self, to: u64) -> io::Result<usize> {
        let len = to.checked_sub(self.read_to).ok_or_else(|| {
            io::Error::other("a range that starts before the end of the one before")
        })? as usize;
        if self.buffer.len() < len {
            self.buffer.resize(len, 0);
        }
        let bytes = &mut self.buffer[..len];
        crate::positioned::read_exact_at(&self.file, bytes, self.read_to)?;
        self.hasher.update(&*bytes);
        self.read_to = to;
        Ok(len)
    }
}

#[cfg(all(test, unix))]
mod tests {
    use std::io::Write;

    use super::*;

    /// Writes `header`, the items and `footer` into a file in `dir` as the writer does,
    /// handing each cut to `worker` (a cut after every `every` items); the file's verdict to
    /// come, and its path.
    fn write_behind(
        worker: &ParseBehind,
        dir: &std::path::Path,
        (header, footer): (&str, &str),
        items: &[String],
        separator: &str,
        every: usize,
    ) -> (ParsedBehind, std::path::PathBuf) {
        let path = dir.join(format!("feed-{}", items.len() * 1000 + every));
        let mut file = read_write(&path);
        file.write_all(header.as_bytes()).unwrap();
        let mut written = header.len() as u64;
        let mut verdict = None;
        for (index, item) in items.iter().enumerate() {
            if index > 0 {
                file.write_all(separator.as_bytes()).unwrap();
                written += separator.len() as u64;
            }
            file.write_all(item.as_bytes()).unwrap();
            written += item.len() as u64;
            if (index + 1) % every == 0 {
                verdict.get_or_insert_with(|| worker.open(&file, header.len() as u64).unwrap());
                worker.chunk_to(written);
            }
        }
        let footer_start = written;
        file.write_all(footer.as_bytes()).unwrap();
        worker.end(footer_start, written + footer.len() as u64);
        (verdict.expect("at least one cut"), path)
    }

    /// A new file, open for writing and for reading back, as the writer opens a feed.
    fn read_write(path: &std::path::Path) -> File {
        File::options()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(path)
            .unwrap()
    }

    /// One file parsed back behind its writer: its verdict, and the size and hash of the file
    /// read whole.
    fn parsed_behind(
        format: ChannelFormat,
        envelope: (&str, &str),
        items: &[String],
        separator: &str,
        every: usize,
    ) -> (Option<FileStats>, FileStats) {
        let dir = tempfile::tempdir().unwrap();
        let worker = ParseBehind::start(format).unwrap();
        let (verdict, path) = write_behind(&worker, dir.path(), envelope, items, separator, every);
        worker.written();
        (verdict.wait(), output::hash_file(&path).unwrap())
    }

    const RSS: (&str, &str) = (
        "<?xml version=\"1.0\"?>\n<rss><channel>\n",
        "</channel></rss>\n",
    );

    fn items(count: usize, item: impl Fn(usize) -> String) -> Vec<String> {
        (0..count).map(item).collect()
    }

    #[test]
    fn a_feed_of_whole_items_passes_and_is_hashed_as_read_whole() {
        let xml = items(50, |index| format!("<item><id>{index}</id></item>\n"));
        for every in [1, 7, 50] {
            let (verdict, whole) = parsed_behind(ChannelFormat::Xml, RSS, &xml, "", every);
            assert_eq!(verdict, Some(whole), "a cut every {every}");
        }
        let json = items(20, |index| format!("{{\"id\":{index}}}"));
        let (verdict, whole) =
            parsed_behind(ChannelFormat::Json, ("{\"items\":[", "]}"), &json, ",", 3);
        assert_eq!(verdict, Some(whole));
        let csv = items(20, |index| format!("{index},\"a, \"\"b\"\"\"\n"));
        let (verdict, whole) = parsed_behind(ChannelFormat::Csv, ("id,name\n", ""), &csv, "", 4);
        assert_eq!(verdict, Some(whole));
        let lines = items(20, |index| format!("{{\"id\":{index}}}\n"));
        let (verdict, whole) = parsed_behind(ChannelFormat::Jsonl, ("", ""), &lines, "", 6);
        assert_eq!(verdict, Some(whole));
    }

    #[test]
    fn a_broken_item_or_envelope_gives_no_verdict() {
        let xml_with = |broken: usize, item: &str| {
            items(30, |index| match index {
                _ if index == broken => item.to_string(),
                _ => format!("<item><id>{index}</id></item>\n"),
            })
        };
        let csv = items(20, |index| match index {
            9 => "9,\"open\n".to_string(),
            _ => format!("{index},x\n"),
        });
        let cases = [
            (
                "an item left open",
                RSS,
                xml_with(17, "<item><id>17</item>\n"),
                5,
            ),
            (
                "the last item",
                RSS,
                xml_with(29, "<item>&nbsp;</item>\n"),
                5,
            ),
            (
                "an unclosed root",
                (RSS.0, "</channel>\n"),
                xml_with(usize::MAX, ""),
                5,
            ),
            // Whole only together: the file parses, but not by its chunks.
            (
                "items split in two",
                RSS,
                items(30, |index| match index % 2 {
                    0 => format!("<item><id>{index}</id>"),
                    _ => "</item>\n".to_string(),
                }),
                3,
            ),
        ];
        for (case, envelope, xml, every) in cases {
            let verdict = parsed_behind(ChannelFormat::Xml, envelope, &xml, "", every).0;
            assert_eq!(verdict, None, "{case}");
        }
        let envelope = ("id,name\n", "");
        assert_eq!(
            parsed_behind(ChannelFormat::Csv, envelope, &csv, "", 4).0,
            None
        );
    }

    #[test]
    fn one_thread_gives_each_file_of_a_feed_its_own_verdict() {
        let dir = tempfile::tempdir().unwrap();
        let worker = ParseBehind::start(ChannelFormat::Xml).unwrap();
        let whole = |count| items(count, |index| format!("<item><id>{index}</id></item>\n"));
        let broken = items(21, |index| match index {
            4 => "<item><id>4</item>\n".to_string(),
            _ => format!("<item><id>{index}</id></item>\n"),
        });
        let files = [
            write_behind(&worker, dir.path(), RSS, &whole(20), "", 3),
            write_behind(&worker, dir.path(), RSS, &broken, "", 3),
            write_behind(&worker, dir.path(), RSS, &whole(22), "", 3),
        ];
        worker.written();
        let verdicts: Vec<Option<FileStats>> = files.iter().map(|(v, _)| v.wait()).collect();
        assert_eq!(verdicts[0], Some(output::hash_file(&files[0].1).unwrap()));
        assert_eq!(verdicts[1], None, "the broken file");
        assert_eq!(verdicts[2], Some(output::hash_file(&files[2].1).unwrap()));
    }

    #[test]
    fn a_feed_given_up_on_stops_its_thread_and_gives_no_verdict() {
        let dir = tempfile::tempdir().unwrap();
        let mut file = read_write(&dir.path().join("feed.xml"));
        file.write_all(b"<rss><item/>").unwrap();
        let worker = ParseBehind::start(ChannelFormat::Xml).unwrap();
        let verdict = worker.open(&file, 5).unwrap();
        worker.chunk_to(12);
        let given_up = Arc::clone(&worker.given_up);
        // Dropped without the file's end: the thread is told to stop and is joined, and the
        // verdict says there is none rather than wait.
        drop(worker);
        assert!(given_up.load(Ordering::Relaxed));
        assert_eq!(verdict.wait(), None);
    }
}
