//! Uploads of any size, of a length known or not: one PutObject below the multipart
//! threshold, otherwise parts of exactly `part_size` bytes (the last may be shorter; R2
//! refuses unequal parts), at most `max_concurrency` in flight.
//!
//! Memory stays within `part_size x (max_concurrency + 1)` (or the threshold, if larger,
//! before the first part). A part's buffer is taken back once the part is sent and filled
//! again: a long upload faults its memory in once, not once per part. Any failure aborts
//! the upload, and so does dropping an [`Upload`] that was not finished: no part is left
//! behind on the server.

use std::fmt;
use std::sync::{Arc, Mutex};

use bytes::{Bytes, BytesMut};
use futures_core::Stream;
use tokio::task::JoinSet;

use crate::config::ObjectParameters;
use crate::error::{BoxError, Error, ErrorKind, Result};
use crate::http::Body;
use crate::s3::Client;
use crate::s3::client::OpenUpload;
use crate::s3::ops::put_object::WriteOptions;
use crate::s3::ops::upload_part::{MAX_PART_NUMBER, UploadedPart};

const MIB: u64 = 1024 * 1024;
const MAX_PART_SIZE: u64 = 5 * 1024 * MIB;

/// What to upload with.
#[derive(Debug, Clone, Default)]
pub struct UploadOptions {
    /// Upload parameters (content type, ACL, metadata, SSE, ...).
    pub params: ObjectParameters,
    /// Refuse to overwrite (`If-None-Match: *` on PutObject / CompleteMultipartUpload).
    pub if_none_match: bool,
    /// The total size, when known: parts grow so that it fits in 10,000 of them.
    pub size_hint: Option<u64>,
    /// Part size instead of the client's `multipart_chunksize`.
    pub part_size: Option<u64>,
    /// Multipart threshold instead of the client's `multipart_threshold`.
    pub threshold: Option<u64>,
}

/// What an upload stored.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct UploadOutcome {
    /// ETag of the object.
    pub etag: Option<String>,
    /// Bytes stored.
    pub size: u64,
    /// Parts used; 0 for a single PutObject.
    pub parts: u32,
}

/// The part size for an upload: `part_size`, grown (to whole MiB) when `size` would need
/// more than 10,000 parts.
pub fn part_size_for(size: Option<u64>, part_size: u64) -> u64 {
    let mut p = part_size.clamp(5 * MIB, MAX_PART_SIZE);
    if let Some(size) = size {
        let needed = size.div_ceil(u64::from(MAX_PART_NUMBER));
        if needed > p {
            p = needed.div_ceil(MIB) * MIB;
        }
    }
    p.min(MAX_PART_SIZE)
}

/// Part buffers sent and free to fill again: at most `max_concurrency + 1`, which is all an
/// upload ever holds at once, and dropped with the upload.
struct Spare {
    buffers: Mutex<Vec<BytesMut>>,
    /// The part size: only whole part buffers come back.
    capacity: usize,
    keep: usize,
}

impl Spare {
    fn new(capacity: usize, keep: usize) -> Self {
        Spare {
            buffers: Mutex::new(Vec::with_capacity(keep)),
            capacity,
            keep,
        }
    }

    /// An empty buffer of `capacity` bytes, a spare one when there is one.
    fn take(&self, capacity: usize) -> BytesMut {
        let spare = self.buffers.lock().ok().and_then(|mut b| b.pop());
        match spare {
            Some(mut buf) if buf.capacity() >= capacity => {
                buf.clear();
                buf
            }
            _ => BytesMut::with_capacity(capacity),
        }
    }

    /// Takes a sent part's buffer back, if nothing else holds it (a retry that is still
    /// being dropped, say) and there is room.
    fn give(&self, part: Bytes) {
        let Ok(buf) = part.try_into_mut() else {
            return;
        };
        if buf.capacity() != self.capacity {
            return;
        }
        if let Ok(mut buffers) = self.buffers.lock()
            && buffers.len() < self.keep
        {
            buffers.push(buf);
        }
    }
}

struct Multipart {
    upload_id: String,
    /// Counts the upload as open in its client until it is completed or aborted.
    _open: OpenUpload,
    next_part: u32,
    inflight: JoinSet<Result<UploadedPart>>,
    done: Vec<UploadedPart>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Open,
    Finished,
    Failed,
}

/// An upload in progress: write bytes, then [`finish`](Upload::finish). Dropped unfinished
/// (or after a failure), its multipart upload is aborted.
///
/// ```no_run
/// # async fn demo(client: storages_s3::s3::Client) -> storages_s3::Result<()> {
/// use storages_s3::s3::{Upload, UploadOptions};
///
/// let mut upload = Upload::new(&client, "backups/big.bin", UploadOptions::default())?;
/// for _ in 0..100 {
///     upload.write(&[0u8; 1 << 20]).await?; // 100 MiB in 8 MiB parts, 10 at a time
/// }
/// let outcome = upload.finish().await?;
/// assert_eq!(outcome.size, 100 << 20);
/// # Ok(()) }
/// ```
pub struct Upload {
    client: Client,
    key: String,
    params: ObjectParameters,
    if_none_match: bool,
    part_size: usize,
    threshold: u64,
    max_concurrency: usize,
    buf: BytesMut,
    spare: Arc<Spare>,
    /// The announced size reaches the threshold: the upload will go multipart.
    expect_multipart: bool,
    written: u64,
    multipart: Option<Multipart>,
    state: State,
}

impl fmt::Debug for Upload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Upload")
            .field("key", &self.key)
            .field("written", &self.written)
            .field("upload_id", &self.upload_id())
            .field("state", &self.state)
            .finish_non_exhaustive()
    }
}

impl Upload {
    /// Starts an upload to `key`. Nothing is sent until enough bytes are written.
    pub fn new(client: &Client, key: &str, options: UploadOptions) -> Result<Upload> {
        crate::s3::addressing::check_key(key)?;
        let transfer = client.options().transfer;
        let part_size = part_size_for(
            options.size_hint,
            options.part_size.unwrap_or(transfer.multipart_chunksize),
        ) as usize;
        let threshold = options.threshold.unwrap_or(transfer.multipart_threshold);
        let max_concurrency = transfer.max_concurrency.max(1);
        Ok(Upload {
            expect_multipart: options.size_hint.is_some_and(|size| size >= threshold && size > 0),
            client: client.clone(),
            key: key.to_owned(),
            params: options.params,
            if_none_match: options.if_none_match,
            part_size,
            threshold,
            max_concurrency,
            buf: BytesMut::new(),
            spare: Arc::new(Spare::new(part_size, max_concurrency + 1)),
            written: 0,
            multipart: None,
            state: State::Open,
        })
    }

    /// The multipart upload id, once the upload has gone multipart.
    pub fn upload_id(&self) -> Option<&str> {
        self.multipart.as_ref().map(|m| m.upload_id.as_str())
    }

    /// Bytes written so far.
    pub fn written(&self) -> u64 {
        self.written
    }

    /// The size of each part.
    pub fn part_size(&self) -> usize {
        self.part_size
    }

    fn check_open(&self) -> Result<()> {
        match self.state {
            State::Open => Ok(()),
            State::Finished => Err(Error::new(ErrorKind::Io, "the upload is already finished")),
            State::Failed => Err(Error::new(ErrorKind::Aborted, "the upload failed and was aborted")),
        }
    }

    /// Appends bytes; full parts are sent as they fill, waiting while `max_concurrency`
    /// parts are in flight.
    pub async fn write(&mut self, mut data: &[u8]) -> Result<()> {
        while !data.is_empty() {
            let n = self.buffer(data)?;
            data = &data[n..];
            if self.needs_flush() {
                self.flush().await?;
            }
        }
        Ok(())
    }

    /// The buffer size at which parts are sent: a part, or the threshold before the upload
    /// has gone multipart.
    fn limit(&self) -> usize {
        if self.multipart.is_some() {
            self.part_size
        } else {
            self.part_size.max(self.threshold as usize)
        }
    }

    /// Copies as much of `data` as fits before the buffer must be flushed; returns how much.
    /// For writers that cannot wait in the middle of a write (`AsyncWrite`): call
    /// [`flush`](Upload::flush) when [`needs_flush`](Upload::needs_flush) says so.
    pub(crate) fn buffer(&mut self, data: &[u8]) -> Result<usize> {
        self.check_open()?;
        let limit = self.limit();
        let take = limit.saturating_sub(self.buf.len()).min(data.len());
        let needed = self.buf.len() + take;
        if needed > self.buf.capacity() {
            // Grow by hand, never past the limit: a part split off a larger buffer would
            // keep the whole allocation alive while it uploads. Once parts are certain, each
            // buffer is a whole part from the start: doubling would copy every byte about
            // twice more and fault in fresh pages at every step.
            let mut grown = if self.multipart.is_some() || self.expect_multipart {
                self.spare.take(limit)
            } else {
                BytesMut::with_capacity((self.buf.capacity() * 2).max(needed).max(64 * 1024).min(limit))
            };
            grown.extend_from_slice(&self.buf);
            self.buf = grown;
        }
        self.buf.extend_from_slice(&data[..take]);
        self.written += take as u64;
        Ok(take)
    }

    /// Whether the buffer is full and must be flushed before more is written.
    pub(crate) fn needs_flush(&self) -> bool {
        self.buf.len() >= self.limit()
    }

    /// Sends every full part in the buffer, going multipart first if needed; waits while
    /// `max_concurrency` parts are in flight.
    pub(crate) async fn flush(&mut self) -> Result<()> {
        self.check_open()?;
        self.flush_full_parts().await
    }

    async fn flush_full_parts(&mut self) -> Result<()> {
        while self.buf.len() >= self.part_size {
            // A buffer that is exactly one part goes whole, so that it alone holds its
            // allocation and can come back; a larger one (the threshold's, before the
            // upload went multipart) is split.
            let part = if self.buf.len() == self.part_size {
                std::mem::take(&mut self.buf)
            } else {
                self.buf.split_to(self.part_size)
            };
            self.send_part(part.freeze()).await?;
        }
        Ok(())
    }

    async fn start(&mut self) -> Result<()> {
        if self.multipart.is_none() {
            let upload_id = self
                .client
                .create_multipart_upload(&self.key, &self.params)
                .await
                .inspect_err(|_| {
                    self.state = State::Failed;
                })?;
            self.multipart = Some(Multipart {
                _open: self.client.upload_opened(),
                upload_id,
                next_part: 1,
                inflight: JoinSet::new(),
                done: Vec::new(),
            });
        }
        Ok(())
    }

    async fn send_part(&mut self, data: Bytes) -> Result<()> {
        self.start().await?;
        let mp = self.multipart.as_mut().expect("started");
        if mp.next_part > MAX_PART_NUMBER {
            let e = Error::new(
                ErrorKind::Io,
                format!(
                    "the stream needs more than 10000 parts of {} bytes: raise multipart_chunksize",
                    self.part_size
                ),
            );
            return Err(self.fail(e).await);
        }
        while mp.inflight.len() >= self.max_concurrency {
            if let Err(e) = Self::reap_one(mp).await {
                return Err(self.fail(e).await);
            }
        }
        let number = mp.next_part;
        mp.next_part += 1;
        let (client, key, upload_id, sse) = (
            self.client.clone(),
            self.key.clone(),
            mp.upload_id.clone(),
            self.params.clone(),
        );
        let spare = self.spare.clone();
        mp.inflight.spawn(async move {
            let sent = client.upload_part(&key, &upload_id, number, data.clone(), &sse).await;
            spare.give(data);
            sent
        });
        Ok(())
    }

    /// Waits for one part in flight.
    async fn reap_one(mp: &mut Multipart) -> Result<()> {
        match mp.inflight.join_next().await {
            Some(Ok(Ok(part))) => {
                mp.done.push(part);
                Ok(())
            }
            Some(Ok(Err(e))) => Err(e),
            Some(Err(join)) => Err(Error::new(ErrorKind::Io, "a part upload task failed").with_source(join)),
            None => Ok(()),
        }
    }

    /// Aborts after an error: stops the parts in flight, discards the uploaded ones, and
    /// returns the error (the abort's own failure is secondary).
    async fn fail(&mut self, error: Error) -> Error {
        self.state = State::Failed;
        if let Some(mut mp) = self.multipart.take() {
            crate::trace::event!(info, key = %self.key, upload_id = %mp.upload_id, reason = %error, "aborting a multipart upload");
            mp.inflight.shutdown().await;
            self.client.abort_or_keep(&self.key, &mp.upload_id).await;
        }
        self.buf = BytesMut::new();
        error
    }

    /// Sends what is left and commits the object: one PutObject when the total stayed
    /// below the threshold, otherwise the last part and CompleteMultipartUpload.
    pub async fn finish(mut self) -> Result<UploadOutcome> {
        self.check_open()?;
        if self.multipart.is_none() && (self.written < self.threshold || self.written == 0) {
            let body = Body::from(std::mem::take(&mut self.buf).freeze());
            let options = WriteOptions {
                if_none_match: self.if_none_match,
                checksum: self.client.upload_checksum(&self.params),
            };
            let out = self
                .client
                .put_object_with(&self.key, body, &self.params, options)
                .await;
            self.state = if out.is_ok() { State::Finished } else { State::Failed };
            let out = out?;
            return Ok(UploadOutcome {
                etag: out.etag,
                size: self.written,
                parts: 0,
            });
        }
        self.flush_full_parts().await?;
        if !self.buf.is_empty() {
            let last = std::mem::take(&mut self.buf).freeze();
            self.send_part(last).await?;
        }
        let mp = self.multipart.as_mut().expect("multipart started");
        while !mp.inflight.is_empty() {
            if let Err(e) = Self::reap_one(mp).await {
                return Err(self.fail(e).await);
            }
        }
        let parts = std::mem::take(&mut mp.done);
        let upload_id = mp.upload_id.clone();
        match self
            .client
            .complete_multipart_upload(&self.key, &upload_id, &parts, self.if_none_match)
            .await
        {
            Ok(etag) => {
                self.state = State::Finished;
                self.multipart = None;
                Ok(UploadOutcome {
                    etag,
                    size: self.written,
                    parts: parts.len() as u32,
                })
            }
            Err(e) => Err(self.fail(e).await),
        }
    }

    /// Abandons the upload after a failure of the caller's: an abort that fails is kept
    /// where the caller sees it ([`Client::unaborted_uploads`]).
    async fn abandon(mut self) {
        self.state = State::Failed;
        if let Some(mut mp) = self.multipart.take() {
            mp.inflight.shutdown().await;
            self.client.abort_or_keep(&self.key, &mp.upload_id).await;
        }
    }

    /// Abandons the upload: parts already sent are discarded and nothing is stored.
    pub async fn abort(mut self) -> Result<()> {
        self.state = State::Failed;
        if let Some(mut mp) = self.multipart.take() {
            mp.inflight.shutdown().await;
            self.client.abort_multipart_upload(&self.key, &mp.upload_id).await?;
        }
        Ok(())
    }
}

impl Drop for Upload {
    fn drop(&mut self) {
        let Some(Multipart {
            upload_id,
            _open: open,
            inflight,
            ..
        }) = self.multipart.take()
        else {
            return;
        };
        // Parts in flight are cancelled with the JoinSet; the upload itself is aborted in
        // the background, which needs a runtime.
        drop(inflight);
        crate::trace::event!(info, key = %self.key, upload_id = %upload_id, "aborting a multipart upload dropped unfinished");
        if let Ok(handle) = tokio::runtime::Handle::try_current() {
            let (client, key) = (self.client.clone(), self.key.clone());
            handle.spawn(async move {
                client.abort_or_keep(&key, &upload_id).await;
                // Counted open until here: `Client::uploads_settled` waits for this.
                drop(open);
            });
        }
    }
}

/// Uploads a whole stream: PutObject or multipart as its size decides. A stream error
/// aborts the upload and is returned as [`ErrorKind::Io`].
pub async fn upload_stream<S, E>(
    client: &Client,
    key: &str,
    mut stream: S,
    options: UploadOptions,
) -> Result<UploadOutcome>
where
    S: Stream<Item = std::result::Result<Bytes, E>> + Unpin,
    E: Into<BoxError>,
{
    let mut upload = Upload::new(client, key, options)?;
    while let Some(chunk) = std::future::poll_fn(|cx| std::pin::Pin::new(&mut stream).poll_next(cx)).await {
        match chunk {
            Ok(bytes) => upload.write(&bytes).await?,
            Err(e) => {
                let err = Error::new(ErrorKind::Io, "reading the upload stream failed").with_source(e);
                upload.abandon().await;
                return Err(err.with_operation("Upload").with_object(client.bucket(), Some(key)));
            }
        }
    }
    upload.finish().await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sent_part_buffer_is_filled_again_once_nothing_holds_it() {
        let spare = Spare::new(1024, 2);
        let mut buf = spare.take(1024);
        buf.extend_from_slice(&[7; 1024]);
        let at = buf.as_ptr();
        let part = buf.freeze();
        // A retry's copy still holds it: not taken back.
        let retry = part.clone();
        spare.give(part.clone());
        assert!(spare.buffers.lock().unwrap().is_empty());
        drop(retry);
        spare.give(part);
        let again = spare.take(1024);
        assert_eq!(again.as_ptr(), at);
        assert!(again.is_empty());
        assert_eq!(again.capacity(), 1024);
        // A buffer of another size (a split threshold buffer) is not kept, nor more than
        // `keep` buffers.
        spare.give(Bytes::from(vec![0; 512]));
        for _ in 0..3 {
            spare.give(BytesMut::with_capacity(1024).freeze());
        }
        assert_eq!(spare.buffers.lock().unwrap().len(), 2);
    }

    #[test]
    fn parts_grow_to_fit_ten_thousand() {
        assert_eq!(part_size_for(None, 8 * MIB), 8 * MIB);
        assert_eq!(part_size_for(Some(80_000 * MIB), 8 * MIB), 8 * MIB);
        // 100 GiB needs parts of at least 10.24 MiB: 11 MiB.
        assert_eq!(part_size_for(Some(100 * 1024 * MIB), 8 * MIB), 11 * MIB);
        assert_eq!(part_size_for(Some(5 * 1024 * 1024 * MIB), 8 * MIB), 525 * MIB);
        assert_eq!(part_size_for(None, MIB), 5 * MIB);
        assert_eq!(part_size_for(Some(u64::MAX), 8 * MIB), MAX_PART_SIZE);
    }
}
