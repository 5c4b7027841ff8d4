//! A real S3 server in process: s3s-fs over a temporary directory, checking SigV4 and
//! SigV2 signatures with fixed credentials.
//!
//! s3s-fs has no ListMultipartUploads; [`Tracked`] wraps it, passes every call through
//! unchanged, and answers ListMultipartUploads from the uploads it saw created that s3s-fs
//! still holds, so that "no orphaned upload" can be checked here as on AWS.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder as ConnBuilder;
use s3s::dto::*;
use s3s::{S3, S3Request, S3Response, S3Result};
use tokio::net::TcpListener;

pub const ACCESS_KEY: &str = "AKIDSTORAGESS3TEST";
pub const SECRET_KEY: &str = "storages-s3/test+secret/0123456789abcdef";

#[derive(Clone)]
struct Upload {
    bucket: String,
    key: String,
    initiated: SystemTime,
}

/// What an upload request said of its body: its operation, `x-amz-content-sha256` and
/// its flexible checksum (`x-amz-checksum-<algorithm>: value`), if any.
pub type PayloadHeaders = (&'static str, String, Option<String>);

/// s3s-fs with upload bookkeeping.
pub struct Tracked {
    fs: s3s_fs::FileSystem,
    root: std::path::PathBuf,
    uploads: Arc<Mutex<BTreeMap<String, Upload>>>,
    payloads: Arc<Mutex<Vec<PayloadHeaders>>>,
}

impl Tracked {
    fn note_payload<T>(&self, operation: &'static str, req: &S3Request<T>) {
        let header = |name: &str| req.headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
        self.payloads.lock().unwrap().push((
            operation,
            header("x-amz-content-sha256").unwrap_or_default(),
            ["crc64nvme", "crc32c", "crc32", "sha1", "sha256"]
                .iter()
                .find_map(|a| header(&format!("x-amz-checksum-{a}")).map(|v| format!("x-amz-checksum-{a}: {v}"))),
        ));
    }
}

/// The impl of `S3` for `Tracked`: the listed calls pass through, the rest is written out.
/// (async_trait must see every method, so the macro writes the whole impl.)
macro_rules! tracked {
    ($($name:ident : $input:ident => $output:ident;)* ; $($rest:tt)*) => {
        #[async_trait::async_trait]
        impl S3 for Tracked {
            $(
                async fn $name(&self, req: S3Request<$input>) -> S3Result<S3Response<$output>> {
                    self.fs.$name(req).await
                }
            )*
            $($rest)*
        }
    };
}

tracked! {
        create_bucket: CreateBucketInput => CreateBucketOutput;
        copy_object: CopyObjectInput => CopyObjectOutput;
        delete_bucket: DeleteBucketInput => DeleteBucketOutput;
        delete_object: DeleteObjectInput => DeleteObjectOutput;
        delete_objects: DeleteObjectsInput => DeleteObjectsOutput;
        get_bucket_location: GetBucketLocationInput => GetBucketLocationOutput;
        get_object: GetObjectInput => GetObjectOutput;
        head_bucket: HeadBucketInput => HeadBucketOutput;
        head_object: HeadObjectInput => HeadObjectOutput;
        list_buckets: ListBucketsInput => ListBucketsOutput;
        list_objects: ListObjectsInput => ListObjectsOutput;
        list_objects_v2: ListObjectsV2Input => ListObjectsV2Output;
        upload_part_copy: UploadPartCopyInput => UploadPartCopyOutput;
        list_parts: ListPartsInput => ListPartsOutput;
    ;

    async fn put_object(&self, req: S3Request<PutObjectInput>) -> S3Result<S3Response<PutObjectOutput>> {
        self.note_payload("PutObject", &req);
        self.fs.put_object(req).await
    }

    async fn upload_part(&self, req: S3Request<UploadPartInput>) -> S3Result<S3Response<UploadPartOutput>> {
        self.note_payload("UploadPart", &req);
        self.fs.upload_part(req).await
    }

    async fn create_multipart_upload(
        &self,
        req: S3Request<CreateMultipartUploadInput>,
    ) -> S3Result<S3Response<CreateMultipartUploadOutput>> {
        let (bucket, key) = (req.input.bucket.clone(), req.input.key.clone());
        let resp = self.fs.create_multipart_upload(req).await?;
        if let Some(id) = &resp.output.upload_id {
            self.uploads.lock().unwrap().insert(id.clone(), Upload { bucket, key, initiated: SystemTime::now() });
        }
        Ok(resp)
    }

    async fn complete_multipart_upload(
        &self,
        req: S3Request<CompleteMultipartUploadInput>,
    ) -> S3Result<S3Response<CompleteMultipartUploadOutput>> {
        let id = req.input.upload_id.clone();
        let resp = self.fs.complete_multipart_upload(req).await?;
        self.uploads.lock().unwrap().remove(&id);
        Ok(resp)
    }

    async fn abort_multipart_upload(
        &self,
        req: S3Request<AbortMultipartUploadInput>,
    ) -> S3Result<S3Response<AbortMultipartUploadOutput>> {
        let id = req.input.upload_id.clone();
        let resp = self.fs.abort_multipart_upload(req).await?;
        self.uploads.lock().unwrap().remove(&id);
        Ok(resp)
    }

    async fn list_multipart_uploads(
        &self,
        req: S3Request<ListMultipartUploadsInput>,
    ) -> S3Result<S3Response<ListMultipartUploadsOutput>> {
        let input = req.input;
        let prefix = input.prefix.clone().unwrap_or_default();
        let uploads: Vec<MultipartUpload> = self
            .uploads
            .lock()
            .unwrap()
            .iter()
            .filter(|(_, u)| u.bucket == input.bucket && u.key.starts_with(&prefix))
            // s3s-fs drops an upload by itself when a Complete fails midway: list what it still has.
            .filter(|(id, _)| self.root.join(format!(".upload-{id}.json")).exists())
            .map(|(id, u)| MultipartUpload {
                key: Some(u.key.clone()),
                upload_id: Some(id.clone()),
                initiated: Some(u.initiated.into()),
                ..Default::default()
            })
            .collect();
        Ok(S3Response::new(ListMultipartUploadsOutput {
            bucket: Some(input.bucket),
            prefix: input.prefix,
            is_truncated: Some(false),
            uploads: Some(uploads),
            ..Default::default()
        }))
    }
}

/// A running in-process server.
pub struct Server {
    pub addr: SocketAddr,
    payloads: Arc<Mutex<Vec<PayloadHeaders>>>,
    _dir: tempfile::TempDir,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Files of a test certificate authority.
pub struct Tls {
    /// PEM of the CA that signed the server's certificate.
    pub ca_path: std::path::PathBuf,
    _dir: tempfile::TempDir,
}

/// Host names the servers answer for (with their port), besides 127.0.0.1; the TLS
/// certificate covers the first two (and `*.s3.test`), not `nocert.test`.
pub const TEST_DOMAINS: [&str; 3] = ["localhost", "s3.test", "nocert.test"];

/// AWS endpoint names the server also answers for (virtual-hosted style under them).
pub const AWS_DOMAINS: [&str; 3] = [
    "s3-accelerate.amazonaws.com",
    "s3-accelerate.dualstack.amazonaws.com",
    "s3.dualstack.eu-west-3.amazonaws.com",
];

/// A CA, and a server certificate it signed for `localhost`, `s3.test` and `*.s3.test`.
fn tls_config() -> (Tls, tokio_rustls::TlsAcceptor) {
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "storages-s3 test CA");
    let ca = rcgen::CertifiedIssuer::self_signed(ca_params, rcgen::KeyPair::generate().unwrap()).unwrap();
    let leaf_key = rcgen::KeyPair::generate().unwrap();
    let names = vec!["localhost".to_string(), "s3.test".to_string(), "*.s3.test".to_string()];
    let leaf = rcgen::CertificateParams::new(names)
        .unwrap()
        .signed_by(&leaf_key, &ca)
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let ca_path = dir.path().join("ca.pem");
    std::fs::write(&ca_path, ca.pem()).unwrap();
    let key = rustls::pki_types::PrivateKeyDer::Pkcs8(leaf_key.serialize_der().into());
    let config =
        rustls::ServerConfig::builder_with_provider(std::sync::Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(vec![leaf.der().clone()], key)
            .unwrap();
    (
        Tls { ca_path, _dir: dir },
        tokio_rustls::TlsAcceptor::from(std::sync::Arc::new(config)),
    )
}

impl Server {
    /// Starts a server on 127.0.0.1 with its own empty directory.
    pub async fn start() -> Server {
        Self::start_with(None).await
    }

    /// Starts an HTTPS server; the returned CA signed its certificate.
    pub async fn start_tls() -> (Server, Tls) {
        let (tls, acceptor) = tls_config();
        (Self::start_with(Some(acceptor)).await, tls)
    }

    async fn start_with(tls: Option<tokio_rustls::TlsAcceptor>) -> Server {
        let dir = tempfile::tempdir().expect("temp dir");
        let fs = s3s_fs::FileSystem::new(dir.path()).expect("s3s-fs");
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().unwrap();
        let payloads: Arc<Mutex<Vec<PayloadHeaders>>> = Arc::default();
        let tracked = Tracked {
            fs,
            root: dir.path().to_owned(),
            uploads: Arc::default(),
            payloads: payloads.clone(),
        };
        let mut b = s3s::service::S3ServiceBuilder::new(tracked);
        b.set_auth(s3s::auth::SimpleAuth::from_single(ACCESS_KEY, SECRET_KEY));
        let port = addr.port();
        let mut domains: Vec<String> = TEST_DOMAINS.iter().map(|d| format!("{d}:{port}")).collect();
        domains.push(format!("127.0.0.1:{port}"));
        // AWS's own endpoint names, reached through resolver overrides on plain HTTP (port 80
        // in the URL, so none in the Host header).
        domains.extend(AWS_DOMAINS.iter().map(|d| d.to_string()));
        b.set_host(s3s::host::MultiDomain::new(domains).expect("domains"));
        let service = b.build();
        let task = tokio::spawn(async move {
            let http = ConnBuilder::new(TokioExecutor::new());
            loop {
                let Ok((socket, _)) = listener.accept().await else {
                    continue;
                };
                let (http, service, tls) = (http.clone(), service.clone(), tls.clone());
                tokio::spawn(async move {
                    match tls {
                        Some(acceptor) => {
                            let Ok(stream) = acceptor.accept(socket).await else {
                                return;
                            };
                            let _ = http.serve_connection(TokioIo::new(stream), service).await;
                        }
                        None => {
                            let _ = http.serve_connection(TokioIo::new(socket), service).await;
                        }
                    }
                });
            }
        });
        Server {
            addr,
            payloads,
            _dir: dir,
            task,
        }
    }

    /// Directory of the stored data.
    /// What each PutObject and UploadPart received said of its body, in order.
    pub fn payloads(&self) -> Vec<PayloadHeaders> {
        self.payloads.lock().unwrap().clone()
    }

    pub fn root(&self) -> &std::path::Path {
        self._dir.path()
    }
}
