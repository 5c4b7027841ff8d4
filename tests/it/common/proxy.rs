//! A fault-injecting TCP proxy between the client and a real server.
//!
//! Each connection carries one request (the proxy asks the server to close after its
//! reply), and takes the next fault of the script: pass, reset before the reply or while
//! the request body arrives, an injected error reply, a reply cut short, or a reply held
//! back past the read timeout. With chaos on, connections the script does not claim are
//! faulted at random (seeded), for campaigns.
//!
//! Lies too: a reply to a ranged GET for another range than asked, the whole object for a
//! range (as a proxy or CDN that ignores `Range` sends; the proxy fetches it through an
//! origin the test gives), and listings whose continuation tokens cycle.

use std::collections::VecDeque;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// What happens to one connection.
#[derive(Debug, Clone)]
pub enum Fault {
    /// Forward unchanged.
    Pass,
    /// Read the request, then reset the connection without a reply.
    ResetBeforeReply,
    /// Read the request and answer with this status and XML body instead of the server.
    Reply {
        status: u16,
        body: String,
        headers: Vec<(String, String)>,
    },
    /// Forward, then cut the reply after its head and this many body bytes.
    TruncateBody(usize),
    /// Forward, but hold the reply back this long.
    Delay(Duration),
    /// Hold the request back this long, then forward it.
    DelayRequest(Duration),
    /// Hold the request back this long, as a slow network would; a client that goes away
    /// meanwhile takes its request with it (it never reaches the server).
    HoldRequest(Duration),
    /// Read the request head and this many body bytes, then reset the connection.
    ResetDuringRequest(usize),
    /// Read the request body at this many bytes a second (a slow uplink), then forward it.
    ThrottleRequest(usize),
    /// Read the request head and this many body bytes, then stop reading for this long
    /// (a server that stalls mid-upload), then reset the connection.
    StallRequest(usize, Duration),
    /// Forward the request, let the server answer in full, then reset the connection
    /// without passing the reply on: the server did the work, the client never hears of it.
    LoseReply,
    /// A ranged GET: forward it, then say the bytes sent are this many bytes earlier in
    /// the object than they are (`Content-Range` moved, the body unchanged).
    ShiftRange(u64),
    /// A ranged GET: answer 200 with the whole object, fetched from the origin.
    WholeObject,
    /// A listing: forward it, then say it is truncated, with continuation token `lie-a`.
    /// A request with `lie-a` then gets an empty page pointing to `lie-b`, and `lie-b`
    /// points to `lie-a` again: the listing would never end.
    CycleTokens,
}

impl Fault {
    /// An S3 error reply.
    pub fn error(status: u16, code: &str) -> Fault {
        Fault::Reply {
            status,
            body: format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>{code}</Code><Message>injected</Message><RequestId>FAULT</RequestId></Error>"
            ),
            headers: Vec::new(),
        }
    }

    /// A short name for counts.
    pub fn label(&self) -> &'static str {
        match self {
            Fault::Pass => "pass",
            Fault::ResetBeforeReply => "reset before reply",
            Fault::Reply { status, .. } if *status >= 500 => "5xx reply",
            Fault::Reply { .. } => "other reply",
            Fault::TruncateBody(_) => "truncated reply",
            Fault::Delay(_) => "stalled reply",
            Fault::DelayRequest(_) => "delayed request",
            Fault::HoldRequest(_) => "held request",
            Fault::ResetDuringRequest(_) => "reset during request body",
            Fault::ThrottleRequest(_) => "slow request body",
            Fault::StallRequest(..) => "stalled request body",
            Fault::LoseReply => "lost reply",
            Fault::ShiftRange(_) => "lie: another range",
            Fault::WholeObject => "lie: whole object for a range",
            Fault::CycleTokens => "lie: cycling tokens",
        }
    }

    /// A reply with extra headers (a `Date`, `x-amz-bucket-region`, ...).
    pub fn reply(status: u16, body: &str, headers: &[(&str, &str)]) -> Fault {
        Fault::Reply {
            status,
            body: body.to_owned(),
            headers: headers.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
        }
    }
}

/// Faults to come, each for any request or for requests whose line starts with a prefix.
type Script = Arc<Mutex<VecDeque<(Option<String>, Fault)>>>;

/// Random faults for connections the script does not claim.
#[derive(Debug, Clone)]
pub struct Chaos {
    /// Share of connections that start a fault (bursts add a few more).
    pub rate: f64,
    /// How long a stalled reply is held (more than the client's read timeout).
    pub stall: Duration,
    pub seed: u64,
    /// Share of ranged GETs and listings answered with a lie.
    pub lies: f64,
}

/// Fetches a whole object for [`Fault::WholeObject`]: from the request path
/// (`/bucket/key`, as sent), its ETag and bytes.
pub type Origin = Arc<dyn Fn(String) -> Pin<Box<dyn Future<Output = Option<(String, Vec<u8>)>> + Send>> + Send + Sync>;

#[derive(Default)]
struct State {
    chaos: Option<(Chaos, fastrand::Rng)>,
    /// Faults applied, by label.
    applied: std::collections::BTreeMap<&'static str, usize>,
    connections: usize,
    /// Request heads are not kept (long runs, whose memory is measured).
    forget_requests: bool,
    /// Each request line with the fault it met.
    log: Vec<(String, &'static str)>,
}

impl State {
    /// A random fault for a request with a body of `body_len` bytes; bursts of 5xx queue
    /// follow-ups on `script` for the next connections.
    fn draw(&mut self, head: &str, body_len: usize, script: &mut VecDeque<(Option<String>, Fault)>) -> Fault {
        let Some((chaos, rng)) = &mut self.chaos else {
            return Fault::Pass;
        };
        let lower = head.to_ascii_lowercase();
        let ranged = lower.starts_with("get ") && lower.contains("\r\nrange: bytes=");
        let listing = lower.starts_with("get ") && lower.lines().next().is_some_and(|l| l.contains("list-type=2"));
        if (ranged || listing) && rng.f64() < chaos.lies {
            return match (listing, rng.bool()) {
                (true, _) => Fault::CycleTokens,
                (false, true) => Fault::WholeObject,
                (false, false) => Fault::ShiftRange(rng.u64(1..=4096)),
            };
        }
        if rng.f64() >= chaos.rate {
            return Fault::Pass;
        }
        match rng.u32(0..5) {
            0 => Fault::ResetBeforeReply,
            1 if body_len > 0 => Fault::ResetDuringRequest(rng.usize(0..body_len)),
            1 => Fault::ResetBeforeReply,
            2 => {
                let (status, code) = if rng.bool() {
                    (503, "SlowDown")
                } else {
                    (500, "InternalError")
                };
                for _ in 0..rng.usize(0..=2) {
                    script.push_back((None, Fault::error(status, code)));
                }
                Fault::error(status, code)
            }
            3 => Fault::TruncateBody(rng.usize(0..4096)),
            _ => Fault::Delay(chaos.stall),
        }
    }
}

/// A running proxy.
pub struct FaultProxy {
    pub addr: SocketAddr,
    origin: Arc<Mutex<Option<Origin>>>,
    script: Script,
    state: Arc<Mutex<State>>,
    seen: Arc<Mutex<Vec<String>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FaultProxy {
    /// A proxy to `upstream` on 127.0.0.1.
    pub async fn start(upstream: SocketAddr) -> FaultProxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let script: Script = Arc::default();
        let state: Arc<Mutex<State>> = Arc::default();
        let seen: Arc<Mutex<Vec<String>>> = Arc::default();
        let origin: Arc<Mutex<Option<Origin>>> = Arc::default();
        let (s, st, r, o) = (script.clone(), state.clone(), seen.clone(), origin.clone());
        let task = tokio::spawn(async move {
            loop {
                let Ok((client, _)) = listener.accept().await else {
                    continue;
                };
                let (s, st, r) = (s.clone(), st.clone(), r.clone());
                let o = o.lock().unwrap().clone();
                tokio::spawn(async move {
                    let _ = handle(client, upstream, s, st, r, o).await;
                });
            }
        });
        FaultProxy {
            addr,
            origin,
            script,
            state,
            seen,
            task,
        }
    }

    /// Where [`Fault::WholeObject`] gets whole objects.
    pub fn set_origin(&self, origin: Origin) {
        *self.origin.lock().unwrap() = Some(origin);
    }

    /// Queues faults for the next connections, in order; then connections pass.
    pub fn push(&self, faults: impl IntoIterator<Item = Fault>) {
        self.script
            .lock()
            .unwrap()
            .extend(faults.into_iter().map(|f| (None, f)));
    }

    /// Queues a fault for the next request whose request line starts with `prefix`
    /// (`"PUT /bucket/key"`); other requests pass it by.
    pub fn push_for(&self, prefix: &str, fault: Fault) {
        self.script.lock().unwrap().push_back((Some(prefix.to_owned()), fault));
    }

    /// Heads of the requests seen so far (`PUT /bucket/key HTTP/1.1\r\nhost: ...`).
    pub fn requests(&self) -> Vec<String> {
        self.seen.lock().unwrap().clone()
    }

    /// Request lines seen so far (`PUT /bucket/key HTTP/1.1`).
    pub fn request_lines(&self) -> Vec<String> {
        self.requests()
            .iter()
            .map(|h| h.lines().next().unwrap_or_default().to_owned())
            .collect()
    }

    /// Turns random faults on (`Some`) or off (`None`); queued bursts are dropped when off.
    pub fn set_chaos(&self, chaos: Option<Chaos>) {
        let mut state = self.state.lock().unwrap();
        state.chaos = chaos.map(|c| {
            let rng = fastrand::Rng::with_seed(c.seed);
            (c, rng)
        });
        if state.chaos.is_none() {
            self.script.lock().unwrap().clear();
        }
    }

    /// Stops keeping request heads (for [`requests`](Self::requests)): a long run's memory
    /// stays flat.
    pub fn forget_requests(&self) {
        self.state.lock().unwrap().forget_requests = true;
    }

    /// Faults applied so far, by label, and the number of connections.
    pub fn fault_counts(&self) -> (std::collections::BTreeMap<&'static str, usize>, usize) {
        let state = self.state.lock().unwrap();
        (state.applied.clone(), state.connections)
    }

    /// Each request line seen (unless forgotten) with the fault it met.
    pub fn log(&self) -> Vec<(String, &'static str)> {
        self.state.lock().unwrap().log.clone()
    }

    /// Faults not used yet.
    pub fn pending(&self) -> usize {
        self.script.lock().unwrap().len()
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Reads one request head (and whatever body bytes came with it); `None` when the client
/// closed first. Returns the bytes, the head's length and the declared body length.
async fn read_head(client: &mut TcpStream) -> std::io::Result<Option<(Vec<u8>, usize, usize)>> {
    let mut buf = Vec::new();
    let mut tmp = [0u8; 16 * 1024];
    let head_end = loop {
        if let Some(i) = find(&buf, b"\r\n\r\n") {
            break i + 4;
        }
        let n = client.read(&mut tmp).await?;
        if n == 0 {
            return Ok(None);
        }
        buf.extend_from_slice(&tmp[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_ascii_lowercase();
    let len: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    Ok(Some((buf, head_end, len)))
}

/// Reads on until `buf` holds `want` bytes; false when the client closed first.
async fn read_to(client: &mut TcpStream, buf: &mut Vec<u8>, want: usize) -> std::io::Result<bool> {
    let mut tmp = [0u8; 64 * 1024];
    while buf.len() < want {
        let room = (want - buf.len()).min(tmp.len());
        let n = client.read(&mut tmp[..room]).await?;
        if n == 0 {
            return Ok(false);
        }
        buf.extend_from_slice(&tmp[..n]);
    }
    Ok(true)
}

fn reset(client: TcpStream) -> std::io::Result<()> {
    #[allow(deprecated)]
    client.set_linger(Some(Duration::ZERO))?;
    drop(client);
    Ok(())
}

async fn handle(
    mut client: TcpStream,
    upstream: SocketAddr,
    script: Script,
    state: Arc<Mutex<State>>,
    seen: Arc<Mutex<Vec<String>>>,
    origin: Option<Origin>,
) -> std::io::Result<()> {
    let Some((mut request, head_len, body_len)) = read_head(&mut client).await? else {
        return Ok(());
    };
    let head = String::from_utf8_lossy(&request[..head_len - 4]).into_owned();
    if !state.lock().unwrap().forget_requests {
        seen.lock().unwrap().push(head.clone());
    }
    let fault = {
        let mut script = script.lock().unwrap();
        let mut state = state.lock().unwrap();
        state.connections += 1;
        let at = script
            .iter()
            .position(|(m, _)| m.as_deref().is_none_or(|p| head.starts_with(p)));
        let fault = match at.and_then(|i| script.remove(i)) {
            Some((_, f)) => f,
            // A listing that follows a lie's token goes on lying, whatever the chaos.
            None if head
                .lines()
                .next()
                .is_some_and(|l| l.contains("continuation-token=lie-")) =>
            {
                Fault::CycleTokens
            }
            None => state.draw(&head, body_len, &mut script),
        };
        if !matches!(fault, Fault::Pass) {
            *state.applied.entry(fault.label()).or_default() += 1;
        }
        if !state.forget_requests {
            let line = head.lines().next().unwrap_or_default().to_owned();
            state.log.push((line, fault.label()));
        }
        fault
    };
    if let Fault::ResetDuringRequest(n) = fault {
        read_to(&mut client, &mut request, head_len + n.min(body_len)).await?;
        return reset(client);
    }
    if let Fault::StallRequest(n, d) = fault {
        read_to(&mut client, &mut request, head_len + n.min(body_len)).await?;
        tokio::time::sleep(d).await;
        return reset(client);
    }
    if let Fault::ThrottleRequest(rate) = fault {
        // 16 steps a second, each reading its share.
        let step = (rate / 16).max(1);
        while request.len() < head_len + body_len {
            let want = (request.len() + step).min(head_len + body_len);
            if !read_to(&mut client, &mut request, want).await? {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(1000 / 16)).await;
        }
    }
    if !read_to(&mut client, &mut request, head_len + body_len).await? {
        return Ok(());
    }
    if let Fault::DelayRequest(d) = fault {
        tokio::time::sleep(d).await;
    }
    if let Fault::HoldRequest(d) = fault {
        let mut probe = [0u8; 1];
        tokio::select! {
            _ = tokio::time::sleep(d) => {}
            gone = client.read(&mut probe) => {
                if matches!(gone, Ok(0) | Err(_)) {
                    return Ok(());
                }
            }
        }
    }
    let line = head.lines().next().unwrap_or_default().to_owned();
    match &fault {
        Fault::CycleTokens if line.contains("continuation-token=lie-") => {
            let next = if line.contains("continuation-token=lie-a") {
                "lie-b"
            } else {
                "lie-a"
            };
            let page = format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?><ListBucketResult><KeyCount>0</KeyCount>\
                 <IsTruncated>true</IsTruncated><NextContinuationToken>{next}</NextContinuationToken></ListBucketResult>"
            );
            return answer(client, 200, &[("Content-Type", "application/xml")], page.as_bytes()).await;
        }
        Fault::WholeObject => {
            let path = line.split(' ').nth(1).unwrap_or_default().to_owned();
            let fetch = origin.as_ref().expect("a WholeObject lie needs an origin");
            return match fetch(path).await {
                Some((etag, body)) => answer(client, 200, &[("ETag", &etag)], &body).await,
                None => reset(client),
            };
        }
        _ => {}
    }
    match fault {
        Fault::ResetBeforeReply => return reset(client),
        Fault::Reply { status, body, headers } => {
            let mut extra = String::new();
            if !headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("date")) {
                extra.push_str(&format!(
                    "Date: {}\r\n",
                    httpdate::fmt_http_date(std::time::SystemTime::now())
                ));
            }
            for (k, v) in headers {
                extra.push_str(&format!("{k}: {v}\r\n"));
            }
            let reply = format!(
                "HTTP/1.1 {status} Injected\r\nContent-Type: application/xml\r\nContent-Length: {}\r\n{extra}Connection: close\r\n\r\n{body}",
                body.len()
            );
            client.write_all(reply.as_bytes()).await?;
            client.shutdown().await?;
            return Ok(());
        }
        _ => {}
    }
    // One request per connection: ask the server to close after replying.
    let head_end = find(&request, b"\r\n\r\n").unwrap();
    request.splice(head_end + 2..head_end + 2, b"Connection: close\r\n".iter().copied());
    let mut server = TcpStream::connect(upstream).await?;
    server.write_all(&request).await?;
    let mut reply = Vec::new();
    let mut tmp = [0u8; 64 * 1024];
    match fault {
        Fault::TruncateBody(n) => {
            loop {
                let r = server.read(&mut tmp).await?;
                if r == 0 {
                    break;
                }
                reply.extend_from_slice(&tmp[..r]);
                if let Some(i) = find(&reply, b"\r\n\r\n")
                    && reply.len() >= i + 4 + n
                {
                    reply.truncate(i + 4 + n);
                    break;
                }
            }
            client.write_all(&reply).await?;
            client.flush().await?;
            // Give the client time to read what was sent, then close abruptly.
            tokio::time::sleep(Duration::from_millis(20)).await;
            #[allow(deprecated)]
            client.set_linger(Some(Duration::ZERO))?;
        }
        Fault::ShiftRange(by) => {
            let (head, body) = read_reply(&mut server).await?;
            let head = shift_content_range(&head, by);
            client.write_all(&rebuild(&head, &body)).await?;
            client.shutdown().await?;
        }
        Fault::CycleTokens => {
            let (head, body) = read_reply(&mut server).await?;
            let text = String::from_utf8_lossy(&body).replace(
                "<IsTruncated>false</IsTruncated>",
                "<IsTruncated>true</IsTruncated><NextContinuationToken>lie-a</NextContinuationToken>",
            );
            client.write_all(&rebuild(&head, text.as_bytes())).await?;
            client.shutdown().await?;
        }
        Fault::LoseReply => {
            // The server closes after its reply (Connection: close): it has done the work.
            tokio::io::copy(&mut server, &mut tokio::io::sink()).await?;
            return reset(client);
        }
        Fault::Delay(d) => {
            tokio::time::sleep(d).await;
            tokio::io::copy(&mut server, &mut client).await?;
            client.shutdown().await?;
        }
        _ => {
            tokio::io::copy(&mut server, &mut client).await?;
            client.shutdown().await?;
        }
    }
    Ok(())
}

/// Writes a whole reply and closes.
async fn answer(mut client: TcpStream, status: u16, headers: &[(&str, &str)], body: &[u8]) -> std::io::Result<()> {
    let mut head = format!(
        "HTTP/1.1 {status} Lie\r\nDate: {}\r\n",
        httpdate::fmt_http_date(std::time::SystemTime::now())
    );
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    client.write_all(&rebuild(&head, body)).await?;
    client.shutdown().await
}

/// Reads a whole reply (the server closes after it): its head, and its body with any
/// chunked encoding removed.
async fn read_reply(server: &mut TcpStream) -> std::io::Result<(String, Vec<u8>)> {
    let mut raw = Vec::new();
    server.read_to_end(&mut raw).await?;
    let end = find(&raw, b"\r\n\r\n").map_or(raw.len(), |i| i + 4);
    let head = String::from_utf8_lossy(&raw[..end]).into_owned();
    let mut body = raw[end.min(raw.len())..].to_vec();
    if head.to_ascii_lowercase().contains("transfer-encoding: chunked") {
        let mut out = Vec::new();
        let mut rest = &body[..];
        while let Some(i) = find(rest, b"\r\n") {
            let size = usize::from_str_radix(String::from_utf8_lossy(&rest[..i]).trim(), 16).unwrap_or(0);
            if size == 0 || rest.len() < i + 2 + size {
                break;
            }
            out.extend_from_slice(&rest[i + 2..i + 2 + size]);
            rest = &rest[(i + 4 + size).min(rest.len())..];
        }
        body = out;
    }
    Ok((head, body))
}

/// A reply with this head (its length and transfer headers replaced) and body.
fn rebuild(head: &str, body: &[u8]) -> Vec<u8> {
    let mut out = String::new();
    for line in head.split("\r\n").filter(|l| !l.is_empty()) {
        let lower = line.to_ascii_lowercase();
        if lower.starts_with("content-length:")
            || lower.starts_with("transfer-encoding:")
            || lower.starts_with("connection:")
        {
            continue;
        }
        out.push_str(line);
        out.push_str("\r\n");
    }
    out.push_str(&format!("Content-Length: {}\r\nConnection: close\r\n\r\n", body.len()));
    let mut out = out.into_bytes();
    out.extend_from_slice(body);
    out
}

/// The head with `Content-Range: bytes a-b/t` moved `by` bytes earlier (not before 0).
fn shift_content_range(head: &str, by: u64) -> String {
    head.split("\r\n")
        .map(|line| {
            let Some(value) = line
                .to_ascii_lowercase()
                .strip_prefix("content-range: bytes ")
                .map(str::to_owned)
            else {
                return line.to_owned();
            };
            let parsed = value.split_once('/').and_then(|(range, total)| {
                let (a, b) = range.split_once('-')?;
                Some((
                    a.trim().parse::<u64>().ok()?,
                    b.trim().parse::<u64>().ok()?,
                    total.trim().to_owned(),
                ))
            });
            match parsed {
                // At the start of the object already: claim a byte more than sent instead.
                Some((a, b, total)) => match by.min(a) {
                    0 => format!("Content-Range: bytes {a}-{}/{total}", b + 1),
                    shift => format!("Content-Range: bytes {}-{}/{total}", a - shift, b - shift),
                },
                None => line.to_owned(),
            }
        })
        .collect::<Vec<_>>()
        .join("\r\n")
}
