//! ListObjectsV2 (and ListObjects v1 for stores without V2): one page of keys.

use std::time::SystemTime;

use http::Method;

use crate::config::ListObjectsVersion;
use crate::error::Result;
use crate::s3::request::OpRequest;
use crate::s3::xml::{
    Encoding, ErrorFields, maybe_url_decode, missing, parse_bool, parse_time, parse_u64, service_error, set_once,
    unexpected_root, walk,
};

/// What to list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListObjectsInput {
    /// Only keys starting with this.
    pub prefix: Option<String>,
    /// Roll keys up to this character into common prefixes (`/` for directories).
    pub delimiter: Option<String>,
    /// Keys per page (S3's maximum and default: 1000).
    pub max_keys: Option<u32>,
    /// Keys after this one (V2 `start-after`).
    pub start_after: Option<String>,
}

/// Where a page starts: a V2 continuation token or a V1 marker.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum PageToken {
    /// V2 continuation token.
    Continuation(String),
    /// V1 marker (the last key or prefix of the previous page).
    Marker(String),
}

/// One object of a listing (a `<Contents>` element).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ObjectSummary {
    /// The object's key, percent-decoded when the reply was url-encoded.
    pub key: String,
    /// When the object was last written.
    pub last_modified: Option<SystemTime>,
    /// The entity tag, as the server sent it (usually with its double quotes).
    pub etag: Option<String>,
    /// Size in bytes.
    pub size: u64,
    /// Storage class (`STANDARD`, `GLACIER`, ...).
    pub storage_class: Option<String>,
}

/// One page of a ListObjectsV2 or ListObjects (v1) reply.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ListObjectsPage {
    /// The objects of this page, in the server's order.
    pub objects: Vec<ObjectSummary>,
    /// The "directories" (`CommonPrefixes/Prefix`) when the request had a delimiter.
    pub common_prefixes: Vec<String>,
    /// Whether more results follow.
    pub is_truncated: bool,
    /// V2: the token for the next page (`None` when absent or empty).
    pub next_continuation_token: Option<String>,
    /// V1: the marker for the next page (`None` when absent or empty; without a delimiter S3
    /// omits it and the next marker is the last key).
    pub next_marker: Option<String>,
    /// V2: the number of keys and common prefixes on this page.
    pub key_count: Option<u64>,
}

/// The request. Keys are asked for URL-encoded, so that any key survives XML.
pub fn request(version: ListObjectsVersion, input: &ListObjectsInput, token: Option<&PageToken>) -> OpRequest {
    let mut req = OpRequest::bucket("ListObjectsV2", Method::GET);
    if version == ListObjectsVersion::V1 {
        req.operation = "ListObjects";
    }
    // Parameters in sorted order: the URL is then already canonical.
    let mut q: Vec<(&'static str, Option<String>)> = Vec::new();
    if let Some(d) = &input.delimiter {
        q.push(("delimiter", Some(d.clone())));
    }
    q.push(("encoding-type", Some("url".into())));
    if version == ListObjectsVersion::V2 {
        q.push(("list-type", Some("2".into())));
    }
    match token {
        Some(PageToken::Continuation(t)) => q.push(("continuation-token", Some(t.clone()))),
        Some(PageToken::Marker(m)) => q.push(("marker", Some(m.clone()))),
        None => {}
    }
    if let Some(m) = input.max_keys {
        q.push(("max-keys", Some(m.to_string())));
    }
    if let Some(p) = &input.prefix {
        q.push(("prefix", Some(p.clone())));
    }
    if version == ListObjectsVersion::V2 {
        if let Some(s) = &input.start_after {
            q.push(("start-after", Some(s.clone())));
        }
    } else if token.is_none()
        && let Some(s) = &input.start_after
    {
        q.push(("marker", Some(s.clone())));
    }
    q.sort_by(|a, b| a.0.cmp(b.0));
    req.query = q;
    req
}

/// The reply, and where the next page starts (`None` when this was the last).
pub fn parse(version: ListObjectsVersion, body: &[u8]) -> Result<(ListObjectsPage, Option<PageToken>)> {
    let page = parse_list_objects(body)?;
    let next = if !page.is_truncated {
        None
    } else if version == ListObjectsVersion::V2 {
        page.next_continuation_token.clone().map(PageToken::Continuation)
    } else {
        // V1 gives NextMarker only with a delimiter; otherwise the last key is the marker.
        page.next_marker
            .clone()
            .or_else(|| {
                let last_key = page.objects.last().map(|o| o.key.clone());
                let last_prefix = page.common_prefixes.last().cloned();
                last_key.into_iter().chain(last_prefix).max()
            })
            .map(PageToken::Marker)
    };
    if page.is_truncated && next.is_none() {
        return Err(crate::Error::new(
            crate::ErrorKind::InvalidResponse,
            "a truncated listing gave no way to the next page",
        ));
    }
    Ok((page, next))
}

/// Parses ListObjectsV2 and ListObjects (v1) replies (root `ListBucketResult`).
///
/// When the reply contains `<EncodingType>url</EncodingType>` (anywhere under the root, before
/// or after the keys), every `Contents/Key`, `CommonPrefixes/Prefix` and `NextMarker` is
/// url-decoded: `%XX` escapes are decoded and `+` is a space, as AWS encodes them (a literal
/// `+` arrives as `%2B`). A malformed escape or a result that is not UTF-8 is an error. When
/// the element is absent the values are taken as they are, since some servers ignore the
/// `encoding-type` parameter.
///
/// `Key` and `Size` are required in every `Contents`, and `IsTruncated` in the reply. An
/// `<Error>` document is returned as a service error with status 200.
pub fn parse_list_objects(xml: &[u8]) -> Result<ListObjectsPage> {
    let mut page = ListObjectsPage::default();
    let mut is_truncated = None;
    let mut next_marker: Option<String> = None;
    let mut next_token: Option<String> = None;
    let mut encoding = Encoding::default();
    let mut object = ObjectFields::default();
    let mut error = ErrorFields::default();
    let root = walk(xml, |path, text| {
        match path {
            [b"Error", field] => error.field(field, text)?,
            [_, b"Contents", field] => object.field(field, text, encoding.url)?,
            [_, b"Contents"] => page.objects.push(std::mem::take(&mut object).finish()?),
            [_, b"CommonPrefixes", b"Prefix"] => {
                page.common_prefixes
                    .push(maybe_url_decode(text, encoding.url, "Prefix")?)
            }
            [_, b"IsTruncated"] => set_once(&mut is_truncated, parse_bool(text, "IsTruncated")?)?,
            [_, b"NextContinuationToken"] => set_once(&mut next_token, text.to_owned())?,
            [_, b"NextMarker"] => set_once(&mut next_marker, maybe_url_decode(text, encoding.url, "NextMarker")?)?,
            [_, b"KeyCount"] => {
                let count = parse_u64(text, "KeyCount")?;
                set_once(&mut page.key_count, count)?;
                page.objects.reserve(count.min(1000) as usize);
            }
            [_, b"EncodingType"] => encoding.set(
                text,
                page.objects.len(),
                page.common_prefixes.len(),
                next_marker.is_some(),
            )?,
            _ => {}
        }
        Ok(())
    })?;
    match root {
        b"Error" => return Err(service_error(error.finish()?)),
        b"ListBucketResult" => {}
        _ if is_truncated.is_some() => {}
        other => return Err(unexpected_root(other, "ListBucketResult")),
    }
    encoding.decode_earlier(
        page.objects.iter_mut().map(|o| &mut o.key),
        &mut page.common_prefixes,
        next_marker.as_mut(),
        "NextMarker",
    )?;
    page.is_truncated = is_truncated.ok_or_else(|| missing("IsTruncated"))?;
    page.next_continuation_token = next_token.filter(|t| !t.is_empty());
    page.next_marker = next_marker.filter(|m| !m.is_empty());
    Ok(page)
}

/// The fields of a `<Contents>` element being read.
#[derive(Default)]
struct ObjectFields {
    key: Option<String>,
    last_modified: Option<SystemTime>,
    etag: Option<String>,
    size: Option<u64>,
    storage_class: Option<String>,
}

impl ObjectFields {
    /// Reads a child of `<Contents>`; `url` says whether the key is url-encoded.
    fn field(&mut self, name: &[u8], text: &str, url: bool) -> Result<()> {
        match name {
            b"Key" => set_once(&mut self.key, maybe_url_decode(text, url, "Key")?),
            b"LastModified" => set_once(&mut self.last_modified, parse_time(text, "LastModified")?),
            b"ETag" => set_once(&mut self.etag, text.to_owned()),
            b"Size" => set_once(&mut self.size, parse_u64(text, "Size")?),
            b"StorageClass" => set_once(&mut self.storage_class, text.to_owned()),
            _ => Ok(()),
        }
    }

    fn finish(self) -> Result<ObjectSummary> {
        Ok(ObjectSummary {
            key: self.key.ok_or_else(|| missing("Contents/Key"))?,
            last_modified: self.last_modified,
            etag: self.etag,
            size: self.size.ok_or_else(|| missing("Contents/Size"))?,
            storage_class: self.storage_class,
        })
    }
}

#[cfg(test)]
mod tests {
    use std::fmt::Write as _;

    use super::*;
    use crate::s3::xml::tests::{LIST_V2, assert_invalid, at};

    #[test]
    fn v2_and_v1_requests() {
        let input = ListObjectsInput {
            prefix: Some("a b/".into()),
            delimiter: Some("/".into()),
            ..Default::default()
        };
        let r = request(
            ListObjectsVersion::V2,
            &input,
            Some(&PageToken::Continuation("t".into())),
        );
        let names: Vec<_> = r.query.iter().map(|(k, _)| *k).collect();
        assert_eq!(
            names,
            [
                "continuation-token",
                "delimiter",
                "encoding-type",
                "list-type",
                "prefix"
            ]
        );
        let r = request(ListObjectsVersion::V1, &input, Some(&PageToken::Marker("m".into())));
        assert_eq!(r.operation, "ListObjects");
        assert!(r.query.contains(&("marker", Some("m".into()))));
        assert!(!r.query.iter().any(|(k, _)| *k == "list-type"));
    }

    #[test]
    fn v1_pages_continue_from_the_last_key() {
        let body = br#"<ListBucketResult><IsTruncated>true</IsTruncated>
            <Contents><Key>a</Key><Size>1</Size></Contents><Contents><Key>b</Key><Size>1</Size></Contents></ListBucketResult>"#;
        let (_, next) = parse(ListObjectsVersion::V1, body).unwrap();
        assert_eq!(next, Some(PageToken::Marker("b".into())));
        let bad = br#"<ListBucketResult><IsTruncated>true</IsTruncated></ListBucketResult>"#;
        assert!(parse(ListObjectsVersion::V2, bad).is_err());
    }

    #[test]
    fn list_objects_v2() {
        let page = parse_list_objects(LIST_V2.as_bytes()).unwrap();
        assert_eq!(
            page,
            ListObjectsPage {
                objects: vec![
                    ObjectSummary {
                        key: "photos/sample.jpg".into(),
                        last_modified: Some(at(1_255_369_830, 0)),
                        etag: Some("\"bf1d737a4d46a19f3bced6905cc8b902\"".into()),
                        size: 142_863,
                        storage_class: Some("STANDARD".into()),
                    },
                    ObjectSummary {
                        key: "photos/empty".into(),
                        last_modified: Some(at(1_672_628_645, 250)),
                        etag: Some("\"d41d8cd98f00b204e9800998ecf8427e\"".into()),
                        size: 0,
                        storage_class: None,
                    },
                ],
                common_prefixes: vec!["photos/2006/".into()],
                is_truncated: true,
                next_continuation_token: Some("1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=".into()),
                next_marker: None,
                key_count: Some(3),
            }
        );
    }

    #[test]
    fn list_objects_v1_with_markers() {
        let xml = br#"<?xml version="1.0" encoding="UTF-8"?>
<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>bucket</Name><Prefix/><Marker>a.txt</Marker><NextMarker>c/</NextMarker><MaxKeys>2</MaxKeys><Delimiter>/</Delimiter><IsTruncated>true</IsTruncated><Contents><Key>b.txt</Key><LastModified>2019-02-28T01:02:03Z</LastModified><ETag>"x"</ETag><Size>5</Size><StorageClass>STANDARD_IA</StorageClass></Contents><CommonPrefixes><Prefix>c/</Prefix></CommonPrefixes></ListBucketResult>"#;
        let page = parse_list_objects(xml).unwrap();
        assert_eq!(page.objects.len(), 1);
        assert_eq!(page.objects[0].key, "b.txt");
        assert_eq!(page.objects[0].size, 5);
        assert_eq!(page.objects[0].storage_class.as_deref(), Some("STANDARD_IA"));
        assert_eq!(page.objects[0].last_modified, Some(at(1_551_315_723, 0)));
        assert_eq!(page.common_prefixes, ["c/"]);
        assert!(page.is_truncated);
        assert_eq!(page.next_marker.as_deref(), Some("c/"));
        assert_eq!(page.next_continuation_token, None);
        assert_eq!(page.key_count, None);
    }

    #[test]
    fn list_objects_url_encoded_keys_are_decoded() {
        // EncodingType after the keys: decoding must not depend on the order.
        let xml = br#"<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
<IsTruncated>true</IsTruncated>
<Contents><Key>my%20file.txt</Key><Size>1</Size></Contents>
<Contents><Key>a%2Bb.txt</Key><Size>2</Size></Contents>
<Contents><Key>caf%C3%A9/r%C3%A9sum%C3%A9.pdf</Key><Size>3</Size></Contents>
<Contents><Key>run+books/x.txt</Key><Size>4</Size></Contents>
<Contents><Key>100%25.csv</Key><Size>5</Size></Contents>
<Contents><Key>%ED%95%9C%EA%B8%80/%3C%26%3E</Key><Size>6</Size></Contents>
<CommonPrefixes><Prefix>quux+ab/</Prefix></CommonPrefixes>
<CommonPrefixes><Prefix>%C3%A9t%C3%A9%2B/</Prefix></CommonPrefixes>
<NextMarker>z%20z</NextMarker>
<NextContinuationToken>tok%2B+</NextContinuationToken>
<EncodingType>url</EncodingType>
</ListBucketResult>"#;
        let page = parse_list_objects(xml).unwrap();
        let keys: Vec<&str> = page.objects.iter().map(|o| o.key.as_str()).collect();
        assert_eq!(
            keys,
            [
                "my file.txt",
                "a+b.txt",
                "café/résumé.pdf",
                "run books/x.txt",
                "100%.csv",
                "한글/<&>"
            ]
        );
        assert_eq!(page.common_prefixes, ["quux ab/", "été+/"]);
        assert_eq!(page.next_marker.as_deref(), Some("z z"));
        // The continuation token is opaque, never encoded.
        assert_eq!(page.next_continuation_token.as_deref(), Some("tok%2B+"));
    }

    #[test]
    fn list_objects_encoding_type_anywhere_decodes_everything() {
        // AWS's order (EncodingType first), and a server that sends it between the keys.
        let before = b"<ListBucketResult><Name>b</Name><EncodingType>url</EncodingType><IsTruncated>true</IsTruncated>\
                       <NextMarker>n%20m</NextMarker><Contents><Key>a+b</Key><Size>1</Size></Contents>\
                       <CommonPrefixes><Prefix>p%2Bq/</Prefix></CommonPrefixes></ListBucketResult>";
        let between = b"<ListBucketResult><IsTruncated>true</IsTruncated><NextMarker>n%20m</NextMarker>\
                        <CommonPrefixes><Prefix>p%2Bq/</Prefix></CommonPrefixes><Contents><Key>a+b</Key><Size>1</Size>\
                        </Contents><EncodingType>URL</EncodingType><Contents><Key>c%25</Key><Size>2</Size></Contents>\
                        </ListBucketResult>";
        let page = parse_list_objects(before).unwrap();
        assert_eq!(page.objects[0].key, "a b");
        assert_eq!(page.common_prefixes, ["p+q/"]);
        assert_eq!(page.next_marker.as_deref(), Some("n m"));
        let page = parse_list_objects(between).unwrap();
        let keys: Vec<&str> = page.objects.iter().map(|o| o.key.as_str()).collect();
        assert_eq!(keys, ["a b", "c%"]);
        assert_eq!(page.common_prefixes, ["p+q/"]);
        assert_eq!(page.next_marker.as_deref(), Some("n m"));
        // Another encoding type is not url-encoding; two of them are refused.
        let other = b"<ListBucketResult><EncodingType>none</EncodingType><IsTruncated>false</IsTruncated>\
                      <Contents><Key>a+b%20</Key><Size>1</Size></Contents></ListBucketResult>";
        assert_eq!(parse_list_objects(other).unwrap().objects[0].key, "a+b%20");
        assert_invalid(parse_list_objects(
            b"<ListBucketResult><EncodingType>url</EncodingType><EncodingType>url</EncodingType>\
              <IsTruncated>false</IsTruncated></ListBucketResult>",
        ));
    }

    #[test]
    fn list_objects_without_encoding_type_keeps_keys_as_sent() {
        let xml = br#"<ListBucketResult><IsTruncated>false</IsTruncated><Contents><Key>a%20b+c%zz</Key><Size>1</Size></Contents><CommonPrefixes><Prefix>p%2B/</Prefix></CommonPrefixes></ListBucketResult>"#;
        let page = parse_list_objects(xml).unwrap();
        assert_eq!(page.objects[0].key, "a%20b+c%zz");
        assert_eq!(page.common_prefixes, ["p%2B/"]);
        assert!(!page.is_truncated);
    }

    #[test]
    fn list_objects_bad_url_encoding_is_an_error() {
        for key in ["%FF%FE", "%C3", "abc%2", "abc%", "%G1x", "%%41"] {
            let xml = format!(
                "<ListBucketResult><EncodingType>url</EncodingType><IsTruncated>false</IsTruncated>\
                 <Contents><Key>{key}</Key><Size>1</Size></Contents></ListBucketResult>"
            );
            assert_invalid(parse_list_objects(xml.as_bytes()));
        }
    }

    #[test]
    fn list_objects_missing_or_bad_fields_are_errors() {
        let cases = [
            // no Key
            "<ListBucketResult><IsTruncated>false</IsTruncated><Contents><Size>1</Size></Contents></ListBucketResult>",
            // no Size
            "<ListBucketResult><IsTruncated>false</IsTruncated><Contents><Key>k</Key></Contents></ListBucketResult>",
            // Size not a number, negative, too large
            "<ListBucketResult><IsTruncated>false</IsTruncated><Contents><Key>k</Key><Size>12x</Size></Contents></ListBucketResult>",
            "<ListBucketResult><IsTruncated>false</IsTruncated><Contents><Key>k</Key><Size>-1</Size></Contents></ListBucketResult>",
            "<ListBucketResult><IsTruncated>false</IsTruncated><Contents><Key>k</Key><Size>18446744073709551616</Size></Contents></ListBucketResult>",
            // no IsTruncated
            "<ListBucketResult><Contents><Key>k</Key><Size>1</Size></Contents></ListBucketResult>",
            // IsTruncated neither true nor false
            "<ListBucketResult><IsTruncated>yes</IsTruncated></ListBucketResult>",
            // a timestamp that is not one
            "<ListBucketResult><IsTruncated>false</IsTruncated><Contents><Key>k</Key><Size>1</Size><LastModified>Mon, 12 Oct 2009</LastModified></Contents></ListBucketResult>",
            // KeyCount not a number
            "<ListBucketResult><IsTruncated>false</IsTruncated><KeyCount>many</KeyCount></ListBucketResult>",
            // a field twice
            "<ListBucketResult><IsTruncated>false</IsTruncated><Contents><Key>a</Key><Key>b</Key><Size>1</Size></Contents></ListBucketResult>",
            "<ListBucketResult><IsTruncated>false</IsTruncated><IsTruncated>true</IsTruncated></ListBucketResult>",
            // another document
            "<ListAllMyBucketsResult><Buckets/></ListAllMyBucketsResult>",
        ];
        for xml in cases {
            assert_invalid(parse_list_objects(xml.as_bytes()));
        }
    }

    #[test]
    fn list_objects_empty_elements_and_empty_tokens() {
        let xml = b"<ListBucketResult><IsTruncated>false</IsTruncated><NextContinuationToken/><NextMarker></NextMarker>\
                    <Contents><Key/><Size> 7 </Size><StorageClass/></Contents><KeyCount>1</KeyCount></ListBucketResult>";
        let page = parse_list_objects(xml).unwrap();
        assert_eq!(page.next_continuation_token, None);
        assert_eq!(page.next_marker, None);
        assert_eq!(page.objects[0].key, "");
        assert_eq!(page.objects[0].size, 7);
        assert_eq!(page.objects[0].storage_class.as_deref(), Some(""));
        assert_eq!(page.key_count, Some(1));
    }

    #[test]
    fn list_objects_error_document_is_a_service_error() {
        let xml = b"<Error><Code>NoSuchBucket</Code><Message>The specified bucket does not exist</Message>\
                    <BucketName>nope</BucketName><RequestId>4442587FB7D0A2F9</RequestId></Error>";
        let err = parse_list_objects(xml).unwrap_err();
        assert!(err.is_not_found());
        assert_eq!(err.code(), Some("NoSuchBucket"));
        assert_eq!(err.status(), Some(200));
        assert_eq!(err.request_id(), Some("4442587FB7D0A2F9"));
    }

    #[test]
    fn thousand_key_listing() {
        let mut xml = String::from(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">\
             <Name>bucket</Name><Prefix>static/</Prefix><KeyCount>1000</KeyCount><MaxKeys>1000</MaxKeys>\
             <EncodingType>url</EncodingType><IsTruncated>true</IsTruncated>",
        );
        for i in 0..1000 {
            write!(
                xml,
                "<Contents><Key>static/css/file%20{i:04}.css</Key><LastModified>2024-05-06T07:08:09.000Z</LastModified>\
                 <ETag>&quot;{i:032x}&quot;</ETag><ChecksumAlgorithm>CRC32</ChecksumAlgorithm><Size>{}</Size>\
                 <StorageClass>STANDARD</StorageClass></Contents>",
                i * 1000
            )
            .unwrap();
        }
        xml.push_str("<NextContinuationToken>next-page</NextContinuationToken></ListBucketResult>");
        let page = parse_list_objects(xml.as_bytes()).unwrap();
        assert_eq!(page.objects.len(), 1000);
        assert_eq!(page.key_count, Some(1000));
        assert!(page.is_truncated);
        assert_eq!(page.next_continuation_token.as_deref(), Some("next-page"));
        for (i, object) in page.objects.iter().enumerate() {
            assert_eq!(object.key, format!("static/css/file {i:04}.css"));
            assert_eq!(object.etag.as_deref(), Some(format!("\"{i:032x}\"").as_str()));
            assert_eq!(object.size, i as u64 * 1000);
            assert_eq!(object.last_modified, Some(at(1_714_979_289, 0)));
        }
    }
}
