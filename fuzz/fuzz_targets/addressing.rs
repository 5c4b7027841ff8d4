//! Keys, query components and request targets.
//!
//! Input: byte 0 is flags (bits 0-1: style; bit 2: map the bucket's bytes onto bucket
//! characters; bit 3: https for AWS; bits 4-5: AWS region), byte 1 the bucket's length, then
//! the bucket, then the key (UTF-8, lossy).
//!
//! - `encode_key` escapes every byte but unreserved characters and `/`, in upper-case hex,
//!   nothing more, and decodes back to the key; `encode_query_component` likewise with `/`
//!   escaped too;
//! - `check_key` fails exactly for an empty key or one over 1024 bytes;
//! - for a bucket that the settings accept, every target URL (three endpoints, query or not)
//!   parses as an `http::Uri` whose authority, path (decoded) and query are what the
//!   addressing style says.
#![no_main]

use libfuzzer_sys::fuzz_target;
use storages_s3::ErrorKind;
use storages_s3::Settings;
use storages_s3::config::AddressingStyle;
use storages_s3::fuzzing::addressing::{Addressing, check_key, encode_key, encode_query, encode_query_component};
use storages_s3::fuzzing::config::Endpoint;
use storages_s3_fuzz::{assert_canonical_encoding, percent_decode};

const BUCKET_CHARS: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789.-_A";

fn bucket_passes_settings(bucket: &str) -> bool {
    match Settings::builder().no_globals().option("bucket_name", bucket).build() {
        Ok(s) => {
            assert_eq!(s.bucket(), bucket);
            true
        }
        Err(e) => {
            assert!(
                matches!(e.kind(), ErrorKind::InvalidBucketName | ErrorKind::InvalidSetting),
                "unexpected error for bucket {bucket:?}: {e:?}"
            );
            false
        }
    }
}

fn check_target(a: &Addressing, bucket: &str, key: &str, valid_bucket: bool) {
    let t = a.target(bucket, Some(key));
    let ep = &a.endpoint;
    let virtual_host = t.bucket_in_host.is_some();
    assert_eq!(virtual_host, a.is_virtual(bucket));
    if virtual_host {
        assert_eq!(t.bucket_in_host.as_deref(), Some(bucket));
        assert!(!ep.is_ip(), "virtual-hosted style on an IP endpoint: {t:?}");
        assert_ne!(a.style, AddressingStyle::Path);
        assert_eq!(t.authority, format!("{bucket}.{}", ep.authority()));
    } else {
        assert_eq!(t.authority, ep.authority());
    }
    let expected_path = if virtual_host {
        format!("{}/{key}", ep.path)
    } else {
        format!("{}/{bucket}/{key}", ep.path)
    };
    assert_eq!(t.scheme, ep.scheme());

    let query = encode_query(&[("list-type", Some("2")), ("prefix", Some(key)), ("uploads", None)]);
    for q in ["", query.as_str()] {
        let url = t.url(q);
        let parsed = url.parse::<http::Uri>();
        // A bucket the settings refuse never reaches a request; nor does a URL over
        // `http`'s length limit.
        if !valid_bucket || url.len() >= usize::from(u16::MAX) - 1 {
            continue;
        }
        let uri = parsed
            .unwrap_or_else(|e| panic!("target URL {url:?} is not an http::Uri ({e}); bucket {bucket:?}, key {key:?}"));
        assert_eq!(uri.scheme_str(), Some(t.scheme));
        assert_eq!(
            uri.authority().map(|a| a.as_str()),
            Some(t.authority.as_str()),
            "{url:?}"
        );
        let path = percent_decode(uri.path()).expect("a target path has only well-formed escapes");
        assert_eq!(path, expected_path.as_bytes(), "{url:?}");
        if q.is_empty() {
            assert_eq!(uri.query(), None, "{url:?}");
        } else {
            let got: Vec<&str> = uri.query().expect("query").split('&').collect();
            assert_eq!(got.len(), 3, "{url:?}");
            assert_eq!(got[0], "list-type=2");
            let prefix = got[1].strip_prefix("prefix=").expect("prefix=");
            assert_eq!(percent_decode(prefix).as_deref(), Some(key.as_bytes()), "{url:?}");
            assert_eq!(got[2], "uploads");
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let flags = data.first().copied().unwrap_or(0);
    let bucket_len = data.get(1).map_or(0, |n| usize::from(*n) % 70);
    let rest = data.get(2..).unwrap_or_default();
    let (bucket_bytes, key_bytes) = rest.split_at(bucket_len.min(rest.len()));
    let bucket = if flags & 4 != 0 {
        bucket_bytes
            .iter()
            .map(|b| char::from(BUCKET_CHARS[usize::from(*b) % BUCKET_CHARS.len()]))
            .collect()
    } else {
        String::from_utf8_lossy(bucket_bytes).into_owned()
    };
    let key = String::from_utf8_lossy(key_bytes);
    let key = key.as_ref();
    let style = match flags & 3 {
        1 => AddressingStyle::Virtual,
        2 => AddressingStyle::Path,
        _ => AddressingStyle::Auto,
    };

    // Encoding.
    assert_canonical_encoding(key, &encode_key(key), b"/");
    assert_canonical_encoding(key, &encode_query_component(key), b"");
    assert_canonical_encoding(&bucket, &encode_query_component(&bucket), b"");

    // Key checks.
    match check_key(key) {
        Ok(()) => assert!(
            !key.is_empty() && key.len() <= 1024,
            "check_key accepted {} bytes",
            key.len()
        ),
        Err(e) => {
            assert!(key.is_empty() || key.len() > 1024, "check_key refused {key:?}: {e}");
            assert_eq!(e.kind(), ErrorKind::InvalidKey);
        }
    }

    // Targets.
    let valid_bucket = bucket_passes_settings(&bucket);
    let region = ["us-east-1", "eu-west-1", "cn-north-1", "auto"][usize::from(flags >> 4) & 3];
    let endpoints = [
        Addressing::custom("http://127.0.0.1:9000".parse::<Endpoint>().unwrap(), style),
        Addressing::aws("us-east-1", true, style),
        Addressing::aws(region, flags & 8 != 0, style),
        Addressing::custom("https://s3.example.com/base".parse::<Endpoint>().unwrap(), style),
        Addressing::custom("http://[::1]:9000/".parse::<Endpoint>().unwrap(), style),
    ];
    for a in &endpoints {
        check_target(a, &bucket, key, valid_bucket);
    }
});
