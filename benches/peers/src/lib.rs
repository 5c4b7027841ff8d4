//! The shared harness of the peer clients: one workload, the same for every client, each
//! phase timed and measured the same way, one JSON line per phase on stdout.
//!
//! Phases (sizes from the environment, defaults below):
//! - `put_64k` / `get_64k`: 1,000 objects of 64 KiB, PUT then GET, 16 in flight;
//! - `put_1m` / `get_1m`: 50 objects of 1 MiB, PUT then GET, 16 in flight;
//! - `multipart_put`: one 1 GiB object written in 1 MiB pieces from one reused buffer,
//!   8 MiB parts, 10 parts in flight;
//! - `stream_get`: that object downloaded as a stream, bytes dropped, length checked;
//! - `list`: 10,000 keys (created by untimed small PUTs first) listed in pages of 1,000;
//! - `delete`: every key the run created, in DeleteObjects batches of 1,000.
//!
//! For each phase: wall seconds, this process's CPU seconds (getrusage RUSAGE_SELF
//! deltas), the server's CPU seconds over the same interval (/proc/<pid>/stat), HTTP
//! requests as counted by the server (its stats port), payload bytes moved, the peak
//! RSS of the phase (VmHWM after a reset through /proc/self/clear_refs), and the minor
//! page faults of the phase (getrusage).

use std::future::Future;
use std::io::Read;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use bytes::Bytes;

pub const KIB: usize = 1024;
pub const MIB: usize = 1024 * 1024;

/// Where and what to run: from the environment the `run.sh` script sets.
#[derive(Clone, Debug)]
pub struct Env {
    pub endpoint: String,
    pub bucket: String,
    pub access_key: String,
    pub secret_key: String,
    pub region: String,
    pub server_pid: Option<u32>,
    pub stats_addr: Option<String>,
    pub run: u32,
    pub sizes: Sizes,
    /// The CA that signed the server's certificate (PEM), when the endpoint is HTTPS.
    pub ca_file: Option<String>,
}

#[derive(Clone, Debug)]
pub struct Sizes {
    pub small_n: usize,
    pub small_size: usize,
    pub medium_n: usize,
    pub medium_size: usize,
    pub in_flight: usize,
    pub big: usize,
    pub piece: usize,
    pub part_size: usize,
    pub part_concurrency: usize,
    pub list_n: usize,
    pub page: usize,
}

fn var(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.to_owned())
}

fn num(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

impl Env {
    pub fn from_env() -> Env {
        let quick = std::env::var("PEERS_QUICK").is_ok_and(|v| v == "1");
        let sizes = Sizes {
            small_n: num("PEERS_SMALL_N", if quick { 100 } else { 1000 }),
            small_size: 64 * KIB,
            medium_n: num("PEERS_MEDIUM_N", if quick { 10 } else { 50 }),
            medium_size: MIB,
            in_flight: 16,
            big: num("PEERS_BIG_MIB", if quick { 64 } else { 1024 }) * MIB,
            piece: MIB,
            part_size: 8 * MIB,
            part_concurrency: 10,
            list_n: num("PEERS_LIST_N", if quick { 2000 } else { 10_000 }),
            page: 1000,
        };
        Env {
            endpoint: var("PEERS_ENDPOINT", "http://127.0.0.1:9000"),
            bucket: var("PEERS_BUCKET", "peers"),
            access_key: var("PEERS_ACCESS_KEY", ACCESS_KEY),
            secret_key: var("PEERS_SECRET_KEY", SECRET_KEY),
            region: "us-east-1".into(),
            server_pid: std::env::var("PEERS_SERVER_PID").ok().and_then(|v| v.parse().ok()),
            stats_addr: std::env::var("PEERS_STATS_ADDR").ok(),
            run: num("PEERS_RUN", 1) as u32,
            sizes,
            ca_file: std::env::var("PEERS_CA_FILE").ok().filter(|v| !v.is_empty()),
        }
    }
}

/// The fixed key pair the server checks signatures with.
pub const ACCESS_KEY: &str = "AKIDPEERSBENCH0000001";
pub const SECRET_KEY: &str = "peers/bench+secret/0123456789abcdefABCDEF";

/// What every client implements: the operations of the workload.
pub trait Peer: Clone + Send + Sync + 'static {
    /// PUT of an in-memory body.
    fn put(&self, key: String, body: Bytes) -> impl Future<Output = ()> + Send;
    /// GET, streamed; returns the bytes received (not kept).
    fn get(&self, key: String) -> impl Future<Output = u64> + Send;
    /// A multipart upload of `pieces` writes of `piece`, parts of `part_size`, at most
    /// `concurrency` parts in flight; returns the bytes stored.
    fn multipart(
        &self,
        key: String,
        piece: &'static [u8],
        pieces: usize,
        part_size: usize,
        concurrency: usize,
    ) -> impl Future<Output = u64>;
    /// Lists `prefix` in pages of `page` keys; returns the keys seen.
    fn list(&self, prefix: String, page: usize) -> impl Future<Output = u64>;
    /// Deletes the keys (bulk DeleteObjects, 1,000 a request).
    fn delete(&self, keys: Vec<String>) -> impl Future<Output = ()>;
    /// Downloads `key` into a new file at `path`, in `concurrency` ranged GETs at once when
    /// the client downloads in parts, else in one stream; returns the bytes written.
    fn download(&self, key: String, path: std::path::PathBuf, concurrency: usize) -> impl Future<Output = u64>;
    /// Whether the client downloads one object in parts at once (`download` with
    /// `concurrency > 1`); a client without says so, and runs only the single stream.
    fn downloads_in_parts(&self) -> bool {
        false
    }
}

/// CPU seconds (user, system) of this process.
pub fn self_cpu() -> (f64, f64) {
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut ru) };
    let t = |tv: libc::timeval| tv.tv_sec as f64 + tv.tv_usec as f64 / 1e6;
    (t(ru.ru_utime), t(ru.ru_stime))
}

/// Minor page faults of this process so far (fresh memory touched for the first time).
pub fn minor_faults() -> i64 {
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut ru) };
    ru.ru_minflt
}

/// CPU seconds (user + system) of another process, from /proc/<pid>/stat.
pub fn pid_cpu(pid: u32) -> f64 {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return f64::NAN;
    };
    // The command name is in parentheses and may hold spaces: fields count after ')'.
    let rest = &stat[stat.rfind(')').map_or(0, |i| i + 2)..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    // After ')': state is field 3, utime field 14, stime field 15 (1-based in proc(5)).
    let utime: f64 = f.get(11).and_then(|v| v.parse().ok()).unwrap_or(f64::NAN);
    let stime: f64 = f.get(12).and_then(|v| v.parse().ok()).unwrap_or(f64::NAN);
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64;
    (utime + stime) / hz
}

fn status_field(name: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix(name))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024)
}

/// Resets VmHWM to the current RSS; false where the kernel refuses.
pub fn reset_peak() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

/// Requests the server has answered so far (its stats port), if known.
pub fn server_requests(env: &Env) -> Option<u64> {
    let addr = env.stats_addr.as_ref()?;
    let mut s = std::net::TcpStream::connect(addr).ok()?;
    let mut text = String::new();
    s.read_to_string(&mut text).ok()?;
    text.trim().parse().ok()
}

/// Runs one phase and prints its JSON line.
pub async fn phase<F: Future<Output = u64>>(
    env: &Env,
    client: &str,
    name: &str,
    ops: u64,
    work: F,
) -> serde_json::Value {
    let reset = reset_peak();
    let rss_start = status_field("VmRSS:");
    let req0 = server_requests(env);
    let srv0 = env.server_pid.map(pid_cpu);
    let faults0 = minor_faults();
    let (u0, s0) = self_cpu();
    let started = Instant::now();
    let bytes = work.await;
    let wall = started.elapsed().as_secs_f64();
    let (u1, s1) = self_cpu();
    let faults = minor_faults() - faults0;
    let srv1 = env.server_pid.map(pid_cpu);
    let req1 = server_requests(env);
    let hwm = status_field("VmHWM:");
    let requests = match (req0, req1) {
        (Some(a), Some(b)) => Some(b - a - 1), // the stats connection is not an S3 request
        _ => None,
    };
    let line = serde_json::json!({
        "client": client,
        "run": env.run,
        "phase": name,
        "ops": ops,
        "bytes": bytes,
        "wall_s": wall,
        "cpu_user_s": u1 - u0,
        "cpu_sys_s": s1 - s0,
        "cpu_s": (u1 - u0) + (s1 - s0),
        "server_cpu_s": match (srv0, srv1) { (Some(a), Some(b)) => serde_json::json!(b - a), _ => serde_json::Value::Null },
        "requests": requests,
        "peak_rss_bytes": hwm,
        "rss_start_bytes": rss_start,
        "peak_reset": reset,
        "minor_faults": faults,
    });
    println!("{line}");
    line
}

/// Runs `op(i)` for every `i < n`, `tasks` at a time.
pub async fn concurrently<F, Fut>(n: usize, tasks: usize, op: F) -> u64
where
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = u64> + Send,
{
    let next = Arc::new(AtomicUsize::new(0));
    let op = Arc::new(op);
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..tasks {
        let (next, op) = (next.clone(), op.clone());
        set.spawn(async move {
            let mut total = 0u64;
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= n {
                    break total;
                }
                total += op(i).await;
            }
        });
    }
    let mut total = 0;
    while let Some(r) = set.join_next().await {
        total += r.expect("task");
    }
    total
}

fn payload(size: usize, seed: usize) -> Bytes {
    Bytes::from((0..size).map(|i| ((i + seed) % 251) as u8).collect::<Vec<u8>>())
}

/// The whole workload for one client.
pub async fn workload<P: Peer>(client_name: &str, peer: P, env: &Env) {
    let s = env.sizes.clone();
    let mut created: Vec<String> = Vec::new();

    // (a) and (b): PUT then GET of in-memory objects, `in_flight` at a time.
    for (tag, n, size) in [("64k", s.small_n, s.small_size), ("1m", s.medium_n, s.medium_size)] {
        let body = payload(size, 7);
        let key = move |i: usize| format!("obj{tag}/{i:05}.bin");
        let put = {
            let (peer, body) = (peer.clone(), body.clone());
            concurrently(n, s.in_flight, move |i| {
                let (peer, body) = (peer.clone(), body.clone());
                async move {
                    let len = body.len() as u64;
                    peer.put(key(i), body).await;
                    len
                }
            })
        };
        phase(env, client_name, &format!("put_{tag}"), n as u64, put).await;
        let get = {
            let peer = peer.clone();
            concurrently(n, s.in_flight, move |i| {
                let peer = peer.clone();
                async move {
                    let got = peer.get(key(i)).await;
                    assert_eq!(got, size as u64, "length of {}", key(i));
                    got
                }
            })
        };
        phase(env, client_name, &format!("get_{tag}"), n as u64, get).await;
        created.extend((0..n).map(key));
    }

    // (c) One large multipart upload from a reused buffer, then a streamed download.
    let piece: &'static [u8] = Box::leak(payload(s.piece, 3).to_vec().into_boxed_slice());
    let big_key = "big/1gib.bin".to_owned();
    let pieces = s.big / s.piece;
    let up = peer.multipart(big_key.clone(), piece, pieces, s.part_size, s.part_concurrency);
    let stored = phase(env, client_name, "multipart_put", 1, up).await;
    assert_eq!(stored["bytes"].as_u64(), Some(s.big as u64), "multipart size");
    let down = {
        let (peer, key) = (peer.clone(), big_key.clone());
        async move { peer.get(key).await }
    };
    let got = phase(env, client_name, "stream_get", 1, down).await;
    assert_eq!(got["bytes"].as_u64(), Some(s.big as u64), "downloaded size");

    // (c') The same object to a file (on tmpfs: the file system is not what is measured),
    // in one stream and, where the client can, in 8 MiB parts 4 and 10 at a time.
    let dir = std::path::PathBuf::from(var("PEERS_DOWNLOAD_DIR", "/dev/shm"));
    for concurrency in [1, 4, 10] {
        if concurrency > 1 && !peer.downloads_in_parts() {
            continue;
        }
        let path = dir.join(format!("peers-{client_name}-{}-{concurrency}.bin", std::process::id()));
        let down = peer.download(big_key.clone(), path.clone(), concurrency);
        let got = phase(env, client_name, &format!("file_get_{concurrency}"), 1, down).await;
        assert_eq!(got["bytes"].as_u64(), Some(s.big as u64), "downloaded size");
        let len = std::fs::metadata(&path).expect("the downloaded file").len();
        assert_eq!(len, s.big as u64, "downloaded file size");
        std::fs::remove_file(&path).expect("remove the downloaded file");
    }
    created.push(big_key);

    // (d) Listing: keys created first (untimed), then listed in pages of 1,000.
    let tiny = Bytes::from_static(b"x");
    let list_key = |i: usize| format!("list/{i:05}");
    {
        let peer = peer.clone();
        concurrently(s.list_n, s.in_flight, move |i| {
            let (peer, body) = (peer.clone(), tiny.clone());
            async move {
                peer.put(list_key(i), body).await;
                0
            }
        })
        .await;
    }
    created.extend((0..s.list_n).map(list_key));
    let list = {
        let peer = peer.clone();
        let (n, page) = (s.list_n, s.page);
        async move {
            let seen = peer.list("list/".into(), page).await;
            assert_eq!(seen, n as u64, "listed keys");
            0
        }
    };
    phase(env, client_name, "list", s.list_n as u64, list).await;

    // Then everything the run created goes.
    let count = created.len() as u64;
    let del = {
        let peer = peer.clone();
        async move {
            peer.delete(created).await;
            0
        }
    };
    phase(env, client_name, "delete", count, del).await;
    let left = peer.list(String::new(), s.page).await;
    assert_eq!(left, 0, "keys left after delete");
}

/// A multi-thread tokio runtime with the default worker count, the same for every client.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime")
}
