//! Throughput and memory against the in-process S3 server of the tests (s3s + s3s-fs over
//! a temporary directory, SigV4 checked), on a multi-thread tokio runtime:
//!
//! - (a) 1,000 PutObject then 1,000 GetObject of 64 KiB objects, 16 tasks at a time:
//!   objects/s and MiB/s for each direction;
//! - (b) a 256 MiB upload through `multipart::Upload`, written in 1 MiB pieces from one
//!   reused buffer, with the default transfer config (8 MiB parts, 10 in flight): MiB/s;
//! - (c) the download of that object, streamed through `ObjectBody::chunk` without keeping
//!   the bytes: MiB/s;
//! - peak RSS (`VmHWM`) after (b) and after (c), and the RSS before (b) as baseline;
//! - (d) a 1 GiB write through `S3File` (`storage.open(name, "wb")`, 1 MiB `write_all`s,
//!   parts of `file_buffer_size` = 5 MiB): MiB/s, and its peak RSS growth against
//!   `file_buffer_size x (max_concurrency + 1) + 32 MiB` = 87 MiB;
//! - (e) `collectstatic` of 1,000 small files with the default concurrency: files/s, then a
//!   second run of the unchanged tree, which must upload nothing.
//!
//! Memory target (DESIGN.md / `multipart`): an upload holds at most
//! `part_size x (max_concurrency + 1)` bytes, so peak RSS should grow by less than
//! 8 MiB x 11 + 32 MiB = 120 MiB over the baseline. The server runs in this process (its
//! request handling, buffers and file writes count in the RSS too), so the figure is an
//! upper bound for the client alone. Before (b) and before (c) the peak is reset (writing
//! `5` to `/proc/self/clear_refs`) when the kernel allows it, so that each peak is that
//! phase's own; otherwise it is the peak since the process started and says so.
//!
//! Not criterion: it measures MiB/s and RSS. `cargo bench --bench throughput` runs the full
//! sizes; `THROUGHPUT_QUICK=1` (or running without `--bench`, as `cargo test --benches`
//! does) runs 100 objects and 32 MiB as a smoke test. The server's temporary directory is
//! removed at the end.

#[allow(dead_code)]
#[path = "../tests/it/common/server.rs"]
mod server;
#[path = "support/rss.rs"]
mod support_rss;

use support_rss::{Rss, reset_peak, rss};

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use storages_s3::Settings;
use storages_s3::config::ObjectParameters;
use storages_s3::http::Body;
use storages_s3::s3::Client;
use storages_s3::s3::{Upload, UploadOptions};
use tokio::task::JoinSet;

const KIB: usize = 1024;
const MIB: usize = 1024 * 1024;

struct Sizes {
    objects: usize,
    object_size: usize,
    tasks: usize,
    big_mib: usize,
    file_mib: usize,
    static_files: usize,
    piece: usize,
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / MIB as f64
}

fn rate(bytes: u64, elapsed: Duration) -> f64 {
    mib(bytes) / elapsed.as_secs_f64()
}

fn client_for(server: &server::Server, bucket: &str) -> Client {
    let settings = Settings::builder()
        .options(settings_for(server, bucket))
        .no_globals()
        .build()
        .expect("bench settings");
    Client::new(&settings).expect("client")
}

fn settings_for(server: &server::Server, bucket: &str) -> HashMap<String, String> {
    let mut o: HashMap<String, String> = HashMap::new();
    o.insert("bucket_name".into(), bucket.into());
    o.insert("access_key".into(), server::ACCESS_KEY.into());
    o.insert("secret_key".into(), server::SECRET_KEY.into());
    o.insert("region_name".into(), "us-east-1".into());
    o.insert(
        "endpoint_url".into(),
        format!("http://127.0.0.1:{}", server.addr.port()),
    );
    o.insert("addressing_style".into(), "path".into());
    o.insert(
        "transfer_config".into(),
        format!(
            r#"{{"multipart_chunksize": {}, "max_concurrency": {}, "multipart_threshold": {}}}"#,
            TRANSFER.multipart_chunksize, TRANSFER.max_concurrency, TRANSFER.multipart_threshold
        ),
    );
    o
}

/// The transfer settings the benchmark runs with (boto3's defaults, as the crate's).
struct Transfer {
    multipart_chunksize: u64,
    max_concurrency: usize,
    multipart_threshold: u64,
}

const TRANSFER: Transfer = Transfer {
    multipart_chunksize: 8 * MIB as u64,
    max_concurrency: 10,
    multipart_threshold: 8 * MIB as u64,
};

/// Runs `op(i)` for every `i < n`, `tasks` at a time; returns the elapsed time.
async fn concurrently<F, Fut>(n: usize, tasks: usize, op: F) -> Duration
where
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send,
{
    let next = Arc::new(AtomicUsize::new(0));
    let op = Arc::new(op);
    let started = Instant::now();
    let mut set = JoinSet::new();
    for _ in 0..tasks {
        let (next, op) = (next.clone(), op.clone());
        set.spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= n {
                    break;
                }
                op(i).await;
            }
        });
    }
    while let Some(r) = set.join_next().await {
        r.expect("bench task");
    }
    started.elapsed()
}

fn small_key(i: usize) -> String {
    format!("bench/small/{i:05}.bin")
}

async fn run(sizes: Sizes) {
    let server = server::Server::start().await;
    let client = client_for(&server, "bench-throughput");
    client.create_bucket().await.expect("create bucket");
    let transfer = TRANSFER;
    println!(
        "server: s3s-fs on {} (in process), data in {}",
        server.addr,
        server.root().display()
    );
    println!(
        "runtime: multi-thread, {} worker threads; transfer: {} MiB parts, {} in flight, threshold {} MiB",
        std::thread::available_parallelism().map_or(1, |n| n.get()),
        transfer.multipart_chunksize / MIB as u64,
        transfer.max_concurrency,
        transfer.multipart_threshold / MIB as u64,
    );

    // (a) Small objects.
    let n = sizes.objects;
    let size = sizes.object_size;
    let payload = Bytes::from((0..size).map(|i| (i % 251) as u8).collect::<Vec<u8>>());
    let total = (n * size) as u64;
    let elapsed = {
        let (client, payload) = (client.clone(), payload.clone());
        concurrently(n, sizes.tasks, move |i| {
            let (client, body) = (client.clone(), Body::from(payload.clone()));
            async move {
                client
                    .put_object(&small_key(i), body, &ObjectParameters::new())
                    .await
                    .expect("put_object");
            }
        })
        .await
    };
    println!(
        "put_{}k: {n} objects in {:.2} s = {:.0} obj/s = {:.1} MiB/s ({} tasks)",
        size / KIB,
        elapsed.as_secs_f64(),
        n as f64 / elapsed.as_secs_f64(),
        rate(total, elapsed),
        sizes.tasks
    );
    let elapsed = {
        let client = client.clone();
        concurrently(n, sizes.tasks, move |i| {
            let client = client.clone();
            async move {
                let mut out = client.get_object(&small_key(i), None).await.expect("get_object");
                let mut got = 0;
                while let Some(chunk) = out.body.chunk().await {
                    got += chunk.expect("get_object body").len();
                }
                assert_eq!(got, size, "object {i} size");
            }
        })
        .await
    };
    println!(
        "get_{}k: {n} objects in {:.2} s = {:.0} obj/s = {:.1} MiB/s ({} tasks)",
        size / KIB,
        elapsed.as_secs_f64(),
        n as f64 / elapsed.as_secs_f64(),
        rate(total, elapsed),
        sizes.tasks
    );
    drop(payload);

    // (b) Multipart upload from one reused buffer.
    let piece: Vec<u8> = (0..sizes.piece).map(|i| (i % 253) as u8).collect();
    let big = (sizes.big_mib * MIB) as u64;
    let pieces = big as usize / sizes.piece;
    let big_key = "bench/big.bin";
    let before = rss();
    println!(
        "rss_baseline: VmRSS {:.1} MiB before the upload (VmHWM so far {:.1} MiB, after the small objects)",
        mib(before.current),
        mib(before.peak)
    );
    let target = transfer.multipart_chunksize * (transfer.max_concurrency as u64 + 1) + 32 * MIB as u64;
    // `start` is the RSS when the phase began (the baseline for the upload).
    let report_peak = |phase: &str, reset: bool, start: Rss| {
        let after = rss();
        let growth = after.peak.saturating_sub(before.current);
        println!(
            "rss_after_{phase}: VmHWM {:.1} MiB ({}), growth over baseline {:.1} MiB (over the phase's start {:.1} MiB), \
             target < {:.0} MiB: {}; VmRSS now {:.1} MiB",
            mib(after.peak),
            if reset {
                "peak of this phase"
            } else {
                "peak since start: clear_refs refused"
            },
            mib(growth),
            mib(after.peak.saturating_sub(start.current)),
            mib(target),
            if growth < target { "met" } else { "NOT met" },
            mib(after.current),
        );
    };

    let reset = reset_peak();
    let start = rss();
    let started = Instant::now();
    let mut upload = Upload::new(&client, big_key, UploadOptions::default()).expect("upload");
    let part_size = upload.part_size();
    for _ in 0..pieces {
        upload.write(&piece).await.expect("upload write");
    }
    let outcome = upload.finish().await.expect("upload finish");
    let elapsed = started.elapsed();
    assert_eq!(outcome.size, big);
    println!(
        "multipart_put: {} MiB in {:.2} s = {:.1} MiB/s ({} parts of {} MiB, {} in flight, {} KiB writes)",
        sizes.big_mib,
        elapsed.as_secs_f64(),
        rate(big, elapsed),
        outcome.parts,
        part_size / MIB,
        transfer.max_concurrency,
        sizes.piece / KIB,
    );
    report_peak("upload", reset, start);

    // (c) Streaming download, bytes dropped as they come.
    let reset = reset_peak();
    let start = rss();
    let started = Instant::now();
    let mut out = client.get_object(big_key, None).await.expect("get big");
    let (mut got, mut chunks) = (0u64, 0u64);
    while let Some(chunk) = out.body.chunk().await {
        got += chunk.expect("big body").len() as u64;
        chunks += 1;
    }
    let elapsed = started.elapsed();
    assert_eq!(got, big);
    println!(
        "stream_get: {} MiB in {:.2} s = {:.1} MiB/s ({chunks} chunks, {:.0} KiB average)",
        sizes.big_mib,
        elapsed.as_secs_f64(),
        rate(big, elapsed),
        got as f64 / chunks.max(1) as f64 / KIB as f64,
    );
    report_peak("download", reset, start);
    client.delete_object(big_key).await.expect("delete big");

    // (d) A streamed write through S3File: parts of file_buffer_size, uploaded as written.
    let storage = storages_s3::S3Storage::builder()
        .options(settings_for(&server, "bench-throughput"))
        .no_globals()
        .build()
        .expect("storage");
    let part = storage.settings().file_buffer_size();
    let file_target = part * (transfer.max_concurrency as u64 + 1) + 32 * MIB as u64;
    let reset = reset_peak();
    let start = rss();
    let started = Instant::now();
    let mut file = storage.open("bench/file.bin", "wb").await.expect("open for writing");
    for _ in 0..sizes.file_mib * MIB / sizes.piece {
        tokio::io::AsyncWriteExt::write_all(&mut file, &piece)
            .await
            .expect("file write");
    }
    file.close().await.expect("file close");
    let elapsed = started.elapsed();
    let after = rss();
    let file_bytes = (sizes.file_mib * MIB) as u64;
    assert_eq!(storage.size("bench/file.bin").await.expect("size"), file_bytes);
    let growth = after.peak.saturating_sub(start.current);
    println!(
        "s3file_write: {} MiB in {:.2} s = {:.1} MiB/s ({} MiB parts); VmHWM {:.1} MiB ({}), growth {:.1} MiB, \
         target < {:.0} MiB: {}",
        sizes.file_mib,
        elapsed.as_secs_f64(),
        rate(file_bytes, elapsed),
        part / MIB as u64,
        mib(after.peak),
        if reset {
            "peak of this phase"
        } else {
            "peak since start: clear_refs refused"
        },
        mib(growth),
        mib(file_target),
        if growth < file_target { "met" } else { "NOT met" },
    );
    storage.delete("bench/file.bin").await.expect("delete file");

    // (e) collectstatic of a tree of small files, then again unchanged.
    let tree = tempfile::tempdir().expect("temp dir");
    for i in 0..sizes.static_files {
        let path = tree
            .path()
            .join(format!("d{}/f{i:04}.{}", i % 10, ["css", "js", "svg", "txt"][i % 4]));
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(&path, format!("/* static file {i} */\n").repeat(40)).expect("write");
    }
    let statics = storages_s3::S3StaticStorage::from_builder(
        storages_s3::S3Storage::builder()
            .options(settings_for(&server, "bench-throughput"))
            .option("location", "static")
            .no_globals(),
    )
    .expect("static storage");
    let options = storages_s3::collect::CollectOptions::default();
    for run in ["first", "second"] {
        let report =
            storages_s3::collect::collect(statics.storage(), &[tree.path().into()], &options, Arc::new(|_: &_| {}))
                .await
                .expect("collectstatic");
        println!(
            "collectstatic_{run}: {} files in {:.2} s = {:.0} files/s ({} uploaded, {} skipped, {} jobs)",
            sizes.static_files,
            report.elapsed.as_secs_f64(),
            sizes.static_files as f64 / report.elapsed.as_secs_f64(),
            report.uploaded,
            report.skipped,
            options.jobs,
        );
    }

    drop(client);
    // Dropping the server stops it and removes its directory.
    drop(server);
}

fn main() {
    let quick = std::env::var("THROUGHPUT_QUICK").is_ok_and(|v| !v.is_empty() && v != "0")
        || !std::env::args().any(|a| a == "--bench");
    let sizes = if quick {
        Sizes {
            objects: 100,
            object_size: 64 * KIB,
            tasks: 16,
            big_mib: 32,
            file_mib: 64,
            static_files: 100,
            piece: MIB,
        }
    } else {
        Sizes {
            objects: 1000,
            object_size: 64 * KIB,
            tasks: 16,
            big_mib: 256,
            file_mib: 1024,
            static_files: 1000,
            piece: MIB,
        }
    };
    if quick {
        println!("throughput: quick run (THROUGHPUT_QUICK or no --bench): 100 objects, 32 MiB, a 64 MiB file");
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    runtime.block_on(run(sizes));
}
