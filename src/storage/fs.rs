//! `FileSystemStorage`: the same API on a local folder, for development and for testing
//! code written against [`Storage`](crate::Storage) without a bucket.

use std::io;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::SystemTime;

use tokio::io::{AsyncRead, AsyncSeek, AsyncWrite, AsyncWriteExt, ReadBuf};

use crate::error::{Error, ErrorKind, Result};
use crate::s3::addressing::encode_key;
use crate::storage::content::Content;
use crate::storage::file::OpenMode;
use crate::storage::{BoxFuture, StorageFile, name_to_save, names};

/// Django's `FileSystemStorage`: names map to files under a root folder, with the same
/// name rules as [`S3Storage`](crate::S3Storage). Writes go to a temporary file
/// that is renamed into place, so a reader never sees half a file and a failed or dropped
/// write leaves nothing.
///
/// By default, as in Django, an existing name is never overwritten: `save` picks another
/// (atomically: a concurrent writer cannot take the same name).
#[derive(Debug, Clone)]
pub struct FileSystemStorage {
    root: PathBuf,
    base_url: Option<String>,
    overwrite: bool,
}

fn io_err(what: String) -> impl FnOnce(io::Error) -> Error {
    move |e| {
        let kind = if e.kind() == io::ErrorKind::NotFound {
            ErrorKind::NotFound
        } else {
            ErrorKind::Io
        };
        Error::new(kind, what).with_source(e)
    }
}

/// Temporary files are named so that `listdir` can leave them out.
const TEMP_PREFIX: &str = ".storages-s3-";

/// Runs file-system calls on tokio's blocking pool, so that a slow disk or network mount
/// holds up a pool thread rather than the runtime's.
async fn off_runtime<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> Result<T> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| Error::new(ErrorKind::Io, "a file system task failed").with_source(e))
}

/// A temporary file in the folder of `path` (created if needed), to be renamed onto it.
async fn temp_file_beside(path: &Path) -> Result<(tempfile::NamedTempFile, tokio::fs::File)> {
    let parent = path.parent().expect("a file path has a parent").to_owned();
    tokio::fs::create_dir_all(&parent)
        .await
        .map_err(io_err(format!("cannot create {}", parent.display())))?;
    off_runtime(move || {
        let temp = tempfile::Builder::new()
            .prefix(TEMP_PREFIX)
            .tempfile_in(&parent)
            .map_err(io_err(format!("cannot create a file in {}", parent.display())))?;
        let file = temp.reopen().map_err(io_err("cannot reopen a temporary file".into()))?;
        Ok((temp, tokio::fs::File::from_std(file)))
    })
    .await?
}

/// A placeholder location: names are checked as if under it, then made relative to the
/// root, so that the root's own text never matters.
const ROOT: &str = "root";

impl FileSystemStorage {
    /// A storage on `root` (created on first save).
    pub fn new(root: impl Into<PathBuf>) -> Self {
        FileSystemStorage {
            root: root.into(),
            base_url: None,
            overwrite: false,
        }
    }

    /// The URL under which the root is served (Django's `MEDIA_URL`), for `url()`.
    pub fn with_base_url(mut self, base_url: impl Into<String>) -> Self {
        let mut url = base_url.into();
        if !url.ends_with('/') {
            url.push('/');
        }
        self.base_url = Some(url);
        self
    }

    /// Overwrite existing names on save (Django's `allow_overwrite`).
    pub fn with_overwrite(mut self, overwrite: bool) -> Self {
        self.overwrite = overwrite;
        self
    }

    /// The root folder.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The name relative to the root, checked: names that escape the root, absolute names
    /// and NUL bytes are [`ErrorKind::InvalidName`]; a root that is not UTF-8 too, since
    /// names are UTF-8 and must be joined to it as text.
    pub fn relative(&self, name: &str) -> Result<String> {
        if self.root.to_str().is_none() {
            return Err(Error::new(
                ErrorKind::InvalidName,
                format!("the root {} is not UTF-8", self.root.display()),
            ));
        }
        if name.contains('\0') {
            return Err(Error::new(
                ErrorKind::InvalidName,
                format!("{name:?} contains a NUL byte"),
            ));
        }
        let joined = names::normalize(ROOT, &names::clean_name(name))?;
        Ok(joined[ROOT.len()..].trim_start_matches('/').to_owned())
    }

    /// The local path of a name.
    pub fn path(&self, name: &str) -> Result<PathBuf> {
        Ok(self.root.join(self.relative(name)?))
    }

    fn file_path(&self, name: &str) -> Result<PathBuf> {
        let rel = self.relative(name)?;
        if rel.is_empty() || rel.ends_with('/') {
            return Err(Error::new(ErrorKind::InvalidName, format!("{name:?} names no file")));
        }
        Ok(self.root.join(rel))
    }

    /// Saves content, returning the name used (see [`Storage::save`](crate::Storage::save)).
    pub async fn save(&self, name: &str, content: impl Into<Content>, max_length: Option<usize>) -> Result<String> {
        let mut content = content.into();
        let name = name_to_save(name, &content)?;
        let mut name = self.get_available_name(&name, max_length).await?;
        names::validate_file_name(&name, true)?;
        let path = self.file_path(&name)?;
        let (temp, mut file) = temp_file_beside(&path).await?;
        let mut reader = content.open().await?;
        while let Some(chunk) = reader.next().await? {
            file.write_all(&chunk)
                .await
                .map_err(io_err(format!("cannot write {}", path.display())))?;
        }
        file.flush()
            .await
            .map_err(io_err(format!("cannot write {}", path.display())))?;
        drop(file);
        let mut temp = temp;
        loop {
            let target = self.file_path(&name)?;
            let overwrite = self.overwrite;
            let into = target.clone();
            let persisted = off_runtime(move || {
                if overwrite {
                    temp.persist(&into)
                } else {
                    temp.persist_noclobber(&into)
                }
            })
            .await?;
            match persisted {
                Ok(_) => return Ok(names::clean_name(&name).replace('\\', "/")),
                Err(e) if e.error.kind() == io::ErrorKind::AlreadyExists && !self.overwrite => {
                    // Another writer took the name meanwhile: the data is still in the
                    // temporary file, under another free name it goes.
                    temp = e.file;
                    name = self.get_available_name(&name, max_length).await?;
                }
                Err(e) => return Err(io_err(format!("cannot store {}", target.display()))(e.error)),
            }
        }
    }

    /// Opens a file (see [`Storage::open`](crate::Storage::open)).
    pub async fn open(&self, name: &str, mode: &str) -> Result<LocalFile> {
        let mode = OpenMode::parse(mode)?;
        let path = self.file_path(name)?;
        let rel = self.relative(name)?;
        match mode {
            OpenMode::Read => {
                let file = tokio::fs::File::open(&path)
                    .await
                    .map_err(io_err(format!("File does not exist: {rel}")))?;
                let size = file.metadata().await.ok().map(|m| m.len());
                Ok(LocalFile {
                    name: rel,
                    size,
                    state: LocalState::Read(file),
                })
            }
            OpenMode::Write => {
                let (temp, file) = temp_file_beside(&path).await?;
                Ok(LocalFile {
                    name: rel,
                    size: None,
                    state: LocalState::Write { file, temp, path },
                })
            }
        }
    }

    /// Deletes a file (or an empty directory); a missing name is not an error.
    pub async fn delete(&self, name: &str) -> Result<()> {
        let path = self.path(name)?;
        if self.relative(name)?.is_empty() {
            return Err(Error::new(ErrorKind::InvalidName, "the root itself cannot be deleted"));
        }
        let result = match tokio::fs::symlink_metadata(&path).await {
            Ok(m) if m.is_dir() => tokio::fs::remove_dir(&path).await,
            Ok(_) => tokio::fs::remove_file(&path).await,
            Err(e) => Err(e),
        };
        match result {
            Err(e) if e.kind() != io::ErrorKind::NotFound => {
                Err(io_err(format!("cannot delete {}", path.display()))(e))
            }
            _ => Ok(()),
        }
    }

    /// Whether a file or directory exists under `name`.
    pub async fn exists(&self, name: &str) -> Result<bool> {
        Ok(tokio::fs::symlink_metadata(self.path(name)?).await.is_ok())
    }

    /// The directories and files directly under `path`. A file name that is not UTF-8 is
    /// [`ErrorKind::InvalidName`], since names are UTF-8.
    pub async fn listdir(&self, path: &str) -> Result<(Vec<String>, Vec<String>)> {
        let dir = self.path(path)?;
        let mut entries = tokio::fs::read_dir(&dir)
            .await
            .map_err(io_err(format!("cannot list {}", dir.display())))?;
        let (mut dirs, mut files) = (Vec::new(), Vec::new());
        while let Some(entry) = entries
            .next_entry()
            .await
            .map_err(io_err(format!("cannot list {}", dir.display())))?
        {
            let name = entry.file_name().into_string().map_err(|raw| {
                Error::new(
                    ErrorKind::InvalidName,
                    format!("a file name in {} is not UTF-8: {raw:?}", dir.display()),
                )
            })?;
            if name.starts_with(TEMP_PREFIX) {
                continue;
            }
            let is_dir = entry.file_type().await.map(|t| t.is_dir()).unwrap_or(false);
            if is_dir { dirs.push(name) } else { files.push(name) }
        }
        dirs.sort();
        files.sort();
        Ok((dirs, files))
    }

    async fn metadata(&self, name: &str) -> Result<std::fs::Metadata> {
        let path = self.file_path(name)?;
        tokio::fs::metadata(&path)
            .await
            .map_err(io_err(format!("File does not exist: {}", self.relative(name)?)))
    }

    /// Size in bytes.
    pub async fn size(&self, name: &str) -> Result<u64> {
        Ok(self.metadata(name).await?.len())
    }

    fn time(t: io::Result<SystemTime>) -> Result<SystemTime> {
        t.map_err(|e| Error::new(ErrorKind::Unsupported, "the file system does not record this time").with_source(e))
    }

    /// Last modification time.
    pub async fn modified_time(&self, name: &str) -> Result<SystemTime> {
        Self::time(self.metadata(name).await?.modified())
    }

    /// Last access time.
    pub async fn accessed_time(&self, name: &str) -> Result<SystemTime> {
        Self::time(self.metadata(name).await?.accessed())
    }

    /// Creation time, where the file system records it.
    pub async fn created_time(&self, name: &str) -> Result<SystemTime> {
        Self::time(self.metadata(name).await?.created())
    }

    /// `base_url` + the encoded name.
    pub async fn url(&self, name: &str) -> Result<String> {
        let base = self
            .base_url
            .as_deref()
            .ok_or_else(|| Error::new(ErrorKind::Unsupported, "This file is not accessible via a URL."))?;
        Ok(format!("{base}{}", encode_key(&self.relative(name)?)))
    }

    /// A name `save` may use (Django's rules; see [`names`]).
    pub async fn get_available_name(&self, name: &str, max_length: Option<usize>) -> Result<String> {
        if self.overwrite {
            return names::get_available_overwrite_name(name, max_length);
        }
        names::get_available_name(
            name,
            max_length,
            |candidate| async move { self.exists(&candidate).await },
        )
        .await
    }
}

enum LocalState {
    Read(tokio::fs::File),
    Write {
        file: tokio::fs::File,
        temp: tempfile::NamedTempFile,
        path: PathBuf,
    },
    Closed,
}

/// A file of a [`FileSystemStorage`]: read directly, or written to a temporary file that
/// `close` renames into place (dropped unclosed, nothing is stored).
pub struct LocalFile {
    name: String,
    size: Option<u64>,
    state: LocalState,
}

impl std::fmt::Debug for LocalFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalFile")
            .field("name", &self.name)
            .field("size", &self.size)
            .finish_non_exhaustive()
    }
}

impl LocalFile {
    /// Stores what was written (write mode) and releases the file.
    pub async fn close(&mut self) -> Result<()> {
        match std::mem::replace(&mut self.state, LocalState::Closed) {
            LocalState::Write { mut file, temp, path } => {
                file.flush()
                    .await
                    .map_err(io_err(format!("cannot write {}", path.display())))?;
                drop(file);
                self.size = tokio::fs::metadata(temp.path()).await.ok().map(|m| m.len());
                let into = path.clone();
                off_runtime(move || temp.persist(&into))
                    .await?
                    .map_err(|e| io_err(format!("cannot store {}", path.display()))(e.error))?;
                Ok(())
            }
            _ => Ok(()),
        }
    }
}

fn wrong_mode(message: &'static str) -> io::Error {
    io::Error::from(Error::new(ErrorKind::Unsupported, message))
}

impl AsyncRead for LocalFile {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        match &mut self.state {
            LocalState::Read(f) => Pin::new(f).poll_read(cx, buf),
            _ => Poll::Ready(Err(wrong_mode("File was not opened in read mode."))),
        }
    }
}

impl AsyncSeek for LocalFile {
    fn start_seek(mut self: Pin<&mut Self>, position: io::SeekFrom) -> io::Result<()> {
        match &mut self.state {
            LocalState::Read(f) => Pin::new(f).start_seek(position),
            _ => Err(wrong_mode("only files opened for reading can seek")),
        }
    }

    fn poll_complete(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<u64>> {
        match &mut self.state {
            LocalState::Read(f) => Pin::new(f).poll_complete(cx),
            _ => Poll::Ready(Err(wrong_mode("only files opened for reading can seek"))),
        }
    }
}

impl AsyncWrite for LocalFile {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, data: &[u8]) -> Poll<io::Result<usize>> {
        match &mut self.state {
            LocalState::Write { file, .. } => Pin::new(file).poll_write(cx, data),
            _ => Poll::Ready(Err(wrong_mode("File was not opened in write mode."))),
        }
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match &mut self.state {
            LocalState::Write { file, .. } => Pin::new(file).poll_flush(cx),
            _ => Poll::Ready(Ok(())),
        }
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        // Committing renames a file: done in place, it is quick.
        let state = std::mem::replace(&mut self.state, LocalState::Closed);
        match state {
            LocalState::Write { mut file, temp, path } => match Pin::new(&mut file).poll_flush(cx) {
                Poll::Pending => {
                    self.state = LocalState::Write { file, temp, path };
                    Poll::Pending
                }
                Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
                Poll::Ready(Ok(())) => {
                    drop(file);
                    Poll::Ready(temp.persist(&path).map(|_| ()).map_err(|e| e.error))
                }
            },
            other => {
                self.state = other;
                Poll::Ready(Ok(()))
            }
        }
    }
}

impl StorageFile for LocalFile {
    fn name(&self) -> &str {
        &self.name
    }

    fn size(&self) -> Option<u64> {
        self.size
    }

    fn close(&mut self) -> BoxFuture<'_, Result<()>> {
        Box::pin(LocalFile::close(self))
    }
}
