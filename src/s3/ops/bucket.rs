//! CreateBucket and DeleteBucket, for tools and test beds.

use http::Method;

use crate::error::Result;
use crate::http::Body;
use crate::s3::request::OpRequest;

/// CreateBucket; outside us-east-1 the region goes in a `LocationConstraint`.
pub fn create(region: &str) -> Result<OpRequest> {
    let req = OpRequest::bucket("CreateBucket", Method::PUT);
    if region == "us-east-1" || region == "auto" {
        return Ok(req);
    }
    let body = format!(
        "<CreateBucketConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">\
         <LocationConstraint>{region}</LocationConstraint></CreateBucketConfiguration>"
    );
    Ok(req.header("content-type", "application/xml")?.body(Body::from(body)))
}

/// DeleteBucket (the bucket must be empty).
pub fn delete() -> OpRequest {
    OpRequest::bucket("DeleteBucket", Method::DELETE)
}
