//! CompleteMultipartUpload: joins the parts into the object.

use http::Method;

use crate::config::ChecksumAlgorithm;
use crate::error::Result;
use crate::http::Body;
use crate::s3::checksum;
use crate::s3::ops::upload_part::UploadedPart;
use crate::s3::request::OpRequest;
use crate::s3::xml::{self, CompletedPart};

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
    let body = xml::write_complete_multipart(&listed);
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
    match xml::parse_complete_multipart(body)? {
        Ok(done) => Ok(done.etag),
        Err(e) => Err(e.into_error(200)),
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
}
