//! `parse_list_objects` on arbitrary bytes: never panics, is deterministic, and a page it
//! accepts
//! - has no empty continuation token or marker (those are `None`),
//! - survives `write_delete` of its keys: `Ok` exactly when every key is XML-carriable, and
//!   then the body reads back (quick-xml) to the same keys,
//! - re-serialised as a ListBucketResult (plain, and url-encoded with `<EncodingType>` before
//!   or after the values, spaces as `+` or `%20`) parses back to the same page.
#![no_main]

use std::fmt::Write as _;
use std::time::SystemTime;

use libfuzzer_sys::fuzz_target;
use storages_s3::ErrorKind;
use storages_s3::fuzzing::xml::{ListObjectsPage, parse_list_objects, write_delete};
use storages_s3_fuzz::{assert_delete_body, escape_text, is_xml10_char, url_encode};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

#[derive(Clone, Copy, Debug)]
enum Encoding {
    Plain,
    /// `<EncodingType>url</EncodingType>` first; spaces as `+` when true.
    UrlFirst(bool),
    /// `<EncodingType>url</EncodingType>` last; spaces as `+` when true.
    UrlLast(bool),
}

/// RFC 3339 in UTC; `None` for an instant outside years 0000-9999 (an offset can push a parsed
/// timestamp there), which this re-serialisation then skips.
fn rfc3339(t: SystemTime) -> Option<String> {
    let nanos = match t.duration_since(SystemTime::UNIX_EPOCH) {
        Ok(d) => i128::try_from(d.as_nanos()).ok()?,
        Err(e) => -i128::try_from(e.duration().as_nanos()).ok()?,
    };
    OffsetDateTime::from_unix_timestamp_nanos(nanos)
        .ok()?
        .format(&Rfc3339)
        .ok()
}

fn serialise(page: &ListObjectsPage, enc: Encoding) -> Option<String> {
    let (url, plus) = match enc {
        Encoding::Plain => (false, false),
        Encoding::UrlFirst(p) | Encoding::UrlLast(p) => (true, p),
    };
    let value = |out: &mut String, s: &str, encoded: bool| {
        if encoded && url {
            out.push_str(&url_encode(s, plus));
        } else {
            escape_text(out, s);
        }
    };
    let mut x = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">",
    );
    if matches!(enc, Encoding::UrlFirst(_)) {
        x.push_str("<EncodingType>url</EncodingType>");
    }
    if let Some(m) = &page.next_marker {
        x.push_str("<NextMarker>");
        value(&mut x, m, true);
        x.push_str("</NextMarker>");
    }
    for o in &page.objects {
        x.push_str("<Contents><Key>");
        value(&mut x, &o.key, true);
        x.push_str("</Key>");
        if let Some(t) = o.last_modified {
            let t = rfc3339(t)?;
            write!(x, "<LastModified>{t}</LastModified>").unwrap();
        }
        if let Some(e) = &o.etag {
            x.push_str("<ETag>");
            value(&mut x, e, false);
            x.push_str("</ETag>");
        }
        write!(x, "<Size>{}</Size>", o.size).unwrap();
        if let Some(s) = &o.storage_class {
            x.push_str("<StorageClass>");
            value(&mut x, s, false);
            x.push_str("</StorageClass>");
        }
        x.push_str("</Contents>");
    }
    for p in &page.common_prefixes {
        x.push_str("<CommonPrefixes><Prefix>");
        value(&mut x, p, true);
        x.push_str("</Prefix></CommonPrefixes>");
    }
    write!(x, "<IsTruncated>{}</IsTruncated>", page.is_truncated).unwrap();
    if let Some(t) = &page.next_continuation_token {
        x.push_str("<NextContinuationToken>");
        value(&mut x, t, false);
        x.push_str("</NextContinuationToken>");
    }
    if let Some(n) = page.key_count {
        write!(x, "<KeyCount>{n}</KeyCount>").unwrap();
    }
    if matches!(enc, Encoding::UrlLast(_)) {
        x.push_str("<EncodingType>url</EncodingType>");
    }
    x.push_str("</ListBucketResult>");
    Some(x)
}

fuzz_target!(|data: &[u8]| {
    let page = match parse_list_objects(data) {
        Ok(page) => page,
        Err(e) => {
            // Formatting an error must not panic either.
            let _ = format!("{e} {e:?}");
            return;
        }
    };
    assert_eq!(parse_list_objects(data).ok().as_ref(), Some(&page), "not deterministic");
    assert_ne!(page.next_continuation_token.as_deref(), Some(""));
    assert_ne!(page.next_marker.as_deref(), Some(""));

    // The page's keys as a DeleteObjects body.
    let keys: Vec<&str> = page.objects.iter().map(|o| o.key.as_str()).collect();
    let carriable = keys.iter().all(|k| k.chars().all(is_xml10_char));
    match write_delete(&keys, false) {
        Ok(body) => {
            assert!(carriable, "write_delete accepted a key XML 1.0 cannot carry: {keys:?}");
            assert_delete_body(&body, &keys, false);
        }
        Err(e) => {
            assert!(!carriable, "write_delete refused carriable keys {keys:?}: {e}");
            assert_eq!(e.kind(), ErrorKind::InvalidKey);
        }
    }

    // Re-serialised, the page reads back the same.
    let plus = data.len() % 2 == 0;
    for enc in [Encoding::Plain, Encoding::UrlFirst(plus), Encoding::UrlLast(!plus)] {
        let Some(xml) = serialise(&page, enc) else { return };
        match parse_list_objects(xml.as_bytes()) {
            Ok(again) => assert_eq!(again, page, "{enc:?} round trip changed the page: {xml:?}"),
            Err(e) => panic!("{enc:?} round trip refused ({e}): {xml:?}\nfrom page {page:?}"),
        }
    }
});
