//! Presigned POST forms (browser uploads) posted, as a browser would post them, to a server
//! that checks the policy and its signature: a `multipart/form-data` body written by hand,
//! the hidden fields in the order given, the file last.
//!
//! s3s differs from S3 in two ways that matter here: it does not replace `${filename}` in the
//! `key` field (the tests set the key a page script would), and it refuses a SigV4 form whose
//! `x-amz-date` is more than 15 minutes from its clock, whatever the policy's expiration.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use crate::common::{Bed, Capability, Refusal, Style};
use storages_s3::ErrorKind;
use storages_s3::S3Storage;
use storages_s3::config::ObjectParameters;
use storages_s3::credentials::{Credentials, StaticProvider};
use storages_s3::http::{Body, HttpClient, HttpConfig};
use storages_s3::s3::{Client, PostPolicy, PresignedPost, SuccessActionStatus};

/// What the server answered.
struct Reply {
    status: u16,
    headers: http::HeaderMap,
    body: String,
}

impl Reply {
    /// The S3 error code of an error reply.
    fn code(&self) -> &str {
        self.body
            .split_once("<Code>")
            .and_then(|(_, rest)| rest.split_once("</Code>"))
            .map(|(code, _)| code)
            .unwrap_or("")
    }
}

/// A `multipart/form-data` body: the fields in order, then the file, last.
fn form_body(fields: &[(String, String)], file_name: &str, file_type: &str, content: &[u8]) -> (String, Vec<u8>) {
    let boundary = format!("----storages-s3-form-{:016x}", fastrand::u64(..));
    let mut body = Vec::new();
    for (name, value) in fields {
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n").as_bytes(),
        );
    }
    body.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{file_name}\"\r\n\
             Content-Type: {file_type}\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(content);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (boundary, body)
}

/// Posts a form to `url` as a browser would.
async fn post_form(bed: &Bed, bucket: &str, url: &str, fields: &[(String, String)], content: &[u8]) -> Reply {
    let http = HttpClient::new(&HttpConfig::default().with_resolve(format!("{bucket}.localhost"), bed.addr)).unwrap();
    let (boundary, body) = form_body(fields, "from the browser.bin", "application/octet-stream", content);
    let uri: http::Uri = url.parse().unwrap();
    let req = http::Request::builder()
        .method(http::Method::POST)
        .uri(uri.clone())
        .header("host", uri.authority().unwrap().as_str())
        .header("content-type", format!("multipart/form-data; boundary={boundary}"))
        .header("content-length", body.len())
        .body(Body::from(body))
        .unwrap();
    let resp = http.send(req).await.unwrap();
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let body = resp.into_body().collect(1 << 20).await.unwrap();
    Reply {
        status,
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
    }
}

/// The form's fields with one value replaced (or added, before the signature).
fn with_field(post: &PresignedPost, name: &str, value: &str) -> Vec<(String, String)> {
    let mut fields = post.fields.clone();
    match fields.iter_mut().find(|(n, _)| n.eq_ignore_ascii_case(name)) {
        Some((_, v)) => *v = value.to_owned(),
        None => fields.insert(1, (name.to_owned(), value.to_owned())),
    }
    fields
}

async fn stored(client: &Client, key: &str) -> Option<Vec<u8>> {
    match client.get_object(key, None).await {
        Ok(out) => Some(out.body.collect(1 << 20).await.unwrap().to_vec()),
        Err(e) if e.is_not_found() => None,
        Err(e) => panic!("{e}"),
    }
}

fn expected_url(bed: &Bed, bucket: &str, style: Style) -> String {
    match style {
        Style::Path => format!("http://{}:{}/{bucket}/", bed.endpoint_host, bed.port),
        Style::Virtual => format!("http://{bucket}.localhost:{}/", bed.port),
    }
}

async fn upload_is_stored_with_its_fields(style: Style) {
    let bed = Bed::new().await;
    let client = bed.client("post", style).await;
    let key = "dir/photo one+é.png";
    let policy = PostPolicy::new()
        .key(key)
        .content_type("image/png")
        .cache_control("max-age=60")
        .content_disposition("inline; filename=\"photo.png\"")
        .metadata("Owner", "ana")
        .acl("private")
        .content_length_range(1, 1024)
        .success_action_status(SuccessActionStatus::Created);
    let post = client.presigned_post(&policy).await.unwrap();
    assert_eq!(post.url, expected_url(&bed, client.bucket(), style));
    assert_eq!(post.fields.first().map(|(n, _)| n.as_str()), Some("key"));
    assert_eq!(post.fields.last().map(|(n, _)| n.as_str()), Some("x-amz-signature"));
    let reply = post_form(&bed, client.bucket(), &post.url, &post.fields, b"\x89PNG not really").await;
    assert_eq!(reply.status, 201, "{}", reply.body);
    // AWS (and the in-process server) answer 201 with a PostResponse document; moto answers
    // 201 with an empty body, which browsers and our users treat the same way.
    if bed.checks_signatures() {
        assert!(
            reply.body.contains(&format!("<Bucket>{}</Bucket>", client.bucket())),
            "{}",
            reply.body
        );
    }
    assert_eq!(stored(&client, key).await.as_deref(), Some(&b"\x89PNG not really"[..]));
    let head = client.head_object(key, &ObjectParameters::new()).await.unwrap();
    assert_eq!(head.content_type.as_deref(), Some("image/png"));
    assert_eq!(head.cache_control.as_deref(), Some("max-age=60"));
    assert_eq!(
        head.content_disposition.as_deref(),
        Some("inline; filename=\"photo.png\"")
    );
    assert_eq!(head.metadata.get("owner").map(String::as_str), Some("ana"));
    assert_eq!(head.content_length, Some(15));
}

async fn success_statuses_and_redirect(style: Style) {
    let bed = Bed::new().await;
    let client = bed.client("poststatus", style).await;
    let post = client.presigned_post(&PostPolicy::new().key("default")).await.unwrap();
    let reply = post_form(&bed, client.bucket(), &post.url, &post.fields, b"a").await;
    assert_eq!(reply.status, 204, "{}", reply.body);
    let policy = PostPolicy::new()
        .key("ok")
        .success_action_status(SuccessActionStatus::Ok);
    let post = client.presigned_post(&policy).await.unwrap();
    let reply = post_form(&bed, client.bucket(), &post.url, &post.fields, b"b").await;
    assert_eq!((reply.status, reply.body.as_str()), (200, ""));
    let policy = PostPolicy::new()
        .key("redirected")
        .success_action_redirect("https://app.example/done?upload=1");
    let post = client.presigned_post(&policy).await.unwrap();
    let reply = post_form(&bed, client.bucket(), &post.url, &post.fields, b"c").await;
    assert_eq!(reply.status, 303, "{}", reply.body);
    let location = reply.headers["location"].to_str().unwrap();
    assert!(location.starts_with("https://app.example/done?upload=1&"), "{location}");
    assert!(location.contains("key=redirected"), "{location}");
    for (key, body) in [("default", "a"), ("ok", "b"), ("redirected", "c")] {
        assert_eq!(stored(&client, key).await.as_deref(), Some(body.as_bytes()), "{key}");
    }
}

async fn prefix_allows_keys_under_it_only(style: Style) {
    let bed = Bed::new().await;
    let client = bed.client("postprefix", style).await;
    let policy = PostPolicy::new().key_starts_with("uploads/ana/");
    let post = client.presigned_post(&policy).await.unwrap();
    assert_eq!(post.field("key"), Some("uploads/ana/${filename}"));
    // S3 would replace ${filename}; s3s does not, so the page sets the key itself.
    let fields = with_field(&post, "key", "uploads/ana/cat.txt");
    let reply = post_form(&bed, client.bucket(), &post.url, &fields, b"meow").await;
    assert_eq!(reply.status, 204, "{}", reply.body);
    assert_eq!(
        stored(&client, "uploads/ana/cat.txt").await.as_deref(),
        Some(&b"meow"[..])
    );
    if bed.skip_unless(Capability::PostPolicies, "POST outside the key prefix") {
        return;
    }
    for outside in ["uploads/bob/cat.txt", "uploads/anacat.txt", "cat.txt"] {
        let fields = with_field(&post, "key", outside);
        let reply = post_form(&bed, client.bucket(), &post.url, &fields, b"meow").await;
        assert_eq!(
            (reply.status, reply.code()),
            bed.kind.refusal(Refusal::PolicyViolated),
            "{outside}"
        );
        assert_eq!(stored(&client, outside).await, None, "{outside}");
    }
}

async fn content_length_range_is_enforced(style: Style) {
    let bed = Bed::new().await;
    let client = bed.client("postrange", style).await;
    let post = client
        .presigned_post(&PostPolicy::new().key("sized").content_length_range(2, 10))
        .await
        .unwrap();
    if !bed.skip_unless(Capability::PostPolicies, "content-length-range") {
        let reply = post_form(&bed, client.bucket(), &post.url, &post.fields, b"01234567890").await;
        let too_large = bed.kind.refusal(Refusal::FormTooLarge);
        assert_eq!((reply.status, reply.code()), too_large, "{}", reply.body);
        let reply = post_form(&bed, client.bucket(), &post.url, &post.fields, b"0").await;
        let too_small = bed.kind.refusal(Refusal::FormTooSmall);
        assert_eq!((reply.status, reply.code()), too_small, "{}", reply.body);
        assert_eq!(stored(&client, "sized").await, None);
    }
    let reply = post_form(&bed, client.bucket(), &post.url, &post.fields, b"0123456789").await;
    assert_eq!(reply.status, 204, "{}", reply.body);
    assert_eq!(stored(&client, "sized").await.as_deref(), Some(&b"0123456789"[..]));
}

async fn expired_forms_are_refused(style: Style) {
    let bed = Bed::new().await;
    if bed.skip_unless(Capability::PostPolicies, "expired POST policy") {
        return;
    }
    let client = bed.client("postexpired", style).await;
    let past = SystemTime::now() - Duration::from_secs(60);
    let post = client
        .presigned_post(&PostPolicy::new().key("late").expires_at(past))
        .await
        .unwrap();
    let reply = post_form(&bed, client.bucket(), &post.url, &post.fields, b"x").await;
    let expired = bed.kind.refusal(Refusal::ExpiredForm);
    assert_eq!((reply.status, reply.code()), expired, "{}", reply.body);
    let post = client
        .presigned_post(&PostPolicy::new().key("late").expires_in(Duration::from_secs(1)))
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let reply = post_form(&bed, client.bucket(), &post.url, &post.fields, b"x").await;
    assert_eq!((reply.status, reply.code()), expired, "{}", reply.body);
    assert_eq!(stored(&client, "late").await, None);
}

async fn wrong_signatures_and_tampered_forms_are_refused(style: Style) {
    let bed = Bed::new().await;
    if bed.skip_unless(Capability::PostPolicies, "forged POST forms") {
        return;
    }
    for version in bed.signature_versions("forged POST forms") {
        let client = bed
            .client_with("postforged", style, &[("signature_version", version)])
            .await;
        let policy = PostPolicy::new().key("k").content_type("image/png");
        let wrong = client
            .with_credentials(Arc::new(StaticProvider::new(Credentials::new(
                &bed.access_key,
                "wrong-secret",
            ))))
            .unwrap();
        let post = wrong.presigned_post(&policy).await.unwrap();
        let reply = post_form(&bed, client.bucket(), &post.url, &post.fields, b"x").await;
        assert_eq!(
            (reply.status, reply.code()),
            bed.kind.refusal(Refusal::FormWrongSignature),
            "{version}"
        );

        let post = client.presigned_post(&policy).await.unwrap();
        // A fixed field changed: the policy no longer holds.
        let fields = with_field(&post, "Content-Type", "text/html");
        let reply = post_form(&bed, client.bucket(), &post.url, &fields, b"x").await;
        assert_eq!(
            (reply.status, reply.code()),
            bed.kind.refusal(Refusal::PolicyViolated),
            "{version}"
        );
        // The policy itself changed (a later expiry, conditions the fields still meet): only
        // the signature can refuse it, whichever check the server runs first.
        // Both forms are signed in the same second: s3s checks the policy's `x-amz-date`
        // against the form's before the signature, and a second boundary between the two
        // would make that the refusal.
        let longer = policy.clone().expires_in(Duration::from_secs(7200));
        let (post, other) = loop {
            let post = client.presigned_post(&policy).await.unwrap();
            let other = client.presigned_post(&longer).await.unwrap();
            if post.field("x-amz-date") == other.field("x-amz-date") {
                break (post, other);
            }
        };
        assert_ne!(other.field("policy"), post.field("policy"));
        let fields = with_field(&post, "policy", other.field("policy").unwrap());
        let reply = post_form(&bed, client.bucket(), &post.url, &fields, b"x").await;
        assert_eq!(
            (reply.status, reply.code()),
            bed.kind.refusal(Refusal::FormWrongSignature),
            "{version}"
        );
        // A field the policy does not name.
        let fields = with_field(&post, "x-amz-meta-extra", "1");
        let reply = post_form(&bed, client.bucket(), &post.url, &fields, b"x").await;
        assert_eq!(
            (reply.status, reply.code()),
            bed.kind.refusal(Refusal::FormExtraField),
            "{version}: {}",
            reply.body
        );
        assert_eq!(stored(&client, "k").await, None, "{version}");
    }
}

async fn sigv2_forms_upload(style: Style) {
    let bed = Bed::new().await;
    if bed.skip_unless(Capability::SigV2, "SigV2 POST forms") {
        return;
    }
    let client = bed.client_with("postv2", style, &[("signature_version", "s3")]).await;
    let policy = PostPolicy::new().key("v2/file.txt").content_type("text/plain");
    let post = client.presigned_post(&policy).await.unwrap();
    let names: Vec<&str> = post.fields.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["key", "Content-Type", "AWSAccessKeyId", "policy", "signature"]);
    let reply = post_form(&bed, client.bucket(), &post.url, &post.fields, b"signed v2").await;
    assert_eq!(reply.status, 204, "{}", reply.body);
    assert_eq!(stored(&client, "v2/file.txt").await.as_deref(), Some(&b"signed v2"[..]));
    let head = client
        .head_object("v2/file.txt", &ObjectParameters::new())
        .await
        .unwrap();
    assert_eq!(head.content_type.as_deref(), Some("text/plain"));
}

async fn temporary_credentials_send_their_token(style: Style) {
    let bed = Bed::new().await;
    if bed.skip_unless(Capability::PostPolicies, "session token in a POST form") {
        return;
    }
    if bed.has(Capability::PostSessionTokens) {
        // The token here is made up: a server that checks tokens refuses it.
        eprintln!(
            "skipped session token in a POST form: {} checks the token itself",
            bed.kind
        );
        return;
    }
    let client = bed.client("posttoken", style).await;
    let temporary = client
        .with_credentials(Arc::new(StaticProvider::new(
            Credentials::new(&bed.access_key, bed.secret_key.as_str()).with_session_token("session/token+="),
        )))
        .unwrap();
    let post = temporary.presigned_post(&PostPolicy::new().key("t")).await.unwrap();
    assert_eq!(post.field("x-amz-security-token"), Some("session/token+="));
    assert!(
        post.policy_document()
            .unwrap()
            .contains(r#"{"x-amz-security-token":"session/token+="}"#)
    );
    // The server checks that the policy names the field (s3s-fs and Garage do not check
    // the token itself).
    let reply = post_form(&bed, client.bucket(), &post.url, &post.fields, b"t").await;
    assert_eq!(reply.status, 204, "{}", reply.body);
}

async fn storage_forms_apply_location_and_parameters(style: Style) {
    let bed = Bed::new().await;
    let storage = bed
        .storage(
            "poststorage",
            style,
            &[
                ("location", "media"),
                ("default_acl", "public-read"),
                (
                    "object_parameters",
                    r#"{"CacheControl": "max-age=60", "Metadata": {"owner": "ana"}}"#,
                ),
            ],
        )
        .await;
    let bucket = storage.client().bucket().to_owned();

    let post = storage
        .presigned_post("docs/report.pdf", &PostPolicy::new())
        .await
        .unwrap();
    assert_eq!(post.url, expected_url(&bed, &bucket, style));
    assert_eq!(post.field("key"), Some("media/docs/report.pdf"));
    assert_eq!(post.field("Content-Type"), Some("application/pdf"));
    assert_eq!(post.field("acl"), Some("public-read"));
    assert_eq!(post.field("Cache-Control"), Some("max-age=60"));
    assert_eq!(post.field("x-amz-meta-owner"), Some("ana"));
    let reply = post_form(&bed, &bucket, &post.url, &post.fields, b"%PDF-1.7").await;
    assert_eq!(reply.status, 204, "{}", reply.body);
    assert!(storage.exists("docs/report.pdf").await.unwrap());
    assert_eq!(storage.size("docs/report.pdf").await.unwrap(), 8);
    let head = storage
        .client()
        .head_object("media/docs/report.pdf", &ObjectParameters::new())
        .await
        .unwrap();
    assert_eq!(head.content_type.as_deref(), Some("application/pdf"));
    assert_eq!(head.cache_control.as_deref(), Some("max-age=60"));
    assert_eq!(head.metadata.get("owner").map(String::as_str), Some("ana"));

    let policy = PostPolicy::new()
        .content_type_starts_with("image/")
        .content_length_range(1, 100);
    let post = storage.presigned_post("avatars/${filename}", &policy).await.unwrap();
    assert_eq!(post.field("key"), Some("media/avatars/${filename}"));
    assert_eq!(post.field("Content-Type"), None);
    let doc = post.policy_document().unwrap();
    assert!(doc.contains(r#"["starts-with","$key","media/avatars/"]"#), "{doc}");
    // The page supplies the key (s3s keeps ${filename} as is) and the declared type.
    let mut fields = with_field(&post, "key", "media/avatars/me.png");
    fields.insert(1, ("Content-Type".into(), "image/png".into()));
    let reply = post_form(&bed, &bucket, &post.url, &fields, b"png").await;
    assert_eq!(reply.status, 204, "{}", reply.body);
    let head = storage
        .client()
        .head_object("media/avatars/me.png", &ObjectParameters::new())
        .await
        .unwrap();
    assert_eq!(head.content_type.as_deref(), Some("image/png"));
    assert!(storage.exists("avatars/me.png").await.unwrap());
    if bed.skip_unless(Capability::PostPolicies, "storage POST outside its prefix") {
        return;
    }
    let fields = with_field(&post, "key", "media/me.png");
    let reply = post_form(&bed, &bucket, &post.url, &fields, b"png").await;
    assert_eq!((reply.status, reply.code()), bed.kind.refusal(Refusal::PolicyViolated));
    assert!(!storage.exists("me.png").await.unwrap());
}

both_styles!(
    upload_is_stored_with_its_fields,
    success_statuses_and_redirect,
    prefix_allows_keys_under_it_only,
    content_length_range_is_enforced,
    expired_forms_are_refused,
    wrong_signatures_and_tampered_forms_are_refused,
    sigv2_forms_upload,
    temporary_credentials_send_their_token,
    storage_forms_apply_location_and_parameters,
);

/// A storage that sends nothing (no server needed): names and settings only.
fn offline_storage(options: &[(&str, &str)]) -> S3Storage {
    S3Storage::builder()
        .options([
            ("bucket_name", "bucket"),
            ("access_key", "AKIDEXAMPLE"),
            ("secret_key", "EXAMPLESECRET"),
            ("location", "media"),
        ])
        .options(options.iter().copied())
        .no_globals()
        .build()
        .unwrap()
}

#[tokio::test]
async fn storage_names_are_checked_before_anything() {
    let storage = offline_storage(&[]);
    for name in [
        "../x.txt",
        "../${filename}",
        "a/../../${filename}",
        "/../x",
        "docs/",
        "a/..",
    ] {
        let e = storage.presigned_post(name, &PostPolicy::new()).await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidName, "{name}");
    }
    let e = storage.presigned_post("", &PostPolicy::new()).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidName);
    // The location itself, as a prefix: any name under it.
    let post = storage.presigned_post("${filename}", &PostPolicy::new()).await.unwrap();
    assert_eq!(post.field("key"), Some("media/${filename}"));
    assert_eq!(post.url, "https://bucket.s3.amazonaws.com/");
}

#[tokio::test]
async fn storage_lifetime_is_querystring_expire_unless_the_policy_says() {
    // 2024-01-02T03:04:05Z
    let at = SystemTime::UNIX_EPOCH + Duration::from_secs(1_704_164_645);
    let storage = offline_storage(&[("querystring_expire", "120")]);
    let post = storage
        .presigned_post("a.txt", &PostPolicy::new().signed_at(at))
        .await
        .unwrap();
    let doc = post.policy_document().unwrap();
    assert!(doc.starts_with(r#"{"expiration":"2024-01-02T03:06:05.000Z","#), "{doc}");
    assert!(doc.contains(r#"{"key":"media/a.txt"}"#), "{doc}");
    assert!(doc.contains(r#"{"Content-Type":"text/plain"}"#), "{doc}");
    assert_eq!(post.field("x-amz-date"), Some("20240102T030405Z"));
    assert_eq!(
        post.field("x-amz-credential"),
        Some("AKIDEXAMPLE/20240102/us-east-1/s3/aws4_request")
    );
    let post = storage
        .presigned_post(
            "a.txt",
            &PostPolicy::new().signed_at(at).expires_in(Duration::from_secs(5)),
        )
        .await
        .unwrap();
    assert!(
        post.policy_document()
            .unwrap()
            .starts_with(r#"{"expiration":"2024-01-02T03:04:10.000Z","#)
    );
    // Reproducible: same inputs, same form.
    let again = storage
        .presigned_post(
            "a.txt",
            &PostPolicy::new().signed_at(at).expires_in(Duration::from_secs(5)),
        )
        .await
        .unwrap();
    assert_eq!(post, again);
}

#[tokio::test]
async fn storage_refuses_sse_c_in_a_browser_form() {
    let storage = offline_storage(&[(
        "object_parameters",
        r#"{"SSECustomerAlgorithm": "AES256", "SSECustomerKey": "0123456789abcdef0123456789abcdef"}"#,
    )]);
    let e = storage.presigned_post("a.txt", &PostPolicy::new()).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unsupported);
    assert!(!e.to_string().contains("0123456789abcdef"), "{e}");
}
