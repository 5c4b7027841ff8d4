//! Replies framed every way HTTP/1.1 allows: `Content-Length`, chunked, or delimited by
//! the connection's close (as compressing reverse proxies and some gateways send). A
//! length the server did not state is unknown, never zero: the body is read to its end, or
//! the call fails with a typed error; it never comes back as an empty success.

use storages_s3::ErrorKind;
use storages_s3::s3::{ByteRange, Client};
use tokio::io::{AsyncReadExt, AsyncSeekExt};

use crate::common::hostile::{Hostile, Reply, Request};

const ETAG: &str = "\"0123456789abcdef0123456789abcdef\"";

fn object() -> Vec<u8> {
    (0..=255u8).cycle().take(5000).collect()
}

/// A reply head with these headers and no length, then the body as given.
fn unframed(status: u16, headers: &[(&str, &str)], body: &[u8]) -> Vec<u8> {
    let mut out = format!("HTTP/1.1 {status} Framed\r\n");
    for (k, v) in headers {
        out.push_str(&format!("{k}: {v}\r\n"));
    }
    out.push_str("Connection: close\r\n\r\n");
    let mut out = out.into_bytes();
    out.extend_from_slice(body);
    out
}

/// The body in chunks of `size` bytes, with the last chunk and its end when `whole`.
fn chunked(body: &[u8], size: usize, whole: bool) -> Vec<u8> {
    let mut out = Vec::new();
    for piece in body.chunks(size) {
        out.extend_from_slice(format!("{:x}\r\n", piece.len()).as_bytes());
        out.extend_from_slice(piece);
        out.extend_from_slice(b"\r\n");
    }
    if whole {
        out.extend_from_slice(b"0\r\n\r\n");
    }
    out
}

/// A whole object, chunked.
fn chunked_reply(body: &[u8]) -> Reply {
    let mut reply = unframed(200, &[("etag", ETAG), ("transfer-encoding", "chunked")], b"");
    reply.extend_from_slice(&chunked(body, 777, true));
    Reply::Raw(reply)
}

/// A whole object whose end is the connection's close.
fn close_delimited(body: &[u8]) -> Reply {
    Reply::Raw(unframed(200, &[("etag", ETAG)], body))
}

/// A HEAD reply that does not state the length.
fn head_without_length() -> Reply {
    Reply::head(200, &[("etag", ETAG), ("transfer-encoding", "chunked")])
}

async fn client_for(server: &Hostile) -> Client {
    Client::new(&server.settings(&[])).unwrap()
}

#[tokio::test]
async fn a_chunked_get_reads_the_whole_object() {
    let data = object();
    let d = data.clone();
    let server = Hostile::start(move |_, _| chunked_reply(&d)).await;
    let client = client_for(&server).await;
    let out = client.get_object("k", None).await.unwrap();
    assert_eq!(out.head.content_length, None);
    assert_eq!(out.body.remaining(), None, "not known before the end");
    let mut body = out.body;
    let mut got = Vec::new();
    while let Some(chunk) = body.chunk().await {
        got.extend_from_slice(&chunk.unwrap());
    }
    assert_eq!(got, data);
    assert_eq!(body.object_size(), Some(data.len() as u64), "known at the end");
}

#[tokio::test]
async fn a_close_delimited_get_reads_the_whole_object() {
    let data = object();
    let d = data.clone();
    let server = Hostile::start(move |_, _| close_delimited(&d)).await;
    let client = client_for(&server).await;
    let got = client
        .get_object("k", None)
        .await
        .unwrap()
        .body
        .collect(1 << 20)
        .await
        .unwrap();
    assert_eq!(got, data);
}

#[tokio::test]
async fn a_range_cut_from_a_whole_object_of_unstated_length_is_the_range() {
    let data = object();
    let d = data.clone();
    let server = Hostile::start(move |_, _| chunked_reply(&d)).await;
    let client = client_for(&server).await;
    for (range, want) in [
        (ByteRange::From(4000), &data[4000..]),
        (ByteRange::Inclusive(10, 19), &data[10..20]),
        (ByteRange::Inclusive(4990, 9999), &data[4990..]),
    ] {
        let got = client
            .get_object("k", Some(range))
            .await
            .unwrap()
            .body
            .collect(1 << 20)
            .await
            .unwrap();
        assert_eq!(got, want, "{range:?}");
    }
    // A suffix cannot be placed in an object whose size nobody stated.
    let e = client.get_object("k", Some(ByteRange::Suffix(10))).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidResponse, "{e}");
}

#[tokio::test]
async fn a_head_without_a_length_leaves_the_size_unknown() {
    let data = object();
    let d = data.clone();
    let server = Hostile::start(move |_, req: &Request| {
        if req.method == "HEAD" {
            head_without_length()
        } else {
            chunked_reply(&d)
        }
    })
    .await;
    let client = client_for(&server).await;
    let head = client.head_object("k", &Default::default()).await.unwrap();
    assert_eq!(head.content_length, None);

    let storage = server.storage(&[]);
    let e = storage.size("k").await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidResponse, "{e}");
    assert!(e.to_string().contains("did not state"), "{e}");

    // Opened for reading, the file reads the whole object all the same.
    let mut file = storage.open("k", "rb").await.unwrap();
    assert_eq!(file.size(), None);
    let mut got = Vec::new();
    file.read_to_end(&mut got).await.unwrap();
    assert_eq!(got, data);
    // A seek from the end needs the size.
    let mut file = storage.open("k", "rb").await.unwrap();
    let e = file.seek(std::io::SeekFrom::End(-10)).await.unwrap_err();
    assert_eq!(storages_s3::Error::from(e).kind(), ErrorKind::InvalidResponse);
}

#[tokio::test]
async fn a_chunked_reply_cut_short_is_an_error_not_resumed() {
    let data = object();
    let d = data.clone();
    let server = Hostile::start(move |_, _| {
        let mut reply = unframed(200, &[("etag", ETAG), ("transfer-encoding", "chunked")], b"");
        reply.extend_from_slice(&chunked(&d[..2000], 500, false));
        Reply::Cut(reply)
    })
    .await;
    let client = client_for(&server).await;
    let e = client
        .get_object("k", None)
        .await
        .unwrap()
        .body
        .collect(1 << 20)
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Transport, "{e}");
    assert!(e.to_string().contains("not resumed"), "{e}");
    assert_eq!(server.requests().len(), 1, "a resume needs a known length");
}

#[tokio::test]
async fn a_close_delimited_reply_shorter_than_the_known_size_is_resumed() {
    // The HEAD states the size; the first GET's body (no length) ends early, the resume
    // brings the rest.
    let data = object();
    let d = data.clone();
    let server = Hostile::start(move |n, req: &Request| match (req.method.as_str(), n) {
        ("HEAD", _) => Reply::head(200, &[("etag", ETAG), ("content-length", "5000")]),
        (_, 1) => close_delimited(&d[..3000]),
        _ => {
            let (first, _) = req.range().expect("a ranged resume");
            let range = format!("bytes {first}-4999/5000");
            Reply::new(206, &[("etag", ETAG), ("content-range", &range)], &d[first as usize..])
        }
    })
    .await;
    let storage = server.storage(&[]);
    let mut file = storage.open("k", "rb").await.unwrap();
    let mut got = Vec::new();
    file.read_to_end(&mut got).await.unwrap();
    assert_eq!(got, data);
    let resume = &server.requests()[2];
    assert_eq!(resume.header("range"), Some("bytes=3000-4999"));
}
