//! CopyObject: a server-side copy, keeping or replacing the metadata.

use std::time::SystemTime;

use http::Method;

use crate::config::{ObjectParameters, ParamUse};
use crate::error::Result;
use crate::s3::addressing::{check_key, encode_key};
use crate::s3::params;
use crate::s3::request::OpRequest;
use crate::s3::xml::{ErrorBody, ErrorFields, parse_time, set_once, unexpected_root, walk};

/// What to do with the source's metadata.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetadataDirective {
    /// Keep the source's metadata and content headers.
    Copy,
    /// Use the parameters given with the copy.
    Replace,
}

/// The reply of a successful CopyObject (`CopyObjectResult`) or UploadPartCopy
/// (`CopyPartResult`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct CopyObjectResult {
    /// The entity tag of the copy (with its quotes, as sent).
    pub etag: Option<String>,
    /// When the copy was written.
    pub last_modified: Option<SystemTime>,
}

/// The request: copies `source_bucket/source_key` to `key`.
pub fn request(
    source_bucket: &str,
    source_key: &str,
    key: &str,
    directive: MetadataDirective,
    params: &ObjectParameters,
) -> Result<OpRequest> {
    check_key(source_key)?;
    let source = format!("/{source_bucket}/{}", encode_key(source_key));
    let mut req = OpRequest::object("CopyObject", Method::PUT, key)?.header("x-amz-copy-source", &source)?;
    req = req.header(
        "x-amz-metadata-directive",
        match directive {
            MetadataDirective::Copy => "COPY",
            MetadataDirective::Replace => "REPLACE",
        },
    )?;
    if directive == MetadataDirective::Replace {
        params::apply(params, ParamUse::Write, &mut req.headers)?;
    }
    Ok(req)
}

/// The reply: the new ETag. An error inside a 200 OK is an error.
pub fn parse(body: &[u8]) -> Result<Option<String>> {
    match parse_copy_object(body)? {
        Ok(r) => Ok(r.etag),
        Err(e) => Err(e.into_error(200)),
    }
}

/// Parses the reply of CopyObject (root `CopyObjectResult`) or UploadPartCopy (root
/// `CopyPartResult`).
///
/// S3 may answer 200 OK with an `<Error>` body (the copy failed after the status was sent):
/// that case is `Ok(Err(body))`.
pub fn parse_copy_object(xml: &[u8]) -> Result<Result<CopyObjectResult, ErrorBody>> {
    let mut copy = CopyObjectResult {
        etag: None,
        last_modified: None,
    };
    let mut error = ErrorFields::default();
    let root = walk(xml, |path, text| {
        match path {
            [b"Error", field] => error.field(field, text)?,
            [_, b"ETag"] => set_once(&mut copy.etag, text.to_owned())?,
            [_, b"LastModified"] => set_once(&mut copy.last_modified, parse_time(text, "LastModified")?)?,
            _ => {}
        }
        Ok(())
    })?;
    let defined = copy.etag.is_some() || copy.last_modified.is_some();
    match root {
        b"Error" => Ok(Err(error.finish()?)),
        b"CopyObjectResult" | b"CopyPartResult" => Ok(Ok(copy)),
        _ if defined => Ok(Ok(copy)),
        other => Err(unexpected_root(other, "CopyObjectResult")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::s3::xml::tests::{assert_invalid, at};

    #[test]
    fn copy_source_is_encoded() {
        let r = request(
            "b",
            "a dir/é+.txt",
            "dst",
            MetadataDirective::Copy,
            &ObjectParameters::new(),
        )
        .unwrap();
        assert_eq!(r.headers["x-amz-copy-source"], "/b/a%20dir/%C3%A9%2B.txt");
        assert_eq!(r.headers["x-amz-metadata-directive"], "COPY");
    }

    #[test]
    fn copy_object_result() {
        let xml = br#"<?xml version="1.0" encoding="UTF-8"?>
<CopyObjectResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><LastModified>2009-10-28T22:32:00.000Z</LastModified><ETag>"9b2cf535f27731c974343645a3985328"</ETag></CopyObjectResult>"#;
        let copy = parse_copy_object(xml).unwrap().unwrap();
        assert_eq!(copy.etag.as_deref(), Some("\"9b2cf535f27731c974343645a3985328\""));
        assert_eq!(copy.last_modified, Some(at(1_256_769_120, 0)));
        let part = parse_copy_object(b"<CopyPartResult><ETag>\"p\"</ETag></CopyPartResult>")
            .unwrap()
            .unwrap();
        assert_eq!(
            part,
            CopyObjectResult {
                etag: Some("\"p\"".into()),
                last_modified: None
            }
        );
        let body = parse_copy_object(b"\n <Error><Code>SlowDown</Code><Message>Reduce</Message></Error>").unwrap();
        assert_eq!(body.unwrap_err().code, "SlowDown");
        assert_invalid(parse_copy_object(
            b"<CopyObjectResult><LastModified>yesterday</LastModified></CopyObjectResult>",
        ));
    }
}
