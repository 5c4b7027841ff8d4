//! What `save` stores: bytes, a file, a reader or a stream, with an optional name and
//! content type (Django's `File` / `UploadedFile`).

use std::fmt;
use std::path::PathBuf;
use std::pin::Pin;

use bytes::Bytes;
use futures_core::Stream;
use tokio::io::{AsyncRead, AsyncReadExt};

use crate::error::{BoxError, Error, ErrorKind, Result};
use crate::http::ByteStream;

/// Pieces of this size are read from files and readers.
const CHUNK: usize = 256 * 1024;

enum Source {
    Bytes(Bytes),
    Path(PathBuf),
    Reader(Pin<Box<dyn AsyncRead + Send>>),
    Stream(ByteStream),
    /// A reader or stream already read: it cannot be read again.
    Consumed,
}

/// Content to save.
///
/// ```
/// use storages_s3::Content;
///
/// let upload = Content::from("name,age\nana,31\n").with_name("people.csv").with_content_type("text/csv");
/// assert_eq!(upload.name(), Some("people.csv"));
/// assert_eq!(upload.len(), Some(16));
/// ```
pub struct Content {
    source: Source,
    name: Option<String>,
    content_type: Option<String>,
    len: Option<u64>,
}

impl fmt::Debug for Content {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match &self.source {
            Source::Bytes(_) => "bytes",
            Source::Path(_) => "file",
            Source::Reader(_) => "reader",
            Source::Stream(_) => "stream",
            Source::Consumed => "consumed",
        };
        f.debug_struct("Content")
            .field("source", &kind)
            .field("name", &self.name)
            .field("content_type", &self.content_type)
            .field("len", &self.len)
            .finish()
    }
}

impl Content {
    fn new(source: Source, len: Option<u64>) -> Self {
        Content {
            source,
            name: None,
            content_type: None,
            len,
        }
    }

    /// Bytes in memory.
    pub fn from_bytes(bytes: impl Into<Bytes>) -> Self {
        let b: Bytes = bytes.into();
        let len = b.len() as u64;
        Content::new(Source::Bytes(b), Some(len))
    }

    /// A local file, read when saved (and read again should the upload need it). Its file
    /// name is the content's name unless another is given. Nothing is read here, not even
    /// the size (this may run on an async runtime's thread): the size is the file's when it
    /// is opened for the upload, unless [`with_len`](Content::with_len) gives it.
    pub fn from_path(path: impl Into<PathBuf>) -> Self {
        let path = path.into();
        let name = path.file_name().and_then(|n| n.to_str()).map(str::to_owned);
        Content {
            name,
            ..Content::new(Source::Path(path), None)
        }
    }

    /// Anything readable, read once.
    pub fn from_reader(reader: impl AsyncRead + Send + 'static) -> Self {
        Content::new(Source::Reader(Box::pin(reader)), None)
    }

    /// A stream of bytes, read once.
    pub fn from_stream<S, E>(stream: S) -> Self
    where
        S: Stream<Item = std::result::Result<Bytes, E>> + Send + 'static,
        E: Into<BoxError>,
    {
        struct MapErr<S>(Pin<Box<S>>);
        impl<S, E> Stream for MapErr<S>
        where
            S: Stream<Item = std::result::Result<Bytes, E>>,
            E: Into<BoxError>,
        {
            type Item = std::result::Result<Bytes, BoxError>;
            fn poll_next(
                mut self: Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
            ) -> std::task::Poll<Option<Self::Item>> {
                self.0.as_mut().poll_next(cx).map(|o| o.map(|r| r.map_err(Into::into)))
            }
        }
        Content::new(Source::Stream(Box::pin(MapErr(Box::pin(stream)))), None)
    }

    /// The name to save under when `save` is given none (Django's `content.name`).
    pub fn with_name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// The content type declared for the content (a browser's upload type), which wins
    /// over the guess from the name.
    pub fn with_content_type(mut self, content_type: impl Into<String>) -> Self {
        self.content_type = Some(content_type.into());
        self
    }

    /// The length, when known before reading.
    pub fn with_len(mut self, len: u64) -> Self {
        self.len = Some(len);
        self
    }

    /// The content's own name.
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// The declared content type.
    pub fn content_type(&self) -> Option<&str> {
        self.content_type.as_deref()
    }

    /// The length, when known.
    pub fn len(&self) -> Option<u64> {
        self.len
    }

    /// Whether the content is known to be empty.
    pub fn is_empty(&self) -> bool {
        self.len == Some(0)
    }

    /// Whether the content can be read again from its start (bytes and files).
    pub fn is_replayable(&self) -> bool {
        matches!(self.source, Source::Bytes(_) | Source::Path(_))
    }

    /// A reader over the content from its start. Replayable content can be opened again.
    pub(crate) async fn open(&mut self) -> Result<ContentReader> {
        let source = match &mut self.source {
            Source::Bytes(b) => ReaderSource::Bytes(b.clone()),
            Source::Path(p) => {
                let file = tokio::fs::File::open(&*p)
                    .await
                    .map_err(|e| Error::new(ErrorKind::Io, format!("cannot open {}", p.display())).with_source(e))?;
                if self.len.is_none() {
                    // The size of what is about to be read (tokio stats on its blocking pool);
                    // a pipe or device has none.
                    self.len = file.metadata().await.ok().filter(|m| m.is_file()).map(|m| m.len());
                }
                ReaderSource::Reader(Box::pin(file))
            }
            Source::Reader(_) | Source::Stream(_) => match std::mem::replace(&mut self.source, Source::Consumed) {
                Source::Reader(r) => ReaderSource::Reader(r),
                Source::Stream(s) => ReaderSource::Stream(s),
                _ => unreachable!("matched above"),
            },
            Source::Consumed => {
                return Err(Error::new(
                    ErrorKind::Io,
                    "the content was a reader or stream, already read",
                ));
            }
        };
        Ok(ContentReader {
            source,
            buf: vec![0; 0],
        })
    }
}

impl From<Bytes> for Content {
    fn from(b: Bytes) -> Self {
        Content::from_bytes(b)
    }
}

impl From<Vec<u8>> for Content {
    fn from(v: Vec<u8>) -> Self {
        Content::from_bytes(v)
    }
}

impl From<String> for Content {
    fn from(s: String) -> Self {
        Content::from_bytes(s)
    }
}

impl From<&'static str> for Content {
    fn from(s: &'static str) -> Self {
        Content::from_bytes(Bytes::from_static(s.as_bytes()))
    }
}

impl From<&'static [u8]> for Content {
    fn from(s: &'static [u8]) -> Self {
        Content::from_bytes(Bytes::from_static(s))
    }
}

enum ReaderSource {
    Bytes(Bytes),
    Reader(Pin<Box<dyn AsyncRead + Send>>),
    Stream(ByteStream),
}

/// Reads content piece by piece.
pub(crate) struct ContentReader {
    source: ReaderSource,
    buf: Vec<u8>,
}

impl ContentReader {
    /// The next piece, `None` at the end. Errors of the caller's reader or stream are
    /// [`ErrorKind::Io`].
    pub(crate) async fn next(&mut self) -> Result<Option<Bytes>> {
        match &mut self.source {
            ReaderSource::Bytes(b) => {
                if b.is_empty() {
                    return Ok(None);
                }
                let n = b.len().min(4 * CHUNK);
                Ok(Some(b.split_to(n)))
            }
            ReaderSource::Reader(r) => {
                if self.buf.len() != CHUNK {
                    self.buf = vec![0; CHUNK];
                }
                let n = r
                    .read(&mut self.buf)
                    .await
                    .map_err(|e| Error::new(ErrorKind::Io, "reading the content failed").with_source(e))?;
                Ok((n > 0).then(|| Bytes::copy_from_slice(&self.buf[..n])))
            }
            ReaderSource::Stream(s) => match std::future::poll_fn(|cx| s.as_mut().poll_next(cx)).await {
                Some(Ok(b)) => Ok(Some(b)),
                Some(Err(e)) => Err(Error::new(ErrorKind::Io, "reading the content stream failed").with_source(e)),
                None => Ok(None),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn read_all(c: &mut Content) -> Result<Vec<u8>> {
        let mut r = c.open().await?;
        let mut out = Vec::new();
        while let Some(b) = r.next().await? {
            out.extend_from_slice(&b);
        }
        Ok(out)
    }

    #[tokio::test]
    async fn bytes_and_files_replay_readers_and_streams_do_not() {
        let mut bytes = Content::from("again");
        assert!(bytes.is_replayable());
        assert_eq!(read_all(&mut bytes).await.unwrap(), b"again");
        assert_eq!(read_all(&mut bytes).await.unwrap(), b"again");

        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.txt");
        std::fs::write(&path, vec![b'x'; 600_000]).unwrap();
        let mut file = Content::from_path(&path);
        // The size is the file's when it is opened, not when the content was made.
        assert_eq!((file.name(), file.len()), (Some("c.txt"), None));
        assert_eq!(read_all(&mut file).await.unwrap().len(), 600_000);
        assert_eq!(file.len(), Some(600_000));
        assert_eq!(read_all(&mut file).await.unwrap().len(), 600_000);

        let mut reader = Content::from_reader(&b"once"[..]);
        assert!(!reader.is_replayable());
        assert_eq!(read_all(&mut reader).await.unwrap(), b"once");
        assert!(!reader.is_replayable(), "a read reader stays not replayable");
        assert!(read_all(&mut reader).await.is_err());

        let stream = futures_stream(vec![
            Ok::<_, std::io::Error>(Bytes::from_static(b"a")),
            Err(std::io::Error::other("boom")),
        ]);
        let mut failing = Content::from_stream(stream);
        assert_eq!(read_all(&mut failing).await.unwrap_err().kind(), ErrorKind::Io);
    }

    fn futures_stream<T: Unpin + Send + 'static>(items: Vec<T>) -> impl Stream<Item = T> + Send + 'static {
        struct Iter<T>(std::vec::IntoIter<T>);
        impl<T: Unpin> Stream for Iter<T> {
            type Item = T;
            fn poll_next(mut self: Pin<&mut Self>, _: &mut std::task::Context<'_>) -> std::task::Poll<Option<T>> {
                std::task::Poll::Ready(self.0.next())
            }
        }
        Iter(items.into_iter())
    }
}
