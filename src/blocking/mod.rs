//! The synchronous API (feature `blocking`), for programs without a runtime of their own:
//! scripts, command-line tools, synchronous web frameworks.
//!
//! It mirrors the async API type by type, as reqwest's `blocking` module mirrors its async
//! client. [`S3Storage`], [`S3StaticStorage`] and [`FileSystemStorage`] have the methods of
//! their async twins at the crate root, with the same names and arguments, minus
//! `async`: code ports by dropping the `.await`s. Their files, [`S3File`] and [`LocalFile`],
//! are [`std::io::Read`] + [`std::io::Seek`] when opened for reading and [`std::io::Write`]
//! when opened for writing, and store what was written on `close()`; as in the async API,
//! a file dropped before `close` stores nothing and leaves no multipart upload behind.
//! [`Storage`] and [`StorageFile`] are the object-safe traits over them, for code that runs
//! on a bucket in production and on a folder in tests. [`Content`] is the async API's, plus
//! [`Content::from_sync_reader`] for any [`std::io::Read`].
//!
//! Settings, names and errors are the async API's: storages are built from the same
//! [`S3StorageBuilder`](crate::S3StorageBuilder) or [`Settings`](crate::Settings), and every method returns this
//! crate's [`Result`] (the `std::io` traits return [`std::io::Error`], which carries the
//! crate's [`Error`] and converts back to it with `?`).
//!
//! # Example
//!
//! A program with a plain `main`, no runtime:
//!
//! ```no_run
//! use std::io::{Read, Seek, SeekFrom, Write};
//!
//! use storages_s3::Content;
//! use storages_s3::blocking::S3Storage;
//!
//! fn main() -> storages_s3::Result<()> {
//!     // AWS_STORAGE_BUCKET_NAME, AWS_ACCESS_KEY_ID, AWS_S3_ENDPOINT_URL, ... from the environment.
//!     let storage = S3Storage::from_env()?;
//!
//!     // Save: the name actually used comes back (another one when the name is taken and
//!     // `file_overwrite` is off).
//!     let name = storage.save("notes/hello.txt", "Hello, world!\n", None)?;
//!     let csv = std::fs::File::open("/tmp/people.csv")?;
//!     storage.save("data/people.csv", Content::from_sync_reader(csv), None)?;
//!
//!     // Read it back, with seeks.
//!     let mut file = storage.open(&name, "rb")?;
//!     file.seek(SeekFrom::Start(7))?;
//!     let mut rest = String::new();
//!     file.read_to_string(&mut rest)?;
//!     assert_eq!(rest, "world!\n");
//!
//!     // Write a file; it is stored by `close`.
//!     let mut log = storage.open("logs/run.txt", "w")?;
//!     writeln!(log, "saved {name}")?;
//!     log.close()?;
//!
//!     let (_dirs, files) = storage.listdir("notes")?;
//!     println!("{files:?}, {} bytes, {}", storage.size(&name)?, storage.url(&name)?);
//!     Ok(())
//! }
//! ```
//!
//! # The runtime
//!
//! Every call runs the async method to completion on one tokio multi-thread runtime that
//! all blocking storages of the process share: two worker threads named
//! `storages-s3-blocking`, started by the first call and kept until the process exits. The
//! calling thread drives its own call; the workers drive sockets, timers and background
//! tasks (the parallel parts of multipart uploads, the abort of an upload whose file was
//! dropped unclosed). One runtime for the process rather than one per storage, because:
//!
//! - it is never dropped: tokio panics when a runtime is dropped inside async code, which a
//!   storage's own runtime would do whenever its last clone went away there;
//! - the work a dropped file leaves to the background (aborting its upload) always finishes,
//!   where a storage's runtime could be shut down, and the abort cancelled, right after;
//! - pooled connections stay valid: they belong to the runtime that opened them;
//! - threads stay bounded however many storages a program builds (media, static, ...).
//!
//! # Inside async code
//!
//! Blocking a runtime's thread stalls every task on it, and tokio panics when a runtime is
//! started from inside another. So every call of this module that would block fails, where
//! a tokio runtime is current, with [`ErrorKind::Unsupported`]
//! instead of panicking: use the async API in async code. (That includes `spawn_blocking`
//! closures, which see their runtime as current: there, run the async method with
//! `tokio::runtime::Handle::current().block_on(storage.as_async().save(..))`.) Methods that
//! never block (`key`, `settings`, `get_valid_name`, ...) work anywhere.

mod content;
mod file;
mod fs;
mod s3;

use std::fmt;
use std::future::Future;
use std::io::{Read, Seek, Write};
use std::sync::OnceLock;
use std::time::SystemTime;

use tokio::runtime::{EnterGuard, Runtime};

use crate::error::{Error, ErrorKind, Result};
use crate::storage;

use crate::storage::Content;
pub use file::{File, LocalFile, S3File};
pub use fs::FileSystemStorage;
pub use s3::{S3StaticStorage, S3Storage};

/// A file a blocking storage opened: readable and seekable, or writable until closed.
pub trait StorageFile: Read + Write + Seek + Send + fmt::Debug {
    /// The name, relative to the storage's root.
    fn name(&self) -> &str;
    /// The size, when known (files opened for reading, written files once closed).
    fn size(&self) -> Option<u64>;
    /// Commits what was written (write mode) and releases the file.
    fn close(&mut self) -> Result<()>;
}

/// Django's `Storage` API, blocking: [`Storage`](crate::Storage) without
/// `async`. Implemented by [`S3Storage`], [`S3StaticStorage`] and [`FileSystemStorage`].
///
/// ```
/// use std::io::Read;
/// use storages_s3::Content;
/// use storages_s3::blocking::{FileSystemStorage, Storage};
///
/// fn store_avatar(storage: &dyn Storage, user: u32, png: Vec<u8>) -> storages_s3::Result<String> {
///     let name = storage.generate_filename(&format!("avatars/{user}.png"))?;
///     storage.save(&name, Content::from(png), Some(100))
/// }
///
/// let dir = tempfile::tempdir().unwrap();
/// let local = FileSystemStorage::new(dir.path());
/// let name = store_avatar(&local, 7, b"\x89PNG".to_vec())?;
/// let mut png = Vec::new();
/// local.open(&name, "rb")?.read_to_end(&mut png)?;
/// assert_eq!(png, b"\x89PNG");
/// # Ok::<(), storages_s3::Error>(())
/// ```
pub trait Storage: Send + Sync {
    /// Saves content under `name` (the content's own name when empty); returns the name used.
    fn save(&self, name: &str, content: Content, max_length: Option<usize>) -> Result<String>;
    /// Opens `name` in a Python mode (`"rb"`, `"w"`, ...).
    fn open(&self, name: &str, mode: &str) -> Result<Box<dyn StorageFile>>;
    /// Deletes `name`; a missing name is not an error.
    fn delete(&self, name: &str) -> Result<()>;
    /// Whether `name` exists.
    fn exists(&self, name: &str) -> Result<bool>;
    /// Directories and files directly under `path`, relative to it.
    fn listdir(&self, path: &str) -> Result<(Vec<String>, Vec<String>)>;
    /// Size in bytes.
    fn size(&self, name: &str) -> Result<u64>;
    /// A URL for `name`.
    fn url(&self, name: &str) -> Result<String>;
    /// Last modification time.
    fn modified_time(&self, name: &str) -> Result<SystemTime>;
    /// Last access time, where the storage keeps one.
    fn accessed_time(&self, name: &str) -> Result<SystemTime>;
    /// Creation time, where the storage keeps one.
    fn created_time(&self, name: &str) -> Result<SystemTime>;
    /// Django's `get_valid_name`.
    fn get_valid_name(&self, name: &str) -> Result<String> {
        storage::names::get_valid_name(name)
    }
    /// A name `save` may use, given the storage's overwrite rule.
    fn get_available_name(&self, name: &str, max_length: Option<usize>) -> Result<String>;
    /// Django's `generate_filename`.
    fn generate_filename(&self, filename: &str) -> Result<String> {
        storage::names::generate_filename(filename)
    }
}

/// The blocking storages over an async one: every [`Storage`] method runs the async
/// storage's [`Storage`](crate::Storage) method on the runtime, so the
/// trait is written once for every blocking type.
mod sealed {
    /// A blocking storage and the async storage it runs (sealed: the trait has no other
    /// implementations than this crate's blocking storages).
    pub trait OverAsync {
        /// The async storage.
        type Async: crate::storage::Storage;
        /// The async storage the calls run on.
        fn async_storage(&self) -> &Self::Async;
    }
}
use sealed::OverAsync;

impl<T: OverAsync + Send + Sync> Storage for T {
    fn save(&self, name: &str, content: Content, max_length: Option<usize>) -> Result<String> {
        run(storage::Storage::save(self.async_storage(), name, content, max_length))
    }

    fn open(&self, name: &str, mode: &str) -> Result<Box<dyn StorageFile>> {
        let file = run(storage::Storage::open(self.async_storage(), name, mode))?;
        Ok(Box::new(File::new(file)))
    }

    fn delete(&self, name: &str) -> Result<()> {
        run(storage::Storage::delete(self.async_storage(), name))
    }

    fn exists(&self, name: &str) -> Result<bool> {
        run(storage::Storage::exists(self.async_storage(), name))
    }

    fn listdir(&self, path: &str) -> Result<(Vec<String>, Vec<String>)> {
        run(storage::Storage::listdir(self.async_storage(), path))
    }

    fn size(&self, name: &str) -> Result<u64> {
        run(storage::Storage::size(self.async_storage(), name))
    }

    fn url(&self, name: &str) -> Result<String> {
        run(storage::Storage::url(self.async_storage(), name))
    }

    fn modified_time(&self, name: &str) -> Result<SystemTime> {
        run(storage::Storage::modified_time(self.async_storage(), name))
    }

    fn accessed_time(&self, name: &str) -> Result<SystemTime> {
        run(storage::Storage::accessed_time(self.async_storage(), name))
    }

    fn created_time(&self, name: &str) -> Result<SystemTime> {
        run(storage::Storage::created_time(self.async_storage(), name))
    }

    fn get_valid_name(&self, name: &str) -> Result<String> {
        storage::Storage::get_valid_name(self.async_storage(), name)
    }

    fn get_available_name(&self, name: &str, max_length: Option<usize>) -> Result<String> {
        run(storage::Storage::get_available_name(
            self.async_storage(),
            name,
            max_length,
        ))
    }

    fn generate_filename(&self, filename: &str) -> Result<String> {
        storage::Storage::generate_filename(self.async_storage(), filename)
    }
}

/// Worker threads of the runtime: the calling thread drives each call, so the workers only
/// serve sockets, timers and background tasks. Two keep a slow task from stalling the rest.
const WORKER_THREADS: usize = 2;

/// The runtime every blocking call runs on (see the module docs for why one per process),
/// or why it could not be started.
static RUNTIME: OnceLock<std::result::Result<Runtime, String>> = OnceLock::new();

fn runtime() -> Result<&'static Runtime> {
    RUNTIME
        .get_or_init(|| {
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(WORKER_THREADS)
                .thread_name("storages-s3-blocking")
                .enable_all()
                .build()
                .map_err(|e| e.to_string())
        })
        .as_ref()
        .map_err(|why| {
            Error::new(
                ErrorKind::Io,
                format!("the blocking API's runtime could not start: {why}"),
            )
        })
}

/// Enters the runtime, if it was started: what an async value dropped under the guard
/// spawns (the abort of an unfinished upload) runs there.
fn enter() -> Option<EnterGuard<'static>> {
    RUNTIME.get().and_then(|r| r.as_ref().ok()).map(Runtime::enter)
}

/// Runs a future to completion on the runtime; [`ErrorKind::Unsupported`] where a tokio
/// runtime is current, since blocking there would stall it (and tokio would panic).
fn block_on<F: Future>(future: F) -> Result<F::Output> {
    if tokio::runtime::Handle::try_current().is_ok() {
        return Err(Error::new(
            ErrorKind::Unsupported,
            "the blocking API cannot be called from inside an async runtime, where it would block the \
             runtime's thread: use the async API (storages_s3::S3Storage) in async code",
        ));
    }
    Ok(runtime()?.block_on(future))
}

/// [`block_on`] for the crate's fallible futures.
fn run<T>(future: impl Future<Output = Result<T>>) -> Result<T> {
    block_on(future)?
}
