//! Request and response bodies.
//!
//! A request body is either bytes in memory (replayable, so a failed attempt can be retried
//! with the same body) or a stream (sent once, never retried). A response body streams from
//! the connection, and a read fails once nothing has moved on the connection for the read
//! timeout.

use std::fmt;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll, ready};

use bytes::Bytes;
use futures_core::Stream;
use http_body::{Frame, SizeHint};

use super::idle::IdleTimer;
use crate::error::{BoxError, Error, ErrorKind, Result};

/// A stream of bytes a caller uploads.
pub type ByteStream = Pin<Box<dyn Stream<Item = std::result::Result<Bytes, BoxError>> + Send + 'static>>;

/// The body of a request: bytes in memory (from `Bytes`, `Vec<u8>`, `String` or `&'static
/// str`), sent again on retry, or a stream of a stated length ([`Body::stream`]), sent once.
///
/// ```
/// use storages_s3::http::Body;
///
/// assert_eq!(Body::from("Hello").len(), 5);
/// assert!(Body::empty().is_empty());
/// ```
pub struct Body(pub(crate) Repr);

/// What a body holds; private, so that a stream's count of bytes sent starts at zero.
pub(crate) enum Repr {
    /// No body.
    Empty,
    /// Bytes in memory: can be sent again on retry.
    Bytes(Bytes),
    /// A stream of `len` bytes, sent once: a request with a stream body is never retried.
    Stream {
        /// The data.
        stream: ByteStream,
        /// Its exact length (S3 needs `Content-Length`).
        len: u64,
        /// Bytes sent so far, to refuse a stream that lies about its length.
        sent: u64,
    },
}

impl fmt::Debug for Body {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Body(Repr::Empty) => f.write_str("Body::Empty"),
            Body(Repr::Bytes(b)) => write!(f, "Body::Bytes({} bytes)", b.len()),
            Body(Repr::Stream { len, .. }) => write!(f, "Body::Stream({len} bytes)"),
        }
    }
}

impl Default for Body {
    fn default() -> Self {
        Body::empty()
    }
}

impl Body {
    /// No body.
    pub fn empty() -> Body {
        Body(Repr::Empty)
    }

    /// A stream body of exactly `len` bytes: a request with a stream body is never retried,
    /// and a stream that yields more or fewer bytes than `len` fails the request.
    pub fn stream(stream: ByteStream, len: u64) -> Body {
        Body(Repr::Stream { stream, len, sent: 0 })
    }

    /// A copy for another attempt, when the body is replayable.
    pub fn try_clone(&self) -> Option<Body> {
        match self {
            Body(Repr::Empty) => Some(Body(Repr::Empty)),
            Body(Repr::Bytes(b)) => Some(Body(Repr::Bytes(b.clone()))),
            Body(Repr::Stream { .. }) => None,
        }
    }

    /// Length in bytes.
    pub fn len(&self) -> u64 {
        match self {
            Body(Repr::Empty) => 0,
            Body(Repr::Bytes(b)) => b.len() as u64,
            Body(Repr::Stream { len, .. }) => *len,
        }
    }

    /// Whether the body is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The bytes, when the body is in memory.
    pub fn as_bytes(&self) -> Option<&[u8]> {
        match self {
            Body(Repr::Empty) => Some(&[]),
            Body(Repr::Bytes(b)) => Some(b),
            Body(Repr::Stream { .. }) => None,
        }
    }
}

impl From<Bytes> for Body {
    fn from(b: Bytes) -> Self {
        if b.is_empty() {
            Body(Repr::Empty)
        } else {
            Body(Repr::Bytes(b))
        }
    }
}

impl From<Vec<u8>> for Body {
    fn from(v: Vec<u8>) -> Self {
        Body::from(Bytes::from(v))
    }
}

impl From<String> for Body {
    fn from(s: String) -> Self {
        Body::from(Bytes::from(s))
    }
}

impl From<&'static str> for Body {
    fn from(s: &'static str) -> Self {
        Body::from(Bytes::from_static(s.as_bytes()))
    }
}

/// A request body as hyper sends it. Its progress is measured at the connection (each
/// byte written), not per frame: a part held in memory is one frame. `handed_over` is set
/// once hyper has taken the whole body.
pub(crate) struct SendBody {
    body: Body,
    handed_over: Arc<AtomicBool>,
}

impl SendBody {
    pub(crate) fn new(body: Body, handed_over: Arc<AtomicBool>) -> Self {
        if body.is_empty() {
            handed_over.store(true, Ordering::Relaxed);
        }
        SendBody { body, handed_over }
    }
}

impl http_body::Body for SendBody {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<std::result::Result<Frame<Bytes>, BoxError>>> {
        let this = &mut *self;
        match &mut this.body {
            Body(Repr::Empty) => {
                this.handed_over.store(true, Ordering::Relaxed);
                Poll::Ready(None)
            }
            Body(Repr::Bytes(b)) => {
                let data = std::mem::take(b);
                this.body = Body(Repr::Empty);
                this.handed_over.store(true, Ordering::Relaxed);
                Poll::Ready(Some(Ok(Frame::data(data))))
            }
            Body(Repr::Stream { stream, len, sent }) => match ready!(stream.as_mut().poll_next(cx)) {
                Some(Ok(chunk)) => {
                    *sent += chunk.len() as u64;
                    if *sent > *len {
                        return Poll::Ready(Some(Err("upload stream is longer than its declared length".into())));
                    }
                    Poll::Ready(Some(Ok(Frame::data(chunk))))
                }
                Some(Err(e)) => Poll::Ready(Some(Err(e))),
                None if *sent < *len => Poll::Ready(Some(Err("upload stream ended before its declared length".into()))),
                None => {
                    this.handed_over.store(true, Ordering::Relaxed);
                    Poll::Ready(None)
                }
            },
        }
    }

    fn is_end_stream(&self) -> bool {
        matches!(self.body, Body(Repr::Empty))
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.body.len())
    }
}

/// The body of a reply, streamed from the connection. Reading fails when no byte has
/// moved on the connection for the read timeout while the reader waits.
pub struct ResponseBody {
    incoming: hyper::body::Incoming,
    idle: IdleTimer,
    done: bool,
}

impl fmt::Debug for ResponseBody {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResponseBody")
            .field("done", &self.done)
            .finish_non_exhaustive()
    }
}

impl ResponseBody {
    pub(crate) fn new(incoming: hyper::body::Incoming, idle: IdleTimer) -> Self {
        ResponseBody {
            incoming,
            idle,
            done: false,
        }
    }

    /// The next piece of the body, `None` at its end.
    pub async fn chunk(&mut self) -> Option<Result<Bytes>> {
        std::future::poll_fn(|cx| Pin::new(&mut *self).poll_next(cx)).await
    }

    /// The whole body, refusing more than `limit` bytes.
    pub async fn collect(mut self, limit: usize) -> Result<Bytes> {
        // A reply in one piece is returned without copying.
        let mut first: Option<Bytes> = None;
        let mut buf = bytes::BytesMut::new();
        let mut total = 0usize;
        while let Some(chunk) = self.chunk().await {
            let chunk = chunk?;
            total += chunk.len();
            if total > limit {
                return Err(Error::new(
                    ErrorKind::InvalidResponse,
                    format!("reply body larger than {limit} bytes"),
                ));
            }
            if first.is_none() && buf.is_empty() {
                first = Some(chunk);
                continue;
            }
            if let Some(f) = first.take() {
                buf.extend_from_slice(&f);
            }
            buf.extend_from_slice(&chunk);
        }
        Ok(first.unwrap_or_else(|| buf.freeze()))
    }

    /// Reads and drops the rest of the body so that the connection can be reused.
    pub async fn drain(mut self, limit: usize) {
        let mut seen = 0usize;
        while let Some(Ok(chunk)) = self.chunk().await {
            seen += chunk.len();
            if seen > limit {
                break;
            }
        }
    }
}

impl Stream for ResponseBody {
    type Item = Result<Bytes>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        if this.done {
            return Poll::Ready(None);
        }
        loop {
            match Pin::new(&mut this.incoming).poll_frame(cx) {
                Poll::Ready(Some(Ok(frame))) => {
                    this.idle.progressed();
                    if let Ok(data) = frame.into_data()
                        && !data.is_empty()
                    {
                        return Poll::Ready(Some(Ok(data)));
                    }
                    // Trailers and empty frames: keep reading.
                }
                Poll::Ready(Some(Err(e))) => {
                    this.done = true;
                    return Poll::Ready(Some(Err(Error::new(
                        ErrorKind::Transport,
                        "connection broke while reading the reply body",
                    )
                    .with_source(e))));
                }
                Poll::Ready(None) => {
                    this.done = true;
                    return Poll::Ready(None);
                }
                Poll::Pending => {
                    ready!(this.idle.poll_idle(cx));
                    let timeout = this.idle.timeout();
                    this.done = true;
                    return Poll::Ready(Some(Err(Error::new(
                        ErrorKind::Timeout,
                        format!("no data from the server for {timeout:?} while reading the reply body"),
                    ))));
                }
            }
        }
    }
}

use http_body::Body as _;
