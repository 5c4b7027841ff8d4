//! HeadObject: an object's size, type and metadata, without its body.

use http::{HeaderMap, Method};

use crate::config::{ObjectParameters, ParamUse};
use crate::error::Result;
use crate::s3::params::{self, ObjectHead};
use crate::s3::request::OpRequest;

/// The request; `params` supplies read parameters (SSE-C, VersionId, ...).
pub fn request(key: &str, params: &ObjectParameters) -> Result<OpRequest> {
    let mut req =
        OpRequest::object("HeadObject", Method::HEAD, key)?.query_opt("versionId", params::version_id(params));
    params::apply(params, ParamUse::Read, &mut req.headers)?;
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
        let r = request("k", &p).unwrap();
        assert_eq!(r.query, vec![("versionId", Some("v 1".to_string()))]);
        assert_eq!(r.headers["x-amz-server-side-encryption-customer-algorithm"], "AES256");
        assert!(!r.headers.contains_key("cache-control"));
        assert!(request("", &p).is_err());
    }
}
