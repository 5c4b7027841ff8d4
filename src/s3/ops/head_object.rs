//! HeadObject: an object's size, type and metadata, without its body.

use http::{HeaderMap, Method};

use crate::config::{ObjectParameters, ParamUse};
use crate::error::Result;
use crate::s3::params::{self, ObjectHead};
use crate::s3::request::OpRequest;

/// The request; `params` supplies read parameters (SSE-C, VersionId, ...); with
/// `checksum_mode`, the reply states the object's stored checksum.
pub fn request(key: &str, params: &ObjectParameters, checksum_mode: bool) -> Result<OpRequest> {
    let mut req =
        OpRequest::object("HeadObject", Method::HEAD, key)?.query_opt("versionId", params::version_id(params));
    params::apply(params, ParamUse::Read, &mut req.headers)?;
    if checksum_mode {
        req = req.header("x-amz-checksum-mode", "ENABLED")?;
    }
    Ok(req)
}

/// The reply.
pub fn parse(headers: &HeaderMap) -> Result<ObjectHead> {
    ObjectHead::from_headers(headers)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_goes_in_the_query_and_sse_c_in_headers() {
        let p: ObjectParameters = r#"{"VersionId": "v 1", "SSECustomerAlgorithm": "AES256", "CacheControl": "x"}"#
            .parse()
            .unwrap();
        let r = request("k", &p, false).unwrap();
        assert_eq!(r.query, vec![("versionId", Some("v 1".to_string()))]);
        assert_eq!(r.headers["x-amz-server-side-encryption-customer-algorithm"], "AES256");
        assert!(!r.headers.contains_key("cache-control"));
        assert!(request("", &p, false).is_err());
        assert_eq!(
            request("k", &p, true).unwrap().headers["x-amz-checksum-mode"],
            "ENABLED"
        );
    }
}
