//! PutObject: a whole object in one request.

use http::{HeaderMap, Method};

use crate::config::{ChecksumAlgorithm, ObjectParameters, ParamUse};
use crate::error::Result;
use crate::http::Body;
use crate::s3::params;
use crate::s3::request::OpRequest;

/// What S3 said of a stored object.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct PutObjectOutput {
    /// ETag of the new object.
    pub etag: Option<String>,
    /// Version id, on versioned buckets.
    pub version_id: Option<String>,
}

/// Conditions and checksums of an upload.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WriteOptions {
    /// Send `If-None-Match: *`: refuse (412) when the key already exists.
    pub if_none_match: bool,
    /// Send this checksum of the body (`x-amz-checksum-*`), computed before it is sent:
    /// bodies in memory only (a stream would have to be read twice).
    pub checksum: Option<ChecksumAlgorithm>,
}

/// The request: `params` are the upload parameters (content type, ACL, metadata, ...).
pub fn request(key: &str, body: Body, params: &ObjectParameters, options: WriteOptions) -> Result<OpRequest> {
    let mut req = OpRequest::object("PutObject", Method::PUT, key)?;
    params::apply(params, ParamUse::Write, &mut req.headers)?;
    if options.if_none_match {
        req = req.header("if-none-match", "*")?;
    }
    if let Some(algorithm) = options.checksum
        && let Some(bytes) = body.as_bytes()
    {
        req = req.header(algorithm.header(), &algorithm.value_of(bytes))?;
    }
    Ok(req.body(body))
}

/// The reply.
pub fn parse(headers: &HeaderMap) -> PutObjectOutput {
    let text = |n: &str| headers.get(n).and_then(|v| v.to_str().ok()).map(str::to_owned);
    PutObjectOutput {
        etag: text("etag"),
        version_id: text("x-amz-version-id"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conditional_and_checksummed_put() {
        let p: ObjectParameters = r#"{"ContentType": "text/plain", "Metadata": {"a": "b"}}"#.parse().unwrap();
        let r = request(
            "k",
            Body::from("hello"),
            &p,
            WriteOptions {
                if_none_match: true,
                checksum: Some(ChecksumAlgorithm::Crc32),
            },
        )
        .unwrap();
        assert_eq!(r.headers["if-none-match"], "*");
        assert_eq!(r.headers["x-amz-checksum-crc32"], "NhCmhg==");
        assert_eq!(r.headers["content-type"], "text/plain");
        assert_eq!(r.headers["x-amz-meta-a"], "b");
        let r = request("k", Body::from("hello"), &p, WriteOptions::default()).unwrap();
        assert!(!r.headers.contains_key("if-none-match") && !r.headers.contains_key("x-amz-checksum-crc32"));
    }
}
