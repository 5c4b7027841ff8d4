//! CreateMultipartUpload: starts an upload in parts and names it.

use http::Method;

use crate::config::{ChecksumAlgorithm, ObjectParameters, ParamUse};
use crate::error::Result;
use crate::s3::params;
use crate::s3::request::OpRequest;
use crate::s3::xml::{ErrorFields, missing, service_error, set_once, unexpected_root, walk};

/// The reply of CreateMultipartUpload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InitiateMultipartUpload {
    /// The bucket, as the server echoed it.
    pub bucket: Option<String>,
    /// The key, as the server echoed it.
    pub key: Option<String>,
    /// The upload id that every later part, complete and abort request names; never empty.
    pub upload_id: String,
}

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
    Ok(parse_initiate_multipart(body)?.upload_id)
}

/// Parses the reply of CreateMultipartUpload (root `InitiateMultipartUploadResult`).
///
/// `UploadId` is required and must not be empty. An `<Error>` document is returned as a
/// service error with status 200.
pub fn parse_initiate_multipart(xml: &[u8]) -> Result<InitiateMultipartUpload> {
    let (mut bucket, mut key, mut upload_id) = (None, None, None);
    let mut error = ErrorFields::default();
    let root = walk(xml, |path, text| {
        match path {
            [b"Error", field] => error.field(field, text)?,
            [_, b"Bucket"] => set_once(&mut bucket, text.to_owned())?,
            [_, b"Key"] => set_once(&mut key, text.to_owned())?,
            [_, b"UploadId"] => set_once(&mut upload_id, text.to_owned())?,
            _ => {}
        }
        Ok(())
    })?;
    match root {
        b"Error" => return Err(service_error(error.finish()?)),
        b"InitiateMultipartUploadResult" => {}
        _ if upload_id.is_some() => {}
        other => return Err(unexpected_root(other, "InitiateMultipartUploadResult")),
    }
    let upload_id = upload_id
        .filter(|id| !id.is_empty())
        .ok_or_else(|| missing("UploadId"))?;
    Ok(InitiateMultipartUpload { bucket, key, upload_id })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::s3::xml::tests::assert_invalid;

    #[test]
    fn initiate_multipart_upload() {
        let xml = br#"<?xml version="1.0" encoding="UTF-8"?>
<InitiateMultipartUploadResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Bucket>example-bucket</Bucket>
  <Key>example-object</Key>
  <UploadId>VXBsb2FkIElEIGZvciA2aWWpbmcncyBteS1tb3ZpZS5tMnRzIHVwbG9hZA</UploadId>
</InitiateMultipartUploadResult>"#;
        assert_eq!(
            parse_initiate_multipart(xml).unwrap(),
            InitiateMultipartUpload {
                bucket: Some("example-bucket".into()),
                key: Some("example-object".into()),
                upload_id: "VXBsb2FkIElEIGZvciA2aWWpbmcncyBteS1tb3ZpZS5tMnRzIHVwbG9hZA".into(),
            }
        );
        assert_invalid(parse_initiate_multipart(
            b"<InitiateMultipartUploadResult><Bucket>b</Bucket></InitiateMultipartUploadResult>",
        ));
        assert_invalid(parse_initiate_multipart(
            b"<InitiateMultipartUploadResult><UploadId></UploadId></InitiateMultipartUploadResult>",
        ));
        assert_invalid(parse_initiate_multipart(b"<CompleteMultipartUploadResult/>"));
        let err =
            parse_initiate_multipart(b"<Error><Code>AccessDenied</Code><Message>no</Message></Error>").unwrap_err();
        assert!(err.is_access_denied());
    }
}
