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
/// (a resumed download must read the same object).
pub fn request(
    key: &str,
    range: Option<ByteRange>,
    params: &ObjectParameters,
    if_match: Option<&str>,
) -> Result<OpRequest> {
    if let Some(ByteRange::Inclusive(a, b)) = range
        && a > b
    {
        return Err(Error::new(ErrorKind::InvalidKey, format!("range {a}-{b} is empty")));
    }
    let mut req = OpRequest::object("GetObject", Method::GET, key)?.query_opt("versionId", params::version_id(params));
    params::apply(params, ParamUse::Read, &mut req.headers)?;
    if let Some(r) = range {
        req = req.header("range", &r.header())?;
    }
    if let Some(etag) = if_match {
        req = req.header("if-match", etag)?;
    }
    Ok(req)
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
        assert!(request("k", Some(ByteRange::Inclusive(5, 4)), &ObjectParameters::new(), None).is_err());
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
}
