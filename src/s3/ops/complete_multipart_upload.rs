//! CompleteMultipartUpload: joins the parts into the object.

use std::fmt::Write as _;

use http::Method;

use crate::config::ChecksumAlgorithm;
use crate::error::Result;
use crate::http::Body;
use crate::s3::checksum;
use crate::s3::ops::upload_part::UploadedPart;
use crate::s3::request::OpRequest;
use crate::s3::xml::{ErrorBody, ErrorFields, S3_XMLNS, push_escaped, set_once, unexpected_root, walk};

/// One part of a CompleteMultipartUpload request body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CompletedPart<'a> {
    /// The part number (1 to 10,000).
    pub part_number: u32,
    /// The part's entity tag, exactly as UploadPart returned it (quotes included).
    pub etag: &'a str,
    /// The part's checksum (base64), when the upload carries checksums.
    pub checksum: Option<(ChecksumAlgorithm, &'a str)>,
}

/// The reply of a successful CompleteMultipartUpload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompleteMultipartUpload {
    /// The object's URL.
    pub location: Option<String>,
    /// The bucket.
    pub bucket: Option<String>,
    /// The key.
    pub key: Option<String>,
    /// The entity tag of the assembled object (with its quotes, as sent).
    pub etag: Option<String>,
}

/// The request: `parts` in any order (they are sent sorted by number). When every part
/// carries a CRC of one algorithm, the whole object's is sent too (`FULL_OBJECT`),
/// combined from the parts' CRCs and lengths, so that the service checks the object it
/// assembles and stores one checksum that whole reads can verify.
pub fn request(key: &str, upload_id: &str, parts: &[UploadedPart], if_none_match: bool) -> Result<OpRequest> {
    let mut sorted: Vec<&UploadedPart> = parts.iter().collect();
    sorted.sort_by_key(|p| p.part_number);
    let listed: Vec<CompletedPart<'_>> = sorted
        .iter()
        .map(|p| CompletedPart {
            part_number: p.part_number,
            etag: &p.etag,
            checksum: p.checksum.as_ref().map(|(a, v)| (*a, v.as_str())),
        })
        .collect();
    let body = write_complete_multipart(&listed);
    let mut req = OpRequest::object("CompleteMultipartUpload", Method::POST, key)?
        .query("uploadId", upload_id.to_owned())
        .header("content-type", "application/xml")?;
    if let Some((algorithm, whole)) = whole_object_checksum(&sorted) {
        req = req
            .header(algorithm.header(), &whole)?
            .header("x-amz-checksum-type", "FULL_OBJECT")?;
    }
    if if_none_match {
        req = req.header("if-none-match", "*")?;
    }
    Ok(req.body(Body::from(body)))
}

/// Writes the body of a CompleteMultipartUpload request:
/// `<CompleteMultipartUpload xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Part><PartNumber>1</PartNumber><ETag>"…"</ETag>[<ChecksumCRC64NVME>…</ChecksumCRC64NVME>]</Part>…</CompleteMultipartUpload>`.
///
/// Parts are written in the order given; S3 wants them by ascending part number. Text is
/// XML-escaped (`&`, `<`, `>`, and `\r` as `&#13;`); ETags and checksums come from S3's own
/// headers, so they hold no character that XML cannot carry.
pub fn write_complete_multipart(parts: &[CompletedPart<'_>]) -> String {
    let mut out = String::with_capacity(96 + parts.len() * 112);
    out.push_str("<CompleteMultipartUpload xmlns=\"");
    out.push_str(S3_XMLNS);
    out.push_str("\">");
    for part in parts {
        // Writing to a String cannot fail.
        let _ = write!(out, "<Part><PartNumber>{}</PartNumber><ETag>", part.part_number);
        push_escaped(&mut out, part.etag);
        out.push_str("</ETag>");
        if let Some((algorithm, value)) = part.checksum {
            let _ = write!(out, "<{}>", algorithm.element());
            push_escaped(&mut out, value);
            let _ = write!(out, "</{}>", algorithm.element());
        }
        out.push_str("</Part>");
    }
    out.push_str("</CompleteMultipartUpload>");
    out
}

/// The whole object's CRC from its parts' (sorted by number), when every part has one of
/// the same algorithm and the algorithm combines.
fn whole_object_checksum(sorted: &[&UploadedPart]) -> Option<(ChecksumAlgorithm, String)> {
    let algorithm = sorted.first()?.checksum.as_ref()?.0;
    if !algorithm.full_object() {
        return None;
    }
    let mut joiner = checksum::Joiner::new(algorithm);
    for part in sorted {
        let (a, value) = part.checksum.as_ref()?;
        if *a != algorithm {
            return None;
        }
        joiner.push(value, part.size)?;
    }
    Some((algorithm, joiner.finish()?))
}

/// The reply, which may be an error inside a 200 OK (S3 sends the status before it knows
/// the outcome).
pub fn parse(body: &[u8]) -> Result<Option<String>> {
    match parse_complete_multipart(body)? {
        Ok(done) => Ok(done.etag),
        Err(e) => Err(e.into_error(200)),
    }
}

/// Parses the reply of CompleteMultipartUpload (root `CompleteMultipartUploadResult`).
///
/// S3 may answer 200 OK with an `<Error>` body (the assembly failed after the status was
/// sent): that case is `Ok(Err(body))`.
pub fn parse_complete_multipart(xml: &[u8]) -> Result<Result<CompleteMultipartUpload, ErrorBody>> {
    let mut done = CompleteMultipartUpload {
        location: None,
        bucket: None,
        key: None,
        etag: None,
    };
    let mut error = ErrorFields::default();
    let root = walk(xml, |path, text| {
        match path {
            [b"Error", field] => error.field(field, text)?,
            [_, b"Location"] => set_once(&mut done.location, text.to_owned())?,
            [_, b"Bucket"] => set_once(&mut done.bucket, text.to_owned())?,
            [_, b"Key"] => set_once(&mut done.key, text.to_owned())?,
            [_, b"ETag"] => set_once(&mut done.etag, text.to_owned())?,
            _ => {}
        }
        Ok(())
    })?;
    let defined = done.location.is_some() || done.bucket.is_some() || done.key.is_some() || done.etag.is_some();
    match root {
        b"Error" => Ok(Err(error.finish()?)),
        b"CompleteMultipartUploadResult" => Ok(Ok(done)),
        _ if defined => Ok(Ok(done)),
        other => Err(unexpected_root(other, "CompleteMultipartUploadResult")),
    }
}

/// The ETag S3 gives the object these parts complete: the MD5 of the parts' binary MD5s,
/// a dash and the part count. `None` when a part's ETag is not an MD5 (some services and
/// encryption modes), when the result cannot be predicted.
pub fn expected_etag(parts: &[UploadedPart]) -> Option<String> {
    use md5::Digest as _;
    let mut sorted: Vec<&UploadedPart> = parts.iter().collect();
    sorted.sort_by_key(|p| p.part_number);
    let mut digests = Vec::with_capacity(16 * parts.len());
    for part in sorted {
        let hex = part.etag.trim_matches('"');
        if hex.len() != 32 {
            return None;
        }
        digests.extend_from_slice(&hex::decode(hex).ok()?);
    }
    (!digests.is_empty()).then(|| format!("\"{}-{}\"", hex::encode(md5::Md5::digest(&digests)), parts.len()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::s3::xml::tests::assert_invalid;

    fn part(part_number: u32, etag: &str) -> UploadedPart {
        UploadedPart {
            part_number,
            etag: etag.into(),
            checksum: None,
            size: 0,
        }
    }

    #[test]
    fn expected_etag_is_the_md5_of_the_part_md5s() {
        use md5::Digest as _;
        let (a, b) = (md5::Md5::digest(b"first part"), md5::Md5::digest(b"second"));
        let parts = [
            part(2, &format!("\"{}\"", hex::encode(b))),
            part(1, &format!("\"{}\"", hex::encode(a))),
        ];
        let joined: Vec<u8> = a.iter().chain(b.iter()).copied().collect();
        let want = format!("\"{}-2\"", hex::encode(md5::Md5::digest(&joined)));
        assert_eq!(expected_etag(&parts).as_deref(), Some(want.as_str()));
        // Not MD5s (an opaque ETag), or no parts: nothing to predict.
        assert_eq!(expected_etag(&[part(1, "\"opaque-etag\"")]), None);
        assert_eq!(expected_etag(&[part(1, "\"zz000000000000000000000000000000\"")]), None);
        assert_eq!(expected_etag(&[]), None);
    }

    #[test]
    fn parts_are_sorted_and_errors_in_200_replies_surface() {
        let parts = [
            UploadedPart {
                part_number: 2,
                etag: "\"b\"".into(),
                checksum: None,
                size: 0,
            },
            UploadedPart {
                part_number: 1,
                etag: "\"a\"".into(),
                checksum: None,
                size: 0,
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

    #[test]
    fn the_whole_objects_crc_is_joined_from_the_parts() {
        let data: Vec<u8> = (0..25_000u32).map(|i| (i * 7 % 251) as u8).collect();
        let parts_of = |algorithm: ChecksumAlgorithm| -> Vec<UploadedPart> {
            data.chunks(10_000)
                .enumerate()
                .map(|(i, piece)| UploadedPart {
                    part_number: i as u32 + 1,
                    etag: format!("\"{i}\""),
                    checksum: Some((algorithm, algorithm.value_of(piece))),
                    size: piece.len() as u64,
                })
                .rev()
                .collect()
        };
        for algorithm in [
            ChecksumAlgorithm::Crc64Nvme,
            ChecksumAlgorithm::Crc32c,
            ChecksumAlgorithm::Crc32,
        ] {
            let r = request("k", "u", &parts_of(algorithm), false).unwrap();
            assert_eq!(r.headers[algorithm.header()], algorithm.value_of(&data).as_str());
            assert_eq!(r.headers["x-amz-checksum-type"], "FULL_OBJECT");
            let body = String::from_utf8(r.body.as_bytes().unwrap().to_vec()).unwrap();
            assert_eq!(body.matches(algorithm.element()).count(), 6, "{body}");
        }
        // The hashes are stored per part: no whole-object value.
        let r = request("k", "u", &parts_of(ChecksumAlgorithm::Sha256), false).unwrap();
        assert!(!r.headers.contains_key("x-amz-checksum-type"));
        assert!(!r.headers.contains_key("x-amz-checksum-sha256"));
        // A part without a checksum, or of another algorithm: none either.
        let mut mixed = parts_of(ChecksumAlgorithm::Crc64Nvme);
        mixed[0].checksum = None;
        assert!(
            !request("k", "u", &mixed, false)
                .unwrap()
                .headers
                .contains_key("x-amz-checksum-type")
        );
    }

    #[test]
    fn complete_multipart_upload_success_and_error_in_200() {
        let xml = br#"<?xml version="1.0" encoding="UTF-8"?>
<CompleteMultipartUploadResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Location>http://Example-Bucket.s3.region.amazonaws.com/Example-Object</Location>
  <Bucket>Example-Bucket</Bucket>
  <Key>Example-Object</Key>
  <ETag>"3858f62230ac3c915f300c664312c11f-9"</ETag>
</CompleteMultipartUploadResult>"#;
        assert_eq!(
            parse_complete_multipart(xml).unwrap(),
            Ok(CompleteMultipartUpload {
                location: Some("http://Example-Bucket.s3.region.amazonaws.com/Example-Object".into()),
                bucket: Some("Example-Bucket".into()),
                key: Some("Example-Object".into()),
                etag: Some("\"3858f62230ac3c915f300c664312c11f-9\"".into()),
            })
        );
        // S3 sends the 200 status first, keeps the connection alive with whitespace, then fails.
        let xml = b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\n          \n\
                    <Error><Code>InternalError</Code><Message>We encountered an internal error. Please try again.</Message>\
                    <RequestId>656c76696e6727732072657175657374</RequestId>\
                    <HostId>Uuag1LuByRx9e6j5Onimru9pO4ZVKnJ2Qz7/C1NPcfTWAtRPfTaOFg==</HostId></Error>";
        let body = parse_complete_multipart(xml).unwrap().unwrap_err();
        assert_eq!(body.code, "InternalError");
        assert_eq!(body.message, "We encountered an internal error. Please try again.");
        assert_eq!(body.request_id.as_deref(), Some("656c76696e6727732072657175657374"));
        // The keep-alive whitespace alone (the connection broke) is a truncated reply.
        assert_invalid(parse_complete_multipart(
            b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\n   \n",
        ));
        assert_invalid(parse_complete_multipart(
            b"<Error><Code>InternalError</Code><Message>We enc",
        ));
        assert_invalid(parse_complete_multipart(b"<InitiateMultipartUploadResult/>"));
    }

    #[test]
    fn write_complete_multipart_output_and_round_trip() {
        let parts = [
            CompletedPart {
                part_number: 1,
                etag: "\"a54357aff0632cce46d942af68356b38\"",
                checksum: None,
            },
            CompletedPart {
                part_number: 2,
                etag: "\"0c78aef83f66abc1fa1e8477f296d394\"",
                checksum: Some((ChecksumAlgorithm::Crc32, "AAAAAA==")),
            },
            CompletedPart {
                part_number: 10_000,
                etag: "we<ird&",
                checksum: None,
            },
        ];
        let body = write_complete_multipart(&parts);
        assert_eq!(
            body,
            "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">\
             <Part><PartNumber>1</PartNumber><ETag>\"a54357aff0632cce46d942af68356b38\"</ETag></Part>\
             <Part><PartNumber>2</PartNumber><ETag>\"0c78aef83f66abc1fa1e8477f296d394\"</ETag>\
             <ChecksumCRC32>AAAAAA==</ChecksumCRC32></Part>\
             <Part><PartNumber>10000</PartNumber><ETag>we&lt;ird&amp;</ETag></Part></CompleteMultipartUpload>"
        );
        let mut read = Vec::new();
        let (mut number, mut etag, mut crc) = (None, None, None);
        walk(body.as_bytes(), |path, text| {
            match path {
                [b"CompleteMultipartUpload", b"Part", b"PartNumber"] => number = Some(text.parse::<u32>().unwrap()),
                [b"CompleteMultipartUpload", b"Part", b"ETag"] => etag = Some(text.to_owned()),
                [b"CompleteMultipartUpload", b"Part", b"ChecksumCRC32"] => crc = Some(text.to_owned()),
                [b"CompleteMultipartUpload", b"Part"] => read.push((number.take(), etag.take(), crc.take())),
                _ => {}
            }
            Ok(())
        })
        .unwrap();
        let expected: Vec<_> = parts
            .iter()
            .map(|p| {
                (
                    Some(p.part_number),
                    Some(p.etag.to_owned()),
                    p.checksum.map(|(_, v)| v.to_owned()),
                )
            })
            .collect();
        assert_eq!(read, expected);
        assert_eq!(
            write_complete_multipart(&[]),
            "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"></CompleteMultipartUpload>"
        );
    }
}
