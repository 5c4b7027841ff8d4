//! The workload through object_store's AmazonS3 (endpoint, allow_http, path-style, static
//! credentials). The large object goes through `put_multipart` + `WriteMultipart` with
//! 8 MiB chunks and `wait_for_capacity(10)` before each write: at most 10 parts in flight.
//! Over HTTPS the run's CA is added as a root certificate (`ClientOptions`).

use std::sync::Arc;

use bytes::Bytes;
use futures::StreamExt;
use object_store::aws::{AmazonS3, AmazonS3Builder};
use object_store::path::Path;
use object_store::{Certificate, ClientOptions, ObjectStore, ObjectStoreExt, PutPayload, WriteMultipart};
use peers::{Env, Peer};

#[derive(Clone)]
struct Os(Arc<AmazonS3>);

impl Peer for Os {
    async fn put(&self, key: String, body: Bytes) {
        self.0.put(&Path::from(key), PutPayload::from(body)).await.expect("put");
    }

    /// object_store has no parallel download: one streamed GET into the file.
    async fn download(&self, key: String, path: std::path::PathBuf, _concurrency: usize) -> u64 {
        use tokio::io::AsyncWriteExt;
        let out = self.0.get(&Path::from(key)).await.expect("get");
        let file = tokio::fs::File::create(&path).await.expect("create the file");
        let mut file = tokio::io::BufWriter::with_capacity(256 * 1024, file);
        let mut stream = out.into_stream();
        let mut got = 0u64;
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.expect("get body");
            got += chunk.len() as u64;
            file.write_all(&chunk).await.expect("write the file");
        }
        file.flush().await.expect("write the file");
        file.into_inner().sync_all().await.expect("sync the file");
        got
    }

    async fn get(&self, key: String) -> u64 {
        let out = self.0.get(&Path::from(key)).await.expect("get");
        let mut stream = out.into_stream();
        let mut got = 0u64;
        while let Some(chunk) = stream.next().await {
            got += chunk.expect("get body").len() as u64;
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
        let upload = self.0.put_multipart(&Path::from(key)).await.expect("put_multipart");
        let mut writer = WriteMultipart::new_with_chunk_size(upload, part_size);
        let mut total = 0u64;
        for _ in 0..pieces {
            writer.wait_for_capacity(concurrency).await.expect("capacity");
            writer.write(piece);
            total += piece.len() as u64;
        }
        writer.finish().await.expect("finish");
        total
    }

    async fn list(&self, prefix: String, _page: usize) -> u64 {
        // object_store sends no max-keys: the server's default page (1,000) applies.
        let prefix = (!prefix.is_empty()).then(|| Path::from(prefix.trim_end_matches('/')));
        let mut stream = self.0.list(prefix.as_ref());
        let mut n = 0u64;
        while let Some(meta) = stream.next().await {
            meta.expect("list");
            n += 1;
        }
        n
    }

    async fn delete(&self, keys: Vec<String>) {
        let paths = futures::stream::iter(keys.into_iter().map(|k| Ok(Path::from(k)))).boxed();
        let mut results = self.0.delete_stream(paths);
        while let Some(r) = results.next().await {
            r.expect("delete");
        }
    }
}

fn main() {
    let env = Env::from_env();
    let mut options = ClientOptions::new();
    if let Some(ca) = &env.ca_file {
        let pem = std::fs::read(ca).expect("CA file");
        options = options.with_root_certificate(Certificate::from_pem(&pem).expect("CA certificate"));
    }
    let store = AmazonS3Builder::new()
        .with_client_options(options)
        .with_endpoint(&env.endpoint)
        .with_allow_http(true)
        .with_virtual_hosted_style_request(false)
        .with_region(&env.region)
        .with_bucket_name(&env.bucket)
        .with_access_key_id(&env.access_key)
        .with_secret_access_key(&env.secret_key)
        .build()
        .expect("AmazonS3");
    let rt = peers::runtime();
    rt.block_on(peers::workload("object_store", Os(Arc::new(store)), &env));
}
