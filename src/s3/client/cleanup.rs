//! Cleanup that must happen: aborting multipart uploads that will never complete. Aborts
//! have a retry budget of their own (more attempts, backoff over tens of seconds, a quota
//! an outage has not spent), and an abort that still fails is never dropped: the upload
//! is kept where the caller sees it ([`Client::unaborted_uploads`]), with a warning event.

use super::*;

/// Aborts: eight attempts, backoff from a quarter second doubling to eight, within a
/// minute (about 12 s of waiting on average when every attempt fails).
const CLEANUP: RetryPolicy = RetryPolicy {
    max_attempts: 8,
    base_delay: Duration::from_millis(250),
    max_backoff: Duration::from_secs(8),
    deadline: Some(Duration::from_secs(60)),
};

/// A multipart upload that should have been aborted and may still be open, holding its
/// parts' storage: list and abort it later (`storages-s3 uploads --abort`), or let a
/// lifecycle rule remove it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct UnabortedUpload {
    /// The key the upload was for.
    pub key: String,
    /// The upload id; `None` for an upload that a CreateMultipartUpload whose reply was
    /// lost may have started, which could not be looked for.
    pub upload_id: Option<String>,
    /// Why it is still there.
    pub error: String,
}

impl Client {
    /// CreateMultipartUpload: the new upload's id.
    ///
    /// A request whose reply is lost may still have created an upload that nobody knows
    /// the id of: after a call that took several attempts, or failed after reaching the
    /// server, the uploads of this key started meanwhile (other than the one returned) are
    /// looked for and aborted.
    pub async fn create_multipart_upload(&self, key: &str, params: &ObjectParameters) -> Result<String> {
        let op = self.context(
            ops::create_multipart_upload::request(key, params, self.upload_checksum(params)),
            "CreateMultipartUpload",
            Some(key),
        )?;
        let attempts = AtomicU32::new(0);
        let started = SystemTime::now();
        let created = self.send_for_body_counted(op, &attempts).await.and_then(|(_, body)| {
            self.context(
                ops::create_multipart_upload::parse(&body),
                "CreateMultipartUpload",
                Some(key),
            )
        });
        match &created {
            Ok(upload_id) if attempts.load(Ordering::Relaxed) > 1 => {
                self.abort_lost_uploads(key, Some(upload_id), started).await;
            }
            Err(e) if may_have_reached_the_server(e) => {
                self.abort_lost_uploads(key, None, started).await;
            }
            _ => {}
        }
        created
    }

    /// Aborts the uploads of exactly this key that the service started while the
    /// attempts ran (its clock, give or take two seconds), except `kept`. A listing that
    /// fails leaves an [`UnabortedUpload`] without an id. A service that reports no real
    /// start times (moto's are a fixed date) keeps them until its lifecycle rules remove
    /// them. Another writer's upload of the same key started in that same window would be
    /// aborted too; such a writer races this one for the key anyway, and gets a typed
    /// `NoSuchUpload` error rather than mixed content.
    async fn abort_lost_uploads(&self, key: &str, kept: Option<&str>, started: SystemTime) {
        let skew = Duration::from_millis(self.inner.skew_ms.load(Ordering::Relaxed).unsigned_abs());
        let slack = Duration::from_secs(2) + skew;
        let from = started.checked_sub(slack).unwrap_or(SystemTime::UNIX_EPOCH);
        let to = SystemTime::now() + slack;
        let listed = retry::run(&CLEANUP, &self.inner.cleanup_quota, |_| async {
            match self.list_multipart_uploads(Some(key)).collect_all().await {
                // Transient failures only: a service without the listing (501) stays so.
                Err(e)
                    if matches!(e.kind(), ErrorKind::Transport | ErrorKind::Timeout)
                        || matches!(e.status(), Some(429 | 500 | 502 | 503 | 504)) =>
                {
                    Attempt::Retry {
                        error: e,
                        delay: None,
                        timeout: false,
                    }
                }
                done => Attempt::Done(done),
            }
        })
        .await;
        let uploads = match listed {
            Ok(uploads) => uploads,
            Err(e) => {
                self.keep_unaborted(key, None, &e);
                return;
            }
        };
        for upload in uploads {
            let in_window = upload.initiated.is_some_and(|t| t >= from && t <= to);
            if upload.key == key && Some(upload.upload_id.as_str()) != kept && in_window {
                self.abort_or_keep(key, &upload.upload_id).await;
            }
        }
    }

    /// AbortMultipartUpload, on cleanup's own retry budget. An upload already gone
    /// (an earlier attempt aborted it, and its reply was lost) is aborted.
    pub async fn abort_multipart_upload(&self, key: &str, upload_id: &str) -> Result<()> {
        let op = self.context(
            ops::abort_multipart_upload::request(key, upload_id),
            "AbortMultipartUpload",
            Some(key),
        )?;
        let attempts = AtomicU32::new(0);
        let result = self
            .send_within(op, &attempts, &CLEANUP, &self.inner.cleanup_quota, |resp| async move {
                resp.into_body().drain(1024).await;
                Ok(())
            })
            .await;
        match result {
            Err(e) if e.is_not_found() && attempts.load(Ordering::Relaxed) > 1 => Ok(()),
            other => other,
        }
    }

    /// Aborts an upload the crate gives up on; if even that fails, and the upload is
    /// still listed (an abort whose reply was lost is answered `NoSuchUpload` next time,
    /// or `AccessDenied` by some services), keeps it where the caller sees it.
    pub(crate) async fn abort_or_keep(&self, key: &str, upload_id: &str) {
        let Err(e) = self.abort_multipart_upload(key, upload_id).await else {
            return;
        };
        let listed = self.list_multipart_uploads(Some(key)).collect_all().await;
        if let Ok(uploads) = listed
            && !uploads.iter().any(|u| u.upload_id == upload_id)
        {
            crate::trace::event!(debug, key = key, upload_id = upload_id, error = %e, "the upload was gone already");
            return;
        }
        self.keep_unaborted(key, Some(upload_id), &e);
    }

    fn keep_unaborted(&self, key: &str, upload_id: Option<&str>, error: &Error) {
        crate::trace::event!(
            warn,
            key = key,
            upload_id = upload_id.unwrap_or("unknown"),
            error = %error,
            "a multipart upload could not be aborted and may hold storage until a lifecycle rule removes it"
        );
        let mut kept = self.inner.unaborted.lock().unwrap_or_else(|p| p.into_inner());
        kept.push(UnabortedUpload {
            key: key.to_owned(),
            upload_id: upload_id.map(str::to_owned),
            error: error.to_string(),
        });
    }

    /// Multipart uploads this client (and its clones) gave up on and could not abort, even
    /// on the budget aborts have of their own: they may still hold storage. A program
    /// reports them, or aborts them later (`storages-s3 uploads --abort`).
    ///
    /// ```no_run
    /// # async fn demo(client: storages_s3::s3::Client) {
    /// for upload in client.unaborted_uploads() {
    ///     eprintln!("left open: {} ({:?}): {}", upload.key, upload.upload_id, upload.error);
    /// }
    /// # }
    /// ```
    pub fn unaborted_uploads(&self) -> Vec<UnabortedUpload> {
        self.inner.unaborted.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

/// Whether a failed request may have been carried out by the server all the same: any
/// failure but an error reply that refused it (4xx), or a connection never made.
fn may_have_reached_the_server(e: &Error) -> bool {
    match e.kind() {
        ErrorKind::Transport => !e.is_connect_failure(),
        ErrorKind::Timeout | ErrorKind::InvalidResponse => true,
        _ => e.status().is_some_and(|s| s >= 500),
    }
}
