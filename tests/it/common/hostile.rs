//! A hostile S3 server on 127.0.0.1: every request gets the raw reply a handler makes for
//! it, lies included (another range than asked, a whole object for a range, another
//! ETag, cycling continuation tokens, impossible headers, replies cut short).
//!
//! Each connection carries one request (`Connection: close`), and everything is bounded:
//! at most `MAX_CONNECTIONS` connections, each read within `READ_LIMIT`; after that the
//! listener closes, so a client that loops for ever meets a closed port instead of hanging
//! the test.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use storages_s3::Settings;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Connections served before the listener closes.
pub const MAX_CONNECTIONS: usize = 200;
/// Time allowed to read one request.
const READ_LIMIT: Duration = Duration::from_secs(5);

/// A request as the server read it.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    /// Path and query, as sent.
    pub target: String,
    /// Header names in lower case.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// A query parameter, percent-decoded.
    pub fn query(&self, name: &str) -> Option<String> {
        let (_, query) = self.target.split_once('?')?;
        query.split('&').find_map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (k == name).then(|| percent_encoding::percent_decode_str(v).decode_utf8_lossy().into_owned())
        })
    }

    /// `Range: bytes=a-b` as `(a, Some(b))`, `bytes=a-` as `(a, None)`.
    pub fn range(&self) -> Option<(u64, Option<u64>)> {
        let spec = self.header("range")?.strip_prefix("bytes=")?;
        let (a, b) = spec.split_once('-')?;
        Some((a.parse().ok()?, b.parse().ok()))
    }
}

/// What the server does with a request.
#[derive(Debug, Clone)]
pub enum Reply {
    /// Writes these bytes, then closes the connection.
    Raw(Vec<u8>),
    /// Writes these bytes (a head promising more than follows), then resets the connection.
    Cut(Vec<u8>),
    /// Writes these bytes one at a time, this long apart (a server that trickles).
    Trickle(Vec<u8>, Duration),
}

impl Reply {
    /// A whole reply: status, headers, body (Content-Length added).
    pub fn new(status: u16, headers: &[(&str, &str)], body: &[u8]) -> Reply {
        Reply::Raw(raw(status, headers, Some(body.len()), body))
    }

    /// A HEAD reply: the headers as given (Content-Length included by the caller), no body.
    pub fn head(status: u16, headers: &[(&str, &str)]) -> Reply {
        Reply::Raw(raw(status, headers, None, b""))
    }

    /// A reply announcing `declared` bytes and sending only `body`, then a reset.
    pub fn cut(status: u16, headers: &[(&str, &str)], declared: usize, body: &[u8]) -> Reply {
        Reply::Cut(raw(status, headers, Some(declared), body))
    }

    /// An S3 error reply.
    pub fn error(status: u16, code: &str) -> Reply {
        let body = format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>{code}</Code><Message>hostile</Message></Error>"
        );
        Reply::new(status, &[("content-type", "application/xml")], body.as_bytes())
    }
}

fn raw(status: u16, headers: &[(&str, &str)], length: Option<usize>, body: &[u8]) -> Vec<u8> {
    let mut out = format!("HTTP/1.1 {status} Hostile\r\n");
    if let Some(n) = length {
        out.push_str(&format!("Content-Length: {n}\r\n"));
    }
    for (k, v) in headers {
        out.push_str(&format!("{k}: {v}\r\n"));
    }
    out.push_str("Connection: close\r\n\r\n");
    let mut out = out.into_bytes();
    out.extend_from_slice(body);
    out
}

type Handler = dyn Fn(usize, &Request) -> Reply + Send + Sync;

/// A running hostile server.
pub struct Hostile {
    pub addr: SocketAddr,
    seen: Arc<Mutex<Vec<Request>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Hostile {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Hostile {
    /// Serves `handler(n, request)` for the n-th request (from 0).
    pub async fn start(handler: impl Fn(usize, &Request) -> Reply + Send + Sync + 'static) -> Hostile {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let seen: Arc<Mutex<Vec<Request>>> = Arc::default();
        let handler: Arc<Handler> = Arc::new(handler);
        let s = seen.clone();
        let task = tokio::spawn(async move {
            for _ in 0..MAX_CONNECTIONS {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let (s, handler) = (s.clone(), handler.clone());
                tokio::spawn(async move {
                    let _ = tokio::time::timeout(READ_LIMIT * 6, serve(stream, s, handler)).await;
                });
            }
        });
        Hostile { addr, seen, task }
    }

    /// The requests seen so far.
    pub fn requests(&self) -> Vec<Request> {
        self.seen.lock().unwrap().clone()
    }

    /// Settings for bucket `lies` on this server, path style, with extra options.
    pub fn settings(&self, extra: &[(&str, &str)]) -> Settings {
        let mut builder = Settings::builder()
            .no_globals()
            .option("bucket_name", "lies")
            .option("access_key", "AKIDHOSTILE")
            .option("secret_key", "hostile-secret")
            .option("region_name", "us-east-1")
            .option("endpoint_url", format!("http://{}", self.addr))
            .option("addressing_style", "path")
            .option("max_attempts", "3")
            .option("read_timeout", "2");
        for (k, v) in extra {
            builder = builder.option(k, *v);
        }
        builder.build().expect("hostile settings")
    }

    /// A storage on bucket `lies` of this server.
    pub fn storage(&self, extra: &[(&str, &str)]) -> storages_s3::S3Storage {
        storages_s3::S3Storage::new(self.settings(extra)).expect("hostile storage")
    }
}

async fn serve(mut stream: TcpStream, seen: Arc<Mutex<Vec<Request>>>, handler: Arc<Handler>) -> std::io::Result<()> {
    let Some(request) = tokio::time::timeout(READ_LIMIT, read_request(&mut stream))
        .await
        .ok()
        .transpose()?
        .flatten()
    else {
        return Ok(());
    };
    let n = {
        let mut seen = seen.lock().unwrap();
        seen.push(request.clone());
        seen.len() - 1
    };
    match handler(n, &request) {
        Reply::Raw(bytes) => {
            stream.write_all(&bytes).await?;
            stream.shutdown().await?;
        }
        Reply::Trickle(bytes, gap) => {
            for b in bytes {
                stream.write_all(&[b]).await?;
                stream.flush().await?;
                tokio::time::sleep(gap).await;
            }
            stream.shutdown().await?;
        }
        Reply::Cut(bytes) => {
            stream.write_all(&bytes).await?;
            stream.flush().await?;
            // Let the client read what was sent, then break the connection.
            tokio::time::sleep(Duration::from_millis(20)).await;
            #[allow(deprecated)]
            stream.set_linger(Some(Duration::ZERO))?;
        }
    }
    Ok(())
}

async fn read_request(stream: &mut TcpStream) -> std::io::Result<Option<Request>> {
    let mut buf = Vec::new();
    let mut tmp = [0u8; 16 * 1024];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        if buf.len() > 64 * 1024 {
            return Ok(None);
        }
        let n = stream.read(&mut tmp).await?;
        if n == 0 {
            return Ok(None);
        }
        buf.extend_from_slice(&tmp[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let mut first = lines.next().unwrap_or_default().split(' ');
    let method = first.next().unwrap_or_default().to_owned();
    let target = first.next().unwrap_or_default().to_owned();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let len: usize = headers
        .iter()
        .find(|(k, _)| k == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0)
        .min(64 * 1024 * 1024);
    let mut body = buf[head_end..].to_vec();
    while body.len() < len {
        let n = stream.read(&mut tmp).await?;
        if n == 0 {
            break;
        }
        body.extend_from_slice(&tmp[..n]);
    }
    Ok(Some(Request {
        method,
        target,
        headers,
        body,
    }))
}
