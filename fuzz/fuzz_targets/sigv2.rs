//! SigV2 canonicalisation and signing: `string_to_sign_v2`, `sign_v2`, `presign_v2`.
//!
//! Input: byte 0 is flags (bits 0-2: method; bits 3-4: bucket in the host name or not, and
//! which; bit 5: temporary credentials; bit 6: the path from the input percent-encoded), then
//! lines: the first is the path and query (only where `http::Uri` accepts it), every other
//! one a header `name:value` (names in any case, repeated or not, values with their
//! whitespace; lines that `http` refuses are left out).
//!
//! - the string to sign is the method, the `Content-MD5`, `Content-Type` and date lines, one
//!   line per `x-amz-*` header name (lower case, sorted, values trimmed and joined with `,` in
//!   the order given), then the resource: `/bucket` when the bucket is in the host, the path
//!   as sent, and only the sub-resources SigV2 signs, sorted, values decoded;
//! - it fails (typed) exactly when an `x-amz-*` value is not visible ASCII;
//! - `sign_v2` sets `Date` when absent and `Authorization: AWS <key>:<signature>`, the base64
//!   HMAC-SHA1 (recomputed here) of the string to sign of the signed headers;
//! - `presign_v2` gives the URI followed by `AWSAccessKeyId`, `Signature` (base64 of the
//!   20-byte HMAC-SHA1 of the string to sign with `Expires` as the date) and `Expires`, and
//!   the session token when there is one; the URL parses as an `http::Uri`;
//! - everything is deterministic.
#![no_main]

use std::time::{Duration, SystemTime};

use base64::Engine as _;
use hmac::{Hmac, KeyInit, Mac};
use http::{HeaderMap, HeaderName, HeaderValue, Method, Uri};
use libfuzzer_sys::fuzz_target;
use storages_s3::ErrorKind;
use storages_s3::credentials::Credentials;
use storages_s3::fuzzing::sign::{presign_v2, sign_v2, string_to_sign_v2};
use storages_s3_fuzz::{percent_decode, url_encode};

const ACCESS_KEY: &str = "AKIAIOSFODNN7EXAMPLE";
const SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
const TOKEN: &str = "FwoGZXIvYXdzEBYaDH+token/with=base64+chars";
const EXPIRES: u64 = 1_175_139_620;
const SIGNED: &[&str] = &[
    "accelerate",
    "acl",
    "cors",
    "delete",
    "lifecycle",
    "location",
    "logging",
    "notification",
    "partNumber",
    "policy",
    "requestPayment",
    "response-cache-control",
    "response-content-disposition",
    "response-content-encoding",
    "response-content-language",
    "response-content-type",
    "response-expires",
    "restore",
    "tagging",
    "torrent",
    "uploadId",
    "uploads",
    "versionId",
    "versioning",
    "versions",
    "website",
];

fn hmac_sha1_base64(data: &str) -> String {
    let mut mac = Hmac::<sha1::Sha1>::new_from_slice(SECRET.as_bytes()).expect("any key length");
    mac.update(data.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

fn first_visible(headers: &HeaderMap, name: &str) -> String {
    headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned()
}

/// The string to sign, written from S3's description; `None` when an `x-amz-*` value cannot
/// be signed (not visible ASCII).
fn expected_string(
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    date: &str,
    bucket: Option<&str>,
) -> Option<String> {
    let mut names: Vec<&str> = headers
        .keys()
        .map(HeaderName::as_str)
        .filter(|n| n.starts_with("x-amz-"))
        .collect();
    names.sort_unstable();
    names.dedup();
    let mut s = format!(
        "{method}\n{}\n{}\n{date}\n",
        first_visible(headers, "content-md5"),
        first_visible(headers, "content-type")
    );
    for name in names {
        let mut values = Vec::new();
        for v in headers.get_all(name) {
            values.push(v.to_str().ok()?.trim_matches([' ', '\t']));
        }
        s += &format!("{name}:{}\n", values.join(","));
    }
    if let Some(b) = bucket {
        s += &format!("/{b}");
    }
    s += uri.path();
    let mut subs: Vec<(&str, Option<String>)> = Vec::new();
    for part in uri.query().unwrap_or("").split('&') {
        let (k, v) = match part.split_once('=') {
            Some((k, v)) => (k, Some(v)),
            None => (part, None),
        };
        if SIGNED.contains(&k) {
            let v = v.map(|v| String::from_utf8_lossy(&lossy_decode(v)).into_owned());
            subs.push((k, v));
        }
    }
    subs.sort_by_key(|(k, _)| *k);
    for (i, (k, v)) in subs.iter().enumerate() {
        s.push(if i == 0 { '?' } else { '&' });
        s += k;
        if let Some(v) = v {
            s.push('=');
            s += v;
        }
    }
    Some(s)
}

/// Percent-decoding that keeps a malformed escape as it is.
fn lossy_decode(s: &str) -> Vec<u8> {
    let hex = |b: Option<&u8>| b.and_then(|b| (*b as char).to_digit(16));
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && let (Some(hi), Some(lo)) = (hex(b.get(i + 1)), hex(b.get(i + 2)))
        {
            out.push((hi * 16 + lo) as u8);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    out
}

/// The documented layout, checked on its own: four lines, the `x-amz-*` lines (lower case,
/// strictly sorted), then the resource; when the query has no escapes (so no decoded value
/// holds `&` or a line end), the resource's query names only signed sub-resources, sorted.
fn check_layout(sts: &str, method: &Method, date: &str, amz: usize, resource_start: &str, plain: bool) {
    let lines: Vec<&str> = sts.splitn(5 + amz, '\n').collect();
    assert_eq!(lines.len(), 5 + amz, "{sts:?}");
    assert_eq!(lines[0], method.as_str());
    assert_eq!(lines[3], date);
    let mut previous = "";
    for line in &lines[4..4 + amz] {
        let (name, _) = line.split_once(':').expect("name:value");
        assert!(
            name.starts_with("x-amz-") && name == name.to_ascii_lowercase(),
            "{line:?}"
        );
        assert!(name > previous, "{previous:?} before {name:?}");
        previous = name;
    }
    let resource = lines[4 + amz];
    assert!(resource.starts_with(resource_start), "{resource:?}");
    let query = &resource[resource_start.len()..];
    if !plain || query.is_empty() || query.matches('?').count() != 1 {
        return;
    }
    let query = query.strip_prefix('?').expect("a query");
    let mut previous = "";
    for part in query.split('&') {
        let k = part.split_once('=').map_or(part, |(k, _)| k);
        if part.matches('=').count() > 1 || !SIGNED.contains(&k) {
            // A decoded value holding `&` or `=`: nothing more to say.
            return;
        }
        assert!(k >= previous, "{previous:?} before {k:?} in {resource:?}");
        previous = k;
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&flags, rest)) = data.split_first() else {
        return;
    };
    let method = match flags & 7 {
        0 => Method::GET,
        1 => Method::PUT,
        2 => Method::HEAD,
        3 => Method::DELETE,
        4 => Method::POST,
        5 => Method::OPTIONS,
        6 => Method::from_bytes(b"MKCOL").expect("a token"),
        _ => Method::PATCH,
    };
    let bucket = match (flags >> 3) & 3 {
        0 | 1 => None,
        2 => Some("awsexamplebucket1"),
        _ => Some("static.example.com"),
    };
    let creds = if flags & 32 != 0 {
        Credentials::new(ACCESS_KEY, SECRET).with_session_token(TOKEN)
    } else {
        Credentials::new(ACCESS_KEY, SECRET)
    };
    let mut lines = rest.split(|&b| b == b'\n');
    let target = lines.next().unwrap_or_default();
    let target = if flags & 64 != 0 {
        // Path characters escaped, `?`, `&` and `=` kept: any text becomes a request target.
        let text = String::from_utf8_lossy(target);
        let (path, query) = text.split_once('?').unwrap_or((&text, ""));
        let mut t = url_encode(path, false).replace("%2F", "/");
        if !query.is_empty() {
            t.push('?');
            let parts: Vec<String> = query
                .split('&')
                .map(|p| match p.split_once('=') {
                    Some((k, v)) => format!("{}={}", url_encode(k, false), url_encode(v, false)),
                    None => url_encode(p, false),
                })
                .collect();
            t += &parts.join("&");
        }
        t.into_bytes()
    } else {
        target.to_vec()
    };
    let host = match bucket {
        Some(b) => format!("{b}.s3.amazonaws.com"),
        None => "s3.amazonaws.com".to_owned(),
    };
    let mut url = format!("https://{host}").into_bytes();
    if target.first() != Some(&b'/') {
        url.push(b'/');
    }
    url.extend_from_slice(&target);
    let Ok(uri) = Uri::try_from(url) else { return };

    let mut headers = HeaderMap::new();
    for line in lines {
        let Some(colon) = line.iter().position(|&b| b == b':') else {
            continue;
        };
        let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(&line[..colon]),
            HeaderValue::from_bytes(&line[colon + 1..]),
        ) else {
            continue;
        };
        headers.append(name, value);
    }
    for name in headers.keys() {
        assert_eq!(name.as_str(), name.as_str().to_ascii_lowercase());
    }

    // The string to sign.
    let date = first_visible(&headers, "date");
    let expected = expected_string(&method, &uri, &headers, &date, bucket);
    let sts = string_to_sign_v2(&method, &uri, &headers, &date, bucket);
    let again = string_to_sign_v2(&method, &uri, &headers, &date, bucket);
    match (&sts, &again) {
        (Ok(a), Ok(b)) => assert_eq!(a, b),
        (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string()),
        _ => panic!("not deterministic"),
    }
    match (&sts, &expected) {
        (Ok(sts), Some(expected)) => {
            assert_eq!(sts, expected);
            let amz = headers.keys().filter(|n| n.as_str().starts_with("x-amz-")).count();
            let start = format!("{}{}", bucket.map_or(String::new(), |b| format!("/{b}")), uri.path());
            let plain = !uri.query().unwrap_or("").contains('%');
            check_layout(sts, &method, &date, amz, &start, plain);
        }
        (Err(e), None) => assert_eq!(e.kind(), ErrorKind::InvalidArgument),
        (Ok(sts), None) => panic!("signed an x-amz value that is not visible ASCII: {sts:?}"),
        (Err(e), Some(expected)) => panic!("refused {expected:?}: {e:?}"),
    }

    // Header signing.
    let time = SystemTime::UNIX_EPOCH + Duration::from_secs(1_175_030_202);
    let mut signed = headers.clone();
    let result = sign_v2(&method, &uri, &mut signed, &creds, time, bucket);
    let mut signed_again = headers.clone();
    let result_again = sign_v2(&method, &uri, &mut signed_again, &creds, time, bucket);
    assert_eq!(result.is_ok(), result_again.is_ok());
    assert_eq!(signed, signed_again);
    match result {
        Ok(()) => {
            if headers.contains_key("date") {
                assert_eq!(
                    signed.get_all("date").iter().count(),
                    headers.get_all("date").iter().count()
                );
            } else {
                assert_eq!(signed["date"], "Tue, 27 Mar 2007 21:16:42 GMT");
            }
            if creds.session_token().is_some() {
                assert_eq!(
                    signed.get_all("x-amz-security-token").iter().collect::<Vec<_>>(),
                    [TOKEN]
                );
            }
            let date = first_visible(&signed, "date");
            let mut unsigned = signed.clone();
            unsigned.remove("authorization");
            let sts = expected_string(&method, &uri, &unsigned, &date, bucket).expect("signed");
            let auth = signed["authorization"].to_str().expect("ASCII");
            assert_eq!(auth, format!("AWS {ACCESS_KEY}:{}", hmac_sha1_base64(&sts)));
        }
        Err(e) => {
            assert!(expected.is_none() || creds.session_token().is_some(), "{e:?}");
            assert_eq!(e.kind(), ErrorKind::InvalidArgument);
        }
    }

    // Presigning.
    let presigned = presign_v2(&method, &uri, &headers, &creds, EXPIRES, bucket);
    let presigned_again = presign_v2(&method, &uri, &headers, &creds, EXPIRES, bucket);
    match (presigned, presigned_again) {
        (Ok(url), Ok(again)) => {
            assert_eq!(url, again);
            let mut with_token = headers.clone();
            if creds.session_token().is_some() {
                with_token.insert("x-amz-security-token", HeaderValue::from_static(TOKEN));
            }
            let sts = expected_string(&method, &uri, &with_token, &EXPIRES.to_string(), bucket).expect("presigned");
            let base = uri.to_string();
            let tail = url
                .strip_prefix(base.as_str())
                .unwrap_or_else(|| panic!("{url:?} after {base:?}"));
            let sep = if uri.query().is_some() { '&' } else { '?' };
            let tail = tail.strip_prefix(sep).unwrap_or_else(|| panic!("{tail:?}"));
            let parts: Vec<&str> = tail.split('&').collect();
            assert_eq!(
                parts.len(),
                3 + usize::from(creds.session_token().is_some()),
                "{tail:?}"
            );
            assert_eq!(parts[0], format!("AWSAccessKeyId={ACCESS_KEY}"));
            let signature = parts[1].strip_prefix("Signature=").expect("Signature=");
            let signature = String::from_utf8(percent_decode(signature).expect("escapes")).expect("ASCII");
            assert_eq!(signature, hmac_sha1_base64(&sts));
            let raw = base64::engine::general_purpose::STANDARD
                .decode(&signature)
                .expect("base64");
            assert_eq!(raw.len(), 20);
            // botocore's order: the token (when there is one) before `Expires`.
            if creds.session_token().is_some() {
                let token = parts[2].strip_prefix("x-amz-security-token=").expect("token");
                assert_eq!(percent_decode(token).as_deref(), Some(TOKEN.as_bytes()));
            }
            assert_eq!(parts[parts.len() - 1], format!("Expires={EXPIRES}"));
            let parsed: Uri = url
                .parse()
                .unwrap_or_else(|e| panic!("{url:?} is not an http::Uri: {e}"));
            let query = parsed.query().expect("a query");
            assert!(query.contains("AWSAccessKeyId=") && query.contains("Signature=") && query.contains("Expires="));
        }
        (Err(a), Err(b)) => {
            assert_eq!(a.to_string(), b.to_string());
            assert!(expected.is_none(), "{a:?}");
            assert_eq!(a.kind(), ErrorKind::InvalidArgument);
        }
        _ => panic!("presign_v2 not deterministic"),
    }
});
