//! Blocking `FileSystemStorage`.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use crate::blocking::{File, LocalFile, run, sealed::OverAsync};
use crate::error::Result;
use crate::storage::{self, Content};

/// Django's `FileSystemStorage`, blocking: every method of
/// [`FileSystemStorage`](crate::FileSystemStorage), same names and
/// arguments, without `async`. Writes go to a temporary file renamed into place on close.
///
/// ```
/// use std::io::{Read, Write};
/// use storages_s3::blocking::FileSystemStorage;
///
/// let dir = tempfile::tempdir().unwrap();
/// let storage = FileSystemStorage::new(dir.path()).with_base_url("/media/");
/// let name = storage.save("docs/a b.txt", "hello", None)?;
/// assert_eq!(storage.url(&name)?, "/media/docs/a%20b.txt");
///
/// let mut f = storage.open("docs/b.txt", "w")?;
/// f.write_all(b"written")?;
/// f.close()?;
/// let mut text = String::new();
/// storage.open("docs/b.txt", "r")?.read_to_string(&mut text)?;
/// assert_eq!(text, "written");
/// # Ok::<(), storages_s3::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct FileSystemStorage {
    inner: storage::FileSystemStorage,
}

impl FileSystemStorage {
    /// A storage on `root` (created on first save).
    pub fn new(root: impl Into<PathBuf>) -> Self {
        FileSystemStorage::from_async(storage::FileSystemStorage::new(root))
    }

    /// The URL under which the root is served (Django's `MEDIA_URL`), for `url()`.
    pub fn with_base_url(self, base_url: impl Into<String>) -> Self {
        FileSystemStorage::from_async(self.inner.with_base_url(base_url))
    }

    /// Overwrite existing names on save (Django's `allow_overwrite`).
    pub fn with_overwrite(self, overwrite: bool) -> Self {
        FileSystemStorage::from_async(self.inner.with_overwrite(overwrite))
    }

    /// The blocking face of an async storage.
    pub fn from_async(storage: storage::FileSystemStorage) -> Self {
        FileSystemStorage { inner: storage }
    }

    /// The async storage underneath.
    pub fn as_async(&self) -> &storage::FileSystemStorage {
        &self.inner
    }

    /// The async storage underneath.
    pub fn into_async(self) -> storage::FileSystemStorage {
        self.inner
    }

    /// The root folder.
    pub fn root(&self) -> &Path {
        self.inner.root()
    }

    /// The name relative to the root, checked (see
    /// [`FileSystemStorage::relative`](crate::FileSystemStorage::relative)).
    pub fn relative(&self, name: &str) -> Result<String> {
        self.inner.relative(name)
    }

    /// The local path of a name.
    pub fn path(&self, name: &str) -> Result<PathBuf> {
        self.inner.path(name)
    }

    /// Saves content, returning the name used.
    pub fn save(&self, name: &str, content: impl Into<Content>, max_length: Option<usize>) -> Result<String> {
        run(self.inner.save(name, content, max_length))
    }

    /// Opens a file; a written file is stored by [`LocalFile::close`].
    pub fn open(&self, name: &str, mode: &str) -> Result<LocalFile> {
        run(self.inner.open(name, mode)).map(File::new)
    }

    /// Deletes a file (or an empty directory); a missing name is not an error.
    pub fn delete(&self, name: &str) -> Result<()> {
        run(self.inner.delete(name))
    }

    /// Whether a file or directory exists under `name`.
    pub fn exists(&self, name: &str) -> Result<bool> {
        run(self.inner.exists(name))
    }

    /// The directories and files directly under `path`.
    pub fn listdir(&self, path: &str) -> Result<(Vec<String>, Vec<String>)> {
        run(self.inner.listdir(path))
    }

    /// Size in bytes.
    pub fn size(&self, name: &str) -> Result<u64> {
        run(self.inner.size(name))
    }

    /// Last modification time.
    pub fn modified_time(&self, name: &str) -> Result<SystemTime> {
        run(self.inner.modified_time(name))
    }

    /// Last access time.
    pub fn accessed_time(&self, name: &str) -> Result<SystemTime> {
        run(self.inner.accessed_time(name))
    }

    /// Creation time, where the file system records it.
    pub fn created_time(&self, name: &str) -> Result<SystemTime> {
        run(self.inner.created_time(name))
    }

    /// `base_url` + the encoded name.
    pub fn url(&self, name: &str) -> Result<String> {
        run(self.inner.url(name))
    }

    /// Django's `get_valid_name`.
    pub fn get_valid_name(&self, name: &str) -> Result<String> {
        storage::names::get_valid_name(name)
    }

    /// Django's `generate_filename`.
    pub fn generate_filename(&self, filename: &str) -> Result<String> {
        storage::names::generate_filename(filename)
    }

    /// A name `save` may use (Django's rules; see [`names`](crate::names)).
    pub fn get_available_name(&self, name: &str, max_length: Option<usize>) -> Result<String> {
        run(self.inner.get_available_name(name, max_length))
    }
}

impl From<storage::FileSystemStorage> for FileSystemStorage {
    fn from(storage: storage::FileSystemStorage) -> Self {
        FileSystemStorage::from_async(storage)
    }
}

impl OverAsync for FileSystemStorage {
    type Async = storage::FileSystemStorage;

    fn async_storage(&self) -> &storage::FileSystemStorage {
        &self.inner
    }
}
