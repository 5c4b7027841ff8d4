//! The test bed: a real S3 server for every test.
//!
//! By default each test starts its own in-process s3s-fs server (signatures checked, fixed
//! credentials). With `STORAGES_S3_TEST_ENDPOINT` (and `_ACCESS_KEY`, `_SECRET_KEY`,
//! `_REGION`) set, the same tests run against that server or a real bucket instead, each
//! in a bucket of its own.

#![allow(dead_code)]

pub mod alloc;
pub mod hostile;
pub mod http_proxy;
pub mod metadata;
pub mod profile;
pub mod proxy;
pub mod server;
pub mod webdriver;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU32, Ordering};

use storages_s3::Settings;
use storages_s3::s3::Client;

pub use profile::{Capability, Refusal, ServerKind};

/// How requests address the bucket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    Path,
    Virtual,
}

/// Where the tests' S3 server is.
pub struct Bed {
    pub endpoint_host: String,
    pub port: u16,
    pub addr: SocketAddr,
    pub access_key: String,
    pub secret_key: String,
    pub region: String,
    /// Which server it is, and so what it can do.
    pub kind: ServerKind,
    /// The in-process server, when there is no external one.
    pub server: Option<server::Server>,
}

fn external() -> Option<(String, String, String, String)> {
    let endpoint = std::env::var("STORAGES_S3_TEST_ENDPOINT")
        .ok()
        .filter(|e| !e.is_empty())?;
    let get = |n: &str, d: &str| {
        std::env::var(n)
            .ok()
            .filter(|v| !v.is_empty())
            .unwrap_or_else(|| d.to_owned())
    };
    Some((
        endpoint,
        get("STORAGES_S3_TEST_ACCESS_KEY", "test"),
        get("STORAGES_S3_TEST_SECRET_KEY", "test"),
        get("STORAGES_S3_TEST_REGION", "us-east-1"),
    ))
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// A bucket name no other test uses.
pub fn unique_bucket(tag: &str) -> String {
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let tag: String = tag
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .take(20)
        .collect::<String>()
        .to_lowercase();
    format!("t-{tag}-{}-{n}-{:x}", std::process::id(), fastrand::u32(..))
}

impl Bed {
    /// The external server if configured, else a new in-process server.
    pub async fn new() -> Bed {
        if let Some((endpoint, access_key, secret_key, region)) = external() {
            let url: http::Uri = endpoint.parse().expect("STORAGES_S3_TEST_ENDPOINT");
            let https = url.scheme_str() == Some("https");
            let host = url.host().expect("STORAGES_S3_TEST_ENDPOINT has a host").to_owned();
            let port = url.port_u16().unwrap_or(if https { 443 } else { 80 });
            let addr = tokio::net::lookup_host((host.as_str(), port))
                .await
                .unwrap()
                .next()
                .unwrap();
            return Bed {
                endpoint_host: host,
                port,
                addr,
                access_key,
                secret_key,
                region,
                kind: ServerKind::from_env(ServerKind::Aws),
                server: None,
            };
        }
        let server = server::Server::start().await;
        Bed {
            endpoint_host: "127.0.0.1".into(),
            port: server.addr.port(),
            addr: server.addr,
            access_key: server::ACCESS_KEY.into(),
            secret_key: server::SECRET_KEY.into(),
            region: "us-east-1".into(),
            kind: ServerKind::S3sFs,
            server: Some(server),
        }
    }

    /// Whether the server has `c`.
    pub fn has(&self, c: Capability) -> bool {
        self.kind.has(c)
    }

    /// Whether a test needing `c` must skip here: says so in one line when it must.
    pub fn skip_unless(&self, c: Capability, test: &str) -> bool {
        if self.has(c) {
            return false;
        }
        eprintln!("skipped {test}: {} lacks {c:?}", self.kind);
        true
    }

    /// The signature versions to test here: SigV4, and SigV2 where the server takes it
    /// (a line says when it does not).
    pub fn signature_versions(&self, test: &str) -> Vec<&'static str> {
        match self.skip_unless(Capability::SigV2, &format!("{test} with SigV2")) {
            true => vec!["s3v4"],
            false => vec!["s3v4", "s3"],
        }
    }

    /// Whether the server checks signatures (s3s-fs and Garage do; moto does not).
    pub fn checks_signatures(&self) -> bool {
        self.has(Capability::SignatureChecks)
    }

    /// Multipart uploads left open under the client's bucket. Uploads whose start time is
    /// not a real one (moto reports a fixed date in 2010) cannot be told apart from
    /// another writer's by a client that lost their ids; the in-process server reports
    /// real times, so there every open upload counts.
    pub async fn open_uploads(&self, client: &Client) -> Vec<storages_s3::s3::MultipartUploadSummary> {
        let uploads = client.list_multipart_uploads(None).collect_all().await.unwrap();
        let day_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(86_400);
        uploads
            .into_iter()
            .filter(|u| self.has(Capability::UploadStartTimes) || u.initiated.is_some_and(|t| t > day_ago))
            .collect()
    }

    /// Prints why a test is skipped here, and says whether it must be.
    pub fn skip_unless_signatures_checked(&self, test: &str) -> bool {
        self.skip_unless(Capability::SignatureChecks, test)
    }

    /// Options for a bucket on this server in a given style.
    pub fn options(&self, bucket: &str, style: Style) -> HashMap<String, String> {
        let mut o = HashMap::new();
        o.insert("bucket_name".into(), bucket.to_owned());
        o.insert("access_key".into(), self.access_key.clone());
        o.insert("secret_key".into(), self.secret_key.clone());
        o.insert("region_name".into(), self.region.clone());
        match style {
            Style::Path => {
                o.insert(
                    "endpoint_url".into(),
                    format!("http://{}:{}", self.endpoint_host, self.port),
                );
                o.insert("addressing_style".into(), "path".into());
            }
            Style::Virtual => {
                // `*.localhost` does not resolve here: dial the server for the bucket's host name.
                o.insert("endpoint_url".into(), format!("http://localhost:{}", self.port));
                o.insert("addressing_style".into(), "virtual".into());
                o.insert("resolve".into(), format!("{bucket}.localhost={}", self.addr));
            }
        }
        // Fast retries keep fault tests short.
        o.insert("max_attempts".into(), "3".into());
        if let Some(preset) = self.kind.preset() {
            o.insert("provider".into(), preset.into());
        }
        o
    }

    /// Settings for `bucket` with extra options.
    pub fn settings(&self, bucket: &str, style: Style, extra: &[(&str, &str)]) -> Settings {
        let mut o = self.options(bucket, style);
        for (k, v) in extra {
            o.insert((*k).to_owned(), (*v).to_owned());
        }
        Settings::builder()
            .options(o)
            .no_globals()
            .build()
            .expect("test settings")
    }

    /// A client on a new, empty bucket.
    pub async fn client(&self, tag: &str, style: Style) -> Client {
        self.client_with(tag, style, &[]).await
    }

    /// A client with extra options on a new, empty bucket.
    pub async fn client_with(&self, tag: &str, style: Style, extra: &[(&str, &str)]) -> Client {
        let bucket = unique_bucket(tag);
        let client = Client::new(&self.settings(&bucket, style, extra)).expect("client");
        client.create_bucket().await.expect("create bucket");
        client
    }
}

impl Bed {
    /// A storage on a new, empty bucket, with extra options.
    pub async fn storage(&self, tag: &str, style: Style, extra: &[(&str, &str)]) -> storages_s3::S3Storage {
        let bucket = unique_bucket(tag);
        let mut o = self.options(&bucket, style);
        for (k, v) in extra {
            o.insert((*k).to_owned(), (*v).to_owned());
        }
        let storage = storages_s3::S3Storage::builder()
            .options(o)
            .no_globals()
            .build()
            .expect("storage");
        storage.client().create_bucket().await.expect("create bucket");
        storage
    }

    /// A storage on a new bucket, reached through a fault-injecting proxy.
    pub async fn storage_behind_proxy(
        &self,
        tag: &str,
        extra: &[(&str, &str)],
    ) -> (proxy::FaultProxy, storages_s3::S3Storage) {
        let proxy = proxy::FaultProxy::start(self.addr).await;
        let bucket = unique_bucket(tag);
        let mut o = self.options(&bucket, Style::Path);
        o.insert("endpoint_url".into(), format!("http://{}", proxy.addr));
        for (k, v) in extra {
            o.insert((*k).to_owned(), (*v).to_owned());
        }
        let storage = storages_s3::S3Storage::builder()
            .options(o)
            .no_globals()
            .build()
            .expect("storage");
        storage.client().create_bucket().await.expect("create bucket");
        (proxy, storage)
    }
}

/// A stream that yields these items, for upload bodies.
pub fn stream_of<T: Unpin + Send + 'static>(
    items: Vec<T>,
) -> impl futures_core::Stream<Item = T> + Unpin + Send + 'static {
    struct Iter<T>(std::vec::IntoIter<T>);
    impl<T: Unpin> futures_core::Stream for Iter<T> {
        type Item = T;
        fn poll_next(mut self: std::pin::Pin<&mut Self>, _: &mut std::task::Context<'_>) -> std::task::Poll<Option<T>> {
            std::task::Poll::Ready(self.0.next())
        }
    }
    Iter(items.into_iter())
}

/// Runs an async test body once per addressing style.
macro_rules! both_styles {
    ($($name:ident),* $(,)?) => {
        mod path_style {
            $( #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() { super::$name($crate::common::Style::Path).await } )*
        }
        mod virtual_style {
            $( #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() { super::$name($crate::common::Style::Virtual).await } )*
        }
    };
}
