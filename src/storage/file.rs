//! `S3File`: an object opened for reading (a stream with ranged GETs on seek) or for
//! writing (a multipart upload fed as it is written, committed by `close`).

use std::fmt;
use std::future::Future;
use std::io;
use std::path::PathBuf;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use bytes::Bytes;
use futures_core::Stream;
use tokio::io::{AsyncRead, AsyncSeek, AsyncWrite, ReadBuf};

use crate::config::ObjectParameters;
use crate::error::{Error, ErrorKind, Result};
use crate::s3::download::{BlockingSink, Sink};
use crate::s3::multipart::Upload;
use crate::s3::ops::get_object::{ByteRange, Expect};
use crate::s3::{Client, ObjectBody, ObjectHead};
use crate::storage::gzip::Decompressor;

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

/// How a file is opened: Django's modes. `r`/`rb` read, `w`/`wb` write; text and binary
/// modes are the same here (bytes both ways).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpenMode {
    /// Read: a stream over the object.
    Read,
    /// Write: a new object, stored on close.
    Write,
}

impl OpenMode {
    /// Parses a Python mode string.
    ///
    /// ```
    /// use storages_s3::OpenMode;
    /// assert_eq!(OpenMode::parse("rb").unwrap(), OpenMode::Read);
    /// assert!(OpenMode::parse("rw").is_err());
    /// ```
    pub fn parse(mode: &str) -> Result<OpenMode> {
        match (mode.contains('r'), mode.contains('w')) {
            (true, true) => Err(Error::new(ErrorKind::Unsupported, "Can't combine 'r' and 'w' in mode.")),
            (true, false) => Ok(OpenMode::Read),
            (false, true) => Ok(OpenMode::Write),
            (false, false) => Err(Error::new(
                ErrorKind::Unsupported,
                format!("mode {mode:?} neither reads nor writes"),
            )),
        }
    }
}

/// The read side: where the stream is, and how to restart it elsewhere.
struct Reader {
    client: Client,
    key: String,
    params: ObjectParameters,
    head: ObjectHead,
    gzip: bool,
    /// Position in what the reader returns (decompressed bytes for gzip objects).
    pos: u64,
    body: Option<ObjectBody>,
    opening: Option<BoxFuture<Result<ObjectBody>>>,
    /// Bytes received and not yet read (plain objects).
    pending: Bytes,
    /// The inflater of a gzip object, fed from `body` only as reads ask for more.
    decompressor: Option<Decompressor>,
    /// Decompressed bytes still to drop before `pos` (seeks in gzip objects).
    skip: u64,
    /// Scratch space the dropped bytes are inflated into.
    scratch: Vec<u8>,
    /// The stream has ended.
    eof: bool,
}

impl Reader {
    /// Drops the stream; the next read starts a new one at `pos`.
    fn reset(&mut self) {
        self.body = None;
        self.opening = None;
        self.pending = Bytes::new();
        self.decompressor = None;
        self.skip = 0;
        self.eof = false;
    }

    fn open_stream(&mut self) {
        // Gzip objects are read from their start and decompressed up to the position.
        let from = if self.gzip { 0 } else { self.pos };
        self.skip = if self.gzip { self.pos } else { 0 };
        self.decompressor = self.gzip.then(Decompressor::new);
        let (client, key, params, etag, total) = (
            self.client.clone(),
            self.key.clone(),
            self.params.clone(),
            self.head.etag.clone(),
            self.head.content_length,
        );
        self.opening = Some(Box::pin(async move {
            let expect = Expect {
                range: (from > 0).then_some(ByteRange::From(from)),
                etag: etag.as_deref(),
                total,
            };
            Ok(client.get_object_expecting(&key, &params, &expect).await?.body)
        }));
    }

    /// The next piece of the stored bytes, opening the stream when needed; `None` at the end.
    fn poll_chunk(&mut self, cx: &mut Context<'_>) -> Poll<Result<Option<Bytes>>> {
        if self.body.is_none() && self.opening.is_none() {
            self.open_stream();
        }
        if let Some(opening) = &mut self.opening {
            let body = ready!(opening.as_mut().poll(cx));
            self.opening = None;
            self.body = Some(body?);
        }
        let body = self.body.as_mut().expect("stream open");
        match ready!(Pin::new(body).poll_next(cx)) {
            Some(chunk) => Poll::Ready(chunk.map(Some)),
            None => {
                self.body = None;
                Poll::Ready(Ok(None))
            }
        }
    }

    /// Reads stored bytes as they are (objects without `Content-Encoding: gzip`).
    fn poll_read_plain(&mut self, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<Result<()>> {
        while self.pending.is_empty() {
            // At the end of a known size nothing is asked for (a range from there would be
            // refused); a stream already open is read to its end, where its checksum is
            // checked.
            let at_end = self.head.content_length.is_some_and(|len| self.pos >= len);
            if self.eof || (at_end && self.body.is_none() && self.opening.is_none()) {
                return Poll::Ready(Ok(()));
            }
            match ready!(self.poll_chunk(cx))? {
                Some(chunk) => self.pending = chunk,
                None => self.eof = true,
            }
        }
        let n = self.pending.len().min(buf.remaining());
        buf.put_slice(&self.pending.split_to(n));
        self.pos += n as u64;
        Poll::Ready(Ok(()))
    }

    /// Reads inflated bytes: the inflater works only as far as this read (or a seek's
    /// skip) asks, and takes more stored bytes only when it needs them.
    fn poll_read_gzip(&mut self, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<Result<()>> {
        loop {
            if self.eof && self.decompressor.is_none() {
                return Poll::Ready(Ok(()));
            }
            if self.body.is_none() && self.opening.is_none() && self.decompressor.is_none() {
                self.open_stream();
            }
            if let Some(d) = &mut self.decompressor {
                let got = if self.skip > 0 {
                    let want = self.skip.min(SCRATCH as u64) as usize;
                    self.scratch.resize(SCRATCH, 0);
                    d.read(&mut self.scratch[..want])?
                } else {
                    d.read(buf.initialize_unfilled())?
                };
                match got {
                    Some(0) => {
                        self.decompressor = None;
                        self.scratch = Vec::new();
                        self.eof = true;
                        continue;
                    }
                    Some(n) if self.skip > 0 => {
                        self.skip -= n as u64;
                        continue;
                    }
                    Some(n) => {
                        buf.advance(n);
                        self.pos += n as u64;
                        return Poll::Ready(Ok(()));
                    }
                    None => {}
                }
            }
            match ready!(self.poll_chunk(cx))? {
                Some(chunk) => self.decompressor.as_mut().expect("gzip stream").push(chunk),
                None => self.decompressor.as_mut().expect("gzip stream").end(),
            }
        }
    }
}

/// Inflated bytes dropped per step when a seek lands inside a gzip object.
const SCRATCH: usize = 16 * 1024;

/// The write side: the upload, and the flush or close in progress.
struct Writer {
    upload: Option<Upload>,
    flushing: Option<BoxFuture<(Upload, Result<()>)>>,
    closing: Option<BoxFuture<Result<u64>>>,
}

impl Writer {
    /// Waits for a flush in progress; gives the upload back.
    fn poll_flushed(&mut self, cx: &mut Context<'_>) -> Poll<Result<()>> {
        if let Some(f) = &mut self.flushing {
            let (upload, r) = ready!(f.as_mut().poll(cx));
            self.flushing = None;
            // A failed flush has aborted the upload; it refuses further writes.
            self.upload = Some(upload);
            r?;
        }
        Poll::Ready(Ok(()))
    }
}

enum State {
    Read(Box<Reader>),
    Write(Box<Writer>),
    Closed,
}

/// A stored object opened as a file.
///
/// Read mode is an [`AsyncRead`] + [`AsyncSeek`] stream: nothing is downloaded until read,
/// a seek starts a ranged GET from the new position, and objects stored with
/// `Content-Encoding: gzip` read decompressed (the original decompressed them only when its
/// `gzip` option was on). Every request is pinned to the ETag seen at open (`If-Match`), so a
/// file never mixes two versions of an object. Write mode is an [`AsyncWrite`] that uploads
/// parts as they fill; [`close`](S3File::close) (or `shutdown`) stores the object. A file
/// dropped before `close` stores nothing and leaves no multipart upload behind.
///
/// ```no_run
/// # async fn demo(storage: storages_s3::S3Storage) -> storages_s3::Result<()> {
/// use tokio::io::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt};
///
/// let mut f = storage.open("logs/today.txt", "w").await?;
/// f.write_all(b"line 1\nline 2\n").await?;
/// f.close().await?;
///
/// let mut f = storage.open("logs/today.txt", "rb").await?;
/// f.seek(std::io::SeekFrom::Start(7)).await?;
/// let mut rest = String::new();
/// f.read_to_string(&mut rest).await?;
/// assert_eq!(rest, "line 2\n");
/// # Ok(()) }
/// ```
pub struct S3File {
    name: String,
    key: String,
    mode: OpenMode,
    size: Option<u64>,
    state: State,
    max_memory_size: u64,
    temp_dir: Option<PathBuf>,
}

impl fmt::Debug for S3File {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("S3File")
            .field("name", &self.name)
            .field("key", &self.key)
            .field("mode", &self.mode)
            .field("size", &self.size)
            .finish_non_exhaustive()
    }
}

/// Where a file's local copy spills (see [`S3File::local_copy`]).
#[derive(Debug, Clone, Default)]
pub(crate) struct Spill {
    pub(crate) max_memory_size: u64,
    pub(crate) temp_dir: Option<PathBuf>,
}

impl S3File {
    pub(crate) fn reader(
        client: Client,
        name: String,
        key: String,
        head: ObjectHead,
        params: ObjectParameters,
        spill: Spill,
    ) -> S3File {
        let gzip = head
            .content_encoding
            .as_deref()
            .is_some_and(|e| e.trim().eq_ignore_ascii_case("gzip"));
        let reader = Reader {
            client,
            key: key.clone(),
            params,
            gzip,
            pos: 0,
            body: None,
            opening: None,
            pending: Bytes::new(),
            decompressor: None,
            skip: 0,
            scratch: Vec::new(),
            eof: false,
            head,
        };
        S3File {
            name,
            key,
            mode: OpenMode::Read,
            size: reader.head.content_length,
            state: State::Read(Box::new(reader)),
            max_memory_size: spill.max_memory_size,
            temp_dir: spill.temp_dir,
        }
    }

    pub(crate) fn writer(name: String, key: String, upload: Upload) -> S3File {
        let writer = Writer {
            upload: Some(upload),
            flushing: None,
            closing: None,
        };
        S3File {
            name,
            key,
            mode: OpenMode::Write,
            size: None,
            state: State::Write(Box::new(writer)),
            max_memory_size: 0,
            temp_dir: None,
        }
    }

    /// The name, relative to the storage's location.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The object key.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// The mode it was opened in.
    pub fn mode(&self) -> OpenMode {
        self.mode
    }

    /// The stored size (`Content-Length`) of a file opened for reading (`None` when the
    /// server did not state it); of a written file, once closed.
    pub fn size(&self) -> Option<u64> {
        self.size
    }

    /// The object's headers, for a file opened for reading.
    pub fn head(&self) -> Option<&ObjectHead> {
        match &self.state {
            State::Read(r) => Some(&r.head),
            _ => None,
        }
    }

    /// Whether reads are decompressed (the object is stored gzip-encoded).
    pub fn is_gzip(&self) -> bool {
        matches!(&self.state, State::Read(r) if r.gzip)
    }

    /// Whether the file is closed.
    pub fn is_closed(&self) -> bool {
        matches!(self.state, State::Closed)
    }

    /// Stores the written object (write mode), or releases the stream (read mode). Writing
    /// nothing stores an empty object, as opening a local file for writing truncates it.
    /// A failed close aborts the upload: nothing is stored and no part is left behind.
    pub async fn close(&mut self) -> Result<()> {
        std::future::poll_fn(|cx| self.poll_close(cx)).await
    }

    fn poll_close(&mut self, cx: &mut Context<'_>) -> Poll<Result<()>> {
        let State::Write(w) = &mut self.state else {
            self.state = State::Closed;
            return Poll::Ready(Ok(()));
        };
        if w.closing.is_none() {
            if let Err(e) = ready!(w.poll_flushed(cx)) {
                self.state = State::Closed;
                return Poll::Ready(Err(e));
            }
            let upload = w.upload.take().expect("the upload is there until closing");
            w.closing = Some(Box::pin(async move { upload.finish().await.map(|o| o.size) }));
        }
        let result = ready!(w.closing.as_mut().expect("closing").as_mut().poll(cx));
        self.state = State::Closed;
        Poll::Ready(result.map(|size| self.size = Some(size)))
    }

    /// Reads the rest of the object into a local copy that stays in memory up to the
    /// storage's `max_memory_size` and spills to a temporary file beyond it (in
    /// `file_upload_temp_dir`, else the system's); `max_memory_size = 0` keeps it all in
    /// memory, as in the original. The copy is positioned at its start. A copy of the
    /// whole object whose bytes do not match the checksum the server stored is made once
    /// more, and is an error of kind [`ChecksumMismatch`](ErrorKind::ChecksumMismatch) if
    /// it fails again: a corrupted copy is never returned.
    ///
    /// A copy of a whole object of at least `transfer_config`'s `multipart_threshold` is
    /// downloaded in pieces of `multipart_chunksize`, `max_concurrency` at once, as the
    /// original's `download_fileobj` does; every piece is pinned to the version the file
    /// was opened on. (A gzip-encoded object is read through its inflater, in one stream.)
    pub async fn local_copy(&mut self) -> Result<tempfile::SpooledTempFile> {
        let from_start = matches!(&self.state, State::Read(r) if r.pos == 0);
        if from_start && matches!(&self.state, State::Read(r) if !r.gzip) {
            return match self.copy_in_pieces().await {
                Err(e) if e.is_checksum_mismatch() => {
                    crate::trace::event!(warn, key = %self.key, error = %e, "copying again after a checksum mismatch");
                    self.copy_in_pieces().await
                }
                other => other,
            };
        }
        match self.spool().await {
            Err(e) if e.is_checksum_mismatch() && from_start => {
                crate::trace::event!(warn, key = %self.key, error = %e, "copying again after a checksum mismatch");
                if let State::Read(r) = &mut self.state {
                    r.reset();
                    r.pos = 0;
                }
                self.spool().await
            }
            other => other,
        }
    }

    /// The whole (plain) object into a new local copy, through the client's download: in
    /// pieces at once when it is large. The file's position moves to the end, as reading
    /// it would.
    async fn copy_in_pieces(&mut self) -> Result<tempfile::SpooledTempFile> {
        let State::Read(r) = &mut self.state else {
            return Err(Error::new(ErrorKind::Unsupported, "File was not opened in read mode."));
        };
        let mut copy = BlockingSink::new(spooled(self.max_memory_size, self.temp_dir.as_deref()));
        let options = crate::s3::DownloadOptions::default();
        let got = r
            .client
            .download_object(&r.key, &r.head, &r.params, &mut copy, &options)
            .await?;
        r.reset();
        r.pos = got.size;
        r.eof = true;
        rewound(copy).await
    }

    async fn spool(&mut self) -> Result<tempfile::SpooledTempFile> {
        use tokio::io::AsyncReadExt;
        let mut copy = BlockingSink::new(spooled(self.max_memory_size, self.temp_dir.as_deref()));
        let mut buf = vec![0u8; 256 * 1024];
        loop {
            let n = self.read(&mut buf).await?;
            if n == 0 {
                break;
            }
            copy.put(Bytes::copy_from_slice(&buf[..n]))
                .await
                .map_err(local_copy_error)?;
        }
        rewound(copy).await
    }
}

/// A new local copy: in memory up to `max_memory_size` (all of it for 0, as in the
/// original), then in a temporary file in `temp_dir` (else the system's).
fn spooled(max_memory_size: u64, temp_dir: Option<&std::path::Path>) -> tempfile::SpooledTempFile {
    let limit = match max_memory_size {
        0 => usize::MAX,
        n => usize::try_from(n).unwrap_or(usize::MAX),
    };
    match temp_dir {
        Some(dir) => tempfile::spooled_tempfile_in(limit, dir),
        None => tempfile::spooled_tempfile(limit),
    }
}

/// The copy, complete and at its start.
async fn rewound(copy: BlockingSink<tempfile::SpooledTempFile>) -> Result<tempfile::SpooledTempFile> {
    use std::io::Seek;
    copy.close_with(|c| c.rewind().map(drop))
        .await
        .map_err(local_copy_error)
}

fn local_copy_error(e: io::Error) -> Error {
    Error::new(ErrorKind::Io, "writing the local copy failed").with_source(e)
}

fn unsupported(message: &'static str) -> io::Error {
    io::Error::from(Error::new(ErrorKind::Unsupported, message))
}

impl AsyncRead for S3File {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let State::Read(r) = &mut self.state else {
            return Poll::Ready(Err(unsupported("File was not opened in read mode.")));
        };
        if buf.remaining() == 0 {
            return Poll::Ready(Ok(()));
        }
        let read = if r.gzip {
            r.poll_read_gzip(cx, buf)
        } else {
            r.poll_read_plain(cx, buf)
        };
        read.map_err(io::Error::from)
    }
}

impl AsyncSeek for S3File {
    fn start_seek(mut self: Pin<&mut Self>, position: io::SeekFrom) -> io::Result<()> {
        let State::Read(r) = &mut self.state else {
            return Err(unsupported("only files opened for reading can seek"));
        };
        let target = match position {
            io::SeekFrom::Start(n) => Some(n),
            io::SeekFrom::Current(d) => r.pos.checked_add_signed(d),
            // The decompressed length of a gzip object is not known without reading it all.
            io::SeekFrom::End(_) if r.gzip => {
                return Err(unsupported(
                    "seeking from the end of a gzip-encoded object is not possible",
                ));
            }
            io::SeekFrom::End(d) => match r.head.content_length {
                Some(len) => len.checked_add_signed(d),
                None => {
                    return Err(io::Error::from(Error::new(
                        ErrorKind::InvalidResponse,
                        "cannot seek from the end: the server did not state the object's size",
                    )));
                }
            },
        };
        let target = target.ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "seek before the start"))?;
        if target != r.pos {
            r.reset();
            r.pos = target;
        }
        Ok(())
    }

    fn poll_complete(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<u64>> {
        match &self.state {
            State::Read(r) => Poll::Ready(Ok(r.pos)),
            _ => Poll::Ready(Err(unsupported("only files opened for reading can seek"))),
        }
    }
}

impl AsyncWrite for S3File {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, data: &[u8]) -> Poll<io::Result<usize>> {
        let State::Write(w) = &mut self.state else {
            return Poll::Ready(Err(unsupported("File was not opened in write mode.")));
        };
        if w.closing.is_some() {
            return Poll::Ready(Err(unsupported("the file is being closed")));
        }
        ready!(w.poll_flushed(cx)).map_err(io::Error::from)?;
        let upload = w.upload.as_mut().expect("the upload is there while writing");
        let n = upload.buffer(data).map_err(io::Error::from)?;
        if upload.needs_flush() {
            let mut upload = w.upload.take().expect("present");
            w.flushing = Some(Box::pin(async move {
                let r = upload.flush().await;
                (upload, r)
            }));
        }
        if n == 0 && !data.is_empty() {
            // The buffer was full: this write waits for the flush just started.
            ready!(w.poll_flushed(cx)).map_err(io::Error::from)?;
            let upload = w.upload.as_mut().expect("present");
            return Poll::Ready(upload.buffer(data).map_err(io::Error::from));
        }
        Poll::Ready(Ok(n))
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match &mut self.state {
            State::Write(w) => w.poll_flushed(cx).map_err(io::Error::from),
            _ => Poll::Ready(Ok(())),
        }
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.poll_close(cx).map_err(io::Error::from)
    }
}
