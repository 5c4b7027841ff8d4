//! AbortMultipartUpload: discards the parts of an unfinished upload.

use http::Method;

use crate::error::Result;
use crate::s3::request::OpRequest;

/// The request.
pub fn request(key: &str, upload_id: &str) -> Result<OpRequest> {
    Ok(OpRequest::object("AbortMultipartUpload", Method::DELETE, key)?.query("uploadId", upload_id.to_owned()))
}
