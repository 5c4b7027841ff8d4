//! DeleteObjects: up to 1,000 keys in one request, with the `Content-MD5` S3 requires.

use http::Method;

use crate::error::{Error, ErrorKind, Result};
use crate::http::Body;
use crate::s3::checksum;
use crate::s3::request::OpRequest;
use crate::s3::xml::{
    ErrorFields, S3_XMLNS, is_xml10_char, missing, push_escaped, service_error, set_once, unexpected_root, walk,
};

/// Most keys one request may carry.
pub const MAX_KEYS: usize = 1000;

/// An object that DeleteObjects removed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct DeletedObject {
    /// The key.
    pub key: String,
    /// The version removed, in a versioned bucket.
    pub version_id: Option<String>,
}

/// An object that DeleteObjects could not remove.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct DeleteError {
    /// The key.
    pub key: String,
    /// The S3 error code (`AccessDenied`, `InternalError`, ...); never empty.
    pub code: String,
    /// The message (empty when the server sent none).
    pub message: String,
    /// The version concerned, in a versioned bucket.
    pub version_id: Option<String>,
}

/// The reply of DeleteObjects.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct DeleteObjectsResult {
    /// Objects removed (absent in quiet mode).
    pub deleted: Vec<DeletedObject>,
    /// Objects that could not be removed.
    pub errors: Vec<DeleteError>,
}

/// The request for one batch of at most 1,000 keys.
pub fn request(keys: &[&str]) -> Result<OpRequest> {
    if keys.is_empty() || keys.len() > MAX_KEYS {
        return Err(Error::new(
            crate::ErrorKind::InvalidArgument,
            "DeleteObjects takes 1 to 1000 keys",
        ));
    }
    for k in keys {
        crate::s3::addressing::check_key(k)?;
    }
    let body = write_delete(keys, true)?;
    let md5 = checksum::content_md5(body.as_bytes());
    Ok(OpRequest::bucket("DeleteObjects", Method::POST)
        .query("delete", None)
        .header("content-md5", &md5)?
        .header("content-type", "application/xml")?
        .body(Body::from(body)))
}

/// Writes the body of a DeleteObjects request:
/// `<Delete xmlns="http://s3.amazonaws.com/doc/2006-03-01/">[<Quiet>true</Quiet>]<Object><Key>…</Key></Object>…</Delete>`.
///
/// Keys are XML-escaped, with `\r` written as `&#13;` so that it survives the XML
/// end-of-line normalisation. XML 1.0 cannot carry most control characters even escaped: a key
/// holding a character outside `#x9 | #xA | #xD | [#x20-#xD7FF] | [#xE000-#xFFFD] |
/// [#x10000-#x10FFFF]` is an [`ErrorKind::InvalidKey`] error (such an object can still be
/// deleted one at a time). S3 accepts 1 to 1000 keys per request; the caller batches.
pub fn write_delete(keys: &[&str], quiet: bool) -> Result<String> {
    let mut out = String::with_capacity(96 + keys.iter().map(|k| k.len() + 28).sum::<usize>());
    out.push_str("<Delete xmlns=\"");
    out.push_str(S3_XMLNS);
    out.push_str("\">");
    if quiet {
        out.push_str("<Quiet>true</Quiet>");
    }
    for key in keys {
        if let Some((at, c)) = key.char_indices().find(|&(_, c)| !is_xml10_char(c)) {
            return Err(Error::new(
                ErrorKind::InvalidKey,
                format!(
                    "key contains U+{:04X} at byte {at}, which XML 1.0 cannot carry: delete it on its own",
                    u32::from(c)
                ),
            ));
        }
        out.push_str("<Object><Key>");
        push_escaped(&mut out, key);
        out.push_str("</Key></Object>");
    }
    out.push_str("</Delete>");
    Ok(out)
}

/// The reply: keys deleted and keys that failed.
pub fn parse(body: &[u8]) -> Result<DeleteObjectsResult> {
    parse_delete_objects(body)
}

/// Parses the reply of DeleteObjects (root `DeleteResult`).
///
/// Every `Deleted` needs a `Key`; every `Error` entry a `Key` and a `Code`. An `<Error>`
/// document (a 200 reply whose whole request failed) is returned as a service error with
/// status 200.
pub fn parse_delete_objects(xml: &[u8]) -> Result<DeleteObjectsResult> {
    let mut result = DeleteObjectsResult::default();
    let (mut key, mut version_id, mut code, mut message) = (None, None, None, None);
    let mut error = ErrorFields::default();
    let root = walk(xml, |path, text| {
        match path {
            [b"Error", field] => error.field(field, text)?,
            [_, b"Deleted" | b"Error", b"Key"] => set_once(&mut key, text.to_owned())?,
            [_, b"Deleted" | b"Error", b"VersionId"] => set_once(&mut version_id, text.to_owned())?,
            [_, b"Error", b"Code"] => set_once(&mut code, text.to_owned())?,
            [_, b"Error", b"Message"] => set_once(&mut message, text.to_owned())?,
            [_, b"Deleted"] => {
                // A `Deleted` entry has no Code or Message: any seen belong to nothing.
                (code, message) = (None, None);
                result.deleted.push(DeletedObject {
                    key: key.take().ok_or_else(|| missing("Deleted/Key"))?,
                    version_id: version_id.take(),
                });
            }
            [_, b"Error"] => result.errors.push(DeleteError {
                key: key.take().ok_or_else(|| missing("Error/Key"))?,
                code: code
                    .take()
                    .filter(|c| !c.is_empty())
                    .ok_or_else(|| missing("Error/Code"))?,
                message: message.take().unwrap_or_default(),
                version_id: version_id.take(),
            }),
            _ => {}
        }
        Ok(())
    })?;
    let defined = !result.deleted.is_empty() || !result.errors.is_empty();
    match root {
        b"Error" => Err(service_error(error.finish()?)),
        b"DeleteResult" => Ok(result),
        _ if defined => Ok(result),
        other => Err(unexpected_root(other, "DeleteResult")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::s3::xml::tests::assert_invalid;

    /// The keys of a `<Delete>` body, read back through the walker (that is, quick-xml).
    fn delete_body_keys(body: &str) -> (Option<String>, Vec<String>) {
        let (mut quiet, mut keys) = (None, Vec::new());
        let root = walk(body.as_bytes(), |path, text| {
            match path {
                [b"Delete", b"Object", b"Key"] => keys.push(text.to_owned()),
                [b"Delete", b"Quiet"] => quiet = Some(text.to_owned()),
                _ => {}
            }
            Ok(())
        })
        .unwrap();
        assert_eq!(root, b"Delete");
        (quiet, keys)
    }

    #[test]
    fn batch_limits_and_md5() {
        assert!(request(&[]).is_err());
        let many: Vec<String> = (0..1001).map(|i| format!("k{i}")).collect();
        let refs: Vec<&str> = many.iter().map(String::as_str).collect();
        assert!(request(&refs).is_err());
        let r = request(&refs[..1000]).unwrap();
        let body = r.body.as_bytes().unwrap();
        assert_eq!(r.headers["content-md5"], checksum::content_md5(body).as_str());
        assert!(request(&["ok", ""]).is_err());
    }

    #[test]
    fn delete_objects_result() {
        let xml = br#"<?xml version="1.0" encoding="UTF-8"?>
<DeleteResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Deleted><Key>sample1.txt</Key></Deleted>
  <Deleted><Key>sample3.txt</Key><VersionId>v3</VersionId><DeleteMarker>true</DeleteMarker><DeleteMarkerVersionId>dm</DeleteMarkerVersionId></Deleted>
  <Error><Key>sample2.txt</Key><Code>AccessDenied</Code><Message>Access Denied</Message></Error>
  <Error><Key>a &amp; b</Key><VersionId>v9</VersionId><Code>InternalError</Code></Error>
</DeleteResult>"#;
        assert_eq!(
            parse_delete_objects(xml).unwrap(),
            DeleteObjectsResult {
                deleted: vec![
                    DeletedObject {
                        key: "sample1.txt".into(),
                        version_id: None
                    },
                    DeletedObject {
                        key: "sample3.txt".into(),
                        version_id: Some("v3".into())
                    },
                ],
                errors: vec![
                    DeleteError {
                        key: "sample2.txt".into(),
                        code: "AccessDenied".into(),
                        message: "Access Denied".into(),
                        version_id: None,
                    },
                    DeleteError {
                        key: "a & b".into(),
                        code: "InternalError".into(),
                        message: String::new(),
                        version_id: Some("v9".into()),
                    },
                ],
            }
        );
        // Quiet mode with nothing to report.
        assert_eq!(
            parse_delete_objects(b"<DeleteResult/>").unwrap(),
            DeleteObjectsResult::default()
        );
        assert_invalid(parse_delete_objects(
            b"<DeleteResult><Deleted><VersionId>v</VersionId></Deleted></DeleteResult>",
        ));
        assert_invalid(parse_delete_objects(
            b"<DeleteResult><Error><Key>k</Key></Error></DeleteResult>",
        ));
        assert_invalid(parse_delete_objects(
            b"<DeleteResult><Deleted><Key>a</Key><Key>b</Key></Deleted></DeleteResult>",
        ));
        // A whole-request failure inside a 200 reply.
        let err = parse_delete_objects(
            b"<Error><Code>InternalError</Code><Message>try again</Message><RequestId>RID</RequestId></Error>",
        )
        .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Service);
        assert_eq!(err.status(), Some(200));
        assert_eq!(err.code(), Some("InternalError"));
        assert_eq!(err.request_id(), Some("RID"));
        assert_eq!(err.service_error().unwrap().message, "try again");
    }

    #[test]
    fn write_delete_round_trips_awkward_keys() {
        let keys = [
            "plain.txt",
            "a<b>c",
            "x & y",
            "quote\"d'",
            "cr\rhere",
            "crlf\r\nand lf\n",
            "]]>",
            "\ttab and  spaces ",
            "&amp;",
            "émoji 😀 한글",
            "\u{FFFD}\u{E000}\u{10FFFF}",
        ];
        let body = write_delete(&keys, false).unwrap();
        assert!(body.starts_with("<Delete xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Object><Key>"));
        assert!(!body.contains('\r'), "a raw CR would be normalised away: {body:?}");
        let (quiet, parsed) = delete_body_keys(&body);
        assert_eq!(quiet, None);
        assert_eq!(parsed, keys);
    }

    #[test]
    fn write_delete_exact_output_and_quiet() {
        assert_eq!(
            write_delete(&["a.txt", "b/<c>.txt"], true).unwrap(),
            "<Delete xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Quiet>true</Quiet>\
             <Object><Key>a.txt</Key></Object><Object><Key>b/&lt;c&gt;.txt</Key></Object></Delete>"
        );
        let (quiet, keys) = delete_body_keys(&write_delete(&["k"], true).unwrap());
        assert_eq!(quiet.as_deref(), Some("true"));
        assert_eq!(keys, ["k"]);
    }

    #[test]
    fn write_delete_refuses_characters_xml_cannot_carry() {
        for key in ["a\u{1}b", "\u{0}", "x\u{1F}", "\u{FFFE}", "\u{FFFF}", "ok\u{B}"] {
            let err = write_delete(&["fine", key], false).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidKey, "{key:?}");
        }
        assert!(write_delete(&["tab\there", "nl\nhere", "\u{7F}\u{85}"], false).is_ok());
    }
}
