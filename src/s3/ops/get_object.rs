//! GetObject: the object's bytes, whole or a range.

use http::{HeaderMap, Method};

use crate::config::{ObjectParameters, ParamUse};
use crate::error::{Error, ErrorKind, Result};
use crate::s3::params::{self, ObjectHead};
use crate::s3::request::OpRequest;

/// A byte range of an object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ByteRange {
    /// From this offset to the end (`bytes=N-`).
    From(u64),
    /// Offsets `first..=last` (`bytes=first-last`).
    Inclusive(u64, u64),
    /// The last N bytes (`bytes=-N`).
    Suffix(u64),
}

impl ByteRange {
    /// The `Range` header value.
    pub fn header(&self) -> String {
        match self {
            ByteRange::From(n) => format!("bytes={n}-"),
            ByteRange::Inclusive(a, b) => format!("bytes={a}-{b}"),
            ByteRange::Suffix(n) => format!("bytes=-{n}"),
        }
    }
}

/// `Content-Range: bytes first-last/total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct ContentRange {
    /// First byte sent.
    pub first: u64,
    /// Last byte sent.
    pub last: u64,
    /// The object's size.
    pub total: u64,
}

/// Parses `Content-Range` (`bytes 0-9/443`).
pub fn parse_content_range(v: &str) -> Option<ContentRange> {
    let rest = v.trim().strip_prefix("bytes ")?;
    let (range, total) = rest.split_once('/')?;
    let (a, b) = range.split_once('-')?;
    let r = ContentRange {
        first: a.parse().ok()?,
        last: b.parse().ok()?,
        total: total.parse().ok()?,
    };
    (r.first <= r.last && r.last < r.total).then_some(r)
}

/// The request: `params` supplies read parameters; `if_match` pins the object's ETag
/// (a resumed download must read the same object); with `checksum_mode`, the reply states
/// the object's stored checksum.
pub fn request(
    key: &str,
    range: Option<ByteRange>,
    params: &ObjectParameters,
    if_match: Option<&str>,
    checksum_mode: bool,
) -> Result<OpRequest> {
    if let Some(ByteRange::Inclusive(a, b)) = range
        && a > b
    {
        return Err(Error::new(
            ErrorKind::InvalidArgument,
            format!("range {a}-{b} is empty"),
        ));
    }
    let mut req = OpRequest::object("GetObject", Method::GET, key)?.query_opt("versionId", params::version_id(params));
    params::apply(params, ParamUse::Read, &mut req.headers)?;
    if let Some(r) = range {
        req = req.header("range", &r.header())?;
    }
    if let Some(etag) = if_match {
        req = req.header("if-match", etag)?;
    }
    if checksum_mode {
        req = req.header("x-amz-checksum-mode", "ENABLED")?;
    }
    Ok(req)
}

/// What a GET reply must be, from what was asked and what is already known of the object.
#[derive(Debug, Clone, Copy, Default)]
pub struct Expect<'a> {
    /// The range asked for.
    pub range: Option<ByteRange>,
    /// The ETag the object had when it was first read (sent as `If-Match`).
    pub etag: Option<&'a str>,
    /// The object's size, when known from an earlier reply.
    pub total: Option<u64>,
}

/// Where a reply's bytes sit in the object, and which of them the caller asked for. Ends
/// are exclusive offsets; `None` is an end nobody stated yet (a reply without
/// `Content-Length`): such a reply is read to its end, which is then the object's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Served {
    /// Offset in the object of the reply's first byte.
    pub reply_first: u64,
    /// Offset just past the reply's last byte, when its length is known.
    pub reply_end: Option<u64>,
    /// Offset of the first byte asked for.
    pub first: u64,
    /// Offset just past the last byte asked for; `None`: to the object's end, not known yet.
    pub end: Option<u64>,
    /// The object's size, when known.
    pub total: Option<u64>,
}

/// The bytes `range` asks of an object of `total` bytes, as exclusive offsets: the end is
/// `None` when it is the object's end and the size is not known. A suffix of an object of
/// unknown size cannot be placed.
fn wanted(range: Option<ByteRange>, total: Option<u64>) -> Result<(u64, Option<u64>)> {
    Ok(match (range, total) {
        (None, total) => (0, total),
        (Some(ByteRange::From(a)), Some(t)) => (a, Some(t.max(a))),
        (Some(ByteRange::From(a)), None) => (a, None),
        (Some(ByteRange::Inclusive(a, b)), Some(t)) => (a, Some(b.saturating_add(1).min(t).max(a))),
        (Some(ByteRange::Inclusive(a, b)), None) => (a, Some(b.saturating_add(1))),
        (Some(ByteRange::Suffix(n)), Some(t)) => (t - n.min(t), Some(t)),
        (Some(ByteRange::Suffix(_)), None) => {
            return Err(lie(
                "the server sent the whole object for a suffix range without stating its length".into(),
            ));
        }
    })
}

fn lie(message: String) -> Error {
    Error::new(ErrorKind::InvalidResponse, message)
}

/// Checks a GET reply against what was asked, before any of its bytes reaches the caller:
/// the object's ETag (when one was pinned with `If-Match`, which a server may ignore), and
/// for a 206 the `Content-Range` (start, end, total) and length against the range asked.
/// A 200 is the whole object (a server or proxy that ignores `Range` sends one): the range
/// is then cut out of it. A reply that does not state its length (chunked, or delimited by
/// the connection's close) is read to its end, or to the size an earlier reply stated.
/// Anything else is an error, never data.
pub fn check_reply(
    status: u16,
    head: &ObjectHead,
    content_range: Option<ContentRange>,
    expect: &Expect<'_>,
) -> Result<Served> {
    if let Some(pinned) = expect.etag {
        match head.etag.as_deref() {
            Some(etag) if etag == pinned => {}
            Some(etag) => {
                return Err(Error::new(
                    ErrorKind::PreconditionFailed,
                    format!("the object changed while it was read (ETag {pinned}, now {etag})"),
                ));
            }
            None => return Err(lie("the reply has no ETag to check against the object's".into())),
        }
    }
    let (reply_first, reply_end, total) = match (status, content_range) {
        (206, Some(r)) => {
            if let Some(length) = head.content_length
                && length != r.last - r.first + 1
            {
                return Err(lie(format!(
                    "Content-Length {length} does not match Content-Range bytes {}-{}/{}",
                    r.first, r.last, r.total
                )));
            }
            (r.first, Some(r.last + 1), Some(r.total))
        }
        (206, None) => return Err(lie("a 206 reply without Content-Range".into())),
        // The whole object: its size is the length stated, else the one known before.
        (200, _) => {
            let total = head.content_length.or(expect.total);
            (0, total, total)
        }
        (status, _) => return Err(lie(format!("status {status} to a GET"))),
    };
    if let (Some(known), Some(total)) = (expect.total, total)
        && known != total
    {
        return Err(lie(format!("the object has {known} bytes, the reply says {total}")));
    }
    let (first, end) = wanted(expect.range, total)?;
    if status == 206 && (expect.range.is_none() || (reply_first, reply_end) != (first, end)) {
        let asked = expect
            .range
            .map_or_else(|| "the whole object".to_owned(), |r| r.header());
        let total = total.unwrap_or_default();
        return Err(lie(format!(
            "asked for {asked} of {total}, the server sent bytes {reply_first}-{}/{total}",
            reply_end.unwrap_or_default().saturating_sub(1)
        )));
    }
    Ok(Served {
        reply_first,
        reply_end,
        first,
        end,
        total,
    })
}

/// The reply head: the object's headers and, for a 206, the range sent.
pub fn parse(headers: &HeaderMap) -> Result<(ObjectHead, Option<ContentRange>)> {
    let head = ObjectHead::from_headers(headers)?;
    let range = match headers.get("content-range").and_then(|v| v.to_str().ok()) {
        Some(v) => Some(
            parse_content_range(v)
                .ok_or_else(|| Error::new(ErrorKind::InvalidResponse, format!("malformed Content-Range {v:?}")))?,
        ),
        None => None,
    };
    Ok((head, range))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        assert_eq!(ByteRange::From(5).header(), "bytes=5-");
        assert_eq!(ByteRange::Inclusive(0, 9).header(), "bytes=0-9");
        assert_eq!(ByteRange::Suffix(3).header(), "bytes=-3");
        assert!(
            request(
                "k",
                Some(ByteRange::Inclusive(5, 4)),
                &ObjectParameters::new(),
                None,
                false
            )
            .is_err()
        );
        assert_eq!(
            parse_content_range("bytes 0-9/443"),
            Some(ContentRange {
                first: 0,
                last: 9,
                total: 443
            })
        );
        for bad in ["bytes 9-0/10", "bytes 0-10/10", "bytes */10", "0-1/2", "bytes a-b/c"] {
            assert_eq!(parse_content_range(bad), None, "{bad}");
        }
    }

    fn head(len: u64, etag: Option<&str>) -> ObjectHead {
        ObjectHead {
            content_length: Some(len),
            etag: etag.map(str::to_owned),
            ..ObjectHead::default()
        }
    }

    fn unstated(etag: Option<&str>) -> ObjectHead {
        ObjectHead {
            content_length: None,
            etag: etag.map(str::to_owned),
            ..ObjectHead::default()
        }
    }

    fn range(first: u64, last: u64, total: u64) -> Option<ContentRange> {
        Some(ContentRange { first, last, total })
    }

    fn ends(s: &Served) -> (u64, Option<u64>, u64, Option<u64>) {
        (s.reply_first, s.reply_end, s.first, s.end)
    }

    #[test]
    fn replies_are_checked_against_what_was_asked() {
        let e = Some("\"e\"");
        let expect = |range, total| Expect { range, etag: e, total };
        // The range asked, exactly.
        let served = check_reply(
            206,
            &head(10, e),
            range(10, 19, 100),
            &expect(Some(ByteRange::Inclusive(10, 19)), None),
        )
        .unwrap();
        assert_eq!(ends(&served), (10, Some(20), 10, Some(20)));
        // A range past the end is cut at the end; `From` runs to the end.
        let served = check_reply(
            206,
            &head(10, e),
            range(90, 99, 100),
            &expect(Some(ByteRange::Inclusive(90, 500)), None),
        )
        .unwrap();
        assert_eq!(served.end, Some(100));
        check_reply(
            206,
            &head(50, e),
            range(50, 99, 100),
            &expect(Some(ByteRange::From(50)), Some(100)),
        )
        .unwrap();
        check_reply(
            206,
            &head(3, e),
            range(97, 99, 100),
            &expect(Some(ByteRange::Suffix(3)), None),
        )
        .unwrap();
        // A 206 need not state its length: Content-Range does.
        check_reply(
            206,
            &unstated(e),
            range(50, 99, 100),
            &expect(Some(ByteRange::From(50)), None),
        )
        .unwrap();
        // A whole object for a range: the range is cut out of it.
        let served = check_reply(200, &head(100, e), None, &expect(Some(ByteRange::From(50)), Some(100))).unwrap();
        assert_eq!(ends(&served), (0, Some(100), 50, Some(100)));
        let served = check_reply(200, &head(0, e), None, &expect(None, None)).unwrap();
        assert_eq!(
            (served.reply_end, served.end, served.total),
            (Some(0), Some(0), Some(0))
        );
        // Lies.
        let kind = |status, h: ObjectHead, r, x: Expect<'_>| check_reply(status, &h, r, &x).unwrap_err().kind();
        let invalid = ErrorKind::InvalidResponse;
        let from50 = Some(ByteRange::From(50));
        assert_eq!(kind(206, head(50, e), range(0, 49, 100), expect(from50, None)), invalid);
        assert_eq!(
            kind(206, head(60, e), range(40, 99, 100), expect(from50, None)),
            invalid
        );
        assert_eq!(
            kind(206, head(50, e), range(50, 99, 200), expect(from50, Some(100))),
            invalid
        );
        assert_eq!(
            kind(206, head(49, e), range(50, 99, 100), expect(from50, None)),
            invalid,
            "length"
        );
        assert_eq!(
            kind(206, head(50, e), None, expect(from50, None)),
            invalid,
            "no Content-Range"
        );
        assert_eq!(
            kind(206, head(10, e), range(0, 9, 100), expect(None, None)),
            invalid,
            "a range nobody asked for"
        );
        assert_eq!(
            kind(200, head(120, e), None, expect(from50, Some(100))),
            invalid,
            "another size"
        );
        assert_eq!(kind(304, head(0, e), None, expect(None, None)), invalid);
        assert_eq!(
            kind(206, head(50, None), range(50, 99, 100), expect(from50, None)),
            invalid,
            "no ETag"
        );
        assert_eq!(
            kind(206, head(50, Some("\"f\"")), range(50, 99, 100), expect(from50, None)),
            ErrorKind::PreconditionFailed
        );
        // Nothing pinned: any ETag (or none) will do.
        let free = Expect {
            range: None,
            etag: None,
            total: None,
        };
        check_reply(200, &head(5, None), None, &free).unwrap();
    }

    #[test]
    fn a_length_not_stated_is_unknown_never_zero() {
        let e = Some("\"e\"");
        let expect = |range, total| Expect { range, etag: e, total };
        // The whole object: read to the reply's end.
        let served = check_reply(200, &unstated(e), None, &expect(None, None)).unwrap();
        assert_eq!(ends(&served), (0, None, 0, None));
        assert_eq!(served.total, None);
        // A size known from before bounds it.
        let served = check_reply(200, &unstated(e), None, &expect(None, Some(70))).unwrap();
        assert_eq!(ends(&served), (0, Some(70), 0, Some(70)));
        // A range cut out of a whole object of unknown size.
        let served = check_reply(200, &unstated(e), None, &expect(Some(ByteRange::From(5)), None)).unwrap();
        assert_eq!(ends(&served), (0, None, 5, None));
        let served = check_reply(200, &unstated(e), None, &expect(Some(ByteRange::Inclusive(5, 9)), None)).unwrap();
        assert_eq!(ends(&served), (0, None, 5, Some(10)));
        // A suffix cannot be placed in an object of unknown size.
        let e = check_reply(200, &unstated(e), None, &expect(Some(ByteRange::Suffix(3)), None)).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidResponse);
    }
}
