//! UploadPart: one part of a multipart upload.

use bytes::Bytes;
use http::{HeaderMap, Method};

use crate::config::{ChecksumAlgorithm, ObjectParameters, ParamUse};
use crate::error::{Error, ErrorKind, Result};
use crate::http::Body;
use crate::s3::params;
use crate::s3::request::OpRequest;

/// The largest part number S3 accepts.
pub const MAX_PART_NUMBER: u32 = 10_000;

/// What S3 said of an uploaded part.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct UploadedPart {
    /// Part number, 1 to 10,000.
    pub part_number: u32,
    /// ETag of the part, with quotes.
    pub etag: String,
    /// The checksum sent with the part (base64), when the upload carries checksums.
    pub checksum: Option<(ChecksumAlgorithm, String)>,
    /// The part's length in bytes (whole-object checksums combine the parts' by length).
    pub size: u64,
}

/// The request. `sse` supplies SSE-C headers (S3 requires them on every part); `checksum`
/// is the part's (`x-amz-checksum-*`, base64), when the upload carries checksums.
pub fn request(
    key: &str,
    upload_id: &str,
    part_number: u32,
    data: Bytes,
    sse: &ObjectParameters,
    checksum: Option<(ChecksumAlgorithm, &str)>,
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
    if let Some((algorithm, value)) = checksum {
        req = req.header(algorithm.header(), value)?;
    }
    Ok(req.body(Body::from(data)))
}

/// The reply, with what was sent: the part's checksum and length.
pub fn parse(
    part_number: u32,
    headers: &HeaderMap,
    checksum: Option<(ChecksumAlgorithm, String)>,
    size: u64,
) -> Result<UploadedPart> {
    let etag = headers
        .get("etag")
        .and_then(|v| v.to_str().ok())
        .filter(|e| !e.is_empty())
        .ok_or_else(|| Error::new(ErrorKind::InvalidResponse, "UploadPart reply has no ETag"))?;
    Ok(UploadedPart {
        part_number,
        etag: etag.to_owned(),
        checksum,
        size,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn part_numbers_are_bounded_and_checksum_optional() {
        let none = ObjectParameters::new();
        assert!(request("k", "u", 0, Bytes::new(), &none, None).is_err());
        assert!(request("k", "u", 10_001, Bytes::new(), &none, None).is_err());
        let crc = ChecksumAlgorithm::Crc32.value_of(b"hello");
        let r = request(
            "k",
            "u",
            3,
            Bytes::from_static(b"hello"),
            &none,
            Some((ChecksumAlgorithm::Crc32, &crc)),
        )
        .unwrap();
        assert_eq!(
            r.query,
            vec![("partNumber", Some("3".into())), ("uploadId", Some("u".into()))]
        );
        assert_eq!(r.headers["x-amz-checksum-crc32"], "NhCmhg==");
        assert!(parse(1, &HeaderMap::new(), None, 5).is_err());
    }
}
