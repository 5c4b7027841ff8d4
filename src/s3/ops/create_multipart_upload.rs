//! CreateMultipartUpload: starts an upload in parts and names it.

use http::Method;

use crate::config::{ChecksumAlgorithm, ObjectParameters, ParamUse};
use crate::error::Result;
use crate::s3::params;
use crate::s3::request::OpRequest;
use crate::s3::xml;

/// The request: the upload parameters apply to the object the parts will form. With a
/// `checksum`, every part carries one, and the object stores one value for all its bytes
/// (`FULL_OBJECT`) where the algorithm allows, else one per part (`COMPOSITE`).
pub fn request(key: &str, params: &ObjectParameters, checksum: Option<ChecksumAlgorithm>) -> Result<OpRequest> {
    let mut req = OpRequest::object("CreateMultipartUpload", Method::POST, key)?.query("uploads", None);
    params::apply(params, ParamUse::Write, &mut req.headers)?;
    if let Some(algorithm) = checksum {
        req = req
            .header("x-amz-checksum-algorithm", algorithm.name())?
            .header("x-amz-checksum-type", checksum_type(algorithm))?;
    }
    Ok(req)
}

/// `x-amz-checksum-type` of an upload with this algorithm.
pub(crate) fn checksum_type(algorithm: ChecksumAlgorithm) -> &'static str {
    if algorithm.full_object() {
        "FULL_OBJECT"
    } else {
        "COMPOSITE"
    }
}

/// The reply: the upload id.
pub fn parse(body: &[u8]) -> Result<String> {
    Ok(xml::parse_initiate_multipart(body)?.upload_id)
}
