//! The retry rules, proven with a fault-injecting proxy in front of a real server: what is
//! retried, what is not, what the caller gets when attempts run out, and that nothing
//! partial or orphaned is left behind.

use std::time::{Duration, Instant, SystemTime};

use crate::common::proxy::{Fault, FaultProxy};
use crate::common::{Bed, Capability, unique_bucket};
use storages_s3::Content;
use storages_s3::config::ObjectParameters;
use storages_s3::http::Body;
use storages_s3::s3::Client;
use storages_s3::s3::ListObjectsInput;
use storages_s3::s3::MetadataDirective;
use storages_s3::s3::{Upload, UploadOptions};
use storages_s3::{ErrorKind, Settings};

const MIB: usize = 1024 * 1024;
/// Parts of 5 MiB, one at a time: the requests of an upload come in a known order.
const PARTS_ONE_AT_A_TIME: &str =
    r#"{"multipart_threshold": 5242880, "multipart_chunksize": 5242880, "max_concurrency": 1}"#;

/// A server, a proxy in front of it, and a client on a new bucket that talks to the proxy.
struct Faulty {
    bed: Bed,
    proxy: FaultProxy,
    client: Client,
}

impl Faulty {
    async fn new(extra: &[(&str, &str)]) -> Faulty {
        let bed = Bed::new().await;
        let proxy = FaultProxy::start(bed.addr).await;
        let bucket = unique_bucket("fault");
        let mut o = bed.options(&bucket, crate::common::Style::Path);
        o.insert("endpoint_url".into(), format!("http://{}", proxy.addr));
        for (k, v) in extra {
            o.insert((*k).into(), (*v).into());
        }
        let settings = Settings::builder().options(o).no_globals().build().unwrap();
        let client = Client::new(&settings).unwrap();
        client.create_bucket().await.unwrap();
        let f = Faulty { bed, proxy, client };
        f.reset_count();
        f
    }

    fn reset_count(&self) -> usize {
        self.proxy.requests().len()
    }

    /// Requests seen since `from`.
    fn since(&self, from: usize) -> Vec<String> {
        self.proxy.request_lines()[from..].to_vec()
    }

    async fn assert_absent(&self, key: &str) {
        let e = self
            .client
            .head_object(key, &ObjectParameters::new())
            .await
            .unwrap_err();
        assert!(e.is_not_found(), "{key} should not exist: {e}");
    }

    async fn assert_no_uploads(&self) {
        let uploads = self.client.list_multipart_uploads(None).collect_all().await.unwrap();
        assert!(uploads.is_empty(), "orphaned uploads: {uploads:?}");
    }
}

#[tokio::test]
async fn reset_before_reply_is_retried() {
    let f = Faulty::new(&[]).await;
    let n = f.reset_count();
    f.proxy.push([Fault::ResetBeforeReply]);
    f.client
        .put_object("k", Body::from("v"), &ObjectParameters::new())
        .await
        .unwrap();
    let seen = f.since(n);
    assert_eq!(seen.len(), 2, "{seen:?}");
    assert!(seen.iter().all(|l| l.starts_with("PUT ")));
}

#[tokio::test]
async fn burst_of_503_slowdown_is_retried() {
    let f = Faulty::new(&[]).await;
    let n = f.reset_count();
    f.proxy
        .push([Fault::error(503, "SlowDown"), Fault::error(500, "InternalError")]);
    f.client
        .put_object("k", Body::from("v"), &ObjectParameters::new())
        .await
        .unwrap();
    assert_eq!(f.since(n).len(), 3);
    let got = f
        .client
        .get_object("k", None)
        .await
        .unwrap()
        .body
        .collect(10)
        .await
        .unwrap();
    assert_eq!(&got[..], b"v");
}

#[tokio::test]
async fn throttling_429_is_retried() {
    let f = Faulty::new(&[]).await;
    f.proxy.push([Fault::error(429, "TooManyRequests")]);
    f.client
        .head_object("missing", &ObjectParameters::new())
        .await
        .unwrap_err();
    assert_eq!(f.proxy.pending(), 0);
}

#[tokio::test]
async fn attempts_run_out_with_the_typed_error_and_nothing_stored() {
    let f = Faulty::new(&[]).await;
    let n = f.reset_count();
    f.proxy.push([
        Fault::error(503, "SlowDown"),
        Fault::error(503, "SlowDown"),
        Fault::error(503, "SlowDown"),
    ]);
    let e = f
        .client
        .put_object("k", Body::from("v"), &ObjectParameters::new())
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Service);
    assert_eq!(e.status(), Some(503));
    assert_eq!(e.code(), Some("SlowDown"));
    assert_eq!(e.request_id(), Some("FAULT"));
    assert_eq!(e.operation(), Some("PutObject"));
    assert_eq!(f.since(n).len(), 3, "max_attempts is 3");
    f.assert_absent("k").await;
}

#[tokio::test]
async fn client_errors_are_not_retried() {
    let f = Faulty::new(&[]).await;
    let n = f.reset_count();
    f.proxy.push([Fault::error(400, "InvalidArgument")]);
    let e = f
        .client
        .put_object("k", Body::from("v"), &ObjectParameters::new())
        .await
        .unwrap_err();
    assert_eq!(e.code(), Some("InvalidArgument"));
    assert_eq!(f.since(n).len(), 1);
}

#[tokio::test]
async fn a_stream_body_is_never_retried() {
    let f = Faulty::new(&[]).await;
    let n = f.reset_count();
    f.proxy.push([Fault::ResetBeforeReply]);
    let chunks: Vec<Result<bytes::Bytes, storages_s3::http::BoxError>> = vec![Ok(bytes::Bytes::from_static(b"data"))];
    let body = Body::stream(Box::pin(crate::common::stream_of(chunks)), 4);
    let e = f
        .client
        .put_object("streamed", body, &ObjectParameters::new())
        .await
        .unwrap_err();
    assert!(e.is_transport(), "{e}");
    assert_eq!(f.since(n).len(), 1, "a stream cannot be sent twice");
    f.assert_absent("streamed").await;
}

#[tokio::test]
async fn a_body_cut_midway_resumes_with_a_range() {
    let f = Faulty::new(&[]).await;
    let data: Vec<u8> = (0..MIB).map(|i| (i % 251) as u8).collect();
    f.client
        .put_object("big", Body::from(data.clone()), &ObjectParameters::new())
        .await
        .unwrap();
    let n = f.reset_count();
    f.proxy.push([Fault::TruncateBody(100_000)]);
    let got = f
        .client
        .get_object("big", None)
        .await
        .unwrap()
        .body
        .collect(2 * MIB)
        .await
        .unwrap();
    assert!(got[..] == data[..], "resumed download differs");
    let heads = &f.proxy.requests()[n..];
    assert_eq!(heads.len(), 2, "{heads:?}");
    let second = heads[1].to_ascii_lowercase();
    assert!(second.contains("range: bytes=100000-1048575"), "{second}");
    assert!(
        second.contains("if-match: "),
        "the resumed request pins the ETag: {second}"
    );
}

#[tokio::test]
async fn a_body_cut_with_no_attempt_left_is_a_transport_error() {
    let f = Faulty::new(&[("transfer_config", r#"{"num_download_attempts": 1}"#)]).await;
    f.client
        .put_object("big", Body::from(vec![7u8; 300_000]), &ObjectParameters::new())
        .await
        .unwrap();
    f.proxy.push([Fault::TruncateBody(1000)]);
    let e = f
        .client
        .get_object("big", None)
        .await
        .unwrap()
        .body
        .collect(MIB)
        .await
        .unwrap_err();
    assert!(e.is_transport(), "{e}");
    assert_eq!(e.operation(), Some("GetObject"));
}

#[tokio::test]
async fn a_slow_reply_times_out_and_is_retried() {
    let f = Faulty::new(&[("read_timeout", "0.3")]).await;
    f.client
        .put_object("k", Body::from("v"), &ObjectParameters::new())
        .await
        .unwrap();
    let n = f.reset_count();
    f.proxy.push([Fault::Delay(Duration::from_secs(2))]);
    let start = Instant::now();
    let head = f.client.head_object("k", &ObjectParameters::new()).await.unwrap();
    assert_eq!(head.content_length, Some(1));
    assert!(
        start.elapsed() < Duration::from_millis(1900),
        "did not wait for the slow reply"
    );
    assert_eq!(f.since(n).len(), 2);
}

#[tokio::test]
async fn a_server_that_stays_slow_is_a_timeout() {
    let f = Faulty::new(&[("read_timeout", "0.2")]).await;
    let slow = Fault::Delay(Duration::from_secs(1));
    f.proxy.push([slow.clone(), slow.clone(), slow]);
    let e = f.client.head_object("k", &ObjectParameters::new()).await.unwrap_err();
    assert!(e.is_timeout(), "{e}");
}

#[tokio::test]
async fn connection_refused_is_a_transport_error() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let settings = Settings::builder()
        .options([
            ("bucket_name", "refused"),
            ("endpoint_url", &format!("http://127.0.0.1:{port}")),
            ("access_key", "AK"),
            ("secret_key", "SK"),
            ("max_attempts", "2"),
        ])
        .no_globals()
        .build()
        .unwrap();
    let e = Client::new(&settings)
        .unwrap()
        .head_object("k", &ObjectParameters::new())
        .await
        .unwrap_err();
    assert!(e.is_transport(), "{e}");
    // It says where it tried and what the system answered.
    let said = e.to_string();
    assert!(said.contains(&format!("127.0.0.1:{port}")), "{said}");
    assert!(said.to_lowercase().contains("refused"), "{said}");
    assert!(!format!("{e} {e:?}").contains("SK\""), "no secret in the error");
}

#[tokio::test]
async fn truncated_listing_xml_is_an_invalid_response() {
    let f = Faulty::new(&[]).await;
    let truncated = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><ListBucketResult><IsTruncated>false</IsTruncated><Contents><Key>a</Key><Si";
    f.proxy.push([Fault::reply(200, truncated, &[])]);
    let e = f
        .client
        .list_objects(ListObjectsInput::default())
        .collect_all()
        .await
        .unwrap_err();
    assert!(e.is_invalid_response(), "{e}");
    assert_eq!(e.operation(), Some("ListObjectsV2"));
}

#[tokio::test]
async fn hostile_xml_is_an_invalid_response() {
    let f = Faulty::new(&[]).await;
    let deep = format!("<ListBucketResult>{}", "<a>".repeat(10_000));
    let entity = "<!DOCTYPE x [<!ENTITY a \"aaaaaaaa\"><!ENTITY b \"&a;&a;&a;&a;\">]><ListBucketResult><IsTruncated>false</IsTruncated><Contents><Key>&b;</Key><Size>1</Size></Contents></ListBucketResult>";
    f.proxy
        .push([Fault::reply(200, &deep, &[]), Fault::reply(200, entity, &[])]);
    for _ in 0..2 {
        let e = f
            .client
            .list_objects(ListObjectsInput::default())
            .collect_all()
            .await
            .unwrap_err();
        assert!(e.is_invalid_response(), "{e}");
    }
}

async fn multipart_faulty(faults: Vec<Fault>) -> (Faulty, storages_s3::Result<()>) {
    let f = Faulty::new(&[("transfer_config", PARTS_ONE_AT_A_TIME)]).await;
    // Create, part 1, part 2, then Complete: one connection each, in this order.
    f.proxy.push(faults);
    let mut upload = Upload::new(&f.client, "mp.bin", UploadOptions::default()).unwrap();
    let result = async {
        upload.write(&vec![3u8; 5 * MIB + 10]).await?;
        upload.finish().await.map(|_| ())
    }
    .await;
    (f, result)
}

#[tokio::test]
async fn an_error_inside_a_200_complete_is_retried() {
    let body = "<Error><Code>InternalError</Code><Message>We encountered an internal error.</Message></Error>";
    let (f, result) = multipart_faulty(vec![
        Fault::Pass,
        Fault::Pass,
        Fault::Pass,
        Fault::reply(200, body, &[]),
    ])
    .await;
    result.unwrap();
    assert_eq!(
        f.client
            .head_object("mp.bin", &ObjectParameters::new())
            .await
            .unwrap()
            .content_length,
        Some(5 * MIB as u64 + 10)
    );
    f.assert_no_uploads().await;
}

#[tokio::test]
async fn a_complete_that_keeps_failing_aborts_the_upload() {
    let body = "<Error><Code>InternalError</Code><Message>We encountered an internal error.</Message></Error>";
    let err = Fault::reply(200, body, &[]);
    let (f, result) = multipart_faulty(vec![
        Fault::Pass,
        Fault::Pass,
        Fault::Pass,
        err.clone(),
        err.clone(),
        err,
    ])
    .await;
    let e = result.unwrap_err();
    assert_eq!(e.code(), Some("InternalError"));
    assert_eq!(e.status(), Some(200));
    assert_eq!(e.operation(), Some("CompleteMultipartUpload"));
    f.assert_absent("mp.bin").await;
    f.assert_no_uploads().await;
}

const INTERNAL_ERROR: &str =
    "<Error><Code>InternalError</Code><Message>We encountered an internal error.</Message></Error>";

/// 500, 500, then a transient error inside a 200 reply: with `max_attempts = 3`, the last
/// attempt. (A layer that retried on its own around the first two would try a fourth time.)
fn failing_attempts() -> Vec<Fault> {
    vec![
        Fault::error(500, "InternalError"),
        Fault::error(500, "InternalError"),
        Fault::reply(200, INTERNAL_ERROR, &[]),
    ]
}

#[tokio::test]
async fn a_copy_has_one_retry_budget_whatever_the_kind_of_failure() {
    let f = Faulty::new(&[]).await;
    f.client
        .put_object("src", Body::from("x"), &ObjectParameters::new())
        .await
        .unwrap();
    let n = f.reset_count();
    f.proxy.push(failing_attempts());
    let e = f
        .client
        .copy_object("src", "dst", MetadataDirective::Copy, &ObjectParameters::new())
        .await
        .unwrap_err();
    assert_eq!((e.code(), e.status()), (Some("InternalError"), Some(200)));
    // max_attempts = 3: three requests in all, not three per layer that retries.
    assert_eq!(f.since(n).len(), 3, "{:?}", f.since(n));
    f.assert_absent("dst").await;
}

#[tokio::test]
async fn a_complete_has_one_retry_budget_whatever_the_kind_of_failure() {
    let mut faults = vec![Fault::Pass, Fault::Pass, Fault::Pass];
    faults.extend(failing_attempts());
    let (f, result) = multipart_faulty(faults).await;
    let e = result.unwrap_err();
    assert_eq!(e.operation(), Some("CompleteMultipartUpload"));
    let completes = f
        .proxy
        .request_lines()
        .iter()
        .filter(|l| l.starts_with("POST ") && l.contains("uploadId="))
        .count();
    assert_eq!(completes, 3);
    f.assert_absent("mp.bin").await;
    f.assert_no_uploads().await;
}

#[tokio::test]
async fn a_conditional_save_whose_reply_is_lost_keeps_its_name() {
    // The PUT with If-None-Match stores the object, but its reply never arrives; the retry
    // meets 412. The object there has the ETag of the bytes sent: this very save made it,
    // so the name is returned, rather than another upload under a new name.
    let bed = Bed::new().await;
    let (proxy, storage) = bed
        .storage_behind_proxy("lostput", &[("file_overwrite", "false")])
        .await;
    let bucket = storage.client().bucket().to_owned();
    proxy.push_for(&format!("PUT /{bucket}/notes/a.txt "), Fault::LoseReply);
    let name = storage.save("notes/a.txt", Content::from("hello"), None).await.unwrap();
    assert_eq!(name, "notes/a.txt");
    let (_, files) = storage.listdir("notes").await.unwrap();
    assert_eq!(files, ["a.txt"]);
    let lines = proxy.request_lines();
    let puts = lines
        .iter()
        .filter(|l| l.starts_with(&format!("PUT /{bucket}/notes/")))
        .count();
    assert_eq!(puts, 2, "{lines:?}");
    // Another writer's object under the name is still refused: a new name is found.
    let other = storage
        .save("notes/a.txt", Content::from("other bytes"), None)
        .await
        .unwrap();
    assert_ne!(other, "notes/a.txt");
}

#[tokio::test]
async fn a_dropped_upload_counts_as_open_until_its_abort_is_answered() {
    let f = Faulty::new(&[(
        "transfer_config",
        r#"{"multipart_threshold": 5242880, "multipart_chunksize": 5242880}"#,
    )])
    .await;
    let mut upload = Upload::new(&f.client, "dropped.bin", UploadOptions::default()).unwrap();
    upload.write(&vec![1u8; 5 * MIB + 1]).await.unwrap();
    assert_eq!(f.client.open_uploads(), 1);
    f.proxy
        .push_for("DELETE ", Fault::DelayRequest(Duration::from_millis(500)));
    drop(upload);
    assert_eq!(f.client.open_uploads(), 1, "open until the abort is answered");
    tokio::time::timeout(Duration::from_secs(10), f.client.uploads_settled())
        .await
        .unwrap();
    assert_eq!(f.client.open_uploads(), 0);
    assert!(f.proxy.request_lines().iter().any(|l| l.starts_with("DELETE ")));
    f.assert_no_uploads().await;
}

#[tokio::test]
async fn a_failed_part_aborts_the_upload() {
    let (f, result) = multipart_faulty(vec![Fault::Pass, Fault::error(400, "InvalidArgument")]).await;
    let e = result.unwrap_err();
    assert_eq!(e.code(), Some("InvalidArgument"));
    assert_eq!(e.operation(), Some("UploadPart"));
    f.assert_absent("mp.bin").await;
    f.assert_no_uploads().await;
    assert!(
        f.proxy
            .request_lines()
            .iter()
            .any(|l| l.starts_with("DELETE ") && l.contains("uploadId="))
    );
}

#[tokio::test]
async fn a_part_whose_connection_breaks_is_retried() {
    let (f, result) = multipart_faulty(vec![Fault::Pass, Fault::ResetBeforeReply]).await;
    result.unwrap();
    assert_eq!(
        f.client
            .head_object("mp.bin", &ObjectParameters::new())
            .await
            .unwrap()
            .content_length,
        Some(5 * MIB as u64 + 10)
    );
    f.assert_no_uploads().await;
}

#[tokio::test]
async fn a_complete_whose_reply_is_lost_is_recognised_by_its_etag() {
    // The first Complete completes the upload, but its reply is cut after the head; the
    // retry finds the upload gone (NoSuchUpload on AWS, AccessDenied on s3s-fs), and the
    // object's ETag, the MD5 of the parts' MD5s, shows that this upload made it.
    let (f, result) = multipart_faulty(vec![Fault::Pass, Fault::Pass, Fault::Pass, Fault::TruncateBody(0)]).await;
    result.unwrap();
    let head = f.client.head_object("mp.bin", &ObjectParameters::new()).await.unwrap();
    assert_eq!(head.content_length, Some(5 * MIB as u64 + 10));
    assert!(head.etag.unwrap().ends_with("-2\""));
    let completes = f
        .proxy
        .request_lines()
        .iter()
        .filter(|l| l.starts_with("POST ") && l.contains("uploadId="))
        .count();
    assert_eq!(completes, 2);
    f.assert_no_uploads().await;
}

#[tokio::test]
async fn a_create_whose_reply_is_lost_leaves_no_orphan_upload() {
    // The first CreateMultipartUpload creates an upload whose id never arrives; the retry
    // creates another. The first is found by key and time, and aborted.
    let (f, result) = multipart_faulty(vec![Fault::TruncateBody(0)]).await;
    result.unwrap();
    let head = f.client.head_object("mp.bin", &ObjectParameters::new()).await.unwrap();
    assert_eq!(head.content_length, Some(5 * MIB as u64 + 10));
    let lines = f.proxy.request_lines();
    assert_eq!(lines.iter().filter(|l| l.contains("?uploads")).count(), 2, "{lines:?}");
    let open = f.bed.open_uploads(&f.client).await;
    assert!(open.is_empty(), "orphaned uploads: {open:?}");
}

#[tokio::test]
async fn a_reply_cut_midway_is_read_again() {
    // A listing whose body breaks after a few bytes is asked for again.
    let f = Faulty::new(&[]).await;
    f.client
        .put_object("a", Body::from("x"), &ObjectParameters::new())
        .await
        .unwrap();
    let n = f.reset_count();
    f.proxy.push([Fault::TruncateBody(20)]);
    let (objects, _) = f
        .client
        .list_objects(ListObjectsInput::default())
        .collect_all()
        .await
        .unwrap();
    assert_eq!(objects.len(), 1);
    assert_eq!(f.since(n).len(), 2);
    assert!(f.client.retries() >= 1);
}

#[tokio::test]
async fn a_wrong_region_reply_is_followed_once() {
    // The client starts in another region than the bucket's; the reply names the bucket's
    // (injected here, as AWS sends it: a server that checks regions would say the same).
    let mut f = Faulty::new(&[]).await;
    let bucket_region = f.bed.region.clone();
    let mut o = f.bed.options(f.client.bucket(), crate::common::Style::Path);
    o.insert("endpoint_url".into(), format!("http://{}", f.proxy.addr));
    o.insert("region_name".into(), "eu-west-3".into());
    f.client = Client::new(&Settings::builder().options(o).no_globals().build().unwrap()).unwrap();
    let n = f.reset_count();
    let redirect = format!(
        "<Error><Code>AuthorizationHeaderMalformed</Code><Message>the region 'eu-west-3' is wrong; \
         expecting '{bucket_region}'</Message><Region>{bucket_region}</Region></Error>"
    );
    f.proxy
        .push([Fault::reply(400, &redirect, &[("x-amz-bucket-region", &bucket_region)])]);
    f.client
        .put_object("k", Body::from("v"), &ObjectParameters::new())
        .await
        .unwrap();
    assert_eq!(f.client.region(), bucket_region);
    let heads = &f.proxy.requests()[n..];
    assert_eq!(heads.len(), 2);
    assert!(
        heads[1].contains(&format!("/{bucket_region}/s3/aws4_request")),
        "{}",
        heads[1]
    );
    // Only once per request: a second redirect is returned as the error it is.
    f.proxy.push([
        Fault::reply(
            301,
            "<Error><Code>PermanentRedirect</Code><Message>m</Message></Error>",
            &[("x-amz-bucket-region", "ap-south-1")],
        ),
        Fault::reply(
            301,
            "<Error><Code>PermanentRedirect</Code><Message>m</Message></Error>",
            &[("x-amz-bucket-region", "eu-west-3")],
        ),
    ]);
    let e = f
        .client
        .put_object("k2", Body::from("v"), &ObjectParameters::new())
        .await
        .unwrap_err();
    assert_eq!(e.code(), Some("PermanentRedirect"), "{e}");
}

#[tokio::test]
async fn a_server_that_checks_regions_teaches_the_bucket_region() {
    let bed = Bed::new().await;
    if bed.skip_unless(Capability::RegionChecks, "learning the region from the server") {
        return;
    }
    let bucket = unique_bucket("region");
    let right = Client::new(&bed.settings(&bucket, crate::common::Style::Path, &[])).unwrap();
    right.create_bucket().await.unwrap();
    let wrong =
        Client::new(&bed.settings(&bucket, crate::common::Style::Path, &[("region_name", "eu-west-3")])).unwrap();
    wrong
        .put_object("k", Body::from("v"), &ObjectParameters::new())
        .await
        .unwrap();
    assert_eq!(wrong.region(), bed.region);
}

#[tokio::test]
async fn clock_skew_is_learned_from_the_server_date() {
    let f = Faulty::new(&[]).await;
    if f.bed.skip_unless_signatures_checked("clock skew") {
        return;
    }
    let ahead = httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(600));
    let skewed = "<Error><Code>RequestTimeTooSkewed</Code><Message>The difference between the request time and the current time is too large.</Message></Error>";
    f.proxy.push([Fault::reply(403, skewed, &[("Date", &ahead)])]);
    f.client
        .put_object("k", Body::from("v"), &ObjectParameters::new())
        .await
        .unwrap();
    let skew = f.client.clock_skew_ms();
    assert!((595_000..=605_000).contains(&skew), "learned skew {skew} ms");
    // Later requests are signed with the corrected clock and still accepted (within S3's
    // 15-minute window of the real clock).
    f.client.head_object("k", &ObjectParameters::new()).await.unwrap();
}

#[tokio::test]
async fn a_slow_uplink_that_keeps_moving_is_never_timed_out() {
    // 16 MiB read by the server at a steady 1 MiB/s, with a read timeout of 2 s: bytes never
    // stop moving, so the upload takes as long as it takes. One attempt, nothing retried.
    let f = Faulty::new(&[("read_timeout", "2"), ("operation_timeout", "5")]).await;
    let body = vec![7u8; 16 * MIB];
    f.proxy.push_for("PUT ", Fault::ThrottleRequest(MIB));
    let from = f.reset_count();
    let started = Instant::now();
    f.client
        .put_object("slow", Body::from(body.clone()), &ObjectParameters::new())
        .await
        .unwrap();
    let took = started.elapsed();
    eprintln!("16 MiB at 1 MiB/s uploaded in {:.1} s", took.as_secs_f64());
    assert!(took > Duration::from_secs(8), "the throttle held: {took:?}");
    assert_eq!(f.since(from).len(), 1, "one attempt: {:?}", f.since(from));
    let got = f
        .client
        .get_object("slow", None)
        .await
        .unwrap()
        .body
        .collect(32 * MIB)
        .await
        .unwrap();
    assert!(got == body, "the object reads back");
}

#[tokio::test]
async fn a_stalled_upload_fails_in_the_read_timeout() {
    // The server takes 1 MiB of the body and then reads nothing more: no byte moves once
    // the socket buffers are full, and the attempt fails one read timeout later.
    let f = Faulty::new(&[("read_timeout", "2"), ("max_attempts", "1")]).await;
    f.proxy
        .push_for("PUT ", Fault::StallRequest(MIB, Duration::from_secs(30)));
    let started = Instant::now();
    let e = f
        .client
        .put_object("stalled", Body::from(vec![7u8; 64 * MIB]), &ObjectParameters::new())
        .await
        .unwrap_err();
    let took = started.elapsed();
    assert_eq!(e.kind(), ErrorKind::Timeout, "{e}");
    assert!(
        took >= Duration::from_secs(2) && took < Duration::from_secs(6),
        "failed after {took:?}: {e}"
    );
    f.assert_absent("stalled").await;
}

#[tokio::test]
async fn an_abort_that_fails_at_first_goes_on_with_a_budget_of_its_own() {
    // Part 2 fails with 400; the abort then meets five 503s in a row (more than the three
    // attempts of any other request): it goes on, and the upload is aborted.
    let mut faults = vec![Fault::Pass, Fault::Pass, Fault::error(400, "InvalidArgument")];
    faults.extend((0..5).map(|_| Fault::error(503, "SlowDown")));
    let (f, result) = multipart_faulty(faults).await;
    assert_eq!(result.unwrap_err().code(), Some("InvalidArgument"));
    let aborts = f
        .proxy
        .request_lines()
        .iter()
        .filter(|l| l.starts_with("DELETE "))
        .count();
    assert_eq!(aborts, 6, "five refused, the sixth taken");
    f.assert_no_uploads().await;
    assert!(f.client.unaborted_uploads().is_empty());
}

#[tokio::test]
async fn an_abort_that_keeps_failing_is_kept_where_the_caller_sees_it() {
    // Every abort is refused: after its whole budget (eight attempts, backoff over
    // seconds) the upload is kept, with its id, in the client's list; the error that
    // failed the upload is the one returned.
    let f = Faulty::new(&[("transfer_config", PARTS_ONE_AT_A_TIME)]).await;
    f.proxy.push_for("PUT ", Fault::Pass);
    f.proxy.push_for("PUT ", Fault::error(400, "InvalidArgument"));
    for _ in 0..20 {
        f.proxy.push_for("DELETE ", Fault::error(503, "SlowDown"));
    }
    let started = Instant::now();
    let mut upload = Upload::new(&f.client, "mp.bin", UploadOptions::default()).unwrap();
    let e = async {
        upload.write(&vec![3u8; 5 * MIB + 10]).await?;
        upload.finish().await.map(|_| ())
    }
    .await
    .unwrap_err();
    assert_eq!(e.code(), Some("InvalidArgument"), "{e}");
    let kept = f.client.unaborted_uploads();
    assert_eq!(kept.len(), 1, "{kept:?}");
    assert_eq!(kept[0].key, "mp.bin");
    assert!(kept[0].error.contains("SlowDown"), "{kept:?}");
    // The bucket is the test's own: every upload listed is this one.
    let open = f.client.list_multipart_uploads(None).collect_all().await.unwrap();
    assert_eq!(open.len(), 1);
    assert_eq!(kept[0].upload_id.as_deref(), Some(open[0].upload_id.as_str()));
    let aborts = f
        .proxy
        .request_lines()
        .iter()
        .filter(|l| l.starts_with("DELETE "))
        .count();
    assert_eq!(aborts, 8);
    eprintln!(
        "an abort refused eight times gave up after {:.1} s",
        started.elapsed().as_secs_f64()
    );
    // Once the service answers again, the kept upload can be aborted.
    f.proxy.set_chaos(None);
    f.client
        .abort_multipart_upload("mp.bin", open[0].upload_id.as_str())
        .await
        .unwrap();
    f.assert_no_uploads().await;
}

#[tokio::test]
async fn a_create_that_fails_after_reaching_the_server_leaves_no_upload() {
    // Every CreateMultipartUpload is carried out and its reply lost: the call fails, and
    // the uploads it made nevertheless are found by key and time, and aborted.
    let f = Faulty::new(&[(
        "transfer_config",
        r#"{"multipart_threshold": 5242880, "multipart_chunksize": 5242880}"#,
    )])
    .await;
    if f.bed.skip_unless(
        Capability::UploadStartTimes,
        "finding uploads whose creation reply was lost",
    ) {
        return;
    }
    for _ in 0..3 {
        f.proxy.push_for("POST ", Fault::LoseReply);
    }
    let mut upload = Upload::new(&f.client, "lost.bin", UploadOptions::default()).unwrap();
    let e = async {
        upload.write(&vec![3u8; 5 * MIB + 10]).await?;
        upload.finish().await.map(|_| ())
    }
    .await
    .unwrap_err();
    assert_eq!(e.operation(), Some("CreateMultipartUpload"), "{e}");
    let lines = f.proxy.request_lines();
    assert_eq!(lines.iter().filter(|l| l.contains("?uploads ")).count(), 3, "{lines:?}");
    let open = f.bed.open_uploads(&f.client).await;
    assert!(open.is_empty(), "orphaned uploads: {open:?}");
    assert!(f.client.unaborted_uploads().is_empty());
}
