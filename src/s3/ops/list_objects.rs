//! ListObjectsV2 (and ListObjects v1 for stores without V2): one page of keys.

use http::Method;

use crate::config::ListObjectsVersion;
use crate::error::Result;
use crate::s3::request::OpRequest;
use crate::s3::xml::{self, ListObjectsPage};

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
    let page = xml::parse_list_objects(body)?;
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
