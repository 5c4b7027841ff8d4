//! Blocking files: the async files driven by `std::io`'s traits.

use std::fmt;
use std::future::Future;
use std::io::{self, Read, Seek, SeekFrom, Write};

use tokio::io::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt};

use crate::blocking::{StorageFile, block_on, enter, run};
use crate::error::Result;
use crate::s3::ObjectHead;
use crate::storage::{self, OpenMode};

/// An async file, dropped inside the blocking runtime: what its drop leaves to the
/// background (a writer dropped before `close` aborts its upload in a task) runs there, on
/// a runtime that lives as long as the process.
struct Driven<F> {
    file: Option<F>,
}

impl<F> Driven<F> {
    fn new(file: F) -> Self {
        Driven { file: Some(file) }
    }

    fn get(&self) -> &F {
        self.file.as_ref().expect("the file is there until dropped")
    }

    fn get_mut(&mut self) -> &mut F {
        self.file.as_mut().expect("the file is there until dropped")
    }
}

impl<F> Drop for Driven<F> {
    fn drop(&mut self) {
        let _guard = enter();
        drop(self.file.take());
    }
}

/// Runs an I/O future on the runtime; the crate's error travels inside the `io::Error`.
fn run_io<T>(future: impl Future<Output = io::Result<T>>) -> io::Result<T> {
    block_on(future).map_err(io::Error::from)?
}

/// An async file driven by `std::io`'s traits: the blocking face of any of the async API's
/// files. [`S3File`] and [`LocalFile`] are its two named forms; a blocking
/// [`Storage`](crate::blocking::Storage) opened through the trait gives one over the async
/// trait object.
///
/// Read mode is [`Read`] + [`Seek`], write mode [`Write`]; [`close`](File::close) stores
/// what was written. Dropped before `close`, it stores nothing (an unfinished upload is
/// aborted in the background, on the blocking runtime).
pub struct File<F> {
    inner: Driven<F>,
}

/// A stored object opened as a file, blocking: [`S3File`](crate::S3File)
/// with `std::io`'s traits.
///
/// Read mode is [`Read`] + [`Seek`]: nothing is downloaded until read, a seek starts a
/// ranged GET from the new position, gzip-encoded objects read decompressed. Write mode is
/// [`Write`], uploading parts as they fill; [`close`](File::close) stores the object. A
/// file dropped before `close` stores nothing and leaves no multipart upload behind (the
/// upload is aborted in the background, on the blocking runtime).
///
/// ```no_run
/// # fn demo(storage: storages_s3::blocking::S3Storage) -> storages_s3::Result<()> {
/// use std::io::{Read, Seek, SeekFrom, Write};
///
/// let mut f = storage.open("logs/today.txt", "w")?;
/// f.write_all(b"line 1\nline 2\n")?;
/// f.close()?;
///
/// let mut f = storage.open("logs/today.txt", "rb")?;
/// f.seek(SeekFrom::Start(7))?;
/// let mut rest = String::new();
/// f.read_to_string(&mut rest)?;
/// assert_eq!(rest, "line 2\n");
/// # Ok(()) }
/// ```
pub type S3File = File<storage::S3File>;

/// A file of a [`FileSystemStorage`](crate::blocking::FileSystemStorage), blocking: read
/// directly, or written to a temporary file that `close` renames into place (dropped
/// unclosed, nothing is stored).
pub type LocalFile = File<storage::LocalFile>;

impl<F: fmt::Debug> fmt::Debug for File<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.inner.get(), f)
    }
}

impl<F: storage::StorageFile> File<F> {
    pub(crate) fn new(file: F) -> Self {
        File {
            inner: Driven::new(file),
        }
    }

    /// The name, relative to the storage's root (its `location`, for S3).
    pub fn name(&self) -> &str {
        self.inner.get().name()
    }

    /// The stored size of a file opened for reading; of a written file, once closed.
    pub fn size(&self) -> Option<u64> {
        self.inner.get().size()
    }

    /// Stores what was written (write mode), or releases the stream (read mode). A failed
    /// close stores nothing (and, on S3, leaves no part behind).
    pub fn close(&mut self) -> Result<()> {
        run(self.inner.get_mut().close())
    }
}

impl File<storage::S3File> {
    /// The object key.
    pub fn key(&self) -> &str {
        self.inner.get().key()
    }

    /// The mode it was opened in.
    pub fn mode(&self) -> OpenMode {
        self.inner.get().mode()
    }

    /// The object's headers, for a file opened for reading.
    pub fn head(&self) -> Option<&ObjectHead> {
        self.inner.get().head()
    }

    /// Whether reads are decompressed (the object is stored gzip-encoded).
    pub fn is_gzip(&self) -> bool {
        self.inner.get().is_gzip()
    }

    /// Whether the file is closed.
    pub fn is_closed(&self) -> bool {
        self.inner.get().is_closed()
    }

    /// Reads the rest of the object into a local copy, in memory up to the storage's
    /// `max_memory_size` and spilled to a temporary file beyond it (see
    /// [`S3File::local_copy`](crate::S3File::local_copy)).
    pub fn local_copy(&mut self) -> Result<tempfile::SpooledTempFile> {
        run(self.inner.get_mut().local_copy())
    }
}

impl<F: storage::StorageFile> Read for File<F> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        run_io(AsyncReadExt::read(self.inner.get_mut(), buf))
    }

    fn read_to_end(&mut self, buf: &mut Vec<u8>) -> io::Result<usize> {
        run_io(AsyncReadExt::read_to_end(self.inner.get_mut(), buf))
    }
}

impl<F: storage::StorageFile> Seek for File<F> {
    fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
        run_io(AsyncSeekExt::seek(self.inner.get_mut(), pos))
    }
}

impl<F: storage::StorageFile> Write for File<F> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        run_io(AsyncWriteExt::write(self.inner.get_mut(), buf))
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        run_io(AsyncWriteExt::write_all(self.inner.get_mut(), buf))
    }

    fn flush(&mut self) -> io::Result<()> {
        run_io(AsyncWriteExt::flush(self.inner.get_mut()))
    }
}

impl<F: storage::StorageFile> StorageFile for File<F> {
    fn name(&self) -> &str {
        File::name(self)
    }

    fn size(&self) -> Option<u64> {
        File::size(self)
    }

    fn close(&mut self) -> Result<()> {
        File::close(self)
    }
}
