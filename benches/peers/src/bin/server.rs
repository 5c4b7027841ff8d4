//! The S3 server of the peer benchmark: s3s-fs over a folder (on tmpfs), SigV4 checked
//! with one fixed key pair, HTTP/1.1 on 127.0.0.1, plain or over TLS.
//!
//! `server <root> [port]` prints `READY <s3 addr> <stats addr>` once listening. With
//! `PEERS_TLS_DIR=<dir>` set, it generates a CA and a certificate for `127.0.0.1` and
//! `localhost` signed by it, writes the CA to `<dir>/ca.pem` before `READY`, and speaks
//! HTTPS only (rustls with ring, its default protocol versions and cipher suites). The stats
//! address answers each TCP connection with the number of HTTP requests served so far
//! (that connection included) and closes it; the clients read it before and after each
//! phase. Runs until killed.
//!
//! One change to s3s-fs: a GetObject (of the whole object or of a range) streams the file in
//! 1 MiB reads
//! instead of s3s-fs's 4 KiB reads (each a round trip through tokio's blocking pool), so
//! that downloads measure the clients rather than the server; headers, ETag and everything
//! else still come from s3s-fs. Every other call goes to s3s-fs unchanged.

use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder as ConnBuilder;
use s3s::dto::*;
use s3s::{S3, S3Request, S3Response, S3Result};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpListener;

fn main() {
    let mut args = std::env::args().skip(1);
    let root = args.next().expect("usage: server <root> [port]");
    let port: u16 = args.next().map_or(0, |p| p.parse().expect("port"));
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(serve(root, port));
}

async fn serve(root: String, port: u16) {
    let fs = s3s_fs::FileSystem::new(&root).expect("s3s-fs root");
    let root = std::fs::canonicalize(&root).expect("root");
    let mut b = s3s::service::S3ServiceBuilder::new(Fs { fs, root });
    b.set_auth(s3s::auth::SimpleAuth::from_single(peers::ACCESS_KEY, peers::SECRET_KEY));
    let service = b.build();

    let tls = std::env::var_os("PEERS_TLS_DIR").map(|dir| acceptor(std::path::Path::new(&dir)));
    let listener = TcpListener::bind(("127.0.0.1", port)).await.expect("bind");
    let stats = TcpListener::bind("127.0.0.1:0").await.expect("bind stats");
    let requests = Arc::new(AtomicU64::new(0));
    println!(
        "READY {} {}",
        listener.local_addr().unwrap(),
        stats.local_addr().unwrap()
    );

    let counter = requests.clone();
    tokio::spawn(async move {
        loop {
            let Ok((mut socket, _)) = stats.accept().await else {
                continue;
            };
            let n = counter.fetch_add(1, Ordering::Relaxed) + 1;
            let _ = socket.write_all(format!("{n}\n").as_bytes()).await;
            let _ = socket.shutdown().await;
        }
    });

    let http = ConnBuilder::new(TokioExecutor::new()).http1_only();
    loop {
        let Ok((socket, _)) = listener.accept().await else {
            continue;
        };
        let _ = socket.set_nodelay(true);
        let (http, service, requests, tls) = (http.clone(), service.clone(), requests.clone(), tls.clone());
        tokio::spawn(async move {
            let counted = hyper::service::service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
                requests.fetch_add(1, Ordering::Relaxed);
                let service = service.clone();
                async move {
                    let resp = hyper::service::Service::call(&service, req).await;
                    Ok::<_, Infallible>(resp.unwrap_or_else(|e| {
                        let mut r = hyper::Response::new(s3s::Body::from(format!("{e:?}")));
                        *r.status_mut() = hyper::StatusCode::INTERNAL_SERVER_ERROR;
                        r
                    }))
                }
            });
            match tls {
                Some(acceptor) => {
                    let Ok(stream) = acceptor.accept(socket).await else {
                        return;
                    };
                    let _ = http.serve_connection(TokioIo::new(stream), counted).await;
                }
                None => {
                    let _ = http.serve_connection(TokioIo::new(socket), counted).await;
                }
            }
        });
    }
}

/// A CA made for this run, and the server's certificate it signed; the CA goes to
/// `<dir>/ca.pem` for the clients to trust.
fn acceptor(dir: &std::path::Path) -> tokio_rustls::TlsAcceptor {
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).expect("CA params");
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "peers benchmark CA");
    let ca = rcgen::CertifiedIssuer::self_signed(ca_params, rcgen::KeyPair::generate().expect("CA key")).expect("CA");
    let key = rcgen::KeyPair::generate().expect("server key");
    let names = vec!["127.0.0.1".to_string(), "localhost".to_string()];
    let cert = rcgen::CertificateParams::new(names)
        .expect("params")
        .signed_by(&key, &ca)
        .expect("certificate");
    std::fs::write(dir.join("ca.pem"), ca.pem()).expect("write ca.pem");
    let key = rustls::pki_types::PrivateKeyDer::Pkcs8(key.serialize_der().into());
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .expect("protocol versions")
        .with_no_client_auth()
        .with_single_cert(vec![cert.der().clone()], key)
        .expect("server config");
    tokio_rustls::TlsAcceptor::from(Arc::new(config))
}

/// s3s-fs, with GETs (whole or ranged) read in 1 MiB pieces.
struct Fs {
    fs: s3s_fs::FileSystem,
    root: std::path::PathBuf,
}

macro_rules! pass_through {
    ($($name:ident : $input:ident => $output:ident;)* ; $($rest:tt)*) => {
        #[async_trait::async_trait]
        impl S3 for Fs {
            $(
                async fn $name(&self, req: S3Request<$input>) -> S3Result<S3Response<$output>> {
                    self.fs.$name(req).await
                }
            )*
            $($rest)*
        }
    };
}

pass_through! {
    create_bucket: CreateBucketInput => CreateBucketOutput;
    delete_bucket: DeleteBucketInput => DeleteBucketOutput;
    head_bucket: HeadBucketInput => HeadBucketOutput;
    list_buckets: ListBucketsInput => ListBucketsOutput;
    get_bucket_location: GetBucketLocationInput => GetBucketLocationOutput;
    put_object: PutObjectInput => PutObjectOutput;
    head_object: HeadObjectInput => HeadObjectOutput;
    delete_object: DeleteObjectInput => DeleteObjectOutput;
    delete_objects: DeleteObjectsInput => DeleteObjectsOutput;
    list_objects: ListObjectsInput => ListObjectsOutput;
    list_objects_v2: ListObjectsV2Input => ListObjectsV2Output;
    copy_object: CopyObjectInput => CopyObjectOutput;
    create_multipart_upload: CreateMultipartUploadInput => CreateMultipartUploadOutput;
    upload_part: UploadPartInput => UploadPartOutput;
    complete_multipart_upload: CompleteMultipartUploadInput => CompleteMultipartUploadOutput;
    abort_multipart_upload: AbortMultipartUploadInput => AbortMultipartUploadOutput;
    list_parts: ListPartsInput => ListPartsOutput;
    ;

    async fn get_object(&self, req: S3Request<GetObjectInput>) -> S3Result<S3Response<GetObjectOutput>> {
        use tokio::io::{AsyncReadExt, AsyncSeekExt};
        let by_part = req.input.part_number.is_some();
        let path = self.root.join(&req.input.bucket).join(&req.input.key);
        let mut resp = self.fs.get_object(req).await?;
        // The bytes s3s-fs chose to send (the whole object, or the range it answered with
        // `Content-Range: bytes first-last/total`), read again in 1 MiB pieces.
        let first = match resp.output.content_range.as_deref() {
            None => Some(0),
            Some(range) => range
                .strip_prefix("bytes ")
                .and_then(|r| r.split_once('-'))
                .and_then(|(first, _)| first.parse::<u64>().ok()),
        };
        let len = resp.output.content_length.and_then(|l| u64::try_from(l).ok());
        if let (false, Some(first), Some(len), Some(_)) = (by_part, first, len, resp.output.body.as_ref()) {
            if let Ok(mut file) = tokio::fs::File::open(&path).await {
                if file.seek(std::io::SeekFrom::Start(first)).await.is_ok() {
                    let stream = tokio_util::io::ReaderStream::with_capacity(file.take(len), 1 << 20);
                    resp.output.body = Some(StreamingBlob::wrap(stream));
                }
            }
        }
        Ok(resp)
    }
}
