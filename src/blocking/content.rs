//! Content from a synchronous reader: read on a blocking thread, fed as a stream.

use std::io::{self, Read};
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use futures_core::Stream;
use tokio::sync::mpsc;

use crate::storage::Content;

/// Pieces of this size are read from the reader.
const CHUNK: usize = 256 * 1024;

/// Pieces read ahead of the upload: the reader is never more than this far ahead.
const READ_AHEAD: usize = 2;

impl Content {
    /// Anything [`std::io::Read`]able (a file, a pipe, a decoder), read once when saved (feature
    /// `blocking`). The reader runs on a blocking thread (the runtime's pool, else a thread of
    /// its own) a few pieces ahead of the upload; a read error fails the save with
    /// [`ErrorKind::Io`](crate::ErrorKind::Io). Works with the async storages too.
    ///
    /// ```no_run
    /// use storages_s3::Content;
    /// use storages_s3::blocking::S3Storage;
    ///
    /// # fn demo(storage: S3Storage) -> storages_s3::Result<()> {
    /// let stdin = std::io::stdin();
    /// storage.save("uploads/from-stdin.bin", Content::from_sync_reader(stdin), None)?;
    /// # Ok(()) }
    /// ```
    pub fn from_sync_reader(reader: impl Read + Send + 'static) -> Content {
        Content::from_stream(SyncReaderStream {
            reader: Some(Box::new(reader)),
            pieces: None,
            done: false,
        })
    }
}

/// The pieces of a synchronous reader, read on another thread once first polled. The
/// thread ends them with an empty piece, so that a thread that stops short (a reader that
/// panicked, a runtime shutting down) fails the upload instead of truncating it.
struct SyncReaderStream {
    reader: Option<Box<dyn Read + Send>>,
    pieces: Option<mpsc::Receiver<io::Result<Bytes>>>,
    done: bool,
}

impl Stream for SyncReaderStream {
    type Item = io::Result<Bytes>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        if let Some(reader) = this.reader.take() {
            let (tx, rx) = mpsc::channel(READ_AHEAD);
            let pump = move || pump(reader, tx);
            match tokio::runtime::Handle::try_current() {
                Ok(handle) => drop(handle.spawn_blocking(pump)),
                Err(_) => drop(std::thread::spawn(pump)),
            }
            this.pieces = Some(rx);
        }
        let Some(rx) = this.pieces.as_mut().filter(|_| !this.done) else {
            return Poll::Ready(None);
        };
        match std::task::ready!(rx.poll_recv(cx)) {
            Some(Ok(piece)) if piece.is_empty() => {
                this.done = true;
                Poll::Ready(None)
            }
            Some(Err(e)) => {
                this.done = true;
                Poll::Ready(Some(Err(e)))
            }
            Some(piece) => Poll::Ready(Some(piece)),
            None => {
                this.done = true;
                Poll::Ready(Some(Err(io::Error::other(
                    "the thread reading the content stopped before the end",
                ))))
            }
        }
    }
}

/// Reads `reader` to its end (sent as an empty piece) or its first error into `tx`; stops
/// early when the stream is dropped (the upload failed or was abandoned).
fn pump(mut reader: Box<dyn Read + Send>, tx: mpsc::Sender<io::Result<Bytes>>) {
    let mut buf = vec![0u8; CHUNK];
    loop {
        let piece = match reader.read(&mut buf) {
            Ok(0) => {
                let _ = tx.blocking_send(Ok(Bytes::new()));
                return;
            }
            Ok(n) => Ok(Bytes::copy_from_slice(&buf[..n])),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => Err(e),
        };
        let failed = piece.is_err();
        if tx.blocking_send(piece).is_err() || failed {
            return;
        }
    }
}
