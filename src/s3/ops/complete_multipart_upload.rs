//! CompleteMultipartUpload: joins the parts into the object.

use http::Method;

use crate::error::Result;
use crate::http::Body;
use crate::s3::ops::upload_part::UploadedPart;
use crate::s3::request::OpRequest;
use crate::s3::xml::{self, CompletedPart};

/// The request: `parts` in any order (they are sent sorted by number).
pub fn request(key: &str, upload_id: &str, parts: &[UploadedPart], if_none_match: bool) -> Result<OpRequest> {
    let mut sorted: Vec<&UploadedPart> = parts.iter().collect();
    sorted.sort_by_key(|p| p.part_number);
    let listed: Vec<CompletedPart<'_>> = sorted
        .iter()
        .map(|p| CompletedPart {
            part_number: p.part_number,
            etag: &p.etag,
            checksum_crc32: p.checksum_crc32.as_deref(),
        })
        .collect();
    let body = xml::write_complete_multipart(&listed);
    let mut req = OpRequest::object("CompleteMultipartUpload", Method::POST, key)?
        .query("uploadId", upload_id.to_owned())
        .header("content-type", "application/xml")?;
    if if_none_match {
        req = req.header("if-none-match", "*")?;
    }
    Ok(req.body(Body::from(body)))
}

/// The reply, which may be an error inside a 200 OK (S3 sends the status before it knows
/// the outcome).
pub fn parse(body: &[u8]) -> Result<Option<String>> {
    match xml::parse_complete_multipart(body)? {
        Ok(done) => Ok(done.etag),
        Err(e) => Err(e.into_error(200)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_are_sorted_and_errors_in_200_replies_surface() {
        let parts = [
            UploadedPart {
                part_number: 2,
                etag: "\"b\"".into(),
                checksum_crc32: None,
            },
            UploadedPart {
                part_number: 1,
                etag: "\"a\"".into(),
                checksum_crc32: None,
            },
        ];
        let r = request("k", "u", &parts, true).unwrap();
        let body = String::from_utf8(r.body.as_bytes().unwrap().to_vec()).unwrap();
        assert!(body.find("<PartNumber>1</PartNumber>").unwrap() < body.find("<PartNumber>2</PartNumber>").unwrap());
        assert_eq!(r.headers["if-none-match"], "*");
        let e = parse(b"<Error><Code>InternalError</Code><Message>We encountered an internal error.</Message></Error>")
            .unwrap_err();
        assert_eq!(e.code(), Some("InternalError"));
        assert_eq!(e.status(), Some(200));
    }
}
