//! The workload through this crate's `s3::Client` (and `multipart::Upload` for the large
//! object): 8 MiB parts, 10 in flight (the crate's defaults, set here explicitly).
//!
//! The payload signing policy is the default (`auto`): over HTTP every body is signed
//! (SHA-256), over HTTPS bodies go as `UNSIGNED-PAYLOAD`, with no checksum for a custom
//! endpoint without a provider preset. `PEERS_CHECKSUMS=when_supported` (client name
//! `storages-s3+crc32`) adds a CRC32 checksum to every upload, as aws-sdk-s3 does by default.
//! Over HTTPS the run's CA is given as `verify` (a CA bundle path).

use std::collections::HashMap;

use bytes::Bytes;
use peers::{Env, Peer};
use storages_s3::Settings;
use storages_s3::config::ObjectParameters;
use storages_s3::http::Body;
use storages_s3::s3::Client;
use storages_s3::s3::ListObjectsInput;
use storages_s3::s3::{DownloadOptions, Upload, UploadOptions};

#[derive(Clone)]
struct Ours(Client);

impl Peer for Ours {
    async fn put(&self, key: String, body: Bytes) {
        self.0
            .put_object(&key, Body::from(body), &ObjectParameters::new())
            .await
            .expect("put_object");
    }

    async fn get(&self, key: String) -> u64 {
        let mut out = self.0.get_object(&key, None).await.expect("get_object");
        let mut got = 0u64;
        while let Some(chunk) = out.body.chunk().await {
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
        // The client was built with `max_concurrency = concurrency` (see `connect`).
        let _ = concurrency;
        let options = UploadOptions {
            part_size: Some(part_size as u64),
            ..UploadOptions::default()
        };
        let mut upload = Upload::new(&self.0, &key, options).expect("upload");
        assert_eq!(upload.part_size(), part_size);
        for _ in 0..pieces {
            upload.write(piece).await.expect("upload write");
        }
        upload.finish().await.expect("upload finish").size
    }

    async fn list(&self, prefix: String, page: usize) -> u64 {
        let input = ListObjectsInput {
            prefix: (!prefix.is_empty()).then_some(prefix),
            max_keys: Some(page as u32),
            ..ListObjectsInput::default()
        };
        let mut pages = self.0.list_objects(input);
        let mut n = 0u64;
        while let Some(page) = pages.next_page().await {
            n += page.expect("list page").objects.len() as u64;
        }
        n
    }

    async fn download(&self, key: String, path: std::path::PathBuf, concurrency: usize) -> u64 {
        // One stream for 1 (no object is above the threshold), else 8 MiB parts.
        let options = DownloadOptions {
            threshold: (concurrency == 1).then_some(u64::MAX),
            part_size: Some(8 << 20),
            max_concurrency: Some(concurrency),
            ..DownloadOptions::default()
        };
        let got = self.0.download_to_path(&key, &path, options).await.expect("download");
        assert_eq!(got.parts > 1, concurrency > 1, "parts: {}", got.parts);
        got.size
    }

    fn downloads_in_parts(&self) -> bool {
        true
    }

    async fn delete(&self, keys: Vec<String>) {
        let refs: Vec<&str> = keys.iter().map(String::as_str).collect();
        let result = self.0.delete_objects(&refs).await.expect("delete_objects");
        assert!(result.errors.is_empty(), "delete errors: {:?}", result.errors.len());
    }
}

fn main() {
    let env = Env::from_env();
    let mut o: HashMap<String, String> = HashMap::new();
    o.insert("bucket_name".into(), env.bucket.clone());
    o.insert("access_key".into(), env.access_key.clone());
    o.insert("secret_key".into(), env.secret_key.clone());
    o.insert("region_name".into(), env.region.clone());
    o.insert("endpoint_url".into(), env.endpoint.clone());
    o.insert("addressing_style".into(), "path".into());
    o.insert(
        "transfer_config".into(),
        format!(
            r#"{{"multipart_chunksize": {}, "max_concurrency": {}}}"#,
            env.sizes.part_size, env.sizes.part_concurrency
        ),
    );
    let checksums = std::env::var("PEERS_CHECKSUMS").unwrap_or_else(|_| "when_required".into());
    let name = match checksums.as_str() {
        "when_required" => "storages-s3",
        "when_supported" => "storages-s3+crc32",
        other => panic!("PEERS_CHECKSUMS={other}: when_required or when_supported"),
    };
    o.insert("request_checksum_calculation".into(), checksums.clone());
    if let Some(ca) = &env.ca_file {
        o.insert("verify".into(), ca.clone());
    }
    let settings = Settings::builder().options(o).no_globals().build().expect("settings");
    let rt = peers::runtime();
    rt.block_on(async {
        let client = Client::new(&settings).expect("client");
        peers::workload(name, Ours(client), &env).await;
    });
}
