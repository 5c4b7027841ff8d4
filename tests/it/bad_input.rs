//! Bad input gets a typed error, loses nothing, and never shows a secret: wrong
//! credentials, missing credentials, impossible keys and names, malformed settings.

use std::sync::Arc;

use crate::common::proxy::FaultProxy;
use crate::common::{Bed, Refusal, Style, unique_bucket};
use bytes::Bytes;
use storages_s3::config::ObjectParameters;
use storages_s3::credentials::{Credentials, StaticProvider};
use storages_s3::http::Body;
use storages_s3::s3::Client;
use storages_s3::s3::MetadataDirective;
use storages_s3::{ErrorKind, Settings};

const WRONG_SECRET: &str = "definitely-not-the-secret-0123456789";

fn assert_no_secret(e: &storages_s3::Error, secret: &str) {
    let text = format!("{e} {e:?}");
    assert!(!text.contains(secret), "secret in error: {text}");
}

#[tokio::test]
async fn a_wrong_secret_is_signature_does_not_match_and_stores_nothing() {
    let bed = Bed::new().await;
    if bed.skip_unless_signatures_checked("wrong secret") {
        return;
    }
    for style in [Style::Path, Style::Virtual] {
        let good = bed.client("wrongsecret", style).await;
        let bad = good
            .with_credentials(Arc::new(StaticProvider::new(Credentials::new(
                &bed.access_key,
                WRONG_SECRET,
            ))))
            .unwrap();
        let e = bad
            .put_object("k.txt", Body::from("x"), &ObjectParameters::new())
            .await
            .unwrap_err();
        // Garage says AccessDenied ("Invalid signature") where AWS says SignatureDoesNotMatch.
        let (status, code) = bed.kind.refusal(Refusal::WrongSignature);
        assert_eq!((e.status(), e.code()), (Some(status), Some(code)), "{e}");
        assert_eq!(e.is_signature_mismatch(), code == "SignatureDoesNotMatch");
        assert_eq!(e.kind(), ErrorKind::AccessDenied);
        assert_no_secret(&e, WRONG_SECRET);
        assert_no_secret(&e, &bed.secret_key);
        assert!(
            good.head_object("k.txt", &ObjectParameters::new())
                .await
                .unwrap_err()
                .is_not_found()
        );
        // The same for SigV2.
        if bed.skip_unless(crate::common::Capability::SigV2, "a wrong secret with SigV2") {
            continue;
        }
        let v2 = Client::new(&bed.settings(
            good.bucket(),
            style,
            &[("signature_version", "s3"), ("secret_key", WRONG_SECRET)],
        ))
        .unwrap();
        let e = v2.get_object("k.txt", None).await.unwrap_err();
        assert!(e.is_access_denied(), "{e}");
        assert_no_secret(&e, WRONG_SECRET);
    }
}

#[tokio::test]
async fn an_unknown_access_key_is_refused() {
    let bed = Bed::new().await;
    if bed.skip_unless_signatures_checked("unknown access key") {
        return;
    }
    let good = bed.client("unknownkey", Style::Path).await;
    let bad = good
        .with_credentials(Arc::new(StaticProvider::new(Credentials::new(
            "AKIDUNKNOWN",
            WRONG_SECRET,
        ))))
        .unwrap();
    let e = bad.head_object("k", &ObjectParameters::new()).await.unwrap_err();
    assert!(e.is_access_denied(), "{e}");
}

#[tokio::test]
async fn unsigned_requests_are_refused_by_a_private_server() {
    let bed = Bed::new().await;
    if bed.skip_unless_signatures_checked("unsigned") {
        return;
    }
    let bucket = unique_bucket("unsigned");
    let client = Client::new(&bed.settings(&bucket, Style::Path, &[("signature_version", "unsigned")])).unwrap();
    let e = client
        .put_object("k", Body::from("x"), &ObjectParameters::new())
        .await
        .unwrap_err();
    assert!(e.is_access_denied(), "{e}");
}

/// A client whose every request would go through a proxy that counts them.
async fn counted(extra: &[(&str, &str)]) -> (Bed, FaultProxy, Client) {
    let bed = Bed::new().await;
    let proxy = FaultProxy::start(bed.addr).await;
    let mut o = bed.options(&unique_bucket("counted"), Style::Path);
    o.insert("endpoint_url".into(), format!("http://{}", proxy.addr));
    for (k, v) in extra {
        o.insert((*k).into(), (*v).into());
    }
    let s = Settings::builder().options(o).no_globals().build().unwrap();
    let client = Client::new(&s).unwrap();
    client.create_bucket().await.unwrap();
    (bed, proxy, client)
}

#[tokio::test]
async fn missing_credentials_fail_before_any_request() {
    let bed = Bed::new().await;
    let proxy = FaultProxy::start(bed.addr).await;
    let s = Settings::builder()
        .options([
            ("bucket_name", "nocreds"),
            ("endpoint_url", &format!("http://{}", proxy.addr)),
        ])
        .no_globals()
        .build()
        .unwrap();
    let e = Client::new(&s).unwrap().get_object("k", None).await.unwrap_err();
    assert!(e.is_no_credentials(), "{e}");
    assert!(e.to_string().contains("Unable to locate credentials"), "{e}");
    assert!(proxy.requests().is_empty());
}

#[tokio::test]
async fn impossible_keys_fail_before_any_request() {
    let (_bed, proxy, client) = counted(&[]).await;
    let before = proxy.requests().len();
    let long = "k".repeat(1025);
    for key in ["", long.as_str()] {
        let p = ObjectParameters::new();
        let errors = [
            client.head_object(key, &p).await.unwrap_err(),
            client.get_object(key, None).await.unwrap_err(),
            client.put_object(key, Body::from("x"), &p).await.unwrap_err(),
            client.delete_object(key).await.unwrap_err(),
            client
                .copy_object("src", key, MetadataDirective::Copy, &p)
                .await
                .unwrap_err(),
            client
                .copy_object(key, "dst", MetadataDirective::Copy, &p)
                .await
                .unwrap_err(),
            client.create_multipart_upload(key, &p).await.unwrap_err(),
            client
                .upload_part(key, "id", 1, Bytes::from_static(b"x"), &p)
                .await
                .unwrap_err(),
            client.delete_objects(&["ok", key]).await.unwrap_err(),
            client
                .presign(http::Method::GET, key, std::time::Duration::from_secs(60), &[])
                .await
                .unwrap_err(),
        ];
        for e in errors {
            assert_eq!(e.kind(), ErrorKind::InvalidKey, "{e}");
        }
        assert!(storages_s3::s3::Upload::new(&client, key, Default::default()).is_err());
    }
    assert_eq!(
        proxy.requests().len(),
        before,
        "no request may be sent for an impossible key"
    );
}

#[tokio::test]
async fn metadata_that_cannot_be_a_header_fails_before_any_request() {
    let (_bed, proxy, client) = counted(&[]).await;
    let before = proxy.requests().len();
    let mut p = ObjectParameters::new();
    p.metadata_mut().insert("note".into(), "naïve".into());
    let e = client.put_object("k", Body::from("x"), &p).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidSetting, "{e}");
    assert_eq!(proxy.requests().len(), before);
}

#[tokio::test]
async fn a_stream_shorter_than_declared_stores_nothing() {
    let (_bed, _proxy, client) = counted(&[]).await;
    let chunks: Vec<Result<Bytes, storages_s3::http::BoxError>> = vec![Ok(Bytes::from_static(b"only 9 b."))];
    let body = Body::stream(Box::pin(crate::common::stream_of(chunks)), 100);
    let e = client
        .put_object("short", body, &ObjectParameters::new())
        .await
        .unwrap_err();
    assert!(matches!(e.kind(), ErrorKind::Transport | ErrorKind::Io), "{e}");
    assert!(
        client
            .head_object("short", &ObjectParameters::new())
            .await
            .unwrap_err()
            .is_not_found()
    );
}

#[test]
fn invalid_bucket_names_are_refused() {
    for bad in ["", "ab", "has space", "a/b", "-lead", "caf\u{e9}", &"x".repeat(256)] {
        let e = Settings::builder()
            .option("bucket_name", bad)
            .no_globals()
            .build()
            .unwrap_err();
        assert!(
            matches!(e.kind(), ErrorKind::InvalidBucketName | ErrorKind::InvalidSetting),
            "{bad:?}: {e}"
        );
    }
}

#[test]
fn malformed_settings_name_the_setting() {
    let cases: &[(&str, &str)] = &[
        ("endpoint_url", "localhost:9000"),
        ("endpoint_url", "ftp://x"),
        ("endpoint_url", "http://host:notaport"),
        ("endpoint_url", "http://h/p?query"),
        ("endpoint_url", "http://user:pw@h"),
        ("addressing_style", "dns"),
        ("signature_version", "s4"),
        ("use_ssl", "perhaps"),
        ("querystring_expire", "soon"),
        ("proxies", "not json"),
        ("client_config", r#"{"retries": {"max_attempts": "x"}}"#),
        ("transfer_config", r#"{"multipart_chunksize": 1}"#),
        ("resolve", "host-without-address"),
        ("request_checksum_calculation", "always"),
    ];
    for (name, value) in cases {
        let e = Settings::builder()
            .options([("bucket_name", "b-1"), (name, value)])
            .no_globals()
            .build()
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidSetting, "{name}={value}: {e}");
        assert_eq!(e.setting(), Some(*name), "{name}={value}: {e}");
    }
}

#[test]
fn secrets_stay_out_of_setting_errors_and_debug() {
    let e = Settings::builder()
        .options([("bucket_name", "b-1"), ("secret_key", "SUPERSECRETVALUE")])
        .no_globals()
        .build()
        .unwrap_err();
    assert_no_secret(&e, "SUPERSECRETVALUE");
    let s = Settings::builder()
        .options([
            ("bucket_name", "b-1"),
            ("access_key", "AK"),
            ("secret_key", "SUPERSECRETVALUE"),
            ("security_token", "TOKENVALUE123"),
            (
                "object_parameters",
                r#"{"SSECustomerKey": "SSECKEYVALUE0123456789012345678"}"#,
            ),
            ("proxies", r#"{"https": "http://me:PROXYPASSWORD@p:3128"}"#),
        ])
        .no_globals()
        .build()
        .unwrap();
    let client = Client::new(&s).unwrap();
    let text = format!("{s:?} {client:?}");
    for secret in ["SUPERSECRETVALUE", "TOKENVALUE123", "SSECKEYVALUE", "PROXYPASSWORD"] {
        assert!(!text.contains(secret), "{secret} leaked in {text}");
    }
}
