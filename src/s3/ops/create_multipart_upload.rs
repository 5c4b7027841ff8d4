//! CreateMultipartUpload: starts an upload in parts and names it.

use http::Method;

use crate::config::{ObjectParameters, ParamUse};
use crate::error::Result;
use crate::s3::params;
use crate::s3::request::OpRequest;
use crate::s3::xml;

/// The request: the upload parameters apply to the object the parts will form.
pub fn request(key: &str, params: &ObjectParameters, crc32: bool) -> Result<OpRequest> {
    let mut req = OpRequest::object("CreateMultipartUpload", Method::POST, key)?.query("uploads", None);
    params::apply(params, ParamUse::Write, &mut req.headers)?;
    if crc32 {
        req = req.header("x-amz-checksum-algorithm", "CRC32")?;
    }
    Ok(req)
}

/// The reply: the upload id.
pub fn parse(body: &[u8]) -> Result<String> {
    Ok(xml::parse_initiate_multipart(body)?.upload_id)
}
