//! The S3 client: one async method per S3 action, each building its request (`ops`) and
//! reading its reply; sending, with signing, retries and the classing of replies, is in
//! `send`.

use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU32, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use http::{HeaderValue, Method, Response, StatusCode, Uri};

use crate::config::{
    AddressingStyle, ChecksumAlgorithm, ChecksumPolicy, Endpoint, ListObjectsVersion, ObjectParameters, PayloadSigning,
    Settings, SignatureVersion, TransferConfig,
};
use crate::credentials::{self, Credentials, ProvideCredentials, StaticProvider};
use crate::error::ServiceError;
use crate::error::{Error, ErrorKind, Result};
use crate::http::retry::{self, Attempt, RetryPolicy, RetryQuota};
use crate::http::{Body, HttpClient, HttpConfig, ResponseBody};
use crate::s3::addressing::{Addressing, AwsVariant, Target, aws_endpoint, encode_query};
use crate::s3::body::ObjectBody;
use crate::s3::checksum::Verification;
use crate::s3::list::{ListObjects, ListUploads};
use crate::s3::ops::copy_object::MetadataDirective;
use crate::s3::ops::delete_objects::{DeleteObjectsResult, DeletedObject};
use crate::s3::ops::get_object::{ByteRange, ContentRange, Expect, Served};
use crate::s3::ops::list_multipart_uploads::ListMultipartUploadsPage;
use crate::s3::ops::list_objects::{ListObjectsInput, ListObjectsPage};
use crate::s3::ops::put_object::{PutObjectOutput, WriteOptions};
use crate::s3::ops::upload_part::UploadedPart;
use crate::s3::ops::{self};
use crate::s3::params::ObjectHead;
use crate::s3::request::OpRequest;
use crate::s3::sign::{self, PayloadHash};
use crate::s3::xml;

mod cleanup;
mod send;

pub use cleanup::UnabortedUpload;

/// Largest XML reply read into memory (a listing page of 1,000 long keys is ~1.5 MiB).
const MAX_XML_REPLY: usize = 16 * 1024 * 1024;
/// Largest error body read.
const MAX_ERROR_REPLY: usize = 64 * 1024;

/// How a client reaches S3 and behaves, resolved from [`Settings`].
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ClientOptions {
    /// The bucket.
    pub bucket: String,
    /// Signing region.
    pub region: String,
    /// A custom endpoint, or `None` for AWS's endpoint of the region.
    pub endpoint: Option<Endpoint>,
    /// HTTPS for AWS endpoints.
    pub use_ssl: bool,
    /// AWS endpoints: Transfer Acceleration's (`<bucket>.s3-accelerate.amazonaws.com`).
    pub use_accelerate_endpoint: bool,
    /// AWS endpoints: the dual-stack ones (`s3.dualstack.<region>.amazonaws.com`).
    pub use_dualstack_endpoint: bool,
    /// Addressing style.
    pub addressing_style: AddressingStyle,
    /// Signature version.
    pub signature_version: SignatureVersion,
    /// Whether SigV4 signs request bodies (see [`PayloadSigning`]).
    pub payload_signing: PayloadSigning,
    /// The checksum uploads carry (see [`Settings::upload_checksum`]); `None`:
    /// none, unless an upload's `ChecksumAlgorithm` parameter names one and
    /// `checksum_parameter` allows it.
    pub upload_checksum: Option<ChecksumAlgorithm>,
    /// Whether an upload's `ChecksumAlgorithm` parameter is honoured: SigV4, and not
    /// `request_checksum_calculation = when_required`.
    pub checksum_parameter: bool,
    /// Whether reads ask for the stored checksum and verify the bytes against it
    /// (`response_checksum_validation = when_supported`).
    pub verify_checksums: bool,
    /// ListObjects version.
    pub list_objects_version: ListObjectsVersion,
    /// Whether DeleteObjects is available.
    pub bulk_delete: bool,
    /// Multipart chunking.
    pub transfer: TransferConfig,
    /// Retries.
    pub retry: RetryPolicy,
    /// Transport.
    pub http: HttpConfig,
    /// Extra text for the `User-Agent`.
    pub user_agent_extra: Option<String>,
    /// Replaces the `User-Agent`.
    pub user_agent: Option<String>,
}

impl ClientOptions {
    /// The client options of a storage's settings.
    pub fn from_settings(s: &Settings) -> Self {
        let cc = s.client_config.as_ref();
        ClientOptions {
            bucket: s.bucket().to_owned(),
            region: s.region().to_owned(),
            endpoint: s.endpoint_url.clone(),
            use_ssl: s.use_ssl,
            use_accelerate_endpoint: s.use_accelerate_endpoint(),
            use_dualstack_endpoint: s.use_dualstack_endpoint(),
            addressing_style: s.addressing_style(),
            signature_version: s.signature_version(),
            payload_signing: s.payload_signing(),
            upload_checksum: s.upload_checksum(),
            checksum_parameter: s.signature_version() == SignatureVersion::V4
                && cc
                    .and_then(|c| c.request_checksum_calculation)
                    .or(s.request_checksum_calculation)
                    != Some(ChecksumPolicy::WhenRequired),
            verify_checksums: s.response_checksum_validation() == ChecksumPolicy::WhenSupported,
            list_objects_version: s.list_objects_version(),
            bulk_delete: s.bulk_delete(),
            transfer: s.transfer_config,
            retry: RetryPolicy {
                max_attempts: s.max_attempts(),
                deadline: s.operation_timeout(),
                ..RetryPolicy::default()
            },
            http: HttpConfig::from_settings(s),
            user_agent_extra: cc.and_then(|c| c.user_agent_extra.clone()),
            user_agent: cc.and_then(|c| c.user_agent.clone()),
        }
    }
}

/// A request without its body, shared by its attempts.
struct Parts {
    method: Method,
    key: Option<String>,
    headers: http::HeaderMap,
}

#[derive(Debug, Clone)]
struct Routing {
    region: String,
    addressing: Addressing,
}

struct Inner {
    http: HttpClient,
    options: ClientOptions,
    routing: RwLock<Routing>,
    credentials: Arc<dyn ProvideCredentials>,
    quota: RetryQuota,
    /// Server clock minus local clock, in milliseconds, learned from skew errors.
    skew_ms: AtomicI64,
    user_agent: HeaderValue,
    /// Multipart uploads started and not yet completed or aborted.
    open_uploads: tokio::sync::watch::Sender<usize>,
    /// Cleanup's own retries: aborts go on when an outage has spent the main quota.
    cleanup_quota: RetryQuota,
    /// Uploads whose abort failed on its whole budget, for the caller to see.
    unaborted: std::sync::Mutex<Vec<UnabortedUpload>>,
}

/// An S3 client for one bucket. Cheap to clone: clones share the connection pool,
/// credentials and learned state (region, clock skew).
///
/// ```no_run
/// # async fn demo() -> storages_s3::Result<()> {
/// use storages_s3::{Settings, s3::Client};
///
/// let settings = Settings::builder().option("bucket_name", "my-bucket").build()?;
/// let client = Client::new(&settings)?;
/// client.put_object("hello.txt", "Hello".into(), &Default::default()).await?;
/// let text = client.get_object("hello.txt", None).await?.body.collect(1 << 20).await?;
/// assert_eq!(&text[..], b"Hello");
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("bucket", &self.inner.options.bucket)
            .field("region", &self.region())
            .field("endpoint", &self.inner.options.endpoint)
            .finish_non_exhaustive()
    }
}

fn addressing_for(options: &ClientOptions, region: &str) -> Addressing {
    match &options.endpoint {
        Some(ep) => Addressing::custom(ep.clone(), options.addressing_style),
        None => Addressing {
            endpoint: aws_endpoint(
                region,
                options.use_ssl,
                AwsVariant {
                    accelerate: options.use_accelerate_endpoint,
                    dualstack: options.use_dualstack_endpoint,
                },
            ),
            custom_endpoint: false,
            style: options.addressing_style,
        },
    }
}

/// The credentials of SPEC §2: the settings' static keys (no I/O, not even an HTTP client),
/// else the default chain over the settings' global source (the environment by default):
/// profile, web identity, container, instance metadata, with its own short-timeout client.
fn settings_credentials(settings: &Settings) -> Result<Arc<dyn ProvideCredentials>> {
    if let Some(c) = Credentials::from_settings(settings) {
        return Ok(Arc::new(StaticProvider::new(c)));
    }
    let http = HttpClient::new(&credentials::http_config(settings))?;
    Ok(credentials::default_chain(settings, settings.global_source(), http))
}

impl Client {
    /// A client for the bucket and settings given. Without static credentials in the
    /// settings, credentials come from the default chain (environment, shared profiles, web
    /// identity, container, instance metadata), looked up on the first signed request.
    pub fn new(settings: &Settings) -> Result<Client> {
        Client::with_options(ClientOptions::from_settings(settings), settings_credentials(settings)?)
    }

    /// A client from resolved options and a credentials provider.
    pub(crate) fn with_options(options: ClientOptions, credentials: Arc<dyn ProvideCredentials>) -> Result<Client> {
        crate::config::check_bucket_name(&options.bucket).map_err(|why| {
            Error::new(
                ErrorKind::InvalidBucketName,
                format!("bucket name {:?} {why}", options.bucket),
            )
        })?;
        let http = HttpClient::new(&options.http)?;
        let routing = Routing {
            region: options.region.clone(),
            addressing: addressing_for(&options, &options.region),
        };
        let ua = match (&options.user_agent, &options.user_agent_extra) {
            (Some(ua), _) => ua.clone(),
            (None, Some(extra)) => format!("storages-s3/{} {extra}", env!("CARGO_PKG_VERSION")),
            (None, None) => format!("storages-s3/{}", env!("CARGO_PKG_VERSION")),
        };
        let user_agent = HeaderValue::from_str(&ua)
            .map_err(|_| Error::invalid_setting("client_config", "user_agent is not a valid header value"))?;
        Ok(Client {
            inner: Arc::new(Inner {
                http,
                routing: RwLock::new(routing),
                options,
                credentials,
                quota: RetryQuota::default(),
                skew_ms: AtomicI64::new(0),
                open_uploads: tokio::sync::watch::Sender::new(0),
                cleanup_quota: RetryQuota::default(),
                unaborted: std::sync::Mutex::default(),
                user_agent,
            }),
        })
    }

    /// Requests this client (and its clones) sent again so far: retried attempts and
    /// downloads resumed after a broken connection. For metrics and fault reports.
    ///
    /// ```
    /// # fn main() -> storages_s3::Result<()> {
    /// let settings = storages_s3::Settings::builder()
    ///     .no_globals()
    ///     .option("bucket_name", "media")
    ///     .build()?;
    /// let client = storages_s3::s3::Client::new(&settings)?;
    /// assert_eq!(client.retries(), 0);
    /// # Ok(())
    /// # }
    /// ```
    pub fn retries(&self) -> u64 {
        self.inner.quota.retries()
    }

    /// Multipart uploads this client (and its clones) started that are not yet completed
    /// or aborted; uploads dropped unfinished count until their abort, which runs in the
    /// background, has been answered.
    pub fn open_uploads(&self) -> usize {
        *self.inner.open_uploads.borrow()
    }

    /// Waits until [`open_uploads`](Client::open_uploads) is zero. A program stopping
    /// early (Ctrl-C) drops its work and then awaits this, so that the aborts of the
    /// uploads it interrupted reach the server before it exits.
    ///
    /// ```no_run
    /// # async fn demo(client: storages_s3::s3::Client) {
    /// let settled = client.uploads_settled();
    /// let _ = tokio::time::timeout(std::time::Duration::from_secs(30), settled).await;
    /// # }
    /// ```
    pub async fn uploads_settled(&self) {
        let mut open = self.inner.open_uploads.subscribe();
        let _ = open.wait_for(|n| *n == 0).await;
    }

    /// Counts a multipart upload as open until the returned guard is dropped.
    pub(crate) fn upload_opened(&self) -> OpenUpload {
        self.inner.open_uploads.send_modify(|n| *n += 1);
        OpenUpload(self.clone())
    }

    pub(crate) fn note_resume(&self) {
        self.inner.quota.note_retry();
    }

    /// The same client with another credentials provider.
    pub fn with_credentials(&self, credentials: Arc<dyn ProvideCredentials>) -> Result<Client> {
        let mut options = self.inner.options.clone();
        options.region = self.region();
        Client::with_options(options, credentials)
    }

    /// The bucket this client works on.
    pub fn bucket(&self) -> &str {
        &self.inner.options.bucket
    }

    /// The signing region (the bucket's own, once a wrong-region reply taught it).
    pub fn region(&self) -> String {
        self.inner.routing.read().expect("routing lock").region.clone()
    }

    /// The resolved options.
    pub(crate) fn options(&self) -> &ClientOptions {
        &self.inner.options
    }

    /// Clock skew learned from the server, in milliseconds (server minus local).
    pub fn clock_skew_ms(&self) -> i64 {
        self.inner.skew_ms.load(Ordering::Relaxed)
    }

    fn signing_time(&self) -> SystemTime {
        let skew = self.inner.skew_ms.load(Ordering::Relaxed);
        let now = SystemTime::now();
        if skew >= 0 {
            now + Duration::from_millis(skew as u64)
        } else {
            now - Duration::from_millis(skew.unsigned_abs())
        }
    }

    fn routing(&self) -> Routing {
        self.inner.routing.read().expect("routing lock").clone()
    }

    fn follow_region(&self, region: &str) -> bool {
        let mut routing = self.inner.routing.write().expect("routing lock");
        if routing.region == region || crate::config::check_region(region).is_err() {
            return false;
        }
        crate::trace::event!(info, bucket = %self.bucket(), from = %routing.region, to = region, "following the bucket's region");
        routing.region = region.to_owned();
        routing.addressing = addressing_for(&self.inner.options, region);
        true
    }

    /// The plain (unsigned) URL of `key`: where requests on it go, with the client's
    /// endpoint and addressing style.
    ///
    /// ```
    /// # fn demo() -> storages_s3::Result<()> {
    /// use storages_s3::{Settings, s3::Client};
    ///
    /// let settings = Settings::builder()
    ///     .no_globals()
    ///     .option("bucket_name", "media")
    ///     .option("access_key", "AKIDEXAMPLE")
    ///     .option("secret_key", "secret")
    ///     .option("endpoint_url", "http://127.0.0.1:9000")
    ///     .build()?;
    /// let client = Client::new(&settings)?;
    /// assert_eq!(client.url("a b.txt"), "http://127.0.0.1:9000/media/a%20b.txt");
    /// # Ok(()) }
    /// # demo().unwrap();
    /// ```
    pub fn url(&self, key: &str) -> String {
        self.target(Some(key)).url("")
    }

    /// The URL a request would go to, for logs and presigning.
    pub(crate) fn target(&self, key: Option<&str>) -> Target {
        self.routing().addressing.target(self.bucket(), key)
    }

    pub(crate) async fn credentials(&self) -> Result<Option<Credentials>> {
        match self.inner.options.signature_version {
            SignatureVersion::Unsigned => Ok(None),
            _ => self.inner.credentials.provide().await.map(Some),
        }
    }

    /// HeadObject: the object's metadata. A missing key is [`ErrorKind::NotFound`].
    pub async fn head_object(&self, key: &str, params: &ObjectParameters) -> Result<ObjectHead> {
        let op = self.context(
            ops::head_object::request(key, params, self.inner.options.verify_checksums),
            "HeadObject",
            Some(key),
        )?;
        let resp = self.send(op).await?;
        let head = ops::head_object::parse(resp.headers());
        resp.into_body().drain(0).await;
        self.context(head, "HeadObject", Some(key))
    }

    /// GetObject: the object (or a range of it) as a stream that resumes by itself when
    /// the connection breaks midway (with `If-Match`, so it never mixes two versions).
    pub async fn get_object(&self, key: &str, range: Option<ByteRange>) -> Result<GetObjectOutput> {
        self.get_object_with(key, range, &ObjectParameters::new()).await
    }

    /// GetObject with read parameters (SSE-C, VersionId, ...).
    pub async fn get_object_with(
        &self,
        key: &str,
        range: Option<ByteRange>,
        params: &ObjectParameters,
    ) -> Result<GetObjectOutput> {
        self.get_object_if_match(key, range, params, None).await
    }

    /// GetObject of the version whose ETag is `if_match` (412 `PreconditionFailed` when
    /// the object has changed since, or when a server that ignores `If-Match` sends another
    /// version).
    pub async fn get_object_if_match(
        &self,
        key: &str,
        range: Option<ByteRange>,
        params: &ObjectParameters,
        if_match: Option<&str>,
    ) -> Result<GetObjectOutput> {
        let expect = Expect {
            range,
            etag: if_match,
            total: None,
        };
        self.get_object_expecting(key, params, &expect).await
    }

    /// GetObject whose reply must match `expect` (the range asked, the ETag pinned, the
    /// object's size when known) before any byte of it reaches the caller.
    pub(crate) async fn get_object_expecting(
        &self,
        key: &str,
        params: &ObjectParameters,
        expect: &Expect<'_>,
    ) -> Result<GetObjectOutput> {
        let reply = self.get_checked(key, params, expect).await?;
        let verification = match &reply.head.checksum {
            _ if !self.inner.options.verify_checksums => Verification::Disabled,
            _ if expect.range.is_some() => Verification::Ranged,
            None => Verification::Absent,
            Some(stored) if !stored.is_full_object() => Verification::Composite(stored.clone()),
            Some(stored) => Verification::Pending(stored.clone()),
        };
        let body = ObjectBody::new(
            self.clone(),
            key.to_owned(),
            params.read_parameters(),
            reply.head.etag.clone(),
            reply.served,
            reply.body,
            verification,
        );
        Ok(GetObjectOutput {
            head: reply.head,
            range: reply.range,
            body,
        })
    }

    /// One GetObject request, its reply checked against `expect`.
    pub(crate) async fn get_checked(
        &self,
        key: &str,
        params: &ObjectParameters,
        expect: &Expect<'_>,
    ) -> Result<CheckedReply> {
        // A stored checksum covers the whole object: asked for on whole reads only.
        let checksum_mode = self.inner.options.verify_checksums && expect.range.is_none();
        let op = self.context(
            ops::get_object::request(key, expect.range, params, expect.etag, checksum_mode),
            "GetObject",
            Some(key),
        )?;
        let resp = self.send(op).await?;
        let checked = ops::get_object::parse(resp.headers()).and_then(|(head, range)| {
            let served = ops::get_object::check_reply(resp.status().as_u16(), &head, range, expect)?;
            Ok((head, range, served))
        });
        let (head, range, served) = self.context(checked, "GetObject", Some(key))?;
        Ok(CheckedReply {
            head,
            range,
            served,
            body: resp.into_body(),
        })
    }

    /// PutObject of a body in memory or a stream of known length.
    pub async fn put_object(&self, key: &str, body: Body, params: &ObjectParameters) -> Result<PutObjectOutput> {
        self.put_object_with(
            key,
            body,
            params,
            WriteOptions {
                if_none_match: false,
                checksum: self.upload_checksum(params),
            },
        )
        .await
    }

    /// PutObject with explicit conditions and checksums.
    ///
    /// With `if_none_match`, a 412 after an attempt whose reply was lost may be this very
    /// write, stored by that attempt: when the object there has the ETag of the bytes sent
    /// (their MD5), the upload succeeded and says so.
    pub async fn put_object_with(
        &self,
        key: &str,
        body: Body,
        params: &ObjectParameters,
        options: WriteOptions,
    ) -> Result<PutObjectOutput> {
        let sent = body.try_clone().filter(|_| options.if_none_match);
        let op = self.context(
            ops::put_object::request(key, body, params, options),
            "PutObject",
            Some(key),
        )?;
        let attempts = AtomicU32::new(0);
        let result = self
            .send_with(op, &attempts, |resp| async move {
                let out = ops::put_object::parse(resp.headers());
                resp.into_body().drain(1024).await;
                Ok(out)
            })
            .await;
        match (result, sent) {
            (Err(e), Some(sent)) if e.is_precondition_failed() && attempts.load(Ordering::Relaxed) > 1 => {
                use md5::Digest as _;
                let digest = md5::Md5::digest(sent.as_bytes().unwrap_or_default());
                let etag = format!("\"{}\"", hex::encode(digest));
                if self.holds(key, &etag, params).await {
                    return Ok(PutObjectOutput {
                        etag: Some(etag),
                        version_id: None,
                    });
                }
                Err(e)
            }
            (result, _) => result,
        }
    }

    /// The checksum an upload with these parameters carries: its `ChecksumAlgorithm`
    /// where allowed, else the client's.
    pub(crate) fn upload_checksum(&self, params: &ObjectParameters) -> Option<ChecksumAlgorithm> {
        let options = &self.inner.options;
        params
            .checksum_algorithm()
            .filter(|_| options.checksum_parameter)
            .or(options.upload_checksum)
    }

    /// Whether request bodies are signed (their SHA-256 in `x-amz-content-sha256`) rather
    /// than sent as `UNSIGNED-PAYLOAD`: SigV4 only, and by the payload signing policy for
    /// the endpoint's scheme.
    pub(crate) fn signs_payload(&self) -> bool {
        let options = &self.inner.options;
        // The scheme is the configured one: following a bucket's region changes the host only.
        let https = options.endpoint.as_ref().map_or(options.use_ssl, |e| e.https);
        options.signature_version == SignatureVersion::V4 && signs_payload(options.payload_signing, https)
    }

    /// DeleteObject. Deleting a missing key succeeds, as on S3.
    pub async fn delete_object(&self, key: &str) -> Result<()> {
        let op = self.context(ops::delete_object::request(key), "DeleteObject", Some(key))?;
        match self.send(op).await {
            Ok(resp) => {
                resp.into_body().drain(1024).await;
                Ok(())
            }
            Err(e) if e.is_not_found() && e.code() != Some("NoSuchBucket") => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// Deletes many keys: DeleteObjects in batches of 1,000, up to `max_concurrency` batches
    /// at a time (or one DeleteObject each when the service has no bulk delete). Keys S3
    /// could not delete are in the result's `errors`; a failed request is an error (batches
    /// still in flight are then cancelled).
    pub async fn delete_objects(&self, keys: &[&str]) -> Result<DeleteObjectsResult> {
        let mut all = DeleteObjectsResult {
            deleted: Vec::new(),
            errors: Vec::new(),
        };
        if !self.inner.options.bulk_delete {
            for key in keys {
                self.delete_object(key).await?;
                all.deleted.push(DeletedObject {
                    key: (*key).to_owned(),
                    version_id: None,
                });
            }
            return Ok(all);
        }
        // Batches of 1,000 keys, up to the transfer config's max_concurrency at a time.
        let limit = self.inner.options.transfer.max_concurrency.max(1);
        let mut batches = keys
            .chunks(ops::delete_objects::MAX_KEYS)
            .map(|batch| batch.iter().map(|k| (*k).to_owned()).collect::<Vec<String>>());
        let mut tasks = tokio::task::JoinSet::new();
        loop {
            while tasks.len() < limit {
                let Some(batch) = batches.next() else { break };
                let client = self.clone();
                tasks.spawn(async move { client.delete_batch(batch).await });
            }
            let Some(done) = tasks.join_next().await else { break };
            let result = done.map_err(|e| {
                Error::new(ErrorKind::Io, "a DeleteObjects task failed")
                    .with_operation("DeleteObjects")
                    .with_source(e)
            })??;
            all.deleted.extend(result.deleted);
            all.errors.extend(result.errors);
        }
        Ok(all)
    }

    /// One DeleteObjects request (at most 1,000 keys).
    async fn delete_batch(&self, batch: Vec<String>) -> Result<DeleteObjectsResult> {
        let keys: Vec<&str> = batch.iter().map(String::as_str).collect();
        let op = self.context(ops::delete_objects::request(&keys), "DeleteObjects", None)?;
        let (_, body) = self.send_for_body(op).await?;
        let mut result = self.context(ops::delete_objects::parse(&body), "DeleteObjects", None)?;
        // Quiet mode lists only failures: every other key of the batch was deleted.
        if result.deleted.is_empty() {
            result.deleted = batch
                .iter()
                .filter(|k| !result.errors.iter().any(|e| e.key == **k))
                .map(|k| DeletedObject {
                    key: k.clone(),
                    version_id: None,
                })
                .collect();
        }
        Ok(result)
    }

    /// Lists keys page by page (ListObjectsV2, or V1 where configured), following
    /// continuation tokens. See [`ListObjects`].
    pub fn list_objects(&self, input: ListObjectsInput) -> ListObjects {
        ListObjects::new(self.clone(), self.inner.options.list_objects_version, input)
    }

    /// One page of a listing.
    pub(crate) async fn list_objects_page(
        &self,
        version: ListObjectsVersion,
        input: &ListObjectsInput,
        token: Option<&ops::list_objects::PageToken>,
    ) -> Result<(ListObjectsPage, Option<ops::list_objects::PageToken>)> {
        let op = ops::list_objects::request(version, input, token);
        let operation = op.operation;
        let (_, body) = self.send_for_body(op).await?;
        self.context(ops::list_objects::parse(version, &body), operation, None)
    }

    /// CopyObject within the bucket (`source_key` to `key`); errors inside a 200 OK reply
    /// are errors, and retried when transient (within the one retry budget of the call).
    pub async fn copy_object(
        &self,
        source_key: &str,
        key: &str,
        directive: MetadataDirective,
        params: &ObjectParameters,
    ) -> Result<Option<String>> {
        let op = self.context(
            ops::copy_object::request(self.bucket(), source_key, key, directive, params),
            "CopyObject",
            Some(key),
        )?;
        self.send_for_xml(op, &AtomicU32::new(0), ops::copy_object::parse).await
    }

    /// UploadPart. `params` are the upload's parameters (those given to
    /// [`create_multipart_upload`](Client::create_multipart_upload)): the SSE-C ones, which
    /// S3 wants on every part, and the checksum algorithm; the part carries its checksum
    /// when the upload does.
    pub async fn upload_part(
        &self,
        key: &str,
        upload_id: &str,
        part_number: u32,
        data: Bytes,
        params: &ObjectParameters,
    ) -> Result<UploadedPart> {
        let checksum = self.upload_checksum(params).map(|a| (a, a.value_of(&data)));
        let size = data.len() as u64;
        let op = self.context(
            ops::upload_part::request(
                key,
                upload_id,
                part_number,
                data,
                params,
                checksum.as_ref().map(|(a, v)| (*a, v.as_str())),
            ),
            "UploadPart",
            Some(key),
        )?;
        let resp = self.send(op).await?;
        let part = ops::upload_part::parse(part_number, resp.headers(), checksum, size);
        resp.into_body().drain(1024).await;
        self.context(part, "UploadPart", Some(key))
    }

    /// CompleteMultipartUpload. S3 may report an error inside a 200 OK reply (it sends the
    /// status before it knows the outcome); a transient one is retried like any other, within
    /// the one retry budget of the call.
    pub async fn complete_multipart_upload(
        &self,
        key: &str,
        upload_id: &str,
        parts: &[UploadedPart],
        if_none_match: bool,
    ) -> Result<Option<String>> {
        let op = self.context(
            ops::complete_multipart_upload::request(key, upload_id, parts, if_none_match),
            "CompleteMultipartUpload",
            Some(key),
        )?;
        let attempts = AtomicU32::new(0);
        let error = match self
            .send_for_xml(op, &attempts, ops::complete_multipart_upload::parse)
            .await
        {
            Ok(etag) => return Ok(etag),
            Err(e) => e,
        };
        // When an attempt completed the upload but its reply was lost, the next attempt
        // finds the upload gone (NoSuchUpload; some services say AccessDenied) or, with
        // If-None-Match, the object there. The object then has the ETag these parts give.
        let vanished = matches!(
            error.kind(),
            ErrorKind::NotFound | ErrorKind::AccessDenied | ErrorKind::PreconditionFailed
        );
        let Some(expected) = ops::complete_multipart_upload::expected_etag(parts)
            .filter(|_| vanished && attempts.load(Ordering::Relaxed) > 1)
        else {
            return Err(error);
        };
        if self.holds(key, &expected, &ObjectParameters::new()).await {
            // Completed after all; should the upload still be open (the same bytes
            // were already there), it is dropped.
            self.abort_or_keep(key, upload_id).await;
            return Ok(Some(expected));
        }
        Err(error)
    }

    /// Whether `key` holds the object whose ETag is `etag`: how a write whose reply was lost
    /// is recognised.
    async fn holds(&self, key: &str, etag: &str, params: &ObjectParameters) -> bool {
        matches!(
            self.head_object(key, &params.read_parameters()).await,
            Ok(head) if head.etag.as_deref() == Some(etag)
        )
    }

    /// Lists unfinished multipart uploads under `prefix`, following pages.
    pub fn list_multipart_uploads(&self, prefix: Option<&str>) -> ListUploads {
        ListUploads::new(self.clone(), prefix.map(str::to_owned))
    }

    pub(crate) async fn list_uploads_page(
        &self,
        prefix: Option<&str>,
        key_marker: Option<&str>,
        upload_id_marker: Option<&str>,
    ) -> Result<ListMultipartUploadsPage> {
        let op = ops::list_multipart_uploads::request(prefix, key_marker, upload_id_marker);
        let (_, body) = self.send_for_body(op).await?;
        self.context(ops::list_multipart_uploads::parse(&body), "ListMultipartUploads", None)
    }

    /// CreateBucket in the client's region. An existing bucket of yours is not an error.
    pub async fn create_bucket(&self) -> Result<()> {
        let op = self.context(ops::bucket::create(&self.region()), "CreateBucket", None)?;
        match self.send(op).await {
            Ok(resp) => {
                resp.into_body().drain(1024).await;
                Ok(())
            }
            Err(e) if e.code() == Some("BucketAlreadyOwnedByYou") => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// DeleteBucket (it must be empty).
    pub async fn delete_bucket(&self) -> Result<()> {
        let resp = self.send(ops::bucket::delete()).await?;
        resp.into_body().drain(1024).await;
        Ok(())
    }

    /// A presigned URL for `method` on `key`, valid for `expires`, with extra query
    /// parameters (`response-content-disposition`, ...). SigV4 or SigV2 as configured; a
    /// plain URL when requests are unsigned.
    pub async fn presign(
        &self,
        method: Method,
        key: &str,
        expires: Duration,
        query: &[(&str, &str)],
    ) -> Result<String> {
        self.presign_with(
            &Presign {
                method,
                expires,
                query,
                at: None,
                addressing: None,
            },
            key,
        )
        .await
    }

    /// A presigned URL with every option: a fixed signing time (reproducible links) and
    /// another endpoint to sign for (a public domain in front of an internal endpoint).
    pub(crate) async fn presign_with(&self, p: &Presign<'_>, key: &str) -> Result<String> {
        crate::s3::addressing::check_key(key)?;
        crate::config::check_expire(self.inner.options.signature_version, p.expires.as_secs())
            .map_err(|why| Error::new(ErrorKind::InvalidArgument, format!("expire: {why}")))?;
        let routing = self.routing();
        let addressing = p.addressing.unwrap_or(&routing.addressing);
        let target = addressing.target(self.bucket(), Some(key));
        let mut sorted: Vec<(&str, Option<&str>)> = p.query.iter().map(|(k, v)| (*k, Some(*v))).collect();
        sorted.sort_by(|a, b| a.0.cmp(b.0));
        let uri: Uri = target
            .url(&encode_query(&sorted))
            .parse()
            .map_err(|e| Error::new(ErrorKind::InvalidArgument, "the request URL is malformed").with_source(e))?;
        let mut headers = http::HeaderMap::new();
        headers.insert(
            http::header::HOST,
            HeaderValue::from_str(&target.authority)
                .map_err(|_| Error::new(ErrorKind::InvalidSetting, "endpoint host is not a valid header value"))?,
        );
        let Some(creds) = self.credentials().await? else {
            return Ok(uri.to_string());
        };
        let time = p.at.unwrap_or_else(|| self.signing_time());
        match self.inner.options.signature_version {
            SignatureVersion::V2 => {
                let expires_at = time.duration_since(SystemTime::UNIX_EPOCH).unwrap_or_default() + p.expires;
                sign::presign_v2(
                    &p.method,
                    &uri,
                    &headers,
                    &creds,
                    expires_at.as_secs(),
                    target.bucket_in_host.as_deref(),
                )
            }
            _ => sign::presign_v4(&p.method, &uri, &headers, &creds, &routing.region, time, p.expires),
        }
    }
}

/// What a presigned URL allows, and how it is made ([`Client::presign_with`]).
#[derive(Debug, Clone)]
pub struct Presign<'a> {
    /// The method the URL allows (GET to download, PUT to upload, ...).
    pub method: Method,
    /// How long the URL is valid.
    pub expires: Duration,
    /// Extra query parameters, signed (`response-content-disposition`, `versionId`, ...).
    pub query: &'a [(&'a str, &'a str)],
    /// The signing time; now (corrected for clock skew) when `None`.
    pub at: Option<SystemTime>,
    /// The endpoint and style to sign for; the client's own when `None`.
    pub addressing: Option<&'a Addressing>,
}

/// The payload signing policy's answer for one scheme: `auto` signs over plain HTTP only.
fn signs_payload(policy: PayloadSigning, https: bool) -> bool {
    match policy {
        PayloadSigning::Always => true,
        PayloadSigning::Never => false,
        PayloadSigning::Auto => !https,
    }
}

/// An open multipart upload, counted by its client until dropped.
pub(crate) struct OpenUpload(Client);

impl Drop for OpenUpload {
    fn drop(&mut self) {
        self.0.inner.open_uploads.send_modify(|n| *n = n.saturating_sub(1));
    }
}

/// A GetObject reply that matched what was asked.
pub(crate) struct CheckedReply {
    pub(crate) head: ObjectHead,
    pub(crate) range: Option<ContentRange>,
    pub(crate) served: Served,
    pub(crate) body: ResponseBody,
}

/// What GetObject returns: the object's headers and its bytes as a stream.
#[derive(Debug)]
#[non_exhaustive]
pub struct GetObjectOutput {
    /// Headers of the object.
    pub head: ObjectHead,
    /// The range sent, for ranged requests.
    pub range: Option<ContentRange>,
    /// The bytes.
    pub body: ObjectBody,
}
