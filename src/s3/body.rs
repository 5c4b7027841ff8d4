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
use crate::s3::checksum::{Verification, Verifier};
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
    /// The object's size, when a reply stated it.
    total: Option<u64>,
    /// The size a reply of unstated length showed by ending: only what this read saw
    /// (never the size asked of a second read, which could fail its checksum).
    seen_total: Option<u64>,
    /// Offset in the object of the next byte the caller gets.
    next: u64,
    /// Offset just past the last byte the caller gets; `None`: the object's end, unknown.
    end: Option<u64>,
    /// Offset in the object of the next byte the current reply carries.
    at: u64,
    /// Offset just past the current reply's last byte, when its length is known.
    reply_end: Option<u64>,
    resumes_left: u32,
    body: Option<ResponseBody>,
    reopen: Option<Reopen>,
    done: bool,
    /// Checks the bytes of a whole read against the object's stored checksum.
    verifier: Option<Verifier>,
    /// What was (or will be) verified.
    verification: Verification,
}

impl fmt::Debug for ObjectBody {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ObjectBody")
            .field("key", &self.key)
            .field("next", &self.next)
            .field("end", &self.end)
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
        body: ResponseBody,
        verification: Verification,
    ) -> Self {
        let resumes = client.options().transfer.num_download_attempts.saturating_sub(1);
        let verifier = match &verification {
            Verification::Pending(stored) => Some(Verifier::new(stored.clone())),
            _ => None,
        };
        ObjectBody {
            verifier,
            verification,
            client,
            key,
            params,
            etag,
            total: served.total,
            seen_total: None,
            next: served.first,
            end: served.end,
            at: served.reply_first,
            reply_end: served.reply_end,
            resumes_left: resumes,
            body: Some(body),
            reopen: None,
            done: served.end.is_some_and(|end| end <= served.first),
        }
    }

    /// Bytes still expected; `None` when the server did not state the object's length (a
    /// chunked or close-delimited reply), which is then known at the end of the body.
    pub fn remaining(&self) -> Option<u64> {
        if self.done {
            return Some(0);
        }
        self.end.map(|end| end.saturating_sub(self.next))
    }

    /// The object's size: stated by the reply, or known once its body has ended.
    pub fn object_size(&self) -> Option<u64> {
        self.total.or(self.seen_total)
    }

    /// What is verified of the bytes: on a whole read, every byte is checked against the
    /// checksum the server stored for the object ([`Verification::Pending`] until the
    /// end, then [`Verification::Verified`]; a mismatch is an error of kind
    /// [`ChecksumMismatch`](crate::ErrorKind::ChecksumMismatch) in place of the end, after
    /// every byte was handed on: a caller that streams the body acts on the bytes only
    /// once the end has come). A range, a composite checksum or none at all leaves the
    /// bytes unverified, and says why.
    pub fn verification(&self) -> &Verification {
        &self.verification
    }

    /// The next piece, `None` at the end.
    pub async fn chunk(&mut self) -> Option<Result<Bytes>> {
        std::future::poll_fn(|cx| Pin::new(&mut *self).poll_next(cx)).await
    }

    /// The whole rest of the body, refusing more than `limit` bytes. A whole read whose
    /// bytes do not match the stored checksum is read once more (the bytes are held here,
    /// so none reached the caller), pinned to the same ETag, as a broken connection would
    /// be.
    pub async fn collect(mut self, limit: usize) -> Result<Bytes> {
        match self.collect_once(limit).await {
            Err(e) if e.is_checksum_mismatch() => {
                crate::trace::event!(warn, key = %self.key, error = %e, "reading again after a checksum mismatch");
                let Some(again) = self.reread() else {
                    return Err(e);
                };
                again.await?.collect_once(limit).await
            }
            other => other,
        }
    }

    /// A new whole read of the same object (the same ETag), when this one was whole.
    fn reread(&self) -> Option<impl Future<Output = Result<ObjectBody>> + Send + use<>> {
        let etag = self.etag.clone()?;
        let (client, key, params, total) = (self.client.clone(), self.key.clone(), self.params.clone(), self.total);
        client.note_resume();
        Some(async move {
            let expect = Expect {
                range: None,
                etag: Some(&etag),
                total,
            };
            Ok(client.get_object_expecting(&key, &params, &expect).await?.body)
        })
    }

    async fn collect_once(&mut self, limit: usize) -> Result<Bytes> {
        let expected = self.remaining();
        if expected.is_some_and(|n| n > limit as u64) {
            return Err(Error::new(
                ErrorKind::LimitExceeded,
                format!("object larger than {limit} bytes"),
            ));
        }
        // A length not stated grows the buffer as the bytes come.
        let mut buf = BytesMut::with_capacity(expected.unwrap_or(0) as usize);
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
        if self.reply_end.is_some_and(|end| self.at + len > end) {
            return Err(Error::new(
                ErrorKind::InvalidResponse,
                "the server sent more bytes than its reply announced",
            ));
        }
        let from = self.next.saturating_sub(self.at).min(len);
        let to = self.end.map_or(len, |end| end.saturating_sub(self.at).min(len));
        self.at += len;
        if from >= to {
            return Ok(None);
        }
        self.next += to - from;
        Ok(Some(chunk.slice(from as usize..to as usize)))
    }

    /// The current reply ended: at the object's end, or early.
    fn ended(&mut self) -> std::result::Result<(), Error> {
        match self.reply_end {
            Some(end) if self.at < end => Err(Error::new(
                ErrorKind::Transport,
                "the reply body ended before the object did",
            )),
            Some(_) => Ok(()),
            // A reply that did not state its length ends where the object does (a whole
            // object: `reply_end` is known for every ranged reply).
            None => {
                self.seen_total = Some(self.at);
                Ok(())
            }
        }
    }

    fn resume(&mut self, error: Error) -> std::result::Result<(), Error> {
        let resumable = matches!(error.kind(), ErrorKind::Transport | ErrorKind::Timeout);
        if !resumable || self.resumes_left == 0 || self.etag.is_none() {
            return Err(error);
        }
        // The rest can only be asked for when it is known where it ends.
        let Some(end) = self.end else {
            return Err(error.with_note(
                "not resumed: the server did not state the object's length, so the rest cannot be asked for",
            ));
        };
        if self.next >= end {
            // Everything asked for arrived before the connection broke.
            self.done = true;
            return Ok(());
        }
        self.resumes_left -= 1;
        self.client.note_resume();
        let client = self.client.clone();
        let key = self.key.clone();
        let params = self.params.clone();
        let etag = self.etag.clone();
        let expect_range = ByteRange::Inclusive(self.next, end - 1);
        let total = self.total;
        self.body = None;
        self.reopen = Some(Box::pin(async move {
            let expect = Expect {
                range: Some(expect_range),
                etag: etag.as_deref(),
                total,
            };
            let reply = client.get_checked(&key, &params, &expect).await?;
            Ok((reply.served, reply.body))
        }));
        Ok(())
    }
}

impl ObjectBody {
    /// Ends the body with an error: nothing after it, and nothing verified.
    fn fail(&mut self, e: Error) -> Poll<Option<Result<Bytes>>> {
        self.done = true;
        self.verifier = None;
        self.body = None;
        self.reopen = None;
        Poll::Ready(Some(Err(e
            .with_operation("GetObject")
            .with_object(self.client.bucket(), Some(&self.key)))))
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
                // The last word of a whole read is its checksum's.
                if let Some(verifier) = this.verifier.take() {
                    match verifier.finish() {
                        Ok(stored) => this.verification = Verification::Verified(stored),
                        Err(e) => return this.fail(e),
                    }
                }
                return Poll::Ready(None);
            }
            if let Some(reopen) = &mut this.reopen {
                match ready!(reopen.as_mut().poll(cx)) {
                    Ok((served, body)) => {
                        this.reopen = None;
                        this.at = served.reply_first;
                        this.reply_end = served.reply_end;
                        this.body = Some(body);
                    }
                    Err(e) => return this.fail(e),
                }
            }
            let Some(body) = &mut this.body else {
                this.done = true;
                continue;
            };
            let outcome = match ready!(Pin::new(body).poll_next(cx)) {
                Some(Ok(chunk)) => match this.take(chunk) {
                    Ok(Some(piece)) => {
                        if let Some(verifier) = &mut this.verifier {
                            verifier.update(&piece);
                        }
                        // All asked for, and the reply goes on (a whole object sent for a
                        // range): stop here. A reply that ends with the range is read to
                        // its end, so that its connection goes back to the pool.
                        this.done = this.remaining() == Some(0) && this.reply_end.is_none_or(|end| this.at < end);
                        return Poll::Ready(Some(Ok(piece)));
                    }
                    Ok(None) => continue,
                    Err(e) => return this.fail(e),
                },
                Some(Err(e)) => e,
                None => match this.ended() {
                    Ok(()) => {
                        // The end is reported above, after the checksum's word.
                        this.done = true;
                        continue;
                    }
                    Err(e) => e,
                },
            };
            if let Err(e) = this.resume(outcome) {
                return this.fail(e);
            }
        }
    }
}
