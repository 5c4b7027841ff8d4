use base64::Engine as _;

use super::form::amz_date;
use super::*;
use crate::credentials::Credentials;

const ACCESS_KEY: &str = "AKIAIOSFODNN7EXAMPLE";
const SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

/// "Example: Browser-Based Upload using HTTP POST (Using AWS Signature Version 4)", S3 API
/// Reference (sigv4-post-example): the base64 policy AWS publishes (its JSON has CRLF line
/// ends) and the signature it gives for it, AKIAIOSFODNN7EXAMPLE, 20151229, us-east-1.
const AWS_V4_POLICY: &str = "eyAiZXhwaXJhdGlvbiI6ICIyMDE1LTEyLTMwVDEyOjAwOjAwLjAwMFoiLA0KICAiY29uZGl0aW9ucyI6IFsNCiAgICB7ImJ1Y2tldCI6ICJzaWd2NGV4YW1wbGVidWNrZXQifSwNCiAgICBbInN0YXJ0cy13aXRoIiwgIiRrZXkiLCAidXNlci91c2VyMS8iXSwNCiAgICB7ImFjbCI6ICJwdWJsaWMtcmVhZCJ9LA0KICAgIHsic3VjY2Vzc19hY3Rpb25fcmVkaXJlY3QiOiAiaHR0cDovL3NpZ3Y0ZXhhbXBsZWJ1Y2tldC5zMy5hbWF6b25hd3MuY29tL3N1Y2Nlc3NmdWxfdXBsb2FkLmh0bWwifSwNCiAgICBbInN0YXJ0cy13aXRoIiwgIiRDb250ZW50LVR5cGUiLCAiaW1hZ2UvIl0sDQogICAgeyJ4LWFtei1tZXRhLXV1aWQiOiAiMTQzNjUxMjM2NTEyNzQifSwNCiAgICB7IngtYW16LXNlcnZlci1zaWRlLWVuY3J5cHRpb24iOiAiQUVTMjU2In0sDQogICAgWyJzdGFydHMtd2l0aCIsICIkeC1hbXotbWV0YS10YWciLCAiIl0sDQoNCiAgICB7IngtYW16LWNyZWRlbnRpYWwiOiAiQUtJQUlPU0ZPRE5ON0VYQU1QTEUvMjAxNTEyMjkvdXMtZWFzdC0xL3MzL2F3czRfcmVxdWVzdCJ9LA0KICAgIHsieC1hbXotYWxnb3JpdGhtIjogIkFXUzQtSE1BQy1TSEEyNTYifSwNCiAgICB7IngtYW16LWRhdGUiOiAiMjAxNTEyMjlUMDAwMDAwWiIgfQ0KICBdDQp9";
const AWS_V4_SIGNATURE: &str = "8afdbf4008c03f22c2cd3cdb72e4afbb1f6a588f3255ac628749a66d7f09699e";

/// "Upload examples (AWS signature version 2)", S3 user guide (HTTPPOSTExamples, file
/// upload): the base64 policy and the signature AWS publishes for it. The page does not
/// name the secret; the one that gives this signature is the example secret of AWS's
/// 2006-03-01 S3 developer guide (access key 0PN5J17HBGZHT7JJ3X82).
const AWS_V2_POLICY: &str = "eyAiZXhwaXJhdGlvbiI6ICIyMDA3LTEyLTAxVDEyOjAwOjAwLjAwMFoiLAogICJjb25kaXRpb25zIjogWwogICAgeyJidWNrZXQiOiAiam9obnNtaXRoIn0sCiAgICBbInN0YXJ0cy13aXRoIiwgIiRrZXkiLCAidXNlci9lcmljLyJdLAogICAgeyJhY2wiOiAicHVibGljLXJlYWQifSwKICAgIHsic3VjY2Vzc19hY3Rpb25fcmVkaXJlY3QiOiAiaHR0cDovL2pvaG5zbWl0aC5zMy5hbWF6b25hd3MuY29tL3N1Y2Nlc3NmdWxfdXBsb2FkLmh0bWwifSwKICAgIFsic3RhcnRzLXdpdGgiLCAiJENvbnRlbnQtVHlwZSIsICJpbWFnZS8iXSwKICAgIHsieC1hbXotbWV0YS11dWlkIjogIjE0MzY1MTIzNjUxMjc0In0sCiAgICBbInN0YXJ0cy13aXRoIiwgIiR4LWFtei1tZXRhLXRhZyIsICIiXQogIF0KfQo=";
const AWS_V2_SECRET: &str = "uV3F3YluFJax1cknvbcGwgjvx4QpvB+leU8dUj2o";
const AWS_V2_SIGNATURE: &str = "0RavWzkygo6QX9caELEqKi9kDbU=";

fn creds() -> Credentials {
    Credentials::new(ACCESS_KEY, SECRET)
}

/// 2015-12-29T00:00:00Z.
fn dec29() -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(1_451_347_200)
}

fn decode(b64: &str) -> String {
    String::from_utf8(base64::engine::general_purpose::STANDARD.decode(b64).unwrap()).unwrap()
}

fn v4(policy: &PostPolicy, c: &Credentials) -> PresignedPost {
    policy
        .sign(
            "https://sigv4examplebucket.s3.amazonaws.com/",
            "sigv4examplebucket",
            PostSigning::V4 {
                credentials: c,
                region: "us-east-1",
            },
            dec29(),
        )
        .unwrap()
}

/// The policy of AWS's SigV4 example, built with the builder.
fn aws_example_policy() -> PostPolicy {
    PostPolicy::new()
        .key_starts_with("user/user1/")
        .acl("public-read")
        .success_action_redirect("http://sigv4examplebucket.s3.amazonaws.com/successful_upload.html")
        .content_type_starts_with("image/")
        .metadata("uuid", "14365123651274")
        .exact("x-amz-server-side-encryption", "AES256")
        .metadata_starts_with("tag", "")
        // 2015-12-30T12:00:00Z
        .expires_at(SystemTime::UNIX_EPOCH + Duration::from_secs(1_451_476_800))
}

#[test]
fn sigv4_known_answer_from_aws_post_example() {
    assert_eq!(
        signature_v4(AWS_V4_POLICY, SECRET, dec29(), "us-east-1"),
        AWS_V4_SIGNATURE
    );
    // Any time of that UTC day has the same signing key.
    let later = dec29() + Duration::from_secs(86_399);
    assert_eq!(
        signature_v4(AWS_V4_POLICY, SECRET, later, "us-east-1"),
        AWS_V4_SIGNATURE
    );
    assert_ne!(
        signature_v4(AWS_V4_POLICY, SECRET, dec29(), "us-west-2"),
        AWS_V4_SIGNATURE
    );
}

#[test]
fn sigv2_known_answer_from_aws_post_example() {
    assert_eq!(signature_v2(AWS_V2_POLICY, AWS_V2_SECRET), AWS_V2_SIGNATURE);
    assert!(decode(AWS_V2_POLICY).contains("{\"bucket\": \"johnsmith\"}"));
}

#[test]
fn builder_writes_the_document_of_aws_example() {
    // Same document as AWS's (whitespace apart), so the same conditions in the same order.
    let post = v4(&aws_example_policy(), &creds());
    let ours: Value = serde_json::from_str(&post.policy_document().unwrap()).unwrap();
    let theirs: Value = serde_json::from_str(&decode(AWS_V4_POLICY)).unwrap();
    assert_eq!(ours, theirs);
    assert_eq!(
        post.field("x-amz-credential"),
        Some("AKIAIOSFODNN7EXAMPLE/20151229/us-east-1/s3/aws4_request")
    );
    assert_eq!(post.field("x-amz-date"), Some("20151229T000000Z"));
    assert_eq!(post.field("key"), Some("user/user1/${filename}"));
    // Our bytes differ from AWS's (no CRLF, no spaces): the signature is that of our bytes.
    let policy = post.field("policy").unwrap();
    assert_eq!(
        post.field("x-amz-signature"),
        Some(signature_v4(policy, SECRET, dec29(), "us-east-1").as_str())
    );
}

#[test]
fn v4_fields_in_form_order_and_exact_document() {
    let policy = PostPolicy::new()
        .key("dir/a \"b\" é.txt")
        .content_type("text/plain")
        .content_length_range(1, 1024)
        .success_action_status(SuccessActionStatus::Created)
        .expires_in(Duration::from_secs(600));
    let post = v4(&policy, &creds());
    assert_eq!(post.url, "https://sigv4examplebucket.s3.amazonaws.com/");
    let names: Vec<&str> = post.fields.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "key",
            "Content-Type",
            "success_action_status",
            "x-amz-algorithm",
            "x-amz-credential",
            "x-amz-date",
            "policy",
            "x-amz-signature"
        ]
    );
    assert_eq!(post.field("key"), Some("dir/a \"b\" é.txt"));
    assert_eq!(post.field("success_action_status"), Some("201"));
    assert_eq!(
        post.policy_document().unwrap(),
        "{\"expiration\":\"2015-12-29T00:10:00.000Z\",\"conditions\":[\
         {\"bucket\":\"sigv4examplebucket\"},{\"key\":\"dir/a \\\"b\\\" é.txt\"},\
         {\"Content-Type\":\"text/plain\"},[\"content-length-range\",1,1024],\
         {\"success_action_status\":\"201\"},\
         {\"x-amz-credential\":\"AKIAIOSFODNN7EXAMPLE/20151229/us-east-1/s3/aws4_request\"},\
         {\"x-amz-algorithm\":\"AWS4-HMAC-SHA256\"},{\"x-amz-date\":\"20151229T000000Z\"}]}"
    );
    let sig = post.field("x-amz-signature").unwrap();
    assert_eq!(sig.len(), 64);
    assert!(sig.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()));
}

#[test]
fn session_token_is_a_field_and_a_condition_and_hidden_from_debug() {
    let c = creds().with_session_token("TOKEN/+=");
    let post = v4(&PostPolicy::new().key("k"), &c);
    assert_eq!(post.field("x-amz-security-token"), Some("TOKEN/+="));
    let doc = post.policy_document().unwrap();
    assert!(doc.contains("{\"x-amz-security-token\":\"TOKEN/+=\"}"), "{doc}");
    let names: Vec<&str> = post.fields.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names[names.len() - 3..],
        ["x-amz-security-token", "policy", "x-amz-signature"]
    );
    let debug = format!("{post:?}");
    assert!(!debug.contains("TOKEN"), "{debug}");
    assert!(debug.contains("x-amz-signature"));
}

#[test]
fn v2_fields() {
    let c = creds().with_session_token("T");
    let post = PostPolicy::new()
        .key_starts_with("up/")
        .acl("private")
        .expires_at(dec29())
        .sign(
            "https://b.s3.amazonaws.com/",
            "b",
            PostSigning::V2 { credentials: &c },
            dec29(),
        )
        .unwrap();
    let names: Vec<&str> = post.fields.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "key",
            "acl",
            "AWSAccessKeyId",
            "x-amz-security-token",
            "policy",
            "signature"
        ]
    );
    assert_eq!(post.field("key"), Some("up/${filename}"));
    assert_eq!(
        post.policy_document().unwrap(),
        "{\"expiration\":\"2015-12-29T00:00:00.000Z\",\"conditions\":[{\"bucket\":\"b\"},\
         [\"starts-with\",\"$key\",\"up/\"],{\"acl\":\"private\"},{\"x-amz-security-token\":\"T\"}]}"
    );
    let sig = post.field("signature").unwrap();
    assert_eq!(base64::engine::general_purpose::STANDARD.decode(sig).unwrap().len(), 20);
}

#[test]
fn unsigned_forms_carry_no_policy() {
    let post = PostPolicy::new()
        .key("k")
        .content_type("text/plain")
        .sign("http://h/b/", "b", PostSigning::Unsigned, dec29())
        .unwrap();
    assert_eq!(
        post.fields,
        [
            ("key".to_owned(), "k".to_owned()),
            ("Content-Type".to_owned(), "text/plain".to_owned())
        ]
    );
    assert_eq!(post.policy_document(), None);
}

#[test]
fn default_lifetime_is_an_hour() {
    let post = v4(&PostPolicy::new().key("k"), &creds());
    assert!(
        post.policy_document()
            .unwrap()
            .starts_with("{\"expiration\":\"2015-12-29T01:00:00.000Z\",")
    );
}

#[test]
fn fixed_values_replace_and_conditions_accumulate() {
    let p = PostPolicy::new()
        .content_type("a/b")
        .exact("content-type", "c/d")
        .content_type_starts_with("c/")
        .content_length_range(0, 5)
        .content_length_range(1, 9)
        .starts_with("$x-amz-meta-a", "");
    assert_eq!(
        p.conditions(),
        [
            Condition::Eq {
                field: "content-type".into(),
                value: "c/d".into()
            },
            Condition::StartsWith {
                field: "Content-Type".into(),
                prefix: "c/".into()
            },
            Condition::ContentLengthRange { min: 1, max: 9 },
            Condition::StartsWith {
                field: "x-amz-meta-a".into(),
                prefix: "".into()
            },
        ]
    );
    assert!(p.constrains("CONTENT-TYPE"));
    assert!(p.constrains("$x-amz-meta-a"));
    assert!(!p.constrains("acl"));
}

fn sign_err(p: PostPolicy) -> Error {
    p.sign("u", "b", PostSigning::V2 { credentials: &creds() }, dec29())
        .unwrap_err()
}

#[test]
fn invalid_policies_are_errors() {
    assert_eq!(sign_err(PostPolicy::new()).kind(), ErrorKind::InvalidKey);
    assert_eq!(sign_err(PostPolicy::new().key("")).kind(), ErrorKind::InvalidKey);
    assert_eq!(
        sign_err(PostPolicy::new().key("k".repeat(1025))).kind(),
        ErrorKind::InvalidKey
    );
    assert_eq!(
        sign_err(PostPolicy::new().key_starts_with("p".repeat(1024))).kind(),
        ErrorKind::InvalidKey
    );
    assert_eq!(
        sign_err(PostPolicy::new().key("k").content_length_range(10, 9)).kind(),
        ErrorKind::InvalidSetting
    );
    for reserved in ["Policy", "x-amz-signature", "KEY", "bucket", "AWSAccessKeyId", "file"] {
        let e = sign_err(PostPolicy::new().key("k").exact(reserved, "x"));
        assert_eq!(e.kind(), ErrorKind::InvalidSetting, "{reserved}");
    }
    for bad in ["", "a b", "a\"b", "é", "a\nb"] {
        let e = sign_err(PostPolicy::new().key("k").starts_with(bad, ""));
        assert_eq!(e.kind(), ErrorKind::InvalidSetting, "{bad:?}");
    }
    assert!(
        PostPolicy::new()
            .key_starts_with("")
            .sign("u", "b", PostSigning::Unsigned, dec29())
            .is_ok()
    );
}

#[test]
fn object_parameters_fill_unconstrained_fields() {
    let params: ObjectParameters = r#"{"ACL": "public-read", "CacheControl": "max-age=60",
            "ContentType": "text/csv", "ContentLanguage": "fr", "StorageClass": "STANDARD_IA",
            "Metadata": {"Owner": "ana"}, "VersionId": "v1"}"#
        .parse()
        .unwrap();
    let p = PostPolicy::new()
        .key("k")
        .content_type_starts_with("text/")
        .acl("private")
        .with_parameters(&params)
        .unwrap();
    let post = p.sign("u", "b", PostSigning::Unsigned, dec29()).unwrap();
    assert_eq!(
        post.fields,
        [
            ("key", "k"),
            ("acl", "private"),
            ("Cache-Control", "max-age=60"),
            ("x-amz-storage-class", "STANDARD_IA"),
            ("x-amz-meta-owner", "ana"),
        ]
        .map(|(n, v)| (n.to_owned(), v.to_owned()))
    );
    let ssec: ObjectParameters = r#"{"SSECustomerAlgorithm": "AES256", "SSECustomerKey": "k"}"#.parse().unwrap();
    assert_eq!(
        PostPolicy::new().with_parameters(&ssec).unwrap_err().kind(),
        ErrorKind::Unsupported
    );
}

#[test]
fn times_beyond_year_9999_are_refused() {
    // Found by the `policy` fuzz target: signing panicked in the time crate.
    let c = creds();
    let ten_thousand_years = Duration::from_secs(10_000 * 366 * 86_400);
    let v2 = PostSigning::V2 { credentials: &c };
    let v4 = PostSigning::V4 {
        credentials: &c,
        region: "us-east-1",
    };
    for signing in [v2, v4, PostSigning::Unsigned] {
        let far = PostPolicy::new().key("k").expires_in(ten_thousand_years);
        let e = far
            .sign("https://b.s3.amazonaws.com/", "b", signing, dec29())
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidSetting, "{e}");
        let past = PostPolicy::new()
            .key("k")
            .expires_at(SystemTime::UNIX_EPOCH - ten_thousand_years);
        let e = past
            .sign("https://b.s3.amazonaws.com/", "b", signing, dec29())
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidSetting, "{e}");
    }
    // A SigV4 signing time out of range; SigV2 does not write it.
    let late = SystemTime::UNIX_EPOCH + ten_thousand_years;
    let policy = PostPolicy::new().key("k").expires_at(dec29());
    let e = policy.sign("u", "b", v4, late).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidSetting, "{e}");
    assert!(policy.sign("u", "b", v2, late).is_ok());
    // The last second of year 9999 is still written.
    let last = SystemTime::UNIX_EPOCH + Duration::from_secs(253_402_300_799);
    assert_eq!(format_expiration(last), "9999-12-31T23:59:59.000Z");
    let post = PostPolicy::new()
        .key("k")
        .expires_at(last)
        .sign("u", "b", v4, last)
        .unwrap();
    assert!(post.policy_document().unwrap().contains("9999-12-31T23:59:59.000Z"));
    assert_eq!(post.field("x-amz-date"), Some("99991231T235959Z"));
}

#[test]
fn expiration_is_iso8601_to_the_second() {
    let t = SystemTime::UNIX_EPOCH + Duration::from_millis(1_704_164_645_999);
    assert_eq!(format_expiration(t), "2024-01-02T03:04:05.000Z");
    assert_eq!(amz_date(t), "20240102T030405Z");
}
