//! Django's storage semantics: [`S3Storage`] on a bucket, [`FileSystemStorage`] on a local
//! folder for development and tests, both behind the [`Storage`] trait.
//!
//! Names follow Django's rules exactly ([`names`]); content types are guessed from names
//! (`mime_guess`); uploads can be gzipped (`gzip` setting).

pub mod collect;
pub(crate) mod content_type;
pub(crate) mod gzip;
#[cfg(feature = "manifest")]
pub mod manifest;
pub mod names;

mod content;
mod file;
mod fs;
#[cfg(feature = "manifest")]
mod manifest_storage;
mod s3;
mod url;

use std::future::Future;
use std::pin::Pin;
use std::time::SystemTime;

use tokio::io::{AsyncRead, AsyncSeek, AsyncWrite};

pub use content::Content;
pub use file::{OpenMode, S3File};
pub use fs::{FileSystemStorage, LocalFile};
#[cfg(feature = "manifest")]
pub use manifest_storage::{PostProcessReport, S3ManifestStaticStorage};
pub use s3::{ObjectParametersHook, S3StaticStorage, S3Storage, S3StorageBuilder};
pub use url::UrlOptions;

use crate::error::Result;

/// A boxed future, as the [`Storage`] trait returns (so that `dyn Storage` works).
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A file a storage opened: readable and seekable, or writable until closed.
pub trait StorageFile: AsyncRead + AsyncWrite + AsyncSeek + Send + Unpin + std::fmt::Debug {
    /// The name, relative to the storage's root.
    fn name(&self) -> &str;
    /// The size, when known (files opened for reading).
    fn size(&self) -> Option<u64>;
    /// Commits what was written (write mode) and releases the file.
    fn close(&mut self) -> BoxFuture<'_, Result<()>>;
}

/// A boxed file is a file: what [`Storage::open`] returns can be handed on to code generic
/// over files (the blocking API wraps it so).
impl<F: StorageFile + ?Sized> StorageFile for Box<F> {
    fn name(&self) -> &str {
        (**self).name()
    }

    fn size(&self) -> Option<u64> {
        (**self).size()
    }

    fn close(&mut self) -> BoxFuture<'_, Result<()>> {
        (**self).close()
    }
}

impl StorageFile for S3File {
    fn name(&self) -> &str {
        S3File::name(self)
    }

    fn size(&self) -> Option<u64> {
        S3File::size(self)
    }

    fn close(&mut self) -> BoxFuture<'_, Result<()>> {
        Box::pin(S3File::close(self))
    }
}

/// Django's `Storage` API. Implemented by [`S3Storage`] and [`FileSystemStorage`], so that
/// code written against it runs on a bucket in production and on a folder in tests.
///
/// ```no_run
/// use storages_s3::{Content, FileSystemStorage, Storage};
///
/// async fn store_avatar(storage: &dyn Storage, user: u32, png: Vec<u8>) -> storages_s3::Result<String> {
///     let name = storage.generate_filename(&format!("avatars/{user}.png"))?;
///     storage.save(&name, Content::from(png), Some(100)).await
/// }
/// # async fn demo() -> storages_s3::Result<()> {
/// let local = FileSystemStorage::new("/tmp/media");
/// store_avatar(&local, 7, vec![0x89, b'P', b'N', b'G']).await?;
/// # Ok(()) }
/// ```
pub trait Storage: Send + Sync {
    /// Saves content under `name` (the content's own name when empty); returns the name used.
    fn save<'a>(&'a self, name: &'a str, content: Content, max_length: Option<usize>) -> BoxFuture<'a, Result<String>>;
    /// Opens `name` in a Python mode (`"rb"`, `"w"`, ...).
    fn open<'a>(&'a self, name: &'a str, mode: &'a str) -> BoxFuture<'a, Result<Box<dyn StorageFile>>>;
    /// Deletes `name`; a missing name is not an error.
    fn delete<'a>(&'a self, name: &'a str) -> BoxFuture<'a, Result<()>>;
    /// Whether `name` exists.
    fn exists<'a>(&'a self, name: &'a str) -> BoxFuture<'a, Result<bool>>;
    /// Directories and files directly under `path`, relative to it.
    fn listdir<'a>(&'a self, path: &'a str) -> BoxFuture<'a, Result<(Vec<String>, Vec<String>)>>;
    /// Size in bytes.
    fn size<'a>(&'a self, name: &'a str) -> BoxFuture<'a, Result<u64>>;
    /// A URL for `name`.
    fn url<'a>(&'a self, name: &'a str) -> BoxFuture<'a, Result<String>>;
    /// Last modification time.
    fn modified_time<'a>(&'a self, name: &'a str) -> BoxFuture<'a, Result<SystemTime>>;
    /// Last access time, where the storage keeps one.
    fn accessed_time<'a>(&'a self, name: &'a str) -> BoxFuture<'a, Result<SystemTime>>;
    /// Creation time, where the storage keeps one.
    fn created_time<'a>(&'a self, name: &'a str) -> BoxFuture<'a, Result<SystemTime>>;
    /// Django's `get_valid_name`.
    fn get_valid_name(&self, name: &str) -> Result<String> {
        names::get_valid_name(name)
    }
    /// A name `save` may use, given the storage's overwrite rule.
    fn get_available_name<'a>(&'a self, name: &'a str, max_length: Option<usize>) -> BoxFuture<'a, Result<String>>;
    /// Django's `generate_filename`.
    fn generate_filename(&self, filename: &str) -> Result<String> {
        names::generate_filename(filename)
    }
}

/// The `Storage` impl of a type whose inherent methods have the trait's names and shapes.
macro_rules! storage_by_inherent_methods {
    ($ty:ty) => {
        storage_by_inherent_methods!($ty, $ty, |s| s, url: <$ty>::url);
    };
    ($ty:ty, $inner:ty, |$s:ident| $reach:expr) => {
        storage_by_inherent_methods!($ty, $inner, |$s| $reach, url: |this: &'a $ty, name| <$inner>::url({ let $s = this; $reach }, name));
    };
    ($ty:ty, $inner:ty, |$s:ident| $reach:expr, url: $url:expr) => {
        impl Storage for $ty {
            fn save<'a>(
                &'a self,
                name: &'a str,
                content: Content,
                max_length: Option<usize>,
            ) -> BoxFuture<'a, Result<String>> {
                Box::pin(<$inner>::save(
                    {
                        let $s = self;
                        $reach
                    },
                    name,
                    content,
                    max_length,
                ))
            }

            fn open<'a>(&'a self, name: &'a str, mode: &'a str) -> BoxFuture<'a, Result<Box<dyn StorageFile>>> {
                Box::pin(async move {
                    Ok(Box::new(
                        <$inner>::open(
                            {
                                let $s = self;
                                $reach
                            },
                            name,
                            mode,
                        )
                        .await?,
                    ) as Box<dyn StorageFile>)
                })
            }

            fn delete<'a>(&'a self, name: &'a str) -> BoxFuture<'a, Result<()>> {
                Box::pin(<$inner>::delete(
                    {
                        let $s = self;
                        $reach
                    },
                    name,
                ))
            }

            fn exists<'a>(&'a self, name: &'a str) -> BoxFuture<'a, Result<bool>> {
                Box::pin(<$inner>::exists(
                    {
                        let $s = self;
                        $reach
                    },
                    name,
                ))
            }

            fn listdir<'a>(&'a self, path: &'a str) -> BoxFuture<'a, Result<(Vec<String>, Vec<String>)>> {
                Box::pin(<$inner>::listdir(
                    {
                        let $s = self;
                        $reach
                    },
                    path,
                ))
            }

            fn size<'a>(&'a self, name: &'a str) -> BoxFuture<'a, Result<u64>> {
                Box::pin(<$inner>::size(
                    {
                        let $s = self;
                        $reach
                    },
                    name,
                ))
            }

            fn url<'a>(&'a self, name: &'a str) -> BoxFuture<'a, Result<String>> {
                Box::pin(($url)(self, name))
            }

            fn modified_time<'a>(&'a self, name: &'a str) -> BoxFuture<'a, Result<SystemTime>> {
                Box::pin(<$inner>::modified_time(
                    {
                        let $s = self;
                        $reach
                    },
                    name,
                ))
            }

            fn accessed_time<'a>(&'a self, name: &'a str) -> BoxFuture<'a, Result<SystemTime>> {
                Box::pin(<$inner>::accessed_time(
                    {
                        let $s = self;
                        $reach
                    },
                    name,
                ))
            }

            fn created_time<'a>(&'a self, name: &'a str) -> BoxFuture<'a, Result<SystemTime>> {
                Box::pin(<$inner>::created_time(
                    {
                        let $s = self;
                        $reach
                    },
                    name,
                ))
            }

            fn get_available_name<'a>(
                &'a self,
                name: &'a str,
                max_length: Option<usize>,
            ) -> BoxFuture<'a, Result<String>> {
                Box::pin(<$inner>::get_available_name(
                    {
                        let $s = self;
                        $reach
                    },
                    name,
                    max_length,
                ))
            }
        }
    };
}

storage_by_inherent_methods!(S3Storage);
storage_by_inherent_methods!(FileSystemStorage);
storage_by_inherent_methods!(S3StaticStorage, S3Storage, |s| s.storage());
// Its URLs go through the manifest.
#[cfg(feature = "manifest")]
storage_by_inherent_methods!(S3ManifestStaticStorage, S3Storage, |s| s.storage(), url: S3ManifestStaticStorage::url);

/// The name `save` starts from: the one given, else the content's own (Django's
/// `Storage.save`), checked before any lookup.
pub(crate) fn name_to_save(name: &str, content: &Content) -> Result<String> {
    let name = if name.is_empty() {
        content.name().unwrap_or_default()
    } else {
        name
    };
    names::validate_file_name(name, true)?;
    Ok(name.to_owned())
}
