//! The transport: TLS verification (bundled roots, a CA bundle, off), proxies (forwarding
//! and CONNECT, with credentials) and resolver overrides, against real servers.

use crate::common::http_proxy::HttpProxy;
use crate::common::server::{ACCESS_KEY, SECRET_KEY, Server};
use base64::Engine as _;
use storages_s3::config::ObjectParameters;
use storages_s3::http::Body;
use storages_s3::s3::Client;
use storages_s3::{ErrorKind, Settings};

fn settings(pairs: &[(&str, String)]) -> Settings {
    let mut o: Vec<(&str, String)> = vec![
        ("bucket_name", "tls-bucket".into()),
        ("access_key", ACCESS_KEY.into()),
        ("secret_key", SECRET_KEY.into()),
        ("max_attempts", "1".into()),
    ];
    o.extend(pairs.iter().cloned());
    Settings::builder().options(o).no_globals().build().unwrap()
}

async fn round_trip(client: &Client) {
    client.create_bucket().await.unwrap();
    client
        .put_object("dir/file.txt", Body::from("over tls"), &ObjectParameters::new())
        .await
        .unwrap();
    let got = client
        .get_object("dir/file.txt", None)
        .await
        .unwrap()
        .body
        .collect(100)
        .await
        .unwrap();
    assert_eq!(&got[..], b"over tls");
}

#[tokio::test]
async fn https_with_a_ca_bundle() {
    let (server, tls) = Server::start_tls().await;
    let port = server.addr.port();
    let s = settings(&[
        ("endpoint_url", format!("https://localhost:{port}")),
        ("resolve", format!("localhost={}", server.addr)),
        ("verify", tls.ca_path.display().to_string()),
    ]);
    round_trip(&Client::new(&s).unwrap()).await;
}

#[tokio::test]
async fn https_virtual_host_with_a_wildcard_certificate() {
    let (server, tls) = Server::start_tls().await;
    let port = server.addr.port();
    let s = settings(&[
        ("endpoint_url", format!("https://s3.test:{port}")),
        ("addressing_style", "virtual".into()),
        ("resolve", format!("s3.test={0},tls-bucket.s3.test={0}", server.addr)),
        ("verify", tls.ca_path.display().to_string()),
    ]);
    let client = Client::new(&s).unwrap();
    assert_eq!(client.target(Some("k")).authority, format!("tls-bucket.s3.test:{port}"));
    round_trip(&client).await;
}

#[tokio::test]
async fn default_roots_refuse_a_private_ca() {
    let (server, _tls) = Server::start_tls().await;
    let s = settings(&[
        ("endpoint_url", format!("https://localhost:{}", server.addr.port())),
        ("resolve", format!("localhost={}", server.addr)),
    ]);
    let e = Client::new(&s)
        .unwrap()
        .head_object("k", &ObjectParameters::new())
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Transport, "{e}");
}

#[tokio::test]
async fn a_name_mismatch_is_refused_but_verify_off_accepts_it() {
    let (server, tls) = Server::start_tls().await;
    let endpoint = format!("https://nocert.test:{}", server.addr.port());
    let resolve = format!("nocert.test={}", server.addr);
    let strict = settings(&[
        ("endpoint_url", endpoint.clone()),
        ("resolve", resolve.clone()),
        ("verify", tls.ca_path.display().to_string()),
    ]);
    let e = Client::new(&strict)
        .unwrap()
        .head_object("k", &ObjectParameters::new())
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Transport, "{e}");
    let off = settings(&[
        ("endpoint_url", endpoint),
        ("resolve", resolve),
        ("verify", "false".into()),
    ]);
    round_trip(&Client::new(&off).unwrap()).await;
}

#[tokio::test]
async fn a_ca_bundle_that_is_not_pem_is_a_setting_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.pem");
    std::fs::write(&path, "not a certificate").unwrap();
    let s = settings(&[
        ("endpoint_url", "https://localhost:1".into()),
        ("verify", path.display().to_string()),
    ]);
    let e = Client::new(&s).unwrap_err();
    assert_eq!(e.setting(), Some("verify"), "{e}");
}

fn basic(user_pass: &str) -> String {
    format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(user_pass))
}

#[tokio::test]
async fn http_requests_are_forwarded_through_an_http_proxy() {
    let server = Server::start().await;
    let proxy = HttpProxy::start(server.addr, Some(basic("user:p@ss"))).await;
    let s = settings(&[
        ("endpoint_url", format!("http://127.0.0.1:{}", server.addr.port())),
        (
            "proxies",
            format!(r#"{{"http": "http://user:p@ss@127.0.0.1:{}"}}"#, proxy.addr.port()),
        ),
    ]);
    round_trip(&Client::new(&s).unwrap()).await;
    // Requests reach the proxy in absolute form (it pipes the rest of a kept-alive connection).
    let seen = proxy.seen();
    let absolute = format!(" http://127.0.0.1:{}/tls-bucket/", server.addr.port());
    assert!(
        !seen.is_empty() && seen.iter().all(|l| l.contains(&absolute)),
        "{seen:?}"
    );
    // Wrong proxy credentials: the proxy's 407 is the error.
    let bad = settings(&[
        ("endpoint_url", format!("http://127.0.0.1:{}", server.addr.port())),
        (
            "proxies",
            format!(r#"{{"http": "http://user:wrong@127.0.0.1:{}"}}"#, proxy.addr.port()),
        ),
    ]);
    let e = Client::new(&bad)
        .unwrap()
        .head_object("k", &ObjectParameters::new())
        .await
        .unwrap_err();
    assert_eq!(e.status(), Some(407), "{e}");
    assert!(!format!("{e} {e:?}").contains("wrong"), "proxy password leaked: {e:?}");
}

#[tokio::test]
async fn https_requests_tunnel_through_connect() {
    let (server, tls) = Server::start_tls().await;
    let proxy = HttpProxy::start(server.addr, Some(basic("u:pw"))).await;
    let port = server.addr.port();
    let s = settings(&[
        ("endpoint_url", format!("https://localhost:{port}")),
        ("verify", tls.ca_path.display().to_string()),
        (
            "proxies",
            format!(r#"{{"https": "u:pw@127.0.0.1:{}"}}"#, proxy.addr.port()),
        ),
    ]);
    round_trip(&Client::new(&s).unwrap()).await;
    assert!(
        proxy
            .seen()
            .iter()
            .all(|l| l == &format!("CONNECT localhost:{port} HTTP/1.1")),
        "{:?}",
        proxy.seen()
    );
    // A proxy that refuses the tunnel is a transport error.
    let refused = settings(&[
        ("endpoint_url", format!("https://localhost:{port}")),
        ("verify", tls.ca_path.display().to_string()),
        (
            "proxies",
            format!(r#"{{"https": "u:nope@127.0.0.1:{}"}}"#, proxy.addr.port()),
        ),
    ]);
    let e = Client::new(&refused)
        .unwrap()
        .head_object("k", &ObjectParameters::new())
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Transport, "{e}");
}

#[tokio::test]
async fn resolver_overrides_dial_the_given_address() {
    let server = Server::start().await;
    // A host name that exists nowhere, reached through the override.
    let s = settings(&[
        ("endpoint_url", format!("http://s3.test:{}", server.addr.port())),
        ("resolve", format!("s3.test={}", server.addr)),
    ]);
    round_trip(&Client::new(&s).unwrap()).await;
    let unresolved = settings(&[("endpoint_url", format!("http://s3.test:{}", server.addr.port()))]);
    let e = Client::new(&unresolved)
        .unwrap()
        .head_object("k", &ObjectParameters::new())
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Transport, "{e}");
}

#[tokio::test]
async fn a_proxy_that_never_answers_connect_hits_the_connect_timeout() {
    // Accepts connections and then says nothing.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let _silent = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    let s = settings(&[
        ("endpoint_url", "https://localhost:9".into()),
        ("proxies", format!(r#"{{"https": "127.0.0.1:{}"}}"#, addr.port())),
        ("connect_timeout", "0.3".into()),
        ("read_timeout", "0.3".into()),
    ]);
    let start = std::time::Instant::now();
    let e = Client::new(&s)
        .unwrap()
        .head_object("k", &ObjectParameters::new())
        .await
        .unwrap_err();
    assert!(e.is_timeout(), "{e}");
    assert!(start.elapsed() < std::time::Duration::from_secs(3));
}
