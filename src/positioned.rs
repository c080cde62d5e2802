//! Reading and writing a file at a byte offset on every platform pimfeed is built for.
//!
//! On Unix these are `pread` and `pwrite`, which leave the file's cursor where it is, so
//! threads may read one handle at different offsets and a writer's cursor stays put. Windows
//! has only `seek_read` and `seek_write`, which move the cursor: there a read is only ever
//! made on handles that nothing reads or writes by cursor, and a write puts the cursor back
//! where it was (and the copies that would write from another thread are made on the
//! writer's own, see [`crate::output::CopyBehind`]).

use std::fs::File;
use std::io;

/// Reads `buf.len()` bytes at `offset`; an error when the file ends before.
pub fn read_exact_at(file: &File, buf: &mut [u8], offset: u64) -> io::Result<()> {
    #[cfg(unix)]
    {
        std::os::unix::fs::FileExt::read_exact_at(file, buf, offset)
    }
    #[cfg(windows)]
    {
        let mut filled = 0;
        while filled < buf.len() {
            match read_at(file, &mut buf[filled..], offset + filled as u64)? {
                0 => {
                    return Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "failed to fill whole buffer",
                    ));
                }
                read => filled += read,
            }
        }
        Ok(())
    }
}

/// Reads up to `buf.len()` bytes at `offset`; how many (0 at the end of the file).
pub fn read_at(file: &File, buf: &mut [u8], offset: u64) -> io::Result<usize> {
    #[cfg(unix)]
    {
        std::os::unix::fs::FileExt::read_at(file, buf, offset)
    }
    #[cfg(windows)]
    {
        std::os::windows::fs::FileExt::seek_read(file, buf, offset)
    }
}

/// Writes all of `buf` at `offset`, leaving the file's cursor where it was.
pub fn write_all_at(file: &File, buf: &[u8], offset: u64) -> io::Result<()> {
    #[cfg(unix)]
    {
        std::os::unix::fs::FileExt::write_all_at(file, buf, offset)
    }
    #[cfg(windows)]
    {
        use std::io::Seek;
        let mut handle = file;
        let cursor = handle.stream_position()?;
        let mut written = 0;
        while written < buf.len() {
            let offset = offset + written as u64;
            match std::os::windows::fs::FileExt::seek_write(file, &buf[written..], offset)? {
                0 => return Err(io::Error::from(io::ErrorKind::WriteZero)),
                wrote => written += wrote,
            }
        }
        handle.seek(io::SeekFrom::Start(cursor)).map(drop)
    }
}

#[cfg(test)]
mod tests {
    use std::io::{Seek, Write};

    use super::*;

    /// Reads and writes at offsets leave the cursor alone, and a read past the end fails.
    #[test]
    fn positioned_reads_and_writes_leave_the_cursor_where_it_was() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("file");
        let mut file = File::options()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(&path)
            .unwrap();
        file.write_all(b"0123456789").unwrap();
        write_all_at(&file, b"ab", 2).unwrap();
        assert_eq!(file.stream_position().unwrap(), 10);
        let mut bytes = [0; 4];
        read_exact_at(&file, &mut bytes, 1).unwrap();
        assert_eq!(&bytes, b"1ab4");
        assert_eq!(read_at(&file, &mut bytes, 8).unwrap(), 2);
        assert!(read_exact_at(&file, &mut bytes, 8).is_err());
        assert_eq!(file.stream_position().unwrap(), 10);
        file.write_all(b"!").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"01ab456789!");
    }
}
