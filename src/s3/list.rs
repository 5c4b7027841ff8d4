//! Listings as streams of pages that follow continuation tokens (or markers) to the end.

use std::collections::HashSet;
use std::fmt;
use std::future::Future;
use std::hash::{BuildHasher, Hash, RandomState};
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use futures_core::Stream;

use crate::config::ListObjectsVersion;
use crate::error::{Error, ErrorKind, Result};
use crate::s3::Client;
use crate::s3::ops::list_multipart_uploads::{ListMultipartUploadsPage, MultipartUploadSummary};
use crate::s3::ops::list_objects::{ListObjectsInput, ListObjectsPage, ObjectSummary, PageToken};

type PageFuture<T> = Pin<Box<dyn Future<Output = Result<T>> + Send>>;

/// Entries (objects and common prefixes) that [`ListObjects::collect_all`] gathers at most.
pub(crate) const COLLECT_LIMIT: usize = 1_000_000;

/// The continuation tokens (or markers) a listing has followed, kept as keyed hashes: a
/// server that sends one again (A, B, A, ...) would have the listing run for ever.
#[derive(Default)]
struct Seen(HashSet<u64>, RandomState);

impl Seen {
    /// Records `token`; false if it was seen before.
    fn first_time(&mut self, token: &impl Hash) -> bool {
        let hash = self.1.hash_one(token);
        self.0.insert(hash)
    }
}

/// The pages of a listing ([`Client::list_objects`]). Each page costs one request; the
/// next one is requested only when asked for.
///
/// ```no_run
/// # async fn demo(client: storages_s3::s3::Client) -> storages_s3::Result<()> {
/// use storages_s3::s3::ListObjectsInput;
///
/// let input = ListObjectsInput { prefix: Some("media/".into()), delimiter: Some("/".into()), ..Default::default() };
/// let mut pages = client.list_objects(input);
/// while let Some(page) = pages.next_page().await {
///     for object in page?.objects {
///         println!("{} ({} bytes)", object.key, object.size);
///     }
/// }
/// # Ok(()) }
/// ```
pub struct ListObjects {
    client: Client,
    version: ListObjectsVersion,
    input: ListObjectsInput,
    token: Option<PageToken>,
    seen: Seen,
    pending: Option<PageFuture<(ListObjectsPage, Option<PageToken>)>>,
    done: bool,
}

impl fmt::Debug for ListObjects {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ListObjects")
            .field("input", &self.input)
            .field("done", &self.done)
            .finish_non_exhaustive()
    }
}

impl ListObjects {
    pub(crate) fn new(client: Client, version: ListObjectsVersion, input: ListObjectsInput) -> Self {
        ListObjects {
            client,
            version,
            input,
            token: None,
            seen: Seen::default(),
            pending: None,
            done: false,
        }
    }

    /// The next page, `None` after the last.
    pub async fn next_page(&mut self) -> Option<Result<ListObjectsPage>> {
        std::future::poll_fn(|cx| Pin::new(&mut *self).poll_next(cx)).await
    }

    /// Every object and common prefix, across all pages, up to 1,000,000 entries
    /// (an [`ErrorKind::LimitExceeded`] error beyond: read larger listings page by page).
    pub async fn collect_all(self) -> Result<(Vec<ObjectSummary>, Vec<String>)> {
        self.collect_up_to(COLLECT_LIMIT).await
    }

    /// Every object and common prefix, across all pages; more than `limit` entries in all
    /// is an [`ErrorKind::LimitExceeded`] error, so that memory stays bounded by what the
    /// caller accepts whatever the server sends.
    pub async fn collect_up_to(mut self, limit: usize) -> Result<(Vec<ObjectSummary>, Vec<String>)> {
        let (mut objects, mut prefixes) = (Vec::new(), Vec::new());
        while let Some(page) = self.next_page().await {
            let page = page?;
            if objects.len() + prefixes.len() + page.objects.len() + page.common_prefixes.len() > limit {
                return Err(Error::new(
                    ErrorKind::LimitExceeded,
                    format!("the listing has more than {limit} entries: read it page by page"),
                )
                .with_operation("ListObjects")
                .with_object(self.client.bucket(), self.input.prefix.as_deref()));
            }
            objects.extend(page.objects);
            prefixes.extend(page.common_prefixes);
        }
        Ok((objects, prefixes))
    }
}

impl Stream for ListObjects {
    type Item = Result<ListObjectsPage>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        if this.done {
            return Poll::Ready(None);
        }
        let pending = this.pending.get_or_insert_with(|| {
            let (client, version, input, token) = (
                this.client.clone(),
                this.version,
                this.input.clone(),
                this.token.clone(),
            );
            Box::pin(async move { client.list_objects_page(version, &input, token.as_ref()).await })
        });
        let result = ready!(pending.as_mut().poll(cx));
        this.pending = None;
        Poll::Ready(Some(match result {
            Ok((page, next)) => {
                if next.as_ref().is_some_and(|t| !this.seen.first_time(t)) {
                    this.done = true;
                    return Poll::Ready(Some(Err(Error::new(
                        ErrorKind::InvalidResponse,
                        "the server sent a continuation token it had sent before: the listing would never end",
                    )
                    .with_operation("ListObjects")
                    .with_object(this.client.bucket(), this.input.prefix.as_deref()))));
                }
                this.done = next.is_none();
                this.token = next;
                Ok(page)
            }
            Err(e) => {
                this.done = true;
                Err(e)
            }
        }))
    }
}

/// The pages of unfinished multipart uploads ([`Client::list_multipart_uploads`]).
pub struct ListUploads {
    client: Client,
    prefix: Option<String>,
    markers: Option<(Option<String>, Option<String>)>,
    seen: Seen,
    pending: Option<PageFuture<ListMultipartUploadsPage>>,
    done: bool,
}

impl fmt::Debug for ListUploads {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ListUploads")
            .field("prefix", &self.prefix)
            .field("done", &self.done)
            .finish_non_exhaustive()
    }
}

impl ListUploads {
    pub(crate) fn new(client: Client, prefix: Option<String>) -> Self {
        ListUploads {
            client,
            prefix,
            markers: None,
            seen: Seen::default(),
            pending: None,
            done: false,
        }
    }

    /// The next page, `None` after the last.
    pub async fn next_page(&mut self) -> Option<Result<ListMultipartUploadsPage>> {
        std::future::poll_fn(|cx| Pin::new(&mut *self).poll_next(cx)).await
    }

    /// Every unfinished upload, across all pages, up to 1,000,000 (an
    /// [`ErrorKind::LimitExceeded`] error beyond: read larger listings page by page).
    pub async fn collect_all(self) -> Result<Vec<MultipartUploadSummary>> {
        self.collect_up_to(COLLECT_LIMIT).await
    }

    /// Every unfinished upload, across all pages; more than `limit` is an
    /// [`ErrorKind::LimitExceeded`] error, so that memory stays bounded by what the caller
    /// accepts whatever the server sends.
    pub async fn collect_up_to(mut self, limit: usize) -> Result<Vec<MultipartUploadSummary>> {
        let mut all = Vec::new();
        while let Some(page) = self.next_page().await {
            let page = page?;
            if all.len() + page.uploads.len() > limit {
                return Err(Error::new(
                    ErrorKind::LimitExceeded,
                    format!("more than {limit} unfinished uploads: read them page by page"),
                )
                .with_operation("ListMultipartUploads")
                .with_object(self.client.bucket(), self.prefix.as_deref()));
            }
            all.extend(page.uploads);
        }
        Ok(all)
    }
}

impl Stream for ListUploads {
    type Item = Result<ListMultipartUploadsPage>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        if this.done {
            return Poll::Ready(None);
        }
        let pending = this.pending.get_or_insert_with(|| {
            let client = this.client.clone();
            let prefix = this.prefix.clone();
            let (key_marker, id_marker) = this.markers.clone().unwrap_or_default();
            Box::pin(async move {
                client
                    .list_uploads_page(prefix.as_deref(), key_marker.as_deref(), id_marker.as_deref())
                    .await
            })
        });
        let result = ready!(pending.as_mut().poll(cx));
        this.pending = None;
        Poll::Ready(Some(match result {
            Ok(page) => {
                let next = (page.next_key_marker.clone(), page.next_upload_id_marker.clone());
                if page.is_truncated && (next.0.is_none() || !this.seen.first_time(&next)) {
                    this.done = true;
                    return Poll::Ready(Some(Err(Error::new(
                        ErrorKind::InvalidResponse,
                        "a truncated upload listing gave no way to the next page",
                    ))));
                }
                this.done = !page.is_truncated;
                this.markers = Some(next);
                Ok(page)
            }
            Err(e) => {
                this.done = true;
                Err(e)
            }
        }))
    }
}
