//! Downloads of whole objects, in parallel pieces as s3transfer does for boto3's
//! `download_fileobj` (the original's reads): ranged GETs of `multipart_chunksize` bytes,
//! `max_concurrency` at once, each pinned to the object's ETag (`If-Match`) and resumed on
//! its own when its connection breaks, handed on in order, so that memory stays within
//! `multipart_chunksize x max_concurrency` and the object's stored checksum is checked over
//! every byte as they pass. An object below `multipart_threshold` is one GET.
//!
//! To a path, the bytes go to a temporary file beside it, renamed into place only once
//! every byte is in and verified: a failed or corrupted download never appears under its
//! name, and leaves no temporary file behind.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use bytes::Bytes;
use tokio::io::{AsyncWrite, AsyncWriteExt};
use tokio::task::JoinSet;

use crate::config::ObjectParameters;
use crate::error::{Error, ErrorKind, Result};
use crate::s3::checksum::{Verification, Verifier};
use crate::s3::ops::get_object::{ByteRange, Expect};
use crate::s3::{Client, ObjectHead};

/// How to download.
#[derive(Debug, Clone, Default)]
pub struct DownloadOptions {
    /// Read parameters (SSE-C, `VersionId`, ...).
    pub params: ObjectParameters,
    /// Piece size instead of the client's `multipart_chunksize`.
    pub part_size: Option<u64>,
    /// Size from which a download goes in pieces, instead of `multipart_threshold`.
    pub threshold: Option<u64>,
    /// Pieces at once instead of `max_concurrency`.
    pub max_concurrency: Option<usize>,
}

/// What a download brought.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct DownloadOutcome {
    /// Bytes written.
    pub size: u64,
    /// The object's ETag, which every piece was pinned to.
    pub etag: Option<String>,
    /// Pieces fetched; 1 for a single GET.
    pub parts: u32,
    /// What was verified of the bytes.
    pub verification: Verification,
}

impl Client {
    /// Downloads `key` to `path`: in pieces at once when it is large, every byte checked
    /// against the object's stored checksum where the server states a full-object one,
    /// written beside `path` and renamed into place only once complete and verified. A
    /// download whose bytes do not match is made once more.
    ///
    /// ```no_run
    /// # async fn demo(client: storages_s3::s3::Client) -> storages_s3::Result<()> {
    /// use storages_s3::s3::DownloadOptions;
    ///
    /// let got = client.download_to_path("backups/db.dump", "/tmp/db.dump", DownloadOptions::default()).await?;
    /// println!("{} bytes, {:?}", got.size, got.verification);
    /// # Ok(()) }
    /// ```
    pub async fn download_to_path(
        &self,
        key: &str,
        path: impl AsRef<Path>,
        options: DownloadOptions,
    ) -> Result<DownloadOutcome> {
        let path = path.as_ref();
        let io = |what: &str, e: std::io::Error| {
            Error::new(ErrorKind::Io, format!("{what} {}", path.display()))
                .with_source(e)
                .with_operation("Download")
                .with_object(self.bucket(), Some(key))
        };
        let temp = temporary_beside(path);
        let mut tries = 2;
        loop {
            tries -= 1;
            let file = tokio::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&temp)
                .await
                .map_err(|e| io("cannot write beside", e))?;
            let mut guard = RemoveOnDrop(Some(temp.clone()));
            let mut file = BlockingSink::new(file.into_std().await);
            let params = options.params.read_parameters();
            let got = match self.head_object(key, &params).await {
                Ok(head) => self.download_object(key, &head, &params, &mut file, &options).await,
                Err(e) => Err(e),
            };
            match got {
                Ok(outcome) => {
                    let file = file.close_with(|f| f.sync_all()).await;
                    drop(file.map_err(|e| io("cannot write", e))?);
                    tokio::fs::rename(&temp, path)
                        .await
                        .map_err(|e| io("cannot move the download to", e))?;
                    guard.0 = None;
                    return Ok(outcome);
                }
                Err(e) if e.is_checksum_mismatch() && tries > 0 => {
                    crate::trace::event!(warn, key = key, error = %e, "downloading again after a checksum mismatch");
                    self.note_resume();
                    drop(file);
                    drop(guard);
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// Downloads `key` into `writer`, in order: pieces fetched at once when the object is
    /// large, each pinned to the object's ETag. The bytes reach the writer before the last
    /// of them is checked: a mismatch with the stored checksum is an error of kind
    /// [`ChecksumMismatch`](ErrorKind::ChecksumMismatch) at the end, and the writer's
    /// content is then not the object's (see [`download_to_path`](Client::download_to_path),
    /// which never leaves such a file).
    pub async fn download_to_writer<W: AsyncWrite + Unpin>(
        &self,
        key: &str,
        writer: &mut W,
        options: DownloadOptions,
    ) -> Result<DownloadOutcome> {
        let params = options.params.read_parameters();
        let head = self.head_object(key, &params).await?;
        self.download_object(key, &head, &params, &mut WriterSink(writer), &options)
            .await
    }

    /// Downloads the object `head` describes (read with `params`) into `writer`: its ETag
    /// pins every piece, its size decides whether it goes in pieces, and its stored
    /// checksum is checked over the bytes. A file opened for reading passes the head it
    /// was opened with, so that its local copy is the version it reads.
    pub(crate) async fn download_object<S: Sink>(
        &self,
        key: &str,
        head: &ObjectHead,
        params: &ObjectParameters,
        writer: &mut S,
        options: &DownloadOptions,
    ) -> Result<DownloadOutcome> {
        let transfer = self.options().transfer;
        let part_size = options.part_size.unwrap_or(transfer.multipart_chunksize).max(1);
        let threshold = options.threshold.unwrap_or(transfer.multipart_threshold);
        let concurrency = options.max_concurrency.unwrap_or(transfer.max_concurrency).max(1);
        let write_err = |e: std::io::Error| {
            Error::new(ErrorKind::Io, "writing the download failed")
                .with_source(e)
                .with_operation("Download")
                .with_object(self.bucket(), Some(key))
        };
        let size = head.content_length;
        let Some(size) = size.filter(|s| *s >= threshold && *s > part_size) else {
            // One GET: its body checks the stored checksum itself.
            let expect = Expect {
                range: None,
                etag: head.etag.as_deref(),
                total: size,
            };
            let mut body = self.get_object_expecting(key, params, &expect).await?.body;
            let mut written = 0u64;
            while let Some(chunk) = body.chunk().await {
                let chunk = chunk?;
                written += chunk.len() as u64;
                writer.put(chunk).await.map_err(write_err)?;
            }
            writer.finish().await.map_err(write_err)?;
            return Ok(DownloadOutcome {
                size: written,
                etag: head.etag.clone(),
                parts: 1,
                verification: body.verification().clone(),
            });
        };
        let Some(etag) = head.etag.clone() else {
            return Err(Error::new(
                ErrorKind::InvalidResponse,
                "the object has no ETag to pin its pieces to",
            )
            .with_operation("Download")
            .with_object(self.bucket(), Some(key)));
        };
        // Every byte passes here in order: a full-object checksum is checked over them all.
        let verify = self.options().verify_checksums;
        let mut verifier = match &head.checksum {
            Some(stored) if verify && stored.is_full_object() => Some(Verifier::new(stored.clone())),
            _ => None,
        };
        let count = size.div_ceil(part_size);
        // A piece is kept as the chunks it arrived in: no copy into one buffer, and no
        // allocation of a piece's size (whose pages would all fault in once more).
        let mut tasks: JoinSet<(u64, Result<Vec<Bytes>>)> = JoinSet::new();
        let mut done: BTreeMap<u64, Vec<Bytes>> = BTreeMap::new();
        let (mut next_start, mut next_write) = (0u64, 0u64);
        while next_write < count {
            // Start pieces while the window (written to started) has room.
            while next_start < count && next_start - next_write < concurrency as u64 {
                let first = next_start * part_size;
                let last = (first + part_size).min(size) - 1;
                let (client, key, params, etag) = (self.clone(), key.to_owned(), params.clone(), etag.clone());
                tasks.spawn(async move {
                    let expect = Expect {
                        range: Some(ByteRange::Inclusive(first, last)),
                        etag: Some(&etag),
                        total: Some(size),
                    };
                    let piece = async {
                        let mut body = client.get_object_expecting(&key, &params, &expect).await?.body;
                        let mut chunks = Vec::new();
                        while let Some(chunk) = body.chunk().await {
                            chunks.push(chunk?);
                        }
                        Ok(chunks)
                    };
                    (next_start, piece.await)
                });
                next_start += 1;
            }
            let Some(joined) = tasks.join_next().await else { break };
            let (index, piece) = joined.map_err(|e| {
                Error::new(ErrorKind::Io, "a download task failed")
                    .with_source(e)
                    .with_operation("Download")
            })?;
            done.insert(index, piece?);
            while let Some(piece) = done.remove(&next_write) {
                for chunk in piece {
                    if let Some(v) = &mut verifier {
                        v.update(&chunk);
                    }
                    writer.put(chunk).await.map_err(write_err)?;
                }
                next_write += 1;
            }
        }
        writer.finish().await.map_err(write_err)?;
        let verification = match (verifier, &head.checksum) {
            (Some(v), _) => Verification::Verified(
                v.finish()
                    .map_err(|e| e.with_operation("Download").with_object(self.bucket(), Some(key)))?,
            ),
            (None, _) if !verify => Verification::Disabled,
            (None, Some(stored)) => Verification::Composite(stored.clone()),
            (None, None) => Verification::Absent,
        };
        Ok(DownloadOutcome {
            size,
            etag: Some(etag),
            parts: count as u32,
            verification,
        })
    }
}

/// Where a download's bytes go, in order, as the chunks they arrived in.
pub(crate) trait Sink {
    /// Takes the next chunk.
    async fn put(&mut self, chunk: Bytes) -> std::io::Result<()>;
    /// Everything put is written.
    async fn finish(&mut self) -> std::io::Result<()>;
}

/// Any [`AsyncWrite`]: each chunk is written through.
pub(crate) struct WriterSink<'a, W>(pub(crate) &'a mut W);

impl<W: AsyncWrite + Unpin> Sink for WriterSink<'_, W> {
    async fn put(&mut self, chunk: Bytes) -> std::io::Result<()> {
        self.0.write_all(&chunk).await
    }

    async fn finish(&mut self) -> std::io::Result<()> {
        self.0.flush().await
    }
}

/// A writer (a file, a spooled local copy) fed on the blocking pool in batches of about
/// 1 MiB, straight from the chunks as received (no copy on the way), one batch in flight
/// while the next gathers.
pub(crate) struct BlockingSink<W> {
    inner: Option<W>,
    batch: Vec<Bytes>,
    batched: usize,
    writing: Option<tokio::task::JoinHandle<(W, std::io::Result<()>)>>,
}

/// Bytes gathered before they go to the writer.
const BATCH: usize = 1 << 20;

impl<W: std::io::Write + Send + 'static> BlockingSink<W> {
    pub(crate) fn new(inner: W) -> BlockingSink<W> {
        BlockingSink {
            inner: Some(inner),
            batch: Vec::new(),
            batched: 0,
            writing: None,
        }
    }

    /// Waits for the batch being written, and takes the writer back.
    async fn written(&mut self) -> std::io::Result<()> {
        if let Some(writing) = self.writing.take() {
            let (inner, result) = writing.await.map_err(std::io::Error::other)?;
            self.inner = Some(inner);
            result?;
        }
        Ok(())
    }

    /// Writes the gathered chunks, then runs `then`, in one task on the blocking pool.
    async fn write_batch(
        &mut self,
        then: impl FnOnce(&mut W) -> std::io::Result<()> + Send + 'static,
    ) -> std::io::Result<()> {
        self.written().await?;
        let batch = std::mem::take(&mut self.batch);
        self.batched = 0;
        let mut inner = self.inner.take().expect("the writer is back once no batch is written");
        self.writing = Some(tokio::task::spawn_blocking(move || {
            let result = batch
                .iter()
                .try_for_each(|chunk| inner.write_all(chunk))
                .and_then(|()| then(&mut inner));
            (inner, result)
        }));
        Ok(())
    }

    /// Everything put written, then `last` run on the writer (a sync, a rewind): the
    /// writer back.
    pub(crate) async fn close_with(
        mut self,
        last: impl FnOnce(&mut W) -> std::io::Result<()> + Send + 'static,
    ) -> std::io::Result<W> {
        self.write_batch(last).await?;
        self.written().await?;
        Ok(self.inner.take().expect("the writer is back once no batch is written"))
    }
}

impl<W: std::io::Write + Send + 'static> Sink for BlockingSink<W> {
    async fn put(&mut self, chunk: Bytes) -> std::io::Result<()> {
        self.batched += chunk.len();
        self.batch.push(chunk);
        if self.batched >= BATCH {
            self.write_batch(|_| Ok(())).await?;
        }
        Ok(())
    }

    async fn finish(&mut self) -> std::io::Result<()> {
        if !self.batch.is_empty() {
            self.write_batch(|_| Ok(())).await?;
        }
        self.written().await
    }
}

/// A name beside `path` that no other download takes: `.<name>.<random>.part`.
fn temporary_beside(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    path.with_file_name(format!(".{name}.{:016x}.part", fastrand::u64(..)))
}

/// Removes a temporary file unless disarmed (the rename took it).
struct RemoveOnDrop(Option<PathBuf>);

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        if let Some(path) = self.0.take() {
            let _ = std::fs::remove_file(path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Downloads can be spawned: their futures are `Send` whatever the sink inside.
    #[allow(dead_code)]
    fn downloads_are_send(client: &Client, out: &mut Vec<u8>) {
        fn send<T: Send>(_: T) {}
        send(client.download_to_path("k", "/tmp/k", DownloadOptions::default()));
        send(client.download_to_writer("k", out, DownloadOptions::default()));
    }
}
