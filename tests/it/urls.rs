//! Every branch of `url()` (SPEC §4.8), without a network for their shape, and against the
//! in-process server (which checks signatures) for what a browser would do with them.

use std::time::{Duration, SystemTime};

use crate::common::{Bed, Style};
use http::Method;
use storages_s3::ErrorKind;
use storages_s3::{S3Storage, UrlOptions};

/// 2024-01-02T03:04:05Z, the time of SPEC §4.8's examples.
fn at() -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(1_704_164_645)
}

fn storage(options: &[(&str, &str)]) -> S3Storage {
    S3Storage::builder()
        .options([
            ("bucket_name", "bucket"),
            ("access_key", "AKIDEXAMPLE"),
            ("secret_key", "EXAMPLESECRET"),
        ])
        .options(options.iter().copied())
        .no_globals()
        .build()
        .unwrap()
}

async fn url(s: &S3Storage, name: &str) -> String {
    s.url_with(name, &UrlOptions::new().at(at())).await.unwrap()
}

const NAME: &str = "dir/file name+é.txt";
const ENCODED: &str = "dir/file%20name%2B%C3%A9.txt";

fn split_signature(url: &str) -> (&str, &str) {
    let (head, sig) = url.rsplit_once("&X-Amz-Signature=").expect("a SigV4 presigned URL");
    assert_eq!(sig.len(), 64, "{url}");
    assert!(
        sig.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()),
        "{url}"
    );
    (head, sig)
}

#[tokio::test]
async fn presigned_v4_auto_style_on_aws() {
    let (head, _) = split_signature(&url(&storage(&[]), NAME).await).to_owned_pair();
    assert_eq!(
        head,
        format!(
            "https://bucket.s3.amazonaws.com/{ENCODED}?X-Amz-Algorithm=AWS4-HMAC-SHA256\
             &X-Amz-Credential=AKIDEXAMPLE%2F20240102%2Fus-east-1%2Fs3%2Faws4_request\
             &X-Amz-Date=20240102T030405Z&X-Amz-Expires=3600&X-Amz-SignedHeaders=host"
        )
    );
}

trait OwnedPair {
    fn to_owned_pair(self) -> (String, String);
}

impl OwnedPair for (&str, &str) {
    fn to_owned_pair(self) -> (String, String) {
        (self.0.to_owned(), self.1.to_owned())
    }
}

#[tokio::test]
async fn host_selection() {
    // Outside us-east-1, the regional virtual host (the original kept the global one: §7.17).
    let u = url(&storage(&[("region_name", "eu-west-1")]), "x").await;
    assert!(u.starts_with("https://bucket.s3.eu-west-1.amazonaws.com/x?"), "{u}");
    assert!(u.contains("%2Feu-west-1%2Fs3%2F"), "{u}");
    let u = url(&storage(&[("addressing_style", "path")]), "x").await;
    assert!(u.starts_with("https://s3.amazonaws.com/bucket/x?"), "{u}");
    let u = url(
        &storage(&[("addressing_style", "path"), ("region_name", "eu-west-1")]),
        "x",
    )
    .await;
    assert!(u.starts_with("https://s3.eu-west-1.amazonaws.com/bucket/x?"), "{u}");
    let u = url(&storage(&[("endpoint_url", "http://127.0.0.1:9000")]), "x").await;
    assert!(u.starts_with("http://127.0.0.1:9000/bucket/x?"), "{u}");
    let u = url(
        &storage(&[
            ("endpoint_url", "http://minio.local:9000"),
            ("addressing_style", "virtual"),
        ]),
        "x",
    )
    .await;
    assert!(u.starts_with("http://bucket.minio.local:9000/x?"), "{u}");
    let u = url(&storage(&[("use_ssl", "false"), ("querystring_auth", "false")]), "x").await;
    assert_eq!(u, "http://bucket.s3.amazonaws.com/x");
}

#[tokio::test]
async fn unsigned_urls() {
    let s = storage(&[("querystring_auth", "false")]);
    assert_eq!(
        url(&s, NAME).await,
        format!("https://bucket.s3.amazonaws.com/{ENCODED}")
    );
    let with = UrlOptions::new().parameter("ResponseContentDisposition", "attachment");
    assert_eq!(
        s.url_with("a.txt", &with).await.unwrap(),
        "https://bucket.s3.amazonaws.com/a.txt?response-content-disposition=attachment"
    );
    // No credentials are needed for unsigned URLs.
    let anonymous = S3Storage::builder()
        .options([("bucket_name", "bucket"), ("querystring_auth", "false")])
        .global_source(std::collections::HashMap::<String, String>::new())
        .build()
        .unwrap();
    assert_eq!(url(&anonymous, "k").await, "https://bucket.s3.amazonaws.com/k");
}

#[tokio::test]
async fn response_parameters_sort_first_and_tokens_come_before_the_signature() {
    let s = storage(&[("security_token", "TOKEN/VALUE=")]);
    let options = UrlOptions::new()
        .at(at())
        .parameter("ResponseContentDisposition", "attachment; filename=\"a b.txt\"")
        .expire(Duration::from_secs(60));
    let u = s.url_with("a.txt", &options).await.unwrap();
    assert!(
        u.starts_with(
            "https://bucket.s3.amazonaws.com/a.txt?response-content-disposition=attachment%3B%20filename%3D%22a%20b.txt%22&X-Amz-Algorithm="
        ),
        "{u}"
    );
    assert!(u.contains("&X-Amz-Expires=60&"), "{u}");
    assert!(
        u.contains("&X-Amz-Security-Token=TOKEN%2FVALUE%3D&X-Amz-Signature="),
        "{u}"
    );
    let e = s
        .url_with("a.txt", &UrlOptions::new().parameter("Bogus", "1"))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidSetting);
}

#[tokio::test]
async fn methods_and_fixed_times() {
    let s = storage(&[]);
    let get = url(&s, "k").await;
    let put = s
        .url_with("k", &UrlOptions::new().at(at()).http_method(Method::PUT))
        .await
        .unwrap();
    assert_eq!(split_signature(&get).0, split_signature(&put).0, "same shape");
    assert_ne!(split_signature(&get).1, split_signature(&put).1, "the method is signed");
    assert_eq!(url(&s, "k").await, get, "a fixed time gives the same link");
}

#[tokio::test]
async fn sigv2_presigned_urls() {
    let s = storage(&[("signature_version", "s3")]);
    let u = url(&s, NAME).await;
    let prefix = format!("https://bucket.s3.amazonaws.com/{ENCODED}?AWSAccessKeyId=AKIDEXAMPLE&Signature=");
    assert!(u.starts_with(&prefix), "{u}");
    assert!(u.ends_with(&format!("&Expires={}", 1_704_164_645 + 3600)), "{u}");
    // With a session token, botocore's order: the token between the signature and Expires.
    let s = storage(&[("signature_version", "s3"), ("security_token", "TOKEN/VALUE=")]);
    let u = url(&s, NAME).await;
    let (_, query) = u.split_once('?').unwrap();
    let names: Vec<&str> = query.split('&').map(|p| p.split('=').next().unwrap()).collect();
    assert_eq!(
        names,
        ["AWSAccessKeyId", "Signature", "x-amz-security-token", "Expires"],
        "{u}"
    );
    assert!(u.contains("&x-amz-security-token=TOKEN%2FVALUE%3D&"), "{u}");
}

#[tokio::test]
async fn the_setting_and_a_per_call_expire_take_the_same_range() {
    use storages_s3::Settings;
    let setting = |secs: &str| {
        Settings::builder()
            .no_globals()
            .option("bucket_name", "bucket")
            .option("querystring_expire", secs)
            .build()
    };
    assert!(setting("604800").is_ok());
    assert_eq!(setting("604801").unwrap_err().setting(), Some("querystring_expire"));
    assert!(setting("0").is_err());
    let s = storage(&[]);
    for secs in [1, 604_800] {
        let options = UrlOptions::new().at(at()).expire(Duration::from_secs(secs));
        assert!(s.url_with("k", &options).await.is_ok(), "{secs}");
    }
    for secs in [0, 604_801] {
        let options = UrlOptions::new().at(at()).expire(Duration::from_secs(secs));
        let e = s.url_with("k", &options).await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{secs}: {e}");
    }
    // SigV2 URLs have no such bound, for the setting as for a call.
    let v2 = storage(&[("signature_version", "s3"), ("querystring_expire", "1209600")]);
    let options = UrlOptions::new().at(at()).expire(Duration::from_secs(1_209_600));
    assert!(v2.url_with("k", &options).await.is_ok());
}

#[tokio::test]
async fn custom_domain_urls() {
    let s = storage(&[("custom_domain", "cdn.example.com"), ("location", "media")]);
    assert_eq!(url(&s, NAME).await, format!("https://cdn.example.com/media/{ENCODED}"));
    assert_eq!(url(&s, "").await, "https://cdn.example.com/media/");
    assert_eq!(url(&s, "path/").await, "https://cdn.example.com/media/path/");
    let plain = storage(&[("custom_domain", "example.com"), ("url_protocol", "http:")]);
    assert_eq!(url(&plain, "").await, "http://example.com/");
    // One encoder for every branch: `'()!*` are escaped here too (the original did not: #600).
    assert_eq!(
        url(&plain, "~a'b(c)!*.txt").await,
        "http://example.com/~a%27b%28c%29%21%2A.txt"
    );
    let p = UrlOptions::new().parameter("version", "10");
    assert_eq!(
        plain.url_with("f.mp4", &p).await.unwrap(),
        "http://example.com/f.mp4?version=10"
    );
}

#[tokio::test]
async fn public_domain_urls() {
    let signed = storage(&[
        ("public_domain", "files.example.com"),
        ("endpoint_url", "http://minio:9000"),
    ]);
    let u = url(&signed, NAME).await;
    assert!(
        u.starts_with(&format!("https://files.example.com/bucket/{ENCODED}?X-Amz-Algorithm=")),
        "{u}"
    );
    let plain = storage(&[("public_domain", "files.example.com"), ("querystring_auth", "false")]);
    let p = UrlOptions::new().parameter("version", "10");
    assert_eq!(
        plain.url_with("filename.mp4", &p).await.unwrap(),
        "https://files.example.com/bucket/filename.mp4?version=10"
    );
}

#[tokio::test]
async fn public_domain_with_virtual_style_puts_the_bucket_in_the_host() {
    let s = storage(&[
        ("bucket_name", "my-bucket"),
        ("public_domain", "files.example.com"),
        ("addressing_style", "virtual"),
    ]);
    let u = url(&s, "file.txt").await;
    assert!(
        u.starts_with("https://my-bucket.files.example.com/file.txt?X-Amz-Algorithm="),
        "{u}"
    );
    // A dotted bucket stays in the path, as everywhere; `auto` is path style here.
    let dotted = storage(&[
        ("bucket_name", "my.dotted.bucket"),
        ("public_domain", "files.example.com"),
        ("addressing_style", "virtual"),
    ]);
    let u = url(&dotted, "file.txt").await;
    assert!(
        u.starts_with("https://files.example.com/my.dotted.bucket/file.txt?"),
        "{u}"
    );
    let auto = storage(&[("bucket_name", "my-bucket"), ("public_domain", "files.example.com")]);
    let u = url(&auto, "file.txt").await;
    assert!(u.starts_with("https://files.example.com/my-bucket/file.txt?"), "{u}");
}

#[tokio::test]
async fn forced_virtual_style_keeps_dotted_buckets_in_the_path() {
    let s = storage(&[
        ("bucket_name", "my.dotted.bucket"),
        ("region_name", "eu-west-1"),
        ("addressing_style", "virtual"),
    ]);
    let u = url(&s, "file.txt").await;
    assert!(
        u.starts_with("https://s3.eu-west-1.amazonaws.com/my.dotted.bucket/file.txt?X-Amz-Algorithm="),
        "{u}"
    );
    // Requests go there too.
    assert_eq!(
        s.client().url("file.txt"),
        "https://s3.eu-west-1.amazonaws.com/my.dotted.bucket/file.txt"
    );
    let plain = storage(&[
        ("bucket_name", "my-bucket"),
        ("region_name", "eu-west-1"),
        ("addressing_style", "virtual"),
    ]);
    assert_eq!(
        plain.client().url("file.txt"),
        "https://my-bucket.s3.eu-west-1.amazonaws.com/file.txt"
    );
}

#[tokio::test]
async fn names_without_an_object_and_escapes_are_errors() {
    let s = storage(&[]);
    assert_eq!(s.url("").await.unwrap_err().kind(), ErrorKind::InvalidKey);
    // Without a location `..` is absorbed, as in Django; with one it is an escape.
    assert_eq!(url(&s, "../x").await, url(&s, "x").await);
    assert!(
        storage(&[("location", "media")])
            .url("../x")
            .await
            .unwrap_err()
            .is_invalid_name()
    );
}

/// Fetches a URL as a browser would.
async fn fetch(
    bed: &Bed,
    s: &S3Storage,
    style: Style,
    method: Method,
    url: &str,
    body: &'static str,
) -> (u16, Vec<u8>) {
    let settings = storages_s3::Settings::builder()
        .options(bed.options(s.client().bucket(), style))
        .no_globals()
        .build()
        .unwrap();
    let http = storages_s3::http::HttpClient::new(&storages_s3::http::HttpConfig::from_settings(&settings)).unwrap();
    let uri: http::Uri = url.parse().unwrap();
    let req = http::Request::builder()
        .method(method)
        .uri(uri.clone())
        .header("host", uri.authority().unwrap().as_str())
        .header("content-length", body.len())
        .body(storages_s3::http::Body::from(body))
        .unwrap();
    let resp = http.send(req).await.unwrap();
    let status = resp.status().as_u16();
    (status, resp.into_body().collect(1 << 20).await.unwrap().to_vec())
}

async fn presigned_urls_work_against_the_server(style: Style) {
    let bed = Bed::new().await;
    for version in bed.signature_versions("presigned URLs against the server") {
        let s = bed
            .storage(
                "urlfetch",
                style,
                &[("signature_version", version), ("location", "media")],
            )
            .await;
        s.save(NAME, "downloaded", None).await.unwrap();
        let get = s.url(NAME).await.unwrap();
        assert_eq!(
            fetch(&bed, &s, style, Method::GET, &get, "").await,
            (200, b"downloaded".to_vec()),
            "{version}"
        );
        let put = s
            .url_with("up/loaded.txt", &UrlOptions::new().http_method(Method::PUT))
            .await
            .unwrap();
        assert_eq!(
            fetch(&bed, &s, style, Method::PUT, &put, "uploaded").await.0,
            200,
            "{version}: {put}"
        );
        let mut f = s.open("up/loaded.txt", "rb").await.unwrap();
        let mut text = String::new();
        tokio::io::AsyncReadExt::read_to_string(&mut f, &mut text)
            .await
            .unwrap();
        assert_eq!(text, "uploaded");
        if bed.checks_signatures() {
            let expired = s
                .url_with(
                    NAME,
                    &UrlOptions::new().at(SystemTime::now() - Duration::from_secs(7200)),
                )
                .await
                .unwrap();
            assert_eq!(
                fetch(&bed, &s, style, Method::GET, &expired, "").await.0,
                bed.kind.refusal(crate::common::Refusal::ExpiredUrl).0,
                "{version}: expired"
            );
            let tampered = get.replacen("/media/", "/other/", 1);
            assert_eq!(
                fetch(&bed, &s, style, Method::GET, &tampered, "").await.0,
                403,
                "{version}: tampered"
            );
        }
    }
}

both_styles!(presigned_urls_work_against_the_server);

#[tokio::test]
async fn static_storage_urls_are_unsigned_unless_asked() {
    use std::collections::HashMap;
    use storages_s3::S3StaticStorage;
    let globals: HashMap<String, String> = [
        ("AWS_STORAGE_BUCKET_NAME", "bucket"),
        ("AWS_QUERYSTRING_AUTH", "True"),
        ("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE"),
        ("AWS_SECRET_ACCESS_KEY", "EXAMPLESECRET"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    let statics = S3StaticStorage::from_builder(S3Storage::builder().global_source(globals.clone())).unwrap();
    assert!(!statics.settings().querystring_auth());
    assert_eq!(
        statics.url("css/app.css").await.unwrap(),
        "https://bucket.s3.amazonaws.com/css/app.css"
    );
    let signed = S3StaticStorage::from_builder(
        S3Storage::builder()
            .option("querystring_auth", "true")
            .global_source(globals),
    )
    .unwrap();
    assert!(signed.url("css/app.css").await.unwrap().contains("X-Amz-Signature="));
    // It is a Storage like the others.
    let as_trait: &dyn storages_s3::Storage = &statics;
    assert_eq!(
        as_trait.url("a b.css").await.unwrap(),
        "https://bucket.s3.amazonaws.com/a%20b.css"
    );
}
