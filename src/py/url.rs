//! `urllib.parse` as Django's static files storage calls it.

use std::borrow::Cow;

/// `urllib.parse.unquote`: `%XX` sequences decoded as UTF-8, invalid bytes replaced.
pub(crate) fn unquote(s: &str) -> Cow<'_, str> {
    if !s.contains('%') {
        return Cow::Borrowed(s);
    }
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let (Some(hi), Some(lo)) = (hex(bytes.get(i + 1)), hex(bytes.get(i + 2)))
        {
            out.push(hi * 16 + lo);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    Cow::Owned(String::from_utf8_lossy(&out).into_owned())
}

fn hex(b: Option<&u8>) -> Option<u8> {
    (*b? as char).to_digit(16).map(|d| d as u8)
}

/// `urllib.parse.SplitResult`.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct SplitResult {
    pub(crate) scheme: String,
    pub(crate) netloc: String,
    pub(crate) path: String,
    pub(crate) query: String,
    pub(crate) fragment: String,
}

/// `urllib.parse.urlsplit(url)` (Python ≥ 3.11.4: leading C0 controls and spaces dropped,
/// tabs and newlines removed).
pub(crate) fn urlsplit(url: &str) -> SplitResult {
    let url = url.trim_start_matches(|c: char| c <= ' ');
    let owned;
    let mut url = if url.contains(['\t', '\r', '\n']) {
        owned = url.replace(['\t', '\r', '\n'], "");
        owned.as_str()
    } else {
        url
    };
    let mut result = SplitResult::default();
    if let Some(i) = url.find(':')
        && i > 0
        && url.as_bytes()[0].is_ascii_alphabetic()
        && url[..i]
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'))
    {
        result.scheme = url[..i].to_ascii_lowercase();
        url = &url[i + 1..];
    }
    if let Some(rest) = url.strip_prefix("//") {
        let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        result.netloc = rest[..end].to_owned();
        url = &rest[end..];
    }
    if let Some((before, fragment)) = url.split_once('#') {
        result.fragment = fragment.to_owned();
        url = before;
    }
    if let Some((before, query)) = url.split_once('?') {
        result.query = query.to_owned();
        url = before;
    }
    result.path = url.to_owned();
    result
}

const USES_NETLOC: &[&str] = &[
    "",
    "ftp",
    "http",
    "gopher",
    "nntp",
    "telnet",
    "imap",
    "wais",
    "file",
    "mms",
    "https",
    "shttp",
    "snews",
    "prospero",
    "rtsp",
    "rtsps",
    "rtspu",
    "rsync",
    "svn",
    "svn+ssh",
    "sftp",
    "nfs",
    "git",
    "git+ssh",
    "ws",
    "wss",
    "itms-services",
];

/// `urllib.parse.urlunsplit` (Python ≥ 3.12.4).
pub(crate) fn urlunsplit(parts: &SplitResult) -> String {
    let mut url = parts.path.clone();
    if !parts.netloc.is_empty() {
        if !url.is_empty() && !url.starts_with('/') {
            url.insert(0, '/');
        }
        url = format!("//{}{url}", parts.netloc);
    } else if url.starts_with("//")
        || (!parts.scheme.is_empty()
            && USES_NETLOC.contains(&parts.scheme.as_str())
            && (url.is_empty() || url.starts_with('/')))
    {
        url.insert_str(0, "//");
    }
    if !parts.scheme.is_empty() {
        url = format!("{}:{url}", parts.scheme);
    }
    if !parts.query.is_empty() {
        url.push('?');
        url.push_str(&parts.query);
    }
    if !parts.fragment.is_empty() {
        url.push('#');
        url.push_str(&parts.fragment);
    }
    url
}

const USES_PARAMS: &[&str] = &[
    "", "ftp", "hdl", "prospero", "http", "imap", "https", "shttp", "rtsp", "rtsps", "rtspu", "sip", "sips", "mms",
    "sftp", "tel",
];

/// `urllib.parse.urldefrag(url)`: `(url without fragment, fragment)`. With a `#`, the URL
/// goes through `urlparse`/`urlunparse`, which drop an empty query and an empty `;params`.
pub(crate) fn urldefrag(url: &str) -> (String, String) {
    if !url.contains('#') {
        return (url.to_owned(), String::new());
    }
    let mut parts = urlsplit(url);
    let fragment = std::mem::take(&mut parts.fragment);
    if USES_PARAMS.contains(&parts.scheme.as_str()) && parts.path.contains(';') {
        // `_splitparams`, then `urlunparse` puts a non-empty `;params` back.
        let path = &parts.path;
        let at = match path.rfind('/') {
            Some(slash) => path[slash..].find(';').map(|i| slash + i),
            None => path.find(';'),
        };
        if let Some(at) = at
            && at + 1 == path.len()
        {
            parts.path.truncate(at);
        }
    }
    (urlunsplit(&parts), fragment)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_parts() {
        assert_eq!(unquote("%E2%82%41%zz%f0%9f%98%80%C3"), "\u{fffd}A%zz😀\u{fffd}");
        assert_eq!(urldefrag("a;#x"), ("a".to_owned(), "x".to_owned()));
        assert_eq!(urldefrag("a?#x"), ("a".to_owned(), "x".to_owned()));
        assert_eq!(urldefrag("a;b#x"), ("a;b".to_owned(), "x".to_owned()));
        assert_eq!(urldefrag(" \t/x/y;#z"), ("/x/y".to_owned(), "z".to_owned()));
        assert_eq!(urldefrag("a b?c"), ("a b?c".to_owned(), String::new()));
        let split = urlsplit("HTTP://host/p?q#f");
        assert_eq!(
            (split.scheme.as_str(), split.netloc.as_str(), split.path.as_str()),
            ("http", "host", "/p")
        );
        assert_eq!(urlunsplit(&split), "http://host/p?q#f");
        assert_eq!(urlsplit("c/d:e").path, "c/d:e");
    }
}
