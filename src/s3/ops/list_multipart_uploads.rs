//! ListMultipartUploads: uploads started and neither completed nor aborted.

use http::Method;

use crate::error::Result;
use crate::s3::request::OpRequest;
use crate::s3::xml::{self, ListMultipartUploadsPage};

/// The request for one page.
pub fn request(prefix: Option<&str>, key_marker: Option<&str>, upload_id_marker: Option<&str>) -> OpRequest {
    OpRequest::bucket("ListMultipartUploads", Method::GET)
        .query("encoding-type", Some("url".to_owned()))
        .query_opt("key-marker", key_marker)
        .query_opt("prefix", prefix)
        .query_opt("upload-id-marker", upload_id_marker)
        .query("uploads", None)
}

/// The reply.
pub fn parse(body: &[u8]) -> Result<ListMultipartUploadsPage> {
    xml::parse_list_multipart_uploads(body)
}
