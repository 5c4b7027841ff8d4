//! The body of a GetObject reply: a stream that resumes with a ranged request when the
//! connection breaks midway.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use bytes::{Bytes, BytesMut};
use futures_core::Stream;

use crate::config::ObjectParameters;
use crate::error::{Error, ErrorKind, Result};
use crate::http::ResponseBody;
use crate::s3::Client;
use crate::s3::ops::get_object::ByteRange;

type Reopen = Pin<Box<dyn Future<Output = Result<ResponseBody>> + Send>>;

/// An object's bytes as they arrive. When the connection breaks or stalls, the rest is
/// requested again from the last byte received (`Range`), pinned to the same ETag
/// (`If-Match`) so that a concurrent overwrite is an error rather than mixed content.
pub struct ObjectBody {
    client: Client,
    key: String,
    params: ObjectParameters,
    etag: Option<String>,
    /// Offset in the object of the next byte expected.
    next: u64,
    /// Offset of the last byte expected, `None` for an empty object.
    last: Option<u64>,
    resumes_left: u32,
    body: Option<ResponseBody>,
    reopen: Option<Reopen>,
    done: bool,
}

impl fmt::Debug for ObjectBody {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ObjectBody")
            .field("key", &self.key)
            .field("next", &self.next)
            .field("last", &self.last)
            .finish_non_exhaustive()
    }
}

impl ObjectBody {
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        client: Client,
        key: String,
        params: ObjectParameters,
        etag: Option<String>,
        first: u64,
        last: Option<u64>,
        resumes: u32,
        body: ResponseBody,
    ) -> Self {
        ObjectBody {
            client,
            key,
            params,
            etag,
            next: first,
            last,
            resumes_left: resumes,
            body: Some(body),
            reopen: None,
            done: false,
        }
    }

    /// Bytes still expected.
    pub fn remaining(&self) -> u64 {
        match self.last {
            Some(last) if !self.done => (last + 1).saturating_sub(self.next),
            _ => 0,
        }
    }

    /// The next piece, `None` at the end.
    pub async fn chunk(&mut self) -> Option<Result<Bytes>> {
        std::future::poll_fn(|cx| Pin::new(&mut *self).poll_next(cx)).await
    }

    /// The whole rest of the body, refusing more than `limit` bytes.
    pub async fn collect(mut self, limit: usize) -> Result<Bytes> {
        if self.remaining() > limit as u64 {
            return Err(Error::new(ErrorKind::Io, format!("object larger than {limit} bytes")));
        }
        let mut buf = BytesMut::with_capacity(self.remaining() as usize);
        while let Some(chunk) = self.chunk().await {
            let chunk = chunk?;
            if buf.len() + chunk.len() > limit {
                return Err(Error::new(ErrorKind::Io, format!("object larger than {limit} bytes")));
            }
            buf.extend_from_slice(&chunk);
        }
        Ok(buf.freeze())
    }

    fn resume(&mut self, error: Error) -> std::result::Result<(), Error> {
        let resumable = matches!(error.kind(), ErrorKind::Transport | ErrorKind::Timeout);
        let Some(last) = self.last else { return Err(error) };
        if !resumable || self.resumes_left == 0 || self.etag.is_none() {
            return Err(error);
        }
        self.resumes_left -= 1;
        self.client.note_resume();
        let client = self.client.clone();
        let key = self.key.clone();
        let params = self.params.clone();
        let etag = self.etag.clone();
        let range = ByteRange::Inclusive(self.next, last);
        self.body = None;
        self.reopen = Some(Box::pin(async move {
            let resp = client.get_raw(&key, Some(range), &params, etag.as_deref()).await?;
            Ok(resp.into_body())
        }));
        Ok(())
    }
}

impl Stream for ObjectBody {
    type Item = Result<Bytes>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Bytes>>> {
        let this = &mut *self;
        loop {
            if this.done {
                return Poll::Ready(None);
            }
            if let Some(reopen) = &mut this.reopen {
                match ready!(reopen.as_mut().poll(cx)) {
                    Ok(body) => {
                        this.reopen = None;
                        this.body = Some(body);
                    }
                    Err(e) => {
                        this.reopen = None;
                        this.done = true;
                        return Poll::Ready(Some(Err(e.with_operation("GetObject"))));
                    }
                }
            }
            let Some(body) = &mut this.body else {
                this.done = true;
                return Poll::Ready(None);
            };
            let outcome = match ready!(Pin::new(body).poll_next(cx)) {
                Some(Ok(chunk)) => {
                    let expected = this.remaining();
                    if chunk.len() as u64 > expected && this.last.is_some() {
                        this.done = true;
                        return Poll::Ready(Some(Err(Error::new(
                            ErrorKind::InvalidResponse,
                            "the server sent more bytes than the object has",
                        ))));
                    }
                    this.next += chunk.len() as u64;
                    return Poll::Ready(Some(Ok(chunk)));
                }
                Some(Err(e)) => e,
                None if this.remaining() == 0 => {
                    this.done = true;
                    return Poll::Ready(None);
                }
                None => Error::new(ErrorKind::Transport, "the reply body ended before the object did"),
            };
            if let Err(e) = this.resume(outcome) {
                this.done = true;
                return Poll::Ready(Some(Err(e
                    .with_operation("GetObject")
                    .with_object(this.client.bucket(), Some(&this.key)))));
            }
        }
    }
}
