//! Object parameters (boto3 names) as HTTP headers, and object metadata read back from
//! reply headers.

use std::collections::BTreeMap;
use std::time::SystemTime;

use base64::Engine as _;
use http::{HeaderMap, HeaderName, HeaderValue};
use md5::Digest as _;

use crate::config::{OBJECT_PARAMETERS, ObjectParameters, ParamUse};
use crate::error::{Error, ErrorKind, Result};
use crate::s3::checksum::StoredChecksum;

fn invalid(name: &str, why: &str) -> Error {
    Error::new(ErrorKind::InvalidSetting, format!("object parameter {name}: {why}"))
}

fn value(name: &str, v: &str, sensitive: bool) -> Result<HeaderValue> {
    let mut hv = HeaderValue::from_str(v).map_err(|_| invalid(name, "not a valid HTTP header value"))?;
    if hv.to_str().is_err() {
        return Err(invalid(name, "must be visible ASCII (S3 signs headers as ASCII)"));
    }
    hv.set_sensitive(sensitive);
    Ok(hv)
}

/// Adds the headers of `params` that belong on requests of kind `usage` (uploads: `Write`;
/// HEAD/GET: `Read`). SSE-C keys are given raw, as boto3 takes them: they are sent in
/// base64 with their MD5, which is computed when not given.
pub fn apply(params: &ObjectParameters, usage: ParamUse, headers: &mut HeaderMap) -> Result<()> {
    for (name, v) in params.iter() {
        let Some((_, header, u)) = OBJECT_PARAMETERS.iter().find(|(n, _, _)| *n == name) else {
            continue;
        };
        let wanted = match usage {
            ParamUse::Write => matches!(u, ParamUse::Write | ParamUse::Both),
            ParamUse::Read => matches!(u, ParamUse::Read | ParamUse::Both),
            ParamUse::Both => true,
        };
        if !wanted || header.is_empty() {
            continue;
        }
        if name == "SSECustomerKey" {
            let b64 = base64::engine::general_purpose::STANDARD;
            headers.insert(HeaderName::from_static(header), value(name, &b64.encode(v), true)?);
            if !params.contains("SSECustomerKeyMD5") {
                let md5 = b64.encode(md5::Md5::digest(v.as_bytes()));
                headers.insert(
                    HeaderName::from_static("x-amz-server-side-encryption-customer-key-md5"),
                    value(name, &md5, false)?,
                );
            }
            continue;
        }
        headers.insert(HeaderName::from_static(header), value(name, v, false)?);
    }
    if matches!(usage, ParamUse::Write | ParamUse::Both) {
        for (k, v) in params.metadata() {
            let name = HeaderName::from_bytes(format!("x-amz-meta-{}", k.to_ascii_lowercase()).as_bytes())
                .map_err(|_| invalid("Metadata", &format!("key {k:?} is not a valid header name")))?;
            headers.insert(name, value("Metadata", v, false)?);
        }
    }
    Ok(())
}

/// The `VersionId` read parameter, which goes in the query rather than a header.
pub fn version_id(params: &ObjectParameters) -> Option<&str> {
    params.get("VersionId")
}

/// What HEAD and GET say about an object.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct ObjectHead {
    /// `Content-Length` of the reply: the object's size for HEAD and whole GETs, the
    /// range's for ranged GETs; `None` when the server did not state it (a chunked or
    /// close-delimited reply). A length not stated is unknown, never zero.
    pub content_length: Option<u64>,
    /// `Content-Type`.
    pub content_type: Option<String>,
    /// `Content-Encoding`.
    pub content_encoding: Option<String>,
    /// `Cache-Control`.
    pub cache_control: Option<String>,
    /// `Content-Disposition`.
    pub content_disposition: Option<String>,
    /// `Content-Language`.
    pub content_language: Option<String>,
    /// `Expires`, as sent.
    pub expires: Option<String>,
    /// `ETag`, with its quotes.
    pub etag: Option<String>,
    /// `Last-Modified`.
    pub last_modified: Option<SystemTime>,
    /// `x-amz-version-id`.
    pub version_id: Option<String>,
    /// `x-amz-storage-class` (absent for STANDARD).
    pub storage_class: Option<String>,
    /// `x-amz-server-side-encryption`.
    pub server_side_encryption: Option<String>,
    /// User metadata (`x-amz-meta-*`), keys in lower case without the prefix.
    pub metadata: BTreeMap<String, String>,
    /// The checksum the server stated for the object (`x-amz-checksum-*`, sent when asked
    /// with `x-amz-checksum-mode: ENABLED`).
    pub checksum: Option<StoredChecksum>,
}

fn text(headers: &HeaderMap, name: &str) -> Option<String> {
    headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_owned)
}

impl ObjectHead {
    /// Reads the object's headers from a reply.
    pub(crate) fn from_headers(headers: &HeaderMap) -> Result<ObjectHead> {
        // Several Content-Length headers that disagree leave the size unknown: refused,
        // as HTTP requires (hyper checks bodies, but a HEAD reply has none).
        let mut lengths = headers.get_all(http::header::CONTENT_LENGTH).iter();
        let content_length = match lengths.next() {
            Some(v) => {
                let n: u64 = v
                    .to_str()
                    .ok()
                    .and_then(|s| s.trim().parse().ok())
                    .ok_or_else(|| Error::new(ErrorKind::InvalidResponse, "Content-Length is not a number"))?;
                if lengths.any(|other| other.to_str().ok().and_then(|s| s.trim().parse().ok()) != Some(n)) {
                    return Err(Error::new(
                        ErrorKind::InvalidResponse,
                        "the reply has several Content-Length headers that disagree",
                    ));
                }
                Some(n)
            }
            None => None,
        };
        // A date S3 clients cannot read (before 1970, after 9999, or not a date) is left
        // out, as listings do, rather than failing the whole reply.
        let last_modified = text(headers, "last-modified").and_then(|s| httpdate::parse_http_date(&s).ok());
        let metadata = headers
            .iter()
            .filter_map(|(k, v)| {
                let key = k.as_str().strip_prefix("x-amz-meta-")?;
                Some((key.to_owned(), v.to_str().ok()?.to_owned()))
            })
            .collect();
        Ok(ObjectHead {
            content_length,
            content_type: text(headers, "content-type"),
            content_encoding: text(headers, "content-encoding"),
            cache_control: text(headers, "cache-control"),
            content_disposition: text(headers, "content-disposition"),
            content_language: text(headers, "content-language"),
            expires: text(headers, "expires"),
            etag: text(headers, "etag"),
            last_modified,
            version_id: text(headers, "x-amz-version-id"),
            storage_class: text(headers, "x-amz-storage-class"),
            server_side_encryption: text(headers, "x-amz-server-side-encryption"),
            metadata,
            checksum: StoredChecksum::from_headers(headers),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_parameters_become_headers() {
        let p: ObjectParameters =
            r#"{"CacheControl": "max-age=86400", "ACL": "public-read", "ContentDisposition": "attachment",
            "Metadata": {"Owner": "ana"}, "StorageClass": "STANDARD_IA", "ChecksumMode": "ENABLED"}"#
                .parse()
                .unwrap();
        let mut h = HeaderMap::new();
        apply(&p, ParamUse::Write, &mut h).unwrap();
        assert_eq!(h["cache-control"], "max-age=86400");
        assert_eq!(h["x-amz-acl"], "public-read");
        assert_eq!(h["x-amz-meta-owner"], "ana");
        assert_eq!(h["x-amz-storage-class"], "STANDARD_IA");
        assert!(!h.contains_key("x-amz-checksum-mode"));
        let mut r = HeaderMap::new();
        apply(&p, ParamUse::Read, &mut r).unwrap();
        assert_eq!(r.len(), 1);
        assert_eq!(r["x-amz-checksum-mode"], "ENABLED");
    }

    #[test]
    fn sse_c_key_is_sent_in_base64_with_its_md5() {
        let p: ObjectParameters =
            r#"{"SSECustomerAlgorithm": "AES256", "SSECustomerKey": "01234567890123456789012345678901"}"#
                .parse()
                .unwrap();
        let mut h = HeaderMap::new();
        apply(&p, ParamUse::Read, &mut h).unwrap();
        assert_eq!(
            h["x-amz-server-side-encryption-customer-key"],
            "MDEyMzQ1Njc4OTAxMjM0NTY3ODkwMTIzNDU2Nzg5MDE="
        );
        assert_eq!(
            h["x-amz-server-side-encryption-customer-key-md5"],
            "KYvwGXoFFJ42a2u2GDWhwQ=="
        );
        assert!(h["x-amz-server-side-encryption-customer-key"].is_sensitive());
    }

    #[test]
    fn non_ascii_metadata_is_refused() {
        let mut p = ObjectParameters::new();
        p.metadata_mut().insert("k".into(), "é".into());
        let e = apply(&p, ParamUse::Write, &mut HeaderMap::new()).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidSetting);
        let mut p = ObjectParameters::new();
        p.metadata_mut().insert("bad key".into(), "v".into());
        assert!(apply(&p, ParamUse::Write, &mut HeaderMap::new()).is_err());
    }

    #[test]
    fn head_is_read_from_headers() {
        let mut h = HeaderMap::new();
        h.insert("content-length", "42".parse().unwrap());
        h.insert("etag", "\"abc\"".parse().unwrap());
        h.insert("last-modified", "Wed, 21 Oct 2015 07:28:00 GMT".parse().unwrap());
        h.insert("x-amz-meta-owner", "ana".parse().unwrap());
        let head = ObjectHead::from_headers(&h).unwrap();
        assert_eq!(head.content_length, Some(42));
        assert_eq!(head.metadata["owner"], "ana");
        assert_eq!(
            head.last_modified.unwrap(),
            SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_445_412_480)
        );
        h.remove("content-length");
        assert_eq!(
            ObjectHead::from_headers(&h).unwrap().content_length,
            None,
            "not stated: unknown"
        );
        h.insert("content-length", "x".parse().unwrap());
        assert_eq!(
            ObjectHead::from_headers(&h).unwrap_err().kind(),
            ErrorKind::InvalidResponse
        );
    }
}
