//! A fault-injecting TCP proxy between the client and a real server.
//!
//! Each connection carries one request (the proxy asks the server to close after its
//! reply), and takes the next fault of the script: pass, reset before the reply or while
//! the request body arrives, an injected error reply, a reply cut short, or a reply held
//! back past the read timeout. With chaos on, connections the script does not claim are
//! faulted at random (seeded), for campaigns.

use std::collections::VecDeque;
use std::net::SocketAddr;
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
    /// Forward the request, let the server answer in full, then reset the connection
    /// without passing the reply on: the server did the work, the client never hears of it.
    LoseReply,
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
            Fault::LoseReply => "lost reply",
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
}

#[derive(Default)]
struct State {
    chaos: Option<(Chaos, fastrand::Rng)>,
    /// Faults applied, by label.
    applied: std::collections::BTreeMap<&'static str, usize>,
    connections: usize,
}

impl State {
    /// A random fault for a request with a body of `body_len` bytes; bursts of 5xx queue
    /// follow-ups on `script` for the next connections.
    fn draw(&mut self, body_len: usize, script: &mut VecDeque<(Option<String>, Fault)>) -> Fault {
        let Some((chaos, rng)) = &mut self.chaos else {
            return Fault::Pass;
        };
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
        let (s, st, r) = (script.clone(), state.clone(), seen.clone());
        let task = tokio::spawn(async move {
            loop {
                let Ok((client, _)) = listener.accept().await else {
                    continue;
                };
                let (s, st, r) = (s.clone(), st.clone(), r.clone());
                tokio::spawn(async move {
                    let _ = handle(client, upstream, s, st, r).await;
                });
            }
        });
        FaultProxy {
            addr,
            script,
            state,
            seen,
            task,
        }
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

    /// Faults applied so far, by label, and the number of connections.
    pub fn fault_counts(&self) -> (std::collections::BTreeMap<&'static str, usize>, usize) {
        let state = self.state.lock().unwrap();
        (state.applied.clone(), state.connections)
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
        let n = client.read(&mut tmp).await?;
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
) -> std::io::Result<()> {
    let Some((mut request, head_len, body_len)) = read_head(&mut client).await? else {
        return Ok(());
    };
    let head = String::from_utf8_lossy(&request[..head_len - 4]).into_owned();
    seen.lock().unwrap().push(head.clone());
    let fault = {
        let mut script = script.lock().unwrap();
        let mut state = state.lock().unwrap();
        state.connections += 1;
        let at = script
            .iter()
            .position(|(m, _)| m.as_deref().is_none_or(|p| head.starts_with(p)));
        let fault = match at.and_then(|i| script.remove(i)) {
            Some((_, f)) => f,
            None => state.draw(body_len, &mut script),
        };
        if !matches!(fault, Fault::Pass) {
            *state.applied.entry(fault.label()).or_default() += 1;
        }
        fault
    };
    if let Fault::ResetDuringRequest(n) = fault {
        read_to(&mut client, &mut request, head_len + n.min(body_len)).await?;
        return reset(client);
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
