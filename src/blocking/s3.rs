//! Blocking `S3Storage` and `S3StaticStorage`.

use std::time::SystemTime;

use crate::blocking::{File, S3File, run, sealed::OverAsync};
use crate::config::{ObjectParameters, Settings};
use crate::error::Result;
use crate::storage::{self, Content, S3StorageBuilder, UrlOptions};

/// Django's `S3Storage`, blocking: every method of
/// [`S3Storage`](crate::S3Storage), same names and arguments, without
/// `async`. Cheap to clone (the clones share one client and its connections).
///
/// ```no_run
/// use storages_s3::Content;
/// use storages_s3::blocking::S3Storage;
///
/// # fn demo() -> storages_s3::Result<()> {
/// let storage = S3Storage::from_builder(S3Storage::builder().option("location", "media"))?;
/// let name = storage.save("avatars/ana.png", Content::from_path("/tmp/ana.png"), None)?;
/// let (dirs, files) = storage.listdir("avatars")?;
/// let url = storage.url(&name)?;
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct S3Storage {
    inner: storage::S3Storage,
}

impl S3Storage {
    /// The async storage's builder (global settings from the environment); hand it to
    /// [`from_builder`](S3Storage::from_builder) (its own `build()` makes an async storage,
    /// which [`from_async`](S3Storage::from_async) also takes).
    pub fn builder() -> S3StorageBuilder {
        storage::S3Storage::builder()
    }

    /// Resolves and validates the builder's settings and makes the storage. No request is sent.
    pub fn from_builder(builder: S3StorageBuilder) -> Result<S3Storage> {
        builder.build().map(S3Storage::from_async)
    }

    /// A storage configured by the environment alone (`AWS_STORAGE_BUCKET_NAME`, ...).
    pub fn from_env() -> Result<S3Storage> {
        storage::S3Storage::from_env().map(S3Storage::from_async)
    }

    /// A storage with these settings.
    pub fn new(settings: Settings) -> Result<S3Storage> {
        storage::S3Storage::new(settings).map(S3Storage::from_async)
    }

    /// The blocking face of an async storage (sharing its client).
    pub fn from_async(storage: storage::S3Storage) -> S3Storage {
        S3Storage { inner: storage }
    }

    /// The async storage underneath.
    pub fn as_async(&self) -> &storage::S3Storage {
        &self.inner
    }

    /// The async storage underneath.
    pub fn into_async(self) -> storage::S3Storage {
        self.inner
    }

    /// The settings.
    pub fn settings(&self) -> &Settings {
        self.inner.settings()
    }

    /// The object key of a name (see [`S3Storage::key`](crate::S3Storage::key)).
    /// No request is sent.
    pub fn key(&self, name: &str) -> Result<String> {
        self.inner.key(name)
    }

    /// The parameters of one object: the hook's, else `object_parameters`.
    pub fn object_parameters(&self, key: &str) -> ObjectParameters {
        self.inner.object_parameters(key)
    }

    /// Upload parameters of `key` (see
    /// [`S3Storage::write_parameters`](crate::S3Storage::write_parameters)).
    pub fn write_parameters(&self, key: &str, declared_type: Option<&str>) -> ObjectParameters {
        self.inner.write_parameters(key, declared_type)
    }

    /// The ETag S3 gives an object this storage stores from `bytes` under `name` (see
    /// [`S3Storage::expected_etag`](crate::S3Storage::expected_etag)).
    pub fn expected_etag(&self, name: &str, bytes: &[u8]) -> Result<String> {
        self.inner.expected_etag(name, bytes)
    }

    /// Saves content under `name` (or the content's own name when `name` is empty) and
    /// returns the name actually used (see
    /// [`S3Storage::save`](crate::S3Storage::save)).
    pub fn save(&self, name: &str, content: impl Into<Content>, max_length: Option<usize>) -> Result<String> {
        run(self.inner.save(name, content, max_length))
    }

    /// Stores content under exactly `name`, overwriting what is there; returns the cleaned name.
    pub fn store(&self, name: &str, content: impl Into<Content>) -> Result<String> {
        run(self.inner.store(name, content))
    }

    /// Opens `name` for reading (`"r"`, `"rb"`) or writing (`"w"`, `"wb"`); a written file is
    /// stored by [`S3File::close`].
    pub fn open(&self, name: &str, mode: &str) -> Result<S3File> {
        run(self.inner.open(name, mode)).map(File::new)
    }

    /// Deletes `name`; deleting a missing name succeeds.
    pub fn delete(&self, name: &str) -> Result<()> {
        run(self.inner.delete(name))
    }

    /// Whether an object is stored under `name`.
    pub fn exists(&self, name: &str) -> Result<bool> {
        run(self.inner.exists(name))
    }

    /// The directories and files directly under `path`, relative to it.
    pub fn listdir(&self, path: &str) -> Result<(Vec<String>, Vec<String>)> {
        run(self.inner.listdir(path))
    }

    /// The stored size of `name` in bytes.
    pub fn size(&self, name: &str) -> Result<u64> {
        run(self.inner.size(name))
    }

    /// When `name` was last modified.
    pub fn modified_time(&self, name: &str) -> Result<SystemTime> {
        run(self.inner.modified_time(name))
    }

    /// Not kept by S3: [`ErrorKind::Unsupported`](crate::ErrorKind::Unsupported).
    pub fn accessed_time(&self, name: &str) -> Result<SystemTime> {
        run(self.inner.accessed_time(name))
    }

    /// Not kept by S3: [`ErrorKind::Unsupported`](crate::ErrorKind::Unsupported).
    pub fn created_time(&self, name: &str) -> Result<SystemTime> {
        run(self.inner.created_time(name))
    }

    /// The URL of `name` (see [`S3Storage::url`](crate::S3Storage::url)).
    pub fn url(&self, name: &str) -> Result<String> {
        run(self.inner.url(name))
    }

    /// The URL of `name` with options: lifetime, extra parameters, method, signing time.
    pub fn url_with(&self, name: &str, options: &UrlOptions) -> Result<String> {
        run(self.inner.url_with(name, options))
    }

    /// Django's `get_valid_name`.
    pub fn get_valid_name(&self, name: &str) -> Result<String> {
        self.inner.get_valid_name(name)
    }

    /// Django's `generate_filename`.
    pub fn generate_filename(&self, filename: &str) -> Result<String> {
        self.inner.generate_filename(filename)
    }

    /// A name `save` may use: the cleaned name itself with `file_overwrite = true`, else a
    /// name no object has yet.
    pub fn get_available_name(&self, name: &str, max_length: Option<usize>) -> Result<String> {
        run(self.inner.get_available_name(name, max_length))
    }
}

impl From<storage::S3Storage> for S3Storage {
    fn from(storage: storage::S3Storage) -> Self {
        S3Storage::from_async(storage)
    }
}

impl From<S3Storage> for storage::S3Storage {
    fn from(storage: S3Storage) -> Self {
        storage.into_async()
    }
}

/// Django's `S3StaticStorage`, blocking: an [`S3Storage`] whose `querystring_auth` defaults
/// to off (see [`S3StaticStorage`](crate::S3StaticStorage)).
#[derive(Clone, Debug)]
pub struct S3StaticStorage(S3Storage);

impl S3StaticStorage {
    /// A static storage configured by the environment.
    pub fn from_env() -> Result<S3StaticStorage> {
        Self::from_builder(S3Storage::builder())
    }

    /// A static storage from a builder's options.
    pub fn from_builder(builder: S3StorageBuilder) -> Result<S3StaticStorage> {
        storage::S3StaticStorage::from_builder(builder).map(S3StaticStorage::from_async)
    }

    /// The blocking face of an async static storage.
    pub fn from_async(storage: storage::S3StaticStorage) -> S3StaticStorage {
        S3StaticStorage(S3Storage::from_async(storage.into_inner()))
    }

    /// The storage underneath, for everything else it does (the
    /// [`Storage`](crate::blocking::Storage) trait gives the Django methods directly).
    pub fn storage(&self) -> &S3Storage {
        &self.0
    }

    /// The storage underneath.
    pub fn into_inner(self) -> S3Storage {
        self.0
    }

    /// The URL of `name`: unsigned unless `querystring_auth` was set.
    pub fn url(&self, name: &str) -> Result<String> {
        self.0.url(name)
    }
}

impl OverAsync for S3Storage {
    type Async = storage::S3Storage;

    fn async_storage(&self) -> &storage::S3Storage {
        &self.inner
    }
}

impl OverAsync for S3StaticStorage {
    type Async = storage::S3Storage;

    fn async_storage(&self) -> &storage::S3Storage {
        &self.0.inner
    }
}
