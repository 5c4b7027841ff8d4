//! What S3's XML bodies share: the event walker every reply parser reads with, escaping for
//! request bodies, the field helpers, and the `<Error>` document that any reply may be.
//!
//! Each reply's types and parser, and each request body's writer, live beside their operation
//! in [`ops`](crate::s3::ops), so that an operation reads as one file; what keeps hostile
//! replies harmless is written once, here.
//!
//! Every parser is a short `match` on element paths fed by one event walker (`walk`) over
//! quick-xml's reader. The walker is where the safety rules live, so that the parsers cannot
//! forget them:
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
use std::time::SystemTime;

use quick_xml::Reader;
use quick_xml::events::{BytesStart, Event};

use crate::xml_ref::expand_reference;

use crate::error::ServiceError;
use crate::{Error, ErrorKind, Result};

/// The deepest element nesting a reply may have; S3's replies need 4 at most.
const MAX_DEPTH: usize = 32;

/// The namespace of S3's request and reply documents.
pub(crate) const S3_XMLNS: &str = "http://s3.amazonaws.com/doc/2006-03-01/";

// ---------------------------------------------------------------------------------------------
// The error document
// ---------------------------------------------------------------------------------------------

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
        crate::Error::service(crate::error::ServiceError {
            status,
            code: self.code,
            message: self.message,
            request_id: self.request_id,
            bucket_region: self.region,
        })
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

/// The fields of an `<Error>` document being read.
#[derive(Default)]
pub(crate) struct ErrorFields {
    code: Option<String>,
    message: Option<String>,
    request_id: Option<String>,
    region: Option<String>,
    endpoint: Option<String>,
}

impl ErrorFields {
    pub(crate) fn field(&mut self, name: &[u8], text: &str) -> Result<()> {
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

    pub(crate) fn finish(self) -> Result<ErrorBody> {
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
pub(crate) fn service_error(body: ErrorBody) -> Error {
    Error::service(ServiceError {
        status: 200,
        code: body.code,
        message: body.message,
        request_id: body.request_id,
        bucket_region: body.region,
    })
}

// ---------------------------------------------------------------------------------------------
// Escaping
// ---------------------------------------------------------------------------------------------

/// Whether XML 1.0 can carry `c` (production `Char` of the XML 1.0 specification).
pub(crate) fn is_xml10_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

/// Appends `text` to `out` escaped for element content.
pub(crate) fn push_escaped(out: &mut String, text: &str) {
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

/// What a listing's `<EncodingType>` said, and how many values were read before it.
///
/// AWS sends `EncodingType` before the keys, so they are decoded as they are read; a server
/// that sends it after them has those values decoded at the end.
#[derive(Default)]
pub(crate) struct Encoding {
    seen: bool,
    /// Whether `<EncodingType>url</EncodingType>` has been read.
    pub(crate) url: bool,
    /// How many keys (objects or uploads) were read, undecoded, before it.
    pub(crate) keys_before: usize,
    /// How many common prefixes were read, undecoded, before it.
    pub(crate) prefixes_before: usize,
    /// Whether the next marker was read, undecoded, before it.
    pub(crate) marker_before: bool,
}

impl Encoding {
    /// Reads `<EncodingType>`; the arguments count the values read so far.
    pub(crate) fn set(&mut self, text: &str, keys: usize, prefixes: usize, marker: bool) -> Result<()> {
        if std::mem::replace(&mut self.seen, true) {
            return Err(duplicate());
        }
        if text.trim().eq_ignore_ascii_case("url") {
            self.url = true;
            (self.keys_before, self.prefixes_before, self.marker_before) = (keys, prefixes, marker);
        }
        Ok(())
    }

    /// Decodes what was read before `<EncodingType>url</EncodingType>` arrived: the first
    /// keys and common prefixes, and the next marker (`marker_field` names it in errors).
    pub(crate) fn decode_earlier<'a>(
        &self,
        keys: impl Iterator<Item = &'a mut String>,
        prefixes: &mut [String],
        marker: Option<&mut String>,
        marker_field: &str,
    ) -> Result<()> {
        for key in keys.take(self.keys_before) {
            url_decode_in_place(key, "Key")?;
        }
        for prefix in &mut prefixes[..self.prefixes_before] {
            url_decode_in_place(prefix, "Prefix")?;
        }
        match marker {
            Some(marker) if self.marker_before => url_decode_in_place(marker, marker_field),
            _ => Ok(()),
        }
    }
}

fn invalid(message: impl Into<String>) -> Error {
    Error::new(ErrorKind::InvalidResponse, message)
}

pub(crate) fn missing(field: &str) -> Error {
    invalid(format!("the reply has no {field}"))
}

pub(crate) fn unexpected_root(root: &[u8], expected: &str) -> Error {
    let shown = String::from_utf8_lossy(&root[..root.len().min(64)]);
    invalid(format!("expected a <{expected}> document, got <{shown}>"))
}

/// Stores a field's value, refusing a second occurrence of the same field.
pub(crate) fn set_once<T>(slot: &mut Option<T>, value: T) -> Result<()> {
    if slot.is_some() {
        return Err(duplicate());
    }
    *slot = Some(value);
    Ok(())
}

fn duplicate() -> Error {
    invalid("an element occurs twice where S3 sends it once")
}

pub(crate) fn parse_u64(text: &str, field: &str) -> Result<u64> {
    text.trim()
        .parse()
        .map_err(|_| invalid(format!("{field} is not a non-negative integer")))
}

pub(crate) fn parse_bool(text: &str, field: &str) -> Result<bool> {
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
pub(crate) fn parse_time(text: &str, field: &str) -> Result<SystemTime> {
    crate::timestamp::parse_rfc3339(text).ok_or_else(|| invalid(format!("{field} is not an RFC 3339 timestamp")))
}

/// A value that `encoding-type=url` may have encoded: decoded when `url`, else copied.
pub(crate) fn maybe_url_decode(text: &str, url: bool, field: &str) -> Result<String> {
    if url {
        url_decode(text, field)
    } else {
        Ok(text.to_owned())
    }
}

/// Decodes a value stored before the reply said it was url-encoded.
pub(crate) fn url_decode_in_place(value: &mut String, field: &str) -> Result<()> {
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
pub(crate) fn walk<'a>(xml: &'a [u8], mut visit: impl FnMut(&[&'a [u8]], &str) -> Result<()>) -> Result<&'a [u8]> {
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
pub(crate) mod tests {
    use super::*;
    use crate::s3::ops::complete_multipart_upload::parse_complete_multipart;
    use crate::s3::ops::copy_object::parse_copy_object;
    use crate::s3::ops::create_multipart_upload::parse_initiate_multipart;
    use crate::s3::ops::delete_objects::parse_delete_objects;
    use crate::s3::ops::list_multipart_uploads::parse_list_multipart_uploads;
    use crate::s3::ops::list_objects::parse_list_objects;
    use std::time::Duration;

    pub(crate) fn at(secs: u64, millis: u64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(secs) + Duration::from_millis(millis)
    }

    pub(crate) fn assert_invalid<T: std::fmt::Debug>(result: Result<T>) {
        match result {
            Err(e) => assert_eq!(e.kind(), ErrorKind::InvalidResponse, "{e}"),
            Ok(v) => panic!("expected an InvalidResponse error, got {v:?}"),
        }
    }

    /// A ListObjectsV2 reply as AWS documents it: parsed in `list_objects`'s tests, cut and
    /// mutated here.
    pub(crate) const LIST_V2: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
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
