//! A soak: many small mixed operations at high concurrency through a fault-injecting proxy,
//! to see that throughput, latency and memory hold over a long run.
//!
//! The in-process S3 server of the tests (s3s + s3s-fs over a temporary directory, SigV4
//! checked) sits behind the tests' fault proxy on 127.0.0.1, which opens one upstream
//! connection per request and faults about 2 % of them at random (seeded): resets before
//! the reply or during the request, 500/503 bursts, replies cut short, replies held past the
//! client's 1 s read timeout. The client retries (5 attempts in all).
//!
//! 64 tasks run 100,000 operations over 10,000 keys: 40 % PUT of 1–4 KiB, 40 % GET, 10 %
//! HEAD, 5 % list (one page of a prefix), 5 % DELETE. A GET or HEAD of a key deleted (or not
//! written yet) is an expected `NotFound`; any other error is a failure and is counted.
//!
//! Reported: operations/s, latency p50/p99/p99.9/max, retries (`Client::retries`), failures
//! by kind, faults applied, and the RSS sampled every second: the median of the first and the
//! last minute (of the first and last fifth when the run is shorter than two minutes), and
//! their ratio, which should be about 1 (flat).
//!
//! `cargo bench --bench soak` runs the full size, bounded at 15 minutes (`SOAK_OPS` and
//! `SOAK_SECS` change both); without `--bench` (as `cargo test --benches` runs it), 2,000
//! operations as a smoke test.

#[allow(dead_code)]
#[path = "../tests/it/common/proxy.rs"]
mod proxy;
#[allow(dead_code)]
#[path = "../tests/it/common/server.rs"]
mod server;
#[allow(dead_code)]
#[path = "support/rss.rs"]
mod support_rss;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use storages_s3::config::ObjectParameters;
use storages_s3::http::Body;
use storages_s3::s3::{Client, ListObjectsInput};
use storages_s3::{ErrorKind, Settings};
use tokio::task::JoinSet;

const TASKS: usize = 64;
const KEYS: usize = 10_000;
const FAULT_RATE: f64 = 0.02;

struct Plan {
    ops: usize,
    limit: Duration,
}

fn key(i: usize) -> String {
    format!("soak/{:02}/{i:05}", i % 100)
}

/// What operation `i` is, from a cheap hash of `i` (the same run every time).
fn op_of(i: usize) -> (u8, usize) {
    let h = (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    let pick = (h >> 56) as u8 % 20;
    let k = ((h >> 8) % KEYS as u64) as usize;
    (pick, k)
}

#[derive(Default)]
struct Tally {
    latencies_us: Vec<u32>,
    not_found: usize,
    failures: BTreeMap<String, usize>,
}

async fn one(client: &Client, i: usize, params: &ObjectParameters) -> Result<bool, ErrorKind> {
    let (pick, k) = op_of(i);
    let key = key(k);
    let missing = |e: storages_s3::Error| if e.is_not_found() { Ok(false) } else { Err(e.kind()) };
    match pick {
        0..=7 => {
            let len = 1024 + (i * 37) % 3072;
            let body = vec![(i % 251) as u8; len];
            client
                .put_object(&key, Body::from(body), params)
                .await
                .map(|_| true)
                .map_err(|e| e.kind())
        }
        8..=15 => match client.get_object(&key, None).await {
            Ok(object) => object.body.collect(64 * 1024).await.map(|_| true).map_err(|e| e.kind()),
            Err(e) => missing(e),
        },
        16..=17 => match client.head_object(&key, params).await {
            Ok(_) => Ok(true),
            Err(e) => missing(e),
        },
        18 => {
            let input = ListObjectsInput {
                prefix: Some(format!("soak/{:02}/", k % 100)),
                max_keys: Some(100),
                ..ListObjectsInput::default()
            };
            match client.list_objects(input).next_page().await {
                Some(Err(e)) => Err(e.kind()),
                _ => Ok(true),
            }
        }
        _ => client.delete_object(&key).await.map(|_| true).map_err(|e| e.kind()),
    }
}

fn percentile(sorted: &[u32], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let at = ((sorted.len() - 1) as f64 * p).round() as usize;
    f64::from(sorted[at]) / 1000.0
}

fn median(values: &[u64]) -> u64 {
    let mut v = values.to_vec();
    v.sort_unstable();
    v.get(v.len() / 2).copied().unwrap_or(0)
}

async fn run(plan: Plan) {
    let server = server::Server::start().await;
    let proxy = proxy::FaultProxy::start(server.addr).await;
    proxy.forget_requests();
    let settings = Settings::builder()
        .option("bucket_name", "soak")
        .option("access_key", server::ACCESS_KEY)
        .option("secret_key", server::SECRET_KEY)
        .option("region_name", "us-east-1")
        .option("addressing_style", "path")
        .option("endpoint_url", format!("http://127.0.0.1:{}", proxy.addr.port()))
        .option("max_attempts", "5")
        .option("read_timeout", "1")
        .option("connect_timeout", "1")
        .no_globals()
        .build()
        .expect("soak settings");
    let client = Client::new(&settings).expect("client");
    client.create_bucket().await.expect("create bucket");
    proxy.set_chaos(Some(proxy::Chaos {
        rate: FAULT_RATE,
        stall: Duration::from_millis(1500),
        seed: 7,
        lies: 0.0,
    }));
    println!(
        "soak: {} operations, {TASKS} at a time, over {KEYS} keys; {:.0} % of connections faulted; \
         server s3s-fs in process behind the fault proxy on {}",
        plan.ops,
        FAULT_RATE * 100.0,
        proxy.addr
    );

    let samples: Arc<Mutex<Vec<u64>>> = Arc::default();
    let done = Arc::new(AtomicBool::new(false));
    let sampler = {
        let (samples, done) = (samples.clone(), done.clone());
        std::thread::spawn(move || {
            while !done.load(Ordering::Relaxed) {
                samples.lock().unwrap().push(support_rss::rss().current);
                std::thread::sleep(Duration::from_secs(1));
            }
        })
    };

    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let deadline = started + plan.limit;
    let params = Arc::new(ObjectParameters::new());
    let mut set = JoinSet::new();
    for _ in 0..TASKS {
        let (next, client, params) = (next.clone(), client.clone(), params.clone());
        let per_task = plan.ops / TASKS + 1;
        set.spawn(async move {
            let mut tally = Tally {
                latencies_us: Vec::with_capacity(per_task),
                ..Tally::default()
            };
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= plan.ops || Instant::now() >= deadline {
                    break;
                }
                let t = Instant::now();
                let outcome = one(&client, i, &params).await;
                tally
                    .latencies_us
                    .push(t.elapsed().as_micros().min(u128::from(u32::MAX)) as u32);
                match outcome {
                    Ok(true) => {}
                    Ok(false) => tally.not_found += 1,
                    Err(kind) => *tally.failures.entry(format!("{kind:?}")).or_default() += 1,
                }
            }
            tally
        });
    }
    let mut all = Tally::default();
    while let Some(t) = set.join_next().await {
        let t = t.expect("soak task");
        all.latencies_us.extend(t.latencies_us);
        all.not_found += t.not_found;
        for (k, n) in t.failures {
            *all.failures.entry(k).or_default() += n;
        }
    }
    let elapsed = started.elapsed();
    done.store(true, Ordering::Relaxed);
    sampler.join().expect("sampler");

    let ops = all.latencies_us.len();
    all.latencies_us.sort_unstable();
    let failed: usize = all.failures.values().sum();
    let (faults, connections) = proxy.fault_counts();
    let samples = samples.lock().unwrap().clone();
    let window = if samples.len() >= 120 {
        60
    } else {
        (samples.len() / 5).max(1)
    };
    let first = median(&samples[..window.min(samples.len())]);
    let last = median(&samples[samples.len().saturating_sub(window)..]);
    let mib = |b: u64| b as f64 / (1024.0 * 1024.0);
    println!(
        "done: {ops} operations in {:.1} s ({}): {:.0} ops/s",
        elapsed.as_secs_f64(),
        if ops < plan.ops {
            "stopped at the time limit"
        } else {
            "all"
        },
        ops as f64 / elapsed.as_secs_f64()
    );
    println!(
        "latency ms: p50 {:.2}, p99 {:.2}, p99.9 {:.2}, max {:.2}",
        percentile(&all.latencies_us, 0.50),
        percentile(&all.latencies_us, 0.99),
        percentile(&all.latencies_us, 0.999),
        percentile(&all.latencies_us, 1.0)
    );
    println!(
        "retries {}; connections {connections}; faults {:?}; expected NotFound {}; failures {failed} {:?}",
        client.retries(),
        faults,
        all.not_found,
        all.failures
    );
    println!(
        "RSS (sampled each second, {} samples): {} {:.1} MiB, {} {:.1} MiB, ratio {:.2}",
        samples.len(),
        if window == 60 { "first minute" } else { "first fifth" },
        mib(first),
        if window == 60 { "last minute" } else { "last fifth" },
        mib(last),
        last as f64 / first.max(1) as f64
    );
    println!(
        "{{\"bench\": \"soak\", \"ops\": {ops}, \"secs\": {:.1}, \"ops_per_s\": {:.0}, \"p50_ms\": {:.2}, \
         \"p99_ms\": {:.2}, \"retries\": {}, \"failures\": {failed}, \"rss_first_mib\": {:.1}, \"rss_last_mib\": {:.1}}}",
        elapsed.as_secs_f64(),
        ops as f64 / elapsed.as_secs_f64(),
        percentile(&all.latencies_us, 0.50),
        percentile(&all.latencies_us, 0.99),
        client.retries(),
        mib(first),
        mib(last)
    );
    assert_eq!(client.open_uploads(), 0);
}

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let env = |name: &str| std::env::var(name).ok().and_then(|v| v.parse::<u64>().ok());
    let plan = Plan {
        ops: env("SOAK_OPS").map_or(if full { 100_000 } else { 2_000 }, |n| n as usize),
        limit: Duration::from_secs(env("SOAK_SECS").unwrap_or(if full { 900 } else { 120 })),
    };
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(run(plan));
}
