//! One pooled HTTP/1.1 client for everything the crate sends.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Poll, ready};
use std::time::Duration;

use http::{Request, Response};
#[cfg(feature = "tls")]
use hyper_rustls::HttpsConnector;

/// The connector under the pool: TLS around ours when the `tls` feature is on.
#[cfg(feature = "tls")]
type Transport = HttpsConnector<Connector>;
#[cfg(not(feature = "tls"))]
type Transport = Connector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioTimer};

use super::body::{Body, ResponseBody, SendBody};
use super::connector::Connector;
use super::idle::{Activity, IdleTimer};
use super::proxy::{ProxyRules, basic_auth};
#[cfg(feature = "tls")]
use super::tls;
use crate::config::{Proxies, Settings, Verify};
use crate::error::{Error, ErrorKind, Result};

/// Transport settings: those of a storage's settings ([`HttpConfig::from_settings`]), or
/// the defaults (60 s timeouts, no proxy, the system's trust roots) with what a caller
/// changes.
///
/// ```
/// use std::time::Duration;
/// use storages_s3::http::{HttpClient, HttpConfig};
///
/// let config = HttpConfig::default()
///     .with_timeouts(Duration::from_secs(1), Duration::from_secs(3))
///     .with_resolve("bucket.localhost", "127.0.0.1:9000".parse().unwrap());
/// let client = HttpClient::new(&config).unwrap();
/// ```
#[derive(Debug, Clone)]
pub struct HttpConfig {
    /// TCP connect (and proxy CONNECT) timeout.
    pub(crate) connect_timeout: Duration,
    /// Longest silence while waiting for a reply or reading its body.
    pub(crate) read_timeout: Duration,
    /// Proxies by scheme.
    pub(crate) proxies: Proxies,
    /// TLS verification.
    #[cfg_attr(not(feature = "tls"), allow(dead_code))]
    pub(crate) verify: Verify,
    /// Host names dialled at fixed socket addresses.
    pub(crate) resolve: Vec<(String, SocketAddr)>,
    /// Idle connections kept per host.
    pub(crate) max_idle_per_host: usize,
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            connect_timeout: Duration::from_secs(60),
            read_timeout: Duration::from_secs(60),
            proxies: Proxies::default(),
            verify: Verify::Default,
            resolve: Vec::new(),
            max_idle_per_host: 10,
        }
    }
}

impl HttpConfig {
    /// The connect timeout (TCP, and a proxy's `CONNECT`) and the read timeout (the
    /// longest silence while waiting for a reply or reading its body).
    pub fn with_timeouts(mut self, connect: Duration, read: Duration) -> Self {
        self.connect_timeout = connect;
        self.read_timeout = read;
        self
    }

    /// Dials `host` at `addr`, whatever the resolver says (curl's `--resolve`).
    pub fn with_resolve(mut self, host: impl Into<String>, addr: SocketAddr) -> Self {
        self.resolve.push((host.into(), addr));
        self
    }

    /// The transport settings of a storage's settings.
    pub fn from_settings(s: &Settings) -> Self {
        HttpConfig {
            connect_timeout: s.connect_timeout(),
            read_timeout: s.read_timeout(),
            proxies: s.proxies(),
            verify: s.verify.clone(),
            resolve: s.resolve.0.clone(),
            max_idle_per_host: s.max_pool_connections(),
        }
    }
}

/// A pooled HTTP/1.1 client (over rustls for `https` with the `tls` feature). Cheap to
/// clone: clones share the pool.
#[derive(Clone)]
pub struct HttpClient {
    client: Client<Transport, SendBody>,
    connect_timeout: Duration,
    read_timeout: Duration,
    /// Which destinations go through a proxy, for `Proxy-Authorization` on forwarded requests.
    proxies: ProxyRules,
}

impl std::fmt::Debug for HttpClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpClient")
            .field("connect_timeout", &self.connect_timeout)
            .field("read_timeout", &self.read_timeout)
            .finish_non_exhaustive()
    }
}

impl HttpClient {
    /// A client for these transport settings.
    pub fn new(config: &HttpConfig) -> Result<Self> {
        let proxies = ProxyRules::new(config.proxies.clone());
        let connector = Connector::new(&config.resolve, proxies.clone(), config.connect_timeout);
        #[cfg(feature = "tls")]
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls::client_config(&config.verify)?)
            .https_or_http()
            .enable_http1()
            .wrap_connector(connector);
        #[cfg(not(feature = "tls"))]
        let https = connector;
        let client = Client::builder(TokioExecutor::new())
            .pool_max_idle_per_host(config.max_idle_per_host)
            .pool_idle_timeout(Duration::from_secs(30))
            .pool_timer(TokioTimer::new())
            .timer(TokioTimer::new())
            .build(https);
        Ok(HttpClient {
            client,
            connect_timeout: config.connect_timeout,
            read_timeout: config.read_timeout,
            proxies,
        })
    }

    /// Sends one request and waits for the head of the reply. Until a connection is had,
    /// dialling and the TLS handshake are bounded by the connect and read timeouts
    /// together; from then on the wait fails only when no byte has moved on the connection
    /// for the read timeout, in either direction: a request body that takes an hour to send
    /// at a steady pace is not cut, a server silent for the read timeout is.
    pub async fn send(&self, request: Request<Body>) -> Result<Response<ResponseBody>> {
        #[cfg(not(feature = "tls"))]
        if request.uri().scheme() == Some(&http::uri::Scheme::HTTPS) {
            return Err(crate::Error::new(
                crate::ErrorKind::InvalidSetting,
                "this build has no TLS (the crate's `tls` feature is off): use an http:// endpoint or enable `tls`",
            ));
        }
        let handed_over = Arc::new(AtomicBool::new(false));
        let mut request = request.map(|body| SendBody::new(body, handed_over.clone()));
        // Only requests that go through the forward proxy carry its credentials (CONNECT
        // tunnels carry them in the CONNECT request; `NO_PROXY` destinations never see them).
        if request.uri().scheme() == Some(&http::uri::Scheme::HTTP)
            && let Some(auth) = self.proxies.proxy_for(request.uri()).and_then(basic_auth)
        {
            request.headers_mut().insert(http::header::PROXY_AUTHORIZATION, auth);
        }
        let mut capture = hyper_util::client::legacy::connect::capture_connection(&mut request);
        let reply = self.client.request(request);
        tokio::pin!(reply);
        // The connection's record of progress, once hyper has one (new or pooled).
        let connected = async {
            let connected = capture.wait_for_connection_metadata().await;
            let mut extras = http::Extensions::new();
            if let Some(c) = connected.as_ref() {
                c.get_extras(&mut extras);
            }
            extras.remove::<Activity>()
        };
        tokio::pin!(connected);
        let mut idle = IdleTimer::new(self.connect_timeout + self.read_timeout, None);
        let mut uplink = None;
        let mut is_connected = false;
        let mut granted = false;
        let response = std::future::poll_fn(|cx| {
            if let Poll::Ready(response) = reply.as_mut().poll(cx) {
                return Poll::Ready(Some(response));
            }
            if !is_connected && let Poll::Ready(activity) = connected.as_mut().poll(cx) {
                is_connected = true;
                uplink = activity.as_ref().map(|a| (a.clone(), a.begin()));
                idle.watch(self.read_timeout, activity);
            }
            loop {
                ready!(idle.poll_idle(cx));
                // The whole body was handed to the system, whose buffers may still hold
                // much of it for a peer that reads slowly: they get the time they need at
                // the pace seen, once (at most ten read timeouts).
                if !granted
                    && handed_over.load(Ordering::Relaxed)
                    && let Some(drain) = uplink.as_ref().and_then(|(a, mark)| a.drain_time(*mark))
                {
                    granted = true;
                    idle.extend(drain.min(self.read_timeout * 10));
                    continue;
                }
                return Poll::Ready(None);
            }
        })
        .await;
        let Some(response) = response else {
            return Err(Error::new(
                ErrorKind::Timeout,
                format!("no reply from the server within {:?}", self.read_timeout),
            ));
        };
        let response = response.map_err(map_client_error)?;
        // The body's wait watches the same connection.
        let activity = response.extensions().get::<Activity>().cloned();
        idle.watch(self.read_timeout, activity);
        idle.progressed();
        Ok(response.map(|incoming| ResponseBody::new(incoming, idle)))
    }
}

fn map_client_error(e: hyper_util::client::legacy::Error) -> Error {
    use std::error::Error as _;
    // Find an I/O timeout (connect timeout) anywhere in the chain.
    let mut source = e.source();
    while let Some(s) = source {
        if let Some(io) = s.downcast_ref::<std::io::Error>()
            && io.kind() == std::io::ErrorKind::TimedOut
        {
            let timeout = Error::new(ErrorKind::Timeout, io.to_string());
            return if e.is_connect() {
                timeout.connect_failure()
            } else {
                timeout
            };
        }
        source = s.source();
    }
    // The innermost cause says what happened and where (the host, the addresses tried and
    // the system's reason, the certificate problem): it goes in the message users see.
    let mut cause = None;
    let mut source = e.source();
    while let Some(s) = source {
        cause = Some(s.to_string());
        source = s.source();
    }
    let what = if e.is_connect() {
        "could not connect"
    } else {
        "connection failed"
    };
    let connect = e.is_connect();
    let error = match cause {
        // hyper's own wording ("client error (Connect)") would only repeat `what`.
        Some(cause) => Error::new(ErrorKind::Transport, format!("{what}: {cause}")).with_source_in_message(e),
        None => Error::new(ErrorKind::Transport, what).with_source(e),
    };
    if connect { error.connect_failure() } else { error }
}
