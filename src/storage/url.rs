//! `url()`: presigned, plain, custom-domain and public-domain URLs (SPEC §4.8).
//!
//! One encoder serves every branch: keys are encoded by S3's rule (every byte but
//! unreserved characters and `/`), where the original used two encoders and left `'()!*`
//! unescaped in custom-domain URLs only (django-storages #600).

use std::time::{Duration, SystemTime};

use http::Method;

use crate::s3::addressing::{encode_key, encode_query};

/// Options of one URL ([`S3Storage::url_with`](crate::S3Storage::url_with)).
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct UrlOptions {
    /// Lifetime of a presigned URL; `querystring_expire` when `None`.
    pub(crate) expire: Option<Duration>,
    /// Extra parameters, by boto3 name (`ResponseContentDisposition`, `VersionId`, ...) or
    /// by query name (`response-content-disposition`, `versionId`).
    pub(crate) parameters: Vec<(String, String)>,
    /// The method a presigned URL allows (GET when `None`; PUT for browser uploads).
    pub(crate) http_method: Option<Method>,
    /// A fixed signing time, for reproducible links.
    pub(crate) at: Option<SystemTime>,
}

impl UrlOptions {
    /// Default options.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the lifetime.
    pub fn expire(mut self, expire: Duration) -> Self {
        self.expire = Some(expire);
        self
    }

    /// Adds a parameter.
    pub fn parameter(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.parameters.push((name.into(), value.into()));
        self
    }

    /// Sets the method.
    pub fn http_method(mut self, method: Method) -> Self {
        self.http_method = Some(method);
        self
    }

    /// Fixes the signing time.
    pub fn at(mut self, at: SystemTime) -> Self {
        self.at = Some(at);
        self
    }
}

/// GetObject's URL parameters: boto3 argument name to query name.
const PARAMETERS: &[(&str, &str)] = &[
    ("PartNumber", "partNumber"),
    ("ResponseCacheControl", "response-cache-control"),
    ("ResponseContentDisposition", "response-content-disposition"),
    ("ResponseContentEncoding", "response-content-encoding"),
    ("ResponseContentLanguage", "response-content-language"),
    ("ResponseContentType", "response-content-type"),
    ("ResponseExpires", "response-expires"),
    ("VersionId", "versionId"),
];

/// The query name of a parameter given by boto3 or query name; `None` if unknown.
pub(crate) fn query_name(name: &str) -> Option<&'static str> {
    PARAMETERS
        .iter()
        .find(|(boto, query)| *boto == name || *query == name)
        .map(|(_, q)| *q)
}

/// `<protocol>//<domain>/<prefix/><encoded key>[?params]`, the plain URL of the custom and
/// public domain branches.
pub(crate) fn plain_url(
    protocol: &str,
    domain: &str,
    prefix: Option<&str>,
    key: &str,
    params: &[(String, String)],
) -> String {
    let mut url = format!("{protocol}//{domain}/");
    if let Some(p) = prefix {
        url.push_str(&encode_key(p));
        url.push('/');
    }
    url.push_str(&encode_key(key));
    if !params.is_empty() {
        let q: Vec<(&str, Option<&str>)> = params.iter().map(|(k, v)| (k.as_str(), Some(v.as_str()))).collect();
        url.push('?');
        url.push_str(&encode_query(&q));
    }
    url
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_urls_use_the_one_encoder() {
        assert_eq!(
            plain_url("https:", "cdn.example.com", None, "", &[]),
            "https://cdn.example.com/"
        );
        assert_eq!(
            plain_url("https:", "cdn.example.com", None, "path/", &[]),
            "https://cdn.example.com/path/"
        );
        assert_eq!(
            plain_url("https:", "cdn.example.com/static", None, "~a'b(c)!*.txt", &[]),
            "https://cdn.example.com/static/~a%27b%28c%29%21%2A.txt"
        );
        assert_eq!(
            plain_url(
                "http:",
                "files.example.com",
                Some("bucket"),
                "filename.mp4",
                &[("version".into(), "10".into())]
            ),
            "http://files.example.com/bucket/filename.mp4?version=10"
        );
    }

    #[test]
    fn parameters_map_from_boto_names() {
        assert_eq!(
            query_name("ResponseContentDisposition"),
            Some("response-content-disposition")
        );
        assert_eq!(query_name("response-content-type"), Some("response-content-type"));
        assert_eq!(query_name("VersionId"), Some("versionId"));
        assert_eq!(query_name("Bogus"), None);
    }
}
