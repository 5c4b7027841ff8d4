//! The workload through aws-sdk-s3 (behavior version latest, path-style, static
//! credentials, endpoint_url). The large object is a manual multipart upload: parts built
//! from the same 1 MiB pieces (copied into an 8 MiB buffer, as the other clients do), at most
//! 10 UploadPart requests in flight.
//!
//! `PEERS_AWS_CHECKSUMS=when_required` (the default here) sets request checksum calculation
//! and response checksum validation to `WhenRequired`, the behaviour of the other clients;
//! `when_supported` keeps the SDK's default CRC32 checksums on every upload and validation
//! on download.
//!
//! Over HTTPS the SDK's own client (rustls with aws-lc, as `default-https-client` builds it)
//! is built with a trust store holding only the run's CA.

use aws_sdk_s3::config::{Credentials, Region, RequestChecksumCalculation, ResponseChecksumValidation};
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart, Delete, ObjectIdentifier};
use bytes::{Bytes, BytesMut};
use peers::{Env, Peer};

#[derive(Clone)]
struct Sdk {
    client: aws_sdk_s3::Client,
    bucket: String,
}

impl Sdk {
    /// A GetObject's body, streaming.
    async fn body(&self, key: String) -> ByteStream {
        let out = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
            .expect("get_object");
        out.body
    }
}

impl Peer for Sdk {
    async fn put(&self, key: String, body: Bytes) {
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .body(ByteStream::from(body))
            .send()
            .await
            .expect("put_object");
    }

    /// aws-sdk-s3 has no parallel download of its own (the transfer manager is a crate of
    /// its own, in preview): one streamed GET into the file.
    async fn download(&self, key: String, path: std::path::PathBuf, _concurrency: usize) -> u64 {
        use tokio::io::AsyncWriteExt;
        let mut body = self.body(key).await;
        let file = tokio::fs::File::create(&path).await.expect("create the file");
        let mut file = tokio::io::BufWriter::with_capacity(256 * 1024, file);
        let mut got = 0u64;
        while let Some(chunk) = body.next().await {
            let chunk = chunk.expect("get_object body");
            got += chunk.len() as u64;
            file.write_all(&chunk).await.expect("write the file");
        }
        file.flush().await.expect("write the file");
        file.into_inner().sync_all().await.expect("sync the file");
        got
    }

    async fn get(&self, key: String) -> u64 {
        let mut body = self.body(key).await;
        let mut got = 0u64;
        while let Some(chunk) = body.next().await {
            got += chunk.expect("get_object body").len() as u64;
        }
        got
    }

    async fn multipart(
        &self,
        key: String,
        piece: &'static [u8],
        pieces: usize,
        part_size: usize,
        concurrency: usize,
    ) -> u64 {
        let created = self
            .client
            .create_multipart_upload()
            .bucket(&self.bucket)
            .key(&key)
            .send()
            .await
            .expect("create_multipart_upload");
        let upload_id = created.upload_id().expect("upload id").to_owned();
        let mut tasks = tokio::task::JoinSet::new();
        let mut parts: Vec<CompletedPart> = Vec::new();
        let mut buf = BytesMut::with_capacity(part_size);
        let mut part_number = 0i32;
        let mut total = 0u64;
        let mut send = |buf: Bytes, tasks: &mut tokio::task::JoinSet<CompletedPart>| {
            part_number += 1;
            let n = part_number;
            let (client, bucket, key, id) = (self.client.clone(), self.bucket.clone(), key.clone(), upload_id.clone());
            tasks.spawn(async move {
                let out = client
                    .upload_part()
                    .bucket(bucket)
                    .key(key)
                    .upload_id(id)
                    .part_number(n)
                    .body(ByteStream::from(buf))
                    .send()
                    .await
                    .expect("upload_part");
                CompletedPart::builder().set_e_tag(out.e_tag).part_number(n).build()
            });
        };
        for _ in 0..pieces {
            let mut data = piece;
            while !data.is_empty() {
                let take = (part_size - buf.len()).min(data.len());
                buf.extend_from_slice(&data[..take]);
                data = &data[take..];
                total += take as u64;
                if buf.len() == part_size {
                    while tasks.len() >= concurrency {
                        parts.push(tasks.join_next().await.expect("task").expect("part"));
                    }
                    let full = std::mem::replace(&mut buf, BytesMut::with_capacity(part_size)).freeze();
                    send(full, &mut tasks);
                }
            }
        }
        if !buf.is_empty() {
            send(buf.freeze(), &mut tasks);
        }
        while let Some(part) = tasks.join_next().await {
            parts.push(part.expect("part"));
        }
        parts.sort_by_key(|p| p.part_number());
        self.client
            .complete_multipart_upload()
            .bucket(&self.bucket)
            .key(&key)
            .upload_id(&upload_id)
            .multipart_upload(CompletedMultipartUpload::builder().set_parts(Some(parts)).build())
            .send()
            .await
            .expect("complete_multipart_upload");
        total
    }

    async fn list(&self, prefix: String, page: usize) -> u64 {
        let mut pages = self
            .client
            .list_objects_v2()
            .bucket(&self.bucket)
            .prefix(prefix)
            .max_keys(page as i32)
            .into_paginator()
            .send();
        let mut n = 0u64;
        while let Some(page) = pages.next().await {
            n += page.expect("list page").contents().len() as u64;
        }
        n
    }

    async fn delete(&self, keys: Vec<String>) {
        for batch in keys.chunks(1000) {
            let objects: Vec<ObjectIdentifier> = batch
                .iter()
                .map(|k| ObjectIdentifier::builder().key(k).build().expect("identifier"))
                .collect();
            let out = self
                .client
                .delete_objects()
                .bucket(&self.bucket)
                .delete(
                    Delete::builder()
                        .set_objects(Some(objects))
                        .quiet(true)
                        .build()
                        .expect("delete"),
                )
                .send()
                .await
                .expect("delete_objects");
            assert!(out.errors().is_empty(), "delete errors: {}", out.errors().len());
        }
    }
}

fn main() {
    let env = Env::from_env();
    let rt = peers::runtime();
    rt.block_on(async {
        let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest());
        if let Some(ca) = &env.ca_file {
            use aws_smithy_http_client::tls::{Provider, TlsContext, TrustStore, rustls_provider::CryptoMode};
            let pem = std::fs::read(ca).expect("CA file");
            let tls = TlsContext::builder()
                .with_trust_store(TrustStore::empty().with_pem_certificate(pem))
                .build()
                .expect("TLS context");
            let http = aws_smithy_http_client::Builder::new()
                .tls_provider(Provider::Rustls(CryptoMode::AwsLc))
                .tls_context(tls)
                .build_https();
            loader = loader.http_client(http);
        }
        let shared = loader
            .region(Region::new(env.region.clone()))
            .credentials_provider(Credentials::new(&env.access_key, &env.secret_key, None, None, "static"))
            .endpoint_url(&env.endpoint)
            .load()
            .await;
        let mut conf = aws_sdk_s3::config::Builder::from(&shared).force_path_style(true);
        let checksums = std::env::var("PEERS_AWS_CHECKSUMS").unwrap_or_else(|_| "when_required".into());
        match checksums.as_str() {
            "when_required" => {
                conf = conf
                    .request_checksum_calculation(RequestChecksumCalculation::WhenRequired)
                    .response_checksum_validation(ResponseChecksumValidation::WhenRequired);
            }
            "when_supported" => {}
            other => panic!("PEERS_AWS_CHECKSUMS={other}: when_required or when_supported"),
        }
        let client = aws_sdk_s3::Client::from_conf(conf.build());
        let name = if checksums == "when_supported" {
            "aws-sdk-s3+crc32"
        } else {
            "aws-sdk-s3"
        };
        peers::workload(
            name,
            Sdk {
                client,
                bucket: env.bucket.clone(),
            },
            &env,
        )
        .await;
    });
}
