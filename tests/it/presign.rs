//! Presigned URLs (SigV4 and SigV2) used by a plain HTTP client against a server that
//! checks them.

use std::sync::Arc;
use std::time::Duration;

use crate::common::{Bed, Style};
use http::Method;
use storages_s3::config::ObjectParameters;
use storages_s3::credentials::{Credentials, StaticProvider};
use storages_s3::http::{Body, HttpClient, HttpConfig};

/// Fetches a URL as a browser would, with an optional body; returns status and body.
async fn fetch(
    method: Method,
    url: &str,
    body: &'static str,
    resolve: Vec<(String, std::net::SocketAddr)>,
) -> (u16, Vec<u8>) {
    let config = resolve
        .into_iter()
        .fold(HttpConfig::default(), |c, (host, addr)| c.with_resolve(host, addr));
    let http = HttpClient::new(&config).unwrap();
    let uri: http::Uri = url.parse().unwrap();
    let mut req = http::Request::builder().method(method).uri(uri.clone());
    req = req.header("host", uri.authority().unwrap().as_str());
    if !body.is_empty() {
        req = req.header("content-length", body.len());
    }
    let resp = http.send(req.body(Body::from(body)).unwrap()).await.unwrap();
    let status = resp.status().as_u16();
    (status, resp.into_body().collect(1 << 20).await.unwrap().to_vec())
}

fn resolve(bed: &Bed, client: &storages_s3::s3::Client) -> Vec<(String, std::net::SocketAddr)> {
    vec![(format!("{}.localhost", client.bucket()), bed.addr)]
}

async fn presigned_get_and_put(style: Style) {
    let bed = Bed::new().await;
    for version in bed.signature_versions("presigned GET and PUT") {
        let client = bed
            .client_with("presign", style, &[("signature_version", version)])
            .await;
        client
            .put_object("dir/a b+é.txt", Body::from("secret content"), &ObjectParameters::new())
            .await
            .unwrap();
        let url = client
            .presign(Method::GET, "dir/a b+é.txt", Duration::from_secs(300), &[])
            .await
            .unwrap();
        let (status, body) = fetch(Method::GET, &url, "", resolve(&bed, &client)).await;
        assert_eq!(status, 200, "{version}: {url}");
        assert_eq!(body, b"secret content");
        let url = client
            .presign(Method::PUT, "uploaded.txt", Duration::from_secs(300), &[])
            .await
            .unwrap();
        let (status, _) = fetch(Method::PUT, &url, "via url", resolve(&bed, &client)).await;
        assert_eq!(status, 200, "{version}: {url}");
        let got = client
            .get_object("uploaded.txt", None)
            .await
            .unwrap()
            .body
            .collect(100)
            .await
            .unwrap();
        assert_eq!(&got[..], b"via url");
    }
}

async fn response_overrides_are_signed(style: Style) {
    let bed = Bed::new().await;
    let client = bed.client("presignoverride", style).await;
    client
        .put_object("report.csv", Body::from("a,b"), &ObjectParameters::new())
        .await
        .unwrap();
    let url = client
        .presign(
            Method::GET,
            "report.csv",
            Duration::from_secs(60),
            &[("response-content-disposition", "attachment; filename=\"r 1.csv\"")],
        )
        .await
        .unwrap();
    assert!(
        url.contains("response-content-disposition=attachment%3B%20filename%3D%22r%201.csv%22"),
        "{url}"
    );
    let (status, body) = fetch(Method::GET, &url, "", resolve(&bed, &client)).await;
    assert_eq!((status, body.as_slice()), (200, &b"a,b"[..]));
}

async fn tampered_expired_and_wrongly_signed_urls_are_refused(style: Style) {
    let bed = Bed::new().await;
    if bed.skip_unless_signatures_checked("presigned URL rejection") {
        return;
    }
    let client = bed.client("presignbad", style).await;
    client
        .put_object("k", Body::from("v"), &ObjectParameters::new())
        .await
        .unwrap();
    let wrong = client
        .with_credentials(Arc::new(StaticProvider::new(Credentials::new(
            &bed.access_key,
            "wrong-secret",
        ))))
        .unwrap();
    let url = wrong
        .presign(Method::GET, "k", Duration::from_secs(60), &[])
        .await
        .unwrap();
    assert_eq!(fetch(Method::GET, &url, "", resolve(&bed, &client)).await.0, 403);
    let url = client
        .presign(Method::GET, "k", Duration::from_secs(60), &[])
        .await
        .unwrap();
    let tampered = url.replacen("/k?", "/other?", 1);
    assert_eq!(fetch(Method::GET, &tampered, "", resolve(&bed, &client)).await.0, 403);
    let url = client
        .presign(Method::GET, "k", Duration::from_secs(1), &[])
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(2100)).await;
    assert_eq!(
        fetch(Method::GET, &url, "", resolve(&bed, &client)).await.0,
        bed.kind.refusal(crate::common::Refusal::ExpiredUrl).0,
        "expired URL accepted"
    );
}

both_styles!(
    presigned_get_and_put,
    response_overrides_are_signed,
    tampered_expired_and_wrongly_signed_urls_are_refused
);
