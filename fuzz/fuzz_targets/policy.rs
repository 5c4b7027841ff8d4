//! Presigned POST policies: the `PostPolicy` builder, its policy document and its signatures.
//!
//! Input: records split on `0xFF`; a record is an operation byte and its arguments split on
//! `0xFE` (strings: UTF-8, lossy, so any Unicode, quotes, backslashes and control characters;
//! numbers: up to 8 bytes, little-endian; times: a sign byte, then a number of seconds from
//! 2015-12-29). Operations are builder calls (`key`,
//! `key_starts_with`, `expires_in`, `expires_at`, `content_length_range`, `exact`,
//! `starts_with`, `content_type(_starts_with)`, `success_action_status`,
//! `success_action_redirect`, `acl`, `metadata(_starts_with)`, `cache_control`,
//! `content_disposition`), the signing time, and the signing (flags: bits 0-1 V4, V2 or
//! unsigned, bit 2 a session token; then a region, a bucket and a URL).
//!
//! - after each call the builder's last condition is the one just given, with the exact
//!   strings (the field without one leading `$`, metadata names in lower case), and no other
//!   condition of the same kind names the same field (without case);
//! - `sign` fails exactly when the key is missing, empty or over 1024 bytes
//!   (`InvalidKey`), a prefix leaves no room (`InvalidKey`), a range is inverted, a field name
//!   is empty, not visible ASCII, quoted or reserved (`InvalidSetting`), or the lifetime
//!   overflows, or the expiration (or SigV4's signing time) is outside years 0 to 9999
//!   (`InvalidSetting`);
//! - a signed form's `policy` is base64 of JSON (serde_json) `{"expiration", "conditions"}` in
//!   that order: `expiration` is `format_expiration` of the expiry (and ISO 8601 to the
//!   second when the year has four digits), `conditions` are the bucket, the key, every
//!   condition of the builder with the exact strings given, then the signing fields;
//! - the fields are `key`, the exact values in order, then the signing fields of the version
//!   (SigV4: algorithm, credential, date, token, policy, the hex HMAC-SHA256 signature
//!   recomputed here; SigV2: `AWSAccessKeyId`, token, policy, the base64 HMAC-SHA1 signature
//!   of 20 bytes recomputed here; unsigned: none);
//! - no field value nor the URL holds the secret key (unless the input itself does);
//! - signing twice gives the same form.
#![no_main]

use std::time::{Duration, SystemTime};

use base64::Engine as _;
use hmac::{Hmac, KeyInit, Mac};
use libfuzzer_sys::fuzz_target;
use serde_json::{Value, json};
use storages_s3::ErrorKind;
use storages_s3::credentials::Credentials;
use storages_s3::fuzzing::post::{ALGORITHM, format_expiration, signature_v2, signature_v4};
use storages_s3::fuzzing::post::{Condition, Expiration, KeyCondition, conditions, expiration, key_condition};
use storages_s3::s3::{PostPolicy, PostSigning, SuccessActionStatus};

const ACCESS_KEY: &str = "AKIAIOSFODNN7EXAMPLE";
const SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
const TOKEN: &str =
    "IQoJb3JpZ2luX2VjEMv//////////wEaCXVzLWVhc3QtMSJGMEQCIBSUbVdj9YGs2g0HkHsOHFdk+wOozjARSKHL987NhhOC8=";
/// 2015-12-29T00:00:00Z, the date of AWS's published example.
const BASE_TIME: u64 = 1_451_347_200;
const RESERVED: &[&str] = &[
    "key",
    "bucket",
    "file",
    "policy",
    "x-amz-signature",
    "signature",
    "awsaccesskeyid",
    "x-amz-algorithm",
    "x-amz-credential",
    "x-amz-date",
    "x-amz-security-token",
    "content-length-range",
];

#[derive(Clone, Copy)]
enum Version {
    V4,
    V2,
    Unsigned,
}

fn number(arg: Option<&[u8]>) -> u64 {
    let mut n = [0u8; 8];
    if let Some(arg) = arg {
        let len = arg.len().min(8);
        n[..len].copy_from_slice(&arg[..len]);
    }
    u64::from_le_bytes(n)
}

/// A time around the base: the first byte's low bit is the sign (set: before), the rest a
/// number of seconds.
fn time_at(arg: Option<&[u8]>) -> Option<SystemTime> {
    let (sign, magnitude) = arg.and_then(|a| a.split_first()).map_or((0, &[][..]), |(s, m)| (*s, m));
    let offset = Duration::from_secs(number(Some(magnitude)));
    let base = SystemTime::UNIX_EPOCH + Duration::from_secs(BASE_TIME);
    if sign & 1 == 0 {
        base.checked_add(offset)
    } else {
        base.checked_sub(offset)
    }
}

/// A time in UTC, `None` out of the `time` crate's range (an independent conversion).
fn utc(t: SystemTime) -> Option<time::OffsetDateTime> {
    match t.duration_since(SystemTime::UNIX_EPOCH) {
        Ok(d) => time::OffsetDateTime::UNIX_EPOCH.checked_add(time::Duration::try_from(d).ok()?),
        Err(e) => time::OffsetDateTime::UNIX_EPOCH.checked_sub(time::Duration::try_from(e.duration()).ok()?),
    }
}

fn field_ok(field: &str) -> bool {
    !field.is_empty()
        && field.bytes().all(|b| b.is_ascii_graphic() && b != b'"')
        && !RESERVED.iter().any(|r| r.eq_ignore_ascii_case(field))
}

fn condition_json(c: &Condition) -> Value {
    match c {
        Condition::Eq { field, value } => {
            let mut m = serde_json::Map::new();
            m.insert(field.clone(), Value::String(value.clone()));
            Value::Object(m)
        }
        Condition::StartsWith { field, prefix } => json!(["starts-with", format!("${field}"), prefix]),
        Condition::ContentLengthRange { min, max } => json!(["content-length-range", min, max]),
        other => panic!("a condition this target does not know: {other:?}"),
    }
}

fn hmac_sha256(key: &[u8], data: &[u8]) -> Vec<u8> {
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(key).expect("any key length");
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Checks what the builder holds after a call: `expected` last, alone of its kind and field.
fn check_last(policy: &PostPolicy, expected: &Condition) {
    let conditions = conditions(&policy);
    assert_eq!(conditions.last(), Some(expected));
    let same = |c: &Condition| match (c, expected) {
        (Condition::Eq { field: a, .. }, Condition::Eq { field: b, .. })
        | (Condition::StartsWith { field: a, .. }, Condition::StartsWith { field: b, .. }) => a.eq_ignore_ascii_case(b),
        (Condition::ContentLengthRange { .. }, Condition::ContentLengthRange { .. }) => true,
        _ => false,
    };
    assert_eq!(conditions.iter().filter(|c| same(c)).count(), 1, "{conditions:?}");
}

fn eq(field: &str, value: &str) -> Condition {
    Condition::Eq {
        field: field.strip_prefix('$').unwrap_or(field).to_owned(),
        value: value.to_owned(),
    }
}

fn starts(field: &str, prefix: &str) -> Condition {
    Condition::StartsWith {
        field: field.strip_prefix('$').unwrap_or(field).to_owned(),
        prefix: prefix.to_owned(),
    }
}

fuzz_target!(|data: &[u8]| {
    let mut policy = PostPolicy::new();
    let mut inputs: Vec<String> = Vec::new();
    let mut time = SystemTime::UNIX_EPOCH + Duration::from_secs(BASE_TIME);
    let mut version = Version::V4;
    let mut token = false;
    let mut region = "us-east-1".to_owned();
    let mut bucket = "sigv4examplebucket".to_owned();
    let mut url = "https://sigv4examplebucket.s3.amazonaws.com/".to_owned();

    for record in data.split(|&b| b == 0xFF) {
        let Some((&op, rest)) = record.split_first() else {
            continue;
        };
        let raw: Vec<&[u8]> = rest.split(|&b| b == 0xFE).collect();
        let args: Vec<String> = raw.iter().map(|a| String::from_utf8_lossy(a).into_owned()).collect();
        let s = |i: usize| args.get(i).map_or("", String::as_str);
        inputs.extend(args.iter().cloned());
        policy = match op % 18 {
            0 => policy.key(s(0)),
            1 => policy.key_starts_with(s(0)),
            2 => policy.expires_in(Duration::from_secs(number(raw.first().copied()))),
            3 => match time_at(raw.first().copied()) {
                Some(at) => policy.expires_at(at),
                None => policy,
            },
            4 => {
                if let Some(at) = time_at(raw.first().copied()) {
                    time = at;
                }
                policy
            }
            5 => {
                let (min, max) = (number(raw.first().copied()), number(raw.get(1).copied()));
                let p = policy.content_length_range(min, max);
                check_last(&p, &Condition::ContentLengthRange { min, max });
                p
            }
            6 => {
                let p = policy.exact(s(0), s(1));
                check_last(&p, &eq(s(0), s(1)));
                p
            }
            7 => {
                let p = policy.starts_with(s(0), s(1));
                check_last(&p, &starts(s(0), s(1)));
                p
            }
            8 => {
                let p = policy.content_type(s(0));
                check_last(&p, &eq("Content-Type", s(0)));
                p
            }
            9 => {
                let p = policy.content_type_starts_with(s(0));
                check_last(&p, &starts("Content-Type", s(0)));
                p
            }
            10 => {
                let (status, text) = match rest.first().map_or(0, |b| b % 3) {
                    0 => (SuccessActionStatus::Ok, "200"),
                    1 => (SuccessActionStatus::Created, "201"),
                    _ => (SuccessActionStatus::NoContent, "204"),
                };
                let p = policy.success_action_status(status);
                check_last(&p, &eq("success_action_status", text));
                p
            }
            11 => {
                let p = policy.success_action_redirect(s(0));
                check_last(&p, &eq("success_action_redirect", s(0)));
                p
            }
            12 => {
                let p = policy.acl(s(0));
                check_last(&p, &eq("acl", s(0)));
                p
            }
            13 => {
                let p = policy.metadata(s(0), s(1));
                check_last(&p, &eq(&format!("x-amz-meta-{}", s(0).to_ascii_lowercase()), s(1)));
                p
            }
            14 => {
                let p = policy.metadata_starts_with(s(0), s(1));
                check_last(&p, &starts(&format!("x-amz-meta-{}", s(0).to_ascii_lowercase()), s(1)));
                p
            }
            15 => {
                let p = policy.cache_control(s(0));
                check_last(&p, &eq("Cache-Control", s(0)));
                p
            }
            16 => {
                let p = policy.content_disposition(s(0));
                check_last(&p, &eq("Content-Disposition", s(0)));
                p
            }
            _ => {
                let flags = rest.first().copied().unwrap_or(0);
                version = match flags & 3 {
                    1 => Version::V2,
                    2 => Version::Unsigned,
                    _ => Version::V4,
                };
                token = flags & 4 != 0;
                if args.len() > 1 {
                    region = s(1).to_owned();
                }
                if args.len() > 2 {
                    bucket = s(2).to_owned();
                }
                if args.len() > 3 {
                    url = s(3).to_owned();
                }
                policy
            }
        };
    }
    inputs.extend([region.clone(), bucket.clone(), url.clone()]);

    let creds = if token {
        Credentials::new(ACCESS_KEY, SECRET).with_session_token(TOKEN)
    } else {
        Credentials::new(ACCESS_KEY, SECRET)
    };
    let signing = match version {
        Version::V4 => PostSigning::V4 {
            credentials: &creds,
            region: &region,
        },
        Version::V2 => PostSigning::V2 { credentials: &creds },
        Version::Unsigned => PostSigning::Unsigned,
    };

    // When signing must fail, and how.
    let key_ok = match key_condition(&policy) {
        None => false,
        Some(KeyCondition::Exact(k)) => !k.is_empty() && k.len() <= 1024,
        Some(KeyCondition::StartsWith(p)) => p.len() < 1024,
    };
    let conditions_ok = conditions(&policy).iter().all(|c| match c {
        Condition::ContentLengthRange { min, max } => min <= max,
        c => field_ok(c.field().expect("a field")),
    });
    let expiration = match expiration(&policy).unwrap_or(Expiration::In(Duration::from_secs(3600))) {
        Expiration::In(d) => time.checked_add(d),
        Expiration::At(t) => Some(t),
    };
    // The expiration, and SigV4's date, are written with four-digit years.
    let four_digits = |t: SystemTime| utc(t).is_some_and(|t| (0..=9999).contains(&t.year()));
    let times_ok = expiration.is_some_and(four_digits) && (!matches!(version, Version::V4) || four_digits(time));

    let result = policy.sign(url.as_str(), &bucket, signing, time);
    let post = match result {
        Err(e) => {
            let expected = if !key_ok {
                ErrorKind::InvalidKey
            } else if !conditions_ok || !times_ok {
                ErrorKind::InvalidSetting
            } else {
                panic!("sign refused a valid policy: {e:?}\n{policy:?}")
            };
            assert_eq!(e.kind(), expected, "{e:?}\n{policy:?}");
            return;
        }
        Ok(post) => post,
    };
    assert!(
        key_ok && conditions_ok && times_ok,
        "sign accepted an invalid policy: {policy:?}"
    );
    let expiration = expiration.expect("checked");
    let again = policy.sign(url.as_str(), &bucket, signing, time).expect("signed once");
    assert!(again == post, "signing twice differs");
    assert_eq!(post.url, url);

    // The fields.
    let key_field = match key_condition(&policy).expect("a key") {
        KeyCondition::Exact(k) => k.clone(),
        KeyCondition::StartsWith(p) => format!("{p}${{filename}}"),
    };
    let mut expected_fields = vec![("key".to_owned(), key_field)];
    for c in conditions(&policy) {
        if let Condition::Eq { field, value } = c {
            expected_fields.push((field.clone(), value.clone()));
        }
    }
    let n = expected_fields.len();
    assert_eq!(
        &post.fields[..n.min(post.fields.len())],
        &expected_fields[..],
        "{:?}",
        post.fields
    );
    let signing_fields: Vec<(&str, &str)> = post.fields[n..].iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();

    if !inputs.iter().any(|s| s.contains(SECRET)) {
        assert!(!post.url.contains(SECRET));
        for (name, value) in &post.fields {
            assert!(!value.contains(SECRET), "the secret key in field {name}");
        }
    }

    let utc_time = utc(time);
    let policy_b64 = match version {
        Version::Unsigned => {
            assert!(signing_fields.is_empty(), "{signing_fields:?}");
            return;
        }
        Version::V4 => {
            let date = utc_time.map(|t| {
                format!(
                    "{:04}{:02}{:02}T{:02}{:02}{:02}Z",
                    t.year(),
                    u8::from(t.month()),
                    t.day(),
                    t.hour(),
                    t.minute(),
                    t.second()
                )
            });
            let names: Vec<&str> = signing_fields.iter().map(|(a, _)| *a).collect();
            let mut expected_names = vec!["x-amz-algorithm", "x-amz-credential", "x-amz-date"];
            if token {
                expected_names.push("x-amz-security-token");
            }
            expected_names.extend(["policy", "x-amz-signature"]);
            assert_eq!(names, expected_names);
            assert_eq!(signing_fields[0].1, ALGORITHM);
            let amz_date = signing_fields[2].1;
            if let Some(date) = &date {
                assert_eq!(amz_date, date);
                assert_eq!(
                    signing_fields[1].1,
                    format!("{ACCESS_KEY}/{}/{region}/s3/aws4_request", &date[..8])
                );
            }
            if token {
                assert_eq!(signing_fields[3].1, TOKEN);
            }
            let policy_b64 = signing_fields[names.len() - 2].1;
            let signature = signing_fields[names.len() - 1].1;
            assert_eq!(signature, signature_v4(policy_b64, SECRET, time, &region));
            assert!(signature.len() == 64 && signature.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')));
            if let Some(date) = &date {
                let mut key = hmac_sha256(format!("AWS4{SECRET}").as_bytes(), &date.as_bytes()[..8]);
                for part in [region.as_bytes(), b"s3", b"aws4_request"] {
                    key = hmac_sha256(&key, part);
                }
                assert_eq!(signature, hex(&hmac_sha256(&key, policy_b64.as_bytes())));
            }
            policy_b64
        }
        Version::V2 => {
            let names: Vec<&str> = signing_fields.iter().map(|(a, _)| *a).collect();
            let mut expected_names = vec!["AWSAccessKeyId"];
            if token {
                expected_names.push("x-amz-security-token");
            }
            expected_names.extend(["policy", "signature"]);
            assert_eq!(names, expected_names);
            assert_eq!(signing_fields[0].1, ACCESS_KEY);
            if token {
                assert_eq!(signing_fields[1].1, TOKEN);
            }
            let policy_b64 = signing_fields[names.len() - 2].1;
            let signature = signing_fields[names.len() - 1].1;
            assert_eq!(signature, signature_v2(policy_b64, SECRET));
            let mut mac = Hmac::<sha1::Sha1>::new_from_slice(SECRET.as_bytes()).expect("any key length");
            mac.update(policy_b64.as_bytes());
            let raw = base64::engine::general_purpose::STANDARD
                .decode(signature)
                .expect("a base64 signature");
            assert_eq!(raw, mac.finalize().into_bytes().to_vec());
            assert_eq!(raw.len(), 20);
            policy_b64
        }
    };

    // The policy document.
    let document = base64::engine::general_purpose::STANDARD
        .decode(policy_b64)
        .expect("the policy is base64");
    let text = String::from_utf8(document).expect("the policy is UTF-8");
    assert!(text.starts_with("{\"expiration\":"), "{text}");
    let doc: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("policy is not JSON ({e}): {text}"));
    let obj = doc.as_object().expect("an object");
    assert_eq!(obj.len(), 2, "{text}");
    let expiration_text = obj["expiration"].as_str().expect("a string");
    assert_eq!(expiration_text, format_expiration(expiration));
    if let Some(t) = utc(expiration).filter(|t| (0..=9999).contains(&t.year())) {
        let expected = format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.000Z",
            t.year(),
            u8::from(t.month()),
            t.day(),
            t.hour(),
            t.minute(),
            t.second()
        );
        assert_eq!(expiration_text, expected);
    }

    let mut expected = vec![json!({ "bucket": bucket })];
    expected.push(match key_condition(&policy).expect("a key") {
        KeyCondition::Exact(k) => json!({ "key": k }),
        KeyCondition::StartsWith(p) => json!(["starts-with", "$key", p]),
    });
    expected.extend(conditions(&policy).iter().map(condition_json));
    for (name, value) in &signing_fields {
        if !matches!(*name, "policy" | "x-amz-signature" | "signature" | "AWSAccessKeyId") {
            expected.push(json!({ *name: value }));
        }
    }
    // The document's order for SigV4: credential, algorithm, date (AWS's example).
    if matches!(version, Version::V4) {
        let at = 2 + conditions(&policy).len();
        expected.swap(at, at + 1);
    }
    let conditions = obj["conditions"].as_array().expect("an array");
    assert_eq!(conditions, &expected, "{text}");
});
