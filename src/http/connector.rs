//! Opening TCP connections: name resolution with overrides, connect timeout, and proxies.
//!
//! hyper-rustls wraps this connector and adds TLS for `https` destinations, so a tunnel
//! through a proxy gets TLS end to end with the real server.

use std::collections::HashMap;
use std::future::Future;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use base64::Engine as _;
use http::Uri;
use hyper_util::client::legacy::connect::{Connected, Connection};
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::config::{Proxies, ProxyUrl};

/// A TCP connection, remembering whether it goes through a forward proxy (then hyper
/// sends requests in absolute form).
pub struct Conn {
    io: TokioIo<TcpStream>,
    forward_proxy: bool,
}

impl Connection for Conn {
    fn connected(&self) -> Connected {
        Connected::new().proxy(self.forward_proxy)
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

struct Shared {
    resolve: HashMap<String, SocketAddr>,
    proxies: Proxies,
    connect_timeout: Duration,
}

/// Dials destinations for hyper: overrides first, then DNS; directly or through a proxy.
#[derive(Clone)]
pub struct Connector {
    shared: Arc<Shared>,
}

impl Connector {
    pub(crate) fn new(resolve: &[(String, SocketAddr)], proxies: Proxies, connect_timeout: Duration) -> Self {
        let resolve = resolve.iter().map(|(h, a)| (h.to_ascii_lowercase(), *a)).collect();
        Connector {
            shared: Arc::new(Shared {
                resolve,
                proxies,
                connect_timeout,
            }),
        }
    }
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

impl tower_service::Service<Uri> for Connector {
    type Response = Conn;
    type Error = io::Error;
    type Future = BoxFuture<io::Result<Conn>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, uri: Uri) -> Self::Future {
        let shared = self.shared.clone();
        Box::pin(async move {
            let https = uri.scheme() == Some(&http::uri::Scheme::HTTPS);
            let host = uri
                .host()
                .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "URL without host"))?
                .trim_start_matches('[')
                .trim_end_matches(']')
                .to_owned();
            let port = uri.port_u16().unwrap_or(if https { 443 } else { 80 });
            let proxy = if https {
                &shared.proxies.https
            } else {
                &shared.proxies.http
            };
            let timeout = shared.connect_timeout;
            match proxy {
                None => {
                    let tcp = dial(&shared.resolve, &host, port, timeout).await?;
                    Ok(Conn {
                        io: TokioIo::new(tcp),
                        forward_proxy: false,
                    })
                }
                Some(p) if !https => {
                    let tcp = dial(&shared.resolve, &p.host, p.port, timeout).await?;
                    Ok(Conn {
                        io: TokioIo::new(tcp),
                        forward_proxy: true,
                    })
                }
                Some(p) => {
                    let mut tcp = dial(&shared.resolve, &p.host, p.port, timeout).await?;
                    tokio::time::timeout(timeout, tunnel(&mut tcp, p, &host, port))
                        .await
                        .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "proxy CONNECT timed out"))??;
                    Ok(Conn {
                        io: TokioIo::new(tcp),
                        forward_proxy: false,
                    })
                }
            }
        })
    }
}

/// Connects to `host:port`: an override dials its fixed address; otherwise each resolved
/// address is tried in turn, all within `timeout`.
async fn dial(
    overrides: &HashMap<String, SocketAddr>,
    host: &str,
    port: u16,
    timeout: Duration,
) -> io::Result<TcpStream> {
    let attempt = async {
        let addrs: Vec<SocketAddr> = if let Some(addr) = overrides.get(&host.to_ascii_lowercase()) {
            vec![*addr]
        } else if let Ok(ip) = host.parse::<IpAddr>() {
            vec![SocketAddr::new(ip, port)]
        } else {
            tokio::net::lookup_host((host, port))
                .await
                .map_err(|e| io::Error::new(e.kind(), format!("{host} could not be resolved: {e}")))?
                .collect()
        };
        // Each address tried, and what the system said of it.
        let mut tried = Vec::new();
        let mut kind = io::ErrorKind::NotFound;
        for addr in addrs {
            match TcpStream::connect(addr).await {
                Ok(tcp) => {
                    // Small requests (HEAD, signed headers) must not wait for Nagle.
                    tcp.set_nodelay(true)?;
                    return Ok(tcp);
                }
                Err(e) => {
                    kind = e.kind();
                    tried.push(format!("{addr}: {e}"));
                }
            }
        }
        let message = match tried.as_slice() {
            [] => format!("{host} has no address"),
            // An IP endpoint: the address is the endpoint.
            [one] if host.parse::<IpAddr>().is_ok() => one.clone(),
            many => format!("{host}:{port} ({})", many.join("; ")),
        };
        Err(io::Error::new(kind, message))
    };
    tokio::time::timeout(timeout, attempt).await.map_err(|_| {
        io::Error::new(
            io::ErrorKind::TimedOut,
            format!("connecting to {host}:{port} timed out"),
        )
    })?
}

/// Opens an HTTP `CONNECT` tunnel to `host:port` through the proxy on `tcp`.
async fn tunnel(tcp: &mut TcpStream, proxy: &ProxyUrl, host: &str, port: u16) -> io::Result<()> {
    let target = if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    };
    let mut req = format!("CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n");
    if let Some(auth) = &proxy.auth {
        let token = base64::engine::general_purpose::STANDARD.encode(auth.expose());
        req.push_str(&format!("Proxy-Authorization: Basic {token}\r\n"));
    }
    req.push_str("\r\n");
    tcp.write_all(req.as_bytes()).await?;
    // Read the proxy's reply head byte by byte so that nothing of the tunnel is consumed.
    let mut head = Vec::with_capacity(128);
    while !head.ends_with(b"\r\n\r\n") {
        if head.len() > 16 * 1024 {
            return Err(io::Error::new(io::ErrorKind::InvalidData, "proxy reply head too long"));
        }
        let b = tcp.read_u8().await?;
        head.push(b);
    }
    let status_line = head.split(|b| *b == b'\n').next().unwrap_or_default();
    let status = std::str::from_utf8(status_line)
        .unwrap_or_default()
        .split_whitespace()
        .nth(1)
        .unwrap_or_default();
    if status != "200" {
        return Err(io::Error::new(
            io::ErrorKind::ConnectionRefused,
            format!(
                "proxy refused CONNECT to {target}: {}",
                String::from_utf8_lossy(status_line).trim()
            ),
        ));
    }
    Ok(())
}
