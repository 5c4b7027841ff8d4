//! `write_delete` and `write_complete_multipart`: what they write must be XML that an
//! independent reader (quick-xml) reads back to exactly the keys, ETags and checksums given
//! (escaping of `&`, `<`, `>`, `"` and `\r` included), and `write_delete` must refuse exactly the
//! keys holding a character XML 1.0 cannot carry.
//!
//! Input: the first byte is flags (bit 0: quiet; bit 1: checksums; bit 2: large part numbers),
//! the rest is UTF-8 (lossy) split into keys on `\n`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use storages_s3::ErrorKind;
use storages_s3::config::ChecksumAlgorithm;
use storages_s3::fuzzing::xml::{CompletedPart, write_complete_multipart, write_delete};
use storages_s3_fuzz::{assert_delete_body, is_xml10_char, walk};

const XMLNS: &str = "http://s3.amazonaws.com/doc/2006-03-01/";
const ALGORITHMS: [ChecksumAlgorithm; 5] = ChecksumAlgorithm::ALL;

fuzz_target!(|data: &[u8]| {
    let (flags, rest) = data.split_first().map_or((0, data), |(f, r)| (*f, r));
    let text = String::from_utf8_lossy(rest);
    let keys: Vec<&str> = text.split('\n').collect();
    let quiet = flags & 1 != 0;

    // DeleteObjects.
    let carriable = keys.iter().all(|k| k.chars().all(is_xml10_char));
    match write_delete(&keys, quiet) {
        Ok(body) => {
            assert!(carriable, "write_delete accepted a key XML 1.0 cannot carry: {keys:?}");
            assert!(!body.contains('\r'), "a raw CR would be normalised away: {body:?}");
            assert!(body.starts_with(&format!("<Delete xmlns=\"{XMLNS}\">")), "{body:?}");
            assert_delete_body(&body, &keys, quiet);
        }
        Err(e) => {
            assert!(!carriable, "write_delete refused carriable keys {keys:?}: {e}");
            assert_eq!(e.kind(), ErrorKind::InvalidKey, "{e:?}");
        }
    }

    // CompleteMultipartUpload, with the keys as ETags (and as checksums of every other part).
    let parts: Vec<CompletedPart<'_>> = keys
        .iter()
        .enumerate()
        .map(|(i, k)| CompletedPart {
            part_number: if flags & 4 != 0 {
                u32::MAX - i as u32
            } else {
                i as u32 + 1
            },
            etag: k,
            checksum: (flags & 2 != 0 && i % 2 == 0).then_some((ALGORITHMS[i % ALGORITHMS.len()], *k)),
        })
        .collect();
    let body = write_complete_multipart(&parts);
    assert!(!body.contains('\r'), "a raw CR would be normalised away: {body:?}");
    let (mut next, mut number, mut etag, mut crc) = (0usize, None, false, false);
    let root = walk(&body, |path, text| {
        let part = parts.get(next);
        match path {
            ["CompleteMultipartUpload", "Part", field] => {
                let part = part.unwrap_or_else(|| panic!("more parts than given in {body:?}"));
                match *field {
                    "PartNumber" => {
                        assert!(number.replace(text.parse::<u32>().expect("PartNumber")).is_none());
                        assert_eq!(number, Some(part.part_number), "part {next} of {body:?}");
                    }
                    "ETag" => {
                        assert!(!std::mem::replace(&mut etag, true), "two ETags in {body:?}");
                        assert_eq!(text, part.etag, "part {next} of {body:?}");
                    }
                    element if element.starts_with("Checksum") => {
                        assert!(!std::mem::replace(&mut crc, true), "two checksums in {body:?}");
                        let (algorithm, value) = part.checksum.expect("a checksum was given");
                        assert_eq!(
                            element,
                            format!("Checksum{}", algorithm.name()),
                            "part {next} of {body:?}"
                        );
                        assert_eq!(text, value, "part {next} of {body:?}");
                    }
                    other => panic!("unexpected element {other:?} in {body:?}"),
                }
            }
            ["CompleteMultipartUpload", "Part"] => {
                let part = part.unwrap_or_else(|| panic!("more parts than given in {body:?}"));
                assert!(
                    number.take().is_some() && std::mem::take(&mut etag),
                    "part {next} incomplete in {body:?}"
                );
                assert_eq!(
                    std::mem::take(&mut crc),
                    part.checksum.is_some(),
                    "part {next} of {body:?}"
                );
                next += 1;
            }
            ["CompleteMultipartUpload"] => {}
            other => panic!("unexpected element {other:?} in {body:?}"),
        }
    })
    .unwrap_or_else(|e| panic!("write_complete_multipart wrote bad XML ({e}): {body:?}"));
    assert_eq!(root, "CompleteMultipartUpload");
    assert_eq!(next, parts.len(), "parts missing from {body:?}");
});
