//! S3's XML bodies: parsing replies and writing request bodies.
//!
//! Every parser is a short `match` on element paths fed by one private event walker
//! (`walk`) over quick-xml's reader. The walker is where the safety rules live, so that the
//! parsers cannot forget them:
//!
//! - malformed, truncated (end of input with open elements, or no root element at all) or
//!   hostile input is an [`ErrorKind::InvalidResponse`] error, never a panic;
//! - elements nest at most `MAX_DEPTH` (32) deep, and the walker is a loop, not a recursion;
//! - only the five predefined entities and character references are expanded; any other
//!   entity is an error, and DOCTYPEs (with whatever entities they declare), comments and
//!   processing instructions are ignored;
//! - element names are compared by local name, so a namespace prefix changes nothing;
//! - unknown elements are ignored.
//!
//! Replies are read by the elements S3 defines inside the root, whatever the root is
//! called (moto answers CompleteMultipartUpload with `<CompleteMultipartUploadResponse>`;
//! botocore accepts it): a root of another name counts when it holds what the reply needs
//! (`IsTruncated` for listings, `UploadId`, an `ETag` or another field of the result),
//! and is refused otherwise, so an unrelated document is never taken for a success.
//!
//! S3 sometimes answers `200 OK` with an `<Error>` document (CompleteMultipartUpload and
//! CopyObject can fail after the status line has been sent). The parsers of those replies
//! return the error body as a value; the others turn an `<Error>` document into a service
//! error with status 200.

use std::borrow::Cow;
use std::fmt::Write as _;
use std::time::SystemTime;

use quick_xml::Reader;
use quick_xml::events::{BytesStart, Event};

use crate::config::ChecksumAlgorithm;
use crate::xml_ref::expand_reference;

use crate::{Error, ErrorKind, Result, ServiceError};

/// The deepest element nesting a reply may have; S3's replies need 4 at most.
const MAX_DEPTH: usize = 32;

/// The namespace of S3's request and reply documents.
const S3_XMLNS: &str = "http://s3.amazonaws.com/doc/2006-03-01/";

// ---------------------------------------------------------------------------------------------
// Reply types
// ---------------------------------------------------------------------------------------------

/// One object of a listing (a `<Contents>` element).
#[derive(Debug, Clone, PartialEq, Eq)]
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

/// An S3 `<Error>` document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorBody {
    /// The error code (`NoSuchKey`, `SlowDown`, ...); never empty.
    pub code: String,
    /// The human-readable message (empty when the document had none).
    pub message: String,
    /// The request id, for support cases.
    pub request_id: Option<String>,
    /// The bucket's region, sent with redirects and `AuthorizationHeaderMalformed`.
    pub region: Option<String>,
    /// The endpoint to use instead, sent with `PermanentRedirect` and `TemporaryRedirect`.
    pub endpoint: Option<String>,
}

impl ErrorBody {
    /// The error this document reports, for a reply of HTTP `status`.
    pub fn into_error(self, status: u16) -> crate::Error {
        crate::Error::service(crate::ServiceError {
            status,
            code: self.code,
            message: self.message,
            request_id: self.request_id,
            bucket_region: self.region,
        })
    }
}

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

/// The reply of a successful CopyObject (`CopyObjectResult`) or UploadPartCopy
/// (`CopyPartResult`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopyObjectResult {
    /// The entity tag of the copy (with its quotes, as sent).
    pub etag: Option<String>,
    /// When the copy was written.
    pub last_modified: Option<SystemTime>,
}

/// An object that DeleteObjects removed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeletedObject {
    /// The key.
    pub key: String,
    /// The version removed, in a versioned bucket.
    pub version_id: Option<String>,
}

/// An object that DeleteObjects could not remove.
#[derive(Debug, Clone, PartialEq, Eq)]
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
pub struct DeleteObjectsResult {
    /// Objects removed (absent in quiet mode).
    pub deleted: Vec<DeletedObject>,
    /// Objects that could not be removed.
    pub errors: Vec<DeleteError>,
}

/// One in-progress multipart upload of a ListMultipartUploads reply.
#[derive(Debug, Clone, PartialEq, Eq)]
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

// ---------------------------------------------------------------------------------------------
// Parsers
// ---------------------------------------------------------------------------------------------

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
    // Values read before `<EncodingType>url</EncodingType>` are still encoded.
    for object in &mut page.objects[..encoding.keys_before] {
        url_decode_in_place(&mut object.key, "Key")?;
    }
    for prefix in &mut page.common_prefixes[..encoding.prefixes_before] {
        url_decode_in_place(prefix, "Prefix")?;
    }
    if let Some(next_marker) = next_marker.as_mut().filter(|_| encoding.marker_before) {
        url_decode_in_place(next_marker, "NextMarker")?;
    }
    page.is_truncated = is_truncated.ok_or_else(|| missing("IsTruncated"))?;
    page.next_continuation_token = next_token.filter(|t| !t.is_empty());
    page.next_marker = next_marker.filter(|m| !m.is_empty());
    Ok(page)
}

/// What a listing's `<EncodingType>` said, and how many values were read before it.
///
/// AWS sends `EncodingType` before the keys, so they are decoded as they are read; a server
/// that sends it after them has those values decoded at the end.
#[derive(Default)]
struct Encoding {
    seen: bool,
    /// Whether `<EncodingType>url</EncodingType>` has been read.
    url: bool,
    /// How many keys (objects or uploads) were read, undecoded, before it.
    keys_before: usize,
    /// How many common prefixes were read, undecoded, before it.
    prefixes_before: usize,
    /// Whether the next marker was read, undecoded, before it.
    marker_before: bool,
}

impl Encoding {
    /// Reads `<EncodingType>`; the arguments count the values read so far.
    fn set(&mut self, text: &str, keys: usize, prefixes: usize, marker: bool) -> Result<()> {
        if std::mem::replace(&mut self.seen, true) {
            return Err(duplicate());
        }
        if text.trim().eq_ignore_ascii_case("url") {
            self.url = true;
            (self.keys_before, self.prefixes_before, self.marker_before) = (keys, prefixes, marker);
        }
        Ok(())
    }
}

/// Parses an `<Error>` document (Code, Message, RequestId, Region, Endpoint).
///
/// Returns `Ok(None)` if the root element is not `Error` (an HTML page from a proxy that
/// happens to be well-formed XML, say). A body that is not XML at all, or is empty, is an
/// error like any other malformed document. `Code` is required and must not be empty; a
/// missing `Message` is an empty one.
pub fn parse_error(xml: &[u8]) -> Result<Option<ErrorBody>> {
    let mut error = ErrorFields::default();
    let root = walk(xml, |path, text| {
        if let [b"Error", field] = path {
            error.field(field, text)?;
        }
        Ok(())
    })?;
    match root {
        b"Error" => error.finish().map(Some),
        _ => Ok(None),
    }
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

/// Parses the reply of ListMultipartUploads (root `ListMultipartUploadsResult`).
///
/// Honours `<EncodingType>url</EncodingType>` as [`parse_list_objects`] does, for
/// `Upload/Key`, `CommonPrefixes/Prefix` and `NextKeyMarker`. `Key` and `UploadId` are
/// required in every `Upload`, and `IsTruncated` in the reply.
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
    // Values read before `<EncodingType>url</EncodingType>` are still encoded.
    for upload in &mut page.uploads[..encoding.keys_before] {
        url_decode_in_place(&mut upload.key, "Key")?;
    }
    for prefix in &mut page.common_prefixes[..encoding.prefixes_before] {
        url_decode_in_place(prefix, "Prefix")?;
    }
    if let Some(next_key_marker) = next_key_marker.as_mut().filter(|_| encoding.marker_before) {
        url_decode_in_place(next_key_marker, "NextKeyMarker")?;
    }
    page.is_truncated = is_truncated.ok_or_else(|| missing("IsTruncated"))?;
    page.next_key_marker = next_key_marker.filter(|m: &String| !m.is_empty());
    page.next_upload_id_marker = next_upload_id_marker.filter(|m: &String| !m.is_empty());
    Ok(page)
}

// ---------------------------------------------------------------------------------------------
// Writers
// ---------------------------------------------------------------------------------------------

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

/// Whether XML 1.0 can carry `c` (production `Char` of the XML 1.0 specification).
fn is_xml10_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

/// Appends `text` to `out` escaped for element content.
fn push_escaped(out: &mut String, text: &str) {
    let mut from = 0;
    for (i, b) in text.bytes().enumerate() {
        let escaped = match b {
            b'&' => "&amp;",
            b'<' => "&lt;",
            b'>' => "&gt;",
            b'\r' => "&#13;",
            _ => continue,
        };
        out.push_str(&text[from..i]);
        out.push_str(escaped);
        from = i + 1;
    }
    out.push_str(&text[from..]);
}

// ---------------------------------------------------------------------------------------------
// Field helpers
// ---------------------------------------------------------------------------------------------

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

/// The fields of an `<Error>` document being read.
#[derive(Default)]
struct ErrorFields {
    code: Option<String>,
    message: Option<String>,
    request_id: Option<String>,
    region: Option<String>,
    endpoint: Option<String>,
}

impl ErrorFields {
    fn field(&mut self, name: &[u8], text: &str) -> Result<()> {
        let slot = match name {
            b"Code" => &mut self.code,
            b"Message" => &mut self.message,
            b"RequestId" => &mut self.request_id,
            b"Region" => &mut self.region,
            b"Endpoint" => &mut self.endpoint,
            _ => return Ok(()),
        };
        set_once(slot, text.to_owned())
    }

    fn finish(self) -> Result<ErrorBody> {
        Ok(ErrorBody {
            code: self
                .code
                .filter(|c| !c.is_empty())
                .ok_or_else(|| missing("Error/Code"))?,
            message: self.message.unwrap_or_default(),
            request_id: self.request_id,
            region: self.region,
            endpoint: self.endpoint,
        })
    }
}

/// An `<Error>` document where a result document was expected: a failed request.
fn service_error(body: ErrorBody) -> Error {
    Error::service(ServiceError {
        status: 200,
        code: body.code,
        message: body.message,
        request_id: body.request_id,
        bucket_region: body.region,
    })
}

fn invalid(message: impl Into<String>) -> Error {
    Error::new(ErrorKind::InvalidResponse, message)
}

fn missing(field: &str) -> Error {
    invalid(format!("the reply has no {field}"))
}

fn unexpected_root(root: &[u8], expected: &str) -> Error {
    let shown = String::from_utf8_lossy(&root[..root.len().min(64)]);
    invalid(format!("expected a <{expected}> document, got <{shown}>"))
}

/// Stores a field's value, refusing a second occurrence of the same field.
fn set_once<T>(slot: &mut Option<T>, value: T) -> Result<()> {
    if slot.is_some() {
        return Err(duplicate());
    }
    *slot = Some(value);
    Ok(())
}

fn duplicate() -> Error {
    invalid("an element occurs twice where S3 sends it once")
}

fn parse_u64(text: &str, field: &str) -> Result<u64> {
    text.trim()
        .parse()
        .map_err(|_| invalid(format!("{field} is not a non-negative integer")))
}

fn parse_bool(text: &str, field: &str) -> Result<bool> {
    match text.trim() {
        t if t.eq_ignore_ascii_case("true") => Ok(true),
        t if t.eq_ignore_ascii_case("false") => Ok(false),
        _ => Err(invalid(format!("{field} is neither true nor false"))),
    }
}

/// Parses an S3 timestamp (`2009-10-12T17:50:30.000Z`).
///
/// The conversion to `SystemTime` is checked: a platform whose clock cannot represent the
/// instant (year 1 on Windows, say) gets an error, not a panic.
fn parse_time(text: &str, field: &str) -> Result<SystemTime> {
    crate::timestamp::parse_rfc3339(text).ok_or_else(|| invalid(format!("{field} is not an RFC 3339 timestamp")))
}

/// A value that `encoding-type=url` may have encoded: decoded when `url`, else copied.
fn maybe_url_decode(text: &str, url: bool, field: &str) -> Result<String> {
    if url {
        url_decode(text, field)
    } else {
        Ok(text.to_owned())
    }
}

/// Decodes a value stored before the reply said it was url-encoded.
fn url_decode_in_place(value: &mut String, field: &str) -> Result<()> {
    if value.bytes().any(|b| b == b'%' || b == b'+') {
        *value = url_decode(value, field)?;
    }
    Ok(())
}

/// Decodes a value of a reply sent with `encoding-type=url`: `%XX` is a byte, `+` a space.
///
/// AWS encodes a space as `+` and a literal `+` as `%2B` (the AWS SDKs decode these values
/// with `unquote_plus` or `URLDecoder`); servers that write a space as `%20` decode the same
/// way. A `%` not followed by two hex digits, or bytes that are not UTF-8, are errors.
fn url_decode(text: &str, field: &str) -> Result<String> {
    let mut decoded = Vec::with_capacity(text.len());
    let mut rest = text.as_bytes();
    while let Some(at) = rest.iter().position(|&b| b == b'%' || b == b'+') {
        decoded.extend_from_slice(&rest[..at]);
        if rest[at] == b'+' {
            decoded.push(b' ');
            rest = &rest[at + 1..];
            continue;
        }
        let escape = rest
            .get(at..at + 3)
            .filter(|e| e[1..].iter().all(u8::is_ascii_hexdigit));
        let Some(escape) = escape else {
            return Err(invalid(format!("{field} has a malformed percent escape")));
        };
        // `%` and two hex digits: percent-encoding decodes them to exactly one byte.
        decoded.extend(percent_encoding::percent_decode(escape));
        rest = &rest[at + 3..];
    }
    decoded.extend_from_slice(rest);
    String::from_utf8(decoded).map_err(|_| invalid(format!("{field} does not url-decode to UTF-8")))
}

// ---------------------------------------------------------------------------------------------
// The event walker
// ---------------------------------------------------------------------------------------------

/// Walks a whole document, calling `visit(path, text)` at the end of every element.
///
/// `path` holds the local names (namespace prefix dropped) from the root to the element that
/// ends, borrowed from `xml`; `text` is the element's text since its last child (all of it for
/// a leaf), with entities and character references expanded, CDATA included, comments and
/// processing instructions skipped, and line ends normalised as XML 1.0 requires. Returns the
/// root element's local name.
///
/// The walker allocates nothing per event: the path is a stack of borrowed names, and a text
/// made of one chunk (the usual case) is handed out borrowed from `xml`.
fn walk<'a>(xml: &'a [u8], mut visit: impl FnMut(&[&'a [u8]], &str) -> Result<()>) -> Result<&'a [u8]> {
    let mut reader = Reader::from_reader(xml);
    let mut path: Vec<&'a [u8]> = Vec::with_capacity(MAX_DEPTH);
    let mut text = Text::default();
    let mut root: Option<&'a [u8]> = None;
    loop {
        let event = match reader.read_event() {
            Ok(event) => event,
            Err(e) => {
                return Err(invalid(format!(
                    "malformed XML at byte {}: {e}",
                    reader.error_position()
                )));
            }
        };
        match event {
            Event::Start(ref tag) | Event::Empty(ref tag) => {
                if path.is_empty() && root.is_some() {
                    return Err(invalid("more than one root element"));
                }
                if path.len() == MAX_DEPTH {
                    return Err(invalid(format!("elements nest deeper than {MAX_DEPTH}")));
                }
                let name = local_name_in(xml, tag)?;
                root.get_or_insert(name);
                path.push(name);
                text.clear();
                if matches!(event, Event::Empty(_)) {
                    visit(&path, "")?;
                    path.pop();
                }
            }
            Event::End(_) => {
                // quick-xml has checked that the end tag matches the open element.
                if path.is_empty() {
                    return Err(invalid("end tag without a start tag"));
                }
                visit(&path, text.finish()?)?;
                path.pop();
                text.clear();
            }
            Event::Text(chunk) => {
                if !path.is_empty() {
                    text.push_chunk(chunk.into_inner())?;
                } else if !chunk.iter().all(|b| matches!(b, b' ' | b'\t' | b'\r' | b'\n')) {
                    return Err(invalid("text outside the root element"));
                }
            }
            Event::CData(chunk) => {
                if path.is_empty() {
                    return Err(invalid("CDATA outside the root element"));
                }
                text.push_chunk(chunk.into_inner())?;
            }
            Event::GeneralRef(reference) => {
                if path.is_empty() {
                    return Err(invalid("entity reference outside the root element"));
                }
                text.push_char(expand_reference(&reference).map_err(invalid)?)?;
            }
            Event::Decl(_) | Event::DocType(_) | Event::Comment(_) | Event::PI(_) => {}
            Event::Eof => {
                if !path.is_empty() {
                    return Err(invalid("the document ends inside an element (truncated reply?)"));
                }
                return root.ok_or_else(|| invalid("the document has no root element"));
            }
        }
    }
}

/// The text of the element being read.
///
/// While the text is one raw chunk of the document it stays borrowed; a second chunk, a CDATA
/// section or an entity turns it into a decoded, owned string (a buffer reused across
/// elements). Each raw chunk is checked for UTF-8 and has its line ends normalised on its own,
/// which is what XML 1.0 specifies, since chunks end only at markup or references.
#[derive(Default)]
struct Text<'a> {
    /// The only chunk so far, still raw.
    raw: Option<&'a [u8]>,
    /// The decoded text, once there is more than one chunk.
    decoded: String,
}

impl<'a> Text<'a> {
    fn clear(&mut self) {
        self.raw = None;
        self.decoded.clear();
    }

    fn push_chunk(&mut self, chunk: Cow<'a, [u8]>) -> Result<()> {
        match chunk {
            Cow::Borrowed(chunk) if self.raw.is_none() && self.decoded.is_empty() => self.raw = Some(chunk),
            chunk => {
                self.flush()?;
                push_normalized(&mut self.decoded, utf8(&chunk)?);
            }
        }
        Ok(())
    }

    fn push_char(&mut self, c: char) -> Result<()> {
        self.flush()?;
        self.decoded.push(c);
        Ok(())
    }

    fn flush(&mut self) -> Result<()> {
        if let Some(raw) = self.raw.take() {
            push_normalized(&mut self.decoded, utf8(raw)?);
        }
        Ok(())
    }

    /// The whole text, borrowed from the document when possible.
    fn finish(&mut self) -> Result<&str> {
        if let Some(raw) = self.raw
            && self.decoded.is_empty()
            && !raw.contains(&b'\r')
        {
            return utf8(raw);
        }
        self.flush()?;
        Ok(&self.decoded)
    }
}

fn utf8(bytes: &[u8]) -> Result<&str> {
    std::str::from_utf8(bytes).map_err(|_| invalid("text is not UTF-8"))
}

/// Appends `text` with XML 1.0 line-end normalisation: `\r\n` and a lone `\r` become `\n`.
fn push_normalized(out: &mut String, text: &str) {
    let mut rest = text;
    while let Some(cr) = rest.find('\r') {
        out.push_str(&rest[..cr]);
        out.push('\n');
        rest = &rest[cr + 1..];
        rest = rest.strip_prefix('\n').unwrap_or(rest);
    }
    out.push_str(rest);
}

/// The local name of `tag`, as a slice of the document itself (so that it outlives the event).
///
/// quick-xml's slice reader borrows every tag from its input; a name found elsewhere (which
/// that reader never produces) is refused rather than trusted.
fn local_name_in<'a>(xml: &'a [u8], tag: &BytesStart<'_>) -> Result<&'a [u8]> {
    let name = tag.local_name().into_inner();
    let offset = name.as_ptr().addr().wrapping_sub(xml.as_ptr().addr());
    match xml.get(offset..).and_then(|rest| rest.get(..name.len())) {
        Some(found) if std::ptr::eq(found.as_ptr(), name.as_ptr()) => Ok(found),
        _ => Err(invalid("element name not found in the document")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn at(secs: u64, millis: u64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(secs) + Duration::from_millis(millis)
    }

    fn assert_invalid<T: std::fmt::Debug>(result: Result<T>) {
        match result {
            Err(e) => assert_eq!(e.kind(), ErrorKind::InvalidResponse, "{e}"),
            Ok(v) => panic!("expected an InvalidResponse error, got {v:?}"),
        }
    }

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

    const LIST_V2: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Name>example-bucket</Name>
  <Prefix>photos/</Prefix>
  <KeyCount>3</KeyCount>
  <MaxKeys>3</MaxKeys>
  <Delimiter>/</Delimiter>
  <IsTruncated>true</IsTruncated>
  <Contents>
    <Key>photos/sample.jpg</Key>
    <LastModified>2009-10-12T17:50:30.000Z</LastModified>
    <ETag>&quot;bf1d737a4d46a19f3bced6905cc8b902&quot;</ETag>
    <ChecksumAlgorithm>CRC32</ChecksumAlgorithm>
    <Size>142863</Size>
    <Owner><ID>75aa57f09aa0c8caeab4f8c24e99d10f8e7faeebf76c078efc7c6caea54ba06a</ID><DisplayName>mtd</DisplayName></Owner>
    <StorageClass>STANDARD</StorageClass>
  </Contents>
  <Contents>
    <Key>photos/empty</Key>
    <LastModified>2023-01-02T03:04:05.250Z</LastModified>
    <ETag>"d41d8cd98f00b204e9800998ecf8427e"</ETag>
    <Size>0</Size>
  </Contents>
  <CommonPrefixes>
    <Prefix>photos/2006/</Prefix>
  </CommonPrefixes>
  <NextContinuationToken>1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=</NextContinuationToken>
</ListBucketResult>"#;

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
    fn timestamps() {
        let modified = |stamp: &str| {
            let xml = format!("<CopyObjectResult><LastModified>{stamp}</LastModified></CopyObjectResult>");
            parse_copy_object(xml.as_bytes()).map(|r| r.unwrap().last_modified.unwrap())
        };
        assert_eq!(modified("2009-10-12T17:50:30.000Z").unwrap(), at(1_255_369_830, 0));
        assert_eq!(modified(" 2009-10-12T17:50:30Z\n").unwrap(), at(1_255_369_830, 0));
        assert_eq!(
            modified("2009-10-12T19:50:30.123+02:00").unwrap(),
            at(1_255_369_830, 123)
        );
        assert_eq!(
            modified("1969-12-31T23:59:59.500Z").unwrap(),
            SystemTime::UNIX_EPOCH - Duration::from_millis(500)
        );
        assert!(modified("0001-01-01T00:00:00Z").is_ok() || cfg!(windows));
        // RFC 3339 allows a space for the `T`.
        assert_eq!(modified("2009-10-12 17:50:30Z").unwrap(), at(1_255_369_830, 0));
        for bad in [
            "",
            "2009-10-12",
            "2009-13-12T17:50:30Z",
            "Mon, 12 Oct 2009 17:50:30 GMT",
        ] {
            assert_invalid(modified(bad));
        }
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
    fn entities_character_references_and_cdata() {
        let xml = br#"<ListBucketResult><IsTruncated>false</IsTruncated>
<Contents><Key>a &amp; b</Key><Size>1</Size></Contents>
<Contents><Key>&#x41;&#66;&#x1F600;</Key><Size>2</Size></Contents>
<Contents><Key>&lt;&gt;&quot;&apos;</Key><Size>3</Size></Contents>
<Contents><Key><![CDATA[x<&>]]y]]></Key><Size>4</Size></Contents>
<Contents><Key>pre<![CDATA[&amp;]]>&amp;post<!-- comment --> end</Key><Size>5</Size></Contents>
<Contents><Key>cr&#13;lf&#10;raw
line</Key><Size>6</Size></Contents>
</ListBucketResult>"#;
        let page = parse_list_objects(xml).unwrap();
        let keys: Vec<&str> = page.objects.iter().map(|o| o.key.as_str()).collect();
        assert_eq!(
            keys,
            [
                "a & b",
                "AB😀",
                "<>\"'",
                "x<&>]]y",
                "pre&amp;&post end",
                "cr\rlf\nraw\nline"
            ]
        );
    }

    #[test]
    fn unknown_or_bad_references_are_errors() {
        let cases: [&[u8]; 6] = [
            b"<Error><Code>&nbsp;</Code></Error>",
            b"<!DOCTYPE Error [<!ENTITY lol \"lol\">]><Error><Code>&lol;</Code></Error>",
            b"<Error><Code>&#0;</Code></Error>",
            b"<Error><Code>&#xD800;</Code></Error>",
            b"<Error><Code>&#xZZ;</Code></Error>",
            b"<Error><Code>a & b</Code></Error>",
        ];
        for xml in cases {
            assert_invalid(parse_error(xml));
        }
    }

    #[test]
    fn namespace_prefixes_doctype_comments_and_pis_are_ignored() {
        let xml = "\u{FEFF}<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!DOCTYPE s3:ListBucketResult>\n<!-- hi -->\n\
                   <?pi data?><s3:ListBucketResult xmlns:s3=\"http://s3.amazonaws.com/doc/2006-03-01/\">\
                   <s3:IsTruncated>false</s3:IsTruncated><s3:Contents><s3:Key>k</s3:Key><!-- c --><s3:Size>9</s3:Size>\
                   <other:Size xmlns:other=\"urn:x\">10</other:Size2></s3:Contents></s3:ListBucketResult>\n<!-- bye -->\n";
        // A mismatched end tag is caught (other:Size vs other:Size2).
        assert_invalid(parse_list_objects(xml.as_bytes()));
        let xml = xml.replace("</other:Size2>", "</other:Size>");
        // `other:Size` has local name Size too: a second Size in one Contents is refused.
        assert_invalid(parse_list_objects(xml.as_bytes()));
        let xml = xml.replace(
            "<other:Size xmlns:other=\"urn:x\">10</other:Size>",
            "<Unknown a='1'><Deeper/></Unknown>",
        );
        let page = parse_list_objects(xml.as_bytes()).unwrap();
        assert_eq!(page.objects.len(), 1);
        assert_eq!(page.objects[0].key, "k");
        assert_eq!(page.objects[0].size, 9);
    }

    #[test]
    fn parse_error_documented_example() {
        let xml = br#"<?xml version="1.0" encoding="UTF-8"?>
<Error>
  <Code>NoSuchKey</Code>
  <Message>The resource you requested does not exist</Message>
  <Resource>/mybucket/myfoto.jpg</Resource>
  <RequestId>4442587FB7D0A2F9</RequestId>
  <HostId>ieWgbOo8S/mYtd+CRD5KEtFsFbOoxT8cu4ZEs3TsfvlRbhrN4q0zk5t0RbhOtomvL8ygJxxPRIA=</HostId>
</Error>"#;
        assert_eq!(
            parse_error(xml).unwrap(),
            Some(ErrorBody {
                code: "NoSuchKey".into(),
                message: "The resource you requested does not exist".into(),
                request_id: Some("4442587FB7D0A2F9".into()),
                region: None,
                endpoint: None,
            })
        );
    }

    #[test]
    fn parse_error_redirects_and_non_errors() {
        let xml = b"<Error><Code>PermanentRedirect</Code><Message>The bucket you are attempting to access must be \
                    addressed using the specified endpoint.</Message><Endpoint>b.s3.eu-west-1.amazonaws.com</Endpoint>\
                    <Bucket>b</Bucket><Region>eu-west-1</Region><RequestId>R</RequestId></Error>";
        let body = parse_error(xml).unwrap().unwrap();
        assert_eq!(body.code, "PermanentRedirect");
        assert_eq!(body.endpoint.as_deref(), Some("b.s3.eu-west-1.amazonaws.com"));
        assert_eq!(body.region.as_deref(), Some("eu-west-1"));
        // Message is optional; Code is not.
        let body = parse_error(b"<Error><Code>SlowDown</Code></Error>").unwrap().unwrap();
        assert_eq!((body.code.as_str(), body.message.as_str()), ("SlowDown", ""));
        assert_invalid(parse_error(b"<Error><Message>no code</Message></Error>"));
        assert_invalid(parse_error(b"<Error><Code></Code></Error>"));
        // Another root: not an error document.
        assert_eq!(parse_error(b"<html><body>Bad Gateway</body></html>").unwrap(), None);
        assert_eq!(parse_error(b"<ListBucketResult/>").unwrap(), None);
        // Nested Code elements do not count.
        assert_invalid(parse_error(b"<Error><Details><Code>X</Code></Details></Error>"));
        // Not XML at all.
        assert_invalid(parse_error(b""));
        assert_invalid(parse_error(b"   \n"));
        assert_invalid(parse_error(b"Bad Gateway"));
    }

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

    #[test]
    fn every_truncation_of_a_reply_is_an_error() {
        // Each document ends with its root's end tag, so every proper prefix cuts inside it.
        let delete =
            "<DeleteResult><Deleted><Key>a</Key></Deleted><Error><Key>b</Key><Code>X</Code></Error></DeleteResult>";
        let uploads = "<ListMultipartUploadsResult><IsTruncated>false</IsTruncated>\
                       <Upload><Key>k</Key><UploadId>u</UploadId></Upload></ListMultipartUploadsResult>";
        let error = "<?xml version=\"1.0\"?>\n<Error><Code>NoSuchKey</Code><Message>m &amp; m</Message></Error>";
        let doc = LIST_V2.as_bytes();
        for cut in 0..doc.len() {
            assert_invalid(parse_list_objects(&doc[..cut]));
        }
        assert!(parse_list_objects(doc).is_ok());
        for cut in 0..delete.len() {
            assert_invalid(parse_delete_objects(&delete.as_bytes()[..cut]));
        }
        for cut in 0..uploads.len() {
            assert_invalid(parse_list_multipart_uploads(&uploads.as_bytes()[..cut]));
        }
        for cut in 0..error.len() {
            assert_invalid(parse_complete_multipart(&error.as_bytes()[..cut]));
            assert_invalid(parse_initiate_multipart(&error.as_bytes()[..cut]));
            assert!(parse_copy_object(&error.as_bytes()[..cut]).is_err());
        }
        // Trailing whitespace and comments after the root are fine.
        let padded = format!("{delete}\n<!-- end -->\n");
        assert_eq!(parse_delete_objects(padded.as_bytes()).unwrap().deleted.len(), 1);
    }

    #[test]
    fn nesting_is_limited() {
        let nested = |depth: usize| {
            let mut xml = String::from("<ListBucketResult><IsTruncated>false</IsTruncated>");
            for _ in 1..depth {
                xml.push_str("<a>");
            }
            for _ in 1..depth {
                xml.push_str("</a>");
            }
            xml.push_str("</ListBucketResult>");
            xml
        };
        assert!(parse_list_objects(nested(MAX_DEPTH).as_bytes()).is_ok());
        assert_invalid(parse_list_objects(nested(MAX_DEPTH + 1).as_bytes()));
        assert_invalid(parse_list_objects(nested(1000).as_bytes()));
        // Deep nesting with no end tags at all.
        assert_invalid(parse_error("<Error>".repeat(100_000).as_bytes()));
        // Empty elements count too.
        let mut xml = "<a>".repeat(MAX_DEPTH);
        xml.push_str("<b/>");
        xml.push_str(&"</a>".repeat(MAX_DEPTH));
        assert_invalid(parse_error(xml.as_bytes()));
    }

    #[test]
    fn garbage_and_invalid_utf8_are_errors() {
        let cases: [&[u8]; 12] = [
            b"",
            b"\x00\xff\xfe<<>>",
            b"not xml at all",
            b"<",
            b"</Error>",
            b"<Error><Code>X</Code></Error><Error/>",
            b"junk<Error><Code>X</Code></Error>",
            b"<Error><Code>X</Code></Error>junk",
            b"<Error><Code>\xff\xfe</Code></Error>",
            b"<Error><Code><![CDATA[\xc3]]></Code></Error>",
            b"<Error><Code>X</Message></Error>",
            b"<Error><Code>X</Code><Message>unterminated",
        ];
        for xml in cases {
            assert_invalid(parse_error(xml));
            assert!(parse_list_objects(xml).is_err());
            assert!(parse_delete_objects(xml).is_err());
        }
        // Pseudo-random bytes and mutations of a valid reply never panic.
        let mut seed: u64 = 0x2545_F491_4F6C_DD1D;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let alphabet = b"<>/&;#x!?[]=\"' aEKx\xc3\xa9\xff";
        for _ in 0..2000 {
            let len = (next() % 64) as usize;
            let bytes: Vec<u8> = (0..len)
                .map(|_| alphabet[(next() % alphabet.len() as u64) as usize])
                .collect();
            let _ = parse_list_objects(&bytes);
            let _ = parse_error(&bytes);
            let mut mutated = LIST_V2.as_bytes().to_vec();
            for _ in 0..3 {
                let i = (next() % mutated.len() as u64) as usize;
                mutated[i] = alphabet[(next() % alphabet.len() as u64) as usize];
            }
            let _ = parse_list_objects(&mutated);
        }
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

    #[test]
    fn replies_are_read_whatever_their_root_is_called() {
        // moto 5.2.1's CompleteMultipartUpload reply.
        let moto = br#"<?xml version="1.0" encoding="UTF-8"?>
<CompleteMultipartUploadResponse xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Location>http://localhost/bucket/key</Location><Bucket>bucket</Bucket><Key>key</Key>
  <ETag>"0123456789abcdef0123456789abcdef-2"</ETag>
</CompleteMultipartUploadResponse>"#;
        let done = parse_complete_multipart(moto).unwrap().unwrap();
        assert_eq!(done.etag.as_deref(), Some("\"0123456789abcdef0123456789abcdef-2\""));
        let copy = parse_copy_object(b"<CopyResult><ETag>\"e\"</ETag></CopyResult>")
            .unwrap()
            .unwrap();
        assert_eq!(copy.etag.as_deref(), Some("\"e\""));
        let page = parse_list_objects(b"<ListObjectsResponse><IsTruncated>false</IsTruncated><Contents><Key>a</Key><Size>1</Size></Contents></ListObjectsResponse>").unwrap();
        assert_eq!(page.objects.len(), 1);
        let upload = parse_initiate_multipart(b"<InitiateResponse><UploadId>u</UploadId></InitiateResponse>").unwrap();
        assert_eq!(upload.upload_id, "u");
        let deleted =
            parse_delete_objects(b"<DeleteResponse><Deleted><Key>k</Key></Deleted></DeleteResponse>").unwrap();
        assert_eq!(deleted.deleted.len(), 1);
        let uploads = parse_list_multipart_uploads(b"<Uploads><IsTruncated>false</IsTruncated></Uploads>").unwrap();
        assert!(uploads.uploads.is_empty());
        // A document holding nothing the reply defines is still refused: an HTML page, an
        // empty result under another name.
        assert_invalid(parse_complete_multipart(b"<html><body>OK</body></html>"));
        assert_invalid(parse_copy_object(b"<Whatever/>"));
        assert_invalid(parse_list_objects(
            b"<html><Contents><Key>a</Key><Size>1</Size></Contents></html>",
        ));
        assert_invalid(parse_initiate_multipart(b"<html/>"));
        assert_invalid(parse_delete_objects(b"<DeleteResponse/>"));
        assert_invalid(parse_list_multipart_uploads(b"<html/>"));
        // Truncated documents are refused, whatever their root.
        assert_invalid(parse_complete_multipart(&moto[..moto.len() - 12]));
    }
}
