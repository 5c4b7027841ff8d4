//! The floor with TLS: put / get / list / delete of one object with hand-written requests on
//! hyper over hyper-rustls (ring, webpki roots), signed by aws-sigv4, the listing read with
//! quick-xml. The endpoint may be `http://` or `https://`.
use std::time::SystemTime;

use aws_sigv4::http_request::{
    PayloadChecksumKind, PercentEncodingMode, SignableBody, SignableRequest, SigningSettings, UriPathNormalizationMode,
    sign,
};
use aws_smithy_runtime_api::client::identity::Identity;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::{Method, Request};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use quick_xml::events::Event;

type Error = Box<dyn std::error::Error>;

struct S3 {
    http: Client<HttpsConnector<HttpConnector>, Full<Bytes>>,
    endpoint: String,
    bucket: String,
    identity: Identity,
}

impl S3 {
    async fn call(&self, method: Method, path_and_query: &str, body: &'static [u8]) -> Result<(u16, Bytes), Error> {
        let uri = format!("{}/{}{}", self.endpoint, self.bucket, path_and_query);
        let host = self
            .endpoint
            .trim_start_matches("https://")
            .trim_start_matches("http://")
            .to_owned();
        let mut settings = SigningSettings::default();
        settings.percent_encoding_mode = PercentEncodingMode::Single;
        settings.uri_path_normalization_mode = UriPathNormalizationMode::Disabled;
        settings.payload_checksum_kind = PayloadChecksumKind::XAmzSha256;
        let params = aws_sigv4::sign::v4::SigningParams::builder()
            .identity(&self.identity)
            .region("us-east-1")
            .name("s3")
            .time(SystemTime::now())
            .settings(settings)
            .build()?
            .into();
        let headers = [("host", host.as_str())];
        let signable = SignableRequest::new(method.as_str(), &uri, headers.into_iter(), SignableBody::Bytes(body))?;
        let (instructions, _) = sign(signable, &params)?.into_parts();
        let mut req = Request::builder()
            .method(method)
            .uri(&uri)
            .header("host", &host)
            .body(Full::new(Bytes::from_static(body)))?;
        instructions.apply_to_request_http1x(&mut req);
        let resp = self.http.request(req).await?;
        let status = resp.status().as_u16();
        let bytes = resp.into_body().collect().await?.to_bytes();
        if status >= 300 {
            return Err(format!("HTTP {status}: {}", String::from_utf8_lossy(&bytes)).into());
        }
        Ok((status, bytes))
    }
}

/// The `<Key>` values of a ListObjectsV2 reply.
fn keys(xml: &[u8]) -> Result<Vec<String>, Error> {
    let mut reader = quick_xml::Reader::from_reader(xml);
    let (mut keys, mut in_key) = (Vec::new(), false);
    loop {
        match reader.read_event()? {
            Event::Start(e) => in_key = e.name().as_ref() == b"Key",
            Event::Text(t) if in_key => keys.push(String::from_utf8_lossy(&t).into_owned()),
            Event::End(_) => in_key = false,
            Event::Eof => break,
            _ => {}
        }
    }
    Ok(keys)
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    let env = |k: &str, d: &str| std::env::var(k).unwrap_or_else(|_| d.to_owned());
    let identity = aws_credential_types::Credentials::new(
        env("PEERS_ACCESS_KEY", "AKIDPEERSBENCH0000001"),
        env("PEERS_SECRET_KEY", "peers/bench+secret/0123456789abcdefABCDEF"),
        None,
        None,
        "bare",
    )
    .into();
    let tls =
        rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()?
            .with_root_certificates(rustls::RootCertStore {
                roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
            })
            .with_no_client_auth();
    let connector = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(tls)
        .https_or_http()
        .enable_http1()
        .build();
    let s3 = S3 {
        http: Client::builder(TokioExecutor::new()).build(connector),
        endpoint: env("PEERS_ENDPOINT", "http://127.0.0.1:9000"),
        bucket: env("PEERS_BUCKET", "peers"),
        identity,
    };
    s3.call(Method::PUT, "/minimal/hello.txt", b"hello, s3").await?;
    let (_, body) = s3.call(Method::GET, "/minimal/hello.txt", b"").await?;
    assert_eq!(&body[..], b"hello, s3");
    let (_, listing) = s3.call(Method::GET, "?list-type=2&prefix=minimal%2F", b"").await?;
    let listed = keys(&listing)?;
    s3.call(Method::DELETE, "/minimal/hello.txt", b"").await?;
    println!(
        "floor-tls: got {} bytes, listed {} keys, deleted",
        body.len(),
        listed.len()
    );
    Ok(())
}
