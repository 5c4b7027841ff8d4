//! ListMultipartUploads: uploads started and neither completed nor aborted.

use std::time::SystemTime;

use http::Method;

use crate::error::Result;
use crate::s3::request::OpRequest;
use crate::s3::xml::{
    Encoding, ErrorFields, maybe_url_decode, missing, parse_bool, parse_time, service_error, set_once, unexpected_root,
    walk,
};

/// One in-progress multipart upload of a ListMultipartUploads reply.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct MultipartUploadSummary {
    /// The key being uploaded, percent-decoded when the reply was url-encoded.
    pub key: String,
    /// The upload id.
    pub upload_id: String,
    /// When the upload was created.
    pub initiated: Option<SystemTime>,
}

/// One page of a ListMultipartUploads reply.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ListMultipartUploadsPage {
    /// The uploads of this page.
    pub uploads: Vec<MultipartUploadSummary>,
    /// The common prefixes when the request had a delimiter.
    pub common_prefixes: Vec<String>,
    /// Whether more results follow.
    pub is_truncated: bool,
    /// The key marker for the next page (`None` when absent or empty).
    pub next_key_marker: Option<String>,
    /// The upload id marker for the next page (`None` when absent or empty).
    pub next_upload_id_marker: Option<String>,
}

/// The request for one page.
pub fn request(prefix: Option<&str>, key_marker: Option<&str>, upload_id_marker: Option<&str>) -> OpRequest {
    OpRequest::bucket("ListMultipartUploads", Method::GET)
        .query("encoding-type", Some("url".to_owned()))
        .query_opt("key-marker", key_marker)
        .query_opt("prefix", prefix)
        .query_opt("upload-id-marker", upload_id_marker)
        .query("uploads", None)
}

/// The reply.
pub fn parse(body: &[u8]) -> Result<ListMultipartUploadsPage> {
    parse_list_multipart_uploads(body)
}

/// Parses the reply of ListMultipartUploads (root `ListMultipartUploadsResult`).
///
/// Honours `<EncodingType>url</EncodingType>` as [`parse_list_objects`] does, for
/// `Upload/Key`, `CommonPrefixes/Prefix` and `NextKeyMarker`. `Key` and `UploadId` are
/// required in every `Upload`, and `IsTruncated` in the reply.
///
/// [`parse_list_objects`]: crate::s3::ops::list_objects::parse_list_objects
pub fn parse_list_multipart_uploads(xml: &[u8]) -> Result<ListMultipartUploadsPage> {
    let mut page = ListMultipartUploadsPage::default();
    let mut is_truncated = None;
    let mut encoding = Encoding::default();
    let (mut next_key_marker, mut next_upload_id_marker) = (None, None);
    let (mut key, mut upload_id, mut initiated) = (None, None, None);
    let mut error = ErrorFields::default();
    let root = walk(xml, |path, text| {
        match path {
            [b"Error", field] => error.field(field, text)?,
            [_, b"Upload", b"Key"] => set_once(&mut key, maybe_url_decode(text, encoding.url, "Key")?)?,
            [_, b"Upload", b"UploadId"] => set_once(&mut upload_id, text.to_owned())?,
            [_, b"Upload", b"Initiated"] => set_once(&mut initiated, parse_time(text, "Initiated")?)?,
            [_, b"Upload"] => page.uploads.push(MultipartUploadSummary {
                key: key.take().ok_or_else(|| missing("Upload/Key"))?,
                upload_id: upload_id.take().ok_or_else(|| missing("Upload/UploadId"))?,
                initiated: initiated.take(),
            }),
            [_, b"CommonPrefixes", b"Prefix"] => {
                page.common_prefixes
                    .push(maybe_url_decode(text, encoding.url, "Prefix")?)
            }
            [_, b"IsTruncated"] => set_once(&mut is_truncated, parse_bool(text, "IsTruncated")?)?,
            [_, b"NextKeyMarker"] => set_once(
                &mut next_key_marker,
                maybe_url_decode(text, encoding.url, "NextKeyMarker")?,
            )?,
            [_, b"NextUploadIdMarker"] => set_once(&mut next_upload_id_marker, text.to_owned())?,
            [_, b"EncodingType"] => encoding.set(
                text,
                page.uploads.len(),
                page.common_prefixes.len(),
                next_key_marker.is_some(),
            )?,
            _ => {}
        }
        Ok(())
    })?;
    match root {
        b"Error" => return Err(service_error(error.finish()?)),
        b"ListMultipartUploadsResult" => {}
        _ if is_truncated.is_some() => {}
        other => return Err(unexpected_root(other, "ListMultipartUploadsResult")),
    }
    encoding.decode_earlier(
        page.uploads.iter_mut().map(|u| &mut u.key),
        &mut page.common_prefixes,
        next_key_marker.as_mut(),
        "NextKeyMarker",
    )?;
    page.is_truncated = is_truncated.ok_or_else(|| missing("IsTruncated"))?;
    page.next_key_marker = next_key_marker.filter(|m: &String| !m.is_empty());
    page.next_upload_id_marker = next_upload_id_marker.filter(|m: &String| !m.is_empty());
    Ok(page)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::s3::xml::tests::{assert_invalid, at};

    #[test]
    fn list_multipart_uploads() {
        let xml = br#"<?xml version="1.0" encoding="UTF-8"?>
<ListMultipartUploadsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Bucket>bucket</Bucket>
  <KeyMarker></KeyMarker>
  <UploadIdMarker></UploadIdMarker>
  <NextKeyMarker>my%20movie.m2ts</NextKeyMarker>
  <NextUploadIdMarker>YW55IGlkZWEgd2h5IGVsdmluZydzIHVwbG9hZCBmYWlsZWQ</NextUploadIdMarker>
  <EncodingType>url</EncodingType>
  <MaxUploads>3</MaxUploads>
  <IsTruncated>true</IsTruncated>
  <Upload>
    <Key>my-divisor</Key>
    <UploadId>XMgbGlrZSBlbHZpbmcncyBub3QgaGF2aW5nIG11Y2ggbHVjaw</UploadId>
    <Initiator><ID>arn:aws:iam::111122223333:user/user1-11111a31-17b5-4fb7-9df5-b111111f13de</ID><DisplayName>user1</DisplayName></Initiator>
    <Owner><ID>75aa57f09aa0c8caeab4f8c24e99d10f8e7faeebf76c078efc7c6caea54ba06a</ID><DisplayName>OwnerDisplayName</DisplayName></Owner>
    <StorageClass>REDUCED_REDUNDANCY</StorageClass>
    <Initiated>2010-11-10T20:48:33.000Z</Initiated>
  </Upload>
  <Upload>
    <Key>my%20movie.m2ts</Key>
    <UploadId>VXBsb2FkIElEIGZvciBlbHZpbmcncyBteS1tb3ZpZS5tMnRzIHVwbG9hZA</UploadId>
    <Initiated>2010-11-10T20:48:33.500Z</Initiated>
  </Upload>
  <CommonPrefixes><Prefix>photos%2B/</Prefix></CommonPrefixes>
</ListMultipartUploadsResult>"#;
        let page = parse_list_multipart_uploads(xml).unwrap();
        assert_eq!(
            page,
            ListMultipartUploadsPage {
                uploads: vec![
                    MultipartUploadSummary {
                        key: "my-divisor".into(),
                        upload_id: "XMgbGlrZSBlbHZpbmcncyBub3QgaGF2aW5nIG11Y2ggbHVjaw".into(),
                        initiated: Some(at(1_289_422_113, 0)),
                    },
                    MultipartUploadSummary {
                        key: "my movie.m2ts".into(),
                        upload_id: "VXBsb2FkIElEIGZvciBlbHZpbmcncyBteS1tb3ZpZS5tMnRzIHVwbG9hZA".into(),
                        initiated: Some(at(1_289_422_113, 500)),
                    },
                ],
                common_prefixes: vec!["photos+/".into()],
                is_truncated: true,
                next_key_marker: Some("my movie.m2ts".into()),
                next_upload_id_marker: Some("YW55IGlkZWEgd2h5IGVsdmluZydzIHVwbG9hZCBmYWlsZWQ".into()),
            }
        );
        let empty = parse_list_multipart_uploads(
            b"<ListMultipartUploadsResult><IsTruncated>false</IsTruncated><NextKeyMarker/></ListMultipartUploadsResult>",
        )
        .unwrap();
        assert_eq!(empty, ListMultipartUploadsPage::default());
        assert_invalid(parse_list_multipart_uploads(
            b"<ListMultipartUploadsResult><IsTruncated>false</IsTruncated><Upload><Key>k</Key></Upload></ListMultipartUploadsResult>",
        ));
        assert_invalid(parse_list_multipart_uploads(
            b"<ListMultipartUploadsResult></ListMultipartUploadsResult>",
        ));
    }
}
