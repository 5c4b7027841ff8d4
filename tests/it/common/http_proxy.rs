//! A minimal HTTP proxy: `CONNECT` tunnels and absolute-form forwarding, recording what it
//! was asked, to prove that the client goes through a configured proxy.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

pub struct HttpProxy {
    pub addr: SocketAddr,
    seen: Arc<Mutex<Vec<String>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for HttpProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl HttpProxy {
    /// Starts a proxy that requires `Proxy-Authorization` when `auth` is given
    /// (`Basic <base64>`), and dials every target at `dial` (the test server).
    pub async fn start(dial: SocketAddr, auth: Option<String>) -> HttpProxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let seen: Arc<Mutex<Vec<String>>> = Arc::default();
        let s = seen.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((client, _)) = listener.accept().await else {
                    continue;
                };
                let (s, auth) = (s.clone(), auth.clone());
                tokio::spawn(async move {
                    let _ = handle(client, dial, s, auth).await;
                });
            }
        });
        HttpProxy { addr, seen, task }
    }

    /// First lines of what the proxy received (`CONNECT host:port HTTP/1.1`, `GET http://...`).
    pub fn seen(&self) -> Vec<String> {
        self.seen.lock().unwrap().clone()
    }
}

async fn handle(
    mut client: TcpStream,
    dial: SocketAddr,
    seen: Arc<Mutex<Vec<String>>>,
    auth: Option<String>,
) -> std::io::Result<()> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if client.read(&mut byte).await? == 0 {
            return Ok(());
        }
        head.push(byte[0]);
    }
    let text = String::from_utf8_lossy(&head).into_owned();
    let first = text.lines().next().unwrap_or_default().to_owned();
    seen.lock().unwrap().push(first.clone());
    if let Some(expected) = auth {
        let ok = text.lines().any(|l| {
            l.to_ascii_lowercase().starts_with("proxy-authorization:")
                && l.split_once(':').unwrap().1.trim() == expected
        });
        if !ok {
            client
                .write_all(
                    b"HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                )
                .await?;
            return Ok(());
        }
    }
    let mut server = TcpStream::connect(dial).await?;
    if first.starts_with("CONNECT ") {
        client.write_all(b"HTTP/1.1 200 Connection established\r\n\r\n").await?;
    } else {
        // Forwarded request: pass it on as received (the server accepts absolute form).
        server.write_all(&head).await?;
    }
    let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
    Ok(())
}
