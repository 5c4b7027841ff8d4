//! What the crate logs through `tracing` (feature `tracing`): a span per operation with its
//! outcome, retries with their reason, and never a secret, at any level.
//!
//! A test binary of its own: it installs a process-wide subscriber, which the tests of
//! `tests/it` (running on many threads) must not share.
#![cfg(feature = "tracing")]

#[allow(unused_macros, unused_imports)]
#[path = "it/common/mod.rs"]
mod common;

use std::sync::{Arc, Mutex};

use storages_s3::config::ObjectParameters;
use storages_s3::credentials::{Credentials, StaticProvider};
use storages_s3::http::Body;
use storages_s3::s3::Client;

use common::Bed;
use common::proxy::{Fault, FaultProxy};

/// Everything written to it, for the test to read.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Captured {
    type Writer = Captured;

    fn make_writer(&'a self) -> Captured {
        self.clone()
    }
}

impl Captured {
    /// The crate's own lines.
    fn ours(&self) -> String {
        let text = String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned();
        text.lines()
            .filter(|l| l.contains("storages_s3"))
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// Everything the client side logged: the test server's own lines (s3s logs whole
    /// requests, as a server may) left out.
    fn client_side(&self) -> String {
        let text = String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned();
        text.lines()
            .filter(|l| !l.contains("s3s"))
            .collect::<Vec<_>>()
            .join("\n")
    }
}

#[tokio::test]
async fn a_retried_request_logs_its_retry_and_outcome_and_never_a_secret() {
    let captured = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(captured.clone())
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .finish();
    tracing::subscriber::set_global_default(subscriber).expect("the only subscriber of this process");

    let bed = Bed::new().await;
    let proxy = FaultProxy::start(bed.addr).await;
    let bucket = common::unique_bucket("logging");
    let mut o = bed.options(&bucket, common::Style::Path);
    o.insert("endpoint_url".into(), format!("http://{}", proxy.addr));
    let settings = storages_s3::Settings::builder()
        .options(o)
        .no_globals()
        .build()
        .unwrap();
    let token = "LOGGED-SESSION-TOKEN-must-not-appear";
    // A made-up session token, where the server does not check it (RustFS refuses tokens it
    // did not issue): then the token must appear nowhere in the logs either.
    let with_token = !bed.skip_unless(common::Capability::SessionTokensIgnored, "a session token never logged");
    let mut credentials = Credentials::new(&bed.access_key, bed.secret_key.as_str());
    if with_token {
        credentials = credentials.with_session_token(token);
    }
    let client = Client::new(&settings)
        .unwrap()
        .with_credentials(Arc::new(StaticProvider::new(credentials)))
        .unwrap();
    client.create_bucket().await.unwrap();
    proxy.push([Fault::error(503, "SlowDown")]);
    client
        .put_object("logged/k.txt", Body::from("v"), &ObjectParameters::new())
        .await
        .unwrap();

    let ours = captured.ours();
    // The retry, with its reason.
    let retry = ours
        .lines()
        .find(|l| l.contains("retrying"))
        .unwrap_or_else(|| panic!("{ours}"));
    assert!(retry.contains("SlowDown") && retry.contains("attempt=1"), "{retry}");
    // The operation's span: what it was, on what, and how it ended.
    let done = ours
        .lines()
        .find(|l| l.contains("done") && l.contains("PutObject"))
        .unwrap_or_else(|| panic!("{ours}"));
    for field in [
        &format!("bucket={bucket}"),
        "key=\"logged/k.txt\"",
        "attempts=2",
        "status=200",
    ] {
        assert!(done.contains(field), "{field} in {done}");
    }
    // Nothing secret, in anything logged at any level, ours or the libraries' on the client
    // side (aws-sigv4 included).
    let all = captured.client_side();
    // A distinctive secret only: moto's is the word "testing", which logs may hold.
    if bed.secret_key.len() >= 16 {
        assert!(!all.contains(&bed.secret_key), "the secret key was logged");
    }
    for line in all.lines().filter(|l| l.contains(token)) {
        eprintln!("LEAK: {line}");
    }
    assert!(!all.contains(token), "the session token was logged");
}
