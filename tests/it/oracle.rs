//! An oracle instead of a list: a raw server on 127.0.0.1 answers each request, from a
//! seed, with a random but legal reply — framed by `Content-Length`, chunked or by the
//! connection's close, written in random pieces, kept alive or not — and with random
//! faults and lies: bodies cut short (by a reset) or stalled, ranges honoured, ignored or
//! answered with another range, checksums right, wrong, composite or absent, and, to a
//! request pinned with `If-Match`, another version of the object. Whatever it does, a read
//! gives the object's exact bytes or a typed error, never other bytes.
//!
//! `ORACLE_CASES` sets the number of cases (2,000 by default), `ORACLE_SEED` runs one case;
//! a failing case prints its seed, which then joins `REGRESSIONS`.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use storages_s3::ErrorKind;
use storages_s3::config::ChecksumAlgorithm;
use storages_s3::s3::{ByteRange, Client};
use tokio::io::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Seeds that once failed.
const REGRESSIONS: &[u64] = &[
    // A close-delimited reply ended early and failed its checksum; the second read took
    // the size the first one showed for the object's.
    0xd6de_a542_5348_1942,
];

const ETAG: &str = "\"5eed0000000000000000000000000001\"";
const OTHER_ETAG: &str = "\"5eed0000000000000000000000000002\"";
/// The client's read timeout, and how long a stalled reply stalls.
const READ_TIMEOUT_MS: u64 = 300;
const STALL: Duration = Duration::from_millis(700);

/// The object of one case, and its other version.
struct Object {
    bytes: Vec<u8>,
    other: Vec<u8>,
}

/// What one case reads.
#[derive(Debug, Clone, Copy)]
enum Read {
    Whole,
    Range(ByteRange),
    /// `S3Storage::open` (HEAD, then a GET) and `read_to_end`.
    File,
    /// `open`, a seek, then `read_to_end`.
    FileFrom(u64),
}

impl Read {
    /// The bytes a correct read returns.
    fn expected<'a>(&self, object: &'a [u8]) -> &'a [u8] {
        let len = object.len() as u64;
        let (a, b) = match *self {
            Read::Whole | Read::File => (0, len),
            Read::FileFrom(n) => (n.min(len), len),
            Read::Range(ByteRange::From(a)) => (a.min(len), len),
            Read::Range(ByteRange::Inclusive(a, b)) => (a.min(len), (b + 1).min(len).max(a.min(len))),
            Read::Range(ByteRange::Suffix(n)) => (len - n.min(len), len),
        };
        &object[a as usize..b as usize]
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Framing {
    Length,
    Chunked,
    Close,
}

/// A request as the server read it.
struct Request {
    method: String,
    range: Option<String>,
    if_match: Option<String>,
    checksum_mode: bool,
}

fn header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.lines().skip(1).find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.trim().eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

async fn read_request(stream: &mut TcpStream, buf: &mut Vec<u8>) -> Option<Request> {
    let mut tmp = [0u8; 4096];
    let end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        let n = stream.read(&mut tmp).await.ok()?;
        if n == 0 || buf.len() > 64 * 1024 {
            return None;
        }
        buf.extend_from_slice(&tmp[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..end]).into_owned();
    buf.drain(..end);
    Some(Request {
        method: head.split(' ').next().unwrap_or_default().to_owned(),
        range: header(&head, "range").map(str::to_owned),
        if_match: header(&head, "if-match").map(str::to_owned),
        checksum_mode: header(&head, "x-amz-checksum-mode").is_some(),
    })
}

/// `bytes=a-b`, `bytes=a-`, `bytes=-n` over an object of `len` bytes: the first and last
/// offsets, `None` when unsatisfiable.
fn resolve(spec: &str, len: u64) -> Option<(u64, u64)> {
    let (a, b) = spec.strip_prefix("bytes=")?.split_once('-')?;
    let (first, last) = match (a.parse::<u64>().ok(), b.parse::<u64>().ok()) {
        (Some(a), Some(b)) => (a, b.min(len.checked_sub(1)?)),
        (Some(a), None) => (a, len.checked_sub(1)?),
        (None, Some(n)) => (len.checked_sub(n.min(len))?, len.checked_sub(1)?),
        _ => return None,
    };
    (first <= last).then_some((first, last))
}

/// One reply: head and body, and how it is cut.
struct Reply {
    head: String,
    body: Vec<u8>,
    /// Body bytes sent before the connection is reset.
    cut_at: Option<usize>,
    /// Body bytes sent before the connection is closed (cleanly: the end of a
    /// close-delimited reply, only where the client can tell it is early).
    end_at: Option<usize>,
    stall: bool,
    keep_alive: bool,
}

/// What the server has told the client: whether any reply stated the object's length.
#[derive(Default)]
struct Told {
    length: bool,
}

/// Draws the reply to `req` for `object`.
fn draw(rng: &mut fastrand::Rng, told: &mut Told, object: &Object, req: &Request) -> Reply {
    // A request pinned to the object may meet another version (the server ignores If-Match).
    let changed = req.if_match.is_some() && rng.u32(0..10) == 0;
    let (bytes, etag) = if changed {
        (&object.other, OTHER_ETAG)
    } else {
        (&object.bytes, ETAG)
    };
    let len = bytes.len() as u64;
    let mut headers: Vec<(String, String)> = vec![("ETag".into(), etag.into())];
    let mut status = 200;
    let mut body: &[u8] = bytes;
    if let Some(spec) = &req.range {
        match (rng.u32(0..10), resolve(spec, len)) {
            // Ignored: the whole object.
            (0..=1, _) => {}
            // Another range than asked, told truthfully.
            (2, Some((first, last))) => {
                let (first, last) = (first.saturating_sub(rng.u64(1..=16)), last.min(len - 1));
                body = &bytes[first as usize..=last as usize];
                status = 206;
                headers.push(("Content-Range".into(), format!("bytes {first}-{last}/{len}")));
            }
            (_, Some((first, last))) => {
                body = &bytes[first as usize..=last as usize];
                status = 206;
                headers.push(("Content-Range".into(), format!("bytes {first}-{last}/{len}")));
            }
            (_, None) => {
                status = 416;
                body = b"";
                headers.push(("Content-Range".into(), format!("bytes */{len}")));
            }
        }
    }
    // The stored checksum, on whole-object replies asked for it; a right one makes
    // corruption and an early clean end detectable, so only then may they happen.
    let mut checked = false;
    if req.checksum_mode && status == 200 && rng.bool() {
        let algorithm = ChecksumAlgorithm::ALL[rng.usize(0..5)];
        let value = match rng.u32(0..4) {
            0 => algorithm.value_of(b"another object"),
            1 => format!("{}-3", algorithm.value_of(bytes)),
            _ => {
                checked = true;
                algorithm.value_of(bytes)
            }
        };
        headers.push((
            format!("x-amz-checksum-{}", algorithm.name().to_ascii_lowercase()),
            value,
        ));
    }
    let head_only = req.method == "HEAD";
    let corrupted: Vec<u8>;
    if checked && !body.is_empty() && !head_only && rng.u32(0..3) == 0 {
        let mut bad = body.to_vec();
        let at = rng.usize(0..bad.len());
        bad[at] ^= 1 << rng.u32(0..8);
        corrupted = bad;
        body = &corrupted;
    }
    // Whether a clean early end of this reply can be told from the end of the object: a
    // 206 states its range, a pinned request's object had its length stated before, a
    // right checksum covers every byte.
    let detectable = status == 206 || (req.if_match.is_some() && told.length) || checked;
    let framing = match rng.u32(0..3) {
        0 => Framing::Length,
        1 => Framing::Chunked,
        _ if head_only => Framing::Length,
        _ => Framing::Close,
    };
    let (cut_at, stall) = match rng.u32(0..12) {
        0 if !body.is_empty() && !head_only => (Some(rng.usize(0..body.len())), false),
        1 => (None, true),
        _ => (None, false),
    };
    let end_at =
        (framing == Framing::Close && detectable && !body.is_empty() && cut_at.is_none() && rng.u32(0..6) == 0)
            .then(|| rng.usize(0..body.len()));
    if (framing == Framing::Length && status == 200) || status == 206 {
        told.length = true;
    }
    let keep_alive = framing != Framing::Close && cut_at.is_none() && rng.bool();
    let mut head = format!("HTTP/1.1 {status} Oracle\r\n");
    for (k, v) in &headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    let mut out = Vec::new();
    match framing {
        Framing::Length => head.push_str(&format!("Content-Length: {}\r\n", body.len())),
        Framing::Chunked => {
            head.push_str("Transfer-Encoding: chunked\r\n");
            if !head_only {
                let mut rest = body;
                while !rest.is_empty() {
                    let n = rng.usize(1..=rest.len().min(3000));
                    out.extend_from_slice(format!("{n:x}\r\n").as_bytes());
                    out.extend_from_slice(&rest[..n]);
                    out.extend_from_slice(b"\r\n");
                    rest = &rest[n..];
                }
                out.extend_from_slice(b"0\r\n\r\n");
            }
        }
        Framing::Close => out.extend_from_slice(body),
    }
    if framing == Framing::Length && !head_only {
        out.extend_from_slice(body);
    }
    head.push_str(if keep_alive {
        "\r\n"
    } else {
        "Connection: close\r\n\r\n"
    });
    // A cut counts in the framed bytes (a chunked body may be cut inside its framing).
    let cut_at = cut_at.map(|c| c.min(out.len().saturating_sub(1)));
    Reply {
        head,
        body: out,
        cut_at,
        end_at,
        stall,
        keep_alive,
    }
}

/// Writes `bytes` in random pieces.
async fn write_pieces(stream: &mut TcpStream, rng: &mut fastrand::Rng, mut bytes: &[u8]) -> std::io::Result<()> {
    while !bytes.is_empty() {
        let n = rng.usize(1..=bytes.len().min(8192));
        stream.write_all(&bytes[..n]).await?;
        if rng.u32(0..8) == 0 {
            stream.flush().await?;
            tokio::time::sleep(Duration::from_millis(rng.u64(0..3))).await;
        }
        bytes = &bytes[n..];
    }
    stream.flush().await
}

type Shared = Arc<Mutex<(fastrand::Rng, Told)>>;

async fn serve(mut stream: TcpStream, shared: Shared, object: Arc<Object>, log: Arc<Mutex<Vec<String>>>) {
    let mut buf = Vec::new();
    loop {
        let Some(req) = read_request(&mut stream, &mut buf).await else {
            return;
        };
        let (reply, mut local) = {
            let mut shared = shared.lock().unwrap();
            let (rng, told) = &mut *shared;
            let reply = draw(rng, told, &object, &req);
            (reply, fastrand::Rng::with_seed(rng.u64(..)))
        };
        log.lock().unwrap().push(format!(
            "{} range={:?} if-match={:?} -> {} ({} bytes{}{})",
            req.method,
            req.range,
            req.if_match,
            reply.head.lines().next().unwrap_or_default(),
            reply.body.len(),
            reply
                .cut_at
                .map(|c| format!(", reset at {c}"))
                .or(reply.end_at.map(|c| format!(", closed at {c}")))
                .unwrap_or_default(),
            if reply.stall { ", stalled" } else { "" },
        ));
        if write_pieces(&mut stream, &mut local, reply.head.as_bytes())
            .await
            .is_err()
        {
            return;
        }
        if reply.stall {
            tokio::time::sleep(STALL).await;
        }
        let body = &reply.body[..reply.cut_at.or(reply.end_at).unwrap_or(reply.body.len())];
        if write_pieces(&mut stream, &mut local, body).await.is_err() {
            return;
        }
        if reply.cut_at.is_some() {
            tokio::time::sleep(Duration::from_millis(5)).await;
            #[allow(deprecated)]
            let _ = stream.set_linger(Some(Duration::ZERO));
            return;
        }
        if !reply.keep_alive {
            let _ = stream.shutdown().await;
            return;
        }
    }
}

/// One case: a server for `seed`, one read, its outcome checked.
async fn case(seed: u64) -> Result<(), String> {
    let mut rng = fastrand::Rng::with_seed(seed);
    let len = match rng.u32(0..6) {
        0 => 0,
        1 => rng.usize(1..10),
        _ => rng.usize(10..40_000),
    };
    let object = Arc::new(Object {
        bytes: (0..len).map(|_| rng.u8(..)).collect(),
        other: (0..len).map(|_| rng.u8(..)).collect(),
    });
    let read = match rng.u32(0..5) {
        0 => Read::Whole,
        1 => Read::File,
        2 => Read::FileFrom(rng.u64(0..=len as u64 + 2)),
        _ => Read::Range(match rng.u32(0..3) {
            0 => ByteRange::From(rng.u64(0..=len as u64)),
            1 => {
                let a = rng.u64(0..=len as u64);
                ByteRange::Inclusive(a, a + rng.u64(0..2000))
            }
            _ => ByteRange::Suffix(rng.u64(1..=len as u64 + 5)),
        }),
    };
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let shared: Shared = Arc::new(Mutex::new((fastrand::Rng::with_seed(rng.u64(..)), Told::default())));
    let log: Arc<Mutex<Vec<String>>> = Arc::default();
    let (o, l) = (object.clone(), log.clone());
    let server = tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(serve(stream, shared.clone(), o.clone(), l.clone()));
        }
    });
    let settings = storages_s3::Settings::builder()
        .no_globals()
        .option("bucket_name", "oracle")
        .option("access_key", "AKIDORACLE")
        .option("secret_key", "oracle-secret")
        .option("region_name", "us-east-1")
        .option("endpoint_url", format!("http://{addr}"))
        .option("addressing_style", "path")
        .option("read_timeout", format!("{}", READ_TIMEOUT_MS as f64 / 1000.0))
        .option("connect_timeout", "2")
        .build()
        .unwrap();
    let outcome: storages_s3::Result<Vec<u8>> = async {
        match read {
            Read::Whole => Ok(Client::new(&settings)?
                .get_object("k", None)
                .await?
                .body
                .collect(1 << 20)
                .await?
                .to_vec()),
            Read::Range(r) => Ok(Client::new(&settings)?
                .get_object("k", Some(r))
                .await?
                .body
                .collect(1 << 20)
                .await?
                .to_vec()),
            Read::File | Read::FileFrom(_) => {
                let storage = storages_s3::S3Storage::new(settings)?;
                let mut file = storage.open("k", "rb").await?;
                if let Read::FileFrom(n) = read {
                    file.seek(std::io::SeekFrom::Start(n))
                        .await
                        .map_err(storages_s3::Error::from)?;
                }
                let mut all = Vec::new();
                file.read_to_end(&mut all).await.map_err(storages_s3::Error::from)?;
                Ok(all)
            }
        }
    }
    .await;
    server.abort();
    let expected = read.expected(&object.bytes);
    let verdict = match &outcome {
        Ok(bytes) if bytes == expected => Ok(()),
        Ok(bytes) => Err(format!(
            "other bytes: {} returned, {} expected (first difference at {:?})",
            bytes.len(),
            expected.len(),
            bytes.iter().zip(expected).position(|(a, b)| a != b)
        )),
        Err(e)
            if matches!(
                e.kind(),
                ErrorKind::Transport
                    | ErrorKind::Timeout
                    | ErrorKind::InvalidResponse
                    | ErrorKind::PreconditionFailed
                    | ErrorKind::ChecksumMismatch
            ) || (e.kind() == ErrorKind::Service && e.status() == Some(416)) =>
        {
            Ok(())
        }
        Err(e) => Err(format!("untyped or unexpected error {:?}: {e}", e.kind())),
    };
    verdict.map_err(|why| {
        format!(
            "seed {seed:#x}: {read:?} of {len} bytes: {why}\n  {}",
            log.lock().unwrap().join("\n  ")
        )
    })
}

fn env_number(name: &str) -> Option<u64> {
    std::env::var(name).ok().and_then(|v| {
        let v = v.trim();
        match v.strip_prefix("0x") {
            Some(hex) => u64::from_str_radix(hex, 16).ok(),
            None => v.parse().ok(),
        }
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn any_legal_reply_gives_the_exact_bytes_or_a_typed_error() {
    let seeds: Vec<u64> = match env_number("ORACLE_SEED") {
        Some(seed) => vec![seed],
        None => {
            let cases = env_number("ORACLE_CASES").unwrap_or(2000);
            let mut seeder = fastrand::Rng::with_seed(0x0_5ac1e);
            REGRESSIONS
                .iter()
                .copied()
                .chain((0..cases).map(|_| seeder.u64(..)))
                .collect()
        }
    };
    let started = std::time::Instant::now();
    let mut outcomes: BTreeMap<&str, usize> = BTreeMap::new();
    let mut failures = Vec::new();
    // Many cases at once: most of the time is the stalls' and the timeouts'.
    for batch in seeds.chunks(64) {
        let mut set = tokio::task::JoinSet::new();
        for &seed in batch {
            set.spawn(case(seed));
        }
        while let Some(done) = set.join_next().await {
            match done.unwrap() {
                Ok(()) => *outcomes.entry("ok").or_default() += 1,
                Err(why) => failures.push(why),
            }
        }
    }
    println!(
        "oracle: {} cases in {:.1} s, {} failed",
        seeds.len(),
        started.elapsed().as_secs_f64(),
        failures.len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
