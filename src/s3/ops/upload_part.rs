//! UploadPart: one part of a multipart upload.

use bytes::Bytes;
use http::{HeaderMap, Method};

use crate::config::{ObjectParameters, ParamUse};
use crate::error::{Error, ErrorKind, Result};
use crate::http::Body;
use crate::s3::checksum;
use crate::s3::params;
use crate::s3::request::OpRequest;

/// The largest part number S3 accepts.
pub const MAX_PART_NUMBER: u32 = 10_000;

/// What S3 said of an uploaded part.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadedPart {
    /// Part number, 1 to 10,000.
    pub part_number: u32,
    /// ETag of the part, with quotes.
    pub etag: String,
    /// CRC32 checksum sent with the part, when the checksum policy asks for one.
    pub checksum_crc32: Option<String>,
}

/// The request. `sse` supplies SSE-C headers (S3 requires them on every part); with
/// `crc32`, the part carries its checksum.
pub fn request(
    key: &str,
    upload_id: &str,
    part_number: u32,
    data: Bytes,
    sse: &ObjectParameters,
    crc32: bool,
) -> Result<OpRequest> {
    if !(1..=MAX_PART_NUMBER).contains(&part_number) {
        return Err(Error::new(
            ErrorKind::InvalidArgument,
            format!("part number {part_number} is not within 1..=10000"),
        ));
    }
    let mut req = OpRequest::object("UploadPart", Method::PUT, key)?
        .query("partNumber", part_number.to_string())
        .query("uploadId", upload_id.to_owned());
    let mut sse_only = ObjectParameters::new();
    for name in [
        "SSECustomerAlgorithm",
        "SSECustomerKey",
        "SSECustomerKeyMD5",
        "RequestPayer",
        "ExpectedBucketOwner",
    ] {
        if let Some(v) = sse.get(name) {
            sse_only.set(name, v).expect("known parameter");
        }
    }
    params::apply(&sse_only, ParamUse::Read, &mut req.headers)?;
    if crc32 {
        req = req.header("x-amz-checksum-crc32", &checksum::crc32_base64(&data))?;
    }
    Ok(req.body(Body::Bytes(data)))
}

/// The reply.
pub fn parse(part_number: u32, headers: &HeaderMap, crc32_sent: Option<String>) -> Result<UploadedPart> {
    let etag = headers
        .get("etag")
        .and_then(|v| v.to_str().ok())
        .filter(|e| !e.is_empty())
        .ok_or_else(|| Error::new(ErrorKind::InvalidResponse, "UploadPart reply has no ETag"))?;
    Ok(UploadedPart {
        part_number,
        etag: etag.to_owned(),
        checksum_crc32: crc32_sent,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn part_numbers_are_bounded_and_checksum_optional() {
        let none = ObjectParameters::new();
        assert!(request("k", "u", 0, Bytes::new(), &none, false).is_err());
        assert!(request("k", "u", 10_001, Bytes::new(), &none, false).is_err());
        let r = request("k", "u", 3, Bytes::from_static(b"hello"), &none, true).unwrap();
        assert_eq!(
            r.query,
            vec![("partNumber", Some("3".into())), ("uploadId", Some("u".into()))]
        );
        assert_eq!(r.headers["x-amz-checksum-crc32"], "NhCmhg==");
        assert!(parse(1, &HeaderMap::new(), None).is_err());
    }
}
