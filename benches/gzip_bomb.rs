//! Memory of reading a gzip bomb: an object stored with `Content-Encoding: gzip` whose
//! ~1 MiB of gzip inflates to 1 GiB of zeros, opened through `S3Storage::open` (reads are
//! decompressed) and read to the end in 8 KiB reads, against the in-process S3 server of
//! the tests. Prints the peak RSS growth (`VmHWM`, reset before the read where the kernel
//! allows it) and the read rate.
//!
//! What it shows: memory follows what the caller reads (a few reads' worth), not the
//! compression ratio of what the server sends. `cargo bench --bench gzip_bomb`;
//! `GZIP_BOMB_MIB` sets the inflated size (default 1024).

#[allow(dead_code)]
#[path = "../tests/it/common/server.rs"]
mod server;
#[path = "support/rss.rs"]
mod support_rss;

use support_rss::{reset_peak, rss};

use std::io::Write as _;
use std::time::Instant;

use storages_s3::S3Storage;
use storages_s3::config::ObjectParameters;
use storages_s3::http::Body;
use tokio::io::AsyncReadExt;

const MIB: u64 = 1024 * 1024;

/// Gzip of `mib` MiB of zeros, made in pieces so the bench itself stays small.
fn bomb(mib: u64) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    let zeros = vec![0u8; MIB as usize];
    for _ in 0..mib {
        encoder.write_all(&zeros).unwrap();
    }
    encoder.finish().unwrap()
}

async fn run(mib: u64) {
    let server = server::Server::start().await;
    let storage = S3Storage::builder()
        .no_globals()
        .option("bucket_name", "bomb")
        .option("access_key", server::ACCESS_KEY)
        .option("secret_key", server::SECRET_KEY)
        .option("region_name", "us-east-1")
        .option("endpoint_url", format!("http://127.0.0.1:{}", server.addr.port()))
        .option("addressing_style", "path")
        .build()
        .expect("storage");
    storage.client().create_bucket().await.expect("bucket");
    let zipped = bomb(mib);
    let params: ObjectParameters = r#"{"ContentEncoding": "gzip", "ContentType": "application/octet-stream"}"#
        .parse()
        .unwrap();
    storage
        .client()
        .put_object("bomb.bin", Body::from(zipped.clone()), &params)
        .await
        .expect("put");
    let compressed = zipped.len() as u64;
    drop(zipped);

    let mut file = storage.open("bomb.bin", "rb").await.expect("open");
    let reset = reset_peak();
    let before = rss().current;
    let started = Instant::now();
    let mut buf = vec![0u8; 8 * 1024];
    let mut total = 0u64;
    loop {
        let n = file.read(&mut buf).await.expect("read");
        if n == 0 {
            break;
        }
        total += n as u64;
    }
    let elapsed = started.elapsed();
    let peak = rss().peak;
    assert_eq!(total, mib * MIB, "every inflated byte read");
    println!(
        "gzip_bomb: {:.2} MiB of gzip inflated to {} MiB, read in 8 KiB reads in {:.2} s ({:.0} MiB/s); \
         peak RSS growth {:.1} MiB over {:.1} MiB ({})",
        compressed as f64 / MIB as f64,
        total / MIB,
        elapsed.as_secs_f64(),
        (total / MIB) as f64 / elapsed.as_secs_f64(),
        peak.saturating_sub(before) as f64 / MIB as f64,
        before as f64 / MIB as f64,
        if reset {
            "peak reset before the read"
        } else {
            "peak since start: reset refused"
        },
    );
}

fn main() {
    let mib = std::env::var("GZIP_BOMB_MIB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1024);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    runtime.block_on(run(mib));
}
