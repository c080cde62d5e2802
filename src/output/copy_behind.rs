//! Copying long byte ranges of an old file into a new one on a thread of their own, while the
//! writer goes on writing what comes after them.
//!
//! A build after a one-line edit keeps almost all of the last build's feed: a run of a
//! hundred megabytes copied (in the kernel, but on ext4 byte by byte, without reflinks) where
//! the run ends, which is at the end of the stream or later.
//! Each range has its place in the new file when it is handed over (when its run ends), so
//! the writer leaves a gap of its length and writes on behind it; the thread fills the gap,
//! beside the parse-back, the report and the blame, and a second thread hashes the file a
//! chunk behind it for the manifest. The file is whole once [`CopyBehind::finish`] (or
//! [`Copying::wait`]) has returned: nothing reads it before.
//!
//! A `refresh` after stock moved all over the catalog keeps short runs instead (about a
//! hundred items between two changed ones): each is copied at once, on the writer's thread,
//! and the thread pair is started anyway once the file has a few megabytes, to hash it behind
//! the writer at the lowest priority rather than read it whole after the stream.

use std::fs::File;
use std::io;
use std::sync::{Arc, Mutex, mpsc};
use std::thread::JoinHandle;

use sha2::{Digest as _, Sha256};

use super::FileStats;

/// Ranges shorter than this are copied at once: a thread's round trip would cost more.
const MIN_BEHIND_BYTES: u64 = 1 << 20;

/// A run still growing may be handed over each time it has this many bytes not yet copied,
/// so the copy keeps pace with the stream instead of starting at its end. Off: measured at
/// 100k on two cores, copying during the stream (whose reading and writer threads keep both
/// cores busy) slowed it by more than the copy took, where after it the copy runs beside the
/// report on the core the report leaves free.
const EAGER_BYTES: u64 = u64::MAX;

/// The two sizes above. A debug build takes them from `PIMFEED_COPY_BEHIND=MIN,EAGER` when it
/// is set, so the tests' small catalogs go through the thread too; a release build has no
/// such setting.
fn sizes() -> (u64, u64) {
    // Windows moves a handle's cursor with every positioned read or write, and the copying
    // thread's handle would share the writer's cursor: there every range is copied at once,
    // on the writer's thread (see `crate::positioned`).
    if cfg!(not(unix)) {
        return (u64::MAX, u64::MAX);
    }
    #[cfg(debug_assertions)]
    {
        static SIZES: std::sync::OnceLock<(u64, u64)> = std::sync::OnceLock::new();
        *SIZES.get_or_init(|| {
            std::env::var("PIMFEED_COPY_BEHIND")
                .ok()
                .and_then(|spec| {
                    let (min, eager) = spec.split_once(',')?;
                    Some((min.parse().ok()?, eager.parse().ok()?))
                })
                .unwrap_or((MIN_BEHIND_BYTES, EAGER_BYTES))
        })
    }
    #[cfg(not(debug_assertions))]
    (MIN_BEHIND_BYTES, EAGER_BYTES)
}

/// How many bytes of a growing run not yet copied make it worth handing over.
pub fn eager_bytes() -> u64 {
    sizes().1
}

/// What the thread does, in the destination's order.
enum Job {
    /// Copies `len` bytes of `source` from `from` to `to` in the destination (and hashes them).
    Copy {
        source: File,
        from: u64,
        to: u64,
        len: u64,
    },
    /// Hashes the destination's bytes `from..to`, which the writer has written and flushed.
    Written { from: u64, to: u64 },
}

/// The destination's size and SHA-256 when the thread hashed it whole, in order.
type Digest = Option<FileStats>;

/// Copies ranges into one destination file on a thread started at the first long range (or
/// once short ones make a hash chunk), and hashes the whole file as it is made, on a second
/// thread that follows the first.
pub struct CopyBehind {
    /// What the source is, for the error when it is shorter than the range.
    source_name: &'static str,
    /// Up to where the destination's bytes have been handed to the thread.
    handed_to: u64,
    running: Option<(mpsc::Sender<Job>, JoinHandle<io::Result<Digest>>)>,
}

impl CopyBehind {
    /// `source_name` names the files ranges come from, as in "the last build's feed". Once
    /// the thread is started, the destination is also hashed front to back as it is made:
    /// the bytes the writer wrote (read back once flushed) and those it copied (read back
    /// after the copy).
    pub fn new(source_name: &'static str) -> CopyBehind {
        CopyBehind {
            source_name,
            handed_to: 0,
            running: None,
        }
    }

    /// Copies `len` bytes of `source` from `from` to `to` in `destination`: at once when the
    /// range is short, else on the thread (the caller leaves the gap and writes on after it).
    /// Everything before `to` is written and flushed.
    pub fn copy(
        &mut self,
        destination: &File,
        source: &File,
        (from, to, len): (u64, u64, u64),
    ) -> io::Result<()> {
        if len < sizes().0 {
            copy_range(source, from, destination, to, len, self.source_name)?;
            if to + len - self.handed_to >= HASH_CHUNK_BYTES {
                self.hand_over_written(destination, to + len)?;
            }
            return Ok(());
        }
        let source = source.try_clone()?;
        self.hand_over_written(destination, to)?;
        self.handed_to = to + len;
        self.send(Job::Copy {
            source,
            from,
            to,
            len,
        })
    }

    /// Hands the destination's bytes up to `to`, written and flushed, to the thread (started
    /// if need be) to hash. A feed spliced from short runs only (a `refresh` after stock moved
    /// all over the catalog copies a run of about a hundred items between two changed ones)
    /// is hashed this way too, a few megabytes behind the writer: while the stream leaves a
    /// core partly idle, rather than whole at the end, when verifying it is all that is left.
    fn hand_over_written(&mut self, destination: &File, to: u64) -> io::Result<()> {
        if self.running.is_none() {
            self.start(destination)?;
        }
        if self.handed_to < to {
            self.send(Job::Written {
                from: self.handed_to,
                to,
            })?;
            self.handed_to = to;
        }
        Ok(())
    }

    fn start(&mut self, destination: &File) -> io::Result<()> {
        let destination = destination.try_clone()?;
        let source_name = self.source_name;
        let (sender, jobs) = mpsc::channel::<Job>();
        let thread = std::thread::Builder::new()
            .name("copy-behind".into())
            .spawn(move || copy_and_hash(jobs, destination, source_name))?;
        self.running = Some((sender, thread));
        Ok(())
    }

    fn send(&self, job: Job) -> io::Result<()> {
        let (sender, _) = self.running.as_ref().expect("the thread is started");
        sender
            .send(job)
            .map_err(|_| io::Error::other("the copying thread stopped"))
    }

    /// Waits for every range handed over, the destination written and flushed up to `end`
    /// (its size); its size and SHA-256 when the thread hashed it whole (it took a range),
    /// else none.
    pub fn finish(mut self, end: u64) -> io::Result<Digest> {
        if self.running.is_some() && self.handed_to < end {
            self.send(Job::Written {
                from: self.handed_to,
                to: end,
            })?;
        }
        self.wait()
    }

    /// The ranges still being copied into a file the writer has finished, written and
    /// flushed up to `end`: whoever reads the file first waits for them.
    pub fn into_copying(self, end: u64) -> Copying {
        if self.running.is_none() {
            return Copying(None);
        }
        Copying(Some(Arc::new(Mutex::new(CopyState::Running(self, end)))))
    }

    fn wait(&mut self) -> io::Result<Digest> {
        let Some((sender, thread)) = self.running.take() else {
            return Ok(None);
        };
        drop(sender);
        thread
            .join()
            .unwrap_or_else(|_| Err(io::Error::other("the copying thread panicked")))
    }
}

impl Drop for CopyBehind {
    /// A writer dropped on an error still waits, so no thread writes into a staging folder
    /// that is being removed.
    fn drop(&mut self) {
        let _ = self.wait();
    }
}

/// Ranges still being copied into a finished file, and its digest once they are: the file is
/// not whole before [`Copying::wait`] has returned. Shared by the clones of the file's
/// description; the first to wait waits for the thread.
#[derive(Clone, Default)]
pub struct Copying(Option<Arc<Mutex<CopyState>>>);

enum CopyState {
    Running(CopyBehind, u64),
    /// What the thread gave: the error as kind and message, for every clone to return.
    Finished(Result<Digest, (io::ErrorKind, String)>),
}

impl Copying {
    /// Waits for the ranges, if any are still being copied; the file's size and SHA-256 when
    /// the thread hashed it whole.
    pub fn wait(&self) -> io::Result<Digest> {
        let Some(state) = &self.0 else {
            return Ok(None);
        };
        let mut state = state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if matches!(*state, CopyState::Running(..)) {
            let placeholder = CopyState::Finished(Ok(None));
            if let CopyState::Running(copier, end) = std::mem::replace(&mut *state, placeholder) {
                let result = copier.finish(end);
                *state = CopyState::Finished(result.map_err(|err| (err.kind(), err.to_string())));
            }
        }
        match &*state {
            CopyState::Finished(Ok(digest)) => Ok(digest.clone()),
            CopyState::Finished(Err((kind, message))) => {
                Err(io::Error::new(*kind, message.clone()))
            }
            CopyState::Running(..) => unreachable!("finished above"),
        }
    }
}

impl std::fmt::Debug for Copying {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let copying = if self.0.is_some() {
            "ranges copied behind"
        } else {
            "none"
        };
        f.write_str(copying)
    }
}

/// The copying thread: does every job in order, and hands the destination's bytes each job
/// made to a hashing thread of its own as they are made, a chunk at a time, so the hash
/// follows the copy instead of starting where it ends. At 100k products, after a one-line
/// edit, a build waits for the Google feed's 108 MB to be copied and hashed: one after the
/// other on one thread, such a build took a median of 0.445 s here, side by side 0.405 s.
fn copy_and_hash(
    jobs: mpsc::Receiver<Job>,
    destination: File,
    source_name: &'static str,
) -> io::Result<Digest> {
    // Without a thread to be had, each range is hashed here, after its job.
    let hashing = start_hashing(&destination).ok();
    let mut hashed_here = Hashing::new();
    // Every job is taken, the ones after a failure too, so the sender never blocks on a
    // thread that has stopped.
    let mut result = Ok(());
    for job in jobs {
        if result.is_ok() {
            let mut made = |from, to| match &hashing {
                Some((ranges, _)) => ranges
                    .send((from, to))
                    .map_err(|_| io::Error::other("the hashing thread stopped")),
                None => hashed_here.range(&destination, from, to),
            };
            result = run(job, &destination, source_name, &mut made);
        }
    }
    let hashed = match hashing {
        Some((ranges, thread)) => {
            drop(ranges);
            thread
                .join()
                .unwrap_or_else(|_| Err(io::Error::other("the hashing thread panicked")))
        }
        None => Ok(hashed_here),
    };
    // A copy that failed says why; the hash of a file left incomplete says nothing.
    result?;
    let Hashing {
        hasher,
        hashed: bytes,
        ..
    } = hashed?;
    Ok(Some(FileStats {
        bytes,
        sha256: super::hex(&hasher.finalize()),
    }))
}

/// The hashing thread: where to send it the ranges to hash, in order, and the thread.
type HashingThread = (mpsc::Sender<(u64, u64)>, JoinHandle<io::Result<Hashing>>);

/// Starts the hashing thread on a handle of its own to `destination`.
fn start_hashing(destination: &File) -> io::Result<HashingThread> {
    let read_back = destination.try_clone()?;
    let (ranges, to_hash) = mpsc::channel();
    let thread = std::thread::Builder::new()
        .name("hash-behind".into())
        .spawn(move || hash_in_order(to_hash, &read_back))?;
    Ok((ranges, thread))
}

/// The hashing thread: hashes the destination's ranges, each the next after the one before,
/// as the copying thread hands them over; the hash and the bytes it covers.
fn hash_in_order(ranges: mpsc::Receiver<(u64, u64)>, file: &File) -> io::Result<Hashing> {
    // At the lowest priority: the hash is wanted only at the end, and while the stream runs
    // it takes the time the stream leaves idle rather than the stream's own. Measured at 100k
    // with the nine example channels, a `refresh` after 1% of stock took 1.14 s hashing
    // behind at the same priority (the stream slowed by more than the hash took off the end)
    // and 1.08 s at the lowest, against 1.19 s hashing every feed whole at the end.
    super::lowest_priority_for_this_thread();
    let mut hash = Hashing::new();
    let mut result = Ok(());
    for (from, to) in ranges {
        if result.is_ok() {
            result = hash.range(file, from, to);
        }
    }
    result.map(|()| hash)
}

/// A file's hash taken front to back, range by range, through one buffer.
struct Hashing {
    hasher: Sha256,
    /// Up to where the file has been hashed.
    hashed: u64,
    buffer: Vec<u8>,
}

impl Hashing {
    fn new() -> Hashing {
        Hashing {
            hasher: Sha256::new(),
            hashed: 0,
            buffer: Vec::new(),
        }
    }

    /// Hashes `file`'s bytes `from..to`, which are the next ones after what it took so far.
    fn range(&mut self, file: &File, from: u64, to: u64) -> io::Result<()> {
        if self.hashed != from {
            return Err(io::Error::other(format!(
                "the feed was hashed to byte {}, and its next range starts at {from}",
                self.hashed
            )));
        }
        // Allocated once, at the size of a range copied (chunks are 4 MB) or 1 MB at most.
        let wanted = (to - from).min(1 << 20) as usize;
        if self.buffer.len() < wanted {
            self.buffer.resize(wanted, 0);
        }
        let mut at = from;
        while at < to {
            let chunk = (to - at).min(self.buffer.len() as u64) as usize;
            crate::positioned::read_exact_at(file, &mut self.buffer[..chunk], at)?;
            self.hasher.update(&self.buffer[..chunk]);
            at += chunk as u64;
        }
        self.hashed = to;
        Ok(())
    }
}

/// A copy is handed to the hashing thread this many bytes at a time: a chunk is hashed while
/// the next is copied, and read back while the copy may still have it in the processor's cache.
const HASH_CHUNK_BYTES: u64 = 4 << 20;

/// Does one job, calling `made` with each range of the destination it made, in order.
fn run(
    job: Job,
    destination: &File,
    source_name: &str,
    made: &mut dyn FnMut(u64, u64) -> io::Result<()>,
) -> io::Result<()> {
    match job {
        Job::Copy {
            source,
            mut from,
            mut to,
            len,
        } => {
            let end = to + len;
            while to < end {
                let chunk = (end - to).min(HASH_CHUNK_BYTES);
                copy_range(&source, from, destination, to, chunk, source_name)?;
                made(to, to + chunk)?;
                from += chunk;
                to += chunk;
            }
            Ok(())
        }
        Job::Written { from, to } => made(from, to),
    }
}

/// Copies `len` bytes of `source` from `from` to `to` in `destination`, by position (neither
/// file's offset moves): in the kernel where it can, else through a buffer.
pub fn copy_range(
    source: &File,
    mut from: u64,
    destination: &File,
    mut to: u64,
    mut len: u64,
    source_name: &str,
) -> io::Result<()> {
    let short = || {
        io::Error::new(
            io::ErrorKind::UnexpectedEof,
            format!("{source_name} is shorter than the build cache says"),
        )
    };
    #[cfg(target_os = "linux")]
    while len > 0 {
        use std::os::fd::AsRawFd;
        let mut off_in = from as libc::loff_t;
        let mut off_out = to as libc::loff_t;
        let chunk = len.min(1 << 30) as usize;
        // SAFETY: both descriptors are open for the call, and the offsets are ours.
        let copied = unsafe {
            libc::copy_file_range(
                source.as_raw_fd(),
                &mut off_in,
                destination.as_raw_fd(),
                &mut off_out,
                chunk,
                0,
            )
        };
        if copied < 0 {
            let err = io::Error::last_os_error();
            match err.raw_os_error() {
                Some(libc::EINTR) => continue,
                // Not between these files or on this file system: through a buffer below.
                Some(libc::EXDEV | libc::ENOSYS | libc::EINVAL | libc::EOPNOTSUPP) => break,
                _ => return Err(err),
            }
        }
        if copied == 0 {
            return Err(short());
        }
        from += copied as u64;
        to += copied as u64;
        len -= copied as u64;
    }
    let mut buffer = vec![0; len.min(1 << 20) as usize];
    while len > 0 {
        let chunk = len.min(buffer.len() as u64) as usize;
        let read = crate::positioned::read_at(source, &mut buffer[..chunk], from)?;
        if read == 0 {
            return Err(short());
        }
        crate::positioned::write_all_at(destination, &buffer[..read], to)?;
        from += read as u64;
        to += read as u64;
        len -= read as u64;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::io::{Seek, SeekFrom, Write};

    use super::*;

    fn pattern(len: usize, seed: u8) -> Vec<u8> {
        (0..len)
            .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
            .collect()
    }

    #[test]
    fn ranges_behind_and_bytes_written_after_them_make_the_file_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let old = pattern(2 * HASH_CHUNK_BYTES as usize + 7, 3);
        std::fs::write(dir.path().join("old"), &old).unwrap();
        let source = File::open(dir.path().join("old")).unwrap();
        let mut destination = File::options()
            .read(true)
            .write(true)
            .create_new(true)
            .open(dir.path().join("new"))
            .unwrap();
        let mut behind = CopyBehind::new("the old file");
        let mut expected = Vec::new();
        // Written, a long range behind (hashed in three chunks), written, a short range at
        // once, a long range at the end, written.
        let ranges = [
            (1, 2 * HASH_CHUNK_BYTES + 1),
            (11, 100),
            (2 * MIN_BEHIND_BYTES + 5, 3 * MIN_BEHIND_BYTES),
        ];
        for (index, &(from, len)) in ranges.iter().enumerate() {
            let written = pattern(1000 + index, 200);
            destination.write_all(&written).unwrap();
            expected.extend_from_slice(&written);
            let to = expected.len() as u64;
            behind.copy(&destination, &source, (from, to, len)).unwrap();
            destination.seek(SeekFrom::Current(len as i64)).unwrap();
            expected.extend_from_slice(&old[from as usize..(from + len) as usize]);
        }
        destination.write_all(b"</end>").unwrap();
        expected.extend_from_slice(b"</end>");
        let digest = behind.finish(expected.len() as u64).unwrap().unwrap();
        assert_eq!(std::fs::read(dir.path().join("new")).unwrap(), expected);
        assert_eq!(digest.bytes, expected.len() as u64);
        assert_eq!(
            digest.sha256,
            crate::output::hex(&Sha256::digest(&expected))
        );
    }

    /// Short ranges are copied at once, and once they and the bytes written between them make
    /// a hash chunk, the file is hashed behind the writer too; fewer leave it to be read whole.
    #[test]
    fn a_file_of_short_ranges_is_hashed_behind_once_it_has_a_chunk() {
        let dir = tempfile::tempdir().unwrap();
        let old = pattern(MIN_BEHIND_BYTES as usize, 5);
        std::fs::write(dir.path().join("old"), &old).unwrap();
        let source = File::open(dir.path().join("old")).unwrap();
        let short = MIN_BEHIND_BYTES - 1;
        for (name, ranges, hashed_behind) in [("few", 2, false), ("many", 6, true)] {
            let mut destination = File::options()
                .read(true)
                .write(true)
                .create_new(true)
                .open(dir.path().join(name))
                .unwrap();
            let mut behind = CopyBehind::new("the old file");
            let mut expected = Vec::new();
            for index in 0..ranges {
                let written = pattern(300 + index, 100);
                destination.write_all(&written).unwrap();
                expected.extend_from_slice(&written);
                let to = expected.len() as u64;
                behind.copy(&destination, &source, (1, to, short)).unwrap();
                destination.seek(SeekFrom::Current(short as i64)).unwrap();
                expected.extend_from_slice(&old[1..=short as usize]);
            }
            destination.write_all(b"end").unwrap();
            expected.extend_from_slice(b"end");
            let digest = behind.finish(expected.len() as u64).unwrap();
            assert_eq!(std::fs::read(dir.path().join(name)).unwrap(), expected);
            match digest {
                Some(digest) => {
                    assert!(hashed_behind, "{name}");
                    assert_eq!(digest.bytes, expected.len() as u64);
                    assert_eq!(
                        digest.sha256,
                        crate::output::hex(&Sha256::digest(&expected))
                    );
                }
                None => assert!(!hashed_behind, "{name}"),
            }
        }
    }

    #[test]
    fn a_source_shorter_than_its_range_fails_at_finish() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("old"),
            pattern(MIN_BEHIND_BYTES as usize, 1),
        )
        .unwrap();
        let source = File::open(dir.path().join("old")).unwrap();
        let destination = File::create(dir.path().join("new")).unwrap();
        let mut behind = CopyBehind::new("the old file");
        behind
            .copy(&destination, &source, (10, 0, MIN_BEHIND_BYTES))
            .unwrap();
        let err = behind.finish(MIN_BEHIND_BYTES).unwrap_err();
        let copier = CopyBehind::new("the old file");
        assert!(
            copier.finish(0).unwrap().is_none(),
            "nothing went to the thread: nothing was hashed"
        );
        assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof);
        assert!(err.to_string().contains("the old file is shorter"), "{err}");
        let short = copy_range(
            &source,
            5,
            &destination,
            0,
            MIN_BEHIND_BYTES,
            "the old file",
        );
        assert_eq!(short.unwrap_err().kind(), io::ErrorKind::UnexpectedEof);
    }

    /// The file's readers each wait through their own clone: the first waits for the thread,
    /// the others get what it gave, a failure too.
    #[test]
    fn every_clone_of_a_finished_file_waits_and_gets_the_same_answer() {
        let dir = tempfile::tempdir().unwrap();
        let old = pattern(2 * MIN_BEHIND_BYTES as usize, 9);
        std::fs::write(dir.path().join("old"), &old).unwrap();
        let source = File::open(dir.path().join("old")).unwrap();
        let new = |name: &str| {
            File::options()
                .read(true)
                .write(true)
                .create_new(true)
                .open(dir.path().join(name))
                .unwrap()
        };
        let destination = new("whole");
        let mut behind = CopyBehind::new("the old file");
        behind
            .copy(&destination, &source, (0, 0, old.len() as u64))
            .unwrap();
        let copying = behind.into_copying(old.len() as u64);
        let other = copying.clone();
        let digest = copying.wait().unwrap().unwrap();
        assert_eq!(digest.sha256, crate::output::hex(&Sha256::digest(&old)));
        let again = other.wait().unwrap().unwrap();
        assert_eq!((again.bytes, again.sha256), (digest.bytes, digest.sha256));
        assert_eq!(std::fs::read(dir.path().join("whole")).unwrap(), old);

        let destination = new("short");
        let mut behind = CopyBehind::new("the old file");
        let too_long = (1, 0, old.len() as u64);
        behind.copy(&destination, &source, too_long).unwrap();
        let copying = behind.into_copying(old.len() as u64);
        let other = copying.clone();
        assert_eq!(
            copying.wait().unwrap_err().kind(),
            io::ErrorKind::UnexpectedEof
        );
        let again = other.wait().unwrap_err();
        assert!(
            again.to_string().contains("the old file is shorter"),
            "{again}"
        );
        assert!(
            CopyBehind::new("x")
                .into_copying(0)
                .wait()
                .unwrap()
                .is_none()
        );
    }
}
