//! Servers that lie: replies to ranged requests that are not the range asked for, another
//! version of the object, listings whose tokens cycle, gzip bombs, impossible headers.
//! Whatever they send, the crate hands back the object's own bytes or a typed error.

use std::time::Duration;

use storages_s3::ErrorKind;
use storages_s3::config::ObjectParameters;
use storages_s3::s3::ByteRange;
use storages_s3::s3::Client;
use storages_s3::s3::ListObjectsInput;
use tokio::io::{AsyncReadExt, AsyncSeekExt};

use crate::common::hostile::{Hostile, Reply, Request};

const ETAG: &str = "\"0123456789abcdef0123456789abcdef\"";
const OTHER_ETAG: &str = "\"fedcba9876543210fedcba9876543210\"";

fn object() -> Vec<u8> {
    (0..100u8).collect()
}

fn whole(body: &[u8]) -> Reply {
    Reply::new(200, &[("etag", ETAG)], body)
}

fn partial(body: &[u8], first: u64, last: u64, total: u64, etag: &str) -> Reply {
    let range = format!("bytes {first}-{last}/{total}");
    Reply::new(206, &[("etag", etag), ("content-range", &range)], body)
}

/// HEAD of the 100-byte object.
fn head(len: usize) -> Reply {
    Reply::head(200, &[("etag", ETAG), ("content-length", &len.to_string())])
}

/// A server whose first GET sends half the object and breaks; the resume (`Range:
/// bytes=50-99`) gets `resume(request)`.
async fn broken_then(resume: impl Fn(&Request) -> Reply + Send + Sync + 'static) -> (Hostile, Client) {
    let data = object();
    let server = Hostile::start(move |n, req| match n {
        0 => Reply::cut(200, &[("etag", ETAG)], data.len(), &data[..50]),
        _ => resume(req),
    })
    .await;
    let client = Client::new(&server.settings(&[])).unwrap();
    (server, client)
}

async fn download(client: &Client) -> storages_s3::Result<bytes::Bytes> {
    client.get_object("k", None).await?.body.collect(1 << 20).await
}

#[tokio::test]
async fn a_resume_answered_with_another_range_is_an_error() {
    let data = object();
    let (server, client) = broken_then(move |_| partial(&data[..50], 0, 49, 100, ETAG)).await;
    let e = download(&client).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidResponse, "{e}");
    let resume = &server.requests()[1];
    assert_eq!(resume.header("range"), Some("bytes=50-99"));
    assert_eq!(resume.header("if-match"), Some(ETAG));
}

#[tokio::test]
async fn a_resume_answered_with_the_whole_object_reads_on_from_the_right_byte() {
    let data = object();
    let d = data.clone();
    let (_server, client) = broken_then(move |_| whole(&d)).await;
    assert_eq!(download(&client).await.unwrap(), data);
}

#[tokio::test]
async fn a_resume_answered_with_a_longer_or_shorter_range_is_an_error() {
    for (first, last, total) in [(50, 99, 200), (50, 98, 100), (40, 99, 100)] {
        let data = object();
        let (_server, client) = broken_then(move |_| {
            let body = vec![7u8; (last - first + 1) as usize];
            let _ = &data;
            partial(&body, first, last, total, ETAG)
        })
        .await;
        let e = download(&client).await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidResponse, "{first}-{last}/{total}: {e}");
    }
}

#[tokio::test]
async fn a_resume_from_another_version_of_the_object_is_an_error() {
    // The server ignores If-Match and sends the rest of another version.
    let data = object();
    let (_server, client) = broken_then(move |_| partial(&data[50..], 50, 99, 100, OTHER_ETAG)).await;
    let e = download(&client).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::PreconditionFailed, "{e}");
}

#[tokio::test]
async fn a_resume_without_an_etag_is_an_error() {
    let data = object();
    let (_server, client) =
        broken_then(move |_| Reply::new(206, &[("content-range", "bytes 50-99/100")], &data[50..])).await;
    let e = download(&client).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidResponse, "{e}");
}

/// A server for `S3Storage::open`: HEAD, then GETs answered by `get`.
async fn file_server(get: impl Fn(&Request) -> Reply + Send + Sync + 'static) -> Hostile {
    Hostile::start(move |_, req| if req.method == "HEAD" { head(100) } else { get(req) }).await
}

#[tokio::test]
async fn a_seek_on_a_server_that_ignores_range_reads_the_right_bytes() {
    let data = object();
    let d = data.clone();
    let server = file_server(move |_| whole(&d)).await;
    let storage = server.storage(&[]);
    let mut file = storage.open("k", "rb").await.unwrap();
    file.seek(std::io::SeekFrom::Start(50)).await.unwrap();
    let mut rest = Vec::new();
    file.read_to_end(&mut rest).await.unwrap();
    assert_eq!(rest, &data[50..]);
    let get = server.requests().into_iter().find(|r| r.method == "GET").unwrap();
    assert_eq!(get.header("range"), Some("bytes=50-"));
    assert_eq!(get.header("if-match"), Some(ETAG));
}

#[tokio::test]
async fn a_seek_answered_with_another_range_is_an_error() {
    let data = object();
    let server = file_server(move |_| partial(&data[40..], 40, 99, 100, ETAG)).await;
    let storage = server.storage(&[]);
    let mut file = storage.open("k", "rb").await.unwrap();
    file.seek(std::io::SeekFrom::Start(50)).await.unwrap();
    let mut rest = Vec::new();
    let e = file.read_to_end(&mut rest).await.unwrap_err();
    let e = storages_s3::Error::from(e);
    assert_eq!(e.kind(), ErrorKind::InvalidResponse, "{e}");
    assert!(rest.is_empty(), "no byte of a wrong range reaches the caller");
}

#[tokio::test]
async fn a_seek_answered_by_another_version_is_an_error() {
    let data = object();
    let server = file_server(move |_| partial(&data[50..], 50, 99, 100, OTHER_ETAG)).await;
    let storage = server.storage(&[]);
    let mut file = storage.open("k", "rb").await.unwrap();
    file.seek(std::io::SeekFrom::Start(50)).await.unwrap();
    let mut rest = Vec::new();
    let e = storages_s3::Error::from(file.read_to_end(&mut rest).await.unwrap_err());
    assert_eq!(e.kind(), ErrorKind::PreconditionFailed, "{e}");
    assert!(rest.is_empty());
}

#[tokio::test]
async fn a_ranged_get_checks_the_range_it_gets() {
    let data = object();
    let d = data.clone();
    let server = Hostile::start(move |n, _| match n {
        0 => partial(&d[0..10], 0, 9, 100, ETAG),
        1 => whole(&d),
        _ => partial(&d[10..20], 10, 19, 100, ETAG),
    })
    .await;
    let client = Client::new(&server.settings(&[])).unwrap();
    let range = Some(ByteRange::Inclusive(10, 19));
    // Another range: an error.
    let e = client.get_object("k", range).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidResponse, "{e}");
    // The whole object for a range: the range is cut out of it.
    let got = client.get_object("k", range).await.unwrap();
    assert_eq!(got.body.collect(1 << 20).await.unwrap(), &data[10..20]);
    // The right range.
    let got = client.get_object("k", range).await.unwrap();
    assert_eq!(got.range.map(|r| (r.first, r.last, r.total)), Some((10, 19, 100)));
    assert_eq!(got.body.collect(1 << 20).await.unwrap(), &data[10..20]);
}

#[tokio::test]
async fn a_suffix_range_is_checked_too() {
    let data = object();
    let d = data.clone();
    let server = Hostile::start(move |n, _| match n {
        0 => partial(&d[0..10], 0, 9, 100, ETAG),
        _ => partial(&d[90..], 90, 99, 100, ETAG),
    })
    .await;
    let client = Client::new(&server.settings(&[])).unwrap();
    let e = client.get_object("k", Some(ByteRange::Suffix(10))).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidResponse, "{e}");
    let got = client.get_object("k", Some(ByteRange::Suffix(10))).await.unwrap();
    assert_eq!(got.body.collect(1 << 20).await.unwrap(), &data[90..]);
}

fn list_page(keys: &[String], next: Option<&str>) -> Reply {
    let mut xml =
        String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?><ListBucketResult><Name>lies</Name><Prefix></Prefix>");
    for k in keys {
        xml.push_str(&format!(
            "<Contents><Key>{k}</Key><Size>1</Size><ETag>{ETAG}</ETag></Contents>"
        ));
    }
    xml.push_str(&format!("<KeyCount>{}</KeyCount><MaxKeys>1000</MaxKeys>", keys.len()));
    match next {
        Some(token) => xml.push_str(&format!(
            "<IsTruncated>true</IsTruncated><NextContinuationToken>{token}</NextContinuationToken>"
        )),
        None => xml.push_str("<IsTruncated>false</IsTruncated>"),
    }
    xml.push_str("</ListBucketResult>");
    Reply::new(200, &[("content-type", "application/xml")], xml.as_bytes())
}

#[tokio::test]
async fn continuation_tokens_that_cycle_end_the_listing_with_an_error() {
    // A, B, A, B, ...: no token repeats at once, but the listing would never end.
    let server = Hostile::start(|_, req| match req.query("continuation-token").as_deref() {
        None => list_page(&["a".into()], Some("A")),
        Some("A") => list_page(&["b".into()], Some("B")),
        _ => list_page(&["c".into()], Some("A")),
    })
    .await;
    let client = Client::new(&server.settings(&[])).unwrap();
    let listing = client.list_objects(ListObjectsInput::default()).collect_all();
    let e = tokio::time::timeout(Duration::from_secs(20), listing)
        .await
        .expect("the listing ends")
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidResponse, "{e}");
    assert!(e.to_string().contains("continuation token"), "{e}");
    assert_eq!(server.requests().len(), 3);
}

#[tokio::test]
async fn collecting_a_listing_stops_at_its_bound() {
    // Every page a new token and 1,000 new keys, for ever.
    let server = Hostile::start(|n, _| {
        let keys: Vec<String> = (0..1000).map(|i| format!("p{n:04}/{i:04}")).collect();
        list_page(&keys, Some(&format!("T{n}")))
    })
    .await;
    let client = Client::new(&server.settings(&[])).unwrap();
    let listing = client.list_objects(ListObjectsInput::default()).collect_up_to(2_500);
    let e = tokio::time::timeout(Duration::from_secs(20), listing)
        .await
        .expect("the listing ends")
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::LimitExceeded, "{e}");
    assert!(e.to_string().contains("2500"), "the error names the bound: {e}");
    assert_eq!(server.requests().len(), 3);
}

#[tokio::test]
async fn a_head_with_a_date_out_of_range_keeps_the_reply() {
    for date in [
        "Fri, 01 Jan 1960 00:00:00 GMT",
        "Sat, 01 Jan 10000 00:00:00 GMT",
        "yesterday",
    ] {
        let server = Hostile::start(move |_, req| {
            let headers = [("etag", ETAG), ("last-modified", date), ("content-length", "3")];
            if req.method == "HEAD" {
                Reply::head(200, &headers)
            } else {
                Reply::new(200, &headers[..2], b"abc")
            }
        })
        .await;
        let client = Client::new(&server.settings(&[])).unwrap();
        let head = client.head_object("k", &ObjectParameters::new()).await.unwrap();
        assert_eq!((head.content_length, head.last_modified), (Some(3), None), "{date}");
        let got = client.get_object("k", None).await.unwrap();
        assert_eq!(got.head.last_modified, None);
        assert_eq!(got.body.collect(10).await.unwrap(), &b"abc"[..]);
    }
}

#[tokio::test]
async fn two_different_content_lengths_are_refused() {
    let server = Hostile::start(|_, _| {
        Reply::head(
            200,
            &[("etag", ETAG), ("content-length", "3"), ("content-length", "300")],
        )
    })
    .await;
    let client = Client::new(&server.settings(&[])).unwrap();
    let e = client.head_object("k", &ObjectParameters::new()).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidResponse, "{e}");
}

/// Gzip of `mib` MiB of zeros.
fn gzip_bomb(mib: usize) -> Vec<u8> {
    use std::io::Write as _;
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    let zeros = vec![0u8; 1 << 20];
    for _ in 0..mib {
        encoder.write_all(&zeros).unwrap();
    }
    encoder.finish().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gzip_bomb_is_inflated_only_as_fast_as_it_is_read() {
    const MIB: usize = 1 << 20;
    let inflated = 64;
    let bomb = gzip_bomb(inflated);
    let len = bomb.len();
    let server = Hostile::start(move |_, req| {
        let headers = [("etag", ETAG), ("content-encoding", "gzip")];
        if req.method == "HEAD" {
            Reply::head(200, &[headers[0], headers[1], ("content-length", &len.to_string())])
        } else {
            Reply::new(200, &headers, &bomb)
        }
    })
    .await;
    let settings = server.settings(&[]);
    // The read runs on a thread of its own, where every allocation it makes is counted.
    let (total, peak) = std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let storage = storages_s3::S3Storage::new(settings).unwrap();
        crate::common::alloc::peak_of(|| {
            runtime.block_on(async {
                let mut file = storage.open("k", "rb").await.unwrap();
                let mut buf = vec![0u8; 8 * 1024];
                let mut total = 0usize;
                loop {
                    let n = file.read(&mut buf).await.unwrap();
                    if n == 0 {
                        break total;
                    }
                    assert!(buf[..n].iter().all(|b| *b == 0));
                    total += n;
                }
            })
        })
    })
    .join()
    .unwrap();
    assert_eq!(total, inflated * MIB);
    eprintln!("{inflated} MiB inflated from {len} bytes of gzip, read in 8 KiB reads: {peak} bytes held at most");
    assert!(
        peak < 2 * MIB,
        "reading {inflated} MiB inflated from {len} bytes of gzip held {peak} bytes at once"
    );
}

#[tokio::test]
async fn a_server_that_trickles_is_slow_but_not_idle() {
    // One byte every 20 ms: never idle for the read timeout, and the whole reply takes
    // longer than the operation's deadline, which bounds retrying, not a transfer that
    // keeps moving.
    let page = match list_page(&["a".into(), "b".into(), "c".into()], None) {
        Reply::Raw(bytes) => bytes,
        _ => unreachable!(),
    };
    let len = page.len();
    let server = Hostile::start(move |_, _| Reply::Trickle(page.clone(), Duration::from_millis(20))).await;
    let client = Client::new(&server.settings(&[("operation_timeout", "2"), ("read_timeout", "1")])).unwrap();
    let started = std::time::Instant::now();
    let keys = client
        .list_objects(ListObjectsInput::default())
        .collect_all()
        .await
        .unwrap();
    let took = started.elapsed();
    assert_eq!(keys.0.len(), 3);
    assert!(took > Duration::from_secs(2), "{len} bytes in {took:?}");
    assert_eq!(server.requests().len(), 1, "one attempt");
}

#[tokio::test]
async fn a_server_that_stalls_meets_the_operation_deadline() {
    // Each reply stops after its first byte: every attempt times out after the read
    // timeout, and no attempt starts once the deadline has passed.
    let server = Hostile::start(|_, _| Reply::Trickle(b"HTTP/1.1 200 OK\r\n".to_vec(), Duration::from_secs(5))).await;
    let client = Client::new(&server.settings(&[
        ("operation_timeout", "2"),
        ("read_timeout", "1"),
        ("max_attempts", "10"),
    ]))
    .unwrap();
    let started = std::time::Instant::now();
    let e = client
        .list_objects(ListObjectsInput::default())
        .collect_all()
        .await
        .unwrap_err();
    let took = started.elapsed();
    assert_eq!(e.kind(), ErrorKind::Timeout, "{e}");
    assert!(took < Duration::from_secs(4), "took {took:?}");
    let attempts = e.attempts().expect("the attempts are counted");
    assert!((2..=3).contains(&attempts), "{e}");
    assert!(e.to_string().contains("deadline of 2s"), "{e}");
    assert!(e.to_string().contains(&format!("after {attempts} attempt")), "{e}");
    assert!(e.elapsed().is_some_and(|t| t >= Duration::from_secs(2)), "{e}");
}
