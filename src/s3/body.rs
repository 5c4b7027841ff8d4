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
use crate::s3::ops::get_object::{ByteRange, Expect, Served};

type Reopen = Pin<Box<dyn Future<Output = Result<(Served, ResponseBody)>> + Send>>;

/// An object's bytes as they arrive. When the connection breaks or stalls, the rest is
/// requested again from the last byte received (`Range`), pinned to the same ETag
/// (`If-Match`) so that a concurrent overwrite is an error rather than mixed content.
///
/// Every reply is checked against what was asked before its bytes are handed on
/// (`check_reply`): a reply for another range, another
/// version or another size is an error, and a whole object sent for a range (a server or
/// proxy that ignores `Range`) is cut down to the range.
pub struct ObjectBody {
    client: Client,
    key: String,
    params: ObjectParameters,
    etag: Option<String>,
    /// The object's size.
    total: u64,
    /// Offset in the object of the next byte the caller gets.
    next: u64,
    /// Offset of the last byte the caller gets, `None` when it gets none.
    last: Option<u64>,
    /// Offset in the object of the next byte the current reply carries.
    at: u64,
    /// Offset of the last byte the current reply announced.
    reply_last: Option<u64>,
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
    pub(crate) fn new(
        client: Client,
        key: String,
        params: ObjectParameters,
        etag: Option<String>,
        served: Served,
        resumes: u32,
        body: ResponseBody,
    ) -> Self {
        ObjectBody {
            client,
            key,
            params,
            etag,
            total: served.total,
            next: served.first,
            last: served.last,
            at: served.reply_first,
            reply_last: served.reply_last,
            resumes_left: resumes,
            body: Some(body),
            reopen: None,
            done: served.last.is_none(),
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
            return Err(Error::new(
                ErrorKind::LimitExceeded,
                format!("object larger than {limit} bytes"),
            ));
        }
        let mut buf = BytesMut::with_capacity(self.remaining() as usize);
        while let Some(chunk) = self.chunk().await {
            let chunk = chunk?;
            if buf.len() + chunk.len() > limit {
                return Err(Error::new(
                    ErrorKind::LimitExceeded,
                    format!("object larger than {limit} bytes"),
                ));
            }
            buf.extend_from_slice(&chunk);
        }
        Ok(buf.freeze())
    }

    /// The part of a piece of the current reply that the caller asked for, if any.
    fn take(&mut self, chunk: Bytes) -> Result<Option<Bytes>> {
        let len = chunk.len() as u64;
        let beyond = match self.reply_last {
            Some(reply_last) => self.at + len > reply_last + 1,
            None => len > 0,
        };
        if beyond {
            return Err(Error::new(
                ErrorKind::InvalidResponse,
                "the server sent more bytes than its reply announced",
            ));
        }
        let Some(last) = self.last else { return Ok(None) };
        let from = self.next.saturating_sub(self.at).min(len);
        let to = (last + 1).saturating_sub(self.at).min(len);
        self.at += len;
        if from >= to {
            return Ok(None);
        }
        self.next += to - from;
        Ok(Some(chunk.slice(from as usize..to as usize)))
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
        let expect_range = ByteRange::Inclusive(self.next, last);
        let total = self.total;
        self.body = None;
        self.reopen = Some(Box::pin(async move {
            let expect = Expect {
                range: Some(expect_range),
                etag: etag.as_deref(),
                total: Some(total),
            };
            let reply = client.get_checked(&key, &params, &expect).await?;
            Ok((reply.served, reply.body))
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
                // A whole object sent for a range is left unread past the range.
                this.body = None;
                return Poll::Ready(None);
            }
            if let Some(reopen) = &mut this.reopen {
                match ready!(reopen.as_mut().poll(cx)) {
                    Ok((served, body)) => {
                        this.reopen = None;
                        this.at = served.reply_first;
                        this.reply_last = served.reply_last;
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
                Some(Ok(chunk)) => match this.take(chunk) {
                    Ok(Some(piece)) => {
                        // All asked for, and the reply goes on (a whole object sent for a
                        // range): stop here. A reply that ends with the range is read to
                        // its end, so that its connection goes back to the pool.
                        this.done = this.remaining() == 0 && this.reply_last.is_some_and(|l| this.at <= l);
                        return Poll::Ready(Some(Ok(piece)));
                    }
                    Ok(None) => continue,
                    Err(e) => {
                        this.done = true;
                        return Poll::Ready(Some(Err(e
                            .with_operation("GetObject")
                            .with_object(this.client.bucket(), Some(&this.key)))));
                    }
                },
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
