//! DeleteObjects: up to 1,000 keys in one request, with the `Content-MD5` S3 requires.

use http::Method;

use crate::error::{Error, Result};
use crate::http::Body;
use crate::s3::checksum;
use crate::s3::request::OpRequest;
use crate::s3::xml::{self, DeleteObjectsResult};

/// Most keys one request may carry.
pub const MAX_KEYS: usize = 1000;

/// The request for one batch of at most 1,000 keys.
pub fn request(keys: &[&str]) -> Result<OpRequest> {
    if keys.is_empty() || keys.len() > MAX_KEYS {
        return Err(Error::new(
            crate::ErrorKind::InvalidArgument,
            "DeleteObjects takes 1 to 1000 keys",
        ));
    }
    for k in keys {
        crate::s3::addressing::check_key(k)?;
    }
    let body = xml::write_delete(keys, true)?;
    let md5 = checksum::content_md5(body.as_bytes());
    Ok(OpRequest::bucket("DeleteObjects", Method::POST)
        .query("delete", None)
        .header("content-md5", &md5)?
        .header("content-type", "application/xml")?
        .body(Body::from(body)))
}

/// The reply: keys deleted and keys that failed.
pub fn parse(body: &[u8]) -> Result<DeleteObjectsResult> {
    xml::parse_delete_objects(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batch_limits_and_md5() {
        assert!(request(&[]).is_err());
        let many: Vec<String> = (0..1001).map(|i| format!("k{i}")).collect();
        let refs: Vec<&str> = many.iter().map(String::as_str).collect();
        assert!(request(&refs).is_err());
        let r = request(&refs[..1000]).unwrap();
        let body = r.body.as_bytes().unwrap();
        assert_eq!(r.headers["content-md5"], checksum::content_md5(body).as_str());
        assert!(request(&["ok", ""]).is_err());
    }
}
