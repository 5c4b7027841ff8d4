//! The transport: TLS verification (bundled roots, a CA bundle, off), proxies (forwarding
//! and CONNECT, with credentials) and resolver overrides, against real servers.

use crate::common::http_proxy::HttpProxy;
use crate::common::server::{ACCESS_KEY, SECRET_KEY, Server};
use base64::Engine as _;
use std::collections::HashMap;
use storages_s3::config::ObjectParameters;
use storages_s3::http::Body;

use storages_s3::s3::{Client, ObjectHead};
use storages_s3::{ErrorKind, Settings};

fn settings(pairs: &[(&str, String)]) -> Settings {
    settings_with_globals(pairs, &[])
}

/// Settings with these globals (the environment a process would have) and no others.
fn settings_with_globals(pairs: &[(&str, String)], globals: &[(&str, String)]) -> Settings {
    let mut o: Vec<(&str, String)> = vec![
        ("bucket_name", "tls-bucket".into()),
        ("access_key", ACCESS_KEY.into()),
        ("secret_key", SECRET_KEY.into()),
        ("max_attempts", "1".into()),
    ];
    o.extend(pairs.iter().cloned());
    Settings::builder()
        .options(o)
        .global_source(globals_of(globals))
        .build()
        .unwrap()
}

fn globals_of(pairs: &[(&str, String)]) -> HashMap<String, String> {
    pairs.iter().map(|(k, v)| (k.to_string(), v.clone())).collect()
}

/// A HEAD request with a client of these settings.
async fn head(s: &Settings, key: &str) -> storages_s3::Result<ObjectHead> {
    Client::new(s).unwrap().head_object(key, &ObjectParameters::new()).await
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
    assert_eq!(client.url("k"), format!("https://tls-bucket.s3.test:{port}/k"));
    round_trip(&client).await;
}

#[tokio::test]
async fn default_roots_refuse_a_private_ca() {
    let (server, _tls) = Server::start_tls().await;
    let s = settings(&[
        ("endpoint_url", format!("https://localhost:{}", server.addr.port())),
        ("resolve", format!("localhost={}", server.addr)),
    ]);
    let e = head(&s, "k").await.unwrap_err();
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
    let e = head(&strict, "k").await.unwrap_err();
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
    let e = head(&bad, "k").await.unwrap_err();
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
    let e = head(&refused, "k").await.unwrap_err();
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
    let e = head(&unresolved, "k").await.unwrap_err();
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
    let e = head(&s, "k").await.unwrap_err();
    assert!(e.is_timeout(), "{e}");
    assert!(start.elapsed() < std::time::Duration::from_secs(3));
}

#[tokio::test]
async fn a_black_holed_first_address_does_not_hold_up_the_next() {
    let server = Server::start().await;
    let port = server.addr.port();
    // `100::/64` is IPv6's discard prefix: connections there go nowhere (or fail at once on a
    // host without IPv6). The default connect timeout (60 s) stays: the IPv4 address is tried
    // after a happy-eyeballs delay, not after the first address times out.
    let s = settings(&[
        ("endpoint_url", format!("http://s3.test:{port}")),
        ("resolve", format!("s3.test=[100::1]:{port},s3.test=127.0.0.1:{port}")),
    ]);
    let start = std::time::Instant::now();
    round_trip(&Client::new(&s).unwrap()).await;
    assert!(
        start.elapsed() < std::time::Duration::from_secs(10),
        "took {:?}",
        start.elapsed()
    ); // Every address of a host is kept, in order: the first one answers here.
    let s = settings(&[
        ("endpoint_url", format!("http://s3.test:{port}")),
        ("resolve", format!("s3.test=127.0.0.1:{port},s3.test=127.0.0.1:1")),
    ]);
    head(&s, "dir/file.txt").await.unwrap();
}

#[tokio::test]
async fn proxy_credentials_are_percent_decoded() {
    let server = Server::start().await;
    let proxy = HttpProxy::start(server.addr, Some(basic("us er:p@ss:w%rd"))).await;
    let s = settings(&[
        ("endpoint_url", format!("http://127.0.0.1:{}", server.addr.port())),
        (
            "proxies",
            format!(
                r#"{{"http": "http://us%20er:p%40ss%3Aw%25rd@127.0.0.1:{}"}}"#,
                proxy.addr.port()
            ),
        ),
    ]);
    round_trip(&Client::new(&s).unwrap()).await;
    assert!(!proxy.seen().is_empty());
}

#[tokio::test]
async fn environment_proxies_are_used_unless_the_setting_gives_proxies() {
    let server = Server::start().await;
    let env_proxy = HttpProxy::start(server.addr, None).await;
    let set_proxy = HttpProxy::start(server.addr, None).await;
    let endpoint = format!("http://127.0.0.1:{}", server.addr.port());
    let env = [("HTTP_PROXY", format!("http://127.0.0.1:{}", env_proxy.addr.port()))];
    // From the environment.
    let s = settings_with_globals(&[("endpoint_url", endpoint.clone())], &env);
    round_trip(&Client::new(&s).unwrap()).await;
    let through_env = env_proxy.seen().len();
    assert!(through_env > 0);
    // The lower-case variable first, as urllib reads them.
    let lower = HttpProxy::start(server.addr, None).await;
    let both = [
        env[0].clone(),
        ("http_proxy", format!("http://127.0.0.1:{}", lower.addr.port())),
    ];
    let s = settings_with_globals(&[("endpoint_url", endpoint.clone())], &both);
    head(&s, "dir/file.txt").await.unwrap();
    assert!(!lower.seen().is_empty());
    assert_eq!(env_proxy.seen().len(), through_env);
    // The `proxies` setting replaces the environment's.
    let s = settings_with_globals(
        &[
            ("endpoint_url", endpoint.clone()),
            (
                "proxies",
                format!(r#"{{"http": "127.0.0.1:{}"}}"#, set_proxy.addr.port()),
            ),
        ],
        &env,
    );
    head(&s, "dir/file.txt").await.unwrap();
    assert!(!set_proxy.seen().is_empty());
    assert_eq!(env_proxy.seen().len(), through_env);
    // In a CGI process a request header can set HTTP_PROXY: it is ignored there.
    let cgi = [env[0].clone(), ("REQUEST_METHOD", "GET".to_owned())];
    let s = settings_with_globals(&[("endpoint_url", endpoint.clone())], &cgi);
    head(&s, "dir/file.txt").await.unwrap();
    assert_eq!(env_proxy.seen().len(), through_env);
    // An environment proxy that is not a URL is a setting error naming the variable and
    // saying what is supported.
    for (value, says) in [
        ("socks5://127.0.0.1:1", "socks5:// proxies are not supported"),
        ("https://127.0.0.1:1", "give the proxy as http://"),
    ] {
        let bad = [("HTTPS_PROXY", value.to_owned())];
        let e = Settings::builder()
            .options([("bucket_name", "bucket")])
            .global_source(globals_of(&bad))
            .build()
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidSetting, "{e}");
        assert!(
            e.to_string().contains("HTTPS_PROXY") && e.to_string().contains(says),
            "{e}"
        );
        // A storage given its proxies does not read the environment's, nor fails for them.
        Settings::builder()
            .options([
                ("bucket_name", "bucket"),
                ("proxies", r#"{"https": "http://127.0.0.1:1"}"#),
            ])
            .global_source(globals_of(&bad))
            .build()
            .unwrap();
    }
    // An upper-case scheme is a scheme.
    let upper = [("HTTP_PROXY", format!("HTTP://127.0.0.1:{}", env_proxy.addr.port()))];
    let s = settings_with_globals(&[("endpoint_url", endpoint.clone())], &upper);
    let before = env_proxy.seen().len();
    head(&s, "dir/file.txt").await.unwrap();
    assert!(env_proxy.seen().len() > before);
    // Empty variables, as Python reads them: an empty upper-case one is unset, and an
    // empty lower-case one cancels the upper-case one.
    for globals in [
        vec![("HTTP_PROXY", String::new())],
        vec![("https_proxy", String::new()), ("http_proxy", String::new())],
        vec![("http_proxy", String::new()), ("HTTP_PROXY", env[0].1.clone())],
    ] {
        let s = settings_with_globals(&[("endpoint_url", endpoint.clone())], &globals);
        let before = env_proxy.seen().len();
        head(&s, "dir/file.txt").await.unwrap();
        assert_eq!(env_proxy.seen().len(), before, "{globals:?}: direct");
    }
}

#[tokio::test]
async fn no_proxy_sends_matching_hosts_direct() {
    let server = Server::start().await;
    let port = server.addr.port();
    let proxy = HttpProxy::start(server.addr, None).await;
    let via = format!("http://127.0.0.1:{}", proxy.addr.port());
    // Python's rules, as botocore applies them (src/http/proxy.rs checks them against
    // CPython's own answers): no networks, a port where given, `*` alone for all.
    let ip_port = format!("127.0.0.1:{port}");
    let host_port = format!("localhost:{port}");
    let cases: [(&str, String, &str, bool); 10] = [
        // (endpoint, NO_PROXY, what matches, direct?)
        ("ip", format!("http://127.0.0.1:{port}"), "127.0.0.1", true),
        ("ip and port", format!("http://127.0.0.1:{port}"), &ip_port, true),
        ("star, an ip", format!("http://127.0.0.1:{port}"), "*", true),
        ("host and port", format!("http://localhost:{port}"), &host_port, true),
        (
            "network (Python has none)",
            format!("http://127.0.0.1:{port}"),
            "10.0.0.0/8, 127.0.0.0/8",
            false,
        ),
        ("host", format!("http://s3.test:{port}"), "S3.Test", true),
        ("suffix", format!("http://s3.test:{port}"), ".test", true),
        ("star", format!("http://s3.test:{port}"), "*", true),
        (
            "star among others (Python: not all)",
            format!("http://s3.test:{port}"),
            "*,example.com",
            false,
        ),
        ("other", format!("http://s3.test:{port}"), "example.com,10.1.2.3", false),
    ];
    let resolve = (
        "resolve",
        format!(
            "s3.test={},tls-bucket.s3.test={},localhost={}",
            server.addr, server.addr, server.addr
        ),
    );
    for (what, endpoint, no_proxy, direct) in cases {
        let before = proxy.seen().len();
        let s = settings_with_globals(
            &[("endpoint_url", endpoint), resolve.clone()],
            &[("HTTP_PROXY", via.clone()), ("NO_PROXY", no_proxy.to_owned())],
        );
        let client = Client::new(&s).unwrap();
        client.create_bucket().await.ok();
        client
            .put_object("np.txt", Body::from("x"), &ObjectParameters::new())
            .await
            .unwrap();
        let proxied = proxy.seen().len() > before;
        assert_eq!(proxied, !direct, "{what}: NO_PROXY={no_proxy:?}");
    }
    // A virtual-hosted bucket is matched by its host name too.
    let before = proxy.seen().len();
    let s = settings_with_globals(
        &[
            ("endpoint_url", format!("http://s3.test:{port}")),
            ("addressing_style", "virtual".into()),
            resolve.clone(),
        ],
        &[("HTTP_PROXY", via.clone()), ("no_proxy", "s3.test".to_owned())],
    );
    // Whatever the server says of a virtual host, it said it directly.
    let reached = match head(&s, "np.txt").await {
        Ok(_) => true,
        Err(e) => e.status().is_some(),
    };
    assert!(reached, "tls-bucket.s3.test was not reached");
    assert_eq!(proxy.seen().len(), before, "tls-bucket.s3.test is under s3.test");
}

#[tokio::test]
async fn connection_errors_say_where_and_why() {
    // A closed port: the address and the system's reason.
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let e = head(&settings(&[("endpoint_url", format!("http://127.0.0.1:{port}"))]), "k")
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Transport, "{e}");
    let text = e.to_string();
    assert!(text.contains(&format!("127.0.0.1:{port}")), "{text}");
    assert!(text.to_lowercase().contains("refused"), "{text}");
    // Said once, without hyper's wording of the same thing after it, and the whole chain
    // still there for `source()`.
    assert!(!text.contains("client error"), "{text}");
    assert!(std::error::Error::source(&e).is_some());
    // A host with two addresses: both named.
    let e = head(
        &settings(&[
            ("endpoint_url", format!("http://s3.test:{port}")),
            ("resolve", format!("s3.test=127.0.0.1:{port},s3.test=127.0.0.2:{port}")),
        ]),
        "k",
    )
    .await
    .unwrap_err();
    let text = e.to_string();
    assert!(
        text.contains(&format!("s3.test:{port} (127.0.0.1:{port}, 127.0.0.2:{port})")),
        "{text}"
    );
    // A name that does not resolve: the name, and that it did not resolve.
    let e = head(
        &settings(&[("endpoint_url", "http://no-such-host.invalid:9000".into())]),
        "k",
    )
    .await
    .unwrap_err();
    let text = e.to_string();
    assert!(
        text.contains("no-such-host.invalid") && text.contains("could not be resolved"),
        "{text}"
    );
}

/// Transfer Acceleration and dual-stack name AWS's hosts; here those names resolve to the
/// test server (plain HTTP), which answers for them: the requests go where botocore sends them.
#[tokio::test]
async fn accelerate_and_dualstack_endpoints_are_the_hosts_requests_go_to() {
    let server = Server::start().await;
    for (i, (s3, host)) in [
        (r#"{"use_accelerate_endpoint": true}"#, "s3-accelerate.amazonaws.com"),
        (
            r#"{"use_accelerate_endpoint": true, "use_dualstack_endpoint": true}"#,
            "s3-accelerate.dualstack.amazonaws.com",
        ),
        (
            r#"{"use_dualstack_endpoint": true}"#,
            "s3.dualstack.eu-west-3.amazonaws.com",
        ),
    ]
    .into_iter()
    .enumerate()
    {
        let bucket = &format!("aws-variants-{i}");
        let s = settings(&[
            ("bucket_name", bucket.into()),
            ("use_ssl", "false".into()),
            ("region_name", "eu-west-3".into()),
            ("client_config", format!(r#"{{"s3": {s3}}}"#)),
            ("resolve", format!("{bucket}.{host}={}", server.addr)),
        ]);
        let client = Client::new(&s).unwrap();
        assert_eq!(client.url("k"), format!("http://{bucket}.{host}/k"), "{s3}");
        round_trip(&client).await;
        // Without the override the name is AWS's, which this machine cannot reach.
        let unrouted = settings(&[
            ("bucket_name", bucket.into()),
            ("use_ssl", "false".into()),
            ("region_name", "eu-west-3".into()),
            ("client_config", format!(r#"{{"s3": {s3}}}"#)),
            ("connect_timeout", "2".into()),
        ]);
        let e = head(&unrouted, "k").await.unwrap_err();
        assert!(e.to_string().contains(&format!("{bucket}.{host}")), "{e}");
    }
}

/// The shared config file's endpoint (its `services` section) and its nested `s3` section
/// configure a storage that has neither in its settings nor in the environment.
#[tokio::test]
async fn the_shared_config_file_gives_endpoint_and_addressing() {
    let server = Server::start().await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("config");
    std::fs::write(
        &file,
        format!(
            "[profile local]\nservices = dev\ns3 =\n  addressing_style = path\n\
             [services dev]\ns3 =\n  endpoint_url = http://127.0.0.1:{}\n",
            server.addr.port()
        ),
    )
    .unwrap();
    let globals = [
        ("AWS_CONFIG_FILE", file.display().to_string()),
        ("AWS_PROFILE", "local".to_string()),
    ];
    let s = settings_with_globals(&[("bucket_name", "from-config-file".into())], &globals);
    let client = Client::new(&s).unwrap();
    assert_eq!(
        client.url("k"),
        format!("http://127.0.0.1:{}/from-config-file/k", server.addr.port())
    );
    round_trip(&client).await;
    // Ignoring configured endpoints (here from the environment) sends it to AWS instead.
    let mut ignoring = globals.to_vec();
    ignoring.push(("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "true".into()));
    let s = settings_with_globals(&[("bucket_name", "from-config-file".into())], &ignoring);
    let aws = Client::new(&s).unwrap().url("k");
    // AWS's endpoint, in the path style the profile still gives.
    assert_eq!(aws, "https://s3.amazonaws.com/from-config-file/k");
}

/// Which payload hash and checksum each upload carries, by scheme, policy and provider, as
/// the server received them (it checks the signature, and the checksum where one is sent).
#[tokio::test]
async fn payload_signing_follows_the_scheme_and_the_policy() {
    use storages_s3::s3::{Upload, UploadOptions};
    let (tls_server, tls) = Server::start_tls().await;
    let plain_server = Server::start().await;
    let https = |extra: &[(&str, &str)]| {
        let mut o = vec![
            ("endpoint_url", format!("https://localhost:{}", tls_server.addr.port())),
            ("resolve", format!("localhost={}", tls_server.addr)),
            ("verify", tls.ca_path.display().to_string()),
        ];
        o.extend(extra.iter().map(|(k, v)| (*k, v.to_string())));
        (&tls_server, settings(&o))
    };
    let http = |extra: &[(&str, &str)]| {
        let mut o = vec![("endpoint_url", format!("http://127.0.0.1:{}", plain_server.addr.port()))];
        o.extend(extra.iter().map(|(k, v)| (*k, v.to_string())));
        (&plain_server, settings(&o))
    };
    // What the body's hash header says: SigV4 with the SHA-256, SigV4 `UNSIGNED-PAYLOAD`,
    // or SigV2, which has none.
    const SIGNED: &str = "sha256";
    const UNSIGNED: &str = "UNSIGNED-PAYLOAD";
    const UNSIGNED_V2: &str = "";
    let cases = [
        (
            "https, auto, a provider that takes checksums",
            https(&[("provider", "minio")]),
            UNSIGNED,
            true,
        ),
        (
            "https, auto, another provider that stores them",
            https(&[("provider", "rustfs")]),
            UNSIGNED,
            true,
        ),
        ("https, auto, an unknown service", https(&[]), UNSIGNED, false),
        (
            "https, always",
            https(&[("provider", "minio"), ("payload_signing", "always")]),
            SIGNED,
            true,
        ),
        (
            "https, payload_signing_enabled in client_config",
            https(&[("client_config", r#"{"s3": {"payload_signing_enabled": true}}"#)]),
            SIGNED,
            false,
        ),
        ("http, auto", http(&[("provider", "minio")]), SIGNED, true),
        ("http, auto, an unknown service", http(&[]), SIGNED, false),
        (
            "http, when_required",
            http(&[("provider", "minio"), ("request_checksum_calculation", "when_required")]),
            SIGNED,
            false,
        ),
        (
            "http, never",
            http(&[("provider", "minio"), ("payload_signing", "never")]),
            UNSIGNED,
            true,
        ),
        (
            "http, payload_signing = false (botocore's: auto)",
            http(&[("provider", "minio"), ("payload_signing", "false")]),
            SIGNED,
            true,
        ),
        (
            "http, SigV2 (no flexible checksums)",
            http(&[("provider", "minio"), ("signature_version", "s3")]),
            UNSIGNED_V2,
            false,
        ),
        (
            "http, always, with when_supported checksums",
            http(&[("request_checksum_calculation", "when_supported")]),
            SIGNED,
            true,
        ),
    ];
    let mut created = std::collections::HashSet::new();
    for (i, (case, (server, s), signed, checksum)) in cases.into_iter().enumerate() {
        let client = Client::new(&s).unwrap();
        if created.insert(server.addr) {
            client.create_bucket().await.unwrap();
        }
        // One PutObject, and a multipart upload of two parts.
        let key = format!("payload/{i}");
        client
            .put_object(&key, Body::from(format!("case {case}")), &ObjectParameters::new())
            .await
            .unwrap();
        let big = vec![b'p'; 6 * 1024 * 1024];
        let parts = UploadOptions {
            part_size: Some(5 * 1024 * 1024),
            threshold: Some(5 * 1024 * 1024),
            ..UploadOptions::default()
        };
        let mut upload = Upload::new(&client, &format!("{key}-big"), parts).unwrap();
        upload.write(&big).await.unwrap();
        upload.finish().await.unwrap();
        let got = client
            .get_object(&format!("{key}-big"), None)
            .await
            .unwrap()
            .body
            .collect(8 << 20)
            .await
            .unwrap();
        assert_eq!(got.len(), big.len(), "{case}");
        let seen = server.payloads();
        let last = &seen[seen.len() - 3..];
        assert_eq!(
            last.iter().map(|p| p.0).collect::<Vec<_>>(),
            ["PutObject", "UploadPart", "UploadPart"],
            "{case}"
        );
        for (operation, hash, crc) in last {
            if signed == SIGNED {
                assert!(
                    hash.len() == 64 && hash.bytes().all(|b| b.is_ascii_hexdigit()),
                    "{case}: {operation} {hash}"
                );
            } else {
                assert_eq!(hash, signed, "{case}: {operation}");
            }
            assert_eq!(crc.is_some(), checksum, "{case}: {operation} {crc:?}");
            if let Some(crc) = crc {
                assert!(crc.starts_with("x-amz-checksum-crc64nvme: "), "{case}: {crc}");
            }
        }
    }
}
