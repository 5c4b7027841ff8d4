//! CopyObject: a server-side copy, keeping or replacing the metadata.

use http::Method;

use crate::config::{ObjectParameters, ParamUse};
use crate::error::Result;
use crate::s3::addressing::{check_key, encode_key};
use crate::s3::params;
use crate::s3::request::OpRequest;
use crate::s3::xml;

/// What to do with the source's metadata.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetadataDirective {
    /// Keep the source's metadata and content headers.
    Copy,
    /// Use the parameters given with the copy.
    Replace,
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
    match xml::parse_copy_object(body)? {
        Ok(r) => Ok(r.etag),
        Err(e) => Err(e.into_error(200)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
