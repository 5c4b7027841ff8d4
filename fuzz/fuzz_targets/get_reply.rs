//! GetObject replies: whatever head a server sends (status, Content-Length,
//! Content-Range, ETag, checksums), checking it against what was asked never panics, and
//! what it accepts places the bytes asked for inside the reply's: the range asked, the
//! object's size known before, the ETag pinned.
#![no_main]

use http::{HeaderMap, HeaderValue};
use libfuzzer_sys::fuzz_target;
use storages_s3::fuzzing::get_object::{Expect, check_reply, parse};
use storages_s3::s3::ByteRange;

const HEADERS: [&str; 9] = [
    "content-length",
    "content-range",
    "etag",
    "x-amz-checksum-crc64nvme",
    "x-amz-checksum-crc32",
    "x-amz-checksum-sha256",
    "x-amz-checksum-type",
    "last-modified",
    "content-length",
];

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let Some((&shape, rest)) = rest.split_first() else {
        return;
    };
    let status = [200u16, 206, 304, 416, 500][pick as usize % 5];
    // The header values: pieces of the input, split at `|`.
    let text = String::from_utf8_lossy(rest);
    let mut pieces = text.split('|');
    let mut headers = HeaderMap::new();
    for name in HEADERS {
        if let Some(v) = pieces.next().filter(|v| !v.is_empty())
            && let Ok(v) = HeaderValue::from_str(v)
        {
            headers.append(name, v);
        }
    }
    let number = |p: Option<&str>| p.and_then(|v| v.trim().parse::<u64>().ok()).unwrap_or(0);
    let (a, b) = (number(pieces.next()), number(pieces.next()));
    let range = match shape % 4 {
        0 => None,
        1 => Some(ByteRange::From(a)),
        2 => Some(ByteRange::Inclusive(a.min(b), a.max(b))),
        _ => Some(ByteRange::Suffix(a)),
    };
    let etag = pieces.next().filter(|_| shape & 4 != 0);
    let total = (shape & 8 != 0).then_some(b);
    let Ok((head, content_range)) = parse(&headers) else {
        return;
    };
    let expect = Expect { range, etag, total };
    let Ok(served) = check_reply(status, &head, content_range, &expect) else {
        return;
    };
    assert!(matches!(status, 200 | 206), "{status} accepted");
    if let Some(pinned) = etag {
        assert_eq!(head.etag.as_deref(), Some(pinned));
    }
    if let (Some(known), Some(total)) = (total, served.total) {
        assert_eq!(known, total);
    }
    // The bytes asked for lie in the reply: from its first byte on, and within its end
    // (a range that holds none, past the object's end, may lie anywhere).
    assert!(served.first >= served.reply_first, "{served:?}");
    if let (Some(end), Some(reply_end)) = (served.end, served.reply_end) {
        assert!(served.first <= end, "{served:?}");
        assert!(end == served.first || end <= reply_end, "{served:?}");
    }
    if status == 206 {
        // A 206 is exactly the range asked.
        assert!(range.is_some());
        assert_eq!(
            (served.first, served.end),
            (served.reply_first, served.reply_end),
            "{served:?}"
        );
        let r = content_range.expect("a 206 states its range");
        assert_eq!(served.total, Some(r.total));
        if let Some(len) = head.content_length {
            assert_eq!(len, r.last - r.first + 1);
        }
    } else {
        assert_eq!(served.reply_first, 0);
        assert_eq!(served.reply_end, head.content_length.or(total));
    }
});
