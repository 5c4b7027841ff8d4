//! Opening connections: hyper-util's `HttpConnector` dials (happy eyeballs, a connect timeout
//! per attempt, `TCP_NODELAY`) and its `Tunnel` opens `CONNECT` tunnels. What is ours:
//! resolver overrides, and errors that say where the connection went and what the system
//! answered.
//!
//! hyper-rustls wraps this connector and adds TLS for `https` destinations, so a tunnel
//! through a proxy gets TLS end to end with the real server.

use std::collections::HashMap;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use http::Uri;
use hyper_util::client::legacy::connect::dns::{GaiResolver, Name};
use hyper_util::client::legacy::connect::proxy::Tunnel;
use hyper_util::client::legacy::connect::{Connected, Connection, HttpConnector};
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tower_service::Service;

use super::idle::Activity;
use super::proxy::{ProxyRules, basic_auth, proxy_url};

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

/// A TCP connection, remembering whether it goes through a forward proxy (then hyper sends
/// requests in absolute form). Its socket records when a byte last moved, in either
/// direction: the progress every timeout above it measures, which reaches requests and
/// replies as the connection's extra (`Connected::extra`).
pub struct Conn {
    io: TokioIo<Metered>,
    forward_proxy: bool,
}

impl Connection for Conn {
    fn connected(&self) -> Connected {
        Connected::new()
            .proxy(self.forward_proxy)
            .extra(self.io.inner().activity.clone())
    }
}

impl hyper::rt::Read for Conn {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: hyper::rt::ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_read(cx, buf)
    }
}

impl hyper::rt::Write for Conn {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write_vectored(cx, bufs)
    }
}

/// A socket that records each byte moved in its [`Activity`].
struct Metered {
    tcp: TcpStream,
    activity: Activity,
}

impl Metered {
    fn written(&self, result: Poll<io::Result<usize>>) -> Poll<io::Result<usize>> {
        match &result {
            Poll::Ready(Ok(n)) if *n > 0 => self.activity.wrote(*n),
            Poll::Pending => self.activity.blocked(),
            _ => {}
        }
        result
    }
}

impl AsyncRead for Metered {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let read = Pin::new(&mut self.tcp).poll_read(cx, buf);
        // A read that fills nothing is the peer's close, not progress.
        if buf.filled().len() > before {
            self.activity.touch();
        }
        read
    }
}

impl AsyncWrite for Metered {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let written = Pin::new(&mut self.tcp).poll_write(cx, buf);
        self.written(written)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.tcp).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.tcp).poll_shutdown(cx)
    }

    fn is_write_vectored(&self) -> bool {
        self.tcp.is_write_vectored()
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let written = Pin::new(&mut self.tcp).poll_write_vectored(cx, bufs);
        self.written(written)
    }
}

/// Resolves names for `HttpConnector`: the overrides' addresses (in the order given), else
/// the system's resolver. Remembers what it answered, for the error message.
#[derive(Clone)]
struct Resolver {
    overrides: Arc<HashMap<String, Vec<SocketAddr>>>,
    system: GaiResolver,
    answered: Arc<Mutex<Vec<SocketAddr>>>,
}

impl Service<Name> for Resolver {
    type Response = std::vec::IntoIter<SocketAddr>;
    type Error = io::Error;
    type Future = BoxFuture<io::Result<Self::Response>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, name: Name) -> Self::Future {
        let fixed = self.overrides.get(&name.as_str().to_ascii_lowercase()).cloned();
        let mut system = self.system.clone();
        let answered = self.answered.clone();
        Box::pin(async move {
            let addrs: Vec<SocketAddr> = match fixed {
                Some(addrs) => addrs,
                None => system
                    .call(name.clone())
                    .await
                    .map_err(|e| io::Error::new(e.kind(), format!("could not be resolved: {e}")))?
                    .collect(),
            };
            answered.lock().unwrap_or_else(|p| p.into_inner()).clone_from(&addrs);
            Ok(addrs.into_iter())
        })
    }
}

/// Dials destinations for hyper: directly, through a forward proxy (`http`), or through a
/// `CONNECT` tunnel (`https`).
#[derive(Clone)]
pub struct Connector {
    overrides: Arc<HashMap<String, Vec<SocketAddr>>>,
    proxies: ProxyRules,
    connect_timeout: Duration,
}

impl Connector {
    pub(crate) fn new(resolve: &[(String, SocketAddr)], proxies: ProxyRules, connect_timeout: Duration) -> Self {
        let mut overrides: HashMap<String, Vec<SocketAddr>> = HashMap::new();
        for (host, addr) in resolve {
            overrides.entry(host.to_ascii_lowercase()).or_default().push(*addr);
        }
        Connector {
            overrides: Arc::new(overrides),
            proxies,
            connect_timeout,
        }
    }

    /// An `HttpConnector` whose resolver reports into `answered`.
    fn dialer(&self, answered: Arc<Mutex<Vec<SocketAddr>>>) -> HttpConnector<Resolver> {
        let mut http = HttpConnector::new_with_resolver(Resolver {
            overrides: self.overrides.clone(),
            system: GaiResolver::new(),
            answered,
        });
        http.enforce_http(false);
        // Small requests (HEAD, signed headers) must not wait for Nagle.
        http.set_nodelay(true);
        http.set_keepalive(Some(Duration::from_secs(60)));
        http.set_connect_timeout(Some(self.connect_timeout));
        http
    }
}

impl Service<Uri> for Connector {
    type Response = Conn;
    type Error = io::Error;
    type Future = BoxFuture<io::Result<Conn>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, dst: Uri) -> Self::Future {
        let answered = Arc::new(Mutex::new(Vec::new()));
        let mut dialer = self.dialer(answered.clone());
        let proxy = self.proxies.proxy_for(&dst).cloned();
        let timeout = self.connect_timeout;
        Box::pin(async move {
            let https = dst.scheme() == Some(&http::uri::Scheme::HTTPS);
            let (dialled, result) = match &proxy {
                None => (dst.clone(), dialer.call(dst.clone()).await.map_err(io::Error::other)),
                Some(p) => {
                    let proxy_uri: Uri = proxy_url(p)
                        .parse()
                        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "invalid proxy address"))?;
                    if https {
                        let mut tunnel = Tunnel::new(proxy_uri.clone(), dialer);
                        if let Some(auth) = basic_auth(p) {
                            tunnel = tunnel.with_auth(auth);
                        }
                        let opened = tokio::time::timeout(timeout, tunnel.call(dst.clone()))
                            .await
                            .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "proxy CONNECT timed out"))?;
                        (proxy_uri, opened.map_err(io::Error::other))
                    } else {
                        (
                            proxy_uri.clone(),
                            dialer.call(proxy_uri).await.map_err(io::Error::other),
                        )
                    }
                }
            };
            let answered = std::mem::take(&mut *answered.lock().unwrap_or_else(|p| p.into_inner()));
            match result {
                Ok(io) => Ok(Conn {
                    io: TokioIo::new(Metered {
                        tcp: io.into_inner(),
                        activity: Activity::new(),
                    }),
                    forward_proxy: proxy.is_some() && !https,
                }),
                Err(e) => Err(describe(e, &dialled, &answered)),
            }
        })
    }
}

/// The error users see: where the connection went (host, port, the addresses tried) and the
/// innermost reason (connection refused, no route, timed out, name not resolved).
fn describe(e: io::Error, dialled: &Uri, addrs: &[SocketAddr]) -> io::Error {
    use std::error::Error as _;
    let mut kind = e.kind();
    let mut reason = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        if let Some(io) = s.downcast_ref::<io::Error>() {
            kind = io.kind();
        }
        reason = s.to_string();
        source = s.source();
    }
    if kind == io::ErrorKind::TimedOut {
        // tokio's "deadline has elapsed" says nothing to a reader.
        reason = "connecting timed out".to_owned();
    }
    let host = dialled.host().unwrap_or_default();
    let port = dialled
        .port_u16()
        .unwrap_or(if dialled.scheme() == Some(&http::uri::Scheme::HTTPS) {
            443
        } else {
            80
        });
    let message = match addrs {
        // An IP address (`HttpConnector` dials it without resolving) or a name that did
        // not resolve.
        [] => format!("{host}:{port}: {reason}"),
        many => {
            let list: Vec<String> = many.iter().map(ToString::to_string).collect();
            format!("{host}:{port} ({}): {reason}", list.join(", "))
        }
    };
    io::Error::new(kind, message)
}
