//! DeleteObject. S3 answers 204 whether or not the key existed.

use http::Method;

use crate::error::Result;
use crate::s3::request::OpRequest;

/// The request.
pub fn request(key: &str) -> Result<OpRequest> {
    OpRequest::object("DeleteObject", Method::DELETE, key)
}
